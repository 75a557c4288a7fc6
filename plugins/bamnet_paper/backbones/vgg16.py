"""``vgg16``: Keras' VGG16 without its top, frozen as configured, plus a named head.

Offers the ``SplitBackbone`` capability, so a frozen VGG16's features can be
cached and only the head trained on them, ``ChecksPreprocess`` and
``FineTunable`` (fine-tuning unfreezes from ``block5`` unless told otherwise).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

from bamnet_core.contract import ConfigError, compose

from .heads import HEADS, check_head
from .vgg16_weights import missing_weights, resolve_weights

_BLOCKS = 5
_FREEZE = re.compile(r"^block([1-5])$")


class VGG16Backbone:
    """VGG16 (ImageNet, a local .h5, or random weights) with a paper head.

    :param weights: ``"imagenet"`` (Keras' cache; downloaded only when online),
        ``"none"`` (random initialisation), or the path of a notop ``.h5``.
    :param head: one of the registered heads (``pyimagesearch``, ``paper-best``).
    :param freeze: ``"all"`` freezes VGG16; ``"blockN"`` freezes blocks 1..N;
        ``"none"`` trains everything.
    :param dropout: dropout rate of the head.
    """

    finetune_from = "block5"
    gradcam_layer = "block5_conv3"  # NamesGradCamLayer: VGG16's last convolution

    def __init__(self, *, weights: str = "imagenet", head: str = "paper-best",
                 freeze: str = "all",
                 dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5) -> None:
        check_head(head)
        if freeze not in ("all", "none") and not _FREEZE.match(freeze):
            raise ConfigError(f"[backbone] freeze {freeze!r} is not 'all', 'none' or 'block1'.."
                              f"'block{_BLOCKS}'", hint='for example freeze = "block4"')
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"[backbone] dropout must be in [0, 1), got {dropout}")
        self.weights = weights
        self.head_name = head
        self.freeze = freeze
        self.dropout = dropout

    def missing_files(self) -> list[tuple[str, str]]:
        """NeedsFiles: the weights file, when it is neither here nor downloadable now."""
        return missing_weights(self.weights)

    def check_preprocess(self, spec: Any) -> None:
        """VGG16 needs 3 channels and at least 32 pixels; pretrained weights need caffe scaling."""
        if spec.channels != 3:
            raise ConfigError("backbone vgg16 needs [preprocess] channels = 3",
                              hint="set --set preprocess.channels=3")
        if spec.size < 32:
            raise ConfigError("backbone vgg16 needs [preprocess] size >= 32")
        if self.weights != "none" and spec.scaling != "caffe":
            raise ConfigError(
                f'backbone vgg16 with weights {self.weights!r} needs [preprocess] scaling = "caffe"'
                " (the ImageNet mode its weights were trained with)",
                hint="set --set preprocess.scaling=caffe")

    def frozen_blocks(self) -> int:
        """How many of VGG16's five blocks are frozen."""
        if self.freeze == "all":
            return _BLOCKS
        if self.freeze == "none":
            return 0
        return int(self.freeze[len("block"):])

    def feature_extractor(self, input_shape: tuple[int, int, int]) -> Any:
        """VGG16 without top, named ``backbone``, layers ``block<b>_conv<i>``/``block<b>_pool``."""
        import keras

        path = resolve_weights(self.weights)
        base = keras.applications.VGG16(include_top=False, weights=None,
                                        input_shape=tuple(input_shape))
        if path is not None:
            base.load_weights(str(path))
        extractor = keras.Model(base.input, base.output, name="backbone")
        frozen = self.frozen_blocks()
        for layer in extractor.layers:
            match = re.match(r"^block(\d)_", layer.name)
            layer.trainable = not (match and int(match.group(1)) <= frozen)
        return extractor

    def head(self, feature_shape: tuple[int, ...], num_classes: int) -> Any:
        """The configured head on VGG16's feature maps."""
        return HEADS[self.head_name](tuple(feature_shape), num_classes, self.dropout)

    def build(self, input_shape: tuple[int, int, int], num_classes: int) -> Any:
        """The full model: VGG16 then the head."""
        extractor = self.feature_extractor(input_shape)
        return compose(extractor, self.head(extractor.output_shape[1:], num_classes),
                       name="vgg16_classifier")
