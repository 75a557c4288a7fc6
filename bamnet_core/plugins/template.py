"""``bamnet plugins new NAME``: write a ready third-party plugin distribution to start from.

The distribution has a ``pyproject.toml`` (the ``bamnet`` entry point, presets as package
data), one component of the kind asked for, a preset that uses it, a test that runs it, and a
README. It builds as a wheel and installs into any environment that has bamnet.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from .._util.atomic import write_text
from ..contract.kinds import BY_NAME, ComponentKind
from ..errors import ConfigError
from . import template_components, template_files

TEMPLATES: dict[str, ComponentKind] = {
    BY_NAME[name].short: BY_NAME[name] for name in template_components.COMPONENT}
"""The kinds a template exists for, by the word ``--kind`` takes (``source``)."""
KINDS = tuple(TEMPLATES)
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def component_name(name: str, suffix: str) -> str:
    """``name-suffix``, unless ``name`` ends in it already (``my-net``, never ``my-net-net``)."""
    return name if name == suffix or name.endswith(f"-{suffix}") else f"{name}-{suffix}"


def class_name(name: str, suffix: str) -> str:
    """``MyNet`` for ``my-net`` and ``Net``; ``FooNet`` for ``foo``."""
    title = "".join(part.title() for part in name.split("-"))
    return title if title.endswith(suffix) else title + suffix


def write_plugin_template(name: str, *, kind: str = "backbone",
                          dest: str | Path = ".") -> list[Path]:
    """Write the distribution ``bamnet-NAME`` into ``dest/bamnet-NAME``; return its files.

    :param name: the plugin's name: lower case letters, digits and single dashes.
    :param kind: the component to start with, one of :data:`KINDS` (``backbone``,
        ``source``, ``evaluator``).
    :raises ConfigError: a bad name or kind, or a target folder that is not empty.
    """
    if not _NAME.match(name):
        raise ConfigError(f"plugin name {name!r} is not lower case letters, digits and dashes",
                          hint="for example: bamnet plugins new my-net")
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind!r} is not one of {', '.join(KINDS)}",
                          hint="for example --kind backbone")
    root = Path(dest).expanduser() / f"bamnet-{name}"
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"{root} already exists and is not empty",
                          hint="choose another --dest or name, or remove the folder")
    module = "bamnet_" + name.replace("-", "_")
    key = TEMPLATES[kind].name
    values = {"name": name, "module": module, "kind": TEMPLATES[kind].label,
              "component": component_name(name, template_files.SUFFIX[key]),
              "klass": class_name(name, template_files.CLASS[key])}
    files = {
        "pyproject.toml": template_files.PYPROJECT,
        "README.md": template_files.README,
        f"{module}/__init__.py": template_files.INIT[key],
        f"{module}/component.py": template_components.COMPONENT[key],
        f"{module}/presets/{name}.toml": template_files.PRESET[key],
        f"tests/test_{module}.py": template_files.TEST[key],
    }
    written = []
    for relative, text in files.items():
        target = root / relative
        write_text(target, Template(text).substitute(values))
        written.append(target)
    return written
