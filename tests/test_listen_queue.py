"""The listener's on-disk queue: bounded, in arrival order, and nothing half-written kept."""

from __future__ import annotations

import os

from bamnet_core.hospital.queue import INCOMING, DiskQueue


def test_a_full_queue_refuses_and_a_resent_instance_takes_no_second_place(tmp_path):
    queue = DiskQueue(tmp_path / "q", max_files=2)
    assert queue.put("1.2.3", b"first") and queue.put("1.2.4", b"second")
    assert not queue.put("1.2.5", b"third")  # full: the sender hears "out of resources"
    assert [p.name for p in queue.pending()] == ["1.2.3.dcm", "1.2.4.dcm"]
    queue.remove(queue.pending()[0])
    assert queue.put("1.2.4", b"sent again")  # replaces its file, keeps one place
    assert queue.put("1.2.5", b"third")
    assert len(queue) == 2 and not queue.put("1.2.6", b"fourth")
    assert queue.path_for("1.2.4").read_bytes() == b"sent again"


def test_pending_is_oldest_first_and_a_write_a_kill_cut_is_removed_at_start(tmp_path):
    queue = DiskQueue(tmp_path / "q", max_files=10)
    for uid, when in (("1.9", 300), ("1.1", 100), ("1.5", 200)):
        queue.put(uid, b"x")
        os.utime(queue.path_for(uid), ns=(when, when))
    assert [p.stem for p in queue.pending()] == ["1.1", "1.5", "1.9"]
    (tmp_path / "q" / INCOMING / "1.7.abcd.part").write_bytes(b"half")
    again = DiskQueue(tmp_path / "q", max_files=10)  # the next start
    assert list((tmp_path / "q" / INCOMING).iterdir()) == []
    assert len(again) == 3


def test_unsent_srs_are_remembered_until_sent(tmp_path):
    queue = DiskQueue(tmp_path / "q", max_files=10)
    queue.mark_unsent("2.1")
    queue.mark_unsent("2.2")
    queue.sent("2.1")
    assert DiskQueue(tmp_path / "q", max_files=10).unsent() == ["2.2"]
