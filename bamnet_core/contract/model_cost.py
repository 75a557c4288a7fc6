"""What one forward pass of a Keras model costs, counted from its layers.

Evaluators that run the full model again on new pixels (occlusion, Grad-CAM)
size their work by it, so a large model (VGG16 at 224x224, about 31 GFLOP an
image) does fewer extra passes than a small one, the same on every machine.
"""

from __future__ import annotations

from typing import Any


def _layers(model: Any) -> list[Any]:
    found = []
    for layer in getattr(model, "layers", []):
        found.extend(_layers(layer) if hasattr(layer, "layers") else [layer])
    return found


def forward_flops(model: Any) -> float:
    """FLOPs of one image's forward pass: 2 x the multiply-adds of its ``Conv2D`` and ``Dense``
    layers (nested models included; other layers are cheap next to them and not counted)."""
    total = 0.0
    for layer in _layers(model):
        kind = type(layer).__name__
        if kind == "Conv2D":
            h, w, c_out = layer.output.shape[1:]
            k_h, k_w = layer.kernel_size
            c_in = layer.input.shape[-1]
            total += 2.0 * h * w * k_h * k_w * c_in * c_out / max(1, getattr(layer, "groups", 1))
        elif kind == "Dense":
            total += 2.0 * layer.input.shape[-1] * layer.units
    return total


def images_within(model: Any, budget_gflop: float, *, least: int, most: int) -> int:
    """How many images fit ``budget_gflop`` of forward passes of ``model``, kept within
    ``least`` .. ``most`` (``most`` 0 = no upper bound)."""
    cost = forward_flops(model) / 1e9
    fits = int(budget_gflop // cost) if cost > 0 else most or least
    return max(least, min(fits, most) if most else fits)
