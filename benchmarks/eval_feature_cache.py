"""Evaluation time of a frozen VGG16 (paper-best head): full model vs cached features.

Builds VGG16 (``weights = "none"``, frozen) with the paper-best head, fills the
feature cache for ``--images`` random images as training does for validation,
then times ``ModelInference.probabilities`` through the full model (what
evaluation did before) and through the cached features (what it does now),
and checks both give the same probabilities. Prints seconds and the ratio. Not a test.

    PYTHONPATH=.:plugins python benchmarks/eval_feature_cache.py --images 64 --size 224
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def main() -> None:
    """Time both paths and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args()
    os.environ.setdefault("BAMNET_CACHE_DIR", tempfile.mkdtemp(prefix="bamnet-bench-"))
    from bamnet_core.contract import PreprocessSpec, compose
    from bamnet_core.train.feature_cache import cached_features
    from bamnet_core.train.inference import ModelInference
    from bamnet_paper.backbones.vgg16 import VGG16Backbone

    spec = PreprocessSpec(size=args.size, channels=3, scaling="caffe")
    backbone = VGG16Backbone(weights="none", head="paper-best")
    extractor = backbone.feature_extractor(spec.input_shape)
    model = compose(extractor, backbone.head(extractor.output_shape[1:], 2))
    x = np.random.default_rng(0).random((args.images, args.size, args.size, 3)).astype(
        np.float32) * 255
    start = time.perf_counter()
    cached_features(extractor, x, spec=spec)  # what training leaves behind for validation
    fill = time.perf_counter() - start
    full = ModelInference(model, spec, from_cache=False)
    fast = ModelInference(model, spec, from_cache=True)
    full.probabilities(x[:2])
    fast.probabilities(x[:2])  # warm both graphs
    start = time.perf_counter()
    p_full = full.probabilities(x)
    t_full = time.perf_counter() - start
    start = time.perf_counter()
    p_fast = fast.probabilities(x)
    t_fast = time.perf_counter() - start
    print(f"images {args.images} at {args.size}px, VGG16 frozen + paper-best head")
    print(f"filling the feature cache (done once, in training): {fill:.2f} s")
    print(f"evaluation through the full model:  {t_full:.2f} s")
    print(f"evaluation on cached features:      {t_fast:.2f} s  ({t_full / t_fast:.1f}x faster)")
    print(f"max |difference| of probabilities:  {np.abs(p_full - p_fast).max():.2e}")


if __name__ == "__main__":
    main()
