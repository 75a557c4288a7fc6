"""``model-card.chai.xml``: the CHAI applied model card (schema v0.2), filled from the run.

What the run knows (the model, its data, its metrics with intervals, its
warnings, the verdict) fills the card; what only the developer knows (contact,
release, regulatory status, funding, intended users) is written as
``[author: ...]`` and listed in :attr:`ChaiCard.left_for_author`. The card is
validated against the published schema, kept with its notice in
``report/schemas/`` together with the XML-signature schema it imports, so
validation never needs a network.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import RunError
from .headline import threshold_sentence
from .record import RunRecord
from .run_summary import data_description, model_description
from .support import show_in_split
from .verdict import Verdict, verdict_of

NAMESPACE = "https://mc.chai.org/v0.2/schema.xsd"
DSIG_NAMESPACE = "http://www.w3.org/2000/09/xmldsig#"
SCHEMAS = Path(__file__).parent / "schemas"
SCHEMA = SCHEMAS / "chai-model-card-v0.2.xsd"
DSIG_SCHEMA = SCHEMAS / "xmldsig-core-schema.xsd"
AUTHOR = "[author: {}]"


@dataclass
class ChaiCard:
    """The card's XML, and the fields left for the author (their element paths)."""

    xml: str
    left_for_author: list[str] = field(default_factory=list)


@cache
def _schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA), locations=[(DSIG_NAMESPACE, str(DSIG_SCHEMA))],
                               allow="local")


def validate(xml: str) -> None:
    """Check ``xml`` against the CHAI applied model card schema v0.2, offline.

    :raises RunError: naming the first element that does not fit, and why.
    """
    errors = list(_schema().iter_errors(xml))
    if errors:
        first = errors[0]
        raise RunError(f"the CHAI model card does not fit schema v0.2 at {first.path}: "
                       f"{first.reason}", hint="report this as a bamnet bug")


def _metric(label: str, value: Any) -> tuple[str, str]:
    return label, json.dumps(value)


def _estimates(record: RunRecord, split: str | None) -> list[tuple[str, str]]:
    found = record.splits.get(split or "")
    if found is None or found.headline is None:
        return []
    rows = []
    counts = found.headline.counts.model_dump() if found.headline.counts else None
    for metric in found.headline.model_dump(mode="json").get("metrics", []):
        estimate = metric.get("estimate") or {}
        if estimate.get("value") is None:
            continue
        shown = show_in_split(metric.get("key", ""), estimate["value"], estimate, counts,
                              record.config.report)
        rows.append(_metric(f"{metric.get('label')} ({split})",
                            {"value": estimate["value"],
                             "ci95": [estimate.get("low"), estimate.get("high")]}
                            if shown.supported else {"value": None, "shown": shown.value}))
    return rows


def _fairness(record: RunRecord) -> list[tuple[str, str]]:
    sub = record.metrics.subgroups if record.metrics else None
    if sub is None:
        return []
    rows = []
    for attribute, groups in sub.by.items():
        for row in groups:
            rows.append(_metric(f"accuracy, {attribute}={row.group} ({sub.split})",
                                {"value": row.accuracy, "ci95": row.accuracy_interval,
                                 "images": row.images,
                                 "difference_to_rest": row.difference,
                                 "difference_ci95": row.difference_interval}))
    return rows


def _safety(record: RunRecord, split: str | None) -> list[tuple[str, str]]:
    rows = []
    base = record.metrics.shortcut_baseline if record.metrics else None
    if base is not None and base.baseline is not None and base.baseline.auc is not None:
        rows.append(_metric(f"outside-the-lungs baseline ROC-AUC ({base.split})",
                            {"value": base.baseline.auc, "ci95": base.baseline.interval}))
    occlusion = record.results(split, "occlusion") if split else None
    if occlusion and occlusion.get("auc_masked") is not None:
        rows.append(_metric(f"ROC-AUC with the lungs hidden ({split})",
                            {"value": occlusion["auc_masked"],
                             "ci95": occlusion.get("masked_interval")}))
    calibration = record.results(split, "calibration") if split else None
    if calibration and calibration.get("ece") is not None:
        rows.append(_metric(f"expected calibration error ({split})",
                            {"value": calibration["ece"]}))
    return rows


