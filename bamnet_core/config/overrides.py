"""``key=value`` from the command line: one parser for ``--set``, ``--unset`` and ``--option``.

Values are parsed as TOML (``3``, ``1e-4``, ``true``, ``[16, 32]``,
``{name = "small-cnn"}``); text that is not valid TOML is taken as a string,
so ``--set data.path=/data/x.csv`` needs no quotes.
"""

from __future__ import annotations

import tomllib
from typing import Any

from ..errors import ConfigError
from .resolved import set_dotted


def parse_value(raw: str) -> Any:
    """A value as TOML, falling back to the text itself."""
    try:
        return tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return raw.strip()


def parse_assignment(text: str, *, flag: str = "--set", min_parts: int = 1,
                     example: str = "train.epochs=3") -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into ``(["a", "b", "c"], parsed value)``.

    :raises ConfigError: no ``=``, an empty key part, or fewer than ``min_parts`` parts.
    """
    key, sep, raw = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not sep or len(parts) < min_parts or not all(parts):
        raise ConfigError(f"{flag} {text!r}: expected key=value",
                          hint=f"for example {flag} {example}")
    return parts, parse_value(raw)


def apply_overrides(doc: dict[str, Any], sets: list[str],
                    unsets: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Apply ``--unset`` then ``--set`` to a parsed document, in place.

    ``--set section={...}`` replaces a whole section (to switch a component
    without its old options); ``--set section.key=value`` sets one key;
    ``--unset section.key`` removes one.

    :returns: ``{dotted key: value}`` of what was set (``None`` for unset keys);
        messages and path resolution use it to tell ``--set`` values apart.
    """
    applied: dict[str, Any] = {}
    for text in unsets:
        parts = [p.strip() for p in text.strip().split(".")]
        if len(parts) < 2 or not all(parts):
            raise ConfigError(f"--unset {text!r}: expected section.key",
                              hint="for example --unset backbone.weights")
        node: Any = doc
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(parts[-1], None)
        applied[".".join(parts)] = None
    for text in sets:
        parts, value = parse_assignment(text, example="train.epochs=3")
        if len(parts) == 1:
            if not isinstance(value, dict):
                raise ConfigError(f"--set {text!r}: a whole section needs a table",
                                  hint=f"for example --set '{parts[0]}={{name = \"...\"}}', "
                                       f"or --set {parts[0]}.KEY=VALUE")
            doc[parts[0]] = value
            applied.update({f"{parts[0]}.{k}": v for k, v in value.items()})
            continue
        try:
            set_dotted(doc, parts, value)
        except TypeError as exc:
            raise ConfigError(f"--set {text!r}: {exc}") from None
        applied[".".join(parts)] = value
    return applied
