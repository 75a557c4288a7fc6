"""One place that turns exceptions into an ``Error: ...`` line, a hint and an exit code."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn, TypeVar

from rich.markup import escape

# typer parses with its own copy of click; its usage errors are these classes
from typer._click.exceptions import NoArgsIsHelpError, UsageError

from .._util.diskspace import FULL
from .._util.text import one_line
from ..errors import BamnetError, Interrupted
from .output import err

DEBUG_ENV = "BAMNET_DEBUG"
T = TypeVar("T")


def debug_enabled() -> bool:
    """True when ``BAMNET_DEBUG`` asks for tracebacks."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def render_error(exc: BaseException) -> int:
    """Print the one-line error and its hint on stderr; return the exit code."""
    console = err()
    if isinstance(exc, BamnetError):
        console.print(f"[bold red]Error:[/bold red] {escape(one_line(exc.message))}",
                      highlight=False)
        if exc.hint:
            console.print(f"[dim]Hint:[/dim] {escape(one_line(exc.hint))}", highlight=False)
        return exc.exit_code
    if isinstance(exc, OSError) and exc.errno in FULL:
        where = f" while writing {exc.filename}" if exc.filename else ""
        console.print(f"[bold red]Error:[/bold red] no space left on device{escape(where)}",
                      highlight=False)
        console.print("Hint: free space on that disk (or write elsewhere), then continue",
                      highlight=False)
        return 1
    if isinstance(exc, MemoryError):
        console.print("[bold red]Error:[/bold red] out of memory", highlight=False)
        console.print("Hint: lower train.batch_size or preprocess.size", highlight=False)
        return 1
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    console.print(f"[bold red]Error:[/bold red] unexpected {type(exc).__name__}: "
                  f"{escape(text)}", highlight=False)
    console.print(f"Hint: rerun with {DEBUG_ENV}=1 for the traceback, and report it",
                  highlight=False)
    return 1


def render_usage(exc: UsageError) -> int:
    """A command line click cannot parse: one ``Error:`` line naming the command's ``--help``."""
    path = exc.ctx.command_path if exc.ctx is not None else "bamnet"
    message = one_line(exc.format_message()).rstrip(".")
    err().print(f"[bold red]Error:[/bold red] {escape(message)}; see '{escape(path)} --help'",
                highlight=False, soft_wrap=True)
    return exc.exit_code


def usage_errors_in_one_line(step: Callable[[], T]) -> T:
    """Run ``step`` (parsing or invoking a command); a usage error exits with one line."""
    try:
        return step()
    except NoArgsIsHelpError:
        raise  # `bamnet` alone shows the help
    except UsageError as exc:
        raise SystemExit(render_usage(exc)) from None


def render_interrupt(exc: KeyboardInterrupt) -> None:
    """One line for SIGINT or SIGTERM: what was kept and the command that continues."""
    console = err()
    if isinstance(exc, Interrupted):
        follow = f" Continue with: {exc.command}" if exc.command else ""
        console.print(f"Interrupted: {escape(one_line(exc.kept))}.{escape(follow)}",
                      highlight=False, soft_wrap=True)
    else:
        console.print("Interrupted.", highlight=False)


def fail(exc: BaseException) -> NoReturn:
    """Render ``exc`` and exit, or re-raise it when debugging."""
    if debug_enabled():
        raise exc
    raise SystemExit(render_error(exc))
