"""What the built-in sources share: listing image files, views, labels, CSV reading."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from bamnet_core.contract import IMAGE_SUFFIXES, DataError

_VIEWS = {"pa": "PA", "ap": "AP", "ap supine": "AP supine", "ap erect": "AP erect",
          "ap semi erect": "AP semi erect", "l": "lateral", "lateral": "lateral",
          "ll": "lateral"}


def image_files(folder: Path) -> Iterator[Path]:
    """Image files under ``folder`` (recursively, sorted; hidden files and masks skipped).

    DICOM files without a suffix are not listed: name them ``.dcm`` or use a
    manifest.
    """
    for path in sorted(folder.rglob("*")):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() in IMAGE_SUFFIXES:
            yield path


def normalise_view(raw: str | None) -> str | None:
    """``"AP Supine"`` -> ``"AP supine"``, ``"L"`` -> ``"lateral"``; unknown text kept as is."""
    if raw is None or not str(raw).strip():
        return None
    text = re.sub(r"\s+", " ", str(raw).strip())
    if text.lower().startswith(("unspecified", "unknown", "n/a", "nan")):
        return None
    return _VIEWS.get(text.lower(), text)


def parse_age(raw: object) -> float | int | None:
    """Age in years from text (``"65"``, ``"4 y"``, ``"early 40s"`` -> 40); None if absent."""
    match = re.search(r"(\d+(?:\.\d+)?)", str(raw or ""))
    if not match:
        return None
    value = float(match.group(1))
    return int(value) if value.is_integer() else value


def label_for(folder_name: str, label_map: dict[str, str], lowercase: bool) -> str:
    """A class label from a folder name, through ``label_map`` (case-insensitive keys)."""
    lowered = {k.lower(): v for k, v in label_map.items()}
    if folder_name.lower() in lowered:
        return lowered[folder_name.lower()]
    return folder_name.lower() if lowercase else folder_name


def csv_header(path: Path) -> list[str]:
    """The column names on a CSV file's first line; ``[]`` when it cannot be read as text."""
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open(path, newline="", encoding=encoding) as fh:
                return [c.strip() for c in next(csv.reader(fh), [])]
        except UnicodeDecodeError:
            continue
        except (OSError, csv.Error):
            return []
    return []


def read_csv(path: Path, *, required: tuple[str, ...] = (),
             encodings: tuple[str, ...] = ("utf-8-sig", "latin-1")) -> list[dict[str, str]]:
    """All rows of a CSV file as dicts, with clear errors naming the file.

    :raises DataError: unreadable or missing file, or a required column absent.
    """
    last: Exception | None = None
    for encoding in encodings:
        try:
            with open(path, newline="", encoding=encoding) as fh:
                reader = csv.DictReader(fh)
                rows = list(reader)
                header = reader.fieldnames or []
            break
        except UnicodeDecodeError as exc:
            last = exc
        except FileNotFoundError:
            raise DataError(f"{path}: file not found",
                            hint="check the path in the [data] section") from None
        except (OSError, csv.Error) as exc:
            raise DataError(f"{path}: cannot read CSV: {exc}") from None
    else:
        raise DataError(f"{path}: not a text CSV file ({last})")
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; header is {header}",
                        hint=f"the CSV needs the columns {list(required)}")
    return rows
