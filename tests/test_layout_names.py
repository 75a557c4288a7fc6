"""Tests name run-folder files the way bamnet does: through the run layout.

:mod:`bamnet_core.runs.layout` is the one place that spells a run-folder name. A
test that writes ``run_dir / "meta.json"`` by hand would keep checking the old
file after a rename. A literal stays only where the literal itself is the point
(the name the docs print, a path a user types, a message quoted word for word),
and says so on its line with a ``# literal name:`` comment.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bamnet_core.runs import layout

ROOT = Path(__file__).resolve().parents[1]
MARK = "# literal name:"
QUOTES_THE_DOCS = {  # files whose literals are the docs' own text, checked word for word
    "tests/test_doc_commands.py": "runs the commands the docs print, as printed",
    "tests/test_doc_python.py": "runs the Python the docs print, as printed",
    "tests/test_layout_names.py": "this scan's own examples",
}

_NAMES = {v for k, v in vars(layout).items() if k.isupper() and isinstance(v, str)}
FOLDERS = {name for name in _NAMES if "." not in name and "/" not in name}
FILES = {name.rsplit("/", 1)[-1] for name in _NAMES if "." in name and "*" not in name}
DERIVED = (
    r"model\.\w+\.onnx",  # onnx_variant()
    layout.CHECKPOINT_MODEL.pattern.strip("^$"),  # checkpoint_model()
    rf"(?:{'|'.join(map(re.escape, layout.REPORT_FIGURES))})(?:-\w+)?\.png",  # plot()
)
NAME = re.compile(r"(?<![\w.-])(?:" + "|".join([*map(re.escape, sorted(FILES)), *DERIVED])
                  + r")(?![\w-])")


def _docstrings(tree: ast.Module) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, kinds)
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)}


def _names_in(text: str) -> list[str]:
    """The run-folder names spelt in one string literal."""
    text = text.replace("\\.", ".")  # a pattern: model\.onnx
    found = NAME.findall(text)
    if "/" in text:  # a path: its folders count too (generator/images, plots/...)
        found += [part for part in text.split("/") if part in FOLDERS]
    return found


def spelt_names(path: Path) -> list[tuple[int, str]]:
    """``(line, literal)`` for each unmarked string literal in ``path`` that spells a run name."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) \
                or id(node) in skip or not _names_in(node.value):
            continue
        where = lines[node.lineno - 1:node.end_lineno]
        if not any(MARK in line for line in where):
            found.append((node.lineno, node.value))
    for node in ast.walk(tree):  # run_dir / "plots": a folder name on its own
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and side.value in FOLDERS \
                        and MARK not in lines[side.lineno - 1]:
                    found.append((side.lineno, side.value))
    return sorted(set(found))


def _test_files() -> list[Path]:
    files = [*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    return sorted(f for f in files if f.relative_to(ROOT).as_posix() not in QUOTES_THE_DOCS)


def test_the_scan_finds_what_it_should():
    assert _names_in("meta.json") and _names_in("runs/x/model.int8.onnx")
    assert _names_in("plots/roc-pr-test.png") and _names_in("generator/images/a.png")
    assert _names_in(f"{layout.CHECKPOINT}/train-epoch-0002.keras")
    assert _names_in("metrics.json has schema_version 7") and _names_in(r"for .*model\.onnx")
    assert not _names_in("the generator stage") and not _names_in("images/a.png")
    assert not _names_in("old-meta.json") and not _names_in("a.json")


def test_tests_name_run_files_through_the_layout():
    spelt = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in _test_files()
             for line, text in spelt_names(path)]
    assert not spelt, (
        "use bamnet_core.runs.layout's names, or mark a literal that is the point of its "
        f"test with {MARK!r} and why:\n" + "\n".join(spelt))


def test_every_allowance_still_holds_a_run_name():
    assert all((ROOT / path).is_file() for path in QUOTES_THE_DOCS), QUOTES_THE_DOCS
    stale = [f"{path.relative_to(ROOT)}:{number}" for path in _test_files()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if MARK in line and not _names_in(line.split(MARK)[0])]
    assert not stale, f"{MARK!r} on a line that spells no run-folder name: {stale}"
