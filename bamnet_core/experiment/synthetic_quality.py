"""Judge the generator's images after training: the evaluators that are ``SyntheticAssessor``s.

They compare the synthetic training images with the real training images of
the same class, in the trained classifier's penultimate layer (the feature
space every run has, offline) and wherever else they choose. Each is contained
like any evaluator: a failure is recorded, the run's other results stand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..contract.protocols import SyntheticAssessor
from ..errors import BamnetError
from ..imaging.preprocess import PreprocessSpec
from ..runs import layout
from ..runs.folder import RunFolder
from .evaluation import NotJSON, plain_json


def assessors(config: Config) -> dict[str, Any]:
    """The configured evaluators that judge synthetic images."""
    return {name: ev for name, ev in config.components.evaluators.items()
            if isinstance(ev, SyntheticAssessor)}


def _stage_to(current: Any, layer: Any) -> Any:
    """A model from ``current``'s inputs to the tensor(s) ``layer`` was called on there.

    ``layer.input`` is not it for a nested model: that is the nested model's own input.
    A layer may have been called in other graphs since (a sub-model built from an
    intermediate tensor, as Grad-CAM does, calls it again), so the newest call
    connected to ``current``'s inputs is taken.
    """
    import keras

    inputs = current.inputs[0] if len(current.inputs) == 1 else current.inputs
    for node in reversed(layer._inbound_nodes):
        tensors = node.input_tensors
        try:
            return keras.Model(inputs, tensors[0] if len(tensors) == 1 else tensors)
        except ValueError:  # a call in another graph
            continue
    raise ValueError(f"layer {layer.name!r} is not called in model {current.name!r}")


def penultimate_embedding(model: Any) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """``(embed, space)``: images -> the input of the classifier's last layer, and its name.

    A model composed of an extractor and a head (nested models) is followed
    into its last nested model, so the space is the head's penultimate layer.
    """
    import keras

    stages, path, current = [], [model.name], model
    while True:
        last = current.layers[-1]
        stages.append(_stage_to(current, last))
        if not isinstance(last, keras.Model):
            path.append(f"input of {last.name}")
            break
        path.append(last.name)
        current = last

    def embed(x: np.ndarray) -> np.ndarray:
        rows = []
        for start in range(0, len(x), 64):  # direct calls: no predict function per stage
            out = x[start:start + 64]
            for stage in stages:
                out = stage(out, training=False)
            rows.append(keras.ops.convert_to_numpy(out).reshape(len(out), -1))
        return np.concatenate(rows).astype(np.float64)

    return embed, "classifier penultimate layer (" + " > ".join(path) + ")"


def assess_synthetic(config: Config, model: Any, train: Any, spec: PreprocessSpec,
                     run: RunFolder, progress: ProgressCallback) -> dict[str, Any] | None:
    """Run every :class:`SyntheticAssessor` evaluator on the training split's images.

    :param train: the decoded training split (``x`` and ``samples``, aligned).
    :returns: evaluator name -> results (or ``{"error": ...}``); None when none is configured.
    """
    chosen = assessors(config)
    if not chosen:
        return None
    label = config.generator.balance_class
    synthetic = [i for i, s in enumerate(train.samples) if s.synthetic]
    real = [i for i, s in enumerate(train.samples) if s.label == label and not s.synthetic]
    if not synthetic or not real:
        why = "the run made no synthetic images" if not synthetic else \
            f"no real {label!r} training image decoded"
        return {name: {"skipped": why} for name in chosen}
    embed, space = penultimate_embedding(model)
    results: dict[str, Any] = {}
    for name, evaluator in chosen.items():
        reg = config.components.registrations[f"evaluate.{name}"]
        progress(ProgressEvent("gan-quality", 0, None, f"{name}: {len(synthetic)} synthetic "
                               f"vs {len(real)} real images"))
        try:
            raw = evaluator.assess(train.x[real], train.x[synthetic], embed=embed, space=space,
                                   spec=spec, outdir=run.file(layout.GENERATOR_QUALITY),
                                   real_paths=[train.samples[i].path for i in real],
                                   synthetic_paths=[train.samples[i].path for i in synthetic])
            if not isinstance(raw, dict):
                raise NotJSON(f"result is a {type(raw).__name__}, not a dict")
            results[name] = {**plain_json(raw), "folder": layout.GENERATOR_QUALITY}
        except NotJSON as exc:
            results[name] = {"error": f"{reg.label} from plugin {reg.distribution!r} returned "
                                      f"bad results: {exc}"}
        except BamnetError as exc:  # a PluginFault too: contained by the fault boundary
            results[name] = {"error": exc.message}
    return results
