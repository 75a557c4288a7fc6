"""Built-in backbones: ``vgg16`` (the paper's) and ``small-cnn`` (CPU demos and tests)."""

from __future__ import annotations

from bamnet_core.contract import hookimpl

from .small_cnn import SmallCNN
from .vgg16 import VGG16Backbone


@hookimpl
def register_backbones(register):
    """Register the built-in backbones."""
    register("small-cnn", SmallCNN)
    register("vgg16", VGG16Backbone)
