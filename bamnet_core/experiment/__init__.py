"""One experiment, end to end, as a list of stages: data, generator, decode, audit, train,
evaluate, export, report.

:func:`run_experiment` is what ``bamnet run`` calls; :func:`resume_experiment`
continues a killed run from its folder. Both are imported on first use, so that
importing one light module of this package (``experiment.stages``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["RunResult", "resume_experiment", "run_experiment"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".runner", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
