"""The gates an exported file must pass before it is written.

fp32 is held to the Keras model it came from: max |diff| of the class
probabilities at most ``fp32_tolerance``, and no label flip where the Keras
probability is farther than that from the decision boundary (a flip closer
than that is rounding; the max |diff| still bounds it).

int8 and fp16 are lossy by design, so they are held to the fp32 ONNX model on
the same validation images: the fraction of images keeping their fp32 label,
and the accuracy and ROC AUC they lose. A variant that fails is not written
unless the caller allows degraded variants.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import BamnetError
from .parity import ParityResult


class GateError(BamnetError):
    """A reduced-precision variant failed its gate and was not written."""


@dataclass(frozen=True)
class GateLimits:
    """The limits of every gate (the ``bamnet export`` options of the same names).

    :param fp32_tolerance: max |diff| between fp32 ONNX and Keras probabilities.
    :param min_label_agreement: least fraction of validation images a variant
        must label as fp32 does.
    :param max_accuracy_drop: most validation accuracy, in percentage points, a
        variant may lose against fp32.
    :param max_auc_drop: most validation ROC AUC a variant may lose against fp32.
    """

    fp32_tolerance: float = 1e-4
    min_label_agreement: float = 0.99
    max_accuracy_drop: float = 0.5
    max_auc_drop: float = 0.005

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            option = "--" + name.replace("_", "-")
            if not math.isfinite(value) or value < 0:
                raise GateError(f"{option} must be a finite number >= 0, not {value}",
                                hint=f"e.g. {option} {getattr(GateLimits, name)}")
        if self.min_label_agreement > 1:
            raise GateError(f"--min-label-agreement is a fraction, not {self.min_label_agreement}",
                            hint="e.g. --min-label-agreement 0.99 (99% of images keep their label)")


@dataclass
class GateResult:
    """One model's gate: what was checked, against which limit, and the verdict."""

    model: str
    against: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return all(c["passed"] for c in self.checks)

    def add(self, name: str, value: float | None, limit: float, rule: str) -> None:
        """Record one check; ``rule`` is ``"<="`` or ``">="``; an unmeasured value passes."""
        ok = value is None or (value <= limit if rule == "<=" else value >= limit)
        self.checks.append({"check": name, "value": value, "rule": rule, "limit": limit,
                            "passed": bool(ok)})

    def summary(self) -> str:
        """``label_agreement 0.93 >= 0.99 FAILED; ...``, for messages."""
        def fmt(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.4g}"
        return "; ".join(f"{c['check']} {fmt(c['value'])} {c['rule']} {fmt(c['limit'])}"
                         + ("" if c["passed"] else " FAILED") for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``export-report.json``."""
        return {"against": self.against, "passed": self.passed, "written": self.written,
                "checks": self.checks}


def fp32_gate(parity: ParityResult, limits: GateLimits) -> GateResult:
    """The fp32 model's gate against Keras."""
    gate = GateResult("fp32", "keras")
    gate.add("max_abs_diff", parity.max_abs_diff, limits.fp32_tolerance, "<=")
    gate.add("decisive_label_flips", parity.mismatched_labels, 0, "<=")
    return gate


def variant_gate(name: str, labels: list[str], fp32_labels: list[str],
                 quality: dict[str, Any], fp32_quality: dict[str, Any],
                 limits: GateLimits) -> GateResult:
    """A reduced-precision variant's gate against the fp32 ONNX model."""
    gate = GateResult(name, "fp32")
    agreement = float(np.mean([a == b for a, b in zip(labels, fp32_labels, strict=True)])) \
        if labels else None
    gate.add("label_agreement", agreement, limits.min_label_agreement, ">=")
    drop = 100 * (fp32_quality["accuracy"] - quality["accuracy"])
    gate.add("accuracy_drop_points", round(drop, 6), limits.max_accuracy_drop, "<=")
    auc_drop = None
    if quality.get("roc_auc") is not None and fp32_quality.get("roc_auc") is not None:
        auc_drop = round(fp32_quality["roc_auc"] - quality["roc_auc"], 6)
    gate.add("roc_auc_drop", auc_drop, limits.max_auc_drop, "<=")
    return gate
