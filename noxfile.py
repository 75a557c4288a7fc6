"""Development sessions. `nox -l` lists them; `nox` runs the default (tests)."""

from __future__ import annotations

import json

import nox

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
def lint(session: nox.Session) -> None:
    """Lint with ruff and check the import contracts (the layers) with import-linter."""
    session.install("-e", ".", "ruff", "import-linter")
    session.run("ruff", "check", "bamnet_core", "plugins", "tests", "benchmarks", "examples",
                "noxfile.py")
    session.run("lint-imports")


@nox.session(python=PYTHON, default=False)
def docs(session: nox.Session) -> None:
    """Regenerate docs/cli.md from the command definitions."""
    session.install("-e", ".")
    with open("docs/cli.md", "w", encoding="utf-8") as fh:
        session.run("python", "-m", "bamnet_core.cli.reference", stdout=fh)


@nox.session(python=PYTHON, default=False)
def plugin_smoke(session: nox.Session) -> None:
    """Install the example plugin next to bamnet in a fresh venv and use it for real."""
    session.install(".", "./examples/bamnet-example-plugin")
    env = {"BAMNET_CACHE_DIR": str(session.create_tmp() + "/cache")}
    listing = json.loads(session.run("bamnet", "plugins", "--json", silent=True, env=env))
    names = {p["name"]: p for p in listing}
    assert "example" in names, listing
    assert names["example"]["status"] == "ok", names["example"]
    assert names["example"]["components"] == {"dataset_source": ["example-shapes"]}
    out = session.run("bamnet", "example-shapes", session.create_tmp() + "/shapes",
                      silent=True, env=env)
    assert "wrote 10 images" in out, out
    run = json.loads(session.run(
        "bamnet", "run", "examples/bamnet-example-plugin/shapes.toml", "--json",
        "--output-dir", session.create_tmp() + "/runs", silent=True, env=env))
    assert run["metrics"]["splits"]["val"]["images"] > 0, run
    hidden = json.loads(session.run("bamnet", "plugins", "--json", silent=True,
                                    env={**env, "BAMNET_LOAD_PLUGINS": ""}))
    assert hidden == [], hidden
    session.log("example plugin: listed, command ran, source trained, hidden when filtered")


@nox.session(python=PYTHON, default=False)
def quickstart(session: nox.Session) -> None:
    """Install bamnet and run the quickstart preset."""
    session.install(".")
    session.run("bamnet", "run", "quickstart", "--output-dir", session.create_tmp() + "/runs")


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Run every benchmark script under benchmarks/ (prints measured numbers)."""
    import glob

    session.install("-e", ".")
    for script in sorted(glob.glob("benchmarks/*.py")):
        session.run("python", script, *session.posargs)
