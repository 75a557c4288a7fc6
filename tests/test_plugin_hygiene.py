"""What plugins may and may not do: command names, typed options, old imports, hidden ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Literal

import pytest

from bamnet_core.config.load import load_config
from bamnet_core.contract import Sample, hookimpl
from bamnet_core.plugins import load_plugins


def _app(host):
    from bamnet_core.cli import build_app
    from bamnet_core.cli.state import CLIState

    return build_app(CLIState(host=host))


def _command_names(app) -> list[str]:
    from bamnet_core.plugins.commands import command_names

    return command_names(app)


class ScoreThief:
    @hookimpl
    def register_commands(self, app):
        @app.command("score")
        def score() -> None:
            """Pretend to score."""

        @app.command("extra-tool")
        def extra_tool() -> None:
            """Something else."""


def test_a_plugin_cannot_replace_a_builtin_command():
    host = load_plugins(extra=(("thief", ScoreThief()),))
    app = _app(host)
    assert "score" not in _command_names(app)  # the built-in stays, loaded when run
    assert "extra-tool" not in _command_names(app)  # a refused plugin adds nothing
    from typer.testing import CliRunner

    shown = CliRunner().invoke(app, ["score", "--help"])
    assert shown.exit_code == 0 and "Pretend to score" not in shown.output
    assert "--batch-size" in shown.output
    failure = host.failures["thief"]
    assert failure.hook == "register_commands"
    assert "command 'score' is already provided by bamnet" in failure.error


def test_two_plugins_cannot_add_the_same_command():
    class First:
        @hookimpl
        def register_commands(self, app):
            @app.command("hello")
            def hello() -> None:
                """Hello."""

    class Second(First):
        pass

    host = load_plugins(extra=(("first", First()), ("second", Second())))
    app = _app(host)
    assert _command_names(app).count("hello") == 1
    assert "first" not in host.failures
    assert "already provided by first" in host.failures["second"].error
    listing = {i.name: i.to_dict() for i in host.infos(include_builtin=False)}
    assert listing["first"]["commands"] == ["hello"]
    assert listing["second"]["status"] == "broken"


def test_plugins_says_how_many_installed_plugins_it_hides(cli, install_fake):
    install_fake("bamnet-fake-hidden", "from bamnet_core.contract import hookimpl\n",
                 "fake-hidden", load=False)
    result = cli("plugins")
    assert result.exit_code == 0
    assert "1 installed plugin not loaded: BAMNET_LOAD_PLUGINS is set to ''" in result.stderr


def test_presets_show_resolved_marks_required_values(cli, tmp_path: Path):
    result = cli("presets", "show", "paper-base", "--resolved")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# required, not set: data.path (--set data.path=VALUE)")
    assert 'scaling = "caffe"' in result.stdout
    given = cli("presets", "show", "paper-base", "--resolved", "--set",
                f"data.path={tmp_path / 'm.csv'}")
    assert given.exit_code == 0, given.stderr
    doc = tomllib.loads(given.stdout)
    assert doc["data"]["path"] == str(tmp_path / "m.csv")
    assert doc["data"]["source_from"] == "auto"  # the source's defaults, resolved


class TypedSource:
    """A source whose options use every annotation shape a plugin may use."""

    def __init__(self, *, root: Path | None = None, size: tuple[int, int] = (5, 5),
                 mode: Literal["fast", "exact"] = "fast", weights: list[float] = [0.5],  # noqa: B006
                 extra: dict[str, int] | None = None) -> None:
        self.root, self.size, self.mode, self.weights = root, size, mode, weights
        self.extra = extra

    def samples(self) -> list[Sample]:
        return [Sample(path=f"{i}.png", label="normal" if i % 2 else "covid", patient_id=str(i),
                       source="typed") for i in range(4)]


class TypedPlugin:
    @hookimpl
    def register_dataset_sources(self, register):
        register("typed", TypedSource)


def _typed_config(folder: Path, data: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "typed.toml"
    path.write_text(f"""
