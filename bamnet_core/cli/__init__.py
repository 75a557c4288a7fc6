"""The ``bamnet`` command line: one module per command, errors handled in :func:`main`."""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from .. import __version__
from ..plugins.commands import walk_commands
from .errors import fail, render_interrupt
from .lazy_commands import BUILTIN_NAMES, lazy_root
from .noise import quiet_process
from .signals import restore_terminate, terminate_like_interrupt
from .state import CLIState


def version_callback(value: bool) -> None:
    """Print the version and stop (``--version``)."""
    if value:
        typer.echo(f"bamnet {__version__}")
        raise typer.Exit()


def build_app(state: CLIState | None = None) -> typer.Typer:
    """Build the Typer app: commands from plugins; the built-ins load when one is run.

    The built-in commands live in :mod:`.lazy_commands`, so ``bamnet --help``,
    ``bamnet score`` and ``bamnet presets list`` import only what they use.
    """
    state = state or CLIState()
    app = typer.Typer(
        name="bamnet",
        cls=lazy_root(state, wrap=_quiet_on_closed_pipe),
        help="Train, audit, export and serve chest X-ray classifiers.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root(
        version: Annotated[bool, typer.Option(
            "--version", callback=version_callback, is_eager=True,
            help="Show the version and exit.")] = False,
    ) -> None:
        """Train, audit, export and serve chest X-ray classifiers."""

    state.host.call_register_commands(app, reserved=BUILTIN_NAMES)
    for info in walk_commands(app):
        if info.callback is not None:
            info.callback = _quiet_on_closed_pipe(info.callback)
    return app


def _quiet_on_closed_pipe(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command: a closed stdout ends quietly; an interrupt prints how to continue.

    (Typer turns ``KeyboardInterrupt`` into exit 130 before :func:`main` sees it,
    so the interrupt line is printed here, inside the command.)
    """
    @functools.wraps(callback)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                closed_stdout()
            raise
        except KeyboardInterrupt as exc:
            render_interrupt(exc)
            raise SystemExit(130) from None

    return command


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: run the app; print domain errors as one line plus a hint.

    A closed pipe on stdout (``bamnet ... | head``) ends the command quietly,
    as it does for other Unix tools.
    """
    quiet_process()
    previous = terminate_like_interrupt()
    try:
        app = build_app()
        app(args=list(argv) if argv is not None else sys.argv[1:], prog_name="bamnet")
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        render_interrupt(exc)
        raise SystemExit(130) from None
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            closed_stdout()
        fail(exc)
    finally:
        restore_terminate(previous)


def closed_stdout() -> None:
    """Stop quietly after the reader of stdout went away (exit status 141, like SIGPIPE)."""
    try:  # point stdout at /dev/null so the interpreter's final flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    raise SystemExit(141)
