"""Where the benchmarks find real data: an argument, else ``BAMNET_DATA``, else the default.

Not a benchmark itself. The default is ``../shared/data/cxr-public`` relative to
the repository root (a folder with ``manifest.csv`` and ``normal/``, ``covid/``);
nothing is copied out of it.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cxr-public"
DATA_ENV = "BAMNET_DATA"


def data_folder(given: str | Path | None = None) -> Path:
    """The data folder: ``given``, else ``$BAMNET_DATA``, else ``../shared/data/cxr-public``."""
    chosen = given or os.environ.get(DATA_ENV) or DEFAULT_DATA
    folder = Path(chosen).expanduser().resolve()
    if folder.is_file():  # a manifest.csv given for the folder
        folder = folder.parent
    if not folder.is_dir():
        raise SystemExit(f"no data folder at {folder}: pass one as an argument or set "
                         f"{DATA_ENV}")
    return folder


def add_data_argument(parser) -> None:
    """Add the optional ``--data FOLDER`` argument every benchmark takes."""
    parser.add_argument("--data", default=None,
                        help=f"data folder (default: ${DATA_ENV} or {DEFAULT_DATA})")
