"""Built-in evaluator ``gan-quality``: FID/KID and a memorisation check of synthetic images."""

from __future__ import annotations

from bamnet_core.contract import hookimpl

from .evaluator import GanQualityEvaluator


@hookimpl
def register_evaluators(register):
    """Register ``gan-quality``."""
    register("gan-quality", GanQualityEvaluator)
