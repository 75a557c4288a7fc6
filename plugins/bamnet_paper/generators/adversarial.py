"""The adversarial model: a ``keras.Model`` with two optimizers and its own ``train_step``.

After keras-io's ``dcgan_overriding_train_step``: a named generator and
discriminator, ``compile(d_optimizer, g_optimizer)``, one discriminator update
then one generator update per batch, losses tracked as ``d_loss`` and
``g_loss``. Every batch is a dict of tensors (real images, two latent batches,
augmentation parameters) drawn on the host, so the step is a pure function of
its inputs; the gradient itself is backend-specific and lives in
:mod:`.steps`, the one place that knows the backend.
"""

from __future__ import annotations

import functools
from typing import Any

from . import diffaugment, steps


@functools.cache
def classes() -> tuple[type, type]:
    """``(OptimizerPair, DCGAN)``, defined on first use so importing this module stays cheap."""
    import keras
    from keras import ops

    class OptimizerPair(keras.optimizers.Optimizer):
        """Presents the discriminator's and generator's optimizers as one to ``fit``.

        Keras' trainers hold one optimizer; on JAX its variables are the training
        state threaded through every step. This wrapper's variables are both
        optimizers' variables (discriminator first), so both are carried and
        saved; the step applies each optimizer to its own network.
        """

        def __init__(self, d_optimizer: Any, g_optimizer: Any, gan: DCGAN) -> None:
            super().__init__(learning_rate=0.0, name="optimizer_pair")
            self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
            self._gan = gan

        def build(self, variables: list[Any]) -> None:
            """Build both optimizers on their own network's trainable variables."""
            if self.built:
                return
            super().build(variables)
            self.d_optimizer.build(self._gan.discriminator.trainable_variables)
            self.g_optimizer.build(self._gan.generator.trainable_variables)

        @property
        def variables(self) -> list[Any]:
            """Both optimizers' variables, discriminator first."""
            return list(self.d_optimizer.variables) + list(self.g_optimizer.variables)


    class DCGAN(keras.Model):
        """A generator and a discriminator trained against each other.

        :param generator: latent vector -> image in [-1, 1].
        :param discriminator: image -> one logit.
        :param label_smoothing: one-sided label smoothing: real targets are
            ``1 - label_smoothing`` for the discriminator (fakes stay 0).
        :param augment: DiffAugment policies applied to real and fake images
            before the discriminator (empty = none).
        """

        def __init__(self, generator: Any, discriminator: Any, *, label_smoothing: float = 0.0,
                     augment: tuple[str, ...] = (), **kwargs: Any) -> None:
            super().__init__(name="dcgan", **kwargs)
            self.generator = generator
            self.discriminator = discriminator
            self.label_smoothing = float(label_smoothing)
            self.augment_policy = tuple(augment)
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self) -> list[Any]:
            """The two loss trackers (reset at each epoch by ``fit``)."""
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer: Any, g_optimizer: Any, **kwargs: Any) -> None:
            """Attach one optimizer per network."""
            self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
            super().compile(optimizer=OptimizerPair(d_optimizer, g_optimizer, self), **kwargs)

        def call(self, batch: Any, training: bool = False) -> Any:
            """Generated images for the batch's generator latents (used to build the model)."""
            return self.generator(batch["z_g"], training=training)

        def prepare(self, images: Any, batch: dict[str, Any]) -> Any:
            """What the discriminator sees: ``images`` after the batch's augmentation."""
            if not self.augment_policy:
                return ops.cast(images, "float32")
            return diffaugment.augment(images, batch, self.augment_policy)

        def d_loss(self, real_logits: Any, fake_logits: Any) -> Any:
            """Discriminator loss: real -> ``1 - label_smoothing``, fake -> 0."""
            real_target = ops.full_like(real_logits, 1.0 - self.label_smoothing)
            real = keras.losses.binary_crossentropy(real_target, real_logits, from_logits=True)
            fake = keras.losses.binary_crossentropy(ops.zeros_like(fake_logits), fake_logits,
                                                    from_logits=True)
            return ops.mean(real) + ops.mean(fake)

        def g_loss(self, fake_logits: Any) -> Any:
            """Generator loss (non-saturating): fakes should be called real."""
            return ops.mean(keras.losses.binary_crossentropy(ops.ones_like(fake_logits),
                                                             fake_logits, from_logits=True))

        def train_step(self, *args: Any) -> Any:
            """One discriminator update, then one generator update."""
            backend = keras.backend.backend()
            if backend == "jax":
                return steps.jax_train_step(self, *args)
            if backend == "torch":
                return steps.torch_train_step(self, args[0])
            return steps.tensorflow_train_step(self, args[0])

    return OptimizerPair, DCGAN


def make_dcgan(generator: Any, discriminator: Any, **kwargs: Any) -> Any:
    """A :class:`DCGAN` of the two networks (see ``classes``)."""
    return classes()[1](generator, discriminator, **kwargs)
