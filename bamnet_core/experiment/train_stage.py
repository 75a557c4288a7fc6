"""The train stage: the backbone's model trained as ``[train]`` says, checkpointed per epoch.

A resumed run continues from the last completed epoch (the checkpoint is
the engine's business, :mod:`bamnet_core.train.checkpoint`); a run whose
train stage finished keeps ``model.keras`` and loads it only if a later
stage needs the model.
"""

from __future__ import annotations

from .._util import atomic
from ..runs import layout
from .context import RunContext
from .results import TrainResult
from .stages import Stage


class TrainStage(Stage):
    """Train, then save ``model.keras`` and ``history.csv``."""

    name = "train"

    def keep(self, ctx: RunContext) -> TrainResult | None:
        """Kept when an earlier attempt finished it and ``model.keras`` is there."""
        training = ctx.meta.training
        if not (ctx.finished(self.name) and ctx.run.file(layout.MODEL).is_file()
                and training is not None):
            return None
        return TrainResult(training)  # the model is loaded only if a later stage needs it

    def run(self, ctx: RunContext) -> TrainResult:
        """Train (continuing from the checkpoint on resume) and save the model."""
        from ..train.checkpoint import check_room_for_model
        from ..train.engine import history_csv, train_model
        from ..train.setup import describe_device, seed_everything

        seed_everything(ctx.seed)
        device = describe_device()
        loaded, y = ctx.images(), ctx.labels()
        result = train_model(ctx.config.components.backbone, ctx.spec, loaded["train"].x,
                             y["train"], loaded["val"].x, y["val"], train=ctx.config.train,
                             num_classes=len(ctx.config.data.classes), seed=ctx.seed,
                             run_dir=ctx.run.path, resume=ctx.resume, progress=ctx.progress)
        ctx.run.write_text(layout.HISTORY, history_csv(result.history))
        check_room_for_model(ctx.run.path, result.model, layout.MODEL)
        with atomic.atomic_path(ctx.run.file(layout.MODEL)) as tmp:
            result.model.save(tmp)
        ctx.run.record(self.name, [layout.MODEL, layout.HISTORY])  # best.keras: each epoch
        # A model made under the multi-worker strategy predicts only together with the
        # other workers, and they stop after training: later stages load model.keras.
        model = result.model if result.info.get("workers", 1) == 1 else None
        return TrainResult(result.info, model=model, device=device,
                           epochs=len(result.history))
