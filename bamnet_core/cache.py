"""Alias kept for plugins written against bamnet 0.1: import from :mod:`bamnet_core.contract`."""

from __future__ import annotations

from ._util.cachedir import cache_dir, file_sha256, fingerprint  # noqa: F401
