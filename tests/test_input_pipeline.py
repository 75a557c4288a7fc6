"""The training batches are a pure function of (epoch, step): the PyDataset that feeds JAX and
PyTorch and the tf.data pipeline that feeds TensorFlow give the same batches, and a resumed run
(starting at a later epoch) the batches an uninterrupted one would have."""

from __future__ import annotations

import numpy as np

from bamnet_core.config.schema import AugmentSection
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.train.dataset import Batches, keras_batches, tf_batches

AUGMENT = AugmentSection(rotation=15.0, shift=0.1, zoom=0.1, brightness=0.2)
SPEC = PreprocessSpec(size=16, channels=1, scaling="unit")


def _batches(**kwargs) -> Batches:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (21, 16, 16, 1)).astype(np.float32)
    return Batches(x, np.arange(21) % 2, batch_size=8, seed=5, **kwargs)


def test_a_batch_is_the_same_whenever_it_is_made():
    batches = _batches(augment=AUGMENT, spec=SPEC)
    a, b = batches(2, 1), batches(2, 1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(batches(2, 1)[0], batches(3, 1)[0])  # another epoch, other draws
    images, labels = batches(0, 2)
    assert images.shape == (5, 16, 16, 1) and labels.dtype == np.int64  # the short last batch
    assert images.min() >= 0.0 and images.max() <= 1.0  # brightness clipped to the unit range


def test_augmentation_changes_pixels_and_keeps_labels():
    plain, augmented = _batches(), _batches(augment=AUGMENT, spec=SPEC)
    assert np.array_equal(plain(1, 0)[1], augmented(1, 0)[1])
    assert not np.allclose(plain(1, 0)[0], augmented(1, 0)[0])
    off = _batches(augment=AugmentSection(), spec=SPEC)
    assert np.array_equal(plain(1, 0)[0], off(1, 0)[0])


def test_every_epoch_visits_every_example_once_and_full_batches_pad_the_last():
    batches = _batches()
    assert sorted(batches.order(3).tolist()) == list(range(21))
    labels = np.concatenate([batches(3, s)[1] for s in range(batches.steps)])
    assert np.array_equal(labels, batches.y[batches.order(3)])
    full = _batches(full_batches=True)
    assert full.steps == 3 and all(len(full(0, s)[1]) == 8 for s in range(3))


def test_the_pydataset_and_tf_data_give_the_same_batches_from_a_later_epoch():
    batches = _batches(augment=AUGMENT, spec=SPEC)
    resumed = keras_batches(batches, start_epoch=1, workers=2)
    from_tf = list(tf_batches(batches, start_epoch=0, end_epoch=3).as_numpy_iterator())
    assert len(from_tf) == 3 * batches.steps
    for epoch in (1, 2):
        for step in range(len(resumed)):
            got, want = resumed[step], from_tf[epoch * batches.steps + step]
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        resumed.on_epoch_end()
