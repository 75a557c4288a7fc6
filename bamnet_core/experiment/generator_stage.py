"""The generator stage: fit on training images of one class, add its images to training only."""

from __future__ import annotations

import math

from .._util.progress import ProgressCallback, ProgressEvent
from ..config.resolved import Config
from ..contract.sample import Sample
from ..data.splits import PatientSplit
from ..errors import PluginError
from ..runs.folder import RunFolder


def synthesise(config: Config, split: PatientSplit, run: RunFolder, seed: int,
               progress: ProgressCallback) -> list[Sample]:
    """Fit the configured generator on training images of one class and return its images.

    The generator sees only the training split, and its images go only into
    training, so nothing synthetic can reach validation or test.
    """
    gen_cfg = config["generator"]
    generator = config.components.generator
    reg = config.components.registrations["generator"]
    label = gen_cfg["balance_class"]
    train = split.assignment["train"]
    counts = {c: sum(s.label == c for s in train) for c in config["data"]["classes"]}
    target = math.ceil(gen_cfg["ratio"] * max(counts.values()))
    need = max(0, target - counts[label])
    if need == 0:
        return []
    workdir = run.file("generator")
    progress(ProgressEvent("generator", 0, need, f"fitting generator {gen_cfg['name']!r}"))
    generator.fit([s for s in train if s.label == label], workdir=workdir, seed=seed)
    made = generator.generate(need, label=label, outdir=workdir / "images", seed=seed)
    bad = [s for s in made if not (isinstance(s, Sample) and s.synthetic and s.label == label)]
    if bad:
        raise PluginError(f"{reg.label} from plugin {reg.distribution!r} returned samples that "
                          f"are not synthetic {label!r} Samples",
                          hint=f"this is a fault in {reg.distribution}: report it to its authors")
    progress(ProgressEvent("generator", len(made), need, "synthetic images written"))
    return made
