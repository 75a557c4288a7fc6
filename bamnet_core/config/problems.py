"""Collect every problem of a config, then report them at once as one :class:`ConfigError`.

Each problem names where it is: ``tiny.toml: [train] epochs`` for a value
from the file, ``--set train.epochs`` for one from the command line. Unknown
keys come with a "did you mean" (difflib) and the keys the section accepts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pydantic

from ..errors import ConfigError

_NOUNS = {"integer": "an integer", "number": "a number", "boolean": "true or false",
          "string": "a string", "list": "a list", "dictionary": "a table", "tuple": "a list",
          "finite number": "a finite number", "array": "a list", "object": "a table"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config.

    :param dotted: the key, ``section.key`` or ``section.table.key`` (a bare
        section name for a problem with the whole section).
    :param message: what is wrong with it.
    :param fix: an example of a correct setting, for the hint.
    """

    dotted: str
    message: str
    fix: str | None = None


def humanise(message: str) -> str:
    """Pydantic's wording in TOML terms: ``expected an integer``, ``must be greater than 0``."""
    message = message.rstrip(".")
    counted = re.match(r"(?:Tuple|List) should have (at (?:most|least) \d+ items?) after "
                       r"validation, not (\d+)$", message)
    if counted:
        return f"expected {counted.group(1)}, not {counted.group(2)}"
    match = re.match(r"Input should be (?:a valid |an? )?(.*)$", message)
    if not match:
        return message
    rest = match.group(1)
    if rest in _NOUNS:
        return f"expected {_NOUNS[rest]}"
    if rest.startswith(("greater", "less", "at least", "at most")):
        return f"must be {rest}"
    return f"expected {rest}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'epochs'?)"``, or ``""`` when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class Problems:
    """The problems found in one config, and how to name where each is."""

    origin: str
    overrides: dict[str, Any]
    flags: dict[str, str] = field(default_factory=dict)
    items: list[Problem] = field(default_factory=list)
    error: type[ConfigError] = ConfigError

    def add(self, dotted: str, message: str, fix: str | None = None) -> None:
        """Record a problem with key ``dotted``."""
        self.items.append(Problem(dotted, message, fix))

    def unknown_key(self, dotted: str, accepted: Iterable[str], owner: str) -> None:
        """Record an unknown key, with a guess and the keys ``owner`` accepts."""
        accepted = sorted(accepted)
        key = dotted.rsplit(".", 1)[-1]
        guess = did_you_mean(key, accepted)
        fix = None
        if guess:
            right = guess.split("'")[1]
            fix = f"{dotted.rsplit('.', 1)[0]}.{right}=..."
        self.add(dotted, f"unknown key{guess}; {owner} accepts: "
                 f"{', '.join(accepted) or '(no options)'}", fix)

    def given(self, dotted: str) -> str | None:
        """The override that set ``dotted`` (or a table holding it), if one did."""
        parts = re.sub(r"\[\d+\]", "", dotted).split(".")
        for n in range(len(parts), 0, -1):
            key = ".".join(parts[:n])
            if key in self.overrides:
                return key
        return None

    def where(self, dotted: str) -> str:
        """``--set a.b`` for command-line values, else ``FILE: [a] b``."""
        return self._short(dotted) if self.given(dotted) else \
            f"{self.origin}: {self._short(dotted)}"

    def _short(self, dotted: str) -> str:
        given = self.given(dotted)
        if given:
            flag = self.flags.get(given, "--set")
            return f"--set {dotted}" if flag == "--set" else flag
        if "." not in dotted:
            return f"[{dotted}]"
        section, key = dotted.rsplit(".", 1)
        return f"[{section}] {key}"

    def raise_if_any(self) -> None:
        """Raise one :class:`ConfigError` listing every problem, if there are any."""
        if not self.items:
            return
        if len(self.items) == 1:
            only = self.items[0]
            message = f"{self.where(only.dotted)}: {only.message}"
        else:
            in_file = any(p.dotted not in self.overrides for p in self.items)
            message = (f"{self.origin}: " if in_file else "") + \
                f"{len(self.items)} problems: " + \
                "; ".join(f"{self._short(p.dotted)}: {p.message}" for p in self.items)
        fixes = [p.fix for p in self.items if p.fix]
        given = [self.given(p.dotted) for p in self.items if self.given(p.dotted)]
        if fixes:
            hint = "for example --set " + fixes[0]
        elif given:
            flag = self.flags.get(given[0], "--set")
            hint = f"fix the value given to {flag if flag != '--set' else '--set ' + given[0]}"
        else:
            hint = (f"edit {self.origin}, or override with --set SECTION.KEY=VALUE; "
                    "`bamnet presets show NAME --resolved` lists every key with its default")
        raise self.error(message, hint=hint)


def model_at(model: type[pydantic.BaseModel], path: tuple[Any, ...]) -> Any:
    """The nested model reached by following field names ``path`` from ``model``."""
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = field.annotation
    return model


def _dotted(prefix: str, loc: tuple[Any, ...]) -> str:
    """``train.optimizer.lr``; list positions as ``backbone.filters[0]``."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _default_of(model: Any, loc: tuple[Any, ...]) -> Any:
    """The default of the field at ``loc`` (``None`` when unknown), to show a correct example."""
    if len(loc) != 1 and not all(isinstance(p, str) for p in loc):
        return None
    inner = model_at(model, tuple(loc[:-1]))
    field = getattr(inner, "model_fields", {}).get(loc[-1])
    if field is None or field.is_required():
        return None
    default = field.get_default(call_default_factory=True)
    return default if isinstance(default, bool | int | float | str) else None


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if not isinstance(value, str) else f'"{value}"'


def report_errors(problems: Problems, prefix: str, errors: list[Any],
            model: type[pydantic.BaseModel], owner: str) -> None:
    """Turn pydantic's errors into problems located at ``prefix.<loc>``."""
    for error in errors:
        loc = tuple(error["loc"])
        dotted = _dotted(prefix, loc)
        if error["type"] == "extra_forbidden":
            inner = model_at(model, loc[:-1])
            accepted = getattr(inner, "model_fields", {}) or {}
            problems.unknown_key(dotted, accepted, owner if len(loc) == 1 else
                                 f"[{dotted.rsplit('.', 1)[0]}]")
        elif error["type"] == "missing":
            problems.add(dotted, "required key is missing", f"{dotted}=VALUE")
        else:
            default = _default_of(model, loc)
            fix = f"{dotted}={_toml(default)}" if default is not None else None
            problems.add(dotted, f"{humanise(error['msg'])}, got {error.get('input')!r}", fix)
