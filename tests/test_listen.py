"""``bamnet listen`` over real DICOM networking, both ways, on 127.0.0.1.

A pynetdicom sender pushes 50 images (explicit and implicit little endian, RLE, JPEG
baseline; one damaged) to ``bamnet listen`` started as a real process; a second
Storage SCP here receives the SRs it sends back. Every scorable image gives one row and
one SR, the damaged one an error row; the rows are those ``bamnet score`` writes for the
same files; a sender whose AE title is not allowed gets nothing in; ``kill -9`` in
mid-stream loses nothing once the listener is started again and the sender resends what
was never acknowledged.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from dicom_fixtures import PHI, PHI_PATIENT_PREFIX
from dicom_network import (
    LISTENER,
    SR_CLASS,
    Listener,
    SrReceiver,
    free_port,
    make_certificates,
    make_images,
    send,
    tls_context,
    wait_for,
)
from onnx_fixtures import write_tiny_model

DAMAGED = 7
COUNT = 50


def read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def comparable(row: dict[str, str]) -> tuple:
    """A row without its path (the listener's names where the image waited)."""
    return (row["prob_normal"], row["prob_covid"], row["label"], row["threshold"],
            row["model_sha256"], bool(row["error"]), row["study_instance_uid"])


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_images(tmp_path_factory.mktemp("sent"), COUNT, damaged=DAMAGED)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("model") / "m.onnx", size=8)


@pytest.fixture
def receiver(tmp_path: Path):
    rx = SrReceiver(tmp_path / "pacs")
    yield rx
    rx.close()


def test_every_image_gives_one_row_and_one_sr_back_and_rows_equal_bamnet_score(
        tmp_path, images, model, receiver, cli):
    import highdicom as hd

    out, port = tmp_path / "rows.csv", free_port()
    listener = Listener(model, out, port, "--send-sr", receiver.address)
    try:
        listener.wait_ready()
        status = send(images, port)
        assert set(status.values()) == {0x0000}, status  # the damaged file is accepted too
        wait_for(lambda: len(read_rows(out)) == COUNT, what="50 rows")
        wait_for(lambda: len(receiver.received()) == COUNT - 1, what="49 SRs sent back")
    finally:
        assert listener.terminate() == 0, listener.stderr
    rows = {r["sop_instance_uid"]: r for r in read_rows(out)}
    assert len(rows) == COUNT
    damaged_uid = str(__import__("pydicom").dcmread(images[DAMAGED]).SOPInstanceUID)
    assert rows[damaged_uid]["error"] and rows[damaged_uid]["label"] == ""
    assert sum(bool(r["error"]) for r in rows.values()) == 1
    # the same rows as bamnet score on the same files
    scored = tmp_path / "score.csv"
    assert cli("score", str(model), *map(str, images), "-o", str(scored)).exit_code == 3
    assert {r["sop_instance_uid"]: comparable(r) for r in read_rows(scored)} == \
        {uid: comparable(r) for uid, r in rows.items()}
    # the SRs received: one per scorable image, each referencing it, agreeing with its row
    referenced = {}
    for path in receiver.received().values():
        sr = hd.sr.srread(path)
        group = sr.content.get_image_measurement_groups()[0]
        [source] = group.source_images
        referenced[source.referenced_sop_instance_uid] = sr
        row = rows[source.referenced_sop_instance_uid]
        assert sr.SOPClassUID == SR_CLASS
        assert sr.StudyInstanceUID == row["study_instance_uid"]
        assert group.finding_type.value == row["label"]
    assert set(referenced) == set(rows) - {damaged_uid}
    assert sorted(p.stem for p in (tmp_path / "rows-sr").glob("*.dcm")) == \
        sorted(receiver.received())
    # logs name UIDs, never a patient's name or id
    for value in (PHI["PatientName"], PHI_PATIENT_PREFIX, PHI["PatientBirthDate"]):
        assert value not in listener.stderr
    assert "Stopped: scored 49 images, 1 failed, 49 SRs written." in listener.stderr


def test_a_sender_not_allowed_a_non_image_class_and_a_file_too_large_get_nothing_in(
        tmp_path, images, model):
    from pynetdicom import AE

    out, port = tmp_path / "rows.csv", free_port()
    [large] = make_images(tmp_path / "large", 1, size=128)  # 32 KiB of pixels
    listener = Listener(model, out, port, "--max-file-mb", "0.01")
    try:
        listener.wait_ready()
        status = send(images[:3], port, calling="INTRUDER")
        assert set(status.values()) == {None}
        ae = AE(ae_title="MODALITY1")
        ae.add_requested_context(SR_CLASS)  # a Structured Report is not an image
        assoc = ae.associate("127.0.0.1", port, ae_title=LISTENER)
        assert not assoc.is_established or not assoc.accepted_contexts
        if assoc.is_established:
            assoc.release()
        assert send([large], port) == {large: 0xA700}  # out of resources: over --max-file-mb
        wait_for(lambda: "not an allowed sender" in listener.stderr, what="the rejection")
    finally:
        assert listener.terminate() == 0, listener.stderr
    assert read_rows(out) == []
    assert list((tmp_path / "rows-queue" / "queued").iterdir()) == []
    assert "'INTRUDER'" in listener.stderr and "over the 10485-byte bound" in listener.stderr


