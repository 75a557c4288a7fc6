"""The generator stage: fit on training images of one class, add its images to training only.

The stage decides how many images to make (``ratio`` of the largest class, or a
target ``count``), checks that the generator's training images hold no
validation or test patient, and records what it made in
``generator/synthetic.csv``. That manifest is the stage's commit point: a
resumed run whose manifest is complete reuses the images without refitting;
a run killed while the generator trained calls ``fit`` again, and the
generator resumes from its own checkpoint in ``generator/``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._util.csv_text import CsvWriter
from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..contract.sample import Sample
from ..data.splits import PatientSplit
from ..errors import DataError, PluginError
from ..runs import layout
from ..runs.folder import RunFolder
from . import stage_records as records
from .context import RunContext
from .leakage import check_generator_inputs, check_synthetic_placement
from .results import DataResult, GeneratorResult
from .stages import Stage

FOLDER = layout.GENERATOR
MANIFEST = layout.GENERATOR_MANIFEST
FITTED_ON = layout.GENERATOR_FITTED_ON
_COLUMNS = ("index", "path", "label", "patient_id", "source", "synthetic", "generator",
            "generator_seed", "generator_checkpoint")


@dataclass
class Synthesis:
    """What the stage made: the synthetic samples, and a summary for ``metrics.json``."""

    samples: list[Sample] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def planned_count(counts: dict[str, int], label: str, *, ratio: float,
                  count: int | None) -> tuple[int, int]:
    """``(target, need)``: the class's target count in training and how many to make."""
    target = count if count is not None else math.ceil(ratio * max(counts.values()))
    return target, max(0, target - counts[label])


def manifest_text(run: RunFolder, samples: list[Sample]) -> str:
    """``generator/synthetic.csv``: one row per synthetic image (paths relative to the run)."""
    out = io.StringIO()
    writer = CsvWriter(out, _COLUMNS)
    writer.writeheader()
    for i, s in enumerate(samples):
        writer.writerow({"index": i if s.generator_index is None else s.generator_index,
                         "path": run.record_path(s.path), "label": s.label,
                         "patient_id": s.patient_id,
                         "source": s.source, "synthetic": "true", "generator": s.generator,
                         "generator_seed": s.generator_seed,
                         "generator_checkpoint": run.record_path(s.generator_checkpoint)
                         if s.generator_checkpoint else ""})
    return out.getvalue()


def _fitted_on_text(real: list[Sample]) -> str:
    """``generator/training-images.csv``: every image the generator learnt from."""
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(["path", "patient_id"])
    writer.writerows([s.path, s.patient_id] for s in real)
    return out.getvalue()


def _read_manifest(run: RunFolder, need: int) -> list[Sample] | None:
    """The samples of a complete manifest from an earlier attempt of this run, else None."""
    path = run.file(MANIFEST)
    if not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if len(rows) != need or not all(Path(run.resolve(r["path"])).is_file() for r in rows):
        return None
    return [Sample(path=run.resolve(r["path"]), label=r["label"], patient_id=r["patient_id"],
                   source=r["source"], synthetic=True, generator=r["generator"] or None,
                   generator_seed=int(r["generator_seed"]) if r["generator_seed"] else None,
                   generator_checkpoint=run.resolve(r["generator_checkpoint"])
                   if r["generator_checkpoint"] else None,
                   generator_index=int(r["index"])) for r in rows]


def synthesise(config: Config, split: PatientSplit, run: RunFolder, seed: int,
               progress: ProgressCallback) -> Synthesis:
    """Fit the configured generator on training images of one class and return its images.

    The generator sees only the training split (checked), and its images go
    only into training, so nothing synthetic can reach validation or test.
    """
    gen_cfg = config.generator
    label = gen_cfg.balance_class
    train = [s for s in split.assignment["train"] if not s.synthetic]
    counts = {c: sum(s.label == c for s in train) for c in config.data.classes}
    target, need = planned_count(counts, label, ratio=gen_cfg.ratio, count=gen_cfg.count)
    check_feasible(config, split)
    info: dict[str, Any] = {"name": gen_cfg.name, "class": label, "real": counts[label],
                            "largest_class": max(counts.values()), "target": target,
                            "synthetic": 0, "manifest": MANIFEST,
                            "fitted_on_list": FITTED_ON}
    if need == 0:
        info["note"] = f"{label!r} already has {counts[label]} training images (target " \
                       f"{target}); nothing to synthesise"
        return Synthesis([], info)
    real = [s for s in train if s.label == label]
    info["fitted_on"] = check_generator_inputs(split, real)
    run.write_text(FITTED_ON, _fitted_on_text(real))
    run.record("generator", [FITTED_ON])
    made = _read_manifest(run, need)
    info["reused"] = made is not None
    if made is None:
        progress(ProgressEvent("generator", 0, None, f"fitting generator {gen_cfg.name!r} "
                               f"on {len(real)} {label!r} images"))
        made = _make(config, real, need, run, seed, progress)
    progress(ProgressEvent("generator", len(made), len(made), "synthetic images ready"))
    info["synthetic"] = len(made)
    return Synthesis(made, info)


