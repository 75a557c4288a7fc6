"""The tf.data input pipeline for training.

Images arrive as arrays decoded by :mod:`bamnet_core.data.loading` (a thread pool,
all cores): at 224x224x3 float32 an image is 0.6 MB, so the paper's 2,000
images take 1.2 GB of RAM, which fits the machines we target; decoding once up
front also makes every epoch after the first pay nothing for JPEG decoding.
Batches are gathered from the arrays by index (``tf.numpy_function``, so the
arrays never become graph constants), augmented, and prefetched.

The order of each epoch is a permutation seeded by (``seed``, epoch), and the
dataset spans the epochs still to run, so a resumed run sees exactly the
batches an uninterrupted one would have.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config.schema import AugmentSection
from ..imaging.preprocess import PreprocessSpec
from .augment import build_augmenter, epoch_seed


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of ``n`` training examples in ``epoch`` (0-based)."""
    return np.random.default_rng(epoch_seed(seed, epoch, 1)).permutation(n)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one epoch; the last one may be short."""
    return max(1, -(-n // batch_size))


def train_dataset(x: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int, start_epoch: int,
                  end_epoch: int, augment: AugmentSection | None,
                  spec: PreprocessSpec | None, full_batches: bool = False) -> Any:
    """Batches for epochs ``start_epoch`` .. ``end_epoch - 1``, back to back.

    :param augment: ``[train.augment]``, or None for no augmentation (cached features).
    :param spec: the preprocessing of ``x``; needed only when augmenting.
    :param full_batches: fill an epoch's short last batch with the epoch's first examples,
        so every batch splits evenly over several devices (a short batch would not).
    """
    import tensorflow as tf

    def gather(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[idx], y[idx]

    def batches(epoch: int) -> Any:
        order = epoch_order(len(x), seed, epoch)
        if full_batches and len(order) % batch_size:
            short = batch_size - len(order) % batch_size
            order = np.concatenate([order, np.resize(order, short)])
        ds = tf.data.Dataset.from_tensor_slices(order).batch(batch_size)
        ds = ds.map(lambda idx: tf.numpy_function(gather, [idx], [tf.float32, tf.int64]),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.map(lambda a, b: (tf.ensure_shape(a, (None, *x.shape[1:])),
                                  tf.ensure_shape(b, (None,))))
        augmenter = build_augmenter(augment, spec, epoch_seed(seed, epoch, 2)) \
            if augment is not None and spec is not None else None
        if augmenter is not None:
            # Sequential: seeded random layers keep state, so parallel calls would race.
            ds = ds.map(lambda a, b: (augmenter(a), b))
        return ds

    epochs = [batches(e) for e in range(start_epoch, end_epoch)]
    ds = epochs[0]
    for more in epochs[1:]:
        ds = ds.concatenate(more)
    return ds.prefetch(tf.data.AUTOTUNE)
