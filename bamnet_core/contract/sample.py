"""The :class:`Sample` record: one labelled image and where it came from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One labelled image, with where it came from.

    :param path: the image file.
    :param label: the class name.
    :param patient_id: the patient the image belongs to; splits group by it.
        Sources that know no patient use the file path, one patient per image.
    :param source: the dataset or sub-source the image came from.
    :param view: radiographic view (``PA``, ``AP``, ...) when known.
    :param demographics: known facts such as ``age`` and ``sex``.
    :param synthetic: whether a generator made the image.
    :param generator: the generator's name, for synthetic images.
    :param generator_seed: the seed the generator used, for synthetic images.
    :param generator_checkpoint: the generator file that made it, for synthetic images.
    :param generator_index: its index among the images made with that seed.
    :param study: the study the image belongs to, when known (the ``dicom``
        source gives a keyed pseudonym of the StudyInstanceUID, never the UID).
    :param manufacturer: the equipment manufacturer, when known.
    :param modality: the DICOM modality (``CR``, ``DX``), when known.
    """

    path: str
    label: str
    patient_id: str
    source: str
    view: str | None = None
    demographics: Mapping[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    generator: str | None = None
    generator_seed: int | None = None
    generator_checkpoint: str | None = None
    generator_index: int | None = None
    study: str | None = None
    manufacturer: str | None = None
    modality: str | None = None

    def to_row(self) -> dict[str, Any]:
        """Flatten to a dict of scalars for CSV and JSON output."""
        row = asdict(self)
        demographics = row.pop("demographics")
        for key in ("age", "sex"):
            row[key] = demographics.get(key)
        return row


def iter_samples(items: Iterable[Any], *, where: str = "dataset source") -> Iterator[Sample]:
    """Iterate ``items``, checking that each is a :class:`Sample`.

    :param where: names the producer in the error, e.g. ``"dataset source 'x'"``.
    :raises TypeError: on the first item that is not a :class:`Sample`.
    """
    for item in items:
        if not isinstance(item, Sample):
            raise TypeError(f"{where} yielded {type(item).__name__}, expected Sample")
        yield item