[data]
source = "typed"
classes = ["normal", "covid"]
positive = "covid"
{data}
[backbone]
name = "small-cnn"
""", encoding="utf-8")
    return path


def test_typed_options_validate_and_round_trip_through_config_toml(tmp_path: Path):
    registry = load_plugins(extra=(("typed", TypedPlugin()),)).registry
    path = _typed_config(tmp_path / "cfg", 'root = "images"\nsize = [7, 9]\nmode = "exact"\n'
                                           "extra = { a = 1 }\n")
    config = load_config(str(path), registry)
    source = config.components.source
    assert source.size == (7, 9) and source.mode == "exact" and source.extra == {"a": 1}
    assert source.root == tmp_path / "cfg" / "images"  # relative to the config file
    again = tmp_path / "elsewhere" / "config.toml"  # literal name: a user's config, not a run's
    again.parent.mkdir()
    again.write_text(config.to_toml(), encoding="utf-8")
    reloaded = load_config(str(again), registry)
    assert reloaded.document == config.document
    assert reloaded.components.source.root == source.root


def test_set_paths_resolve_against_the_current_folder(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    registry = load_plugins(extra=(("typed", TypedPlugin()),)).registry
    path = _typed_config(tmp_path / "cfg", "")
    monkeypatch.chdir(tmp_path)
    config = load_config(str(path), registry, overrides=["data.root=here"])
    assert config.components.source.root == tmp_path / "here"


@pytest.mark.parametrize("value, message", [
    ("size = [5, 5, 5]", "[data] size: expected at most 2 items, not 3"),
    ('mode = "slow"', "expected 'fast' or 'exact'"),
    ("weights = [0.5, nan]", "finite number"),
    ("root = 3", "[data] root: expected a string, got 3"),
])
def test_typed_options_refuse_bad_values(tmp_path: Path, value: str, message: str):
    from bamnet_core.errors import ConfigError

    registry = load_plugins(extra=(("typed", TypedPlugin()),)).registry
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(str(_typed_config(tmp_path, value)), registry)


class Opaque:
    """A type TOML cannot carry."""


def test_an_option_type_toml_cannot_carry_is_refused_at_registration():
    class Factory:
        def __init__(self, *, thing: Opaque | None = None) -> None:
            self.thing = thing

        def samples(self):
            return []

    class P:
        @hookimpl
        def register_dataset_sources(self, register):
            register("opaque", Factory)

    host = load_plugins(extra=(("opaque-plugin", P()),))
    error = host.failures["opaque-plugin"].error
    assert "dataset source 'opaque'" in error and "option 'thing'" in error
    assert "cannot be written in TOML" in error


def test_an_annotation_that_does_not_resolve_is_refused_at_registration(install_fake):
    install_fake("bamnet-fake-typing", """
from __future__ import annotations
from typing import TYPE_CHECKING
from bamnet_core.contract import hookimpl
if TYPE_CHECKING:
    from decimal import Decimal

class Src:
    def __init__(self, *, alpha: Decimal = 0.35):
        self.alpha = alpha
    def samples(self):
        return []

@hookimpl
def register_dataset_sources(register):
    register("typing-src", Src)
""", "fake-typing")
    error = load_plugins().failures["fake-typing"].error
    assert "typing-src" in error and "option 'alpha'" in error
    assert "does not resolve" in error and "Decimal" in error


def test_run_files_get_the_users_umask(tmp_path: Path):
    probe = (
        "import os, sys\n"
        "os.umask(0o022)\n"
        "from bamnet_core._util.atomic import write_text\n"
        "write_text(sys.argv[1], 'x')\n"
        "print(oct(os.stat(sys.argv[1]).st_mode & 0o777))\n")
    target = tmp_path / "out.txt"
    done = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "0o644"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".out")]


def test_plugins_json_lists_commands(cli):
    result = cli("plugins", "--all", "--json")
    assert all("commands" in entry for entry in json.loads(result.stdout))


class PickyBackbone:
    """Refuses some combinations of its options."""

    def __init__(self, *, width: int = 4, depth: int = 2) -> None:
        if width * depth > 10:
            raise ValueError("width * depth must be at most 10")

    def build(self, input_shape, num_classes):
        raise NotImplementedError


class PickyPlugin:
    @hookimpl
    def register_backbones(self, register):
        register("picky", PickyBackbone)


def test_a_factory_refusing_its_options_is_a_config_error(tmp_path: Path):
    from bamnet_core.errors import ConfigError

    registry = load_plugins(extra=(("picky-plugin", PickyPlugin()),)).registry
    path = _typed_config(tmp_path, "").read_text().replace('name = "small-cnn"',
                                                           'name = "picky"\nwidth = 6')
    (tmp_path / "p.toml").write_text(path.replace('source = "typed"',
                                                  'source = "synthetic-cxr"'))
    with pytest.raises(ConfigError, match=r"\[backbone\]: backbone 'picky' refused its "
                                          r"options: width \* depth must be at most 10"):
        load_config(str(tmp_path / "p.toml"), registry)


def test_an_exception_in_plugin_code_names_the_plugin(cli, tmp_path: Path, install_fake):
    install_fake("bamnet-fake-buggy", """
from bamnet_core.contract import hookimpl

class Buggy:
    def __init__(self):
        raise KeyError("oops")

@hookimpl
def register_evaluators(register):
    register("buggy", Buggy)
""", "fake-buggy")
    result = cli("run", "quickstart", "--set", 'evaluate.evaluators=["buggy"]',
                 "--output-dir", str(tmp_path / "runs"))
    assert result.exit_code == 1
    assert "Error: evaluator 'buggy' from plugin 'bamnet-fake-buggy' failed: KeyError: 'oops'" \
        in result.stderr
    assert "fault in bamnet-fake-buggy" in result.stderr and "unexpected" not in result.stderr
    assert not (tmp_path / "runs").exists()
