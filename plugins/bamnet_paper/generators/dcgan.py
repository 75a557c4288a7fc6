"""``dcgan``: the paper's generator, a DCGAN that synthesises images of one class.

``fit`` trains on the real training images it is given (the core passes only
training-split images of the balanced class), writing sample grids, the loss
CSV and plot, and an atomic checkpoint every epoch into ``workdir``. A killed
training resumes from its last epoch; a finished one is loaded, not retrained.
The generator is saved as ``workdir/generator.keras``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from bamnet_core.contract import (
    DataError,
    ProgressCallback,
    ProgressEvent,
    Sample,
    atomic_path,
    ensure_room,
    fingerprint,
    model_bytes,
    silent,
)

from . import checkpoint, figures
from .builders import SIZES
from .checkpoint import GanState
from .training_data import epoch_batches, fixed_latents, read_images

MODEL_FILE = "generator.keras"
_PREDICT_BATCH = 64


class DCGANGenerator:
    """A DCGAN (Radford et al.) with the paper's defaults: Adam lr 2e-4, batch 32, 1000 epochs.

    :param epochs: passes over the real images (the paper: 1000).
    :param batch_size: real images per step (the paper: 32).
    :param size: generated image side; the classifier's preprocessing resizes it.
        64, 128 or 256 for real data; 16 and 32 for tests.
    :param latent_dim: length of the latent vector.
    :param g_filters: filters of the generator's last layer (earlier layers: up to 8x).
    :param d_filters: filters of the discriminator's first layer (later: up to 8x).
    :param g_lr: the generator's Adam learning rate.
    :param d_lr: the discriminator's Adam learning rate.
    :param beta_1: Adam beta_1 of both optimizers (DCGAN: 0.5).
    :param label_smoothing: one-sided: real targets become 1 - this for the discriminator.
    :param augment: DiffAugment policies on real and fake images (for a few hundred images).
    :param sample_every: write a sample grid (and the loss plot) every N epochs.
    :param checkpoint_every: commit a resumable checkpoint every N epochs (and after the
        last); raise it when epochs take well under a second.
    :param grid: images in each sample grid.
    :param mixed_precision: compute in bfloat16 (GPU and recent CPUs); weights stay float32.
    :param min_images: refuse to train on fewer real images than this.
    """

    def __init__(self, *,
                 epochs: Annotated[int, Field(ge=1, le=100_000)] = 1000,
                 batch_size: Annotated[int, Field(ge=2, le=4096)] = 32,
                 size: Literal[16, 32, 64, 128, 256] = 64,
                 latent_dim: Annotated[int, Field(ge=2, le=4096)] = 100,
                 g_filters: Annotated[int, Field(ge=1, le=1024)] = 64,
                 d_filters: Annotated[int, Field(ge=1, le=1024)] = 64,
                 g_lr: Annotated[float, Field(gt=0.0, le=1.0)] = 2e-4,
                 d_lr: Annotated[float, Field(gt=0.0, le=1.0)] = 2e-4,
                 beta_1: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.5,
                 label_smoothing: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.0,
                 augment: list[Literal["color", "translation", "cutout"]] = [],  # noqa: B006
                 sample_every: Annotated[int, Field(ge=1)] = 10,
                 checkpoint_every: Annotated[int, Field(ge=1)] = 1,
                 grid: Annotated[int, Field(ge=1, le=256)] = 36,
                 mixed_precision: bool = False,
                 min_images: Annotated[int, Field(ge=2)] = 32) -> None:
        if size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(map(str, SIZES))}")
        self.options = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        self.options["augment"] = list(augment)
        self.__dict__.update(self.options)
        self._generator: Any = None
        self._checkpoint: Path | None = None

    def fit(self, samples: Sequence[Sample], *, workdir: Path, seed: int,
            progress: ProgressCallback = silent) -> None:
        """Train on ``samples``, or resume or load a training of the same inputs in ``workdir``."""
        samples = list(samples)
        self._check_enough(len(samples), samples, "")
        workdir = Path(workdir)
        key = fingerprint({"options": self.options, "seed": seed,
                           "images": sorted(s.path for s in samples)})
        state = checkpoint.load_state(workdir)
        if state is not None and state.fingerprint != key:
            raise DataError(f"{workdir / checkpoint.FOLDER} holds a GAN trained on other images "
                            "or options", hint="start a new run instead of resuming this one")
        self._checkpoint = workdir / MODEL_FILE
        if state is not None and state.finished and self._checkpoint.is_file():
            import keras

            self._generator = keras.models.load_model(self._checkpoint)
            return
        images, unreadable = read_images(samples, self.size)
        self._check_enough(len(images), samples, f" ({len(unreadable)} could not be read, "
                           f"e.g. {unreadable[0]})" if unreadable else "")
        self._train(images, workdir, seed, state or GanState(key, self.epochs), progress)

    def _check_enough(self, count: int, samples: Sequence[Sample], why: str) -> None:
        if count < self.min_images:
            label = samples[0].label if samples else "the balanced class"
            raise DataError(f"dcgan needs at least {self.min_images} training images of "
                            f"{label!r}; the training split has {count}{why}",
                            hint="add images of that class, lower [generator] min_images, or "
                                 "set generator.enabled = false")

    def _build(self) -> Any:
        import keras

        from .adversarial import make_dcgan
        from .builders import build_discriminator, build_generator

        dtype = keras.DTypePolicy("mixed_bfloat16") if self.mixed_precision else None
        gan = make_dcgan(build_generator(latent_dim=self.latent_dim, size=self.size,
                                    filters=self.g_filters, dtype=dtype),
                    build_discriminator(size=self.size, filters=self.d_filters, dtype=dtype),
                    label_smoothing=self.label_smoothing, augment=tuple(self.augment))
        gan.compile(d_optimizer=keras.optimizers.Adam(self.d_lr, beta_1=self.beta_1),
                    g_optimizer=keras.optimizers.Adam(self.g_lr, beta_1=self.beta_1))
        return gan

    def _train(self, images: np.ndarray, workdir: Path, seed: int, state: GanState,
               progress: ProgressCallback) -> None:
        from .callbacks import gan_progress, gan_recorder

        gan = self._build()
        if state.epoch:
            checkpoint.restore_epoch(workdir, gan, state)
        batch = min(self.batch_size, len(images))
        steps = max(1, len(images) // batch)
        callbacks = [gan_progress(progress, epochs=self.epochs, steps=steps),
                     gan_recorder(workdir=workdir, state=state, sample_every=self.sample_every,
                                  checkpoint_every=self.checkpoint_every,
                                  latents=fixed_latents(seed, self.grid, self.latent_dim))]
        for epoch in range(state.epoch, self.epochs):
            data = epoch_batches(images, seed=seed, epoch=epoch, batch_size=batch,
                                 latent_dim=self.latent_dim)
            gan.fit(data, batch_size=batch, epochs=epoch + 1, initial_epoch=epoch,
                    shuffle=False, verbose=0, callbacks=callbacks)
        ensure_room(workdir, model_bytes(gan.generator), f"the trained generator {MODEL_FILE}")
        with atomic_path(workdir / MODEL_FILE) as tmp:
            gan.generator.save(tmp)
        state.finished = True
        checkpoint.write_state(workdir, state)
        self._generator = gan.generator

    def generate(self, count: int, *, label: str, outdir: Path, seed: int,
                 progress: ProgressCallback = silent) -> list[Sample]:
        """Write ``count`` PNGs to ``outdir`` from latents drawn from ``seed``."""
        if self._generator is None:
            raise DataError("dcgan.generate was called before fit",
                            hint="call fit first; it trains or loads the generator")
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([seed, 13])
        latents = rng.standard_normal((count, self.latent_dim)).astype(np.float32)
        made = []
        for start in range(0, count, _PREDICT_BATCH):
            images = figures.to_uint8(self._generator.predict(
                latents[start:start + _PREDICT_BATCH], verbose=0))
            for offset, image in enumerate(images):
                index = start + offset
                path = outdir / f"dcgan-{index:05d}.png"
                figures.write_png(path, image)
                made.append(Sample(path=str(path), label=label,
                                   patient_id=f"synthetic-dcgan-{index:05d}", source="dcgan",
                                   synthetic=True, generator="dcgan", generator_seed=seed,
                                   generator_checkpoint=str(self._checkpoint),
                                   generator_index=index))
            progress(ProgressEvent("generator", len(made), count, "writing synthetic images"))
        return made
