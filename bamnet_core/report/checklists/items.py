"""What a checklist is made of: items, each answered from the run record by a rule.

A checklist module is data: a tuple of :class:`Item` (number, short title, and a
rule that reads the typed :class:`~bamnet_core.report.record.RunRecord`). A rule
returns an :class:`Answer` through :func:`answered`, :func:`partly` or
:func:`author`; an answer cites its evidence with :meth:`Facts.cite`, which names
only a file and a key the run folder holds (:func:`value_at` resolves it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...runs import layout
from ...runs.checklist_file import Evidence, ItemState
from ..record import RunRecord, plain


@dataclass(frozen=True)
class Answer:
    """What the run says to one item."""

    state: ItemState
    text: str
    evidence: tuple[Evidence, ...] = ()


def answered(text: str, *evidence: Evidence | None) -> Answer:
    """The run answers the item; ``text`` is the answer, ``evidence`` where it comes from.

    An answer without evidence is only partly answered: the author must say where it comes
    from.
    """
    cited = tuple(e for e in evidence if e is not None)
    return Answer("answered" if cited else "partly-answered", text, cited)


def partly(known: str, add: str, *evidence: Evidence | None) -> Answer:
    """The run knows ``known``; the author adds ``add``."""
    cited = tuple(e for e in evidence if e is not None)
    return Answer("partly-answered", f"{known} The author adds: {add}", cited)


def author(prompt: str) -> Answer:
    """Only the author can answer; ``prompt`` says what to write."""
    return Answer("author", prompt)


@dataclass(frozen=True)
class Item:
    """One checklist item: its number, a short title, and the rule that answers it."""

    number: str
    title: str
    rule: Callable[[Facts], Answer]


@dataclass(frozen=True)
class Checklist:
    """A reporting checklist: its name on the command line, its full title, its items."""

    name: str
    title: str
    items: tuple[Item, ...]


def value_at(document: Any, key: str) -> Any:
    """The value at the dotted ``key`` of a JSON or TOML document (list items by index).

    :raises KeyError: when the document has no such key.
    """
    value = document
    for part in key.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(key)
    return value


@dataclass
class Facts:
    """The run record, and its files as JSON values, for rules to read and cite."""

    record: RunRecord
    documents: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, record: RunRecord) -> Facts:
        """The facts of ``record`` (the full one, or the redacted copy)."""
        documents: dict[str, Any] = {layout.CONFIG: record.config.document}
        for name, model in ((layout.META, record.meta), (layout.METRICS, record.metrics),
                            (layout.AUDIT, record.audit)):
            if model is not None:
                documents[name] = plain(model)
        for name, metrics in record.external.items():
            documents[f"{layout.EXTERNAL}/{name}/{layout.METRICS}"] = plain(metrics)
        return cls(record, documents)

    def get(self, file: str, key: str) -> Any:
        """The value at ``key`` of ``file``, or None when the run has none."""
        try:
            return value_at(self.documents[file], key)
        except KeyError:
            return None

    def cite(self, file: str, key: str) -> Evidence | None:
        """Evidence for ``key`` of ``file``, or None when the run has no value there."""
        return Evidence(file=file, key=key) if self.get(file, key) is not None else None
