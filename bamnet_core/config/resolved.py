"""A validated config: every section a typed model, defaults filled in, components built.

Code reads the sections as attributes (``config.train.epochs``,
``config.split.by``); ``config.document`` is the same config as the TOML
document that ``config.toml`` holds. A variant of a config (leave one source
out, the ablation) is built as an object with :meth:`Config.with_overrides`,
validated exactly like the original.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tomli_w

from ..imaging.preprocess import PreprocessSpec
from .schema import (
    AuditSection,
    BackboneSection,
    DataSection,
    EvaluateSection,
    ExportSection,
    GeneratorSection,
    LungsSection,
    PreprocessSection,
    ReportSection,
    RunSection,
    Section,
    SplitSection,
    TrainSection,
)

if TYPE_CHECKING:
    from .built import Components

Rebuild = Callable[[dict[str, Any], dict[str, Any]], "Config"]


@dataclass
class Config:
    """A validated config with every default filled in.

    :param document: the resolved document (section -> key -> value), in TOML
        types: ``config.toml`` is this, and it reruns the same experiment.
    :param origin: where it came from (preset file or path), for messages.
    :param sections: section name -> its validated model (read them as
        ``config.train``, ``config.data``, ...). Absent only for sections that
        failed while required keys were allowed to be missing.
    :param overrides: ``{dotted key: value}`` given with ``--set``/``--unset``.
    :param options: per component section, the validated Python values its
        factory receives (``Path`` objects, tuples, ...).
    :param components: the instantiated components; ``None`` when required
        values were allowed to be missing.
    :param notices: one-line remarks for the user (renamed values, ...).
    :param missing: required keys that were allowed to be missing (``presets
        show --resolved`` marks them).
    :param rebuild: validates a changed document again (set by
        :func:`~.load.load_config`; :meth:`with_overrides` uses it).
    """

    document: dict[str, Any]
    origin: str
    sections: dict[str, Section] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    components: Components | None = None
    notices: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rebuild: Rebuild | None = field(default=None, repr=False, compare=False)

    def _section(self, name: str) -> Any:
        try:
            return self.sections[name]
        except KeyError:
            raise AttributeError(f"[{name}] did not validate; it has no model") from None

    @property
    def run(self) -> RunSection:
        """``[run]``: name, seed, description."""
        return self._section("run")

    @property
    def data(self) -> DataSection:
        """``[data]``: the source(s), classes, positive class, per-class limit."""
        return self._section("data")

    @property
    def preprocess(self) -> PreprocessSection:
        """``[preprocess]``: the model input."""
        return self._section("preprocess")

    @property
    def split(self) -> SplitSection:
        """``[split]``: by patient or image, fractions, seed, held-out source."""
        return self._section("split")

    @property
    def generator(self) -> GeneratorSection:
        """``[generator]``: whether and how to synthesise training images."""
        return self._section("generator")

    @property
    def backbone(self) -> BackboneSection:
        """``[backbone]``: which backbone (its own options are in :attr:`options`)."""
        return self._section("backbone")

    @property
    def lungs(self) -> LungsSection:
        """``[lungs]``: the lung-field estimator, or the user's own masks."""
        return self._section("lungs")

    @property
    def train(self) -> TrainSection:
        """``[train]``: epochs, batches, optimizer, augmentation, fine-tuning."""
        return self._section("train")

    @property
    def evaluate(self) -> EvaluateSection:
        """``[evaluate]``: evaluators, threshold, bootstrap."""
        return self._section("evaluate")

    @property
    def audit(self) -> AuditSection:
        """``[audit]``: which audit steps run."""
        return self._section("audit")

    @property
    def export(self) -> ExportSection:
        """``[export]``: ONNX export and its variants."""
        return self._section("export")

    @property
    def report(self) -> ReportSection:
        """``[report]``: minimum counts behind a number, the verdict's rules, and redaction."""
        return self._section("report")

    def preprocess_spec(self) -> PreprocessSpec:
        """The model input ``[preprocess]`` describes."""
        return PreprocessSpec.from_config(self.preprocess.model_dump())

    @property
    def split_seed(self) -> int:
        """The seed of the split: ``split.seed``, else ``run.seed``."""
        return self.split.seed if self.split.seed is not None else self.run.seed

    def component_options(self, section: str) -> dict[str, Any]:
        """The validated keyword arguments for the component of a section."""
        return dict(self.options.get(section, {}))

    def with_overrides(self, values: Mapping[str, Any]) -> Config:
        """A variant of this config: ``{dotted key: value}`` set, validated and built anew.

        Values are Python values of TOML types (``{"split.hold_out_source": "x",
        "export.onnx": False}``); nothing is written or parsed as text.

        :raises ConfigError: when the variant does not validate.
        """
        if self.rebuild is None:
            raise RuntimeError("this config was not built by load_config; it cannot be varied")
        document = copy.deepcopy(self.document)
        for dotted, value in values.items():
            set_dotted(document, dotted.split("."), value)
        return self.rebuild(document, {**self.overrides, **values})

    def to_toml(self) -> str:
        """The resolved config as TOML: enough to rerun the same experiment."""
        return tomli_w.dumps(_drop_none(self.document))


def set_dotted(doc: dict[str, Any], parts: list[str], value: Any) -> None:
    """Set ``doc[a][b]...[z] = value``, creating tables on the way.

    :raises TypeError: when a part on the way is a value, not a table.
    """
    node = doc
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise TypeError(f"{part!r} is a value, not a table")
        node = child
    node[parts[-1]] = value


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
