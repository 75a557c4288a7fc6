"""Training on several devices of one host: ``[train] distribution``.

``"none"`` trains on one device. ``"mirrored"`` keeps one copy of the model
per device and averages gradients: ``tf.distribute.MirroredStrategy`` on the
TensorFlow backend (every GPU, or every logical CPU when there is no GPU),
``keras.distribution.DataParallel`` on the JAX backend. ``"auto"`` mirrors
when more than one GPU (TensorFlow) or accelerator (JAX) is visible, and
otherwise trains on one device.

``[train] batch_size`` is the *global* batch: each step sees the same images
whatever the number of replicas, split evenly over them, so a run on two
devices follows the run on one (up to the order of floating-point sums, and
batch-normalisation statistics, which each replica computes on its share).
Everything that creates or loads the model, compiles it and fits it must run
inside :meth:`Placement.scope`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

SETTINGS = ("auto", "none", "mirrored")


@dataclass
class Placement:
    """Where training runs: the strategy and its devices.

    :param kind: ``"none"``, ``"mirrored"`` (TensorFlow) or ``"data-parallel"`` (JAX).
    :param devices: the device names holding one replica each.
    """

    kind: str
    devices: list[str]
    strategy: Any = field(default=None, repr=False)

    @property
    def replicas(self) -> int:
        """How many copies of the model train side by side."""
        return max(1, len(self.devices))

    @contextmanager
    def scope(self) -> Iterator[None]:
        """The context in which to build, load, compile and fit the model."""
        with self.strategy.scope() if self.strategy is not None else nullcontext():
            yield

    def describe(self, batch_size: int) -> dict[str, Any]:
        """The part of ``meta.json`` saying how training was spread over devices."""
        return {"distribution": self.kind, "replicas": self.replicas,
                "devices": list(self.devices), "global_batch_size": batch_size,
                "batch_size_per_replica": batch_size // self.replicas}


@functools.cache
def _mirrored(devices: tuple[str, ...]) -> Any:
    """One MirroredStrategy per device set and process: a second strategy over the same
    devices reuses the first one's collective instance keys, and TensorFlow then mixes up
    the two models' gradient reductions (shape mismatch in the collective)."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=list(devices))


def _tensorflow(setting: str) -> Placement:
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    devices = gpus if gpus else cpus
    if setting == "none" or (setting == "auto" and len(gpus) < 2) or len(devices) < 2:
        return Placement("none", devices[:1])
    return Placement("mirrored", devices, _mirrored(tuple(devices)))


def _jax(setting: str) -> Placement:
    import keras

    devices = keras.distribution.list_devices()
    accelerators = [d for d in devices if not d.lower().startswith("cpu")]
    if setting == "none" or (setting == "auto" and len(accelerators) < 2) or len(devices) < 2:
        return Placement("none", devices[:1])
    return Placement("data-parallel", devices, keras.distribution.DataParallel(devices=devices))


def placement(setting: str, batch_size: int) -> Placement:
    """The placement ``[train] distribution = setting`` asks for on this machine.

    :raises ConfigError: for an unknown setting, a backend without
        multi-device support, or a global batch that does not split evenly.
    """
    import keras

    if setting not in SETTINGS:
        raise ConfigError(f"train.distribution {setting!r} is not one of {', '.join(SETTINGS)}",
                          hint='use "auto", "none" or "mirrored"')
    backend = keras.backend.backend()
    if backend == "tensorflow":
        chosen = _tensorflow(setting)
    elif backend == "jax":
        chosen = _jax(setting)
    elif setting == "mirrored":
        raise ConfigError(f"train.distribution = \"mirrored\" is not supported on the {backend} "
                          "backend", hint="use KERAS_BACKEND=tensorflow or jax")
    else:
        chosen = Placement("none", ["default"])
    check_batch(chosen, batch_size)
    return chosen


def check_batch(where: Placement, batch_size: int) -> None:
    """Refuse a global batch that does not split evenly over the replicas."""
    if batch_size % where.replicas:
        raise ConfigError(f"train.batch_size {batch_size} does not split evenly over "
                          f"{where.replicas} devices ({', '.join(where.devices)})",
                          hint=f"set train.batch_size to a multiple of {where.replicas}")
