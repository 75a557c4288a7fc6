"""The one table of component kinds.

The registry, the config sections, ``bamnet plugins``, ``bamnet plugins new``
and the hook reference derive from :data:`KINDS`. The registry hooks are
written out, with their documentation, in :mod:`.hookspecs`; a test holds
them equal to this table. Adding a kind is one row here, its protocol, and
its hook spec.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import get_args

from .protocols import Backbone, DatasetSource, Evaluator, Generator, LungFieldEstimator


@dataclass(frozen=True)
class ComponentKind:
    """One kind of component plugins can register.

    :param name: identifier used in the registry and in ``bamnet plugins --json``.
    :param label: words for messages (``"dataset source"``).
    :param hook: the registry hook plugins implement to register this kind.
    :param section: the config section that configures it, if any.
    :param pick: the key of ``section`` that names the component (``source``,
        ``name``), or the list key for kinds picked by a list (``evaluators``).
    :param protocol: what the factory's product must satisfy: a protocol, a
        union of protocols for a kind with variants (:data:`.protocols.Evaluator`),
        or None (presets).
    :param short: one word for it on the command line (``bamnet plugins new --kind source``).
    :param section_options: whether the section's other keys are the
        factory's options (one component per section).
    """

    name: str
    label: str
    hook: str
    section: str | None
    pick: str | None
    protocol: type | types.UnionType | None
    short: str
    section_options: bool = True

    def protocols(self) -> tuple[type, ...]:
        """The protocols a component of this kind may satisfy (the variants of a union)."""
        if self.protocol is None:
            return ()
        return get_args(self.protocol) or (self.protocol,)  # type: ignore[return-value]


KINDS: tuple[ComponentKind, ...] = (
    ComponentKind("dataset_source", "dataset source", "register_dataset_sources", "data",
                  "source", DatasetSource, "source"),
    ComponentKind("generator", "generator", "register_generators", "generator", "name",
                  Generator, "generator"),
    ComponentKind("backbone", "backbone", "register_backbones", "backbone", "name", Backbone,
                  "backbone"),
    ComponentKind("evaluator", "evaluator", "register_evaluators", "evaluate", "evaluators",
                  Evaluator, "evaluator", section_options=False),
    ComponentKind("lung_field_estimator", "lung-field estimator",
                  "register_lung_field_estimators", "lungs", "estimator", LungFieldEstimator,
                  "lungs"),
    ComponentKind("preset", "preset", "register_presets", None, None, None, "preset",
                  section_options=False),
)

BY_NAME: dict[str, ComponentKind] = {kind.name: kind for kind in KINDS}
# Sections whose extra keys are options of the one component they name.
COMPONENT_SECTIONS: dict[str, ComponentKind] = {
    k.section: k for k in KINDS if k.section and k.section_options}
# Sections that pick components by a list (``[evaluate] evaluators``).
LISTED_SECTIONS: dict[str, ComponentKind] = {
    k.section: k for k in KINDS if k.section and not k.section_options}


def kind(name: str) -> ComponentKind:
    """The kind called ``name``; ``KeyError`` for an unknown one."""
    return BY_NAME[name]
