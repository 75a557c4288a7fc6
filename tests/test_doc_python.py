"""Every ``python`` block in the docs is run here, or listed with the reason it cannot be.

:data:`COVERAGE` names each block by its file and :attr:`PythonBlock.key` (its first line of
code that is not an import) and says how it is covered:

- :class:`Run`: the block is written to a file in a fresh temp folder and run there, in a new
  process of this checkout's Python, as written except for the placeholders in ``subs``.
  ``setup`` names what the folder holds first (:data:`SETUPS`: files the block opens, a stand-in
  for the reader's plugin); ``check`` is Python run after the block, in its namespace, asserting
  what the surrounding text claims; ``pytest`` runs the block as a test module instead (its
  ``test_*`` functions must pass); ``expect`` is a regex the output must match.
- :class:`Allowed`: not run, with the reason (reviewed like code).

A block in neither fails :func:`test_every_python_block_is_covered`, and so does an entry that
names no block. The module paths the docs and docstrings name (``bamnet_core.x.y``) must exist:
:func:`test_every_module_path_named_in_docs_and_docstrings_exists`.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from doc_commands import ROOT, PythonBlock, doc_files, python_blocks


@dataclass(frozen=True)
class Run:
    """Run by :func:`test_documented_python_runs` (see the module docstring)."""

    why: str = ""
    setup: tuple[str, ...] = ()
    subs: dict[str, str] = field(default_factory=dict)
    check: str = ""
    pytest: bool = False
    expect: str = ""


@dataclass(frozen=True)
class Allowed:
    """Not run, for the reason in ``why``."""

    why: str


SCORER_CHECK = """
from pathlib import Path

assert [r.path for r in records] == ["a", "b", "c"]
assert all(r.error is None and abs(sum(r.probabilities.values()) - 1) < 1e-5 for r in records)
assert probs.shape == (1, len(scorer.classes)) and probs.dtype == np.float32
assert scorer.info.positive in scorer.classes and len(scorer.sha256) == 64
by_path = scorer.score_paths(["a.png", "b.dcm"])
assert [Path(r.path).name for r in by_path] == ["a.png", "b.dcm"], by_path
assert all(r.error is None and r.label in scorer.classes for r in by_path), by_path
"""

LOADS_MAIN = """
import __main__
from bamnet_core.testing import load_with

host = load_with(__main__, names=["{plugin}"])
assert not host.failures, host.failures
registration = host.registry.get("{kind}", "{name}")
assert registration.plugin == "{plugin}"
"""

SHAPES_CHECK = LOADS_MAIN.format(plugin="shapes", kind="dataset_source", name="shapes") + """
# "first docstring line: the listing's description", "= its config keys"
assert registration.description == "Discs versus squares."
from bamnet_core.plugins.options import factory_options

assert list(factory_options(Shapes)) == ["per_class", "root"]
"""

HOOKIMPL_CHECK = """
class MyNet:
    def build(self, input_shape, num_classes):
        ...
""" + LOADS_MAIN.format(plugin="mine", kind="backbone", name="my-net")

#: The abridged source in the guide is what `bamnet plugins new my-site --kind source` writes.
TEMPLATE_CHECK = """
import inspect
import sys

sys.path.insert(0, "bamnet-my-site")
from bamnet_my_site.component import MySiteCSVSource as Written


def shape(cls):
    params = [(p.name, p.kind, p.default)
              for p in inspect.signature(cls.__init__).parameters.values()]
    members = sorted(n for n in vars(cls) if not n.startswith("_"))
    return params, members, cls.detect_priority, inspect.getdoc(cls).splitlines()[0]


