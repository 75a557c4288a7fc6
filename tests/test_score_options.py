"""``ScoreOptions``: one frozen record of a scoring run's options, checked once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bamnet_core.score.options import RayOptions, ScoreOptionError, ScoreOptions


@pytest.mark.parametrize(("options", "flag", "message"), [
    ({"resume": True}, "--resume", "--resume needs --output FILE"),
    ({"engine": "ray"}, "--output", "--engine ray needs --output FILE"),
    ({"ray": RayOptions(address="auto")}, "--engine", "need --engine ray"),
    ({"provider": "gpu"}, "--provider", "use auto, cuda or cpu"),
    ({"engine": "spark"}, "--engine", "use local or ray"),
    ({"batch_size": 0}, "--batch-size", "at least 1"),
])
def test_options_that_cannot_work_are_refused_naming_the_flag(options, flag, message):
    with pytest.raises(ScoreOptionError, match=message) as caught:
        ScoreOptions(**options)
    assert caught.value.option == flag and flag in (caught.value.hint or "")


def test_the_options_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ScoreOptions().batch_size = 8  # type: ignore[misc]


def test_the_continue_command_repeats_the_engine_and_the_uid_choice():
    options = ScoreOptions(output=Path("out dir/s.csv"), engine="ray", uids=False,
                           ray=RayOptions(address="10.0.0.1:6379"))
    assert options.continue_command(Path("m.onnx"), ["imgs"]) == (
        "bamnet score m.onnx imgs --output 'out dir/s.csv' --engine ray "
        "--address 10.0.0.1:6379 --no-uids --resume")
