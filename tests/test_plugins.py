"""The plugin manager: every hook, duplicates, broken plugins, entry points, filtering."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest
from fake_dist import write_fake_distribution

from bamnet_core.contract import KINDS, hookimpl, hookspecs
from bamnet_core.errors import ConfigError, PluginError
from bamnet_core.plugins import DEFAULT_PLUGINS, BrokenPlugin, load_plugins


class _Source:
    """A throwaway source."""

    def __init__(self, *, count: int = 1) -> None:
        self.count = count

    def samples(self):
        return []


class _Factory:
    """A throwaway component factory."""


def test_register_dataset_sources():
    class P:
        @hookimpl
        def register_dataset_sources(self, register):
            register("throwaway-source", _Source)

    host = load_plugins(extra=(("p", P()),))
    reg = host.registry.get("dataset_source", "throwaway-source")
    assert reg.plugin == "p" and reg.target is _Source
    assert host.registry.by_plugin("p") == {"dataset_source": ["throwaway-source"]}


def test_register_generators():
    class P:
        @hookimpl
        def register_generators(self, register):
            register("noise-gen", _Factory, description="makes noise")

    host = load_plugins(extra=(("p", P()),))
    reg = host.registry.get("generator", "noise-gen")
    assert reg.description == "makes noise"


def test_register_backbones():
    class P:
        @hookimpl
        def register_backbones(self, register):
            register("tiny-net", _Factory)

    host = load_plugins(extra=(("p", P()),))
    assert "tiny-net" in host.registry.names("backbone")
    assert "small-cnn" in host.registry.names("backbone")  # built-ins still there


def test_register_evaluators():
    class P:
        @hookimpl
        def register_evaluators(self, register):
            register("count-only", _Factory)

    host = load_plugins(extra=(("p", P()),))
    assert host.registry.get("evaluator", "count-only").plugin == "p"


class _InContext:
    def evaluate_context(self, context):
        return {}


class _Assessor:
    def assess(self, real, synthetic, **kwargs):
        return {}


def test_an_evaluator_is_one_of_the_variants_the_contract_declares():
    from bamnet_core.config.components import instantiate
    from bamnet_core.contract import (
        AssessesSynthetic,
        ContextEvaluator,
        EvaluatesInContext,
        SyntheticAssessor,
        evaluator_variant,
    )

    class P:
        @hookimpl
        def register_evaluators(self, register):
            register("in-context", _InContext)
            register("assessor", _Assessor)
            register("nothing", _Factory)

    registry = load_plugins(extra=(("p", P()),)).registry
    built = {name: instantiate(registry.get("evaluator", name), {}, where="test")
             for name in ("in-context", "assessor", "classification")}
    assert {n: evaluator_variant(e) for n, e in built.items()} == {
        "in-context": "context", "assessor": None, "classification": "context"}
    assert isinstance(built["assessor"], SyntheticAssessor)
    assert (EvaluatesInContext, AssessesSynthetic) == (ContextEvaluator, SyntheticAssessor)
    with pytest.raises(PluginError, match="does not satisfy PlainEvaluator or ContextEvaluator "
                                          "or SyntheticAssessor"):
        instantiate(registry.get("evaluator", "nothing"), {}, where="test")


def test_register_presets(tmp_path: Path):
    preset = tmp_path / "mine.toml"
    preset.write_text("[run]\nname = 'mine'\n")

    class P:
        @hookimpl
        def register_presets(self, register):
            register("mine", preset, description="my preset")

    host = load_plugins(extra=(("p", P()),))
    assert host.registry.get("preset", "mine").target == preset


def test_register_commands():
    import typer

    from bamnet_core.cli import build_app
    from bamnet_core.cli.state import CLIState

    seen = []

    class P:
        @hookimpl
        def register_commands(self, app):
            @app.command("hello-test")
            def hello() -> None:
                """Say hello."""
                seen.append("called")
                typer.echo("hello from plugin")

    host = load_plugins(extra=(("p", P()),))
    app = build_app(CLIState(host=host))
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["hello-test"])
    assert result.exit_code == 0, result.output
    assert "hello from plugin" in result.output and seen == ["called"]


def test_builtins_load_through_the_same_hooks():
    host = load_plugins()
    names = [i.name for i in host.infos()]
    assert names == list(DEFAULT_PLUGINS)
    assert not host.failures
    assert host.registry.get("preset", "quickstart").plugin == "bamnet_paper.presets"


def test_duplicate_component_names_are_refused_naming_both_plugins():
    class P:
        @hookimpl
        def register_backbones(self, register):
            register("small-cnn", _Factory)

    host = load_plugins(extra=(("copycat", P()),))
    failure = host.failures["copycat"]
    assert "bamnet_paper.backbones" in failure.error and "copycat" in failure.error
    assert host.registry.get("backbone", "small-cnn").plugin == "bamnet_paper.backbones"
    with pytest.raises(PluginError, match="copycat"):
        host.raise_for_failures()


def test_plugin_raising_in_hook_is_isolated_and_its_components_withdrawn():
    class P:
        @hookimpl
        def register_backbones(self, register):
            register("half-done", _Factory)

        @hookimpl
        def register_evaluators(self, register):
            raise RuntimeError("boom")

    class Q:
        @hookimpl
        def register_backbones(self, register):
            raise ConfigError("set MY_NET_HOME first")

    host = load_plugins(extra=(("flaky", P()), ("picky", Q())))
    failure = host.failures["flaky"]
    assert isinstance(failure, BrokenPlugin) and failure.hook == "register_evaluators"
    assert failure.message() == ("plugin 'flaky' (distribution flaky) raised in hook "
                                 "register_evaluators: RuntimeError: boom")
    assert "half-done" not in host.registry.names("backbone")
    assert "classification" in host.registry.names("evaluator")
    assert host.failures["picky"].error == "ConfigError: set MY_NET_HOME first"


def test_misspelled_hook_fails_loudly_check_pending():
    class P:
        @hookimpl
        def register_backbone(self, register):  # missing "s"
            pass

    host = load_plugins(extra=(("typo", P()),))
    assert host.failures["typo"].hook == "contract"
    assert "register_backbone" in host.failures["typo"].error


def test_invalid_component_name_is_a_plugin_failure():
    class P:
        @hookimpl
        def register_backbones(self, register):
            register("Bad Name!", _Factory)

    host = load_plugins(extra=(("p", P()),))
    assert "invalid name" in host.failures["p"].error


def test_hook_specs_have_docstrings():
    for name in dir(hookspecs):
        if name.startswith("register_"):
            assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_hook_specs_match_the_table_of_kinds():
    specs = {n: f for n, f in vars(hookspecs).items() if hasattr(f, "bamnet_spec")}
    assert set(specs) == {k.hook for k in KINDS} | {"register_commands"}
    assert hookspecs.REGISTRY_HOOKS == {k.hook: k.name for k in KINDS}
    for kind in KINDS:
        spec = specs[kind.hook]
        assert list(inspect.signature(spec).parameters) == ["register"], kind.hook
        doc = inspect.getdoc(spec)
        assert doc.startswith(f"Register {kind.label}s"), kind.hook
        if kind.section_options and kind.section:
            assert f"``[{kind.section}]``" in doc, kind.hook
        for protocol in kind.protocols():
            assert protocol.__name__ in doc, (kind.hook, protocol.__name__)


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for mod in [m for m in sys.modules if m.startswith("bamnet_fake")]:
        del sys.modules[mod]


GOOD_PLUGIN = """
from bamnet_core.contract import hookimpl

