"""One experiment, end to end: data, split, generator, training, evaluation, run folder.

:func:`run_experiment` is what ``bamnet run`` calls; :func:`resume_experiment`
continues a killed run from its folder.
"""

from __future__ import annotations

from .runner import RunResult, resume_experiment, run_experiment

__all__ = ["RunResult", "resume_experiment", "run_experiment"]
