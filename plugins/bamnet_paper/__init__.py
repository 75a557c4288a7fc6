"""The built-in plugins: what it takes to reproduce the BAM-NET paper, and a quickstart.

Each module is an ordinary bamnet plugin, loaded through the same hooks as a
third-party one (see ``bamnet_core.plugins.DEFAULT_PLUGINS``).
"""
