"""DCGAN training speed: steps/s (one discriminator + one generator update) per image size.

Builds the ``dcgan`` plugin's networks with its defaults (64 filters, latent
100, Adam 2e-4) on random images, runs the plugin's own ``train_step`` through
``fit`` for a warm-up epoch (tracing), then times ``--steps`` steps. Prints one
JSON line per size with the backend and device. Not a test.

    PYTHONPATH=.:plugins python benchmarks/gan_speed.py --sizes 64 128
    KERAS_BACKEND=jax PYTHONPATH=.:plugins python benchmarks/gan_speed.py --save-generator g.keras
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def device() -> str:
    """The device Keras computes on, in words."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return str(jax.devices()[0])
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return gpus[0].name if gpus else "CPU"


def measure(size: int, *, batch: int, steps: int, augment: tuple[str, ...],
            mixed: bool, save: str | None) -> dict:
    """Steps/s of the plugin's GAN at ``size`` px."""
    import keras

    from bamnet_paper.generators.dcgan import DCGANGenerator
    from bamnet_paper.generators.training_data import epoch_batches

    gan_plugin = DCGANGenerator(size=size, batch_size=batch, augment=list(augment),
                                mixed_precision=mixed)
    gan = gan_plugin._build()
    images = np.random.default_rng(0).uniform(-1, 1, (batch * steps, size, size, 1))
    data = epoch_batches(images.astype(np.float32), seed=0, epoch=0, batch_size=batch,
                         latent_dim=gan_plugin.latent_dim)
    warm = {k: v[: batch * 2] for k, v in data.items()}
    start = time.perf_counter()
    gan.fit(warm, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    gan.fit(data, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    if save:
        gan.generator.save(save)
    return {"size": size, "batch": batch, "steps": steps, "augment": list(augment),
            "mixed_precision": mixed, "backend": keras.backend.backend(), "device": device(),
            "warmup_s": round(warmup, 2), "steps_per_s": round(steps / seconds, 3),
            "images_per_s": round(steps * batch / seconds, 1),
            "load_average_1min": round(os.getloadavg()[0], 1)}  # shared machines: say so


def main() -> None:
    """Parse arguments, measure each size, print JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--augment", action="store_true", help="DiffAugment on (all three)")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--save-generator", help="save the last size's generator (.keras)")
    args = parser.parse_args()
    for size in args.sizes:
        print(json.dumps(measure(size, batch=args.batch, steps=args.steps,
                                 augment=("color", "translation", "cutout") if args.augment
                                 else (), mixed=args.mixed_precision,
                                 save=args.save_generator)), flush=True)


if __name__ == "__main__":
    main()
