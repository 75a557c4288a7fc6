"""The architecture holds: import rules, the public plugin API, no side effects on import."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> list[str]:
    script = Path(sys.executable).with_name("lint-imports")
    return [str(script)] if script.exists() else [shutil.which("lint-imports") or "lint-imports"]


def test_import_contracts_are_kept():
    done = subprocess.run(_lint_imports(), cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_example_plugin_imports_only_the_public_api():
    package = ROOT / "examples" / "bamnet-example-plugin" / "bamnet_example"
    used = {m for f in package.rglob("*.py") for m in _imports(f) if m.startswith("bamnet_core")}
    assert used == {"bamnet_core.contract"}, used


PROBE = r"""
import importlib, json, logging, os, pkgutil, sys
import cv2
def state():
    bamnet = logging.getLogger("bamnet")
    return {
        "env": dict(os.environ),
        "fds": sorted(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else [],
        "fd2": os.readlink("/proc/self/fd/2") if os.path.exists("/proc/self/fd/2") else "",
        "root": [logging.getLogger().level, len(logging.getLogger().handlers)],
        "bamnet": [bamnet.level, len(bamnet.handlers), bamnet.propagate],
        "cv2": cv2.utils.logging.getLogLevel(),
    }
before = state()
import bamnet_core, bamnet_paper
names = [m.name for p in (bamnet_core, bamnet_paper)
         for m in pkgutil.walk_packages(p.__path__, p.__name__ + ".")
         if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
after = state()
print(json.dumps({"before": before, "after": after, "modules": len(names),
                  "tensorflow": "tensorflow" in sys.modules}))
"""


def test_importing_bamnet_changes_no_process_state():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    before, after = report["before"], report["after"]
    assert report["modules"] > 40
    assert after["env"] == before["env"]
    assert after["fd2"] == before["fd2"]
    assert len(after["fds"]) == len(before["fds"])
    assert after["root"] == before["root"]
    assert after["bamnet"] == before["bamnet"]
    assert after["cv2"] == before["cv2"]
    assert not report["tensorflow"], "importing bamnet must not import TensorFlow"
