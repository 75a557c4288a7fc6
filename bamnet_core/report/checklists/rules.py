"""Rules both checklists share: what the run knows about its data, model and results.

Each rule reads the typed record (``facts.record``) and cites the file and key
its numbers come from. Where the run knows only part of the answer, the rule
says what the author adds.
"""

from __future__ import annotations

from ...runs import layout
from ..headline import threshold_sentence
from .items import Answer, Facts, answered, author, partly

C, M, A, META = layout.CONFIG, layout.METRICS, layout.AUDIT, layout.META


def counts_text(by: dict[str, int]) -> str:
    """``3 covid, 5 normal`` for ``{"covid": 3, "normal": 5}``."""
    return ", ".join(f"{n} {name}" for name, n in by.items())


def _estimate(facts: Facts, split: str, key: str) -> str | None:
    for metric in facts.get(M, f"splits.{split}.headline.metrics") or []:
        value = metric.get("estimate") or {}
        if metric.get("key") == key and value.get("value") is not None:
            ci = "" if value.get("low") is None else \
                f" (95% CI {value['low']:.3f}-{value['high']:.3f})"
            return f"{metric.get('label', key)} {value['value']:.3f}{ci}"
    return None


def data_sources(facts: Facts) -> Answer:
    """The sources of the images and how many each gave, by class."""
    audit = facts.record.audit
    if audit is None or not audit.by_source:
        return author("Name the data sources (the run has no data audit).")
    parts = [f"{src}: {counts_text(by)}" for src, by in audit.by_source.items()]
    return partly(f"Images by source and class: {'; '.join(parts)}.",
                  "each source's origin, licence, institution and country.",
                  facts.cite(A, "by_source"), facts.cite(C, "data"))


def data_dates(facts: Facts) -> Answer:
    """When the data were collected: no image file says so reliably."""
    return author("State when each source's images were acquired (start and end dates).")


def eligibility(facts: Facts) -> Answer:
    """What was included: the classes, a per-class limit, the decoded images."""
    cfg = facts.record.config.document.get("data", {})
    audit = facts.record.audit
    known = f"Classes {', '.join(cfg.get('classes', []))} (positive: {cfg.get('positive')})"
    if audit is not None and audit.images is not None:
        known += f"; {audit.images} images of {audit.patients} patients were audited"
        if audit.decode_failures:
            known += f", {len(audit.decode_failures)} could not be decoded and were left out"
    return partly(known + ".", "the clinical inclusion and exclusion criteria of each source.",
                  facts.cite(C, "data.classes"), facts.cite(A, "images"),
                  facts.cite(A, "decode_failures"))


def preprocessing(facts: Facts) -> Answer:
    """The model input: size, channels, scaling, interpolation, aspect."""
    p = facts.record.config.document.get("preprocess", {})
    return answered(f"Each image decoded, resized to {p.get('size')} px ({p.get('aspect')}, "
                    f"{p.get('interpolation')} interpolation), {p.get('channels')} channel(s), "
                    f"scaled '{p.get('scaling')}'; the same definition is embedded in the "
                    "exported model.", facts.cite(C, "preprocess"))


def deidentification(facts: Facts) -> Answer:
    """What bamnet keeps of identity: pseudonyms in shared copies, allowlisted DICOM tags."""
    return partly("bamnet writes only an allowlist of DICOM tags; the shareable report and "
                  "checklists (--redact) replace patient ids with keyed pseudonyms and paths "
                  "with source and index.",
                  "how each source was de-identified before it reached you.")


def missing_data(facts: Facts) -> Answer:
    """Undecodable images, and how much demographic data is missing."""
    audit = facts.record.audit
    if audit is None:
        return author("Say how missing data were handled.")
    failures = len(audit.decode_failures)
    shares = []
    for cls, row in ((audit.demographics or {}).get("per_class") or {}).items():
        if isinstance(row, dict) and row.get("age_known_share") is not None:
            shares.append(f"age known for {row['age_known_share']:.0%} of {cls}")
    text = (f"{failures} image(s) could not be decoded and were excluded"
            + (f"; {', '.join(shares)}" if shares else "") + ". Missing labels are not "
            "imputed: every image carries its source's label.")
    return answered(text, facts.cite(A, "decode_failures"),
                    facts.cite(A, "demographics.per_class"))


def reference_standard(facts: Facts) -> Answer:
    """The labels as the sources gave them."""
    cfg = facts.record.config.document.get("data", {})
    return partly(f"Labels ({', '.join(cfg.get('classes', []))}) are taken as each source "
                  "gives them.", "how each source defined the label (RT-PCR, radiologist "
                  "report, consensus) and who assigned it.", facts.cite(C, "data.classes"))


