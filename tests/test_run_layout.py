"""One run layout: a run folder means the same from any directory, and wherever it is moved.

A run killed after its generator stage keeps the generator's images; resumed
from another working directory, or after the folder was moved, with a cold
decode cache, it trains on exactly what an uninterrupted run trained on.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from test_generator_stage import _flip_run

from bamnet_core.experiment.runner import resume_experiment, run_experiment
from bamnet_core.runs import layout


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / layout.HISTORY, encoding="utf-8") as fh:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(fh)]


def _trained_on(run_dir: Path) -> int:
    """How many images trained the model, from the feature-cache counts or the split."""
    meta = json.loads((run_dir / layout.META).read_text())
    assert meta["status"] == "complete", meta.get("error")
    rows = list(csv.DictReader(open(run_dir / layout.SPLITS_CSV, encoding="utf-8")))
    return sum(r["split"] == "train" for r in rows)


@pytest.fixture
def flip(tiny_config: Path):
    host, config = _flip_run(tiny_config, epochs=2)
    return host, config


def _stopped_after_generator(flip, where: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    host, config = flip
    where.mkdir()
    monkeypatch.chdir(where)
    result = run_experiment(config, host, output_dir="runs", until="generator")  # relative
    return result.run_dir


def _whole(flip, where: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    host, config = flip
    where.mkdir()
    monkeypatch.chdir(where)
    return run_experiment(config, host, output_dir="runs").run_dir


def _cold_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("BAMNET_CACHE_DIR", str(tmp_path / f"cache-{name}"))


def test_files_inside_a_run_name_run_files_relative_to_it(flip, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    run_dir = _stopped_after_generator(flip, tmp_path / "a", monkeypatch)
    split = json.loads((run_dir / layout.SPLIT_JSON).read_text())
    synthetic = [s["path"] for s in split["assignment"]["train"] if s["synthetic"]]
    real = [s["path"] for s in split["assignment"]["train"] if not s["synthetic"]]
    assert synthetic and all(p.startswith(f"{layout.GENERATOR_IMAGES}/") for p in synthetic)
    assert real and all(Path(p).is_absolute() and Path(p).resolve() == Path(p) for p in real)
    manifest = list(csv.DictReader(open(run_dir / layout.GENERATOR_MANIFEST, encoding="utf-8")))
    assert [r["path"] for r in manifest] == synthetic
    rows = list(csv.DictReader(open(run_dir / layout.SPLITS_CSV, encoding="utf-8")))
    assert {r["path"] for r in rows if r["synthetic"] == "True"} == set(synthetic)
    assert str(run_dir) not in (run_dir / layout.META).read_text()  # nothing absolute inside


def test_resumed_from_another_directory_the_run_trains_on_its_synthetic_images(
        flip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    host, _ = flip
    _cold_cache(tmp_path, monkeypatch, "whole")
    whole = _whole(flip, tmp_path / "whole", monkeypatch)
    _cold_cache(tmp_path, monkeypatch, "first")
    run_dir = _stopped_after_generator(flip, tmp_path / "first", monkeypatch)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _cold_cache(tmp_path, monkeypatch, "resume")  # the cache must not hide a lost image
    resumed = resume_experiment(run_dir, host)
    assert _trained_on(resumed.run_dir) == _trained_on(whole)
    assert resumed.metrics.generator.synthetic > 0
    assert _history(resumed.run_dir) == _history(whole)


def test_a_moved_run_folder_resumes_the_same(flip, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch):
    host, _ = flip
    _cold_cache(tmp_path, monkeypatch, "whole")
    whole = _whole(flip, tmp_path / "whole", monkeypatch)
    _cold_cache(tmp_path, monkeypatch, "first")
    run_dir = _stopped_after_generator(flip, tmp_path / "first", monkeypatch)
    moved = tmp_path / "archive" / "moved-run"
    moved.parent.mkdir()
    shutil.move(run_dir, moved)
    link = tmp_path / "via-link"
    link.symlink_to(moved)  # and reached through a symlink
    _cold_cache(tmp_path, monkeypatch, "moved")
    resumed = resume_experiment(link, host)
    assert resumed.metrics.generator.synthetic > 0
    assert _history(moved) == _history(whole)


def test_a_run_that_cannot_succeed_is_refused_before_anything_is_written(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The quickstart's GAN would train for minutes; VGG16 cannot take 1 channel."""
    out = tmp_path / "runs"
    cache = tmp_path / "cache"
    monkeypatch.setenv("BAMNET_CACHE_DIR", str(cache))
    result = cli("run", "quickstart", "--set", 'backbone={name = "vgg16", weights = "none"}',
                 "--output-dir", str(out))
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "channels = 3" in errors[0], result.stderr
    assert not out.exists()  # no run folder, not even the output folder
    assert "done data" not in result.stderr and "generator" not in result.stderr
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))  # no decode


def test_a_generator_with_nothing_to_learn_from_is_refused_on_the_plan(tiny_config: Path):
    from bamnet_core.contract import Sample
    from bamnet_core.data.splits import PatientSplit
    from bamnet_core.errors import DataError
    from bamnet_core.experiment.generator_stage import check_feasible

    _, config = _flip_run(tiny_config, epochs=1)
    normal = [Sample(path=f"/d/n{i}.png", label="normal", patient_id=f"n{i}",
                     source="s") for i in range(4)]
    covid = Sample(path="/d/c.png", label="covid", patient_id="c", source="s")
    plan = PatientSplit({"train": normal, "val": [covid], "test": []}, by="patient", seed=0)
    with pytest.raises(DataError, match="no 'covid' image for the generator"):
        check_feasible(config, plan)
    plan.assignment["train"].append(covid)
    check_feasible(config, plan)  # one image to learn from: feasible


def test_a_huge_run_name_and_a_read_only_output_folder_are_one_error_line(
        cli, tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bamnet_core.runs.folder import RunFolder

    long = "x" * 200  # the longest name the config takes: the folder keeps 80 characters
    made = RunFolder.create(tmp_path / "runs", long)
    assert made.path.name.endswith("-" + "x" * 80)
    result = cli("run", str(tiny_config), "--set", f'run.name="{"y" * 201}"', "-o",
                 str(tmp_path / "runs"))
    assert result.exit_code != 0 and "run.name" in result.stderr, result.stderr

    mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if kwargs.get("exist_ok"):  # the output folder exists already
            return mkdir(self, *args, **kwargs)
        raise PermissionError(13, "Permission denied")  # what a read-only mount says, for root

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(Exception) as caught:
        RunFolder.create(tmp_path, "tiny")  # the output folder exists; the run folder cannot
    assert "cannot create a run folder" in str(caught.value) and \
        caught.value.hint == "pass a writable --output-dir"
