"""Two worker processes train one model together (``TF_CONFIG``), as on two machines.

The real test starts two ``bamnet run`` processes on 127.0.0.1 with the same
config and the same ``--output-dir``, and beside them a reference: one process
whose CPU is split into two logical devices, mirrored. Both train two replicas
on the same global batch split the same way, so their histories and
predictions may differ only by the order of floating-point sums in the
all-reduce; the tolerance, 1e-5, is far above that and far below any real
difference (one example in a batch moves the loss by ~1e-2). A one-device run
is not the reference: each replica computes batch-normalisation statistics
on its half of the batch, and a short last batch is filled for two replicas.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import pytest
from bamnet_testing import TINY_CONFIG, python

from bamnet_core.runs import layout

TOLERANCE = 1e-5
TIMEOUT_S = 300  # the three processes take ~60 s on two busy cores; a hang fails, never waits

REFERENCE = r'''
import sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from bamnet_core.cli import main

main(["run", sys.argv[1], "-o", sys.argv[2], "--json", "--set", "train.distribution=mirrored"])
'''


def _free_ports(n: int) -> list[int]:
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def _tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "w") as err:
        return subprocess.Popen([python(), *args], stdout=subprocess.PIPE, stderr=err,
                                text=True, env=env)


def _finish(procs: dict[str, subprocess.Popen], logs: Path) -> dict[str, str]:
    """Every process's stdout; all are killed if one fails or time runs out."""
    deadline = time.monotonic() + TIMEOUT_S
    outs = {}
    try:
        for name, proc in procs.items():
            outs[name], _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert proc.returncode == 0, \
                f"{name} exited {proc.returncode}: {(logs / f'{name}.log').read_text()[-3000:]}"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    return outs


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / layout.HISTORY, newline="") as fh:
        return list(csv.DictReader(fh))


def _probabilities(run_dir: Path) -> list[float]:
    with open(run_dir / layout.PREDICTIONS, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [float(v) for row in rows for k, v in row.items() if k.startswith("p_")]


def test_two_workers_train_like_two_mirrored_devices_and_only_the_chief_writes(tmp_path):
    config = tmp_path / "tiny.toml"
    # dropout 0: its masks are drawn per replica, and are not what this compares
    config.write_text(TINY_CONFIG.replace("dense = 8", "dense = 8\ndropout = 0.0"),
                      encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'plugins'}",
           "TMPDIR": str(scratch)}
    env.pop("TF_CONFIG", None)
    ports, shared = _free_ports(2), tmp_path / "runs"
    run = ["-m", "bamnet_core", "run", str(config), "-o", str(shared), "--json"]
    started = time.monotonic()
    procs = {f"worker{i}": _start(run, {**env, "TF_CONFIG": _tf_config(ports, i)},
                                  tmp_path / f"worker{i}.log") for i in (0, 1)}
    procs["reference"] = _start(["-c", REFERENCE, str(config), str(tmp_path / "reference")],
                                env, tmp_path / "reference.log")
    outs = _finish(procs, tmp_path)
    print(f"three processes finished in {time.monotonic() - started:.0f} s")

    worker = json.loads(outs["worker1"])
    assert worker["run_dir"] is None
    assert worker["worker"] == f"worker 1 of 2 (127.0.0.1:{ports[1]})"
    chief_dir = Path(json.loads(outs["worker0"])["run_dir"])
    assert [p.name for p in shared.iterdir()] == [chief_dir.name]  # one folder, the chief's
    assert not (chief_dir / layout.LOCK).exists() and list(scratch.iterdir()) == []
    meta = json.loads((chief_dir / layout.META).read_text())
    assert meta["status"] == "complete"
    training = meta["training"]
    assert training["distribution"] == "multi-worker" and training["workers"] == 2
    assert training["replicas"] == 2 and training["batch_size_per_replica"] == 4
    assert (chief_dir / layout.REPORT).is_file() and (chief_dir / layout.MODEL).is_file()

    ref_dir = Path(json.loads(outs["reference"])["run_dir"])
    assert json.loads((ref_dir / layout.META).read_text())["training"]["replicas"] == 2
    two, one = _history(chief_dir), _history(ref_dir)
    assert len(two) == len(one) == 2
    worst = 0.0
    for a, b in zip(one, two, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            worst = max(worst, abs(float(a[key]) - float(b[key])))
    print(f"largest history difference: {worst:.2e}")
    assert worst <= TOLERANCE
    assert _probabilities(chief_dir) == pytest.approx(_probabilities(ref_dir), abs=TOLERANCE)


def test_malformed_tf_config_is_one_error_before_anything_runs(tmp_path, cli, tiny_config,
                                                               monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1", "b:2"]}')
    result = cli("run", str(tiny_config), "-o", str(tmp_path / "runs"))
    assert result.exit_code == 1 and result.stderr.count("Error:") == 1
    assert "TF_CONFIG is not valid JSON" in result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("value", "says"), [
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     '"task.index" 2 is not a worker of the cluster (0 to 1)'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', '"task": {"type"'),
    ('{"cluster": {"worker": "a:1"}, "task": {"type": "worker"}}', "list of"),
    ('{"task": {"type": "worker", "index": 0}}', 'no "cluster" object'),
    ("[1, 2]", "is not a JSON object"),
])
def test_tf_config_problems_are_named(value, says):
    from bamnet_core.errors import ConfigError
    from bamnet_core.train.cluster import parse

    with pytest.raises(ConfigError, match="TF_CONFIG") as caught:
        parse(value)
    assert says in caught.value.message and "docs/multi-worker.md" in caught.value.hint


def test_chief_is_the_chief_task_or_worker_zero():
    from bamnet_core.train.cluster import parse

    with_chief = '{"cluster": {"chief": ["c:1"], "worker": ["w:1"]}, "task": {"type": "%s", ' \
                 '"index": 0}}'
    assert parse(with_chief % "chief").chief and parse(with_chief % "chief").workers == 2
    assert parse(with_chief % "worker").rank == 1 and not parse(with_chief % "worker").chief
    assert parse('{"cluster": {"worker": ["w:1", "w:2"]}, '
                 '"task": {"type": "worker", "index": 0}}').chief


def test_which_settings_read_tf_config():
    from bamnet_core.errors import ConfigError
    from bamnet_core.train.distribution import wanted_cluster

    two = {"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:2"]}, '
                        '"task": {"type": "worker", "index": 1}}'}
    one = {"TF_CONFIG": '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker"}}'}
    assert wanted_cluster("auto", two).rank == 1
    assert wanted_cluster("auto", one) is None  # one worker: train as on one machine
    assert wanted_cluster("multi-worker", one).workers == 1
    assert wanted_cluster("none", two) is None and wanted_cluster("mirrored", two) is None
    assert wanted_cluster("none", {"TF_CONFIG": "{broken"}) is None  # never read
    with pytest.raises(ConfigError, match='"multi-worker" needs TF_CONFIG') as caught:
        wanted_cluster("multi-worker", {})
    assert "docs/multi-worker.md" in caught.value.hint