assert shape(MySiteCSVSource) == shape(Written), (shape(MySiteCSVSource), shape(Written))
"""

# The keys quote the docs word for word, run-folder names included (model.onnx): this file
# checks the docs, so its literals are the point (tests/test_layout_names.py).
COVERAGE: dict[tuple[str, str], Run | Allowed] = {
    ("docs/export-and-scoring.md",
     'scorer = Scorer("runs/<stamp>-quickstart/model.onnx", provider="auto")'): Run(
        setup=("scoring_files",), subs={"runs/<stamp>-quickstart/model.onnx": "model.onnx"},
        check=SCORER_CHECK, expect=r"a\.png(.|\n)*b\.dcm",
        why="a tiny ONNX model with bamnet's metadata (tests/onnx_fixtures.py) stands in for "
            "the quickstart's: the API is the same and it needs no training or TensorFlow"),
    ("docs/plugins/guide.md", "class Shapes:"): Run(check=SHAPES_CHECK),
    ("docs/plugins/guide.md", "class MySiteCSVSource:"): Run(
        setup=("source_template",), check=TEMPLATE_CHECK,
        why="abridged: its bodies are `...`; the check compares it with the template's"),
    ("docs/plugins/guide.md", "def test_registers():"): Run(
        setup=("mine_plugin",), pytest=True, expect=r"\b3 passed\b",
        why="`bamnet_mine` is the reader's plugin: a stand-in registers backbone 'my-net' (the "
            "built-in small CNN, also as `MyNet`) and preset 'mine' (a tiny config: 32 px "
            "phantoms, 1 epoch)"),
    ("docs/plugins/guide.md", "class Tiny:"): Run(),
    ("docs/architecture.md", "class TrainStage(Stage):"): Run(
        check="from bamnet_core.experiment.pipeline import STAGES\n"
              "import typing\n"
              "real = next(s for s in STAGES if s.name == TrainStage.name)\n"
              "hints = typing.get_type_hints(type(real).run)\n"
              "assert hints['return'] is TrainResult, hints\n"
              "assert all(hasattr(Stage, m) for m in ('configured', 'keep', 'run'))",
        why="the sketch of a stage: its name and result are the real train stage's"),
    ("docs/plugins/hooks.md", "class LeadMarkers:"): Run(
        check="from bamnet_core.experiment.evaluation import findings_of\n"
              "from bamnet_core.report.verdict import overall\n"
              "found = findings_of(LeadMarkers().evaluate_context(None))\n"
              "assert found.results == {'share_marked': 0.9}\n"
              "assert overall(list(found.evidence))[0] == 'strong shortcut evidence'\n"
              "assert LeadMarkers(share=0.95).evaluate_context(None).evidence[0].level == "
              "'none'\n"
              "from bamnet_core.testing import load_with\n"
              "import sys\n"
              "host = load_with(sys.modules[__name__], names=['lead'])\n"
              "assert 'lead-markers' in host.registry.names('evaluator'), host.failures",
        why="the example measures nothing (its share is a constant), so it needs no context"),
    ("docs/plugins/hooks.md", "@hookimpl"): Run(
        check=HOOKIMPL_CHECK, why="`MyNet` is the reader's class: the check defines one"),
}


# --- what a block's folder holds first -------------------------------------------------------

def _scoring_files(folder: Path) -> None:
    from fixtures_images import gradient, twelve_bit_ramp, write_dicom, write_png
    from onnx_fixtures import write_tiny_model

    write_tiny_model(folder / "model.onnx", size=16)
    write_png(folder / "a.png", gradient(40, 48))
    write_dicom(folder / "b.dcm", twelve_bit_ramp(40, 48))


def _source_template(folder: Path) -> None:
    from bamnet_core.plugins.template import write_plugin_template

    write_plugin_template("my-site", kind="source", dest=folder)


MINE_PLUGIN = '''\
"""A stand-in for the reader's plugin in docs/plugins/guide.md."""

from pathlib import Path

from bamnet_core.contract import hookimpl
from bamnet_paper.backbones.small_cnn import SmallCNN

MyNet = SmallCNN


@hookimpl
def register_backbones(register):
    register("my-net", SmallCNN)


@hookimpl
def register_presets(register):
    register("mine", Path(__file__).with_name("mine.toml"))
