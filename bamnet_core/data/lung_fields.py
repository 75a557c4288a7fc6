"""Where the lungs are on each image of a run: the user's own masks, else the estimator's.

A run's lung fields come from its lung-field estimator (``[lungs] estimator``,
a plugin kind; the built-in default is ``anatomical``), or from masks the user
gives (``[lungs] masks``: a folder matched by file name, or a CSV with a
column naming each image's mask). Either way they come from pixels, never
from a label. :class:`LungFields` gives them for the two shapes the core holds:

- :meth:`LungFields.for_inputs`: preprocessed model inputs ``(n, h, w, c)`` ->
  ``(n, h, w)`` bool (``SplitPredictions.lung_fields``);
- :meth:`LungFields.for_image`: one decoded greyscale image at any size ->
  ``(h, w)`` bool (the audit reads properties outside them; :meth:`LungFields.source`
  hands it to decoding, with the name and cache tag of where the fields come from).

A user's mask goes through the same resize (and padding) as its image, so it
stays aligned with the model input.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..config.components import instantiate
from ..config.resolved import Config
from ..contract.kinds import COMPONENT_SECTIONS
from ..contract.protocols import LungFieldEstimator
from ..errors import DataError, ImageDecodeError
from ..imaging.decode import decode_image
from ..imaging.formats import IMAGE_SUFFIXES
from ..imaging.preprocess import PreprocessSpec
from ..imaging.properties import LungSource
from ..plugins.registry import Registry

# Images with a side shorter than this hold no lungs anyone could find; all of such an
# image counts as lungs, so nothing of it is read as "outside the lungs".
SMALLEST = 8


class UserMasks:
    """The user's lung masks: a folder (matched by file name, then stem) or a CSV column.

    :param place: a folder of mask images, or a CSV file.
    :param column: for a CSV, the column naming each image's mask file; its ``path``
        column names the image. Relative paths in it resolve against its folder.
    :raises DataError: naming ``[lungs] masks`` when the place or the column is missing.
    """

    def __init__(self, place: str | Path, column: str | None = None) -> None:
        self.place = Path(place).expanduser()
        self.by_image: dict[str, Path] = {}
        self.by_name: dict[str, list[Path]] = {}
        if self.place.is_dir():
            for path in sorted(self.place.rglob("*")):
                if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                    self.by_name.setdefault(path.name, []).append(path)
                    self.by_name.setdefault(path.stem, []).append(path)
        elif self.place.is_file() and column:
            self._read_csv(column)
        else:
            raise DataError(f"[lungs] masks: {self.place} is not " + (
                "a CSV file" if column else "a folder"), hint="give a folder of mask images "
                "named like the images, or a CSV with `path` and a mask column")

    def _read_csv(self, column: str) -> None:
        with open(self.place, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for needed in ("path", column):
                if needed not in header:
                    raise DataError(f"[lungs] masks: {self.place} has no column {needed!r} "
                                    f"(it has {', '.join(header) or 'none'})",
                                    hint="set [lungs] column to the column naming each "
                                         "image's mask; the images are in `path`")
            for row in reader:
                if row.get(column):
                    self.by_image[_key(self.place.parent / row["path"])] = \
                        self.place.parent / row[column]

    def digest(self) -> str:
        """A short hash of where the masks are and of each mask file's name, size and
        modification time: it changes when a mask is added, removed or edited."""
        files = sorted({p for paths in self.by_name.values() for p in paths}
                       | set(self.by_image.values()))
        if self.place.is_file():
            files.append(self.place)
        h = hashlib.sha256(str(self.place.resolve(strict=False)).encode("utf-8"))
        for path in files:
            try:
                info = os.stat(path)
                h.update(f"\0{path}\0{info.st_size}\0{info.st_mtime_ns}".encode())
            except OSError:
                h.update(f"\0{path}\0missing".encode())
        return h.hexdigest()[:12]

    def mask_path(self, image: str | Path) -> Path | None:
        """The mask given for ``image``, or None.

        :raises DataError: when two masks in the folder fit the image's name.
        """
        if self.by_image:
            return self.by_image.get(_key(Path(image)))
        name = Path(image).name
        found = self.by_name.get(name) or self.by_name.get(Path(image).stem) or []
        if len(set(found)) > 1:
            raise DataError(f"[lungs] masks: {len(set(found))} masks fit {name} "
                            f"({', '.join(p.name for p in found[:3])})",
                            hint="keep one mask per image in the folder")
        return found[0] if found else None

    def read(self, path: Path) -> np.ndarray:
        """A mask file as ``(h, w)`` bool: True where it is brighter than half its maximum.

        :raises DataError: naming the mask file when it cannot be decoded.
        """
        try:
            gray = decode_image(path)
        except ImageDecodeError as exc:
            raise DataError(f"[lungs] masks: {path}: {exc.message}",
                            hint="each mask is an image file, lungs bright on dark") from None
        top = float(gray.max())
        return gray > 0.5 * top if top > 0 else np.zeros(gray.shape, dtype=bool)


def _key(path: Path) -> str:
    return str(path.expanduser().resolve(strict=False))


class LungFields:
    """Lung fields for any image of a run: the user's mask where one is given, else estimated.

    :param estimator: the run's lung-field estimator, or None (then every image
        needs a mask of the user's).
    :param masks: the user's masks, or None.
    :param name: the estimator's registered name.
    :param options: the estimator's options (they key cached properties with its name).
    """

    def __init__(self, estimator: LungFieldEstimator | None,
                 masks: UserMasks | None = None, *, name: str | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.estimator = estimator
        self.masks = masks
        self.name = name
        self.options = dict(options or {})
        self._tag: str | None = None

    @property
    def label(self) -> str:
        """Where the fields come from, in a few words (each image property names it)."""
        estimated = self.name or "an unnamed estimator"
        if self.masks is None:
            return estimated
        return "your masks" + (f", else {estimated}" if self.estimator is not None else "")

    @property
    def tag(self) -> str:
        """A short file-name-safe key of this source: the estimator's name and a hash of
        its options, its ``version`` (where it has one) and the user's masks
        (:meth:`UserMasks.digest`). Properties cached under one tag are never served for
        another."""
        if self._tag is None:
            key = json.dumps({"estimator": self.name if self.estimator is not None else None,
                              "options": self.options,
                              "version": getattr(self.estimator, "version", None),
                              "masks": self.masks.digest() if self.masks else None},
                             sort_keys=True, default=str)
            head = re.sub(r"[^A-Za-z0-9_-]+", "-", self.name or "none")[:32]
            head = ("masks-" if self.masks is not None else "") + head
            self._tag = f"{head}-{hashlib.sha256(key.encode('utf-8')).hexdigest()[:10]}"
        return self._tag

    def source(self) -> LungSource:
        """These fields as decoding takes them (:func:`~bamnet_core.imaging.decode.
        decode_described`): :meth:`for_image`, with :attr:`label` and :attr:`tag`."""
        return LungSource(name=self.label, tag=self.tag, field=self.for_image)

    def given(self, paths: Sequence[str | Path]) -> int:
        """How many of ``paths`` have a mask of the user's (the rest are estimated)."""
        return sum(self._given(path) is not None for path in paths)

    def describe(self, paths: Sequence[str | Path]) -> str:
        """Where the fields of ``paths`` come from, in words for a report line."""
        estimated = f"estimated by {self.name!r}" if self.name else "estimated"
        given = self.given(paths)
        if not given:
            return f"lung fields {estimated}"
        if given == len(paths):
            return "lung fields from your masks"
        return f"lung fields from your masks for {given} of {len(paths)} images, the rest " \
               f"{estimated}"

    def _given(self, path: str | Path | None) -> Path | None:
        if self.masks is None or path is None:
            return None
        return self.masks.mask_path(path)

    def _estimate(self, gray: np.ndarray, path: str | Path | None) -> np.ndarray:
        if min(gray.shape[:2]) < SMALLEST:  # no lungs to find: all of it counts as lungs
            return np.ones(gray.shape[:2], dtype=bool)
        if self.estimator is None:
            raise DataError(f"no lung mask for {path or 'an image'} and no lung-field "
                            "estimator to estimate one",
                            hint="give a mask for every image in [lungs] masks, or install "
                                 "a plugin that registers a lung-field estimator")
        field = np.asarray(self.estimator.estimate(gray))
        if field.shape != gray.shape:
            raise DataError(f"the lung-field estimator gave a {field.shape} field for a "
                            f"{gray.shape} image", hint="this is a fault of its plugin")
        return field.astype(bool)

    def for_image(self, gray: np.ndarray, path: str | Path | None = None) -> np.ndarray:
        """The lung fields of one decoded greyscale image, at its own size.

        :param gray: ``(h, w)`` float in [0, 1] (:func:`~bamnet_core.imaging.decode.decode_image`).
        :param path: the image's file, to find a mask of the user's.
        :returns: ``(h, w)`` bool, True inside the lungs.
        """
        gray = np.asarray(gray, dtype=np.float32)
        given = self._given(path)
        if given is None:
            return self._estimate(gray, path)
        mask = self.masks.read(given)  # type: ignore[union-attr]
        (h, w), (mh, mw) = gray.shape, mask.shape
        if abs(mh / mw - h / w) > 0.02 * (h / w):
            raise DataError(f"[lungs] masks: {given} is {mw} x {mh} pixels, its image "
                            f"{path} {w} x {h}: not the same shape",
                            hint="give each mask at its image's size (or the same aspect ratio)")
        if mask.shape != gray.shape:
            mask = cv2.resize(mask.astype(np.uint8), (gray.shape[1], gray.shape[0]),
                              interpolation=cv2.INTER_NEAREST).astype(bool)
        return mask

    def for_inputs(self, images: np.ndarray, spec: PreprocessSpec,
                   paths: Sequence[str | Path] | None = None) -> np.ndarray:
        """The lung fields of preprocessed model inputs, row-aligned.

        :param images: ``(n, h, w, c)`` as ``spec`` made them.
        :param spec: how they were made: the inputs are taken back to [0, 1] grey,
            and a user's mask is resized (and padded) exactly as its image was.
        :param paths: each row's image file, to find masks of the user's.
        :returns: ``(n, h, w)`` bool, True inside the lungs.
        """
        images = np.asarray(images)
        if images.ndim != 4:
            raise ValueError(f"expected model inputs (n, h, w, c), got shape {images.shape}")
        if paths is not None and len(paths) != len(images):
            raise ValueError(f"{len(paths)} paths for {len(images)} images")
        out = np.zeros(images.shape[:3], dtype=bool)
        for i, image in enumerate(images):
            path = paths[i] if paths is not None else None
            given = self._given(path)
            if given is not None:
                mask = self.masks.read(given).astype(np.float32)  # type: ignore[union-attr]
                out[i] = spec.resize(mask) >= 0.5
            else:
                gray = np.clip(np.asarray(spec.to_unit(image), dtype=np.float32)[..., 0], 0, 1)
                out[i] = self._estimate(gray, path)
        return out


