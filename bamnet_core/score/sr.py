"""One scored DICOM image to one DICOM Structured Report, written with highdicom.

The report follows TID 1500 "Measurement Report" in a Comprehensive 3D SR, the
encoding the IHE AI Results profile (AIR) builds on: viewers and archives that
read AI results read this one, and highdicom builds and checks every content item.
The content, item by item, is listed in ``docs/hospital.md``:

- one TID 1501 measurement group for the whole image (a classification has no
  region), referencing the scored image as its source, with the algorithm's
  identification (TID 4019: name, version, ONNX SHA-256, threshold and where it
  was chosen), the probability of every class, the finding (the class called)
  and the decision on the positive class (present or absent at the threshold);
- a "Qualitative Evaluations" container holding two texts: the training run's
  verdict reading and the research-use statement.

The SR belongs to the scored image's study (same Study Instance UID, patient and
study modules copied by highdicom from the source) in a series of its own. Its
UIDs are derived from the source image's SOP Instance UID, the model's SHA-256 and
the threshold, so scoring the same image again writes the same SR (a resumed run
replaces, never duplicates). Nothing here logs or returns a patient's name or id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import __version__
from .scorer import ScoreRecord

#: a private coding scheme (DICOM PS3.16: designators starting "99" are local)
SCHEME = "99BAMNET"
RESEARCH_USE = ("Research use only. bamnet is a research tool for studying chest X-ray "
                "classifiers and the shortcuts they learn; this result is not a diagnosis and "
                "must not be used for patient care.")
NO_VERDICT = ("The model carries no verdict of its training run (exported before bamnet "
              "recorded one): read that run's report.html before trusting its numbers.")
NO_THRESHOLD_SOURCE = "not recorded in the model"
SERIES_DESCRIPTION = "bamnet AI result (research use only)"
SERIES_NUMBER = 9900
MANUFACTURER = "bamnet"


@dataclass(frozen=True)
class AlgorithmFacts:
    """What every SR of one scoring run says about the model that made it.

    :param name: the model's name (its training run, or the file's stem).
    :param version: the bamnet version that exported it.
    :param sha256: the ONNX file's SHA-256.
    :param classes: class names, in output order.
    :param positive: the positive class.
    :param threshold: the threshold applied to the positive class.
    :param threshold_source: where that threshold was chosen.
    :param verdict: the training run's verdict reading, as text.
    """

    name: str
    version: str
    sha256: str
    classes: tuple[str, ...]
    positive: str
    threshold: float
    threshold_source: str
    verdict: str

    @classmethod
    def from_model(cls, name: str, sha256: str, classes: list[str], positive: str,
                   threshold: float, model_threshold: float,
                   extra: Mapping[str, str]) -> AlgorithmFacts:
        """The facts of a scorer: its metadata's ``bamnet.*`` keys, and ``threshold`` (the one
        applied, which replaces the model's ``model_threshold`` when they differ)."""
        source = extra.get("bamnet.threshold_source") or NO_THRESHOLD_SOURCE
        if threshold != model_threshold:
            source = (f"given when scoring (--threshold), replacing the model's "
                      f"{model_threshold!r} ({source})")
        return cls(name=extra.get("bamnet.run") or name,
                   version=extra.get("bamnet.version") or "unknown", sha256=sha256,
                   classes=tuple(classes), positive=positive, threshold=threshold,
                   threshold_source=source, verdict=verdict_text(extra.get("bamnet.verdict")))


def verdict_text(carried: str | None) -> str:
    """The verdict a model carries (``bamnet.verdict``: JSON with ``reading``, ``sentence``
    and ``lines``) as one paragraph; :data:`NO_VERDICT` when it carries none."""
    try:
        verdict = json.loads(carried) if carried else None
    except ValueError:
        verdict = None
    if not isinstance(verdict, dict) or not verdict.get("reading"):
        return NO_VERDICT
    lines = [str(line) for line in verdict.get("lines") or [] if line]
    head = f"Verdict of the training run: {verdict['reading']}. {verdict.get('sentence', '')}"
    return " ".join([head.strip(), *lines[:-1]])  # the last line repeats the reading


def _uid(*parts: str) -> str:
    from pydicom.uid import generate_uid

    return generate_uid(entropy_srcs=["bamnet-sr", *parts])


def sr_uids(source_sop: str, study: str, facts: AlgorithmFacts) -> tuple[str, str]:
    """The SR's Series and SOP Instance UIDs: one series per study and model decision rule,
    one instance per scored image, the same every time the same image is scored."""
    rule = f"{facts.sha256}:{facts.threshold!r}"
    return _uid(study, rule, "series"), _uid(source_sop, rule, "instance")


def _concept(value: str, meaning: str) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(value=value, scheme_designator=SCHEME, meaning=meaning[:64])


def _class_concept(name: str) -> Any:
    return _concept(name, name)


