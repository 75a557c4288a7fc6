"""``bamnet verify RUN_DIR``: which files of a run are what its stages wrote, and which not.

Exit 0 when everything recorded holds; 1 when a file changed, went missing or
appeared, the config resolves differently, the pseudonym key differs, or the
run has no record to check against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import RunError
from .output import JsonOption, notice, out, print_json
from .state import CLIState

MARKS = {"holds": "ok", "changed": "CHANGED", "missing": "MISSING", "unrecorded": "NOT RECORDED"}


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``verify`` command to ``app``."""

    @app.command("verify")
    def verify(
        run_dir: Annotated[Path, typer.Argument(help="A run folder made by `bamnet run`.")],
        json_: JsonOption = False,
    ) -> None:
        """Check a run folder's files against the SHA-256 its stages recorded."""
        from ..experiment.verification import verify_folder
        from ..runs.integrity import NO_RECORD

        checked = verify_folder(run_dir, state.healthy_host())
        if json_:
            print_json(checked.to_json())
            if not checked.ok:
                raise typer.Exit(1)
            return
        if not checked.recorded:
            notice(f"{checked.run} {NO_RECORD}")
            raise RunError(f"{checked.run} has no integrity.json: nothing to verify against",
                           hint="runs made by this bamnet record their files; an older run "
                                "is read as it is")
        console = out()
        for f in checked.files:
            detail = f": {f.detail}" if f.detail and not f.holds else ""
            stage = f" ({f.stage})" if f.stage else ""
            console.print(f"{MARKS[f.status]:<12} {f.name}{stage}{detail}", highlight=False,
                          markup=False, soft_wrap=True)
        config = {"holds": "the resolved config is the one recorded",
                  "changed": "config.toml no longer resolves to the config recorded",
                  "unrecorded": "no config hash recorded"}[checked.config]
        console.print(f"{'ok' if checked.config != 'changed' else 'CHANGED':<12} {config}",
                      highlight=False, markup=False, soft_wrap=True)
        console.print(f"{'ok' if checked.key.holds else 'CHANGED':<12} "
                      f"{checked.key.sentence()}", highlight=False, markup=False,
                      soft_wrap=True)
        if not checked.ok:
            bad = [f.name for f in checked.problems]
            if checked.config == "changed":
                bad.append("the config")
            if not checked.key.holds:
                bad.append("the pseudonym key")
            raise RunError(f"{checked.run}: {', '.join(bad)} not as the run recorded",
                           hint="a changed file is not used: put it back, or redo the stage "
                                "that wrote it (the lines above name it)")