def chai_card(record: RunRecord, verdict: Verdict | None = None) -> ChaiCard:
    """The CHAI applied model card of ``record`` (the full record, or the redacted copy)."""
    verdict = verdict or verdict_of(record)
    cfg = record.config
    split = record.headline_split
    left: list[str] = []
    ET.register_namespace("", NAMESPACE)

    def add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
        if text is not None:
            element.text = text
        return element

    def ask(parent: ET.Element, tag: str, what: str) -> None:
        add(parent, tag, AUTHOR.format(what))
        left.append(f"{parent.tag.split('}')[1]}/{tag}")

    card = ET.Element(f"{{{NAMESPACE}}}AppliedModelCard")
    basic = add(card, "BasicInfo")
    add(basic, "ModelName", f"{cfg.run.name} ({record.name})")
    ask(basic, "ModelDeveloper", "who developed the model")
    ask(basic, "DeveloperContact", "how to reach the developer")
    release = add(card, "ReleaseInfo")
    add(release, "ReleaseStage", "Research model; not cleared for clinical use")
    started = record.meta.started_at if record.meta else ""
    add(release, "ReleaseDate", started[:10] if started else AUTHOR.format("release date"))
    add(release, "ReleaseVersion", record.name)
    ask(release, "GlobalAvailability", "where the model is available")
    summary = add(card, "ModelSummary")
    add(summary, "Summary", f"{model_description(cfg)}, classifying chest radiographs as "
                            f"{' or '.join(cfg.data.classes)}. Verdict: {verdict.reading}. "
                            f"{verdict.sentence}")
    keywords = add(summary, "Keywords")
    for word in ("chest X-ray", "image classification", "deep learning", *cfg.data.classes):
        add(keywords, "Keyword", word)
    uses = add(card, "UsesAndDirections")
    add(uses, "IntendedUseAndWorkflow", "Research on chest X-ray classifiers, including the "
                                        "shortcuts they learn; not for clinical diagnosis.")
    ask(uses, "PrimaryIntendedUsers", "who is meant to use the model")
    add(uses, "HowToUse", "Score images with `bamnet score` on the exported ONNX model, which "
                          "embeds its preprocessing; one probability per class.")
    ask(uses, "TargetedPatientPopulation", "the patients the model is meant for")
    add(uses, "CautionedOutOfScopeSettings", "Any clinical decision; any site, device or "
                                             "population unlike the development data.")
    warnings = add(card, "Warnings")
    add(warnings, "KnownRisksAndLimitations",
        " ".join(record.warnings) or "The audit raised no warning.")
    sub = record.metrics.subgroups if record.metrics else None
    worse = ", ".join(sub.worse) if sub is not None else ""
    add(warnings, "KnownBiasesOrEthicalConsiderations",
        f"Subgroups significantly worse than the rest: {worse or 'none found'}."
        if sub is not None else AUTHOR.format("known biases"))
    if sub is None:
        left.append("Warnings/KnownBiasesOrEthicalConsiderations")
    ask(warnings, "ClinicalRiskLevel", "the clinical risk level")
    trust = add(card, "TrustIngredients")
    facts = add(trust, "AISystemFacts")
    add(facts, "OutcomesAndOutputs", f"A probability for each class "
                                     f"({', '.join(cfg.data.classes)}); positive "
                                     f"'{cfg.data.positive}' above the threshold "
                                     f"{record.metrics.threshold if record.metrics else '?'}.")
    add(facts, "ModelType", f"Convolutional neural network, backbone '{cfg.backbone.name}'.")
    add(facts, "InputDataSource", data_description(record))
    add(facts, "OutputAndInputDataTypes", f"Input: a chest radiograph (raster or DICOM), "
                                          f"resized to {cfg.preprocess.size} px. Output: "
                                          "class probabilities.")
    audit = record.audit
    add(facts, "DevelopmentDataCharacterization",
        f"{audit.images} images of {audit.patients} patients, split by {cfg.split.by}; "
        f"classes {json.dumps(audit.by_class)}; sources {json.dumps(audit.by_source)}."
        if audit is not None else AUTHOR.format("the development data"))
    if audit is None:
        left.append("AISystemFacts/DevelopmentDataCharacterization")
    add(facts, "BiasMitigationApproaches", "Patient-grouped splits; duplicates and leakage "
        "audited; an outside-the-lungs baseline, occlusion of the lungs, a source probe and "
        "subgroup metrics with "
        "patient-resampled intervals test for shortcuts.")
    ask(facts, "OngoingMaintenance", "how the model is monitored and updated")
    transparency = add(trust, "TransparencyInformation")
    ask(transparency, "FundingSource", "who funded the work")
    ask(transparency, "StakeholdersConsulted", "who was consulted")
    key = add(card, "KeyMetrics")
    groups = (("UsefulnessUsabilityEfficacy", "Discriminate the classes on held-out patients",
               _estimates(record, split)),
              ("FairnessEquity", "No subgroup significantly worse than the rest",
               _fairness(record)),
              ("SafetyReliability", "Evidence that the score comes from the lungs",
               _safety(record, split)))
    testing = (f"The {split} split: patients never seen in training"
               if split else "No evaluated split")
    for tag, goal, rows in groups:
        metric = add(key, tag)
        add(metric, "MetricGoal", goal)
        results = add(metric, "Results")
        for label, value in rows or [("not measured", "null")]:
            row = add(results, "MetricResult")
            add(row, "Label", label)
            add(row, "ValueJson", value)
        add(metric, "Interpretation", f"Verdict: {verdict.reading}.")
        add(metric, "TestType", "Internal validation, held-out patients")
        add(metric, "TestingDataDescription", testing + ".")
        add(metric, "ValidationProcessAndJustification", "95% intervals resample patients; "
            f"validation chose the epoch; decision threshold "
            f"{threshold_sentence(record.metrics) or 'not recorded'}; the test split was used "
            "once.")
    resources = add(card, "Resources")
    add(resources, "EvaluationReferences", "report.html and metrics.json in the run folder.")
    ask(resources, "PeerReviewedPublications", "publications about the model")
    ask(resources, "PatientConsentOrDisclosure", "consent or disclosure to patients")
    add(card, "Bibliography", "DeGrave et al., Nat Mach Intell 2021; Roberts et al., Nat Mach "
                              "Intell 2021.")
    ET.indent(card, space="  ")
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(card, encoding="unicode")
    return ChaiCard(xml=xml + "\n", left_for_author=left)
