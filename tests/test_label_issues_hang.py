"""The label-issue step never hangs: it forks no pool, and a SIGTERM mid-step ends it.

A run once sat for 12 minutes in the audit: cleanlab's ``find_label_issues``
forked a ``multiprocessing.Pool``, and the parent waited in ``Pool.terminate()``
on a worker blocked on the queue's lock. The step now runs in its own process.
The stress tests repeat it in a child many times, with and without SIGTERM, and
the child's own timeout is the hang detector (nothing here times speed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

from bamnet_core.contract.sample import Sample
from bamnet_core.data.label_issues import label_issues

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
HANG = 240  # seconds: far beyond what the child needs; reaching it means a hang

CHILD = textwrap.dedent("""
    import multiprocessing, os, sys
    import numpy as np
    forks = []
    os.register_at_fork(before=lambda: forks.append(1))
    multiprocessing.cpu_count = lambda: 4  # as on any multi-core machine
    from bamnet_core.cli.signals import terminate_like_interrupt
    from bamnet_core.contract.sample import Sample
    from bamnet_core.data.label_issues import label_issues
    rng = np.random.default_rng(0)
    samples = [Sample(path=f"{i}.png", label=("covid", "normal")[i % 2],
                      patient_id=f"p{i // 2}", source="s") for i in range(120)]
    features = rng.normal(size=(120, 16)) + np.array([s.label == "covid" for s in samples])[:, None]
    terminate_like_interrupt()
    print("ready", flush=True)
    try:
        for i in range(int(sys.argv[1])):
            out = label_issues(samples, features, seed=i)
            assert out["status"] == "done"
    except KeyboardInterrupt:
        print(f"interrupted forks={len(forks)}", flush=True)
        sys.exit(130)
    print(f"done forks={len(forks)}", flush=True)
""")


def _samples(n: int = 60) -> tuple[list[Sample], np.ndarray]:
    rng = np.random.default_rng(1)
    samples = [Sample(path=f"{i}.png", label=("covid", "normal")[i % 2], patient_id=f"p{i // 2}",
                      source="s") for i in range(n)]
    labels = np.array([s.label == "covid" for s in samples], dtype=float)
    return samples, rng.normal(size=(n, 8)) + labels[:, None]


def test_the_step_forks_no_process_pool(monkeypatch):
    import multiprocessing

    def no_pool(*args, **kwargs):
        raise AssertionError("the label-issue step started a multiprocessing pool")

    monkeypatch.setattr(multiprocessing, "Pool", no_pool)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 4)
    samples, features = _samples()
    out = label_issues(samples, features)
    assert out["status"] == "done" and out["images"] == 60


def test_repeated_many_times_it_ends_and_forks_nothing(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CHILD, "40"], env=ENV, capture_output=True,
                          text=True, timeout=HANG, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "done forks=0"


def test_sigterm_mid_step_always_ends_the_process(tmp_path):
    rng = np.random.default_rng(2)
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, "100000"], env=ENV, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        try:
            proc.wait(timeout=float(rng.uniform(0.05, 1.5)))  # somewhere inside a step
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=HANG)
        except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test exists for
            proc.kill()
            raise AssertionError(f"attempt {attempt}: the step hung after SIGTERM") from None
        assert proc.returncode == 130, err
        assert out.strip() == "interrupted forks=0", (out, err)
