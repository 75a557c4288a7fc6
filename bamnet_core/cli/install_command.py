"""``bamnet install`` / ``bamnet uninstall``: pip, inside bamnet's environment."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import BamnetError
from ..plugins.installer import check_uninstall, pip_command, run_pip
from .state import CLIState


def register(app: typer.Typer, state: CLIState) -> None:
    """Add ``install`` and ``uninstall`` to ``app``."""

    @app.command("install")
    def install(
        packages: Annotated[list[str] | None,
                            typer.Argument(help="Distributions or paths.")] = None,
        upgrade: Annotated[bool, typer.Option("--upgrade", "-U", help="Upgrade if present.")]
        = False,
        editable: Annotated[str | None, typer.Option("--editable", "-e",
                                                     help="Install a local folder editable.")]
        = None,
    ) -> None:
        """Install plugins (or anything pip can) into bamnet's environment."""
        if not packages and not editable:
            raise BamnetError("nothing to install", hint="bamnet install bamnet-NAME")
        run_pip(pip_command("install", packages or [], upgrade=upgrade, editable=editable))

    @app.command("uninstall")
    def uninstall(
        packages: Annotated[list[str], typer.Argument(help="Distributions to remove.")],
    ) -> None:
        """Uninstall plugins from bamnet's environment."""
        check_uninstall(packages)
        run_pip(pip_command("uninstall", packages))