def partitions(facts: Facts) -> Answer:
    """How the data were split, in what proportions, with counts."""
    audit = facts.record.audit
    split = facts.record.config.document.get("split", {})
    counts = audit.split.counts if audit and audit.split else {}
    shown = "; ".join(f"{name}: {counts_text(by)}" for name, by in counts.items())
    seed = facts.record.config.document.get("run", {}).get("seed")
    return answered(f"Split by {split.get('by')} (validation {split.get('val')}, test "
                    f"{split.get('test')}, seed {seed})" + (f": {shown}" if shown else "") + ".",
                    facts.cite(C, "split"), facts.cite(A, "split.counts"))


def disjointness(facts: Facts) -> Answer:
    """The level at which partitions are disjoint, and what crossed it."""
    audit = facts.record.audit
    split = audit.split if audit else None
    dup = audit.duplicates if audit else None
    if split is None:
        return answered(f"Split by {facts.record.config.split.by}.", facts.cite(C, "split.by"))
    text = (f"Partitions are disjoint by {split.by}"
            + (" (LEAKY: one patient's images can be in two partitions)" if split.leaky else "")
            + f"; {split.patients_in_several_splits} patient(s) in several partitions")
    if dup is not None:
        text += (f"; {dup.exact} exact and {dup.near} near-duplicate image(s), "
                 f"{dup.across_splits} across partitions")
    return answered(text + ".", facts.cite(A, "split.by"),
                    facts.cite(A, "split.patients_in_several_splits"),
                    facts.cite(A, "duplicates.across_splits"))


def sample_size(facts: Facts) -> Answer:
    """How many images and patients; why that many is the author's."""
    audit = facts.record.audit
    if audit is None or audit.images is None:
        return author("State the intended sample size and how it was determined.")
    return partly(f"{audit.images} images of {audit.patients} patients "
                  f"({counts_text(audit.by_class)}).",
                  "how the sample size was determined (all available, or a calculation).",
                  facts.cite(A, "images"), facts.cite(A, "by_class"))


def model(facts: Facts) -> Answer:
    """The network: backbone, head, inputs and outputs."""
    doc = facts.record.config.document
    backbone = doc.get("backbone", {})
    options = ", ".join(f"{k} {v}" for k, v in backbone.items() if k != "name")
    return answered(f"Backbone '{backbone.get('name')}' ({options}); input "
                    f"{doc.get('preprocess', {}).get('size')} px; output one probability per "
                    f"class ({', '.join(doc.get('data', {}).get('classes', []))}). The saved "
                    "model holds every layer.", facts.cite(C, "backbone"))


def software(facts: Facts) -> Answer:
    """bamnet, Python, Keras and its backend, the plugins."""
    meta = facts.record.meta
    if meta is None:
        return author("Name the software and versions used.")
    device = meta.device or {}
    return answered(f"bamnet {meta.bamnet_version}, Python {meta.python}, Keras "
                    f"{device.get('keras')} on {device.get('backend')}"
                    + (f"; plugins {', '.join(meta.plugins)}" if meta.plugins else "") + ".",
                    facts.cite(META, "bamnet_version"), facts.cite(META, "device"))


def initialisation(facts: Facts) -> Answer:
    """How the weights started: pretrained or random, with the seed."""
    doc = facts.record.config.document
    weights = doc.get("backbone", {}).get("weights")
    start = f"pretrained weights '{weights}'" if weights not in (None, "none") else \
        "random initialisation"
    return answered(f"{start.capitalize()}, seed {doc.get('run', {}).get('seed')}.",
                    facts.cite(C, "backbone"), facts.cite(C, "run.seed"))


def training(facts: Facts) -> Answer:
    """Epochs, batch, optimiser, augmentation, class weights, synthetic images."""
    train = facts.record.config.document.get("train", {})
    opt = train.get("optimizer", {})
    aug = {k: v for k, v in (train.get("augment") or {}).items() if v}
    gen = facts.record.metrics.generator if facts.record.metrics else None
    text = (f"{train.get('epochs')} epochs, batch {train.get('batch_size')}, optimiser "
            f"{opt.get('name')} (lr {opt.get('lr')}), class weights "
            f"'{train.get('class_weight')}', augmentation "
            + (", ".join(f"{k} {v}" for k, v in aug.items()) or "none"))
    if gen is not None and gen.synthetic:
        text += (f"; {gen.synthetic} synthetic {gen.balance_class} image(s) from "
                 f"'{gen.name}' added to training only")
    return answered(text + ".", facts.cite(C, "train"), facts.cite(M, "generator.synthetic"))


