"""The built-in commands, imported only when one is run: ``bamnet --help`` loads none.

Each command module pulls in the library it drives (``bamnet run`` the whole
experiment, scipy included; ``bamnet score`` onnxruntime). Importing them all
for every invocation cost about a second, so the root group knows the
built-ins by name and one-line help from :data:`BUILTIN_COMMANDS` and imports
a module the first time one of its commands is resolved (click's "lazily
loading subcommands" pattern). ``tests/test_cli_startup.py`` holds the table
equal to the commands' own help and checks what each fast path imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand

from ..plugins.commands import walk_commands
from .errors import usage_errors_in_one_line
from .help_text import tidy, tidy_params
from .legacy_run import LegacyRunGroup


@dataclass(frozen=True)
class BuiltinCommand:
    """A built-in command: its name, the module that registers it, its one-line help."""

    name: str
    module: str
    help: str


def _c(name: str, module: str, help: str) -> BuiltinCommand:
    return BuiltinCommand(name, f"{__package__}.{module}", help)


#: In the order ``bamnet --help`` lists them.
BUILTIN_COMMANDS: tuple[BuiltinCommand, ...] = (
    _c("install", "install_command",
       "Install plugins (or anything pip can) into bamnet's environment."),
    _c("uninstall", "install_command", "Uninstall plugins from bamnet's environment."),
    _c("run", "run_command", "Train and evaluate a model as a preset or config file says."),
    _c("resume", "run_command", "Continue a stopped, killed or failed run with its own config, "
                                "or redo its last stages."),
    _c("ablate", "ablate_command", "Run a config twice, with and without its generator, "
                                   "same seed and split; compare."),
    _c("loso", "loso_command", "Leave one source out: one run per source, trained without it "
                               "and tested on it."),
    _c("export", "export_command", "Export a trained model; refuse files that fail their gate."),
    _c("score", "score_command", "Score images; rows go out as they are produced. "
                                 "Exit 3 if some files failed."),
    _c("listen", "listen_command", "Receive images by DICOM C-STORE, score them, write rows "
                                   "and SRs; send SRs back."),
    _c("report", "report_command", "Write RUN_DIR/report.html (self-contained), plots/*.png "
                                   "and model-card.md."),
    _c("compare", "report_command", "Put several runs side by side in one HTML page "
                                    "(e.g. leaky vs patient split)."),
    _c("verify", "verify_command", "Check a run folder's files against the SHA-256 its "
                                   "stages recorded."),
    _c("evaluate", "evaluate_command", "Evaluate a trained model on another dataset; add it "
                                       "to the run's report."),
    _c("plugins", "plugins_command",
       "List installed plugins: name, version, hooks, components, status."),
    _c("presets", "presets_command", "Named run configurations."),
    _c("data", "data_command", "Inspect datasets and fetch public ones."),
)
BUILTIN_NAMES = tuple(c.name for c in BUILTIN_COMMANDS)
_BY_NAME = {c.name: c for c in BUILTIN_COMMANDS}

Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


def load_module_commands(module: str, state: object, wrap: Wrap | None = None) -> dict[str, Any]:
    """Import ``module``, let it register its commands, return them as click commands by name."""
    sub = typer.Typer()
    importlib.import_module(module).register(sub, state)
    if wrap is not None:
        for info in walk_commands(sub):
            if info.callback is not None:
                info.callback = wrap(info.callback)
    return dict(typer.main.get_group(sub).commands)


class LazyRootGroup(LegacyRunGroup):
    """The root group: plugin commands as usual, built-ins imported on first use.

    A subclass made by :func:`lazy_root` carries the CLI state and the callback
    wrapper the built-ins are registered with.
    """

    state: object = None
    wrap: Wrap | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        """Built-ins first, in table order, then the plugins' commands."""
        return [*BUILTIN_NAMES, *(n for n in super().list_commands(ctx) if n not in _BY_NAME)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command ``cmd_name``; a built-in's module is imported now (not to list help)."""
        if cmd_name in self.commands or cmd_name not in _BY_NAME:
            return tidy(super().get_command(ctx, cmd_name), ctx)
        entry = _BY_NAME[cmd_name]
        if self._listing:  # `bamnet --help` needs the name and one line, not the module
            return TyperCommand(cmd_name, help=entry.help)
        for name, command in load_module_commands(entry.module, self.state, self.wrap).items():
            self.commands.setdefault(name, command)
        return tidy(self.commands.get(cmd_name), ctx)

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        """Parse the root's options; a usage error is one ``Error:`` line, exit 2."""
        return usage_errors_in_one_line(
            lambda: super(LazyRootGroup, self).make_context(info_name, args, parent, **extra))

    def invoke(self, ctx: Any) -> Any:
        """Parse and run the command; its usage errors are one ``Error:`` line, exit 2."""
        return usage_errors_in_one_line(lambda: super(LazyRootGroup, self).invoke(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The root help, listing built-ins from the table without importing them."""
        self._listing = True
        tidy_params(self, ctx)
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def lazy_root(state: object, wrap: Wrap | None = None) -> type[LazyRootGroup]:
    """A root group class bound to this invocation's ``state`` and callback wrapper."""
    return type("BamnetRootGroup", (LazyRootGroup,),
                {"state": state, "wrap": staticmethod(wrap) if wrap else None})
