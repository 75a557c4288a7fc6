"""Docs that can drift are checked: the hook reference and the CLI reference."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from bamnet_core.contract import hookspecs

ROOT = Path(__file__).resolve().parents[1]


def hook_signatures() -> dict[str, str]:
    out = {}
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if hasattr(fn, "bamnet_spec"):
            params = ", ".join(inspect.signature(fn).parameters)
            out[name] = f"{name}({params})"
    return out


def test_there_are_hooks():
    assert set(hook_signatures()) >= {"register_dataset_sources", "register_commands"}


def test_every_hook_is_documented_with_its_exact_signature():
    text = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
    headings = set(re.findall(r"^## (\w+\(.*\))$", text, flags=re.M))
    assert headings == set(hook_signatures().values())


def test_every_hook_has_a_test_named_after_it():
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    for name in hook_signatures():
        assert re.search(rf"^def test_{name}\b", tests, flags=re.M), f"no test_{name}"


def test_cli_reference_is_current():
    from bamnet_core.cli.reference import render_reference

    assert (ROOT / "docs" / "cli.md").read_text() == render_reference(), (
        "docs/cli.md is stale: run `python -m bamnet_core.cli.reference > docs/cli.md`")


def test_config_reference_lists_every_core_key():
    import pydantic

    from bamnet_core.config.schema import SECTIONS

    text = (ROOT / "docs" / "config.md").read_text()
    for section, model in SECTIONS.items():
        assert f"## [{section}]" in text, section
        for key, field in model.model_fields.items():
            sub = field.annotation
            if isinstance(sub, type) and issubclass(sub, pydantic.BaseModel):
                assert f"[{section}.{key}]" in text, f"{section}.{key}"
                for inner in sub.model_fields:
                    assert f"`{inner}`" in text, f"{section}.{key}.{inner}"
            else:
                assert f"`{key}`" in text, f"{section}.{key}"


def _members(protocol: type) -> list[str]:
    own = [n for n in vars(protocol) if not n.startswith("_")]
    return [n for n in own if n not in ("register",)]


def test_every_protocol_and_capability_is_documented_with_its_members():
    from bamnet_core.contract import CAPABILITIES, KINDS

    text = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
    protocols = [p for k in KINDS for p in k.protocols()]  # each variant of a union too
    for heading, group in (("Protocol", protocols), ("Capability", CAPABILITIES)):
        for protocol in group:
            title = f"## {heading}: {protocol.__name__}"
            assert title in text, title
            section = text.split(title, 1)[1].split("\n## ", 1)[0]
            for member in _members(protocol):
                assert f"{member}(self" in section or f"{member}(cls" in section or \
                    f"`{member}: " in section, f"{protocol.__name__}.{member}"
