"""What a dataset source declares about downloading its data (the ``Downloadable`` capability)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetDownload:
    """Where a dataset comes from and how it unpacks.

    :param name: the source name (as in ``bamnet data fetch NAME``).
    :param url: the archive (``.zip``, ``.tar.gz``, ``.tgz``, ``.tar``); None
        if it cannot be fetched without an account.
    :param sha256: expected digest of the archive; None if the archive is
        not stable (the digest is then reported, not checked).
    :param folder: the folder the archive unpacks to, which the source reads.
    :param size: human size hint.
    :param manual: how to get it by hand (shown when fetching fails).
    """

    name: str
    url: str | None
    sha256: str | None
    folder: str
    size: str = ""
    manual: str = ""
