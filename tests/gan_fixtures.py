"""A tiny imbalanced config with the DCGAN on: 16 px GAN, a few epochs, seconds on CPU."""

from __future__ import annotations

from bamnet_testing import TINY_CONFIG

GAN_SECTION = """
[generator]
enabled = true
name = "dcgan"
balance_class = "covid"
ratio = 1.0
epochs = {epochs}
batch_size = 4
size = 16
latent_dim = 8
g_filters = 4
d_filters = 4
sample_every = 2
grid = 4
min_images = 4
augment = ["color", "translation", "cutout"]
label_smoothing = 0.1
"""


def tiny_gan_config(epochs: int = 3) -> str:
    """TINY_CONFIG with a third of the covid patients and a DCGAN balancing them."""
    text = TINY_CONFIG.replace("patients_per_class = 12\n",
                               "patients_per_class = 12\npositive_patients = 6\n")
    text = text.replace("[evaluate]\n", '[evaluate]\nevaluators = ["classification", '
                                         '"gan-quality"]\n')
    return text + GAN_SECTION.format(epochs=epochs)
