"""Text that must stay on one line: error cells, ``Warning:`` lines, log records."""

from __future__ import annotations

_ESCAPES = str.maketrans({"\r": "\\r", "\n": "\\n", "\x0b": "\\v", "\x0c": "\\f",
                          "\x85": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def one_line(text: str) -> str:
    """``text`` with every line break written as an escape (``\\n``), so it stays one line.

    Trailing line breaks are dropped first: ``"bad\\n"`` becomes ``"bad"``.
    """
    return text.rstrip("\r\n").translate(_ESCAPES)
