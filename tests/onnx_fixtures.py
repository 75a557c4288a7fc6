"""Tiny ONNX models built with ``onnx.helper``: no training, no TensorFlow.

Used to check what scoring does with model files whose metadata is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def write_tiny_model(path: Path, *, size: int = 8, outputs: int = 2,
                     classes: list[str] | None = None, positive: str = "covid",
                     threshold: str = "0.5", spec_size: int | None = None,
                     extra: dict[str, str] | None = None) -> Path:
    """A (batch, size, size, 1) -> softmax(outputs) model with bamnet metadata (``extra``:
    more ``bamnet.*`` keys, as export writes them)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    classes = classes if classes is not None else ["normal", "covid"]
    weights = np.random.default_rng(0).normal(size=(size * size, outputs)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["image"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["logits"]),
         helper.make_node("Softmax", ["logits"], ["probs"], axis=1)],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", size, size, 1])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", outputs])],
        [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    spec = {"size": spec_size or size, "channels": 1, "scaling": "unit",
            "interpolation": "area", "aspect": "stretch"}
    props = {"bamnet.format": "1", "bamnet.classes": json.dumps(classes),
             "bamnet.positive": positive, "bamnet.threshold": threshold,
             "bamnet.preprocess": json.dumps(spec), **(extra or {})}
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path
