"""State shared by the commands of one CLI invocation: the loaded plugins."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..plugins.manager import PluginHost, load_plugins
from .output import warn


@dataclass
class CLIState:
    """Holds the plugin host, loaded once per invocation."""

    host: PluginHost = field(default_factory=load_plugins)
    warned: bool = False

    def healthy_host(self) -> PluginHost:
        """The host, after one warning line per broken plugin (once per invocation)."""
        if not self.warned:
            for failure in self.host.failures.values():
                warn(failure.message() + " (`bamnet plugins` for details)")
            self.warned = True
        return self.host
