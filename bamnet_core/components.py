"""Alias kept for plugins written against bamnet 0.1: import from :mod:`bamnet_core.contract`."""

from __future__ import annotations

from .contract.capabilities import SplitBackbone  # noqa: F401
from .contract.protocols import Backbone, DatasetSource, Evaluator, Generator, compose  # noqa: F401
from .contract.sample import Sample, iter_samples  # noqa: F401
