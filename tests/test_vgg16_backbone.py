"""The vgg16 backbone: heads, freezing, preprocessing checks and ImageNet weights offline."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from bamnet_core.contract import SplitBackbone
from bamnet_core.errors import ConfigError
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_paper.backbones import heads, vgg16_weights
from bamnet_paper.backbones.vgg16 import VGG16Backbone


def test_unknown_head_lists_the_known_ones():
    with pytest.raises(ConfigError) as info:
        VGG16Backbone(weights="none", head="resnet-head")
    assert "pyimagesearch" in info.value.message and "paper-best" in info.value.message


@pytest.mark.parametrize("name", ["pyimagesearch", "paper-best"])
def test_heads_map_features_to_probabilities(name):
    head = heads.HEADS[name]((2, 2, 16), 2, 0.5)
    assert head.name == "head" and head.get_layer("predictions").units == 2
    probs = np.asarray(head(np.random.rand(3, 2, 2, 16).astype("float32"), training=False))
    assert probs.shape == (3, 2) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_paper_best_has_three_conv_three_dense_bn_and_both_relus():
    head = heads.paper_best((7, 7, 512), 2, 0.5)
    kinds = [type(layer).__name__ for layer in head.layers]
    assert kinds.count("Conv2D") == 3 and kinds.count("Dense") == 3
    assert "BatchNormalization" in kinds and "LeakyReLU" in kinds
    assert all(layer.rate == 0.5 for layer in head.layers if type(layer).__name__ == "Dropout")


def test_freeze_up_to_block4_leaves_block5_trainable():
    backbone = VGG16Backbone(weights="none", freeze="block4", head="pyimagesearch")
    assert isinstance(backbone, SplitBackbone)
    model = backbone.build((32, 32, 3), 2)
    extractor = model.get_layer("backbone")
    assert not extractor.get_layer("block4_conv3").trainable
    assert extractor.get_layer("block5_conv1").trainable
    assert model.output_shape == (None, 2)


def test_bad_freeze_and_preprocess_are_config_errors():
    with pytest.raises(ConfigError, match="freeze"):
        VGG16Backbone(weights="none", freeze="block9")
    backbone = VGG16Backbone(weights="imagenet")
    with pytest.raises(ConfigError, match="channels = 3"):
        backbone.check_preprocess(PreprocessSpec(size=64, channels=1))
    with pytest.raises(ConfigError, match='scaling = "caffe"'):
        backbone.check_preprocess(PreprocessSpec(size=64, channels=3, scaling="unit"))
    VGG16Backbone(weights="none").check_preprocess(PreprocessSpec(size=64, channels=3))


def test_local_h5_weights_are_loaded(tmp_path: Path):
    source = VGG16Backbone(weights="none", head="pyimagesearch").feature_extractor((32, 32, 3))
    path = tmp_path / "mine.weights.h5"
    source.save_weights(path)
    loaded = VGG16Backbone(weights=str(path)).feature_extractor((32, 32, 3))
    for a, b in zip(source.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ConfigError, match="no such file"):
        VGG16Backbone(weights=str(tmp_path / "absent.h5")).feature_extractor((32, 32, 3))


def test_offline_imagenet_fails_after_one_probe_naming_file_md5_and_place(tmp_path,
                                                                         monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    probes, downloads = [], []
    # one probe that finds no network, and no download tried: fails fast on any machine
    monkeypatch.setattr(vgg16_weights, "network_reachable", lambda *a, **k: probes.append(a))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: downloads.append(a))
    with pytest.raises(ConfigError) as info:
        VGG16Backbone(weights="imagenet").feature_extractor((32, 32, 3))
    assert len(probes) == 1 and downloads == []
    text = info.value.message + " " + info.value.hint
    assert vgg16_weights.WEIGHTS_FILE in text and "6d6bbae143d832006294945121d1f1fc" in text
    assert str(tmp_path / "kh" / "models") in text and 'weights = "<path' in text


def test_bogus_cached_weights_are_reported_and_left_in_place(tmp_path, monkeypatch):
    models = tmp_path / "kh" / "models"
    models.mkdir(parents=True)
    bogus = models / vgg16_weights.WEIGHTS_FILE
    bogus.write_bytes(b"not really weights")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(vgg16_weights, "PROBE", ("127.0.0.1", 9))
    with pytest.raises(ConfigError) as info:
        VGG16Backbone(weights="imagenet").feature_extractor((32, 32, 3))
    assert "left in place" in info.value.message and "expected 6d6bbae1" in info.value.message
    assert bogus.read_bytes() == b"not really weights"


def test_probe_of_a_closed_port_is_false():
    assert vgg16_weights.network_reachable(("127.0.0.1", 9), timeout=1.0) is False


def test_the_probe_does_not_wait_for_a_lookup_that_hangs(monkeypatch):
    started, release = threading.Event(), threading.Event()

    def hanging_lookup(address, timeout):  # DNS lookups ignore socket timeouts
        started.set()
        release.wait()
        raise OSError("released")

    monkeypatch.setattr(vgg16_weights.socket, "create_connection", hanging_lookup)
    try:
        assert vgg16_weights.network_reachable(("example.invalid", 443), timeout=0.05) is False
        assert started.is_set() and not release.is_set()  # answered while the lookup hung
    finally:
        release.set()
