"""The components of one config, once built: :class:`Components`.

A type of its own, below both the config (:mod:`.resolved`, which holds one)
and the code that builds it (:mod:`.components`, which reads the config), so
neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..contract.protocols import (
    Backbone,
    DatasetSource,
    Evaluator,
    Generator,
    LungFieldEstimator,
)
from ..plugins.registry import Registration


@dataclass
class Components:
    """The components of one config, built.

    :param source: the dataset source (``[data] source``), or None with several.
    :param sources: ``(id, source)`` for each ``[[data.sources]]`` table, in order.
    :param backbone: the backbone (``[backbone]``).
    :param generator: the generator, when ``[generator] enabled``.
    :param evaluators: name -> evaluator, in ``[evaluate] evaluators`` order.
    :param lungs: the lung-field estimator (``[lungs] estimator``), None when no
        plugin offers one.
    :param registrations: section (or ``evaluate.<name>``) -> who registered it.
    """

    source: DatasetSource | None
    backbone: Backbone
    generator: Generator | None = None
    sources: list[tuple[str, DatasetSource]] = field(default_factory=list)
    evaluators: dict[str, Evaluator] = field(default_factory=dict)
    lungs: LungFieldEstimator | None = None
    registrations: dict[str, Registration] = field(default_factory=dict)
