"""Training on several devices or hosts: ``[train] distribution``.

``"none"`` trains on one device. ``"mirrored"`` keeps one copy of the model
per device and averages gradients: ``tf.distribute.MirroredStrategy`` on the
TensorFlow backend (every GPU, or every logical CPU when there is no GPU),
``keras.distribution.DataParallel`` on the JAX backend. ``"auto"`` mirrors
when more than one GPU (TensorFlow) or accelerator (JAX) is visible, and
otherwise trains on one device. ``"multi-worker"`` trains with
``tf.distribute.MultiWorkerMirroredStrategy`` over the processes ``TF_CONFIG``
names (:mod:`.cluster`), one replica per device of each; ``"auto"`` chooses
it when ``TF_CONFIG`` names two or more. TensorFlow only lets that strategy
be created before it runs any op, so a run creates it first
(:func:`placement` returns the same one every time in a process).

``[train] batch_size`` is the *global* batch: each step sees the same images
whatever the number of replicas, split evenly over them, so a run on two
devices follows the run on one (up to the order of floating-point sums, and
batch-normalisation statistics, which each replica computes on its share).
Everything that creates or loads the model, compiles it and fits it must run
inside :meth:`Placement.scope`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError, RunError
from .cluster import Cluster, from_environment

SETTINGS = ("auto", "none", "mirrored", "multi-worker")
# TensorFlow's errors when a collective operation loses a peer (named: no TensorFlow import here)
LOST_WORKER = ("UnavailableError", "AbortedError", "CancelledError", "DeadlineExceededError")


@dataclass
class Placement:
    """Where training runs: the strategy and its devices.

    :param kind: ``"none"``, ``"mirrored"``, ``"multi-worker"`` (TensorFlow) or
        ``"data-parallel"`` (JAX).
    :param devices: this process's device names, holding one replica each.
    :param cluster: the processes training together (``"multi-worker"`` only).
    """

    kind: str
    devices: list[str]
    strategy: Any = field(default=None, repr=False)
    cluster: Cluster | None = None

    @property
    def workers(self) -> int:
        """How many processes train together (TensorFlow gives each as many devices)."""
        return self.cluster.workers if self.cluster is not None else 1

    @property
    def replicas(self) -> int:
        """How many copies of the model train side by side, over all workers."""
        return max(1, len(self.devices)) * self.workers

    @contextmanager
    def scope(self) -> Iterator[None]:
        """The context in which to build, load, compile and fit the model.

        :raises RunError: a multi-worker run lost a worker (TensorFlow's collective
            operations were aborted or could not reach it).
        """
        with self.strategy.scope() if self.strategy is not None else nullcontext():
            try:
                yield
            except Exception as exc:
                if self.cluster is None or type(exc).__name__ not in LOST_WORKER:
                    raise
                first = str(exc).strip().splitlines()[-1][:160] if str(exc).strip() else ""
                raise RunError(f"{self.cluster.describe()} lost contact with another worker "
                               f"during training ({type(exc).__name__}: {first})",
                               hint="check that every worker is running and reachable, then "
                                    "see docs/multi-worker.md, 'When something fails'") from exc

    def describe(self, batch_size: int) -> dict[str, Any]:
        """The part of ``meta.json`` saying how training was spread over devices."""
        return {"distribution": self.kind, "replicas": self.replicas, "workers": self.workers,
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


def wanted_cluster(setting: str, environ: Mapping[str, str] | None = None) -> Cluster | None:
    """The cluster ``[train] distribution = setting`` trains over; None for one process.

    ``"multi-worker"`` needs ``TF_CONFIG``; ``"auto"`` uses it when it names two or
    more workers; ``"none"`` and ``"mirrored"`` ignore it. Needs no TensorFlow.

    :param environ: where to read ``TF_CONFIG`` (default: this process's environment).
    :raises ConfigError: ``TF_CONFIG`` is malformed, or missing for ``"multi-worker"``.
    """
    if setting not in ("auto", "multi-worker"):
        return None
    found = from_environment(os.environ if environ is None else environ)
    if setting == "multi-worker" and found is None:
        raise ConfigError('train.distribution = "multi-worker" needs TF_CONFIG naming the '
                          "workers, and it is not set",
                          hint="set TF_CONFIG on every worker (see docs/multi-worker.md), or "
                               'use train.distribution = "auto"')
    return found if found is not None and (setting == "multi-worker" or found.workers > 1) \
        else None


@functools.cache
def _collective_strategy() -> Any:
    """The process's one MultiWorkerMirroredStrategy (TensorFlow allows one, made first).

    Keras 3 (3.15) reduces through ``strategy.reduce`` in two ways this strategy
    refuses in multi-worker mode (keras-team/keras#20585): a whole input batch,
    only to read its shapes before building, and each scalar metric with
    ``axis=0``. The subclass answers the first with this worker's own batch
    (no communication) and reduces scalars over all replicas, as Keras means.
    """
    import tensorflow as tf

    class KerasCollectiveStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op: Any, value: Any, axis: Any) -> Any:
            if isinstance(value, (tuple, list, dict)):
                return tf.nest.map_structure(
                    lambda v: self.experimental_local_results(v)[0], value)
            if axis is not None and all(t.shape.rank == 0
                                        for t in self.experimental_local_results(value)):
                axis = None
            return super().reduce(reduce_op, value, axis)

    try:
        return KerasCollectiveStrategy()
    except RuntimeError as exc:  # "Collective ops must be configured at program startup"
        raise ConfigError(f"multi-worker training must start before TensorFlow runs any "
                          f"operation in this process ({exc})",
                          hint="call bamnet_core.train.distribution.placement first in the "
                               "process, before building or running any model") from None


def _multi_worker(cluster: Cluster) -> Placement:
    strategy = _collective_strategy()
    return Placement("multi-worker", list(strategy.extended.worker_devices), strategy, cluster)


def placement(setting: str, batch_size: int, environ: Mapping[str, str] | None = None
              ) -> Placement:
    """The placement ``[train] distribution = setting`` asks for on this machine.

    :param environ: where to read ``TF_CONFIG`` (default: this process's environment).
    :raises ConfigError: for an unknown setting, a backend without
        multi-device support, a malformed ``TF_CONFIG``, or a global batch that
        does not split evenly.
    """
    import keras

    if setting not in SETTINGS:
        raise ConfigError(f"train.distribution {setting!r} is not one of {', '.join(SETTINGS)}",
                          hint='use "auto", "none", "mirrored" or "multi-worker"')
    backend = keras.backend.backend()
    cluster = wanted_cluster(setting, environ)
    if cluster is not None and backend != "tensorflow":
        raise ConfigError(f"train.distribution: multi-worker training (TF_CONFIG names "
                          f"{cluster.workers} workers) needs the TensorFlow backend, not "
                          f"{backend}",
                          hint="run with KERAS_BACKEND=tensorflow, or unset TF_CONFIG and use "
                               'train.distribution = "auto"')
    if cluster is not None:
        chosen = _multi_worker(cluster)
    elif backend == "tensorflow":
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
        spread = f" on each of {where.workers} workers" if where.workers > 1 else ""
        raise ConfigError(f"train.batch_size {batch_size} does not split evenly over "
                          f"{where.replicas} devices ({', '.join(where.devices)}{spread})",
                          hint=f"set train.batch_size to a multiple of {where.replicas}")
