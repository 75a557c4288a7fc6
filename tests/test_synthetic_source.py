"""The ``synthetic-cxr`` source: deterministic phantoms with patient ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bamnet_core.imaging.decode import decode_image
from bamnet_paper.sources.synthetic import SyntheticCXRSource


def test_same_seed_same_pixels_different_seed_different(tmp_path: Path):
    a = SyntheticCXRSource(patients_per_class=3, size=48, seed=1, root=str(tmp_path / "a"))
    b = SyntheticCXRSource(patients_per_class=3, size=48, seed=1, root=str(tmp_path / "b"))
    c = SyntheticCXRSource(patients_per_class=3, size=48, seed=2, root=str(tmp_path / "c"))
    sa, sb, sc = a.samples(), b.samples(), c.samples()
    assert [s.patient_id for s in sa] == [s.patient_id for s in sb]
    assert np.array_equal(decode_image(sa[0].path), decode_image(sb[0].path))
    assert not np.array_equal(decode_image(sa[0].path), decode_image(sc[0].path))


def test_samples_carry_provenance(tmp_path: Path):
    samples = SyntheticCXRSource(patients_per_class=4, max_images_per_patient=3, size=32,
                                 root=str(tmp_path)).samples()
    assert {s.label for s in samples} == {"normal", "covid"}
    assert len({s.patient_id for s in samples}) == 8
    assert len(samples) >= 8  # some patients have several images
    for s in samples:
        assert s.source == "synthetic-cxr" and s.view == "PA" and not s.synthetic
        assert 18 <= s.demographics["age"] <= 90 and s.demographics["sex"] in ("F", "M")
        assert Path(s.path).is_file()


def test_positive_phantoms_are_brighter_in_the_lower_lungs(tmp_path: Path):
    samples = SyntheticCXRSource(patients_per_class=10, max_images_per_patient=1, size=64,
                                 root=str(tmp_path)).samples()

    def lower_lung_mean(label: str) -> float:
        images = [decode_image(s.path) for s in samples if s.label == label]
        return float(np.mean([im[34:52, 8:24].mean() for im in images]))

    assert lower_lung_mean("covid") > lower_lung_mean("normal")


def test_reuses_images_already_on_disk(tmp_path: Path):
    source = SyntheticCXRSource(patients_per_class=2, size=32, root=str(tmp_path))
    first = source.samples()
    stamp = Path(first[0].path).stat().st_mtime_ns
    assert source.samples() == first
    assert Path(first[0].path).stat().st_mtime_ns == stamp
