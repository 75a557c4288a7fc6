"""A run's ``config.toml`` read back as a typed :class:`~bamnet_core.config.resolved.Config`.

The report, the model card and ``compare`` read a finished run's config, and
must not need the plugins that made it: this validates the core sections only
(``config.split.by``, ``config.report.verdict``...) against
:data:`bamnet_core.config.schema.SECTIONS` and builds no component. A
component's own options (the keys ``[backbone]`` or ``[data]`` pass to their
plugin) stay as written, in ``config.document``; the plugin that reads them is
the one that checks them. ``load_config`` is what a run or a resume uses.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..config.resolved import Config
from ..config.schema import MOVED_KEYS, SECTIONS
from ..errors import RunError
from .folder import unreadable
from .size_caps import cap_of, read_capped


def config_of(document: dict[str, Any], where: str, *, partial: bool = False) -> Config:
    """The typed config of a run's resolved ``document`` (from ``where``, for messages).

    :param partial: leave out a section the document does not hold and cannot
        default (a hand-made record); a run's own ``config.toml`` holds them all.
    :raises RunError: naming the first key that does not validate.
    """
    sections = {}
    for name, model in SECTIONS.items():
        value = _without_moved(name, document.get(name, {}))
        try:
            sections[name] = model.model_validate(value)
        except ValidationError as exc:
            if partial and name not in document:
                continue
            problem = exc.errors()[0]
            key = ".".join([name, *(str(p) for p in problem["loc"])])
            raise RunError(f"{where}: {key}: {problem['msg']}",
                           hint="fix the key in the run's config.toml (docs/config.md)") from None
    return Config(document=document, origin=where, sections=sections)


def _without_moved(section: str, value: Any) -> Any:
    """A core section less the keys that moved into evaluators' options (a run made before
    they moved still reads; the evaluators that use them read the document)."""
    if not isinstance(value, dict):
        return value
    value = {k: v for k, v in value.items() if (section, k) not in MOVED_KEYS}
    for key, inner in list(value.items()):
        if isinstance(inner, dict):
            value[key] = _without_moved(f"{section}.{key}", inner)
    return value


def read_config(path: Path) -> tuple[str, Config]:
    """A run's ``config.toml``: its text and its typed config.

    :raises RunError: when it is not UTF-8 TOML, or a core key does not validate.
    """
    try:
        text = read_capped(path, cap_of(path.name))
        document = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RunError(f"{path} is not valid TOML ({exc})",
                       hint="the run folder is damaged") from None
    except OSError as exc:
        raise unreadable(path, exc) from None
    return text, config_of(document, str(path))
