"""What training needs before the first step: seeds, device, precision, optimizer, weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config.schema import OptimizerSection
from .backend import import_keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend; make TensorFlow ops deterministic."""
    keras = import_keras()

    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def describe_device() -> dict[str, Any]:
    """Which backend and device training runs on (for ``meta.json``)."""
    import keras

    backend = keras.backend.backend()
    info: dict[str, Any] = {"keras": keras.__version__, "backend": backend, "device": "CPU"}
    if backend == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            info["device"] = "GPU"
            info["gpus"] = [g.name for g in gpus]
    elif backend == "jax":
        import jax

        devices = jax.devices()
        info["jax"] = jax.__version__
        info["device"] = devices[0].platform.upper() if devices else "CPU"
    elif backend == "torch":
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["device"] = "GPU"
            info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def mixed_policy() -> str:
    """``mixed_float16`` on a GPU; ``mixed_bfloat16`` on CPUs (AMX/AVX-512 BF16 run it)."""
    return "mixed_float16" if describe_device()["device"] == "GPU" else "mixed_bfloat16"


def build_optimizer(opt: OptimizerSection) -> Any:
    """An optimizer from ``[train.optimizer]``.

    ``decay`` is the classic Keras learning-rate decay, ``lr / (1 + decay * step)``,
    expressed as an inverse-time schedule. The paper's "momentum 0.833" is
    Adam's ``beta_1 = 5/6``.
    """
    import keras

    lr: Any = opt.lr
    if opt.decay > 0:
        lr = keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=opt.lr, decay_steps=1, decay_rate=opt.decay
        )
    if opt.name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=opt.beta_1)
    return keras.optimizers.Adam(learning_rate=lr, beta_1=opt.beta_1, beta_2=opt.beta_2)


def class_weights(y: np.ndarray, num_classes: int) -> dict[int, float]:
    """Balanced weights, ``n / (k * count)``, for classes present in ``y``."""
    counts = np.bincount(y, minlength=num_classes)
    n, k = len(y), int((counts > 0).sum())
    return {i: float(n / (k * c)) for i, c in enumerate(counts) if c > 0}


def check_float32_output(model: Any, backbone: str) -> None:
    """Refuse a mixed-precision model whose output is not float32.

    Under ``mixed_float16`` a softmax computed in half precision saturates
    (probabilities of exactly 0 and 1, an infinite loss); the final layer must
    compute in float32 (``dtype="float32"`` on it), as the built-in heads do.
    """
    from ..errors import ConfigError

    dtypes = {str(getattr(t, "dtype", "float32")) for t in model.outputs}
    if dtypes != {"float32"}:
        raise ConfigError(f"train.mixed_precision = true, but backbone {backbone!r} outputs "
                          f"{', '.join(sorted(dtypes))}: its softmax would run in reduced "
                          "precision",
                          hint='give its final layer dtype="float32", or set '
                               "train.mixed_precision = false")
