"""``bamnet verify RUN_DIR``: whether a run folder still holds what its stages wrote.

Every file ``integrity.json`` records is hashed again and compared, the files a
command reads back are looked for outside the record, ``config.toml`` is loaded
through the plugins and its resolved form compared with the recorded hash, and
the pseudonym key in use is compared by fingerprint
(:mod:`bamnet_core.runs.integrity`). Nothing is written.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..config.load import load_config
from ..errors import BamnetError, RunError
from ..plugins.manager import PluginHost
from ..runs import layout
from ..runs.folder import RunFolder
from ..runs.integrity import Verification, verify_run


def verify_folder(run_dir: str | Path, host: PluginHost) -> Verification:
    """Check the run folder ``run_dir`` against its record.

    :raises RunError: not a run folder, or ``integrity.json`` itself damaged.
    """
    run = RunFolder(run_dir)
    if not run.path.is_dir() or not run.file(layout.CONFIG).is_file():
        raise RunError(f"{run.path} is not a bamnet run folder (no {layout.CONFIG})",
                       hint="pass a folder that `bamnet run` created, e.g. runs/<stamp>-<name>")
    record = run.read_record()
    if record is None or record.config_sha256 is None:
        return verify_run(run)
    try:
        resolved = load_config(str(run.file(layout.CONFIG)), host.registry).to_toml()
    except BamnetError:  # an edited config that no longer loads: it does not hold
        return replace(verify_run(run), config="changed")
    return verify_run(run, resolved_toml=resolved)