def model_selection(facts: Facts) -> Answer:
    """Which epoch was kept, by what, and where the threshold came from."""
    train = facts.record.config.document.get("train", {})
    meta = facts.record.meta
    best = (meta.training or {}).get("best_epoch") if meta else None
    threshold = facts.record.metrics.threshold if facts.record.metrics else None
    text = f"The epoch with the best {train.get('monitor')} on validation"
    text += f" (epoch {best})" if best is not None else ""
    text += (f"; decision threshold {threshold_sentence(facts.record.metrics)}"
             if threshold is not None else "")
    return answered(text + ".", facts.cite(C, "train.monitor"),
                    facts.cite(META, "training.best_epoch"), facts.cite(M, "threshold"))


def ensembling(facts: Facts) -> Answer:
    """bamnet trains one model per run."""
    return answered("No ensembling: one model per run.", facts.cite(C, "backbone.name"))


def metrics_used(facts: Facts) -> Answer:
    """The measures of performance the evaluators computed."""
    evaluators = facts.record.config.document.get("evaluate", {}).get("evaluators", [])
    return answered("Accuracy, sensitivity, specificity, balanced accuracy, PPV, NPV, F1, "
                    f"ROC-AUC, PR-AUC and calibration (ECE, Brier), from evaluators "
                    f"{', '.join(evaluators)}.", facts.cite(C, "evaluate.evaluators"))


def uncertainty(facts: Facts) -> Answer:
    """Intervals that resample patients."""
    n = facts.record.config.document.get("evaluate", {}).get("bootstrap")
    return answered(f"95% intervals from {n} bootstrap resamples of patients (exact binomial "
                    "at 0 and 1); paired differences for model against baseline.",
                    facts.cite(C, "evaluate.bootstrap"))


def robustness(facts: Facts) -> Answer:
    """The shortcut probes: outside-the-lungs baseline, occlusion, source probe, subgroups."""
    metrics = facts.record.metrics
    parts, cites = [], []
    if metrics is not None and metrics.shortcut_baseline is not None \
            and metrics.shortcut_baseline.sentence:
        parts.append(metrics.shortcut_baseline.sentence)
        cites.append(facts.cite(M, "shortcut_baseline.sentence"))
    split = facts.record.headline_split
    occl = facts.record.results(split, "occlusion") if split else None
    if occl and occl.get("auc_masked") is not None:
        parts.append(f"with the lungs hidden the model's ROC-AUC is {occl['auc_masked']:.3f}")
        cites.append(facts.cite(M, f"splits.{split}.evaluators.occlusion.auc_masked"))
    if metrics is not None and metrics.subgroups is not None:
        worse = metrics.subgroups.worse
        parts.append(f"subgroups significantly worse: {', '.join(worse) or 'none'}")
        cites.append(facts.cite(M, "subgroups.worse"))
    if not parts:
        return author("Describe any robustness or sensitivity analysis.")
    text = "; ".join(parts)
    return answered(text[:1].upper() + text[1:] + ".", *cites)


def explainability(facts: Facts) -> Answer:
    """Grad-CAM overlays."""
    split = facts.record.headline_split
    gradcam = facts.record.results(split, "gradcam") if split else None
    if not gradcam:
        return author("Describe any explainability method (none ran).")
    return answered(f"Grad-CAM on layer '{gradcam.get('layer')}' for "
                    f"{len(gradcam.get('images') or [])} {split} image(s), misclassified ones "
                    "included (report.html).", facts.cite(M, f"splits.{split}.evaluators.gradcam"))


def external(facts: Facts) -> Answer:
    """External evaluation, checked for overlap with the run."""
    if not facts.record.external:
        return author("No external evaluation in this run: run `bamnet evaluate RUN DATA` on "
                      "data from another site, or say why there is none.")
    parts, cites = [], []
    for name, metrics in facts.record.external.items():
        file = f"{layout.EXTERNAL}/{name}/{layout.METRICS}"
        kept = metrics.overlap.kept if metrics.overlap else None
        parts.append(f"{name}: {kept if kept is not None else '?'} images disjoint from the run"
                     if metrics.overlap else f"{name}: not checked for overlap")
        cites.append(facts.cite(file, "overlap.kept"))
    return answered("; ".join(parts) + ".", *cites)


def flow(facts: Facts) -> Answer:
    """The numbers a flow diagram needs."""
    audit = facts.record.audit
    if audit is None or audit.images is None:
        return author("Give the flow of patients and images through the study.")
    split = audit.split.counts if audit.split else {}
    return answered(f"{audit.images} images of {audit.patients} patients audited, "
                    f"{len(audit.decode_failures)} undecodable, {audit.synthetic} synthetic; "
                    + "; ".join(f"{n}: {sum(by.values())}" for n, by in split.items()) + ".",
                    facts.cite(A, "images"), facts.cite(A, "split.counts"))


