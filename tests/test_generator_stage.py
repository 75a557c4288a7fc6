"""The generator stage: fitted on training images only; its images go to training only."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import pytest

from bamnet_core.config.load import load_config
from bamnet_core.contract import BamnetError, DataError, Sample, hookimpl, silent
from bamnet_core.errors import PluginFault
from bamnet_core.experiment.runner import run_experiment
from bamnet_core.plugins import load_plugins
from bamnet_core.runs import layout


class FlipGenerator:
    """Synthesises mirrored copies of the images it was fitted on."""

    seen: list[Sample] = []

    def __init__(self, *, mirror: bool = True) -> None:
        self.mirror = mirror

    def fit(self, samples, *, workdir: Path, seed: int, progress=silent) -> None:
        FlipGenerator.seen = list(samples)
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "fitted.txt").write_text(str(len(samples)))

    def generate(self, count, *, label, outdir: Path, seed: int, progress=silent):
        outdir.mkdir(parents=True, exist_ok=True)
        made = []
        for i in range(count):
            src = FlipGenerator.seen[i % len(FlipGenerator.seen)]
            image = cv2.imread(src.path, cv2.IMREAD_GRAYSCALE)
            path = outdir / f"flip-{i}.png"
            cv2.imwrite(str(path), cv2.flip(image, 1) if self.mirror else image)
            made.append(Sample(path=str(path), label=label, patient_id=f"synthetic-{i}",
                               source="flip", synthetic=True, generator="flip",
                               generator_seed=seed))
        return made


class Faulty(FlipGenerator):
    """Raises ``Faulty.error`` in ``fit``."""

    error: Exception = RuntimeError("kaboom")

    def fit(self, samples, *, workdir: Path, seed: int, progress=silent) -> None:
        raise Faulty.error


class Lopsided:
    """Synthetic phantoms with a third of the covid patients: an imbalanced source."""

    def __init__(self, *, patients_per_class: int = 12, size: int = 48) -> None:
        from bamnet_paper.sources.synthetic import SyntheticCXRSource

        self.inner = SyntheticCXRSource(patients_per_class=patients_per_class, size=size)

    def samples(self):
        return [s for s in self.inner.samples()
                if s.label == "normal" or int(s.patient_id.split("-")[-1]) % 3 == 0]


class FlipPlugin:
    @hookimpl
    def register_generators(self, register):
        register("flip", FlipGenerator)
        register("faulty", Faulty)

    @hookimpl
    def register_dataset_sources(self, register):
        register("lopsided", Lopsided)


def _flip_run(tiny_config: Path, *, epochs: int, generator: str = "flip"):
    """Plugins with the flip generator, and the tiny config on the lopsided source with it."""
    host = load_plugins(extra=(("flip-plugin", FlipPlugin()),))
    text = tiny_config.read_text().replace('source = "synthetic-cxr"', 'source = "lopsided"')
    tiny_config.write_text(text.replace("max_images_per_patient = 2\n", "") +
                           f'\n[generator]\nenabled = true\nname = "{generator}"\n'
                           'balance_class = "covid"\nratio = 0.9\nmirror = true\n')
    return host, load_config(str(tiny_config), host.registry,
                             overrides=[f"train.epochs={epochs}"])


def test_generator_sees_and_feeds_only_the_training_split(tiny_config: Path, tmp_path: Path):
    host, cfg = _flip_run(tiny_config, epochs=1)
    result = run_experiment(cfg, host, output_dir=tmp_path)
    rows = list(csv.DictReader((result.run_dir / layout.SPLITS_CSV).open()))
    synthetic = [r for r in rows if r["synthetic"] == "True"]
    assert synthetic and all(r["split"] == "train" for r in synthetic)
    train_paths = {r["path"] for r in rows if r["split"] == "train" and r["synthetic"] != "True"}
    assert FlipGenerator.seen and all(s.path in train_paths for s in FlipGenerator.seen)
    assert all(s.label == "covid" for s in FlipGenerator.seen)
    train = [r for r in rows if r["split"] == "train"]
    covid = sum(r["label"] == "covid" for r in train)
    normal = sum(r["label"] == "normal" for r in train)
    real_covid = sum(r["label"] == "covid" and r["synthetic"] != "True" for r in train)
    assert real_covid < 0.5 * normal  # the source really was imbalanced
    assert covid >= 0.9 * normal  # balanced to the requested ratio
    assert (result.run_dir / layout.GENERATOR / "fitted.txt").is_file()
    assert result.metrics.splits["val"].images > 0


@pytest.mark.parametrize("error", [RuntimeError("kaboom"), DataError("too few images")])
def test_what_a_generator_raises_is_its_plugins_fault_unless_it_is_a_bamnet_error(
        tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception):
    monkeypatch.setattr(Faulty, "error", error)
    host, cfg = _flip_run(tiny_config, epochs=1, generator="faulty")
    with pytest.raises(BamnetError) as raised:
        run_experiment(cfg, host, output_dir=tmp_path)
    if isinstance(error, BamnetError):
        assert raised.value is error  # the plugin speaking to the user: unchanged
    else:
        assert isinstance(raised.value, PluginFault) and raised.value.__cause__ is error
        assert raised.value.message == ("generator 'faulty' from plugin 'flip-plugin' failed: "
                                        "RuntimeError: kaboom")
        assert "fault in flip-plugin" in raised.value.hint


class _Stop(KeyboardInterrupt):
    """Stands in for a kill during training."""


def test_a_run_stopped_in_training_resumes_without_redoing_data_generator_or_audit(
        tiny_config: Path, tmp_path: Path):
    from bamnet_core.experiment.runner import resume_experiment

    host, cfg = _flip_run(tiny_config, epochs=2)

    def stop_in_training(event):
        if event.stage == "train" and event.fields.get("epoch") == 2:
            raise _Stop

    with pytest.raises(KeyboardInterrupt) as stopped:  # an Interrupted saying what is kept
        run_experiment(cfg, host, output_dir=tmp_path / "runs", progress=stop_in_training)
    assert isinstance(stopped.value.__cause__, _Stop)
    (run_dir,) = (tmp_path / "runs").iterdir()
    before = json.loads((run_dir / layout.META).read_text())
    assert set(before["stages"]) == {"data", "generator", "audit"}
    splits_before = (run_dir / layout.SPLITS_CSV).read_text()
    FlipGenerator.seen = []  # a refit would fill it again
    events = []
    result = resume_experiment(run_dir, host, progress=events.append)
    kept = [e.description for e in events if e.stage == "stage-kept"]
    done = [e.description for e in events if e.stage == "stage-done"]
    assert kept == ["data", "generator", "audit"]
    assert "audit" not in done and "generator" not in done and "train" in done
    assert FlipGenerator.seen == [] and not any(e.stage == "generator" for e in events)
    after = json.loads((result.run_dir / layout.META).read_text())
    assert after["status"] == "complete"
    assert after["stages"]["audit"] == before["stages"]["audit"]  # not redone
    assert (run_dir / layout.SPLITS_CSV).read_text() == splits_before
    audit = json.loads((run_dir / layout.AUDIT).read_text())
    assert len(audit["warnings"]) == len(set(audit["warnings"]))  # nothing added twice


def test_a_damaged_stage_record_only_means_the_stage_runs_again(tiny_config: Path,
                                                                 tmp_path: Path, cli):
    out = tmp_path / "runs"
    stopped = cli("run", str(tiny_config), "--until", "audit", "--output-dir", str(out))
    assert stopped.exit_code == 0, stopped.stderr
    run_dir = next(out.iterdir())
    (run_dir / layout.SPLIT_JSON).write_text("{not json")
    (run_dir / layout.PROPERTIES).unlink()
    (run_dir / layout.AUDIT).write_text("[]")
    refused = cli("resume", str(run_dir))  # changed since their stages wrote them
    assert refused.exit_code == 1 and "stage wrote" in refused.stderr
    (run_dir / layout.INTEGRITY).unlink()  # a run made before the record: rerun, not refused
    resumed = cli("run", "--resume", str(run_dir))
    assert resumed.exit_code == 0, resumed.stderr
    assert "done data (" in resumed.stderr and "done audit (" in resumed.stderr
    assert "kept" not in resumed.stderr
    assert json.loads((run_dir / layout.META).read_text())["status"] == "complete"


def test_the_done_line_says_when_the_generator_made_no_images(tiny_config: Path, tmp_path: Path,
                                                               cli):
    result = cli("run", str(tiny_config), "--output-dir", str(tmp_path / "runs"), "--until",
                 "generator", "--set", "generator.enabled=true", "--set", "generator.name=dcgan",
                 "--set", "generator.balance_class=covid")
    assert result.exit_code == 0, result.stderr
    done = next(line for line in result.stderr.splitlines() if line.startswith("done generator"))
    assert done.startswith("done generator: made 0 images; 'covid' already has ")
    assert "nothing to synthesise" in done and done.endswith(" s)")
