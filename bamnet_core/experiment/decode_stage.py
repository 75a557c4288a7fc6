"""The decode stage: every split's images decoded and preprocessed, through the on-disk cache.

Decoding is not recorded: the cache makes a second pass cheap, so a resumed
run decodes again (from the cache) whenever a later stage needs the pixels.
"""

from __future__ import annotations

from ..errors import DataError
from ..runs import layout
from .context import RunContext
from .results import DecodeResult
from .stages import Stage

PIXEL_FREE = ("report", "export")  # stages that read the run folder, not the images


class DecodeStage(Stage):
    """Decode and preprocess the images of every split (``RunContext.images``)."""

    name = "decode"
    recorded = False

    def keep(self, ctx: RunContext) -> DecodeResult | None:
        """Skipped (nothing decoded) when a resumed run redoes only stages that never look at
        pixels."""
        return DecodeResult() if ctx.start in PIXEL_FREE else None

    def run(self, ctx: RunContext) -> DecodeResult:
        """Decode; refuse a run with no decodable training or validation image."""
        loaded = ctx.images()
        if not len(loaded["train"].samples) or not len(loaded["val"].samples):
            raise DataError("no decodable images left in the training or validation split",
                            hint=f"see {ctx.run.file(layout.AUDIT)} for the decode failures"
                            if ctx.run.file(layout.AUDIT).is_file() else
                            "run `bamnet data inspect` on the data to see why")
        return DecodeResult({name: len(part.samples) for name, part in loaded.items()})
