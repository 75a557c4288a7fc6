"""CSV rows that round-trip any text, a carriage return included.

Python's ``csv.writer`` quotes a field only for the delimiter, the quote
character and the characters of its line terminator; with ``"\\n"`` as the
terminator a field holding ``"\\r"`` is written bare, and every CSV reader
(``csv.reader`` included) then splits or refuses the row. A file name may hold
any character but ``/`` and NUL, so the files bamnet writes use this writer:
a field holding a comma, a quote, CR or LF is quoted, with quotes doubled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

_SPECIAL = frozenset(',"\r\n')


def csv_field(value: object) -> str:
    """One field as CSV text: ``None`` is empty, and a field that needs it is quoted."""
    text = "" if value is None else str(value)
    if _SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_line(cells: Iterable[object]) -> str:
    """One CSV row ending in ``"\\n"``."""
    fields = [csv_field(c) for c in cells]
    if fields == [""]:
        fields = ['""']  # a lone empty field is a row, not a blank line
    return ",".join(fields) + "\n"


class CsvWriter:
    """Writes rows of cells (or dicts, with ``fieldnames``) to a text stream."""

    def __init__(self, stream: TextIO, fieldnames: Sequence[str] | None = None) -> None:
        self.stream, self.fieldnames = stream, fieldnames

    def writeheader(self) -> None:
        """The ``fieldnames`` as a row."""
        self.writerow(self.fieldnames or [])

    def writerow(self, row: Iterable[object] | Mapping[str, object]) -> None:
        """One row; a dict is written in ``fieldnames`` order, extra keys ignored."""
        if isinstance(row, Mapping):
            row = [row.get(name, "") for name in self.fieldnames or []]
        self.stream.write(csv_line(row))

    def writerows(self, rows: Iterable[Iterable[object] | Mapping[str, object]]) -> None:
        """Each row in turn."""
        for row in rows:
            self.writerow(row)
