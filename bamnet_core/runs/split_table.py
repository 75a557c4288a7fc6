"""``splits.csv`` read back: the split table a run writes for people, checked before use.

Export's parity gate, ablation, loso and a resumed data stage read it. Each
once indexed its rows by column name, so a file that is not the table (a link
to ``/etc/passwd``, a hand edit that lost a column) surfaced as ``unexpected
KeyError: 'split'``. :func:`read_split_rows` reads it once, capped like every
run file, and refuses such a file in one line naming it, its first line and
what to do.
"""

from __future__ import annotations

import csv
import io

from ..errors import RunError
from . import layout
from .folder import RunFolder, unreadable

COLUMNS = ("split", "path", "label")
"""The columns every reader needs; the writer adds provenance columns after them."""
SPLITS = frozenset({"train", "val", "test"})


def read_split_rows(run: RunFolder) -> list[dict[str, str]]:
    """Every row of the run's ``splits.csv``, each with at least :data:`COLUMNS`.

    :raises RunError: when it is missing, unreadable, over its cap, not UTF-8,
        lacks a column, or has a row that is not one of the table's (naming the
        row's line).
    """
    path = run.file(layout.SPLITS_CSV)
    hint = (f"it is written from split.json: delete it and continue with "
            f"`bamnet resume {run.path} --from data`")
    try:
        text = run.read_text(layout.SPLITS_CSV)
    except FileNotFoundError:
        raise RunError(f"{path} is missing", hint=hint) from None
    except UnicodeDecodeError:
        raise RunError(f"{path} is not the split table a run writes (not UTF-8 text)",
                       hint=hint) from None
    except OSError as exc:
        raise unreadable(path, exc) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            first = text.splitlines()[0][:60] if text.strip() else "(empty)"
            columns = f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            raise RunError(f"{path} is not the split table a run writes: it lacks the "
                           f"{columns} (its first line is {first!r})", hint=hint)
        rows = []
        for row in reader:
            if None in row or any(row[c] is None for c in COLUMNS) or row["split"] not in SPLITS:
                raise RunError(f"{path} line {reader.line_num} is not a row of the split table "
                               f"(a split of train, val or test, then path and label)", hint=hint)
            rows.append(row)
    except csv.Error as exc:
        raise RunError(f"{path} line {reader.line_num} is not valid CSV ({exc})",
                       hint=hint) from None
    return rows
