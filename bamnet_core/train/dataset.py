"""The training input pipeline: a ``keras.utils.PyDataset``, the same on every Keras backend.

Images arrive as arrays decoded by :mod:`bamnet_core.data.loading` (a thread pool,
all cores): at 224x224x3 float32 an image is 0.6 MB, so the paper's 2,000
images take 1.2 GB of RAM, which fits the machines we target; decoding once up
front also makes every epoch after the first pay nothing for JPEG decoding.
A batch is gathered from the arrays by index and augmented on the host
(:mod:`bamnet_core.train.augment`); with augmentation on, worker threads build
the next batches while the model trains on this one (OpenCV releases the GIL).
Nothing here needs TensorFlow, so training runs on JAX and PyTorch too.

The order of each epoch is a permutation seeded by (``seed``, epoch), and a
batch's augmentation is seeded by (``seed``, epoch, step), so a batch is the
same whichever worker builds it, and a resumed run sees exactly the batches an
uninterrupted one would have. The dataset counts epochs itself (Keras calls
``on_epoch_end`` after every epoch, once its workers have stopped), starting
from the first epoch still to run.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from ..config.schema import AugmentSection
from ..imaging.preprocess import PreprocessSpec
from .augment import augment_batch, augment_enabled, batch_rng, epoch_seed

#: Most worker threads that build batches ahead of the model (augmentation on).
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


@functools.cache
def _batches_class() -> type:
    """The PyDataset subclass (built on first use: importing Keras is slow)."""
    import keras

    class TrainBatches(keras.utils.PyDataset):
        """One epoch of training batches at a time; see the module docstring."""

        def __init__(self, x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int,
                     start_epoch: int, augment: AugmentSection | None,
                     spec: PreprocessSpec | None, full_batches: bool, workers: int) -> None:
            super().__init__(workers=workers, use_multiprocessing=False,
                             max_queue_size=2 * workers)
            self.x, self.y = x, y
            self.batch_size, self.seed = batch_size, seed
            self.augment = augment if augment is not None and spec is not None \
                and augment_enabled(augment) else None
            self.spec, self.full_batches = spec, full_batches
            self.epoch = start_epoch
            self.order = epoch_indices(len(x), batch_size, seed, start_epoch, full_batches)

        def __len__(self) -> int:
            return steps_per_epoch(len(self.order), self.batch_size)

        def __getitem__(self, step: int) -> tuple[np.ndarray, np.ndarray]:
            idx = self.order[step * self.batch_size:(step + 1) * self.batch_size]
            images = self.x[idx]
            if self.augment is not None:
                images = augment_batch(images, self.augment, self.spec,
                                       batch_rng(self.seed, self.epoch, step))
            return images, self.y[idx]

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = epoch_indices(len(self.x), self.batch_size, self.seed, self.epoch,
                                       self.full_batches)

    return TrainBatches


def train_batches(x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int,
                  start_epoch: int, augment: AugmentSection | None,
                  spec: PreprocessSpec | None, full_batches: bool = False,
                  workers: int | None = None) -> Any:
    """The training batches, as a ``keras.utils.PyDataset`` starting at ``start_epoch``.

    :param augment: ``[train.augment]``, or None for no augmentation (cached features).
    :param spec: the preprocessing of ``x``; needed only when augmenting.
    :param full_batches: every batch full (see :func:`epoch_indices`); for several devices.
    :param workers: threads building batches ahead; default one per core (up to
        :data:`MAX_WORKERS`) with augmentation on, else none (gathering is cheap).
    """
    augmenting = augment is not None and spec is not None and augment_enabled(augment)
    if workers is None:
        workers = min(MAX_WORKERS, os.cpu_count() or 1) if augmenting else 1
    return _batches_class()(x, y.astype(np.int64), batch_size=batch_size, seed=seed,
                            start_epoch=start_epoch, augment=augment, spec=spec,
                            full_batches=full_batches, workers=max(1, workers))
