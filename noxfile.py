"""Development sessions. `nox -l` lists them; `nox` runs the default (tests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite in random order (fast tests; slow and gpu markers skipped)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON, default=False)
def slow(session: nox.Session) -> None:
    """Run the slow, full-size tests (pytest -m slow)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session(python=PYTHON, default=False)
def torch(session: nox.Session) -> None:
    """Run the PyTorch backend's tests (pytest -m torch) with bamnet[torch] installed.

    PyTorch from the package index is several GB with its CUDA libraries, so it is kept out
    of the default test install (``PIP_FIND_LINKS`` pointing at a CPU wheel saves the download).
    """
    session.install("-e", ".[test,torch]")
    session.run("pytest", "-m", "torch", "-p", "no:randomly", *session.posargs)


@nox.session(python=PYTHON, default=False)
def lint(session: nox.Session) -> None:
    """Lint with ruff and check the import contracts (the layers) with import-linter."""
    session.install("-e", ".", "ruff", "import-linter")
    session.run("ruff", "check", "bamnet_core", "plugins", "tests", "benchmarks", "examples",
                "noxfile.py")
    session.run("lint-imports")


@nox.session(python=PYTHON, default=False)
def docs(session: nox.Session) -> None:
    """Regenerate docs/cli.md, build the site (warnings are errors), and run every documented
    command (tests/test_doc_commands.py, the slow full-length ones included) and every Python
    block (tests/test_doc_python.py)."""
    session.install("-e", ".[test]", "mkdocs-material>=9.5")
    with open("docs/cli.md", "w", encoding="utf-8") as fh:
        session.run("python", "-m", "bamnet_core.cli.reference", stdout=fh)
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})
    session.run("pytest", "-m", "not gpu", "-p", "no:randomly", "tests/test_doc_commands.py",
                "tests/test_doc_python.py", *session.posargs)


_STDOUT_ONLY = ("import subprocess, sys; "
                "done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True); "
                "sys.stdout.write(done.stdout); sys.exit(done.returncode)")


def bamnet_json(session: nox.Session, *args: str, env: dict[str, str]) -> object:
    """Run ``bamnet ARGS`` and parse its stdout alone (nox would mix stderr's warnings in)."""
    return json.loads(session.run("python", "-c", _STDOUT_ONLY, "bamnet", *args, silent=True,
                                  env=env))


@nox.session(python=PYTHON, default=False)
def plugin_smoke(session: nox.Session) -> None:
    """Build the example plugin and a `bamnet plugins new` template as wheels; use them for real."""
    tmp = Path(session.create_tmp())
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    session.install(".")
    session.run("bamnet", "plugins", "new", "demo", "--kind", "evaluator", "--dest", str(tmp))
    wheels = tmp / "wheels"
    session.run("python", "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                "./examples/bamnet-example-plugin", str(tmp / "bamnet-demo"))
    session.install(*sorted(str(w) for w in wheels.glob("*.whl")), "pytest")
    env = {"BAMNET_CACHE_DIR": str(tmp / "cache")}
    listing = bamnet_json(session, "plugins", "--json", env=env)
    names = {p["name"]: p for p in listing}
    assert names["example"]["status"] == "ok", names["example"]
    assert names["example"]["components"] == {"dataset_source": ["example-shapes"]}
    assert names["demo"]["components"] == {"evaluator": ["demo-brier"], "preset": ["demo"]}
    out = session.run("bamnet", "example-shapes", str(tmp / "shapes"), silent=True, env=env)
    assert "wrote 10 images" in out, out
    run = bamnet_json(session, "run", "examples/bamnet-example-plugin/shapes.toml", "--json",
                      "--output-dir", str(tmp / "runs"), env=env)
    assert run["metrics"]["splits"]["val"]["images"] > 0, run
    run = bamnet_json(session, "run", "demo", "--json", "--output-dir", str(tmp / "runs"),
                      env=env)
    assert run["metrics"]["splits"]["val"]["demo-brier"]["brier"] is not None, run
    # the template's own tests, against the installed wheel (none skipped)
    report = session.run("pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                         str(tmp / "bamnet-demo" / "tests"), silent=True, env=env)
    assert "4 passed" in report and "skipped" not in report, report
    hidden = bamnet_json(session, "plugins", "--json",
                         env={**env, "BAMNET_LOAD_PLUGINS": "none-of-these"})
    assert hidden == [], hidden
    session.log("example and template plugins: built as wheels, listed, ran, hidden when filtered")


@nox.session(python=PYTHON, default=False)
def quickstart(session: nox.Session) -> None:
    """Install bamnet and run the quickstart preset."""
    session.install(".")
    session.run("bamnet", "run", "quickstart", "--output-dir", session.create_tmp() + "/runs")


#: Modules under benchmarks/ that are helpers, not benchmarks.
BENCH_HELPERS = {"bench_data.py", "fake_run.py"}
#: Benchmarks that need a model file: given by BAMNET_BENCH_MODEL, else skipped.
BENCH_NEEDS_MODEL = {"bench_score_ray.py"}


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Run every benchmark under benchmarks/ on BAMNET_DATA and print one table of results."""
    # BAMNET_BENCH_ONLY=export_memory,eval_stages runs those only (the whole set takes hours
    # on 2 cores)
    import glob
    import os
    import time

    if session.venv_backend != "none":  # --no-venv: the environment you are in, as it is
        session.install("-e", ".[test]")
    env = {"PYTHONPATH": f"{Path.cwd()}:{Path.cwd() / 'plugins'}"}
    model = os.environ.get("BAMNET_BENCH_MODEL")
    only = {n.strip().removesuffix(".py")
            for n in os.environ.get("BAMNET_BENCH_ONLY", "").split(",") if n.strip()}
    rows: list[tuple[str, str, float, list[str]]] = []
    for script in sorted(glob.glob("benchmarks/*.py")):
        name = Path(script).name
        if name in BENCH_HELPERS or (only and Path(script).stem not in only):
            continue
        args = [model] if name in BENCH_NEEDS_MODEL and model else []
        if name in BENCH_NEEDS_MODEL and not model:
            rows.append((name, "skipped", 0.0, ["needs a model: set BAMNET_BENCH_MODEL"]))
            continue
        start = time.perf_counter()
        try:
            out = session.run("python", "-c", _STDOUT_ONLY, "python", script, *args,
                              *session.posargs, silent=True, env=env) or ""
            status = "ok"
        except CommandFailed:
            out, status = "", "FAILED"
        lines = [line for line in str(out).splitlines() if line.strip()]
        rows.append((name, status, time.perf_counter() - start, lines))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'benchmark':<{width}}  status    wall s  measured")
    for name, status, seconds, lines in rows:
        first, *rest = lines or ["(no output)"]
        print(f"{name:<{width}}  {status:<8}{seconds:>8.1f}  {first}")
        for line in rest:
            print(f"{'':<{width}}  {'':<8}{'':>8}  {line}")
