"""The one table of component kinds.

Hook specs (:mod:`.hookspecs`), the registry, the config sections, ``bamnet
plugins`` and the hook reference all derive from :data:`KINDS`. Adding a kind
is one row here (plus its protocol).
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocols import Backbone, DatasetSource, Evaluator, Generator


@dataclass(frozen=True)
class ComponentKind:
    """One kind of component plugins can register.

    :param name: identifier used in the registry and in ``bamnet plugins --json``.
    :param label: words for messages (``"dataset source"``).
    :param hook: the registry hook plugins implement to register this kind.
    :param section: the config section that configures it, if any.
    :param pick: the key of ``section`` that names the component (``source``,
        ``name``), or the list key for kinds picked by a list (``evaluators``).
    :param protocol: what the factory's product must satisfy (None for presets).
    :param target: what ``register(name, target)`` expects.
    :param options: where the factory's keyword arguments come from.
    :param section_options: whether the section's other keys are the
        factory's options (one component per section).
    """

    name: str
    label: str
    hook: str
    section: str | None
    pick: str | None
    protocol: type | None
    target: str
    options: str
    section_options: bool = True

    def hook_doc(self) -> str:
        """The hook's docstring (also the hook reference's text)."""
        protocol = f":class:`bamnet_core.contract.{self.protocol.__name__}`" \
            if self.protocol else "a TOML file"
        return (f"Register {self.label}s.\n\n"
                f":param register: call ``register(name, target, description=None)``.\n"
                f"    ``target`` is {self.target}, giving {protocol}. {self.options}\n"
                f"    Names are lower case letters, digits, ``.``, ``_`` and ``-``; a name\n"
                f"    another plugin registered is refused, naming both plugins.\n")


KINDS: tuple[ComponentKind, ...] = (
    ComponentKind(
        "dataset_source", "dataset source", "register_dataset_sources", "data", "source",
        DatasetSource, "a factory (usually a class)",
        "Its keyword parameters are the keys ``[data]`` accepts besides ``source``,\n"
        "    ``classes`` and ``positive``; their annotations are validated."),
    ComponentKind(
        "generator", "generator", "register_generators", "generator", "name", Generator,
        "a factory (usually a class)",
        "Its keyword parameters are the keys ``[generator]`` accepts besides the\n"
        "    core keys (``enabled``, ``name``, ``balance_class``, ``ratio``, ``count``)."),
    ComponentKind(
        "backbone", "backbone", "register_backbones", "backbone", "name", Backbone,
        "a factory (usually a class)",
        "Its keyword parameters are the keys ``[backbone]`` accepts besides ``name``."),
    ComponentKind(
        "evaluator", "evaluator", "register_evaluators", "evaluate", "evaluators", Evaluator,
        "a factory called with no arguments",
        "``[evaluate] evaluators`` lists the evaluators a run uses.", section_options=False),
    ComponentKind(
        "preset", "preset", "register_presets", None, None, None,
        "the path of a TOML config file",
        "``bamnet run NAME`` resolves to it; ship it as package data.",
        section_options=False),
)

BY_NAME: dict[str, ComponentKind] = {kind.name: kind for kind in KINDS}
# Sections whose extra keys are options of the one component they name.
COMPONENT_SECTIONS: dict[str, ComponentKind] = {
    k.section: k for k in KINDS if k.section and k.section_options}


def kind(name: str) -> ComponentKind:
    """The kind called ``name``; ``KeyError`` for an unknown one."""
    return BY_NAME[name]
