"""What a run was, in one line (its data, backbone, input, epochs), and its numbers per
split as the terminal and ``--json`` show them.

Claimed vs reproduced, ``bamnet compare`` and the model card put the line beside
every number, so a 128-px small CNN on phantoms is never read as the paper's VGG16.
:func:`split_summary` applies the support rule of :mod:`.support`, the same one
the verdict, the report and the model card apply.
"""

from __future__ import annotations

from typing import Any

from ..config.resolved import Config
from ..config.schema import ReportSection
from ..runs.files import MetricsFile
from .record import RunRecord
from .support import show_in_split, split_support

# (headline key, column) of the numbers the run summary shows per split.
SUMMARY_METRICS = (("accuracy", "accuracy"), ("sensitivity", "sensitivity"),
                   ("specificity", "specificity"), ("roc_auc", "roc_auc"))

# Sources whose images are made by code, not taken from patients.
PHANTOM_SOURCES = {"synthetic-cxr"}


def data_description(record: RunRecord) -> str:
    """E.g. ``"1082 real images from 5 sources (ieee8023 428, kermany 300, ...)"``."""
    by_source = record.audit.by_source if record.audit else {}
    made = record.metrics.generator if record.metrics else None
    generator = made.name if made else None
    real = {src: sum(c.values()) for src, c in by_source.items() if src != generator}
    if not real:
        return f"data: {record.config.data.source or 'unknown'}"
    total = sum(real.values())
    phantoms = [s for s in real if s in PHANTOM_SOURCES]
    kind = "synthetic phantoms" if phantoms and len(phantoms) == len(real) else "images"
    listed = ", ".join(f"{src} {n}" for src, n in sorted(real.items(), key=lambda kv: -kv[1]))
    count = made.synthetic if made else 0
    extra = f" + {count} generated for training" if count else ""
    plural = "s" if len(real) > 1 else ""
    return f"{total} {kind} from {len(real)} source{plural} ({listed}){extra}"


def paper_comparison(record: RunRecord) -> str:
    """Whether the run's data is like the paper's (real chest X-rays), in words, for the
    claimed-vs-reproduced table: a number on synthetic phantoms is never set beside the
    paper's as if it reproduced it."""
    by_source = record.audit.by_source if record.audit else {}
    made = record.metrics.generator if record.metrics else None
    real = [src for src in by_source if src != (made.name if made else None)]
    phantoms = [src for src in real if src in PHANTOM_SOURCES]
    if not real:
        return "unknown: the run recorded no sources"
    if len(phantoms) == len(real):
        return ("NOT comparable: synthetic phantoms, not chest X-rays; this row tests the "
                "pipeline, not the paper's claim")
    if phantoms:
        return "NOT comparable: partly synthetic phantoms (" + ", ".join(phantoms) + ")"
    return "real chest X-rays, as the paper's (compare the protocol and the sources)"


def model_description(config: Config) -> str:
    """E.g. ``"small-cnn (weights none), 128 px, 3 epochs"``.

    ``weights`` is the backbone's own option (not a core key), read where it was given.
    """
    weights = getattr(config.backbone, "weights", None)
    finetune = config.train.finetune.epochs
    epochs = f"{config.train.epochs} epochs" + (f" + {finetune} fine-tuning" if finetune
                                                else "")
    return (f"{config.backbone.name}" + (f" (weights {weights})" if weights else "")
            + f", {config.preprocess.size} px, {epochs}")


def run_description(record: RunRecord) -> str:
    """The data and the model of a run, in one line."""
    return f"{data_description(record)}; {model_description(record.config)}"


def split_summary(metrics: MetricsFile, settings: ReportSection | None = None
                  ) -> dict[str, dict[str, Any]]:
    """Each evaluated split's images and headline numbers as the run summary shows them.

    ``{split: {"images", "headline", "too_few", "metrics": {key: {"value", "shown",
    "interval"}}}}``: ``value`` is None where the support rule does not carry it,
    ``shown`` then reads "too few (n = k)"; ``too_few`` says why a split is too small
    to conclude (None when it is not).
    """
    settings = settings or ReportSection()
    out: dict[str, dict[str, Any]] = {}
    for name, results in metrics.splits.items():
        found = results.headline
        counts = found.counts.model_dump() if found and found.counts else None
        rows = {}
        for key, _ in SUMMARY_METRICS:
            estimate = found.get(key) if found else None
            if estimate is None or estimate.value is None:
                continue
            shown = show_in_split(key, estimate.value, estimate.interval, counts, settings)
            rows[key] = {"value": estimate.value if shown.supported else None,
                         "shown": shown.value, "interval": shown.interval}
        short = (split_support(counts["tp"] + counts["fn"], counts["tn"] + counts["fp"], name,
                               settings) if counts else None)
        out[name] = {"images": results.images, "headline": name == metrics.headline_split,
                     "too_few": short, "metrics": rows}
    return out
