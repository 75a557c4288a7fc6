"""Grad-CAM heatmaps for a Keras model (Selvaraju et al. 2017; keras-io ``grad_cam.py``).

A model from the input to the chosen convolutional layer's output and the
predictions, a gradient of the class score with respect to that output, the
channel-weighted mean, a ReLU and a rescale to 0-1. The layer may sit inside a
nested model (a feature extractor composed with a head); the layers after it
are then applied in order. The gradient is taken on whichever Keras backend runs
(TensorFlow, JAX or PyTorch) in :func:`_gradients`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _is_model(layer: Any) -> bool:
    return hasattr(layer, "layers") and hasattr(layer, "inputs")


def find_layer(model: Any, name: str | None) -> tuple[Any, Any]:
    """``(owner, layer)``: the model holding the layer ``name`` (searched in nested models).

    With ``name`` None, the last layer with a 4-D output (a feature map).

    :raises ValueError: naming the layers there are, when ``name`` matches none.
    """
    found = None
    for layer in model.layers:
        if _is_model(layer):
            try:
                found = find_layer(layer, name)
            except ValueError:
                continue
            if name is not None:
                return found
        elif (name is not None and layer.name == name) or (
                name is None and len(getattr(layer, "output", None).shape or ()) == 4
                and type(layer).__name__ != "InputLayer"):
            found = (model, layer)
            if name is not None:
                return found
    if found is None:
        names = ", ".join(layer.name for layer in model.layers)
        raise ValueError(f"no layer {name!r} in model {model.name!r} (layers: {names})"
                         if name else f"model {model.name!r} has no 4-D feature map")
    return found


def _forward(model: Any, owner: Any, layer: Any) -> Any:
    """A function images -> (feature map, predictions) through ``layer`` of ``owner``."""
    import keras

    inner = keras.Model(owner.inputs, [layer.output, owner.output])
    if owner is model:
        return inner
    after = _after(model, owner)

    def forward(x: Any) -> tuple[Any, Any]:
        conv, y = inner(x, training=False)
        for following in after:
            y = following(y, training=False)
        return conv, y

    return forward


def _after(model: Any, owner: Any) -> list[Any]:
    """The layers of ``model`` after the nested ``owner`` (none when ``owner`` is ``model``)."""
    if owner is model:
        return []
    return model.layers[[lay.name for lay in model.layers].index(owner.name) + 1:]


def _split(model: Any, owner: Any, layer: Any) -> tuple[Any, Any] | None:
    """``(prefix, tail)``: images -> the layer's feature map, and feature map -> predictions,
    when the layers after ``layer`` form a chain (each fed by the one before); else None.

    Only the tail then runs under the gradient tape: the prefix, most of the network, is a
    plain inference call, and the tape records a few layers instead of all of them.
    """
    import keras

    names = [lay.name for lay in owner.layers]
    chain = owner.layers[names.index(layer.name):]
    if any(nxt.input is not prev.output for prev, nxt in zip(chain, chain[1:], strict=False)):
        return None
    following = chain[1:] + _after(model, owner)

    def tail(conv: Any) -> Any:
        y = conv
        for lay in following:
            y = lay(y, training=False)
        return y

    return keras.Model(owner.inputs, layer.output), tail


def _gradients(forward: Any, images: np.ndarray, class_index: np.ndarray,
               split: tuple[Any, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feature maps and d(score of ``class_index``)/d(feature maps).

    With ``split`` (:func:`_split`), only the layers after the feature map are
    differentiated, on any Keras backend (TensorFlow's tape, ``jax.grad`` or
    PyTorch's ``backward``). Without it (layers after the map that are no chain),
    the whole forward pass runs under TensorFlow's tape; other backends refuse.
    """
    import keras

    backend = keras.backend.backend()
    if split is None:
        if backend != "tensorflow":
            raise RuntimeError(f"Grad-CAM on the {backend} backend needs the layers after the "
                               "feature map to form a chain: name a later layer")
        import tensorflow as tf

        x = tf.convert_to_tensor(images, dtype=tf.float32)
        with tf.GradientTape() as tape:
            conv, preds = forward(x)
            tape.watch(conv)
            score = tf.gather(preds, class_index, axis=1, batch_dims=1)
        grads = tape.gradient(score, conv)
        return np.asarray(conv, dtype=np.float32), np.asarray(grads, dtype=np.float32)
    prefix, tail = split
    conv = prefix(keras.ops.convert_to_tensor(images, dtype="float32"), training=False)
    index = keras.ops.convert_to_tensor(class_index.astype(np.int32)[:, None])

    def score(c: Any) -> Any:
        return keras.ops.sum(keras.ops.take_along_axis(tail(c), index, axis=1))

    if backend == "tensorflow":
        import tensorflow as tf  # the TensorFlow backend is in use, so this is loaded already

        with tf.GradientTape() as tape:
            tape.watch(conv)
            total = score(conv)
        grads = tape.gradient(total, conv)
    elif backend == "jax":
        import jax

        grads = jax.grad(score)(conv)
    elif backend == "torch":
        conv = conv.detach().requires_grad_(True)
        score(conv).backward()
        grads = conv.grad
    else:
        raise RuntimeError(f"Grad-CAM has no gradient for the {backend} backend")
    return keras.ops.convert_to_numpy(conv).astype(np.float32), \
        keras.ops.convert_to_numpy(grads).astype(np.float32)


def gradcam(model: Any, images: np.ndarray, class_index: np.ndarray, layer_name: str | None,
            batch_size: int = 16, *, tail_only: bool = True) -> tuple[np.ndarray, str]:
    """Heatmaps ``(n, h', w')`` in 0-1 at the layer's resolution, and the layer used.

    One gradient pass per batch of ``batch_size`` images. With ``tail_only`` (and a
    chain of layers after the chosen one), the tape records only those layers.
    """
    owner, layer = find_layer(model, layer_name)
    forward = _forward(model, owner, layer)
    split = _split(model, owner, layer) if tail_only else None
    maps = []
    for start in range(0, len(images), batch_size):
        conv, grads = _gradients(forward, images[start:start + batch_size],
                                 class_index[start:start + batch_size], split)
        weights = grads.mean(axis=(1, 2), keepdims=True)
        cam = np.maximum((conv * weights).sum(axis=-1), 0.0)
        peak = cam.max(axis=(1, 2), keepdims=True)
        maps.append(np.where(peak > 0, cam / np.where(peak > 0, peak, 1.0), 0.0))
    return np.concatenate(maps) if maps else np.zeros((0, 1, 1)), layer.name


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """An RGB uint8 picture: the image in gray with the heatmap (JET colours) on top."""
    import cv2

    gray = image.astype(np.float32).mean(axis=-1)
    lo, hi = float(gray.min()), float(gray.max())
    gray = ((gray - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(gray)).astype(np.uint8)
    size = (gray.shape[1], gray.shape[0])
    colour = cv2.applyColorMap((cv2.resize(heat.astype(np.float32), size) * 255).astype(np.uint8),
                               cv2.COLORMAP_JET)
    base = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    mixed = cv2.addWeighted(base, 1 - alpha, colour, alpha, 0)
    return cv2.cvtColor(mixed, cv2.COLOR_BGR2RGB)
