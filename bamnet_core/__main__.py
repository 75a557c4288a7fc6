"""``python -m bamnet_core`` runs the CLI."""

from .cli import main

main()
