"""Built-in dataset sources."""

from __future__ import annotations

from bamnet_core.hookspecs import hookimpl

from .synthetic import SyntheticCXRSource


@hookimpl
def register_dataset_sources(register):
    """Register the built-in dataset sources."""
    register("synthetic-cxr", SyntheticCXRSource)
