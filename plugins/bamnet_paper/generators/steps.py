"""The backend-specific part of the GAN step: how gradients are taken and applied.

Everything else (networks, losses, augmentation) is ``keras.ops``. TensorFlow
takes gradients with a tape and updates variables in place; PyTorch takes them
with ``backward()`` into each variable's ``.grad``; JAX is stateless:
``train_step(state, data)`` gets every variable's value and returns new ones.
"""

from __future__ import annotations

from typing import Any


def _batch(data: Any) -> dict[str, Any]:
    return data[0] if isinstance(data, tuple | list) else data


def _logs(gan: Any) -> dict[str, Any]:
    return {m.name: m.result() for m in gan.metrics}


def tensorflow_train_step(gan: Any, data: Any) -> dict[str, Any]:
    """The step on TensorFlow: a gradient tape per network, variables updated in place."""
    import tensorflow as tf  # the TensorFlow backend is in use, so this is loaded already
    from keras import ops

    batch = _batch(data)
    real = gan.prepare(batch["real"], batch)
    d_vars = gan.discriminator.trainable_variables
    with tf.GradientTape() as tape:
        fake = gan.prepare(gan.generator(batch["z_d"], training=True), batch)
        logits = gan.discriminator(ops.concatenate([real, fake], axis=0), training=True)
        n = ops.shape(real)[0]
        d_loss = gan.d_loss(logits[:n], logits[n:])
    gan.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
    g_vars = gan.generator.trainable_variables
    with tf.GradientTape() as tape:
        fake = gan.prepare(gan.generator(batch["z_g"], training=True), batch)
        g_loss = gan.g_loss(gan.discriminator(fake, training=True))
    gan.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
    gan.d_loss_tracker.update_state(d_loss)
    gan.g_loss_tracker.update_state(g_loss)
    return _logs(gan)


def torch_train_step(gan: Any, data: Any) -> dict[str, Any]:
    """The step on PyTorch: ``backward()`` per network, variables updated in place."""
    import torch
    from keras import ops

    batch = _batch(data)
    real = gan.prepare(batch["real"], batch)

    def update(loss: Any, network: Any, optimizer: Any) -> None:
        gan.zero_grad()
        loss.backward()
        variables = network.trainable_variables
        with torch.no_grad():
            optimizer.apply([v.value.grad for v in variables], variables)

    fake = gan.prepare(gan.generator(batch["z_d"], training=True), batch)
    logits = gan.discriminator(ops.concatenate([real, fake.detach()], axis=0), training=True)
    n = ops.shape(real)[0]
    d_loss = gan.d_loss(logits[:n], logits[n:])
    update(d_loss, gan.discriminator, gan.d_optimizer)
    fake = gan.prepare(gan.generator(batch["z_g"], training=True), batch)
    g_loss = gan.g_loss(gan.discriminator(fake, training=True))
    update(g_loss, gan.generator, gan.g_optimizer)
    gan.d_loss_tracker.update_state(d_loss.detach())
    gan.g_loss_tracker.update_state(g_loss.detach())
    return _logs(gan)


def _positions(all_vars: list[Any], part: list[Any]) -> list[int]:
    ids = {id(v): i for i, v in enumerate(all_vars)}
    return [ids[id(v)] for v in part]


def jax_train_step(gan: Any, state: tuple[Any, ...], data: Any) -> tuple[dict[str, Any], Any]:
    """The step on JAX: pure, from the state tuple Keras threads through ``fit``."""
    import jax
    from keras import ops

    trainable, non_trainable, optimizer_vars, metrics_vars = state
    trainable, non_trainable = list(trainable), list(non_trainable)
    batch = _batch(data)
    gen, disc = gan.generator, gan.discriminator
    where = {
        "gt": _positions(gan.trainable_variables, gen.trainable_variables),
        "dt": _positions(gan.trainable_variables, disc.trainable_variables),
        "gn": _positions(gan.non_trainable_variables, gen.non_trainable_variables),
        "dn": _positions(gan.non_trainable_variables, disc.non_trainable_variables),
    }
    gt, dt = [trainable[i] for i in where["gt"]], [trainable[i] for i in where["dt"]]
    gn, dn = [non_trainable[i] for i in where["gn"]], [non_trainable[i] for i in where["dn"]]
    n_d = len(gan.d_optimizer.variables)
    d_opt, g_opt = list(optimizer_vars[:n_d]), list(optimizer_vars[n_d:])
    real = gan.prepare(batch["real"], batch)

    def d_loss_fn(dt: Any, dn: Any, gn: Any) -> Any:
        fake, gn = gen.stateless_call(gt, gn, batch["z_d"], training=True)
        both = ops.concatenate([real, gan.prepare(fake, batch)], axis=0)
        logits, dn = disc.stateless_call(dt, dn, both, training=True)
        n = real.shape[0]
        return gan.d_loss(logits[:n], logits[n:]), (dn, gn)

    (d_loss, (dn, gn)), grads = jax.value_and_grad(d_loss_fn, has_aux=True)(dt, dn, gn)
    dt, d_opt = gan.d_optimizer.stateless_apply(d_opt, grads, dt)

    def g_loss_fn(gt: Any, gn: Any, dn: Any) -> Any:
        fake, gn = gen.stateless_call(gt, gn, batch["z_g"], training=True)
        logits, dn = disc.stateless_call(dt, dn, gan.prepare(fake, batch), training=True)
        return gan.g_loss(logits), (gn, dn)

    (g_loss, (gn, dn)), grads = jax.value_and_grad(g_loss_fn, has_aux=True)(gt, gn, dn)
    gt, g_opt = gan.g_optimizer.stateless_apply(g_opt, grads, gt)
    for key, values in (("gt", gt), ("dt", dt)):
        for i, v in zip(where[key], values, strict=True):
            trainable[i] = v
    for key, values in (("gn", gn), ("dn", dn)):
        for i, v in zip(where[key], values, strict=True):
            non_trainable[i] = v
    logs, new_metrics = {}, []
    for metric, value in zip(gan.metrics, (d_loss, g_loss), strict=True):
        own = metrics_vars[len(new_metrics):len(new_metrics) + len(metric.variables)]
        own = metric.stateless_update_state(own, value)
        logs[metric.name] = metric.stateless_result(own)
        new_metrics.extend(own)
    return logs, (trainable, non_trainable, d_opt + g_opt, new_metrics)