'''


def _mine_plugin(folder: Path) -> None:
    from bamnet_testing import TINY_CONFIG

    preset = TINY_CONFIG.replace('name = "small-cnn"', 'name = "my-net"')
    preset = preset.replace("epochs = 2", "epochs = 1").replace("bootstrap = 100", "bootstrap = 10")
    assert preset.count("my-net") == 1 and "epochs = 1" in preset
    (folder / "mine.toml").write_text(preset, encoding="utf-8")
    (folder / "bamnet_mine.py").write_text(MINE_PLUGIN, encoding="utf-8")


SETUPS: dict[str, Callable[[Path], None]] = {
    "scoring_files": _scoring_files,
    "source_template": _source_template,
    "mine_plugin": _mine_plugin,
}


# --- the checks --------------------------------------------------------------------------------

def blocks_by_key() -> dict[tuple[str, str], PythonBlock]:
    return {(block.file, block.key): block for block in python_blocks()}


def test_there_are_python_blocks_and_each_key_names_one():
    blocks = python_blocks()
    assert len(blocks) >= 6
    keys = [(b.file, b.key) for b in blocks]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    assert not twice, f"two blocks in one file share a key (first non-import line): {twice}"


def test_every_python_block_is_covered():
    found = blocks_by_key()
    missing = [f"{b.where}: {key!r}" for (file, key), b in found.items()
               if (file, key) not in COVERAGE]
    stale = [f"{file}: {key!r}" for file, key in COVERAGE if (file, key) not in found]
    assert not missing and not stale, (
        "python blocks neither run nor allowlisted (add them to COVERAGE in "
        "tests/test_doc_python.py):\n" + "\n".join(missing or ["(none)"])
        + "\nCOVERAGE entries that name no block:\n" + "\n".join(stale or ["(none)"]))


def test_every_allowlisting_says_why_and_every_setup_exists():
    for key, entry in COVERAGE.items():
        if isinstance(entry, Allowed):
            assert entry.why.strip(), key
        else:
            assert set(entry.setup) <= set(SETUPS), key
            assert not (entry.pytest and entry.check), f"{key}: a pytest block has no check"


def test_a_block_key_skips_imports_comments_and_blank_lines():
    code = "\nimport os\nfrom a import b  # x\n\n# a comment\nx = Thing(1)   # why\ny = 2\n"
    assert PythonBlock("f.md", 1, code).key == "x = Thing(1)"
    assert PythonBlock("f.md", 1, "import os\n").key == "import os"


def _env(folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("BAMNET_", "PYTEST_"))}
    env.update(PYTHONPATH=os.pathsep.join([str(folder), str(ROOT), str(ROOT / "plugins")]),
               BAMNET_LOAD_PLUGINS="", BAMNET_CACHE_DIR=str(folder / ".bamnet-cache"),
               BAMNET_OFFLINE="1", KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONDONTWRITEBYTECODE="1")
    return env


def source_for(block: PythonBlock, entry: Run) -> str:
    """The block as it is run: placeholders replaced, the check appended."""
    code = block.code
    for placeholder, replacement in entry.subs.items():
        assert placeholder in code, (block.where, placeholder)
        code = code.replace(placeholder, replacement)
    if entry.check:
        code += "\n\n# --- tests/test_doc_python.py: the check ---\n" + entry.check
    return code


@pytest.mark.parametrize("key", list(COVERAGE), ids=[f"{f}:{k[:40]}" for f, k in COVERAGE])
def test_documented_python_runs(key: tuple[str, str], tmp_path: Path):
    entry = COVERAGE[key]
    if isinstance(entry, Allowed):
        pytest.skip(entry.why)
    block = blocks_by_key().get(key)
    assert block is not None, f"no block {key}: see test_every_python_block_is_covered"
    for name in entry.setup:
        SETUPS[name](tmp_path)
    if entry.pytest:
        script = tmp_path / "test_doc_block.py"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                   "-p", "no:cacheprovider", script.name]
    else:
        script = tmp_path / "doc_block.py"
        command = [sys.executable, script.name]
    script.write_text(source_for(block, entry), encoding="utf-8")
    done = subprocess.run(command, cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    tail = done.stdout[-4000:]
    assert done.returncode == 0, f"{block.where} exited {done.returncode}:\n{tail}"
    if entry.expect:
        assert re.search(entry.expect, done.stdout), f"{block.where}: no {entry.expect!r}:\n{tail}"


# --- module paths named in prose and docstrings ----------------------------------------------

_DOTTED = re.compile(r"\bbamnet_core(?:\.[A-Za-z_]\w*)+")


def resolves(dotted: str) -> bool:
    """Whether ``bamnet_core.a.b.c`` is a module, or an attribute reachable from one."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if hasattr(obj, name):
                obj = getattr(obj, name)
                continue
            try:
                obj = importlib.import_module(f"{obj.__name__}.{name}")  # type: ignore[attr-defined]
            except (ImportError, AttributeError):
                return False
        return True
    return False


def named_module_paths() -> dict[str, list[str]]:
    """``bamnet_core.x.y`` as named in the docs and in the code's text -> where."""
    files = [*doc_files(generated=True), *sorted((ROOT / "bamnet_core").rglob("*.py")),
             *sorted((ROOT / "plugins").rglob("*.py"))]
    out: dict[str, list[str]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in _DOTTED.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            out.setdefault(match.group(0), []).append(f"{path.relative_to(ROOT)}:{line}")
    return out


def test_every_module_path_named_in_docs_and_docstrings_exists():
    named = named_module_paths()
    assert "bamnet_core.score.scorer.Scorer" in named
    broken = {name: where for name, where in named.items() if not resolves(name)}
    assert not broken, "names of modules or objects that do not exist:\n" + "\n".join(
        f"{name}  ({', '.join(where)})" for name, where in sorted(broken.items()))
