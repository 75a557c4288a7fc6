"""What a bamnet ONNX file says about itself: the ``bamnet.*`` metadata keys.

Export writes these into the model's ``metadata_props``; scoring reads them
back through onnxruntime, so a model file is all a scorer needs: the class
names, the decision rule and the exact preprocessing it was trained with.

This module imports neither TensorFlow nor onnx: scoring depends on it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import BamnetError
from ..imaging.preprocess import PreprocessSpec

PREFIX = "bamnet."
# key -> meaning; docs/export-and-scoring.md lists the same table.
KEYS = {
    "bamnet.format": "metadata layout version (1)",
    "bamnet.classes": "JSON list of class names, in output order",
    "bamnet.positive": "the positive class",
    "bamnet.threshold": "decision threshold on the positive-class probability",
    "bamnet.preprocess": "PreprocessSpec JSON (size, channels, scaling, interpolation, aspect)",
    "bamnet.version": "bamnet version that exported the model",
    "bamnet.config_sha256": "sha256 of the run's resolved config.toml",
    "bamnet.run": "name of the run folder the model came from",
    "bamnet.metrics": "JSON of the run's validation metrics (metrics.json splits.val)",
    "bamnet.precision": "fp32, int8 or fp16",
    "bamnet.input": "name of the input tensor (NHWC float32, batch dimension 'batch')",
    "bamnet.verdict": "JSON of the run's verdict: reading, sentence and its text lines",
    "bamnet.threshold_source": "where the run's decision threshold was chosen, in words",
}
FORMAT = "1"
# What a model's metadata may claim, checked before any image is read (documented in
# docs/export-and-scoring.md); the input size is bounded by PreprocessSpec (MAX_SIZE).
PRECISIONS = ("fp32", "int8", "fp16")  # what `bamnet export` writes in bamnet.precision
MAX_CLASSES = 1000
MAX_CLASS_NAME = 100  # characters


class ModelFileError(BamnetError):
    """An ONNX file is missing, unreadable, or carries no bamnet metadata."""


@dataclass(frozen=True)
class ModelInfo:
    """The decision rule and preprocessing a bamnet ONNX file carries.

    :param classes: class names in output order.
    :param positive: the positive class.
    :param threshold: the positive-class probability at or above which an
        image is called positive; otherwise it gets the most probable other class.
    :param spec: the preprocessing the model was trained with.
    :param precision: ``fp32``, ``int8`` or ``fp16``.
    :param extra: every other ``bamnet.*`` key, as stored.
    """

    classes: list[str]
    positive: str
    threshold: float
    spec: PreprocessSpec
    precision: str = "fp32"
    extra: dict[str, str] = field(default_factory=dict)

    def to_props(self, **extra: Any) -> dict[str, str]:
        """The ``metadata_props`` key/value strings (``extra`` values JSON-encoded if not str)."""
        props = {
            "bamnet.format": FORMAT,
            "bamnet.classes": json.dumps(self.classes),
            "bamnet.positive": self.positive,
            "bamnet.threshold": repr(float(self.threshold)),
            "bamnet.preprocess": self.spec.to_json(),
            "bamnet.precision": self.precision,
        }
        for key, value in {**self.extra, **extra}.items():
            name = key if key.startswith(PREFIX) else PREFIX + key
            props[name] = value if isinstance(value, str) else json.dumps(value, default=str)
        return props

    @classmethod
    def from_props(cls, props: dict[str, str], *, source: str = "model") -> ModelInfo:
        """Parse ``metadata_props``; raise :class:`ModelFileError` naming what is missing."""
        missing = [k for k in ("bamnet.classes", "bamnet.positive", "bamnet.threshold",
                               "bamnet.preprocess") if k not in props]
        if missing:
            raise ModelFileError(
                f"{source} carries no bamnet metadata (missing {', '.join(missing)})",
                hint="score models made by `bamnet export RUN_DIR --onnx`; they embed the "
                     "preprocessing and the decision rule")
        try:
            classes = json.loads(props["bamnet.classes"])
            spec = PreprocessSpec.from_json(props["bamnet.preprocess"])  # bounded, keys checked
            threshold = float(props["bamnet.threshold"])
        except (ValueError, TypeError, RecursionError, BamnetError) as exc:
            raise ModelFileError(f"{source} has malformed bamnet metadata: {exc}",
                                 hint="re-export the model with `bamnet export`") from None
        precision = props.get("bamnet.precision", "fp32")
        problem = _rule_problem(classes, props["bamnet.positive"], threshold) or \
            _precision_problem(precision)
        if problem:
            raise ModelFileError(f"{source} has malformed bamnet metadata: {problem}",
                                 hint="re-export the model with `bamnet export`")
        known = {"bamnet.classes", "bamnet.positive", "bamnet.threshold", "bamnet.preprocess",
                 "bamnet.precision"}
        extra = {k: v for k, v in props.items() if k.startswith(PREFIX) and k not in known}
        return cls(classes=list(classes), positive=props["bamnet.positive"],
                   threshold=threshold, spec=spec,
                   precision=precision, extra=extra)


def _precision_problem(precision: str) -> str | None:
    """What is wrong with ``bamnet.precision`` (it is shown to users), or None."""
    if precision in PRECISIONS:
        return None
    shown = repr(precision[:40]) + ("..." if len(precision) > 40 else "")
    return f"bamnet.precision must be one of {', '.join(PRECISIONS)}, got {shown}"


def _rule_problem(classes: Any, positive: str, threshold: float) -> str | None:
    """What is wrong with a decision rule read from metadata, or None."""
    if not isinstance(classes, list) or not 2 <= len(classes) <= MAX_CLASSES or \
            not all(isinstance(c, str) for c in classes) or len(set(classes)) != len(classes):
        shown = repr(classes) if len(repr(classes)) <= 200 else repr(classes)[:200] + "..."
        return (f"bamnet.classes must list 2 to {MAX_CLASSES} distinct names, got "
                f"{shown}")
    for name in classes:
        if not 1 <= len(name) <= MAX_CLASS_NAME or not name.isprintable() or \
                name != name.strip():
            return (f"class name {name[:MAX_CLASS_NAME]!r} must be 1 to {MAX_CLASS_NAME} "
                    "printable characters, without line breaks or surrounding spaces")
    if positive not in classes:
        return f"the positive class {positive!r} is not among the classes {classes}"
    if not math.isfinite(threshold) or not 0.0 <= threshold <= 1.0:
        return f"bamnet.threshold must be in [0, 1], got {threshold!r}"
    return None


def set_metadata(model: Any, props: dict[str, str]) -> None:
    """Replace the ``bamnet.*`` entries of an ``onnx.ModelProto``'s ``metadata_props``."""
    keep = [(p.key, p.value) for p in model.metadata_props if not p.key.startswith(PREFIX)]
    del model.metadata_props[:]
    for key, value in [*keep, *props.items()]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
