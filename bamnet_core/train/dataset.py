"""The training input pipeline: batches as a pure function of (epoch, step), fed to any backend.

Images arrive as arrays decoded by :mod:`bamnet_core.data.loading` (a thread pool,
all cores): at 224x224x3 float32 an image is 0.6 MB, so the paper's 2,000
images take 1.2 GB of RAM, which fits the machines we target; decoding once up
front also makes every epoch after the first pay nothing for JPEG decoding.

:class:`Batches` makes batch ``step`` of ``epoch``: it gathers the examples by
index and augments them on the host (:mod:`bamnet_core.train.augment`). The
order of each epoch is a permutation seeded by (``seed``, epoch), and a batch's
augmentation is seeded by (``seed``, epoch, step), so a batch is the same
whoever builds it and whenever, and a resumed run sees exactly the batches an
uninterrupted one would have. Two feeders hand the batches to Keras:

- :func:`keras_batches`, a ``keras.utils.PyDataset`` (no TensorFlow needed), for
  JAX and PyTorch; with augmentation on, worker threads build the next batches
  while the model trains (OpenCV releases the GIL). It counts epochs itself:
  Keras calls ``on_epoch_end`` after every epoch, once its workers have stopped.
- :func:`tf_batches`, a ``tf.data`` pipeline over the (epoch, step) pairs still
  to run, for the TensorFlow backend. Keras would turn a PyDataset into
  ``tf.data.Dataset.from_generator``, whose generator thread can still be
  inside Python when an interrupt unwinds the fit, and TensorFlow then frees
  it under that thread (heap corruption on SIGTERM, seen in the signal tests);
  a ``tf.data`` map over stateless calls has no such state, and
  ``tf.distribute`` shards it natively over several devices and workers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config.schema import AugmentSection
from ..imaging.preprocess import PreprocessSpec
from .augment import augment_batch, augment_enabled, batch_rng, epoch_seed

#: Most worker threads that build batches ahead of the model (augmentation on, PyDataset).
MAX_WORKERS = 4


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of ``n`` training examples in ``epoch`` (0-based)."""
    return np.random.default_rng(epoch_seed(seed, epoch, 1)).permutation(n)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one epoch; the last one may be short."""
    return max(1, -(-n // batch_size))


def epoch_indices(n: int, batch_size: int, seed: int, epoch: int,
                  full_batches: bool = False) -> np.ndarray:
    """The example indices of ``epoch`` in batch order.

    :param full_batches: fill a short last batch with the epoch's first examples,
        so every batch splits evenly over several devices (a short batch would not).
    """
    order = epoch_order(n, seed, epoch)
    if full_batches and len(order) % batch_size:
        order = np.concatenate([order, np.resize(order, batch_size - len(order) % batch_size)])
    return order


@dataclass(frozen=True, eq=False)
class Batches:
    """Batch ``step`` of ``epoch`` of the training arrays, the same every time it is asked for.

    :param augment: ``[train.augment]``, or None for no augmentation (cached features).
    :param spec: the preprocessing of ``x``; needed only when augmenting.
    :param full_batches: every batch full (see :func:`epoch_indices`); for several devices.
    """

    x: np.ndarray
    y: np.ndarray
    batch_size: int
    seed: int
    augment: AugmentSection | None = None
    spec: PreprocessSpec | None = None
    full_batches: bool = False

    @property
    def augmenting(self) -> bool:
        """Whether batches are augmented."""
        return self.augment is not None and self.spec is not None and \
            augment_enabled(self.augment)

    @property
    def steps(self) -> int:
        """Batches in every epoch."""
        n = len(self.x)
        if self.full_batches and n % self.batch_size:
            n += self.batch_size - n % self.batch_size
        return steps_per_epoch(n, self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of ``epoch`` in batch order (cached for the last few epochs)."""
        return _order(len(self.x), self.batch_size, self.seed, epoch, self.full_batches)

    def __call__(self, epoch: int, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Images (float32) and labels (int64) of batch ``step`` of ``epoch``."""
        idx = self.order(epoch)[step * self.batch_size:(step + 1) * self.batch_size]
        images = np.asarray(self.x[idx], dtype=np.float32)
        if self.augmenting:
            images = augment_batch(images, self.augment, self.spec,
                                   batch_rng(self.seed, epoch, step))
        return images, np.asarray(self.y[idx], dtype=np.int64)


@functools.lru_cache(maxsize=4)
def _order(n: int, batch_size: int, seed: int, epoch: int, full: bool) -> np.ndarray:
    order = epoch_indices(n, batch_size, seed, epoch, full)
    order.setflags(write=False)
    return order


@functools.cache
def _batches_class() -> type:
    """The PyDataset subclass (built on first use: importing Keras is slow)."""
    import keras

    class TrainBatches(keras.utils.PyDataset):
        """One epoch of :class:`Batches` at a time, from ``start_epoch`` on."""

        def __init__(self, batches: Batches, start_epoch: int, workers: int) -> None:
            super().__init__(workers=workers, use_multiprocessing=False,
                             max_queue_size=2 * workers)
            self.batches, self.epoch = batches, start_epoch

        def __len__(self) -> int:
            return self.batches.steps

        def __getitem__(self, step: int) -> tuple[np.ndarray, np.ndarray]:
            return self.batches(self.epoch, step)

        def on_epoch_end(self) -> None:
            self.epoch += 1

    return TrainBatches


def keras_batches(batches: Batches, *, start_epoch: int, workers: int | None = None) -> Any:
    """``batches`` as a ``keras.utils.PyDataset`` starting at ``start_epoch`` (any backend).

    :param workers: threads building batches ahead; default one per core (up to
        :data:`MAX_WORKERS`) with augmentation on, else none (gathering is cheap).
    """
    if workers is None:
        workers = min(MAX_WORKERS, os.cpu_count() or 1) if batches.augmenting else 1
    return _batches_class()(batches, start_epoch, max(1, workers))


def tf_batches(batches: Batches, *, start_epoch: int, end_epoch: int) -> Any:
    """``batches`` for epochs ``start_epoch`` .. ``end_epoch - 1``, back to back, as a
    ``tf.data.Dataset`` (the TensorFlow backend; fit it with ``steps_per_epoch``)."""
    import tensorflow as tf

    pairs = np.array([(epoch, step) for epoch in range(start_epoch, end_epoch)
                      for step in range(batches.steps)], dtype=np.int64)

    def make(epoch: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return batches(int(epoch), int(step))

    shape = (None, *batches.x.shape[1:])
    ds = tf.data.Dataset.from_tensor_slices((pairs[:, 0], pairs[:, 1]))
    ds = ds.map(lambda e, s: tf.numpy_function(make, [e, s], [tf.float32, tf.int64]),
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.map(lambda a, b: (tf.ensure_shape(a, shape), tf.ensure_shape(b, (None,))))
    return ds.prefetch(tf.data.AUTOTUNE)