def run_lung_fields(config: Config) -> LungFields | None:
    """The lung fields of a run's config (``[lungs]``); None when it has neither an
    estimator nor masks.

    :raises DataError: naming ``[lungs] masks`` when the masks cannot be read.
    """
    components = config.components
    estimator = components.lungs if components is not None else None
    section = config.lungs
    masks = UserMasks(section.masks, section.column) if section.masks else None
    if estimator is None and masks is None:
        return None
    return LungFields(estimator, masks, name=section.estimator,
                      options=config.component_options("lungs"))


def run_lung_source(config: Config) -> LungSource | None:
    """:func:`run_lung_fields` as decoding takes it (:meth:`LungFields.source`); None when
    the run has no lung fields (then no pixel property is read)."""
    fields = run_lung_fields(config)
    return fields.source() if fields is not None else None


def default_lung_fields(registry: Registry) -> LungFields:
    """The lung fields a config without ``[lungs]`` gets: the registered default
    estimator with its default options (what ``bamnet data inspect`` uses on a bare folder).

    :raises DataError: no lung-field estimator is registered as a default.
    """
    kind = COMPONENT_SECTIONS["lungs"].name
    names = registry.defaults(kind)
    if not names:
        raise DataError("no lung-field estimator is registered, so the image properties "
                        "cannot be read outside the lungs",
                        hint="install a plugin that registers one (bamnet's built-in "
                             "`anatomical`), or turn the outside-the-lungs baseline off")
    reg = registry.get(kind, names[0])
    estimator = instantiate(reg, {}, where=f"the default lung-field estimator {names[0]!r}",
                            validate=True)
    return LungFields(estimator, None, name=names[0])


def dilated(field: np.ndarray, fraction: float = 0.05) -> np.ndarray:
    """One ``(h, w)`` field grown by ``fraction`` of the image's larger side (a disc), for
    reading only what is well outside the lungs."""
    if np.ndim(field) != 2:
        raise ValueError(f"expected one field (h, w), got shape {np.shape(field)}")
    radius = int(round(fraction * max(np.shape(field))))
    if radius < 1:
        return np.asarray(field, dtype=bool)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate(np.asarray(field, dtype=np.uint8), disc)
    return grown.astype(bool)
