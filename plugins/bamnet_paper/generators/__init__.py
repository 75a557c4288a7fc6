"""Built-in generators: ``dcgan``, the paper's DCGAN, for class balancing."""

from __future__ import annotations

from bamnet_core.contract import hookimpl

from .dcgan import DCGANGenerator


@hookimpl
def register_generators(register):
    """Register the built-in generators."""
    register("dcgan", DCGANGenerator)
