"""The ``dcgan`` generator: its networks, its augmentation, training, resume, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bamnet_core.contract import DataError, ProgressEvent
from bamnet_paper.generators import checkpoint
from bamnet_paper.generators.builders import build_discriminator, build_generator
from bamnet_paper.generators.dcgan import DCGANGenerator
from bamnet_paper.generators.diffaugment import augment, draw_params


@pytest.mark.parametrize("size", [16, 32, 64])
def test_networks_map_latents_to_images_and_images_to_one_logit(size):
    gen = build_generator(latent_dim=8, size=size, filters=4)
    disc = build_discriminator(size=size, filters=4)
    images = np.asarray(gen(np.zeros((2, 8), np.float32)))
    assert images.shape == (2, size, size, 1)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert np.asarray(disc(images)).shape == (2, 1)
    assert gen.get_layer("image").dtype_policy.compute_dtype == "float32"


def test_an_unsupported_size_is_refused_with_the_allowed_ones():
    with pytest.raises(ValueError, match="16, 32, 64, 128, 256"):
        build_generator(latent_dim=8, size=48, filters=4)


def test_translation_shifts_with_zero_padding_and_cutout_blanks_a_square():
    x = np.zeros((1, 16, 16, 1), np.float32)
    x[0, 4, 5, 0] = 1.0
    params = draw_params(np.random.default_rng(0), 1, 16)
    params.update(shift_y=np.array([2], np.int32), shift_x=np.array([-3], np.int32),
                  cut_y=np.array([0], np.int32), cut_x=np.array([0], np.int32))
    moved = np.asarray(augment(x, params, ("translation",)))[0, ..., 0]
    assert moved[6, 2] == 1.0 and moved.sum() == 1.0
    ones = np.ones((1, 16, 16, 1), np.float32)
    cut = np.asarray(augment(ones, params, ("cutout",)))[0, ..., 0]
    assert cut[:4, :4].sum() == 0 and cut[8:, 8:].min() == 1.0
    assert cut.sum() == 256 - 16  # a 4x4 square where the centre's window meets the image


def test_colour_changes_brightness_and_contrast_per_image():
    x = np.random.default_rng(1).uniform(-0.5, 0.5, (3, 16, 16, 1)).astype(np.float32)
    params = draw_params(np.random.default_rng(2), 3, 16)
    y = np.asarray(augment(x, params, ("color",)))
    expected_mean = x.mean(axis=(1, 2, 3)) + params["brightness"].ravel()
    assert np.allclose(y.mean(axis=(1, 2, 3)), expected_mean, atol=1e-5)
    assert not np.allclose(y.std(axis=(1, 2, 3)), x.std(axis=(1, 2, 3)))


class Interrupt:
    """A progress callback that stops the run (as Ctrl-C does) at a chosen event."""

    def __init__(self, when) -> None:
        self.when, self.events = when, []

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)
        if self.when(event):
            raise KeyboardInterrupt


def test_fit_loads_a_finished_generator_instead_of_training_again(tmp_path):
    real = _real()
    gan = DCGANGenerator(epochs=2, batch_size=2, size=16, latent_dim=4, g_filters=2,
                         d_filters=2, min_images=2)
    gan.fit(real, workdir=tmp_path / "gen", seed=1)
    first = gan.generate(3, label="covid", outdir=tmp_path / "a", seed=5)
    again = DCGANGenerator(epochs=2, batch_size=2, size=16, latent_dim=4, g_filters=2,
                           d_filters=2, min_images=2)
    events = []
    again.fit(real, workdir=tmp_path / "gen", seed=1, progress=events.append)
    assert events == []  # loaded, not trained
    second = again.generate(3, label="covid", outdir=tmp_path / "b", seed=5)
    for a, b in zip(first, second, strict=True):
        assert Path(a.path).read_bytes() == Path(b.path).read_bytes()
        assert b.synthetic and b.generator_index is not None and b.generator_checkpoint
    other = DCGANGenerator(epochs=3, batch_size=2, size=16, latent_dim=4, g_filters=2,
                           d_filters=2, min_images=2)
    with pytest.raises(DataError, match="other images or options"):
        other.fit(real, workdir=tmp_path / "gen", seed=1)


def _real(count_patients: int = 4):
    from bamnet_paper.sources.synthetic import SyntheticCXRSource

    return [s for s in SyntheticCXRSource(patients_per_class=count_patients, size=32).samples()
            if s.label == "covid"]


def test_an_interrupted_fit_resumes_from_its_last_committed_epoch(tmp_path):
    real = _real()
    options = dict(epochs=5, batch_size=2, size=16, latent_dim=4, g_filters=2, d_filters=2,
                   min_images=2, sample_every=2, checkpoint_every=2)
    stop = Interrupt(lambda e: e.fields.get("epoch") == 4)  # epoch 3 ran, not committed
    with pytest.raises(KeyboardInterrupt):
        DCGANGenerator(**options).fit(real, workdir=tmp_path, seed=1, progress=stop)
    state = json.loads((tmp_path / checkpoint.FOLDER / checkpoint.STATE).read_text())
    assert state["epoch"] == 2 and not state["finished"]
    assert [p.name for p in (tmp_path / checkpoint.FOLDER).iterdir() if p.is_dir()] == \
        ["epoch-0002"]
    before = (tmp_path / "losses.csv").read_text().splitlines()
    assert len(before) == 4  # header and epochs 1-3

    events = Interrupt(lambda e: False)
    DCGANGenerator(**options).fit(real, workdir=tmp_path, seed=1, progress=events)
    after = (tmp_path / "losses.csv").read_text().splitlines()
    assert after[:3] == before[:3] and [r.split(",")[0] for r in after[1:]] == list("12345")
    assert {e.fields["epoch"] for e in events.events} == {3, 4, 5}
    assert json.loads((tmp_path / checkpoint.FOLDER / checkpoint.STATE).read_text())["finished"]
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == \
        ["epoch-0002.png", "epoch-0004.png", "epoch-0005.png"]


def test_too_few_images_of_the_class_is_refused_saying_how_many_are_needed(tmp_path):
    gan = DCGANGenerator(epochs=1, size=16, min_images=50)
    real = _real()
    with pytest.raises(DataError, match=f"at least 50 training images of 'covid'; the "
                                        f"training split has {len(real)}"):
        gan.fit(real, workdir=tmp_path, seed=0)
    assert not (tmp_path / checkpoint.FOLDER).exists()


def test_mixed_precision_computes_in_bfloat16_and_keeps_float32_images(tmp_path):
    gan = DCGANGenerator(epochs=1, batch_size=2, size=16, latent_dim=4, g_filters=2,
                         d_filters=2, min_images=2, mixed_precision=True)
    gan.fit(_real(), workdir=tmp_path, seed=0)
    net = gan._generator
    assert net.get_layer("up1_deconv").dtype_policy.compute_dtype == "bfloat16"
    assert net.get_layer("up1_deconv").dtype_policy.variable_dtype == "float32"
    made = gan.generate(2, label="covid", outdir=tmp_path / "images", seed=0)
    assert len(made) == 2 and all(Path(s.path).stat().st_size > 0 for s in made)
    assert net(np.zeros((1, 4), np.float32)).dtype.name == "float32"


def test_a_diverged_gan_stops_with_a_hint_before_its_weights_are_saved():
    from bamnet_paper.generators.callbacks import check_finite

    check_finite(3, {"d_loss": 0.5, "g_loss": 2.0})
    with pytest.raises(DataError, match="diverged at epoch 7: g_loss = nan") as info:
        check_finite(7, {"d_loss": 0.5, "g_loss": float("nan")})
    assert "bamnet resume" in info.value.hint
