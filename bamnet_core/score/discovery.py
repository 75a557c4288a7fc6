"""Find the images to score, as a stream of canonical paths: files given, and images in folders.

Every path is yielded once, as its canonical absolute form (symlinks resolved,
``os.path.realpath``), so the same file named twice, or reached through a
symlink and directly, is scored once, and rows do not depend on the working
directory. Folders are walked lazily, one directory at a time, in sorted
order (a folder's files, then its subfolders), so scoring starts at once on a
folder of millions of files and two runs visit files in the same order.
A walk stays inside the folder it was given: a symlinked subfolder is followed
only while it leads to a folder inside it. A link that leads out of it, into
``/proc``, ``/sys`` or ``/dev``, or back into a folder it sits in (a loop) is
not followed, and ``on_skip`` is told once per link, with the reason;
``follow_links`` allows links that leave the folder, never the system folders
nor a loop. A folder already visited (two links to one folder) is not walked
again.

Files named on the command line are always tried, whatever their suffix;
entries found in folders are kept by suffix (:data:`IMAGE_SUFFIXES`) whatever
they are, so a FIFO or a device named ``x.png`` becomes an error row (decoding
refuses it from ``fstat`` without a blocking read) instead of disappearing.
Regular files named without an image suffix, as PACS exports name them
(``IM0001``, a UID), are kept when they start like DICOM.
A path that does not exist, or a folder that cannot be read, is yielded as an
:class:`ImageDecodeError`.

This module imports no TensorFlow: scoring depends on it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import ImageDecodeError
from ..imaging.formats import IMAGE_SUFFIXES

Item = str | ImageDecodeError

#: folders a link is never followed into: kernel views, not images
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


def canonical_path(path: str | Path) -> str:
    """The absolute path with every symlink resolved (the form rows hold)."""
    return os.path.realpath(os.fspath(path))


def item_path(item: Item) -> str:
    """The path an item (a path or an error about one) is about."""
    return item.path if isinstance(item, ImageDecodeError) else item


def iter_image_paths(paths: Iterable[str | Path], *,
                     suffixes: frozenset[str] = IMAGE_SUFFIXES, follow_links: bool = False,
                     on_skip: Callable[[str], None] | None = None) -> Iterator[Item]:
    """Yield canonical image file paths under ``paths``, each once, or an error per bad path.

    A folder whose name looks like an image (``scan.png/``) is still a folder:
    it is walked like any other. A folder link that is not followed (see the
    module's notes) is passed to ``on_skip`` as one sentence.
    """
    seen: set[str] = set()
    walk = _Walk(suffixes, follow_links, on_skip or (lambda _message: None))
    for raw in paths:
        for item in walk.expand(os.fspath(raw)):
            key = item_path(item)
            if key not in seen:
                seen.add(key)
                yield item


def link_refusal(link: str, target: str, root: str, *, follow_links: bool) -> str | None:
    """Why the folder link ``link`` (to the canonical ``target``) found under ``root`` is not
    followed, or ``None`` when it is."""
    for system in SYSTEM_FOLDERS:
        if _inside(target, system):
            return f"not following the folder link {link}: it leads into {system}"
    if _inside(canonical_path(os.path.dirname(link)), target):
        return f"not following the folder link {link}: it leads back into a folder it is in"
    if not follow_links and not _inside(target, root):
        return (f"not following the folder link {link}: it leads out of {root} to {target} "
                "(pass --follow-links to follow it)")
    return None


def _inside(path: str, folder: str) -> bool:
    """Whether the canonical ``path`` is ``folder`` or lies under it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Walk:
    """One discovery: the folders visited so far and the rules for links."""

    def __init__(self, suffixes: frozenset[str], follow_links: bool,
                 on_skip: Callable[[str], None]) -> None:
        self.suffixes = suffixes
        self.follow_links = follow_links
        self.on_skip = on_skip
        self.visited: set[tuple[int, int]] = set()

    def expand(self, path: str) -> Iterator[Item]:
        """The items one command-line path stands for."""
        if os.path.isdir(path):
            yield from self.walk(canonical_path(path))
        elif os.path.lexists(path):
            yield canonical_path(path)
        else:
            yield ImageDecodeError(canonical_path(path), "file not found")

    def walk(self, root: str) -> Iterator[Item]:
        """Depth-first, sorted; ``root`` and every folder pushed are canonical."""
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                info = os.stat(folder)
                if (info.st_dev, info.st_ino) in self.visited:
                    continue  # reached again through a symlink: its files are already listed
                self.visited.add((info.st_dev, info.st_ino))
                with os.scandir(folder) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as exc:
                yield ImageDecodeError(folder, f"cannot list folder: {exc.strerror or exc}")
                continue
            subfolders = []
            for entry in entries:
                try:
                    is_dir = entry.is_dir()  # follows symlinks; False for a dangling link
                except OSError:
                    is_dir = False
                if is_dir:
                    if not entry.is_symlink():
                        subfolders.append(entry.path)
                        continue
                    target = canonical_path(entry.path)
                    refusal = link_refusal(entry.path, target, root,
                                           follow_links=self.follow_links)
                    if refusal is None:
                        subfolders.append(target)
                    else:
                        self.on_skip(refusal)
                elif os.path.splitext(entry.name)[1].lower() in self.suffixes or \
                        _dicom_without_suffix(entry):
                    yield canonical_path(entry.path) if entry.is_symlink() else entry.path
            stack.extend(reversed(subfolders))


def _dicom_without_suffix(entry: os.DirEntry) -> bool:
    """A PACS export's file named without an image suffix (``IM0001``, a UID such as
    ``1.2.840.113619.2.1``) that starts like DICOM (``DICM`` at byte 128).

    Only regular files with no suffix or an all-digit one are opened, without blocking.
    """
    suffix = os.path.splitext(entry.name)[1][1:]
    if suffix and not suffix.isdigit():
        return False
    try:
        if not entry.is_file():  # follows symlinks; False for a FIFO, a device, a socket
            return False
        fd = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        return os.pread(fd, 4, 128) == b"DICM"
    except OSError:
        return False
    finally:
        os.close(fd)

