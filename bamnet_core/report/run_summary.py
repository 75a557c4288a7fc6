"""What a run was, in one line: its data (sources, image counts), backbone, input, epochs.

Claimed vs reproduced, ``bamnet compare`` and the model card put it beside every
number, so a 128-px small CNN on phantoms is never read as the paper's VGG16.
"""

from __future__ import annotations

from ..config.resolved import Config
from .record import RunRecord

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
