"""The speed rule export uses: a median with a range, and "faster" only when the whole range is."""

from __future__ import annotations

import numpy as np

from bamnet_core.export.speed import Speed, SpeedBudget, faster, fastest, measure_speeds


def _speed(low: float, high: float) -> Speed:
    return Speed((low + high) / 2, low, high, images=256, rounds=5)


def test_a_model_is_faster_only_when_its_slowest_round_beats_the_others_fastest():
    assert faster(_speed(120, 140), _speed(90, 110))
    assert not faster(_speed(100, 140), _speed(90, 110))  # overlapping ranges: not faster
    assert not faster(_speed(90, 110), _speed(120, 140))
    assert not faster(_speed(100, 100), _speed(100, 100))


def test_the_fastest_is_faster_than_every_other_model_or_there_is_none():
    assert fastest({"fp32": _speed(80, 100), "int8": _speed(150, 170),
                    "fp16": _speed(60, 90)}) == "int8"
    # int8's median is higher, but its slowest round is slower than fp32's fastest
    assert fastest({"fp32": _speed(128, 133), "int8": _speed(120, 160)}) is None
    assert fastest({"fp32": _speed(80, 100)}) == "fp32"
    assert fastest({}) is None


def test_every_model_runs_its_budget_of_images_in_interleaved_rounds():
    events: list[str] = []

    def opener(name: str):
        def open_model():
            events.append(f"open {name}")
            return lambda x: events.append(name) or len(x)
        return open_model

    speeds = measure_speeds({"fp32": opener("fp32"), "int8": opener("int8")},
                            np.zeros((3, 4, 4, 1), np.float32), batch=8,
                            budget=SpeedBudget(images=40, seconds=0.0, rounds=4),
                            release=lambda: events.append("release"))
    for speed in speeds.values():
        assert speed.rounds == 4 and speed.images >= 40
        assert speed.low <= speed.median <= speed.high
        assert set(speed.to_dict()) == {"inference_images_per_s", "inference_images_per_s_range",
                                        "timed_images", "timing_rounds"}
    # the rounds alternate, the order turned each round: never one model's block
    opens = [e.split()[1] for e in events if e.startswith("open")]
    assert opens == ["fp32", "int8", "int8", "fp32", "fp32", "int8", "int8", "fp32"]
    # one model at a time: each turn opens it, warms it up, runs its share of the 40 images
    # (10 a round: two runs of 8), and releases it
    turns = [t.split() for t in " ".join(events).split("release")[:-1]]
    assert [t[0] for t in turns] == ["open"] * 8
    assert all(t[2:] == [t[1]] * 3 for t in turns)


def test_no_images_means_no_speed():
    assert measure_speeds({"fp32": lambda x: x}, np.zeros((0, 4, 4, 1)), batch=8) == {}
