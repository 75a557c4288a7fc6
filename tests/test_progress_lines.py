"""Progress when stderr is not a terminal: one line per epoch, GAN epochs every N."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bamnet_core._util.progress import ProgressEvent
from bamnet_core.cli.progress import LineProgress, gan_every


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _train_events(epochs: int, steps: int):
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            fields = {"epoch": epoch, "epochs": epochs, "step": step, "steps": steps,
                      "loss": 1.0 / epoch}
            if step == steps:
                fields["val_accuracy"] = 0.5 + epoch / 100
            yield ProgressEvent("train", (epoch - 1) * steps + step, epochs * steps,
                                f"epoch {epoch}/{epochs} step {step}/{steps}", fields)


def test_one_line_per_training_epoch_with_losses_and_eta():
    lines: list[str] = []
    clock = Clock()
    show = LineProgress(lines.append, clock)
    for event in _train_events(epochs=4, steps=5):
        clock.now += 1.0
        show(event)
    assert len(lines) == 4
    assert lines[0].startswith("train: epoch 1/4 step 5/5 [5/20] loss=1.0000 "
                               "val_accuracy=0.5100")
    assert "elapsed 0:04" in lines[0] and "ETA 0:12" in lines[0]
    assert "ETA" not in lines[-1]  # finished


@pytest.mark.parametrize("epochs,every", [(1, 1), (20, 1), (50, 5), (1000, 50), (7, 1)])
def test_gan_epochs_print_about_twenty_lines(epochs, every):
    assert gan_every(epochs) == every
    lines: list[str] = []
    show = LineProgress(lines.append, Clock())
    steps = 3
    for epoch in range(1, epochs + 1):
        for batch in range(1, steps + 1):
            show(ProgressEvent("generator", (epoch - 1) * steps + batch, epochs * steps,
                               f"GAN epoch {epoch}/{epochs}",
                               {"epoch": epoch, "epochs": epochs, "d_loss": 0.5, "g_loss": 1.5}))
    printed = [int(line.split()[3].split("/")[0]) for line in lines]
    expected = sorted({1, epochs, *range(every, epochs + 1, every)})
    assert printed == expected
    assert len(lines) <= 22
    assert "d_loss=0.5000 g_loss=1.5000" in lines[-1]


def test_other_stages_print_quarters_once_they_run_long_enough():
    lines: list[str] = []
    clock = Clock()
    show = LineProgress(lines.append, clock)
    for done in range(0, 101):
        show(ProgressEvent("decode", done, 100, "decode"))
    assert lines == []  # a quick stage: only its `done` line, printed by the renderer
    for done in range(0, 101):
        clock.now += 0.25
        show(ProgressEvent("fingerprint", done, 100, "hashing images"))
    # the first line once it has run 10 s (at 40%), then each further quarter
    assert [line.split()[3] for line in lines] == ["[40/100]", "[50/100]", "[75/100]",
                                                   "[100/100]"]
    assert lines[0].startswith("fingerprint: hashing images")
    lines.clear()
    for done in range(1, 50):
        clock.now += 1.0
        show(ProgressEvent("score", done, None, "scoring"))
    assert len(lines) == 4  # every 10 s of 49 s, from the 10th


def test_redirected_stderr_gets_plain_epoch_lines(capsys):
    from bamnet_core.cli.progress import RichProgress

    with RichProgress() as bar:  # pytest's captured stderr is not a terminal
        for event in _train_events(epochs=3, steps=2):
            bar(event)
        bar(ProgressEvent("stage-done", 1, 1, "train", {"seconds": 2.5}))
    err = capsys.readouterr().err.splitlines()
    assert [line.split()[:3] for line in err[:3]] == [["train:", "epoch", "1/3"],
                                                     ["train:", "epoch", "2/3"],
                                                     ["train:", "epoch", "3/3"]]
    assert err[3] == "done train (2.5 s)"
    assert not any("\x1b" in line or "━" in line for line in err)


def test_disabled_progress_writes_nothing(capsys):
    from bamnet_core.cli.progress import RichProgress

    with RichProgress(enabled=False) as bar:
        for event in _train_events(epochs=2, steps=2):
            bar(event)
    assert capsys.readouterr().err == ""


def _decode_pass(show, clock, seconds_per_batch: float) -> None:
    show(ProgressEvent("decode val", 0, 256, "validation images through Keras"))
    for done in range(32, 257, 32):
        clock.now += seconds_per_batch
        show(ProgressEvent("decode val", done, 256, "validation images through Keras"))


def test_a_stage_that_starts_late_counts_its_time_from_its_own_start():
    lines: list[str] = []
    clock = Clock()
    show = LineProgress(lines.append, clock)
    for done in range(0, 101):  # the first stage: 300 s
        clock.now += 3.0
        show(ProgressEvent("fingerprint", done, 100, "hashing images"))
    lines.clear()
    clock.now = 1000.0
    _decode_pass(show, clock, seconds_per_batch=4.0)
    assert lines[0] == ("decode val: validation images through Keras [96/256] elapsed 0:12 "
                        "ETA 0:20")


def test_the_same_stage_run_again_later_starts_its_clock_again():
    lines: list[str] = []
    clock = Clock()
    show = LineProgress(lines.append, clock)
    _decode_pass(show, clock, seconds_per_batch=0.1)  # the run's quick decode: no lines
    assert lines == []
    clock.now = 262.0  # the export's, 4:22 later
    _decode_pass(show, clock, seconds_per_batch=4.0)
    assert lines[0] == ("decode val: validation images through Keras [96/256] elapsed 0:12 "
                        "ETA 0:20")
    assert lines[-1].endswith("[256/256] elapsed 0:32")


def test_the_terminal_bars_restart_a_stage_that_runs_again(monkeypatch):
    from bamnet_core.cli import progress as progress_module

    clock = Clock()
    monkeypatch.setattr(progress_module, "err", lambda: Console(force_terminal=True,
                                                                file=io.StringIO()))
    with progress_module.RichProgress(clock=clock) as bars:
        _decode_pass(bars, clock, seconds_per_batch=0.1)
        clock.now = 262.0
        _decode_pass(bars, clock, seconds_per_batch=4.0)
        task = bars.progress.tasks[0]
        assert len(bars.progress.tasks) == 1 and task.completed == 256
        assert task.elapsed == pytest.approx(32.0)


def test_a_total_learned_while_scoring_continues_the_stage():
    lines: list[str] = []
    clock = Clock()
    show = LineProgress(lines.append, clock)
    for done in range(0, 31):
        clock.now += 1.0
        show(ProgressEvent("score", done, None if done < 20 else 40, "scoring"))
    assert lines[-1] == "score: scoring [30/40] elapsed 0:30 ETA 0:10"