def test_kill_9_in_mid_stream_loses_nothing_after_a_restart(tmp_path, images, model):
    out, port = tmp_path / "rows.csv", free_port()
    first = Listener(model, out, port, "--batch-size", "8")
    first.wait_ready()
    acknowledged = send(images, port, stop_after=30)
    first.kill()  # SIGKILL: no cleanup at all; some acknowledged images are not scored yet
    assert sum(s == 0 for s in acknowledged.values()) == 30
    after_kill = read_rows(out)
    waiting = list((tmp_path / "rows-queue" / "queued").glob("*.dcm"))
    second = Listener(model, out, port)
    try:
        second.wait_ready()
        left = [p for p, s in acknowledged.items() if s != 0]
        assert set(send(left, port).values()) == {0x0000}  # the sender resends the rest
        wait_for(lambda: len(read_rows(out)) >= COUNT, what="every image's row")
    finally:
        assert second.terminate() == 0, second.stderr
    rows = read_rows(out)
    uids = [r["sop_instance_uid"] for r in rows]
    assert len(uids) == len(set(uids)) == COUNT  # none lost, none twice
    assert len(after_kill) + len(waiting) >= 1  # the kill came with work done or waiting
    srs = [p for p in (tmp_path / "rows-sr").glob("*.dcm") if not p.name.startswith(".")]
    assert len(srs) == COUNT - 1
    assert not list((tmp_path / "rows-sr").glob(".*"))  # a write the kill cut is gone


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make certificates")
def test_over_tls_only_a_sender_with_a_certificate_gets_in_and_srs_go_back_over_tls(
        tmp_path, images, model):
    files = make_certificates(tmp_path / "pki")
    receiver = SrReceiver(tmp_path / "pacs", tls=tls_context(files, "node", server=True))
    out, port = tmp_path / "rows.jsonl", free_port()  # JSON Lines rows, as bamnet score's
    listener = Listener(model, out, port, "--send-sr", receiver.address,
                        "--tls-cert", str(files["node.pem"]), "--tls-key",
                        str(files["node.key"]), "--tls-ca", str(files["ca.pem"]))
    try:
        listener.wait_ready()
        plain = send(images[:2], port, timeout=2)
        assert set(plain.values()) == {None}  # plain TCP: nothing gets in
        status = send(images[:4], port, tls=tls_context(files, "sender", server=False))
        assert set(status.values()) == {0x0000}
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 4,
                 what="4 rows")
        wait_for(lambda: len(receiver.received()) == 4, what="4 SRs over TLS")
    finally:
        receiver.close()
        assert listener.terminate() == 0, listener.stderr
    assert "(TLS)" in listener.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["label"] and r["sop_instance_uid"] and r["error"] is None for r in rows)


def test_bad_listen_options_are_one_error_line_each(tmp_path, model, cli):
    base = ("listen", str(model), "-o", str(tmp_path / "rows.csv"), "--ae-title", LISTENER)
    bad_dest = cli(*base, "--port", "0", "--allow", "A", "--send-sr", "PACS1@host")
    assert bad_dest.exit_code == 2 and "DEST_AET@HOST:PORT" in bad_dest.stderr
    no_allow = cli(*base, "--port", "0")
    assert no_allow.exit_code == 2 and "--allow" in no_allow.stderr
    long_aet = cli(*base, "--port", "0", "--allow", "A-SENDER-TITLE-TOO-LONG")
    assert long_aet.exit_code == 2 and "is not an AE title" in long_aet.stderr
    half_tls = cli(*base, "--port", "0", "--allow", "A", "--tls-cert", str(model))
    assert half_tls.exit_code == 2 and "--tls-key" in half_tls.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = cli(*base, "--host", "127.0.0.1", "--port", str(taken.getsockname()[1]),
                   "--allow", "A")
    assert busy.exit_code == 1
    assert "Error: cannot listen on 127.0.0.1:" in busy.stderr and "--port" in busy.stderr
    fifo, loop = tmp_path / "fifo", tmp_path / "loop"
    os.mkfifo(fifo)
    loop.symlink_to(loop)
    for place, why in ((fifo, "Not a directory"), (loop, "a symbolic link loop")):
        wrong = cli(*base, "--port", "0", "--allow", "A", "--queue", str(place))
        assert wrong.exit_code == 1 and wrong.stderr.startswith("Error: ")
        assert f"cannot keep the queue in {place}: {why}" in wrong.stderr, wrong.stderr
        assert "unexpected" not in wrong.stderr


def test_sigterm_finishes_the_batch_in_hand_and_leaves_the_rest_queued(tmp_path, images, model):
    out, port = tmp_path / "rows.csv", free_port()
    listener = Listener(model, out, port, "--batch-size", "10", "--batch-wait", "600")
    listener.wait_ready()
    assert set(send(images[:25], port).values()) == {0x0000}
    wait_for(lambda: "scored 10 images" in listener.stderr, what="a first batch")
    assert listener.terminate() == 0, listener.stderr  # while the second batch may be in hand
    rows = read_rows(out)
    waiting = list((tmp_path / "rows-queue" / "queued").glob("*.dcm"))
    assert len(rows) in (10, 20)  # whole batches only
    assert len(rows) + len(waiting) == 25  # the rest waits for the next start
    assert "images wait for the next start" in listener.stderr
