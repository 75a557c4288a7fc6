"""The shell commands and Python blocks the docs show, extracted from their fenced code blocks.

Used by ``tests/test_doc_commands.py`` (and so by ``nox -s docs``). A command is one line of a
``console``/``bash``/``sh``/``shell`` block in README.md or docs/**/*.md (not docs/cli.md,
which is generated), with its prompt (``$ ``, ``head$ ``) dropped and ``\\`` continuations
joined. :attr:`DocCommand.key` (the command without its trailing ``# comment`` and with single
spaces) is what the coverage table in the test names, so a reworded comment needs no change
there and a changed command does.

``tests/test_doc_python.py`` runs every ``python`` block (:func:`python_blocks`, docs/cli.md
included); :attr:`PythonBlock.key` names a block by its first line that is not an import.

``python tests/doc_commands.py`` prints every command with where it is.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHELL_LANGUAGES = frozenset({"console", "bash", "sh", "shell"})
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})
GENERATED = ("docs/cli.md",)

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<info>[^\n]*)$", re.M)
_PROMPT = re.compile(r"^(?:[\w-]*\$)[ \t]+")


@dataclass(frozen=True)
class Fence:
    """One fenced code block: its file (relative to the root), first line, language, body."""

    file: str
    line: int
    language: str
    body: str


@dataclass(frozen=True)
class DocCommand:
    """One documented command: where it is, and its text as written (comment included)."""

    file: str
    line: int
    text: str

    @property
    def key(self) -> str:
        """The command without its trailing comment, whitespace collapsed."""
        return " ".join(strip_comment(self.text).split())

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class PythonBlock:
    """One ``python`` block: where it is, and its code (dedented)."""

    file: str
    line: int
    code: str

    @property
    def key(self) -> str:
        """Its first line of code that is not an import (else its first line of code), without
        its trailing comment, spaces collapsed.

        Imports are skipped because they are shared boilerplate that changes with refactors.
        """
        lines = [" ".join(strip_comment(line).split()) for line in self.code.splitlines()]
        lines = [line for line in lines if line]
        named = [line for line in lines if not _IMPORT.match(line)]
        return (named or lines or [""])[0]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


_IMPORT = re.compile(r"^(?:import\s|from\s+\S+\s+import\s)")


def doc_files(root: Path = ROOT, *, generated: bool = False) -> list[Path]:
    """README.md and every Markdown file under docs/ (the generated ones only if asked)."""
    files = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    return [p for p in files if generated or p.relative_to(root).as_posix() not in GENERATED]


def fences(path: Path, root: Path = ROOT) -> list[Fence]:
    """The fenced code blocks of one Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    rel = path.relative_to(root).as_posix()
    out: list[Fence] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            return out
        marker = opening.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.M)
        end = closing.search(text, opening.end())
        if end is None:
            raise ValueError(f"{rel}: unclosed code fence at line "
                             f"{text.count(chr(10), 0, opening.start()) + 1}")
        body = text[opening.end() + 1:end.start()]
        language = opening.group("info").strip().split(" ")[0].lstrip("{.").rstrip("}")
        out.append(Fence(rel, text.count("\n", 0, opening.start()) + 1, language, body))
        pos = end.end()


def strip_comment(command: str) -> str:
    """``cmd --x  # why`` -> ``cmd --x`` (a ``#`` inside quotes or a word is kept)."""
    hash_at = _comment_start(command)
    return command[:hash_at].rstrip() if hash_at is not None else command.strip()


def _comment_start(command: str) -> int | None:
    """Index of the ``#`` that starts a shell comment, or None."""
    quote = None
    for i, ch in enumerate(command):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or command[i - 1] in " \t"):
            return i
    return None


def commands_in(fence: Fence) -> list[DocCommand]:
    """The commands of one shell block: prompts dropped, continuations joined."""
    out: list[DocCommand] = []
    pending: list[str] = []
    start = 0
    for offset, raw in enumerate(fence.body.splitlines()):
        line = raw.strip()
        if not pending:
            if not line or line.startswith("#"):
                continue
            start = fence.line + 1 + offset
            line = _PROMPT.sub("", line)
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        out.append(DocCommand(fence.file, start, " ".join(p for p in pending if p)))
        pending = []
    if pending:
        raise ValueError(f"{fence.file}:{start}: a command ends in a line continuation")
    return out


def documented_commands(root: Path = ROOT) -> list[DocCommand]:
    """Every command in every shell block of the docs, in reading order."""
    return [cmd for path in doc_files(root) for fence in fences(path, root)
            if fence.language in SHELL_LANGUAGES for cmd in commands_in(fence)]


def python_blocks(root: Path = ROOT) -> list[PythonBlock]:
    """Every ``python`` block in README.md and docs/**/*.md (generated files included)."""
    return [PythonBlock(fence.file, fence.line, textwrap.dedent(fence.body))
            for path in doc_files(root, generated=True) for fence in fences(path, root)
            if fence.language.lower() in PYTHON_LANGUAGES]


def untagged_fences(root: Path = ROOT) -> list[Fence]:
    """Fenced blocks with no language: a command there would escape the check."""
    return [fence for path in doc_files(root) for fence in fences(path, root)
            if not fence.language]


if __name__ == "__main__":
    for cmd in documented_commands():
        print(f"{cmd.where}\t{cmd.text}")
