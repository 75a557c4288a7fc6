"""The decode cache: same result as a fresh decode, hits on later loads, survives corruption."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fixtures_images import write_image_zoo

from bamnet_core.contract import Sample
from bamnet_core.data.image_cache import ImageCache
from bamnet_core.data.loading import load_samples
from bamnet_core.imaging.decode import load_input
from bamnet_core.imaging.preprocess import PreprocessSpec
from bamnet_core.runs import layout


def test_cached_load_equals_fresh_decode_and_hits(tmp_path: Path):
    cases = write_image_zoo(tmp_path / "zoo")
    spec = PreprocessSpec(size=16, channels=3, scaling="caffe")
    cache = ImageCache(tmp_path / "cache")
    good = [c.path for c in cases.values() if c.expect == "ok"]
    first = [cache.load(p, spec) for p in good]
    distinct = len({p.read_bytes() for p in good})  # same bytes under two names: one entry
    assert cache.hits == len(good) - distinct
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == distinct
    hits = cache.hits
    second = [cache.load(p, spec) for p in good]
    assert cache.hits - hits == len(good)
    for path, a, b in zip(good, first, second, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, load_input(path, spec))
    other = PreprocessSpec(size=8, channels=1)
    assert cache.load(good[0], other).shape == (8, 8, 1)  # a new spec misses, never mixes


def test_corrupt_entry_is_ignored_and_rebuilt(tmp_path: Path):
    path = write_image_zoo(tmp_path / "zoo")["png8"].path
    spec = PreprocessSpec(size=16, channels=1)
    cache = ImageCache(tmp_path / "cache")
    expected = cache.load(path, spec)
    entries = list((tmp_path / "cache").rglob("*.npy"))
    assert len(entries) == 1
    entries[0].write_bytes(b"\x93NUMPY garbage")
    np.testing.assert_array_equal(cache.load(path, spec), expected)
    assert cache.hits == 0  # the corrupt entry was not served
    assert entries[0].read_bytes() != b"\x93NUMPY garbage"  # it was rebuilt
    np.testing.assert_array_equal(cache.load(path, spec), expected)
    assert cache.hits == 1  # and the rebuilt one is


def test_load_samples_uses_the_cache_and_reports_failures(tmp_path: Path):
    cases = write_image_zoo(tmp_path / "zoo")
    samples = [Sample(path=str(c.path), label="x", patient_id=n, source="zoo")
               for n, c in cases.items()]
    spec = PreprocessSpec(size=16, channels=1)
    cache = ImageCache(tmp_path / "cache")
    loaded = load_samples(samples, spec, workers=2, cache=cache)
    hits = cache.hits
    bad = {n for n, c in cases.items() if c.expect != "ok"}
    assert {Path(e.path).name for e in loaded.errors} == {cases[n].path.name for n in bad}
    assert loaded.x.shape == (len(cases) - len(bad), 16, 16, 1)
    again = load_samples(samples, spec, workers=2, cache=cache)
    np.testing.assert_array_equal(again.x, loaded.x)
    assert cache.hits - hits == len(cases) - len(bad)


def test_disabled_by_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("BAMNET_IMAGE_CACHE", "0")
    monkeypatch.setenv("BAMNET_CACHE_DIR", str(tmp_path / "own-cache"))
    cache = ImageCache.from_env()
    path = write_image_zoo(tmp_path / "zoo")["png8"].path
    image = cache.load(path, PreprocessSpec(size=8, channels=1))
    assert image.shape == (8, 8, 1)
    assert not cache.enabled
    assert not (tmp_path / "own-cache").exists() or not list(
        (tmp_path / "own-cache").rglob("*.npy"))


def test_run_writes_audit_with_duplicates_and_confounding(cli, tiny_config: Path,
                                                          tmp_path: Path):
    result = cli("run", str(tiny_config), "-o", str(tmp_path / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    audit = json.loads((run_dir / layout.AUDIT).read_text())
    assert audit["split"]["patients_in_several_splits"] == 0
    assert audit["duplicates"]["fingerprinted"] == audit["images"]
    assert set(audit["confounding"]["per_class"]) == {"normal", "covid"}
