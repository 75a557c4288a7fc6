"""Checks before a run folder exists: a run that cannot succeed is refused in seconds.

One preflight serves ``bamnet run``, ``resume``, ``ablate`` and ``loso``
(:func:`preflight`), before any folder is created and before any data is
listed: the plugins (a broken one is named), the stage names (``--until``,
``--from``), the backbone's view of the preprocessing (``ChecksPreprocess``),
``TF_CONFIG`` when the run would train over several workers, and every input
file and source (``config.check_inputs``). The config itself was validated
when it loaded (the options of every component and evaluator included).

Only then is the data listed and split (:func:`plan_run`), and the plan
checked: can the generator balance its class on this split?
"""

from __future__ import annotations

from ..config.components import check_inputs
from ..config.resolved import Config
from ..contract.capabilities import ChecksPreprocess
from ..plugins.manager import PluginHost
from ..train.distribution import wanted_cluster
from .data_stage import plan_data
from .generator_stage import check_feasible
from .pipeline import check_start, check_until
from .results import DataPlan


def check_preprocess(config: Config) -> None:
    """Ask the backbone whether it can take this config's model input.

    :raises ConfigError: the backbone's own message (e.g. VGG16 needs 3 channels).
    """
    backbone = config.components.backbone
    if isinstance(backbone, ChecksPreprocess):
        backbone.check_preprocess(config.preprocess_spec())


def preflight(config: Config, host: PluginHost, *, until: str | None = None,
              start: str | None = None, inputs: bool = True) -> None:
    """Every check that needs neither data nor a folder, in the order a user fixes them.

    :param until: the ``--until`` stage, checked against this config's stages.
    :param start: the ``--from`` stage of a resumed run.
    :param inputs: check that every input file and source exists (a ``--from`` redo of a
        run folder reads its own files, not the data's listing).
    :raises BamnetError: the first check that fails; nothing has been written or listed.
    """
    host.raise_for_failures()
    check_until(config, until)
    check_start(start)
    check_preprocess(config)
    wanted_cluster(config.train.distribution)  # a malformed TF_CONFIG, before Keras loads
    if inputs:
        check_inputs(config)


def plan_run(config: Config) -> DataPlan:
    """List and split the data (in memory), then check the plan.

    Call it after :func:`preflight`.

    :returns: the listing and split the data stage will record.
    :raises DataError: when the generator has nothing to learn from on this split.
    """
    plan = plan_data(config)
    check_feasible(config, plan.split)
    return plan
