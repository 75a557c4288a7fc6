"""``gan-quality``: are the generator's images any good, and are they copies?

FID and KID between synthetic and real training images of the balanced class
(in the trained classifier's penultimate layer by default, or a VGG16 with
given weights, and the standard Inception space when its weights file is
present); for each synthetic image its nearest real image in pixel space and
in feature space, with near-copies flagged; a grid of the closest pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from bamnet_core.contract import PreprocessSpec, atomic_path

from . import distances
from .figures import nearest_pairs_png
from .spaces import INCEPTION_FILE, backbone_embedding, gray_unit, keras_cache_file


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"min": float(values.min()), "median": float(np.median(values)),
            "max": float(values.max())}


class GanQualityEvaluator:
    """FID/KID and a nearest-neighbour memorisation check of synthetic images.

    :param space: feature space of FID/KID and the feature-space neighbours:
        ``classifier`` (the trained model's penultimate layer) or ``vgg16``.
    :param vgg16_weights: weights of the ``vgg16`` space: a local ``.h5`` file, or
        ``none`` (random weights: only comparable within one run).
    :param inception_weights: ``auto`` adds the standard Inception FID when the Keras
        cache holds the ImageNet InceptionV3 notop file; a path uses that file; ``off``.
    :param pixel_size: side of the downsampled images compared in pixel space.
    :param copy_ratio: a synthetic image is a near-copy when its nearest real image is
        closer than this fraction of the median real-to-real nearest distance.
    :param pairs: closest pairs shown in ``nearest-pairs.png``.
    """

    def __init__(self, *, space: Literal["classifier", "vgg16"] = "classifier",
                 vgg16_weights: str = "none", inception_weights: str = "auto",
                 pixel_size: Annotated[int, Field(ge=4, le=256)] = 32,
                 copy_ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5,
                 pairs: Annotated[int, Field(ge=1, le=100)] = 12) -> None:
        for name, value in (("vgg16_weights", vgg16_weights),
                            ("inception_weights", inception_weights)):
            if value not in ("none", "auto", "off") and not Path(value).is_file():
                raise ValueError(f"{name} {value!r} is not a file (give a local .h5 path)")
        if vgg16_weights == "auto" or inception_weights == "none":
            raise ValueError("vgg16_weights is 'none' or a path; inception_weights is "
                             "'auto', 'off' or a path")
        self.space, self.vgg16_weights = space, vgg16_weights
        self.inception_weights = inception_weights
        self.pixel_size, self.copy_ratio, self.pairs = pixel_size, copy_ratio, pairs

    def _inception_file(self) -> Path | None:
        if self.inception_weights == "off":
            return None
        if self.inception_weights == "auto":
            found = keras_cache_file(INCEPTION_FILE)
            return found if found.is_file() else None
        return Path(self.inception_weights)

    def assess(self, real: np.ndarray, synthetic: np.ndarray, *,
               embed: Callable[[np.ndarray], np.ndarray], space: str, spec: PreprocessSpec,
               real_paths: Sequence[str], synthetic_paths: Sequence[str],
               outdir: Path) -> dict[str, Any]:
        """The figures, the flagged near-copies, and where the pictures and table are."""
        real_u, syn_u = gray_unit(real, spec), gray_unit(synthetic, spec)
        if self.space == "vgg16":
            weights = None if self.vgg16_weights == "none" else self.vgg16_weights
            embed = backbone_embedding("vgg16", weights)
            space = f"vgg16 global-average-pool ({weights or 'random weights'})"
            feats_real, feats_syn = embed(real_u), embed(syn_u)
        else:
            feats_real, feats_syn = embed(real), embed(synthetic)
        result: dict[str, Any] = {"real_images": len(real), "synthetic_images": len(synthetic),
                                  "space": space, **self._distribution(feats_real, feats_syn)}
        inception = self._inception_file()
        if inception is not None:
            embed_i = backbone_embedding("inception-v3", str(inception))
            result["inception"] = {"space": f"InceptionV3 pool3 ({inception.name})",
                                   **self._distribution(embed_i(real_u), embed_i(syn_u))}
        memo = self._memorisation(real_u, syn_u, feats_real, feats_syn)
        outdir.mkdir(parents=True, exist_ok=True)
        order = np.argsort(memo.pop("_ratio"))[: self.pairs]
        nn = memo.pop("_nn")
        nearest_pairs_png(outdir / "nearest-pairs.png", syn_u[order], real_u[nn[order]],
                          memo.pop("_dist")[order], ratio=self.copy_ratio)
        self._table(outdir / "nearest.csv", synthetic_paths, real_paths, memo.pop("_rows"))
        result["memorisation"] = memo
        result["figures"] = {"nearest_pairs": "nearest-pairs.png",
                             "nearest_table": "nearest.csv"}
        return result

    @staticmethod
    def _distribution(real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
        """FID and KID, and what two halves of the real images score (the noise floor)."""
        kid_mean, kid_std = distances.kid(real, syn)
        out: dict[str, Any] = {"fid": distances.fid(real, syn), "kid": kid_mean,
                               "kid_std": kid_std, "feature_dim": int(real.shape[1])}
        if len(real) >= 4:
            half = np.random.default_rng(0).permutation(len(real))
            a, b = real[half[: len(real) // 2]], real[half[len(real) // 2:]]
            out["real_vs_real"] = {"fid": distances.fid(a, b), "kid": distances.kid(a, b)[0],
                                   "note": "two halves of the real images: the floor at "
                                           "this sample size"}
        return out

    def _memorisation(self, real_u: np.ndarray, syn_u: np.ndarray, feats_real: np.ndarray,
                      feats_syn: np.ndarray) -> dict[str, Any]:
        import cv2

        def small(images: np.ndarray) -> np.ndarray:
            side = self.pixel_size
            return np.stack([cv2.resize(im, (side, side), interpolation=cv2.INTER_AREA)
                             for im in images]).reshape(len(images), -1) / side

        out: dict[str, Any] = {"copy_ratio": self.copy_ratio}
        rows: list[dict[str, Any]] = [{} for _ in range(len(syn_u))]
        flagged = np.zeros(len(syn_u), bool)
        for name, r, s in (("pixel", small(real_u), small(syn_u)),
                           ("feature", feats_real, feats_syn)):
            nn, dist = distances.nearest(s, r)
            ref = float(np.median(distances.nearest_other(r))) if len(r) > 1 else float("nan")
            ratio = dist / ref if ref > 0 else np.zeros_like(dist)
            copies = ratio < self.copy_ratio
            flagged |= copies
            out[name] = {"nearest_distance": _summary(dist), "real_to_real_median": ref,
                         "near_copies": int(copies.sum())}
            for i in range(len(syn_u)):
                rows[i].update({f"{name}_nearest": int(nn[i]), f"{name}_distance": float(dist[i]),
                                f"{name}_ratio": float(ratio[i]),
                                f"{name}_near_copy": bool(copies[i])})
            if name == "pixel":
                out["_nn"], out["_dist"], out["_ratio"] = nn, dist, ratio
        if not np.isfinite(out["pixel"]["real_to_real_median"]):
            out["pixel"]["real_to_real_median"] = out["feature"]["real_to_real_median"] = None
        out["near_copies"] = int(flagged.sum())
        out["near_copy_fraction"] = float(flagged.mean())
        out["_rows"] = rows
        return out

    @staticmethod
    def _table(path: Path, synthetic_paths: Sequence[str], real_paths: Sequence[str],
               rows: list[dict[str, Any]]) -> None:
        import csv
        import io

        out = io.StringIO()
        names = ["synthetic", "pixel_nearest_real", "pixel_distance", "pixel_ratio",
                 "feature_nearest_real", "feature_distance", "feature_ratio", "near_copy"]
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for syn, row in zip(synthetic_paths, rows, strict=True):
            writer.writerow([syn, real_paths[row["pixel_nearest"]], f"{row['pixel_distance']:.5f}",
                             f"{row['pixel_ratio']:.4f}", real_paths[row["feature_nearest"]],
                             f"{row['feature_distance']:.5f}", f"{row['feature_ratio']:.4f}",
                             row["pixel_near_copy"] or row["feature_near_copy"]])
        with atomic_path(path) as tmp:
            tmp.write_text(out.getvalue(), encoding="utf-8")
