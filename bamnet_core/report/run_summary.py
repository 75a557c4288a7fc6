"""What a run was, in one line: its data (sources, image counts), backbone, input, epochs.

Claimed vs reproduced, ``bamnet compare`` and the model card put it beside every
number, so a 128-px small CNN on phantoms is never read as the paper's VGG16.
"""

from __future__ import annotations

from typing import Any

from .record import RunRecord

# Sources whose images are made by code, not taken from patients.
PHANTOM_SOURCES = {"synthetic-cxr"}


def data_description(record: RunRecord) -> str:
    """E.g. ``"1082 real images from 5 sources (ieee8023 428, kermany 300, ...)"``."""
    by_source: dict[str, dict[str, int]] = record.audit.get("by_source") or {}
    generator = (record.metrics.get("generator") or {}).get("name")
    real = {src: sum(c.values()) for src, c in by_source.items() if src != generator}
    if not real:
        return f"data: {record.config.get('data', {}).get('source') or 'unknown'}"
    total = sum(real.values())
    phantoms = [s for s in real if s in PHANTOM_SOURCES]
    kind = "synthetic phantoms" if phantoms and len(phantoms) == len(real) else "images"
    listed = ", ".join(f"{src} {n}" for src, n in sorted(real.items(), key=lambda kv: -kv[1]))
    made = int((record.metrics.get("generator") or {}).get("synthetic") or 0)
    extra = f" + {made} generated for training" if made else ""
    plural = "s" if len(real) > 1 else ""
    return f"{total} {kind} from {len(real)} source{plural} ({listed}){extra}"


def model_description(config: dict[str, Any]) -> str:
    """E.g. ``"small-cnn (weights none), 128 px, 3 epochs"``."""
    backbone = config.get("backbone") or {}
    weights = backbone.get("weights")
    train = config.get("train") or {}
    finetune = (train.get("finetune") or {}).get("epochs") or 0
    epochs = f"{train.get('epochs', '?')} epochs" + (f" + {finetune} fine-tuning" if finetune
                                                     else "")
    return (f"{backbone.get('name', '?')}" + (f" (weights {weights})" if weights else "")
            + f", {(config.get('preprocess') or {}).get('size', '?')} px, {epochs}")


def run_description(record: RunRecord) -> str:
    """The data and the model of a run, in one line."""
    return f"{data_description(record)}; {model_description(record.config)}"