def _make(config: Config, real: list[Sample], need: int, run: RunFolder, seed: int,
          progress: ProgressCallback) -> list[Sample]:
    """Fit the generator on ``real``, make ``need`` images, check them, write the manifest."""
    generator = config.components.generator
    reg = config.components.registrations["generator"]
    label = config.generator.balance_class
    generator.fit(real, workdir=run.file(FOLDER), seed=seed, progress=progress)
    made = generator.generate(need, label=label, outdir=run.file(layout.GENERATOR_IMAGES),
                              seed=seed, progress=progress)
    bad = [s for s in made if not (isinstance(s, Sample) and s.synthetic and s.label == label)]
    if bad or len(made) != need:
        raise PluginError(f"{reg.label} from plugin {reg.distribution!r} returned "
                          f"{len(made)} samples for {need} requested, or samples that are "
                          f"not synthetic {label!r} Samples",
                          hint=f"this is a fault in {reg.distribution}: report it to its authors")
    run.write_text(MANIFEST, manifest_text(run, made))
    run.record("generator", [MANIFEST, *(run.record_path(s.path) for s in made)])
    return made


def check_feasible(config: Config, split: PatientSplit) -> None:
    """Refuse a generator that cannot work on this split, before anything is fitted.

    :raises DataError: when images must be made but the training split holds
        no real image of ``balance_class`` to learn from.
    """
    if not config.generator.enabled:
        return
    label = config.generator.balance_class
    train = [s for s in split.assignment["train"] if not s.synthetic]
    counts = {c: sum(s.label == c for s in train) for c in config.data.classes}
    _, need = planned_count(counts, label, ratio=config.generator.ratio,
                            count=config.generator.count)
    if need and not counts[label]:
        raise DataError(f"the training split has no {label!r} image for the generator to learn "
                        f"from ({need} to make)",
                        hint="check [data] classes and generator.balance_class")


class GeneratorStage(Stage):
    """Fit the generator on training images of one class; its images join training only."""

    name = "generator"

    def configured(self, config: Config) -> bool:
        """Only with ``[generator] enabled = true``."""
        return config.generator.enabled

    def keep(self, ctx: RunContext) -> GeneratorResult | None:
        """The images an earlier attempt made: already in the kept split (``split.json``)."""
        if not ctx.finished(self.name):
            return None
        summary = records.load_generator(ctx.run)
        if not summary:
            return None
        return GeneratorResult(ctx.the_split(), {**summary, "reused": True})  # none made now

    def run(self, ctx: RunContext) -> GeneratorResult:
        """Synthesise (images an unfinished attempt added are dropped and made again)."""
        from ..train.setup import seed_everything

        given = ctx.the_split()
        real = PatientSplit({**given.assignment,
                             "train": [s for s in given.assignment["train"] if not s.synthetic]},
                            by=given.by, seed=given.seed, notes=list(given.notes))
        seed_everything(ctx.seed)
        synthesis = synthesise(ctx.config, real, ctx.run, ctx.seed, ctx.progress)
        split = PatientSplit({**real.assignment,
                              "train": [*real.assignment["train"], *synthesis.samples]},
                             by=real.by, seed=real.seed, notes=list(real.notes))
        check_synthetic_placement(split)
        notes = ctx.results.need(DataResult).notes
        records.save_split(ctx.run, split, list(notes), synthesis.info, stage=self.name)
        return GeneratorResult(split, synthesis.info, made=len(synthesis.samples))
