"""The audit of a run, as ``[audit]`` asks: before training, and beside the metrics after.

Before training: counts, duplicates, leakage, confounding and the shortcut
baseline go to ``data-audit.json``, with label issues and outliers when asked;
the audit stage is that file's only writer. After evaluation
(:func:`audit_metrics`, called by the evaluate stage): the outside-the-lungs
baseline is refitted on the run's own training split and scored on the split
the model is scored on, so the two AUCs compare like with like ("a model that
reads only outside the lungs reaches X; yours Y"), and subgroup metrics and their
warnings join ``metrics.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback
from ..config.resolved import Config
from ..contract.capabilities import StatesPopulation
from ..contract.sample import Sample
from ..data.audit import audit_samples
from ..data.fingerprints import fingerprint_files
from ..data.patient_bootstrap import weighted_auc_score, weighted_bootstrap
from ..data.shortcut_baseline import READS, auc_score, baseline_on_split
from ..data.splits import PatientSplit
from ..errors import ImageDecodeError
from ..plugins.registry import Registry
from ..runs import layout
from ..runs.files import AuditFile
from . import stage_records as records
from .context import RunContext
from .deep_audit import deep_audit, deep_warnings, feature_backbone
from .results import AuditResult, DataResult
from .stages import Stage
from .subgroups import subgroup_metrics, subgroup_warnings


def audit_run(config: Config, registry: Registry, samples: Sequence[Sample],
              split: PatientSplit, errors: Sequence[ImageDecodeError],
              progress: ProgressCallback, notes: Sequence[str] = ()) -> AuditResult:
    """``data-audit.json`` for a run: the data audit, plus the deep audit when configured.

    Sources that state facts about their populations (``StatesPopulation``) have them
    stated in the audit.

    :param notes: the sources' notes, the audit's last warnings.
    """
    options = config.audit
    failed = {e.path for e in errors}
    prints, more = fingerprint_files([s.path for s in samples if s.path not in failed],
                                     progress=progress)
    threshold = options.shortcut_threshold if options.shortcut_baseline else None
    report = audit_samples(samples, split=split, errors=[*errors, *more], fingerprints=prints,
                           shortcut_threshold=threshold, seed=config.run.seed,
                           population_facts=population_facts(config))
    if options.label_issues or options.outliers:
        name = options.features
        backbone = config.components.backbone if name == config.backbone.name \
            else feature_backbone(registry, name)
        failed |= {e.path for e in more}
        deep = deep_audit([s for s in samples if s.path not in failed], backbone,
                          size=options.feature_size, label_issues_on=options.label_issues,
                          outliers_on=options.outliers, seed=config.run.seed,
                          progress=progress)
        report["deep"] = deep
        report["warnings"].extend(deep_warnings(deep))
    report["warnings"].extend(notes)
    return AuditResult(AuditFile.model_validate(report),
                       {p: f.properties for p, f in prints.items() if f.properties})


def population_facts(config: Config) -> dict[str, dict[str, str]]:
    """What the configured source (or sources) state about their populations."""
    components = config.components
    sources = [s for _, s in components.sources] or [components.source]
    facts: dict[str, dict[str, str]] = {}
    for source in sources:
        if isinstance(source, StatesPopulation):
            facts.update(source.population_facts())
    return facts


def audit_metrics(config: Config, audit: AuditResult, split: PatientSplit,
                  loaded: Mapping[str, Any], y: Mapping[str, np.ndarray],
                  predictions: Mapping[str, tuple[np.ndarray, np.ndarray]], *,
                  threshold: float) -> dict[str, Any]:
    """``shortcut_baseline``, ``subgroups`` and ``warnings`` entries for ``metrics.json``.

    Both use the test split when there is one, else validation; ``warnings``
    holds what the subgroups found. Empty when neither split was evaluated.
    ``threshold`` is the one the evaluators applied to ``predictions``.
    """
    name = "test" if "test" in predictions else "val"
    if name not in predictions:
        return {}
    options, classes = config.audit, config.data.classes
    _, probs = predictions[name]
    samples = loaded[name].samples
    seed = config.run.seed
    out: dict[str, Any] = {}
    if options.shortcut_baseline and audit.properties:
        out["shortcut_baseline"] = compare_with_model(
            split.assignment["train"], samples, y[name], probs, audit.properties, classes,
            name, seed)
    if options.subgroups:
        groups = subgroup_metrics(samples, y[name], probs, classes=classes,
                                  positive=config.data.positive,
                                  threshold=threshold, split=name,
                                  seed=seed)
        out["subgroups"] = groups
        out["warnings"] = subgroup_warnings(groups)
    return out


def compare_with_model(train: Sequence[Sample], evaluated: Sequence[Sample], y: np.ndarray,
                       probs: np.ndarray, properties: Mapping[str, Mapping[str, Any]],
                       classes: Sequence[str], split: str, seed: int) -> dict[str, Any]:
    """The outside-the-lungs AUC and the model's AUC on the same split, and one sentence."""
    baseline = baseline_on_split(train, evaluated, properties, classes, seed=seed,
                                 model_probs=probs)
    model_auc = auc_score(y, probs, len(classes))
    model_interval = weighted_bootstrap(lambda w: weighted_auc_score(w, y, probs, len(classes)),
                                        [s.patient_id for s in evaluated], seed=seed)
    result: dict[str, Any] = {"split": split, "baseline": baseline, "reads": READS,
                              "model_auc": None if model_auc is None else round(model_auc, 4),
                              "model_interval": model_interval}
    if baseline is not None and baseline["auc"] is not None and model_auc is not None:
        result["sentence"] = (f"a classifier that reads only outside the lungs reaches ROC-AUC "
                              f"{baseline['auc']:.2f} on the {split} split; yours "
                              f"{model_auc:.2f}")
    return result


class AuditStage(Stage):
    """Audit the split's images before training: ``data-audit.json``, image properties."""

    name = "audit"

    def keep(self, ctx: RunContext) -> AuditResult | None:
        """The audit an earlier attempt wrote."""
        found = records.load_audit(ctx.run) if ctx.finished(self.name) else None
        return AuditResult(*found) if found is not None else None

    def run(self, ctx: RunContext) -> AuditResult:
        """Audit every image of the split (decode failures included) and write the report."""
        loaded, split = ctx.images(), ctx.the_split()
        errors = [e for part in loaded.values() for e in part.errors]
        checked = audit_run(ctx.config, ctx.registry,
                            [s for part in split.assignment.values() for s in part],
                            split, errors, ctx.progress,
                            notes=ctx.results.need(DataResult).notes)
        ctx.run.write_model(layout.AUDIT, checked.report)
        ctx.run.record(self.name, [layout.AUDIT])
        records.save_properties(ctx.run, checked.properties)
        return checked
