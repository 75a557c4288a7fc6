"""The conformance harness (``bamnet_core.testing``): bamnet's own plugins keep their contracts,
and a broken component fails with a message that says what its author must fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bamnet_core.contract import EvidenceLine, Findings, Sample
from bamnet_core.testing import (
    ContractError,
    check_backbone,
    check_evaluator,
    check_generator,
    check_source,
    load_with,
)
from bamnet_core.testing.conformance import write_images

REGISTRY = load_with().registry


# --- bamnet's own plugins ----------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in REGISTRY.names("evaluator") if n != "gradcam"])
def test_every_built_in_evaluator_keeps_the_contract(name: str, tmp_path: Path):
    check_evaluator(REGISTRY.get("evaluator", name).target(), tmp_path)


def test_grad_cam_keeps_the_contract_with_a_model(tmp_path: Path):
    from bamnet_paper.backbones.small_cnn import SmallCNN

    model = check_backbone(SmallCNN(filters=[2, 4], dense=4), input_shape=(16, 16, 1))
    result = check_evaluator(REGISTRY.get("evaluator", "gradcam").target(), tmp_path,
                             model=model)
    assert "note" not in result, result  # it drew its maps, not skipped


def test_the_small_cnn_and_vgg16_backbones_keep_the_contract():
    from bamnet_paper.backbones.small_cnn import SmallCNN
    from bamnet_paper.backbones.vgg16 import VGG16Backbone

    check_backbone(SmallCNN(filters=[2, 4], dense=4))
    check_backbone(VGG16Backbone(weights="none", head="pyimagesearch"), input_shape=(32, 32, 3))


def test_the_phantom_source_keeps_the_contract(tmp_path: Path):
    from bamnet_paper.sources.synthetic import SyntheticCXRSource

    samples = check_source(SyntheticCXRSource(patients_per_class=3, size=16, root=tmp_path))
    assert {s.label for s in samples} == {"normal", "covid"}


def test_the_dcgan_generator_keeps_the_contract(tmp_path: Path):
    from bamnet_paper.generators.dcgan import DCGANGenerator

    gan = DCGANGenerator(epochs=1, batch_size=2, size=16, latent_dim=4, g_filters=2,
                         d_filters=2, min_images=4)
    assert len(check_generator(gan, tmp_path, count=2)) == 2


# --- the harness itself: what passes and what fails ---------------------------------------


class FolderSource:
    """A well-behaved source: the PNG files of a folder, sorted."""

    def __init__(self, root: Path, *, shuffle: bool = False, patient: str | None = None):
        self.root, self.shuffle, self.patient, self.calls = root, shuffle, patient, 0

    def samples(self) -> list[Sample]:
        self.calls += 1
        files = sorted(self.root.glob("*.png"))
        if self.shuffle and self.calls % 2 == 0:
            files.reverse()
        return [Sample(path=str(f), label="covid", source="here",
                       patient_id=f.stem if self.patient is None else self.patient)
                for f in files]


def test_a_good_source_passes_and_its_samples_come_back(tmp_path: Path):
    write_images(tmp_path, count=3)
    assert len(check_source(FolderSource(tmp_path))) == 3


@pytest.mark.parametrize(("source", "message"), [
    (lambda root: FolderSource(root, shuffle=True), "stable order"),
    (lambda root: FolderSource(root, patient=""), "patient_id is ''.*non-empty string"),
    (lambda root: FolderSource(root / "absent"), "returned no samples"),
    (lambda root: type("Dicts", (), {"samples": lambda self: [{"path": "a.png"}]})(),
     r"samples\(\)\[0\] is a dict, not a Sample"),
])
def test_a_broken_source_fails_naming_what_to_fix(tmp_path: Path, source, message):
    write_images(tmp_path, count=3)
    with pytest.raises(ContractError, match=message):
        check_source(source(tmp_path))


def test_a_source_that_claims_any_folder_fails(tmp_path: Path):
    class Greedy(FolderSource):
        detect_priority = 10

        @classmethod
        def detect(cls, path: Path) -> dict:
            return {"root": str(path)}

    write_images(tmp_path, count=2)
    with pytest.raises(ContractError, match="Greedy: detect.. claimed an empty folder"):
        check_source(Greedy(tmp_path))


class Brier:
    """A plain evaluator that brings one verdict line."""

    def __init__(self, *, nan: bool = False, in_place: bool = False,
                 interval: tuple[float, float] = (0.0, 0.2)):
        self.nan, self.in_place, self.interval = nan, in_place, interval

    def evaluate(self, y_true, y_prob, *, class_names, positive, threshold):
        if self.in_place:
            y_prob[:, 0] = 0.5
        pos = list(class_names).index(positive)
        brier = float(np.mean((y_prob[:, pos] - (y_true == pos)) ** 2))
        line = EvidenceLine(key="brier", label="Brier score", level="info",
                            finding=f"{brier:.3f}", meaning="how far probabilities are off",
                            value=brier, interval=self.interval, shortcut_check=False)
        return Findings(results={"brier": float("nan") if self.nan else brier},
                        evidence=(line,))


def test_a_good_evaluator_passes_with_its_findings(tmp_path: Path):
    found = check_evaluator(Brier(), tmp_path)
    assert isinstance(found, Findings) and found.evidence[0].key == "brier"


@pytest.mark.parametrize(("evaluator", "message"), [
    (Brier(nan=True), r"Brier: evaluate\(\) returned results JSON cannot hold: result.brier "
                      r"is nan.*return None for an undefined metric"),
    (Brier(in_place=True), "changed y_prob in place. Fix: work on a copy"),
    (Brier(interval=(0.3, 0.1)), r"evidence line 'brier' has the interval \(0.3, 0.1\)"),
    (type("Nothing", (), {})(), "offers none of evaluate"),
])
def test_a_broken_evaluator_fails_naming_what_to_fix(tmp_path: Path, evaluator, message):
    with pytest.raises(ContractError, match=message):
        check_evaluator(evaluator, tmp_path)


class CopyingGenerator:
    """Learns nothing; writes copies of the first real image."""

    def __init__(self, *, synthetic: bool = True):
        self.synthetic = synthetic

    def fit(self, samples, *, workdir, seed, progress=None):
        self.source = Path(samples[0].path)

    def generate(self, count, *, label, outdir, seed, progress=None):
        made = []
        for i in range(count):
            path = Path(outdir) / f"fake-{i}.png"
            path.write_bytes(self.source.read_bytes())
            made.append(Sample(path=str(path), label=label, patient_id=f"fake-{i}",
                               source="copy", synthetic=self.synthetic))
        return made


def test_a_generator_must_mark_its_images_synthetic(tmp_path: Path):
    assert len(check_generator(CopyingGenerator(), tmp_path / "good", count=3)) == 3
    with pytest.raises(ContractError, match="synthetic=False.*mark each Sample synthetic=True"):
        check_generator(CopyingGenerator(synthetic=False), tmp_path / "bad")


def test_a_backbone_without_a_softmax_fails():
    class Logits:
        def build(self, input_shape, num_classes):
            import keras

            inputs = keras.Input(shape=input_shape)
            x = keras.layers.Flatten()(inputs)
            return keras.Model(inputs, keras.layers.Dense(num_classes)(x))

    with pytest.raises(ContractError, match="not probabilities.*end with a softmax"):
        check_backbone(Logits(), input_shape=(8, 8, 1))


def test_the_example_plugin_passes_its_own_tests():
    root = Path(__file__).resolve().parents[1] / "examples" / "bamnet-example-plugin"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get(
        "PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                           "-p", "no:cacheprovider", str(root / "tests")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout


def test_a_source_that_fails_mid_listing_is_named_with_what_to_raise(tmp_path: Path):
    class Lazy:
        def samples(self):
            yield Sample(path=str(tmp_path / "a.png"), label="covid", patient_id="a",
                         source="lazy")
            raise KeyError("row 2")

    with pytest.raises(ContractError, match=r"samples\(\) raised KeyError.*raise ConfigError "
                                            "for a bad option and DataError for bad data"):
        check_source(Lazy())
