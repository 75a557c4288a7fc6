"""The run's own validation predictions, read back from ``predictions.csv``.

``bamnet evaluate`` scores other data with the operating threshold the run's
validation split chose; evaluators that choose a threshold (``roc``) read it
from these predictions, exactly as they did during the run.
"""

from __future__ import annotations

import csv

import numpy as np

from ..config.resolved import Config
from ..contract.evaluation import SplitPredictions
from ..contract.sample import Sample
from ..errors import RunError
from ..runs import folder as rf
from ..runs import layout


def validation_predictions(run: rf.RunFolder, config: Config) -> SplitPredictions | None:
    """The ``val`` rows of the run's ``predictions.csv``; None when the run has none.

    :raises RunError: when the file is damaged (a row without a class probability).
    """
    path = run.file(layout.PREDICTIONS)
    if not path.is_file():
        return None
    classes = config.data.classes
    samples, y, probs = [], [], []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("split") != "val" or row.get("label") not in classes:
                    continue
                samples.append(Sample(path=row["path"], label=row["label"],
                                      patient_id=row["patient_id"], source=row["source"]))
                y.append(classes.index(row["label"]))
                probs.append([float(row[f"p_{c}"]) for c in classes])
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise RunError(f"{path} is damaged ({exc})", hint="the run folder is damaged; "
                       "`bamnet resume RUN --from evaluate` writes it again") from None
    if not samples:
        return None
    return SplitPredictions(name="val", y_true=np.array(y, dtype=np.int64),
                            y_prob=np.array(probs, dtype=np.float64), samples=samples)
