"""How often the subgroup test flags a group: with nothing wrong, and with a group the model fails.

Each trial draws one split of 240 single-image patients: a model with sensitivity 0.6
and specificity 0.95 on every image, and a sex drawn independently of the images, with
women holding 20% covid images and men 80% (so the groups differ only in class mix).
In the "fails" trials the model also misses every covid image of one age band (60-79,
a quarter of the images). It prints, per kind of trial, the share of trials that
flagged the group: by the subgroup test bamnet uses (sensitivity, specificity and AUC
against the rest, permutation test over patients, Holm-corrected), and by the accuracy rule
runs used before it (the bootstrap interval of the accuracy gap below 0, uncorrected).

    python benchmarks/subgroup_flags.py [--trials 100]
"""

from __future__ import annotations

import argparse

import numpy as np

from bamnet_core.contract import Sample
from bamnet_core.data.patient_bootstrap import weighted_bootstrap, weighted_mean
from bamnet_core.experiment.subgroups import REPLICATES, subgroup_metrics

CLASSES = ["normal", "covid"]


def trial(seed: int, fails: bool) -> tuple[list[Sample], np.ndarray, np.ndarray]:
    """One split: samples, true class indices, probabilities."""
    rng = np.random.default_rng(seed)
    samples, y, probs = [], [], []
    for i in range(240):
        sex = "F" if i % 2 else "M"
        age = 70 if i % 4 < 2 else 30
        label = int(rng.random() < (0.2 if sex == "F" else 0.8))
        right = rng.random() < (0.6 if label else 0.95)
        if fails and age == 70 and label:
            right = False
        p = 0.9 if (label == 1) == right else 0.1
        samples.append(Sample(path=f"/x/{i}.png", label=CLASSES[label], patient_id=f"p{i}",
                              source="one", demographics={"sex": sex, "age": age}))
        y.append(label)
        probs.append([1 - p, p])
    return samples, np.array(y), np.array(probs)


def accuracy_rule(values: np.ndarray, group: str, correct: np.ndarray,
                  patients: list[str], seed: int) -> bool:
    """The rule before the corrected test: the accuracy gap's interval lies below 0."""
    inside = values == group

    def gap(w: np.ndarray) -> np.ndarray:
        return weighted_mean(w[:, inside], correct[inside]) - \
            weighted_mean(w[:, ~inside], correct[~inside])

    interval = weighted_bootstrap(gap, patients, replicates=REPLICATES, seed=seed)
    return interval is not None and interval[1] < 0


def main() -> None:
    """Print the share of trials flagged, per kind of trial and rule."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    print(f"{'trial':<34} {'group':<16} {'bamnet test':>12} {'accuracy rule':>14}")
    for fails, group, attribute in ((False, "M", "sex"), (False, "any", None),
                                    (True, "60-79", "age_band")):
        new = old = 0
        for seed in range(args.trials):
            samples, y, probs = trial(seed, fails)
            found = subgroup_metrics(samples, y, probs, classes=CLASSES, positive="covid",
                                     threshold=0.5, split="test", seed=seed)
            correct = ((probs[:, 1] >= 0.5).astype(int) == y).astype(np.float64)
            patients = [s.patient_id for s in samples]
            sexes = np.array([s.demographics["sex"] for s in samples])
            bands = np.array(["60-79" if s.demographics["age"] == 70 else "18-39"
                              for s in samples])
            if attribute is None:  # any group of either attribute
                new += bool(found["worse"])
                old += any(accuracy_rule(values, g, correct, patients, seed)
                           for values in (sexes, bands) for g in set(values))
                continue
            new += f"{attribute}={group}" in found["worse"]
            values = bands if attribute == "age_band" else sexes
            old += accuracy_rule(values, group, correct, patients, seed)
        kind = "model fails one age band" if fails else "class mix only (nothing wrong)"
        shown = "any group" if attribute is None else f"{attribute}={group}"
        print(f"{kind:<34} {shown:<16} {new / args.trials:>12.2f} {old / args.trials:>14.2f}")


if __name__ == "__main__":
    main()