class Dummy:
    '''Dummy source.'''
    def samples(self):
        return []

@hookimpl
def register_dataset_sources(register):
    register("fake-source", Dummy)
"""


def test_entry_point_plugins_load_and_filter(fake_site: Path, monkeypatch: pytest.MonkeyPatch):
    write_fake_distribution(fake_site, "bamnet-fake-good", GOOD_PLUGIN, "fake-good")
    monkeypatch.delenv("BAMNET_LOAD_PLUGINS")
    host = load_plugins()
    info = next(i for i in host.infos() if i.name == "fake-good")
    assert info.distribution == "bamnet-fake-good" and info.version == "0.3.0"
    assert info.components == {"dataset_source": ["fake-source"]}
    assert "bamnet-fake-good==0.3.0" in host.pins()
    # the variable picks entry points by name; empty means none
    assert "fake-source" in load_plugins({"BAMNET_LOAD_PLUGINS": "fake-good"}).registry.names(
        "dataset_source")
    assert "fake-source" not in load_plugins({"BAMNET_LOAD_PLUGINS": ""}).registry.names(
        "dataset_source")


def test_entry_point_that_fails_to_import_is_reported(fake_site: Path,
                                                      monkeypatch: pytest.MonkeyPatch):
    write_fake_distribution(fake_site, "bamnet-fake-broken", "import not_a_module_xyz\n",
                            "fake-broken")
    monkeypatch.setenv("BAMNET_LOAD_PLUGINS", "fake-broken")
    host = load_plugins()
    failure = host.failures["fake-broken"]
    assert failure.hook == "import"
    assert failure.distribution == "bamnet-fake-broken"
    assert "ModuleNotFoundError" in failure.error
    assert not host.failures.keys() - {"fake-broken"}


def test_hook_calls_are_logged(caplog: pytest.LogCaptureFixture):
    with caplog.at_level("DEBUG", logger="bamnet.plugins"):
        load_plugins({"BAMNET_LOAD_PLUGINS": ""})
    assert "bamnet_paper.sources.register_dataset_sources()" in caplog.text


def test_trace_env_shows_hook_calls_on_stderr(tmp_path: Path):
    import os
    import subprocess

    env = {**os.environ, "BAMNET_TRACE_PLUGINS": "1", "BAMNET_LOAD_PLUGINS": ""}
    done = subprocess.run([sys.executable, "-m", "bamnet_core", "presets", "list"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "bamnet: bamnet_paper.sources.register_dataset_sources()" in done.stderr


class _Lungs:
    """A throwaway lung-field estimator: the middle third of the image."""

    def estimate(self, image):
        import numpy as np

        field = np.zeros(image.shape, dtype=bool)
        h, w = image.shape
        field[h // 3:2 * h // 3, w // 3:2 * w // 3] = True
        return field


def test_register_lung_field_estimators():
    class P:
        @hookimpl
        def register_lung_field_estimators(self, register):
            register("middle-third", _Lungs)

    host = load_plugins(extra=(("p", P()),))
    assert host.registry.get("lung_field_estimator", "middle-third").plugin == "p"
    assert host.registry.defaults("lung_field_estimator") == ["anatomical"]  # the built-in


def test_a_second_default_lung_field_estimator_is_refused():
    class P:
        @hookimpl
        def register_lung_field_estimators(self, register):
            register("middle-third", _Lungs, default=True)

    host = load_plugins(extra=(("p", P()),))
    assert "p" in host.failures and "made 'anatomical' the default already" in \
        host.failures["p"].error
    assert host.registry.defaults("lung_field_estimator") == ["anatomical"]
