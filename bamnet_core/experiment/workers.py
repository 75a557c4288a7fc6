"""A run trained by several processes (``TF_CONFIG``): who starts what, and who writes what.

Every worker runs the same ``bamnet run``. TensorFlow lets the
multi-worker strategy exist only if it is made before any TensorFlow
operation, so :func:`start` makes it before the first stage. The chief
(worker 0) creates the run folder in ``--output-dir``, as a one-process run
does, and after training goes on alone: evaluation, export, report. Every
other worker runs the stages up to training in a scratch folder in the
system's temporary directory, removed when it ends, and stops after
training: workers sharing a machine and an ``--output-dir`` never meet in a
folder or its lock, and nothing but the chief's folder is left behind.
"""

from __future__ import annotations

from ..config.resolved import Config
from ..errors import RunError
from ..train.cluster import ENV
from ..train.distribution import Placement, placement, wanted_cluster
from .pipeline import NAMES

LAST_SHARED_STAGE = "train"


def start(config: Config) -> Placement | None:
    """The multi-worker placement ``config`` asks for, created now; None for one process.

    Call it before any stage runs: TensorFlow refuses the strategy once it has
    run an operation.

    :raises ConfigError: a malformed ``TF_CONFIG``, a backend other than
        TensorFlow, or a batch that does not split over every worker's devices.
    """
    if wanted_cluster(config.train.distribution) is None:
        return None
    return placement(config.train.distribution, config.train.batch_size)


def worker_until(until: str | None) -> str:
    """The stage a worker other than the chief stops after: training, or an earlier ``--until``."""
    if until is not None and NAMES.index(until) < NAMES.index(LAST_SHARED_STAGE):
        return until
    return LAST_SHARED_STAGE


def check_resumable(config: Config) -> None:
    """Refuse to resume a run as part of a cluster: only the chief kept a folder.

    :raises RunError: when ``TF_CONFIG`` would make this resume multi-worker.
    """
    cluster = wanted_cluster(config.train.distribution)
    if cluster is not None:
        raise RunError(f"bamnet resume continues a run on one machine, and {ENV} names "
                       f"{cluster.workers} workers (only the chief kept a run folder)",
                       hint=f"unset {ENV} to continue on this machine alone (with "
                            'train.distribution = "auto"), or start a new run on every worker')