def demographics(facts: Facts) -> Answer:
    """What the audit knows of age and sex, by class."""
    audit = facts.record.audit
    per_class = ((audit.demographics or {}).get("per_class") if audit else None) or {}
    parts = [f"{cls}: age known for {(row.get('age_known_share') or 0):.0%}, median age "
             f"{row.get('median_age')}, pediatric {(row.get('pediatric_share') or 0):.0%} of "
             "those" for cls, row in per_class.items()
             if isinstance(row, dict) and row.get("median_age") is not None]
    if not parts:
        return author("Give the demographic and clinical characteristics of each partition "
                      "(the data carry no age or sex).")
    return partly(f"By class: {'; '.join(parts)}.", "the characteristics by partition, and "
                  "clinical ones (disease severity, setting).",
                  facts.cite(A, "demographics.per_class"))


def performance(facts: Facts) -> Answer:
    """The headline metrics, with intervals, on every split."""
    shown, cites = [], []
    for split in facts.record.splits:
        parts = [e for key in ("roc_auc", "sensitivity", "specificity")
                 if (e := _estimate(facts, split, key))]
        if parts:
            shown.append(f"{split}: {', '.join(parts)}")
            cites.append(facts.cite(M, f"splits.{split}.headline"))
    if not shown:
        return author("Report the performance of the final model on every partition.")
    return answered("; ".join(shown) + ".", *cites)


def failure_analysis(facts: Facts) -> Answer:
    """The confusion counts and the misclassified images the report shows."""
    split = facts.record.headline_split
    found = facts.record.splits.get(split) if split else None
    counts = found.headline.counts if found and found.headline else None
    if counts is None:
        return author("Analyse the incorrectly classified cases.")
    return partly(f"On {split}: {counts.fp} false positive(s), {counts.fn} false "
                  "negative(s); Grad-CAM of misclassified images and the shortcut probes are in "
                  "report.html.", "what the misclassified cases have in common, as read by a "
                  "radiologist.", facts.cite(M, f"splits.{split}.headline.counts"))


def limitations(facts: Facts) -> Answer:
    """The audit's and evaluation's warnings; the rest is the author's."""
    warnings = facts.record.warnings
    known = ("Warnings: " + "; ".join(w.rstrip(". ") for w in warnings) + ".") if warnings \
        else "The audit raised no warning."
    return partly(known, "the study's other limitations (bias, uncertainty, generalisability).",
                  facts.cite(A, "warnings"), facts.cite(M, "warnings"))


def code_availability(facts: Facts) -> Answer:
    """The run can be repeated from its config; where the code is, is the author's."""
    return partly("config.toml reruns the experiment with the same metrics under the bamnet "
                  "version in meta.json.", "the address of the code, the trained model and the "
                  "data.", facts.cite(META, "bamnet_version"), facts.cite(C, "run"))


def imbalance(facts: Facts) -> Answer:
    """Class weights, a generator balancing a class."""
    audit = facts.record.audit
    train = facts.record.config.document.get("train", {})
    gen = facts.record.metrics.generator if facts.record.metrics else None
    text = f"Classes {counts_text(audit.by_class) if audit else '?'}; class weights " \
        f"'{train.get('class_weight')}'"
    if gen is not None and gen.synthetic:
        text += f"; {gen.synthetic} synthetic {gen.balance_class} image(s) in training only"
    return answered(text + ".", facts.cite(A, "by_class"), facts.cite(C, "train.class_weight"))


def fairness(facts: Facts) -> Answer:
    """Subgroup metrics with paired intervals."""
    sub = facts.record.metrics.subgroups if facts.record.metrics else None
    if sub is None:
        return author("Describe how fairness was assessed.")
    attrs = ", ".join(sub.by) or "none with enough images"
    return partly(f"Subgroup metrics on {sub.split} (attributes: {attrs}; groups of at least "
                  f"{sub.min_images} images); significantly worse: "
                  f"{', '.join(sub.worse) or 'none'}.", "which groups matter for the intended "
                  "population, and any mitigation.", facts.cite(M, "subgroups"))


def output_threshold(facts: Facts) -> Answer:
    """The model's output and its decision threshold."""
    metrics = facts.record.metrics
    if metrics is None:
        return author("Describe the model's output and any threshold.")
    return answered(f"A probability per class ({', '.join(metrics.classes)}); positive "
                    f"'{metrics.positive}' at threshold {threshold_sentence(metrics)}.",
                    facts.cite(M, "classes"), facts.cite(M, "threshold"))