def test_multi_worker_on_another_backend_is_refused(monkeypatch):
    import keras

    from bamnet_core.errors import ConfigError
    from bamnet_core.train.distribution import placement

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    two = {"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:2"]}, '
                        '"task": {"type": "worker", "index": 0}}'}
    with pytest.raises(ConfigError, match="needs the TensorFlow backend, not jax") as caught:
        placement("auto", 8, two)
    assert "KERAS_BACKEND=tensorflow" in caught.value.hint


def test_batch_must_split_over_every_worker_and_resume_is_refused(monkeypatch):
    from bamnet_core.errors import ConfigError, RunError
    from bamnet_core.experiment.workers import check_resumable
    from bamnet_core.train.cluster import Cluster
    from bamnet_core.train.distribution import Placement, check_batch

    place = Placement("multi-worker", ["/cpu:0"], cluster=Cluster(("a:1", "b:2"), 0))
    assert place.describe(8) | {"replicas": 2, "workers": 2, "batch_size_per_replica": 4} \
        == place.describe(8)
    with pytest.raises(ConfigError, match="over 2 devices .* on each of 2 workers"):
        check_batch(place, 9)
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["a:1", "b:2"]}, '
                                    '"task": {"type": "worker", "index": 0}}')
    config = SimpleNamespace(train=SimpleNamespace(distribution="auto"))
    with pytest.raises(RunError, match="TF_CONFIG names 2 workers") as caught:
        check_resumable(config)
    assert "unset TF_CONFIG" in caught.value.hint


def test_a_lost_worker_is_one_error_naming_the_worker():
    import tensorflow as tf

    from bamnet_core.errors import RunError
    from bamnet_core.train.cluster import Cluster
    from bamnet_core.train.distribution import Placement

    place = Placement("multi-worker", ["/cpu:0"], cluster=Cluster(("a:1", "b:2"), 1))
    lost = tf.errors.UnavailableError(None, None, "Collective ops is aborted by: recvmsg:"
                                                  "Connection reset by peer")
    with pytest.raises(RunError, match="worker 1 of 2 .b:2. lost contact with another worker "
                                       "during training .UnavailableError: Collective ops"):
        with place.scope():
            raise lost
    with pytest.raises(ValueError), Placement("none", ["/cpu:0"]).scope():
        raise ValueError("not a lost worker")
