"""Property: a patient-grouped split never puts one patient in two splits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bamnet_core.contract import Sample
from bamnet_core.data.splits import split_samples

patients = st.lists(
    st.tuples(st.integers(0, 30), st.sampled_from(["covid", "normal", "other"])),
    min_size=1, max_size=120)


@settings(max_examples=150, deadline=None)
@given(rows=patients, val=st.floats(0.05, 0.5), test=st.floats(0.0, 0.4),
       seed=st.integers(0, 2**31))
def test_patient_split_never_shares_a_patient(rows, val, test, seed):
    samples = [Sample(path=f"img{i}.png", label=label, patient_id=f"p{pid}", source="s")
               for i, (pid, label) in enumerate(rows)]
    split = split_samples(samples, val=val, test=test, seed=seed, by="patient")
    assert split.patients_in_several_splits() == {}
    placed = sorted(s.path for part in split.assignment.values() for s in part)
    assert placed == sorted(s.path for s in samples)  # every image exactly once
    again = split_samples(samples, val=val, test=test, seed=seed, by="patient")
    assert again.assignment == split.assignment  # seedable: same seed, same split


def test_image_split_is_reported_leaky():
    samples = [Sample(path=f"{p}-{k}.png", label="covid" if p % 2 else "normal",
                      patient_id=f"p{p}", source="s") for p in range(10) for k in range(3)]
    split = split_samples(samples, val=0.4, seed=1, by="image")
    assert split.leaky and split.patients_in_several_splits()


def test_limit_per_class_takes_whole_patients_first():
    from bamnet_core.contract import Sample
    from bamnet_core.data.subset import limit_per_class

    samples = [Sample(path=f"{label}{p}-{k}.png", label=label, patient_id=f"{label}{p}",
                      source="s") for label in ("covid", "normal") for p in range(10)
               for k in range(3)]
    picked = limit_per_class(samples, 7, seed=1)
    for label in ("covid", "normal"):
        mine = [s for s in picked if s.label == label]
        assert len(mine) == 7
        patients = {s.patient_id for s in mine}
        assert len(patients) == 3  # 3 + 3 + 1: two whole patients, then one cut
    assert picked == [s for s in samples if s in picked]  # input order kept
    assert limit_per_class(samples, 7, seed=1) == picked  # seeded
    assert limit_per_class(samples, 100, seed=1) == samples
