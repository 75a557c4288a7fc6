"""The error hierarchy. Every domain error derives from :class:`BamnetError`.

Each error carries a one-line message and an optional hint naming what to do
next. The CLI prints both and exits 1; library code only raises.
"""

from __future__ import annotations


class BamnetError(Exception):
    """Base class for errors a user can act on.

    :param message: what went wrong, naming the file, key or plugin involved.
    :param hint: what to do about it, ideally a command to run.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(BamnetError):
    """A config file, preset or ``--set`` override is invalid."""


class UnknownComponentError(ConfigError):
    """A config names a component (source, backbone, ...) nobody registered."""


class PluginError(BamnetError):
    """A plugin failed to import, broke the hook contract, or raised in a hook."""


class DuplicateComponentError(PluginError):
    """Two plugins registered a component of the same kind under the same name."""


class PluginFault(PluginError):
    """Plugin code (a factory, ``samples``, ``build``, ``evaluate``, a command) raised.

    The message names the component and the distribution that shipped it, and
    the hint points at that distribution, not at bamnet.

    :param component: how to name the component, e.g. ``"evaluator 'brier'"``.
    :param distribution: the distribution that installed the plugin.
    :param error: the exception the plugin raised.
    """

    def __init__(self, component: str, distribution: str, error: BaseException) -> None:
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        described = f"{type(error).__name__}: {text}" if text else type(error).__name__
        super().__init__(
            f"{component} from plugin {distribution!r} failed: {described}",
            hint=f"this is a fault in {distribution}: report it to its authors (BAMNET_DEBUG=1 "
                 f"shows the traceback), or configure another component")
        self.component = component
        self.distribution = distribution
        self.error = error


class DataError(BamnetError):
    """A dataset source could not produce usable samples."""


class ImageDecodeError(DataError):
    """One image could not be decoded. Carries the path, the reason and its kind.

    :param kind: a stable category for counting failures: ``empty``,
        ``truncated``, ``corrupt`` (the data disagrees with its header),
        ``not-an-image``, ``not-a-file``, ``too-large``, ``no-pixels``,
        ``unsupported-compression`` (no installed decoder for a DICOM transfer
        syntax; the message names it and the package to install),
        ``codec-error`` (a decoder failed on the data) or ``unreadable``.
    """

    def __init__(self, path: str, reason: str, *, hint: str | None = None,
                 kind: str = "unreadable") -> None:
        super().__init__(f"{path}: {reason}", hint=hint)
        self.path = path
        self.reason = reason
        self.kind = kind


class RunError(BamnetError):
    """A run folder is missing, incomplete or cannot be resumed."""


class InstallError(BamnetError):
    """pip failed while installing or uninstalling a plugin."""


class LockedError(BamnetError):
    """Another process owns the output (a score file, a run folder) this one would write."""


class DiskFullError(BamnetError):
    """A write failed because the disk (or the user's quota) is full."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped a command; says what was kept and the command that continues.

    A ``KeyboardInterrupt``, so everything that cleans up after an interrupt
    still does. The CLI prints ``Interrupted: <kept>. Continue with: <command>``.

    :param kept: what is on disk, e.g. ``"run folder runs/x keeps stages data, audit"``.
    :param command: the command that continues, e.g. ``"bamnet resume runs/x"``.
    """

    def __init__(self, kept: str, command: str | None) -> None:
        super().__init__(kept)
        self.kept = kept
        self.command = command
