"""Install and uninstall plugin distributions with pip, in bamnet's own environment."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

from ..errors import InstallError

PROTECTED = frozenset({"bamnet", "pip"})


def check_uninstall(packages: Sequence[str]) -> None:
    """Refuse to uninstall bamnet itself (or pip) from inside bamnet.

    :raises InstallError: naming the package and what to run instead.
    """
    for package in packages:
        name = package.split("[", 1)[0].strip().lower().replace("_", "-")
        if name in PROTECTED:
            raise InstallError(f"refusing to uninstall {package!r} from inside bamnet",
                               hint=f"run `python -m pip uninstall {package}` yourself if you "
                                    "really mean it; `bamnet uninstall` removes plugins")


def pip_command(action: str, packages: Sequence[str], *, upgrade: bool = False,
                editable: str | None = None, yes: bool = True) -> list[str]:
    """The pip command line for ``action`` ("install" or "uninstall")."""
    cmd = [sys.executable, "-m", "pip", action]
    if action == "install":
        if upgrade:
            cmd.append("--upgrade")
        if editable:
            cmd += ["--editable", editable]
    elif yes:
        cmd.append("--yes")
    return cmd + list(packages)


def run_pip(cmd: Sequence[str]) -> None:
    """Run pip, letting it talk to the terminal; raise :class:`InstallError` if it fails."""
    try:
        code = subprocess.call(list(cmd))
    except OSError as exc:
        raise InstallError(f"cannot run pip: {exc}") from None
    if code != 0:
        raise InstallError(f"pip exited with status {code}: {' '.join(cmd[3:])}",
                           hint="read pip's output above; offline, install from a local path")
