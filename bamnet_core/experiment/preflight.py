"""Checks before a run folder exists: a run that cannot succeed is refused in seconds.

Everything that needs no pixels is checked here, before ``bamnet run``
creates its folder, fits a generator or decodes an image: every input file
and source (``config.check_inputs``), the backbone's view of the
preprocessing (``ChecksPreprocess``), and, on the planned split, whether the
generator can balance its class, and ``TF_CONFIG`` when the run would train
over several workers. Options of every component and evaluator were already
validated when the config loaded.
"""

from __future__ import annotations

from ..config.components import check_inputs
from ..config.resolved import Config
from ..contract.capabilities import ChecksPreprocess
from ..train.distribution import wanted_cluster
from .data_stage import DataPlan, plan_data
from .generator_stage import check_feasible


def check_preprocess(config: Config) -> None:
    """Ask the backbone whether it can take this config's model input.

    :raises ConfigError: the backbone's own message (e.g. VGG16 needs 3 channels).
    """
    backbone = config.components.backbone
    if isinstance(backbone, ChecksPreprocess):
        backbone.check_preprocess(config.preprocess_spec())


def preflight(config: Config) -> DataPlan:
    """Every check that needs no pixels, then the data plan, then checks on the plan.

    :returns: the listing and split the data stage will record.
    :raises BamnetError: the first check that fails (nothing has been written).
    """
    check_preprocess(config)
    wanted_cluster(config.train.distribution)  # a malformed TF_CONFIG, before Keras loads
    check_inputs(config)
    plan = plan_data(config)
    check_feasible(config, plan.split)
    return plan
