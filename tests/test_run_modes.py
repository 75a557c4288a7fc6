"""``bamnet run``, ``resume``, ``ablate`` and ``loso``: one command per mode, each with only its
own options; today's spellings (``bamnet run --resume|--ablate|--loso``) still work, with one
notice naming the new one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bamnet_core.contract import hookimpl
from bamnet_core.experiment.results import RunResult
from bamnet_core.report.verdict import READINGS, Verdict
from bamnet_core.runs import layout
from bamnet_core.runs.files import ComparisonFile, LosoFile, MetricsFile

SHARED = {"--set", "--unset", "--seed", "--data", "--output-dir", "--json"}
OPTIONS = {
    "run": SHARED | {"--until"},
    "resume": {"--from", "--json"},
    "ablate": SHARED | {"--stage"},
    "loso": SHARED,
}


def _text(stream: str) -> str:
    """``stream`` without rich's box drawing and line breaks (an error box wraps long lines)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", stream).split())


def _notices(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Notice:")]


@pytest.mark.parametrize("mode", OPTIONS)
def test_help_of_each_mode_shows_only_its_own_options(cli, mode: str,
                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = cli(mode, "--help")
    assert result.exit_code == 0, result.stderr
    shown = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", result.stdout)) - {"--help"}
    assert shown == OPTIONS[mode]


def test_bamnet_help_lists_the_modes_together(cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = cli("--help")
    names = re.findall(r"^│ (\w[\w-]*) ", result.stdout, flags=re.M)
    start = names.index("run")
    assert names[start:start + 4] == ["run", "resume", "ablate", "loso"]


class ModeThief:
    @hookimpl
    def register_commands(self, app):
        @app.command("resume")
        def resume() -> None:
            """Pretend to resume."""


def test_a_plugin_cannot_take_a_mode_name():
    from bamnet_core.cli import build_app
    from bamnet_core.cli.state import CLIState
    from bamnet_core.plugins import load_plugins
    from bamnet_core.plugins.commands import command_names

    host = load_plugins(extra=(("thief", ModeThief()),))
    names = command_names(build_app(CLIState(host=host)))  # what plugins added
    assert not set(names) & set(OPTIONS)
    assert "command 'resume' is already provided by bamnet" in host.failures["thief"].error


BAD = [  # (arguments, what the usage error says); CFG, RUN, DATA are filled in
    (["run", "CFG", "--resume", "RUN"], "unexpected extra argument"),
    (["run", "--resume", "RUN", "--data", "DATA"], "No such option: --data"),
    (["run", "--resume", "RUN", "--set", "train.epochs=1"], "No such option: --set"),
    (["run", "--resume", "RUN", "--until", "audit"], "No such option: --until"),
    (["run", "CFG", "--ablate", "generator", "--until", "audit"], "No such option: --until"),
    (["run", "CFG", "--ablate", "backbone"], "Invalid value for --stage: use generator"),
    (["run", "CFG", "--loso", "--until", "audit"], "No such option: --until"),
    (["run", "CFG", "--loso", "--ablate", "generator"], "use one of them"),
    (["run", "--resume", "RUN", "--loso"], "use one of them"),
    (["run", "CFG", "--loso=yes"], "'--loso' does not take a value"),
    (["run", "CFG", "--from", "report"], "bamnet resume RUN_DIR --from STAGE"),
    (["run", "--resume"], "'--resume' requires an argument"),
    (["run"], "Missing argument"),
    (["resume", "RUN", "--until", "audit"], "No such option: --until"),
    (["resume", "RUN", "CFG"], "unexpected extra argument"),
    (["ablate", "CFG", "--from", "report"], "No such option: --from"),
    (["ablate", "CFG", "--stage", "backbone"], "Invalid value for --stage: use generator"),
    (["loso", "CFG", "--stage", "generator"], "No such option: --stage"),
]


@pytest.mark.parametrize(("args", "says"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_options_a_mode_does_not_take_are_usage_errors(cli, tiny_config: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       args: list[str], says: str):
    monkeypatch.chdir(tmp_path)
    fill = {"CFG": str(tiny_config), "RUN": str(tmp_path), "DATA": str(tmp_path)}
    result = cli(*[fill.get(a, a) for a in args])
    assert result.exit_code == 2, result.stderr
    assert says in _text(result.stderr), result.stderr
    assert len(_notices(result.stderr)) <= 1
    assert not (tmp_path / "runs").exists()


def test_old_flags_are_never_taken_from_an_options_value():
    from bamnet_core.cli.legacy_run import route

    takes_value = {"--set", "-o"}
    assert route(["c.toml", "--set", "--loso", "-o", "--resume"], takes_value) is None
    assert route(["c.toml", "--", "--loso"], takes_value) is None
    assert route(["-o", "out", "--resume=r", "--from", "report"], takes_value) == \
        ("resume", ["r", "-o", "out", "--from", "report"])
    assert route(["c.toml", "--ablate", "generator"], takes_value) == \
        ("ablate", ["--stage", "generator", "c.toml"])


def _fake_library(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """Replace the library calls of the modes by fakes recording their arguments; no Keras."""
    from bamnet_core.cli import ablate_command, loso_command, run_command
    from bamnet_core.experiment import ablation, loso, runner

    calls: list[dict[str, Any]] = []

    def record(**facts: Any) -> None:
        calls.append({k: str(v) for k, v in facts.items()})

    def run_ablation(cfg, host, *, ablate, output_dir, progress, planned):
        record(seed=cfg.run.seed, ablate=ablate, output_dir=output_dir)
        return SimpleNamespace(folder=tmp_path, runs={},
                               comparison=ComparisonFile(ablated="generator",
                                                         same_held_out_split=True, runs={}))

    def run_loso(cfg, host, *, output_dir, progress, planned):
        record(epochs=cfg.train.epochs, output_dir=output_dir)
        return SimpleNamespace(folder=tmp_path, runs={},
                               summary=LosoFile(held_out=[], min_images=0),
                               verdict=Verdict(*READINGS["unchecked"]))

    def check_resumable_folder(run_dir, host, *, start):
        return SimpleNamespace(run_dir=run_dir, start=start)

    def resume_experiment(checked, host, *, progress):
        record(run_dir=checked.run_dir, start=checked.start)
        return RunResult(run_dir=Path(checked.run_dir), metrics=MetricsFile(), warnings=[],
                         files={})

    for module in (ablate_command, loso_command, run_command):
        monkeypatch.setattr(module, "preload_keras", lambda: None)
    monkeypatch.setattr(ablation, "plan_ablation", lambda cfg, host, *, ablate: None)
    monkeypatch.setattr(ablation, "run_ablation", run_ablation)
    monkeypatch.setattr(loso, "plan_loso", lambda cfg, host: None)
    monkeypatch.setattr(loso, "run_loso", run_loso)
    monkeypatch.setattr(runner, "check_resumable_folder", check_resumable_folder)
    monkeypatch.setattr(runner, "resume_experiment", resume_experiment)
    return calls


SPELLINGS = [  # (today's spelling, the new one, what the notice names)
    (["run", "CFG", "--ablate", "generator", "-o", "OUT", "--seed", "5", "--json"],
     ["ablate", "CFG", "-o", "OUT", "--seed", "5", "--json"], "'bamnet ablate CONFIG'"),
    (["run", "CFG", "--set", "train.epochs=1", "--loso", "--output-dir", "OUT", "--json"],
     ["loso", "CFG", "--set", "train.epochs=1", "--output-dir", "OUT", "--json"],
     "'bamnet loso CONFIG'"),
    (["run", "--resume", "RUN", "--from", "report", "--json"],
     ["resume", "RUN", "--from", "report", "--json"], "'bamnet resume RUN_DIR'"),
]


@pytest.mark.parametrize(("old", "new", "names"), SPELLINGS, ids=["ablate", "loso", "resume"])
def test_todays_spelling_does_what_the_new_command_does_with_one_notice(
        cli, tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        old: list[str], new: list[str], names: str):
    calls = _fake_library(monkeypatch, tmp_path)
    fill = {"CFG": str(tiny_config), "OUT": str(tmp_path / "out"), "RUN": str(tmp_path)}
    before = cli(*[fill.get(a, a) for a in old])
    after = cli(*[fill.get(a, a) for a in new])
    assert before.exit_code == after.exit_code == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert len(calls) == 2 and calls[0] == calls[1]
    (notice,) = _notices(before.stderr)
    assert f"is now {names}" in notice
    assert not _notices(after.stderr)


def test_until_stops_a_run_and_resume_finishes_it(cli, tiny_config: Path, tmp_path: Path):
    out = tmp_path / "runs"
    stopped = cli("run", str(tiny_config), "--until", "audit", "-o", str(out))
    assert stopped.exit_code == 0, stopped.stderr
    run_dir = next(out.iterdir())
    assert f"Continue with: bamnet resume {run_dir}" in stopped.stdout
    finished = cli("resume", str(run_dir))
    assert finished.exit_code == 0, finished.stderr
    assert f"Run folder: {run_dir}" in finished.stdout and not _notices(finished.stderr)
    assert "kept audit (" in finished.stderr and "done train (" in finished.stderr
    assert json.loads((run_dir / layout.META).read_text())["status"] == "complete"
    again = cli("resume", str(run_dir))
    assert again.exit_code == 1
    assert f"bamnet resume {run_dir} --from evaluate|export|report" in _text(again.stderr)
    redone = cli("run", "--resume", str(run_dir), "--from", "report")
    assert redone.exit_code == 0, redone.stderr
    assert "done report (" in redone.stderr and len(_notices(redone.stderr)) == 1


def test_ablate_and_loso_reach_the_library_and_name_themselves(cli, tiny_config: Path,
                                                              tmp_path: Path):
    loso = cli("loso", str(tiny_config), "-o", str(tmp_path / "runs"))
    assert loso.exit_code == 1 and "bamnet loso needs data from two or more sources" in \
        loso.stderr
    ablate = cli("ablate", str(tiny_config), "-o", str(tmp_path / "runs"))
    assert ablate.exit_code == 1 and "bamnet ablate needs [generator] enabled" in ablate.stderr
    assert not (tmp_path / "runs").exists()