def _text(name: Any, value: str) -> Any:
    from highdicom.sr import RelationshipTypeValues, TextContentItem

    return TextContentItem(name=name, value=value,
                           relationship_type=RelationshipTypeValues.CONTAINS)


def _measurement_group(source: Any, record: ScoreRecord, facts: AlgorithmFacts,
                       sop_uid: str) -> Any:
    """TID 1501: the whole image's probabilities, finding and decision, with the algorithm."""
    from highdicom.sr import (
        AlgorithmIdentification,
        CodedConcept,
        Measurement,
        MeasurementsAndQualitativeEvaluations,
        QualitativeEvaluation,
        SourceImageForMeasurementGroup,
        TrackingIdentifier,
    )
    from pydicom.sr.codedict import codes

    assert record.probabilities is not None and record.label is not None
    algorithm = AlgorithmIdentification(
        name=facts.name[:64], version=facts.version[:64], manufacturer=MANUFACTURER,
        parameters=[f"onnx_sha256={facts.sha256}", f"positive_class={facts.positive}",
                    f"threshold={facts.threshold!r}",
                    f"threshold_chosen={facts.threshold_source}",
                    f"bamnet_version_scoring={__version__}"])
    unit = CodedConcept(value="1", scheme_designator="UCUM", meaning="no units")
    measurements = [Measurement(name=_concept(f"P:{c}", f"Probability of {c}"),
                                value=float(record.probabilities[c]), unit=unit)
                    for c in facts.classes]
    present = record.label == facts.positive
    decision = QualitativeEvaluation(_class_concept(facts.positive),
                                     codes.SCT.Present if present else codes.SCT.Absent)
    return MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(uid=_uid(sop_uid, "tracking"),
                                               identifier="bamnet image classification"),
        finding_type=_class_concept(record.label), algorithm_id=algorithm,
        measurements=measurements, qualitative_evaluations=[decision],
        source_images=[SourceImageForMeasurementGroup.from_source_image(source)])


def build_sr(source: Any, record: ScoreRecord, facts: AlgorithmFacts) -> Any:
    """The Comprehensive 3D SR (a ``highdicom.sr.Comprehensive3DSR``) for ``record``, the
    scored DICOM image ``source`` (a pydicom dataset; its pixels are not needed).

    :raises ValueError: when ``record`` failed (a failed image gets no SR) or when highdicom
        refuses the source (a missing UID or module).
    """
    from highdicom import ContentQualificationValues
    from highdicom.coding_schemes import CodingSchemeIdentificationItem
    from highdicom.sr import (
        CodedConcept,
        Comprehensive3DSR,
        ContainerContentItem,
        DeviceObserverIdentifyingAttributes,
        MeasurementReport,
        ObservationContext,
        ObserverContext,
        RelationshipTypeValues,
    )
    from pydicom.sr.codedict import codes

    if record.error is not None or record.probabilities is None:
        raise ValueError("a failed image gets no structured report")
    series_uid, sop_uid = sr_uids(str(source.SOPInstanceUID), str(source.StudyInstanceUID),
                                  facts)
    device = ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=DeviceObserverIdentifyingAttributes(
            uid=_uid(facts.sha256, "device"), name="bamnet", manufacturer_name=MANUFACTURER,
            model_name=facts.name[:64]))
    parts = {"observation_context": ObservationContext(observer_device_context=device),
             "procedure_reported": CodedConcept("399208008", "SCT", "Plain chest X-ray"),
             "imaging_measurements": [_measurement_group(source, record, facts, sop_uid)]}
    try:  # the image library describes the image (TID 1602) from its type 1 attributes
        report = MeasurementReport(**parts, referenced_images=[source])
    except (AttributeError, ValueError, TypeError):
        # a source without them (no Patient Orientation, say) is still referenced by the
        # measurement group and the evidence sequence
        report = MeasurementReport(**parts)
    notes = ContainerContentItem(
        name=CodedConcept("C0034375", "UMLS", "Qualitative Evaluations"),
        relationship_type=RelationshipTypeValues.CONTAINS)
    notes.ContentSequence = [
        _text(_concept("verdict", "Verdict of the model's training run"), facts.verdict),
        _text(_concept("intended-use", "Intended use"), RESEARCH_USE)]
    report[0].ContentSequence.append(notes)
    return Comprehensive3DSR(
        evidence=[source], content=report[0], series_instance_uid=series_uid,
        series_number=SERIES_NUMBER, sop_instance_uid=sop_uid, instance_number=1,
        manufacturer=MANUFACTURER, is_complete=True, is_final=False, is_verified=False,
        series_description=SERIES_DESCRIPTION, software_versions=f"bamnet {__version__}",
        content_qualification=ContentQualificationValues.RESEARCH,
        coding_schemes=[CodingSchemeIdentificationItem(
            designator=SCHEME, name="bamnet local codes",
            responsible_organization="bamnet")])
