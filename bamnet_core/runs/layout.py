"""Every file and folder name of a run folder, in one place.

Nothing else in bamnet spells a run-folder name: resume, export, the report,
``bamnet evaluate`` and the tests read them from here. Paths are relative to
the run folder (``/`` separated); a run folder can be moved or resumed from
any directory, and every path written *inside* a run file is either relative
to the run folder or names original data by its absolute canonical path
(:mod:`bamnet_core.runs.paths`).

A run folder::

    config.toml            the resolved config; rerunning it gives the same run
    meta.json              versions, plugin pins, seed, device, status, stage records, timings
    integrity.json         every file below with its SHA-256 and size, the config's hash and
                           the pseudonym key's fingerprint (``bamnet verify`` checks them)
    preprocess.json        the model input (PreprocessSpec)
    split.json             every sample with its split, exactly (for resume)
    splits.csv             the same, for people
    generator/             the generator's workdir; images/, synthetic.csv, training-images.csv
    data-audit.json        counts, duplicates, leakage, confounding, shortcut baseline
    image-properties.json  image properties per path, for the shortcut baseline
    checkpoint/            per-epoch checkpoints and state.json (resume)
    best.keras             the best epoch by train.monitor
    model.keras            the trained model
    history.csv            one row per epoch
    predictions.csv        one row per evaluated image
    metrics.json           every evaluator's results with 95% intervals
    plots/                 the report's figures (plot()), and what evaluators drew there
    report.html            the self-contained report
    model-card.md          the model card
    model-card.chai.xml    ``bamnet report --model-card chai``: the CHAI applied model card
    checklists/            ``bamnet report --checklist``: claim.md/.json, tripod-ai.md/.json
    model.onnx             the exported model (and model.int8.onnx, model.fp16.onnx)
    export-report.json     the export's gates
    external/<name>/       ``bamnet evaluate`` results, one folder per dataset
    run.lock               present while a process runs or resumes the run (PID, host, start)
    shareable/             ``bamnet report --redact``: report.html, model-card.md, plots/
    compare.html           ``bamnet compare`` without ``-o``, in the first run's folder
"""

from __future__ import annotations

import re

CONFIG = "config.toml"
META = "meta.json"
INTEGRITY = "integrity.json"  # each recorded file's SHA-256 and size (runs/integrity.py)
PREPROCESS = "preprocess.json"
SPLIT_JSON = "split.json"  # every sample with its split, exactly (splits.csv is for people)
SPLITS_CSV = "splits.csv"
AUDIT = "data-audit.json"
PROPERTIES = "image-properties.json"  # path -> image properties, for the shortcut baseline
MODEL = "model.keras"
BEST = "best.keras"  # the best epoch by train.monitor, full model
HISTORY = "history.csv"
PREDICTIONS = "predictions.csv"
METRICS = "metrics.json"
PLOTS = "plots"
REPORT = "report.html"
MODEL_CARD = "model-card.md"
MODEL_CARD_CHAI = "model-card.chai.xml"  # `bamnet report --model-card chai`
CHECKLISTS = "checklists"  # `bamnet report --checklist NAME`: NAME.md and NAME.json
ONNX = "model.onnx"
EXPORT_REPORT = "export-report.json"
EXTERNAL = "external"  # one subfolder per dataset `bamnet evaluate` scored
LOCK = "run.lock"  # held (flock) by the one process running or resuming the run
SHAREABLE = "shareable"  # `bamnet report --redact`: report.html, model-card.md, plots/ to share
COMPARE = "compare.html"  # `bamnet compare` without -o, in the first run's folder

CHECKPOINT = "checkpoint"
CHECKPOINT_STATE = "state.json"  # inside CHECKPOINT: the commit point of an epoch
CHECKPOINT_MODELS = "*-epoch-*.keras"  # inside CHECKPOINT: the epoch files (glob)
CHECKPOINT_MODEL = re.compile(r"^(train|finetune)-epoch-(\d{4,9})\.keras$")

GENERATOR = "generator"  # the generator's workdir: what the plugin writes inside is its own
GENERATOR_IMAGES = f"{GENERATOR}/images"
GENERATOR_MANIFEST = f"{GENERATOR}/synthetic.csv"
GENERATOR_FITTED_ON = f"{GENERATOR}/training-images.csv"  # what the generator learnt from
GENERATOR_QUALITY = f"{GENERATOR}/quality"

# folders that hold several runs
LOSO_JSON = "loso.json"
LOSO_CSV = "loso.csv"
COMPARISON_JSON = "comparison.json"
COMPARISON_CSV = "comparison.csv"


def checkpoint_model(phase: str, epoch: int) -> str:
    """The checkpoint file of ``epoch`` of ``phase``: ``train-epoch-0003.keras``."""
    return f"{phase}-epoch-{epoch:04d}.keras"


REPORT_FIGURES = ("history", "confusion", "roc-pr", "calibration", "per-source", "gradcam")
"""The report's figures; each is ``plots/<figure>.png``, or ``plots/<figure>-<split>.png``."""


def plot(figure: str, split: str | None = None) -> str:
    """The file of a report figure: ``plots/roc-pr-test.png`` for ``("roc-pr", "test")``."""
    if figure not in REPORT_FIGURES:
        raise ValueError(f"unknown report figure {figure!r}")
    return f"{PLOTS}/{figure}{'' if split is None else '-' + split}.png"


def checklist_md(name: str) -> str:
    """The Markdown of a reporting checklist: ``checklists/claim.md`` for ``claim``."""
    return f"{CHECKLISTS}/{name}.md"


def checklist_json(name: str) -> str:
    """The JSON of a reporting checklist: ``checklists/claim.json`` for ``claim``."""
    return f"{CHECKLISTS}/{name}.json"


def onnx_variant(name: str) -> str:
    """The file of an exported variant: ``model.int8.onnx`` for ``int8``."""
    stem = ONNX.removesuffix(".onnx")
    return f"{stem}.{name}.onnx"
