"""Parquet shards of score rows: written atomically, read back to resume, merged at the end.

The Ray engine writes every batch of rows it receives as one shard,
``<output>.shards/part-<run>-<n>.parquet``, through a temp file and a rename,
so a shard is either whole or absent, whenever the run is killed. Resuming
reads the paths in the shards (checking each row's model, threshold and
classes, as local resume does), and the merged output (CSV or JSON Lines, the
same rows local scoring writes) is rebuilt from the shards, atomically, with
each path once. Needs ``pyarrow`` (``bamnet[distributed]``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._util.atomic import atomic_path
from .resume import ENCODING, ERRORS, DecisionRule, OutputError, check_rule, uid_schema_error
from .rows import csv_columns, record_from_columns
from .scorer import ScoreRecord

PATTERN = "part-*.parquet"


def shard_folder(output: Path) -> Path:
    """Where the shards of ``output`` live (``scores.csv`` -> ``scores.csv.shards/``)."""
    return output.with_name(output.name + ".shards")


def shard_schema(classes: list[str], uids: bool = False) -> Any:
    """The Arrow schema of a shard: the CSV columns, typed."""
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c.startswith("prob_") or c == "threshold"
                       else pa.string()) for c in csv_columns(classes, uids)])


def write_shard(folder: Path, name: str, columns: dict[str, Any], classes: list[str],
                uids: bool = False) -> None:
    """Write one shard atomically (temp file, fsync, rename)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = shard_schema(classes, uids)
    table = pa.table({k: pa.array([_cell(v, schema.field(k).type == pa.string())
                                   for v in columns[k]], type=schema.field(k).type)
                      for k in csv_columns(classes, uids)}, schema=schema)
    with atomic_path(folder / name) as tmp:
        pq.write_table(table, tmp)


def _cell(value: Any, text: bool) -> Any:
    """A batch value as a shard cell: ``None`` for missing (None, NaN, or "" in a text column)."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if text:
        return str(value) or None
    return float(value)


def iter_shard_records(folder: Path, classes: list[str],
                       uids: bool = False) -> Iterator[ScoreRecord]:
    """Every row of every shard, shard by shard in name order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for shard in sorted(folder.glob(PATTERN)):
        try:
            table = pq.read_table(shard)
        except (pa.ArrowException, OSError, ValueError) as exc:  # damaged, truncated, unreadable
            raise OutputError(f"shard {shard} is unreadable: {exc}",
                              hint="delete that shard and resume; its images are scored "
                                   "again") from None
        if table.column_names == csv_columns(classes, not uids):
            raise uid_schema_error(shard, not uids)
        if table.column_names != csv_columns(classes, uids):
            raise OutputError(f"shard {shard} has the columns {table.column_names}; this model "
                              f"writes {csv_columns(classes, uids)} (another class list)",
                              hint="write to a new --output")
        for batch in table.to_batches(max_chunksize=4096):
            for row in batch.to_pylist():
                yield record_from_columns(row, classes, uids)


def read_shard_paths(folder: Path, rule: DecisionRule) -> set[str]:
    """Paths in the shards; drops temp files a killed run left; checks the decision rule."""
    done: set[str] = set()
    if not folder.is_dir():
        return done
    for leftover in folder.glob(".part-*.tmp.parquet"):
        leftover.unlink(missing_ok=True)
    batch: list[ScoreRecord] = []
    for record in iter_shard_records(folder, rule.classes, rule.uids):
        batch.append(record)
        if len(batch) >= 4096:
            check_rule(batch, rule, folder)
            batch.clear()
        done.add(record.path)
    check_rule(batch, rule, folder)
    return done


def merge_shards(folder: Path, output: Path, fmt: str, classes: list[str],
                 uids: bool = False) -> int:
    """Write ``output`` (CSV or JSON Lines) from the shards, each path once; rows written."""
    from .output import RecordWriter

    seen: set[str] = set()
    with atomic_path(output) as tmp, open(tmp, "w", encoding=ENCODING, errors=ERRORS,
                                          newline="") as fh:
        writer = RecordWriter(fh, fmt, classes, header=True, durable=False,  # type: ignore[arg-type]
                              uids=uids)
        pending: list[ScoreRecord] = []
        for record in iter_shard_records(folder, classes, uids):
            if record.path in seen:
                continue
            seen.add(record.path)
            pending.append(record)
            if len(pending) >= 4096:
                writer.write(pending)
                pending.clear()
        writer.write(pending)
        fh.flush()
        os.fsync(fh.fileno())
    return len(seen)


def shards_exist(folder: Path) -> bool:
    """True if ``folder`` holds at least one shard."""
    return folder.is_dir() and next(folder.glob(PATTERN), None) is not None
