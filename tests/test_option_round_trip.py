"""Options round-trip: TOML in, the validated value to the factory, TOML out, and back."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from bamnet_core.contract import KINDS
from bamnet_core.plugins import load_plugins
from bamnet_core.plugins.options import check_factory, options_model


def _round_trip(model: type[pydantic.BaseModel], values: dict[str, Any]) -> None:
    first = model.model_validate_json(json.dumps(values), strict=True)
    written = tomli_w.dumps({k: v for k, v in first.model_dump(mode="json").items()
                             if v is not None})
    again = model.model_validate_json(json.dumps(tomllib.loads(written)), strict=True)
    assert again == first


def test_every_registered_components_defaults_round_trip():
    registry = load_plugins({"BAMNET_LOAD_PLUGINS": ""}).registry
    checked = 0
    for kind in KINDS:
        if kind.protocol is None:
            continue
        for reg in registry.all(kind.name):
            model = options_model(reg.target)
            required = {k: f.annotation for k, f in model.model_fields.items()
                        if f.is_required()}
            # required options get a stand-in of their type (only paths are required today)
            stand_in = {k: "/data/x" for k in required}
            _round_trip(model, stand_in)
            checked += 1
    assert checked >= 8


def _shapes() -> st.SearchStrategy[tuple[Any, st.SearchStrategy[Any]]]:
    finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
    text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
    leaves = st.sampled_from([
        (int, st.integers(-2**40, 2**40)),
        (float, finite),
        (str, text),
        (bool, st.booleans()),
        (Path, st.from_regex(r"/[a-z]{1,6}(/[a-z]{1,6}){0,2}", fullmatch=True).map(Path)),
        (Literal["a", "b"], st.sampled_from(["a", "b"])),
        (Annotated[float, pydantic.Field(ge=0.0, lt=1.0)],
         st.floats(0.0, 1.0, exclude_max=True)),
        (tuple[int, int], st.tuples(st.integers(-99, 99), st.integers(-99, 99))),
    ])

    def extend(inner: st.SearchStrategy) -> st.SearchStrategy:
        return inner.flatmap(lambda pair: st.sampled_from([
            (list[pair[0]], st.lists(pair[1], max_size=3)),
            (dict[str, pair[0]], st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True),
                                                 pair[1], max_size=3)),
        ]))

    shapes = st.recursive(leaves, extend, max_leaves=3)
    # None has no TOML spelling inside a list or table: only a whole option may be optional
    return shapes.flatmap(lambda pair: st.sampled_from([
        pair, (pair[0] | None, st.one_of(st.none(), pair[1]))]))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=_shapes())
def test_supported_annotation_shapes_round_trip_through_toml(data, shape):
    annotation, values = shape
    value = data.draw(values)

    def factory(*, option=value) -> None:
        """A factory with one option of the drawn shape."""

    factory.__annotations__ = {"option": annotation, "return": None}

    check_factory(factory)  # accepted at registration, default included
    model = options_model(factory)
    dumped = model(option=value).model_dump(mode="json")
    if dumped["option"] is not None:
        _round_trip(model, {"option": dumped["option"]})


def test_none_inside_a_list_is_refused_at_registration():
    import pytest

    from bamnet_core.plugins.options import OptionSchemaError

    def factory(*, weights=None) -> None:
        """Optional items have no TOML spelling."""

    factory.__annotations__ = {"weights": list[float | None] | None, "return": None}
    with pytest.raises(OptionSchemaError, match="None cannot be written in TOML inside a list"):
        check_factory(factory)
