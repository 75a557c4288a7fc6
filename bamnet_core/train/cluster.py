"""The workers ``TF_CONFIG`` names, read without TensorFlow.

``TF_CONFIG`` is TensorFlow's cluster description: a JSON object with a
``cluster`` (job name to a list of ``host:port`` addresses) and this
process's ``task`` (``type`` and ``index``). Multi-worker training reads
the ``chief`` and ``worker`` jobs; the chief is the ``chief`` task, or
``worker`` 0 when there is none. Reading it here, before Keras loads, lets a
malformed value fail in a fraction of a second as one error naming
``TF_CONFIG``, and tells the run which process writes the run folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError

ENV = "TF_CONFIG"
JOBS = ("chief", "worker")
_HINT = ('set TF_CONFIG to e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
         '"task": {"type": "worker", "index": 0}} (see docs/multi-worker.md), or unset it')


@dataclass(frozen=True)
class Cluster:
    """The training cluster and this process's place in it.

    :param addresses: every task's ``host:port``, the chief first.
    :param rank: this process's position in ``addresses`` (0 is the chief).
    """

    addresses: tuple[str, ...]
    rank: int

    @property
    def workers(self) -> int:
        """How many processes train together."""
        return len(self.addresses)

    @property
    def chief(self) -> bool:
        """Whether this process writes the run folder."""
        return self.rank == 0

    def describe(self) -> str:
        """``worker 1 of 2 (host2:12345)``, for messages."""
        return f"worker {self.rank} of {self.workers} ({self.addresses[self.rank]})"


def _refuse(problem: str) -> ConfigError:
    return ConfigError(f"{ENV} {problem}", hint=_HINT)


def _addresses(cluster: object) -> dict[str, list[str]]:
    if not isinstance(cluster, dict):
        raise _refuse('has no "cluster" object naming the workers')
    jobs = {}
    for job in JOBS:
        found = cluster.get(job, [])
        if not isinstance(found, list) or not all(isinstance(a, str) and a for a in found):
            raise _refuse(f'"cluster.{job}" must be a list of "host:port" strings')
        jobs[job] = found
    if len(jobs["chief"]) > 1:
        raise _refuse('"cluster.chief" names more than one task; a cluster has one chief')
    if not jobs["chief"] and not jobs["worker"]:
        raise _refuse('"cluster" names no "worker" (or "chief") task')
    return jobs


def parse(text: str) -> Cluster:
    """The cluster a ``TF_CONFIG`` value describes.

    :raises ConfigError: naming ``TF_CONFIG`` and what is wrong with it.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise _refuse(f"is not valid JSON ({str(exc).splitlines()[0][:80]})") from None
    if not isinstance(doc, dict):
        raise _refuse("is not a JSON object")
    jobs = _addresses(doc.get("cluster"))
    task = doc.get("task")
    if not isinstance(task, dict) or task.get("type") not in JOBS:
        raise _refuse('needs "task": {"type": "worker" or "chief", "index": N} for this '
                      "process")
    kind, index = task["type"], task.get("index", 0)
    if isinstance(index, bool) or not isinstance(index, int) \
            or not 0 <= index < len(jobs[kind]):
        raise _refuse(f'"task.index" {index!r} is not a {kind} of the cluster (0 to '
                      f"{len(jobs[kind]) - 1})" if jobs[kind] else
                      f'"task.type" {kind!r} names a job the cluster does not have')
    addresses = tuple(jobs["chief"] + jobs["worker"])
    return Cluster(addresses, index + len(jobs["chief"]) if kind == "worker" else 0)


def from_environment(environ: Mapping[str, str]) -> Cluster | None:
    """The cluster ``environ[TF_CONFIG]`` describes; None when it is unset or empty."""
    text = environ.get(ENV, "").strip()
    return parse(text) if text else None
