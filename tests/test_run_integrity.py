"""A run folder you can trust: a file changed since its stage wrote it is refused, never used.

Each tampering case is one a user met: after the change, ``bamnet resume RUN --from
evaluate`` (and report, evaluate, export, score) went on with exit 0 and used the file.
Now each refuses in one ``Error:`` line naming the file and what to do.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from bamnet_testing import TINY_CONFIG, run_cli, tiny_config_on

from bamnet_core.runs import layout

KEY = "k" * 40  # the pseudonym key the shared run is made with
OTHER_KEY = "o" * 40


def pseudonymous_manifest(folder: Path) -> Path:
    """Phantoms whose patient ids are pseudonyms under ``KEY``, as the dicom source makes
    them: a run of them depends on the key."""
    from test_evaluation_report import write_two_source_manifest

    from bamnet_core.contract.pseudonyms import pseudonym

    manifest = write_two_source_manifest(folder)
    rows = list(csv.DictReader(io.StringIO(manifest.read_text())))
    for row in rows:
        row["patient_id"] = pseudonym(row["patient_id"], key=KEY.encode())
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    manifest.write_text(out.getvalue())
    return manifest


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny finished run of patients named by pseudonyms under a known key (tests work
    on copies)."""
    base = tmp_path_factory.mktemp("integrity")
    data = base / "data"
    data.mkdir()
    manifest = pseudonymous_manifest(data)
    config = base / "tiny.toml"
    config.write_text(tiny_config_on(manifest))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAMNET_PSEUDONYM_KEY", KEY)
        result = run_cli("run", str(config), "--output-dir", str(base / "runs"), "--json")
    assert result.exit_code == 0, result.stderr
    return Path(json.loads(result.stdout)["run_dir"])


@pytest.fixture(scope="module")
def other_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest of other patients' phantoms: data `bamnet evaluate` scores as external."""
    from test_evaluation_report import write_two_source_manifest

    data = tmp_path_factory.mktemp("other")
    return write_two_source_manifest(data, per_class=2, seed=6, prefix="other-")


@pytest.fixture
def run(made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shared run, with the run's pseudonym key set."""
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    copy = tmp_path / made.name
    shutil.copytree(made, copy)
    return copy


def refused(result, name: str) -> str:
    """The refusal's text, after checking it is one Error line naming ``name``."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Error: ") and name in lines[0], result.stderr
    assert "not used" in lines[0]
    assert [line for line in lines[1:] if not line.startswith("Hint: ")] == []
    return result.stderr


def split_json(run: Path) -> dict:
    return json.loads((run / layout.SPLIT_JSON).read_text())


def test_a_train_patient_moved_to_test_in_split_json_is_refused(run: Path):
    split = split_json(run)
    patient = split["assignment"]["train"][0]["patient_id"]
    moved = [s for s in split["assignment"]["train"] if s["patient_id"] == patient]
    split["assignment"]["train"] = [s for s in split["assignment"]["train"] if s not in moved]
    split["assignment"]["test"] += moved
    (run / layout.SPLIT_JSON).write_text(json.dumps(split, indent=2))
    metrics = (run / layout.METRICS).read_bytes()
    text = refused(run_cli("resume", str(run), "--from", "evaluate"), layout.SPLIT_JSON)
    assert "the data stage wrote" in text and "start a new run" in text
    assert (run / layout.METRICS).read_bytes() == metrics  # nothing was evaluated


def test_a_test_image_moved_to_train_is_refused(run: Path, other_data: Path):
    split = split_json(run)
    split["assignment"]["train"].append(split["assignment"]["test"].pop())
    (run / layout.SPLIT_JSON).write_text(json.dumps(split, indent=2))
    refused(run_cli("resume", str(run), "--from", "evaluate"), layout.SPLIT_JSON)
    refused(run_cli("evaluate", str(run), "--data", str(other_data)), layout.SPLIT_JSON)


def test_a_replaced_model_is_refused_by_resume_evaluate_and_export(run: Path,
                                                                   other_data: Path):
    # another model in model.keras's place: the last checkpoint (with its optimizer)
    epoch = next((run / layout.CHECKPOINT).glob(layout.CHECKPOINT_MODELS))
    shutil.copyfile(epoch, run / layout.MODEL)
    text = refused(run_cli("resume", str(run), "--from", "evaluate"), layout.MODEL)
    assert "the train stage wrote" in text
    refused(run_cli("evaluate", str(run), "--data", str(other_data)), layout.MODEL)
    refused(run_cli("export", str(run), "--onnx"), layout.MODEL)
    assert not (run / layout.ONNX).exists()


def test_config_edited_between_attempts_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_CONFIG)
    stopped = run_cli("run", str(config), "--output-dir", str(tmp_path / "runs"), "--until",
                      "audit", "--json")
    assert stopped.exit_code == 0, stopped.stderr
    folder = Path(json.loads(stopped.stdout)["run_dir"])
    text = (folder / layout.CONFIG).read_text()
    assert "val = 0.3" in text
    (folder / layout.CONFIG).write_text(text.replace("val = 0.3", "val = 0.4"))
    # ids that are not pseudonyms: the run does not depend on a key, and records none
    assert json.loads((folder / layout.INTEGRITY).read_text())["pseudonym_key"] is None
    message = refused(run_cli("resume", str(folder)), layout.CONFIG)
    assert "started" in message and "bamnet run" in message
    assert not (folder / layout.MODEL).exists() and not (folder / layout.HISTORY).exists()


def test_an_edited_checkpoint_state_is_refused(run: Path):
    path = run / layout.CHECKPOINT / layout.CHECKPOINT_STATE
    state = json.loads(path.read_text())
    state["best"] = 0.0001  # a val_loss the run never reached
    path.write_text(json.dumps(state))
    refused(run_cli("resume", str(run), "--from", "evaluate"),
            f"{layout.CHECKPOINT}/{layout.CHECKPOINT_STATE}")


def test_a_replaced_checkpoint_is_refused_when_training_goes_on(run: Path):
    meta = json.loads((run / layout.META).read_text())
    meta["stages"] = {k: v for k, v in meta["stages"].items() if k in ("data", "audit")}
    meta["status"] = "interrupted"  # killed during training
    (run / layout.META).write_text(json.dumps(meta))
    epoch = next((run / layout.CHECKPOINT).glob(layout.CHECKPOINT_MODELS))
    shutil.copyfile(run / layout.MODEL, epoch)  # not the checkpoint's model
    text = refused(run_cli("resume", str(run)), epoch.name)
    assert "the train stage wrote" in text


def test_an_edited_splits_csv_is_refused_by_resume_report_and_export(run: Path):
    rows = list(csv.DictReader(io.StringIO((run / layout.SPLITS_CSV).read_text())))
    test_row = next(r for r in rows if r["split"] == "test")
    test_row["split"] = "val"  # contradicts split.json
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (run / layout.SPLITS_CSV).write_text(out.getvalue())
    refused(run_cli("resume", str(run), "--from", "evaluate"), layout.SPLITS_CSV)
    refused(run_cli("report", str(run)), layout.SPLITS_CSV)
    refused(run_cli("export", str(run), "--onnx"), layout.SPLITS_CSV)


def test_an_edited_metrics_file_is_refused_by_the_report_and_redone_by_resume(run: Path):
    metrics = json.loads((run / layout.METRICS).read_text())
    metrics["threshold"] = 0.01
    (run / layout.METRICS).write_text(json.dumps(metrics))
    text = refused(run_cli("report", str(run)), layout.METRICS)
    assert f"bamnet resume {run} --from evaluate" in text
    redone = run_cli("resume", str(run), "--from", "evaluate")
    assert redone.exit_code == 0, redone.stderr
    verified = run_cli("verify", str(run), "--json")
    assert verified.exit_code == 0, verified.stdout
    assert json.loads(verified.stdout)["ok"] is True
    assert run_cli("report", str(run)).exit_code == 0


def test_a_planted_external_result_is_refused_by_the_report(run: Path):
    planted = run / layout.EXTERNAL / "elsewhere" / layout.METRICS
    planted.parent.mkdir(parents=True)
    shutil.copyfile(run / layout.METRICS, planted)
    text = refused(run_cli("report", str(run)),
                   f"{layout.EXTERNAL}/elsewhere/{layout.METRICS}")
    assert "not in the run's record" in text


def test_verify_says_what_holds_and_what_does_not(run: Path):
    clean = run_cli("verify", str(run))
    assert clean.exit_code == 0, clean.stderr
    lines = clean.stdout.splitlines()
    for name in (layout.CONFIG, layout.SPLIT_JSON, layout.MODEL, layout.METRICS):
        assert any(line.startswith("ok ") and f" {name} (" in line for line in lines), name
    with open(run / layout.PREDICTIONS, "a") as fh:
        fh.write("test,/x.png,p,src,covid,0.5,0.5\n")
    (run / layout.BEST).unlink()
    broken = run_cli("verify", str(run), "--json")
    assert broken.exit_code == 1
    payload = json.loads(broken.stdout)
    status = {f["name"]: f["status"] for f in payload["files"]}
    assert payload["ok"] is False and payload["config"] == "holds"
    assert status[layout.PREDICTIONS] == "changed" and status[layout.BEST] == "missing"
    assert status[layout.MODEL] == "holds"
    text = run_cli("verify", str(run))
    assert text.exit_code == 1 and text.stderr.startswith("Error: ")
    assert "CHANGED" in text.stdout and f"{layout.PREDICTIONS} (evaluate)" in text.stdout


def test_a_run_without_a_record_is_read_with_a_notice(run: Path):
    (run / layout.INTEGRITY).unlink()
    with open(run / layout.SPLITS_CSV, "a") as fh:
        fh.write("\n")  # nothing to hold it against
    redone = run_cli("resume", str(run), "--from", "report")
    assert redone.exit_code == 0, redone.stderr
    assert "Notice:" in redone.stderr and "not checked" in redone.stderr
    assert run_cli("report", str(run)).exit_code == 0
    verified = run_cli("verify", str(run))
    assert verified.exit_code == 1 and f"no {layout.INTEGRITY}" in verified.stderr


def test_a_changed_exported_model_is_refused_by_score(run: Path, tmp_path: Path):
    exported = run_cli("export", str(run), "--onnx", "--json")
    assert exported.exit_code == 0, exported.stderr
    record = json.loads((run / layout.INTEGRITY).read_text())["files"]
    assert record[layout.ONNX]["stage"] == "export" and layout.EXPORT_REPORT in record
    image = split_json(run)["assignment"]["test"][0]["path"]
    assert run_cli("score", str(run / layout.ONNX), image).exit_code == 0
    with open(run / layout.ONNX, "ab") as fh:
        fh.write(b"\0")
    text = refused(run_cli("score", str(run / layout.ONNX), image), layout.ONNX)
    assert f"bamnet resume {run} --from export" in text
    elsewhere = tmp_path / "copied.onnx"  # a model outside a run folder is not checked
    shutil.copyfile(run / layout.ONNX, elsewhere)
    assert "not what" not in run_cli("score", str(elsewhere), image).stderr


# -- the pseudonym key ---------------------------------------------------------------------


def test_the_run_records_the_keys_fingerprint_never_the_key(run: Path):
    from bamnet_core.contract.pseudonyms import key_fingerprint

    text = (run / layout.INTEGRITY).read_text()
    assert KEY not in text
    recorded = json.loads(text)["pseudonym_key"]
    assert recorded == {"fingerprint": key_fingerprint(KEY.encode()),
                        "origin": "BAMNET_PSEUDONYM_KEY"}


def test_evaluate_with_another_key_is_refused(run: Path, other_data: Path, monkeypatch):
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", OTHER_KEY)
    result = run_cli("evaluate", str(run), "--data", str(other_data))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the pseudonym key differs")
    assert "BAMNET_PSEUDONYM_KEY" in result.stderr and OTHER_KEY not in result.stderr
    assert not (run / layout.EXTERNAL).exists()


def test_evaluate_without_the_key_is_refused_and_no_key_is_made(run: Path, other_data: Path,
                                                                monkeypatch):
    from bamnet_core.contract.pseudonyms import key_file

    monkeypatch.delenv("BAMNET_PSEUDONYM_KEY")
    result = run_cli("evaluate", str(run), "--data", str(other_data))
    assert result.exit_code == 1
    assert "is missing" in result.stderr and "BAMNET_PSEUDONYM_KEY" in result.stderr
    assert not key_file().exists()  # never made anew behind the user's back


def test_resume_with_another_key_is_a_notice_when_the_split_is_kept(run: Path, monkeypatch):
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", OTHER_KEY)
    result = run_cli("resume", str(run), "--from", "report")
    assert result.exit_code == 0, result.stderr
    assert "Notice: the pseudonym key differs" in result.stderr
    verified = json.loads(run_cli("verify", str(run), "--json").stdout)
    assert verified["pseudonym_key"]["status"] == "changed" and verified["ok"] is False


def test_resume_without_the_key_is_refused_even_when_the_split_is_kept(run: Path, monkeypatch):
    from bamnet_core.contract.pseudonyms import key_file

    monkeypatch.delenv("BAMNET_PSEUDONYM_KEY")
    result = run_cli("resume", str(run), "--from", "export")
    assert result.exit_code == 1 and "is missing" in result.stderr
    assert not key_file().exists()
    redacted = run_cli("report", str(run), "--redact")
    assert redacted.exit_code == 1 and "is missing" in redacted.stderr
    assert not key_file().exists() and not (run / layout.SHAREABLE).exists()


def test_resume_with_another_key_is_refused_when_the_data_is_listed_again(run: Path,
                                                                          monkeypatch):
    meta = json.loads((run / layout.META).read_text())
    meta["stages"] = {}  # killed before the data stage finished
    meta["status"] = "interrupted"
    (run / layout.META).write_text(json.dumps(meta))
    monkeypatch.delenv("BAMNET_PSEUDONYM_KEY")
    missing = run_cli("resume", str(run))
    assert missing.exit_code == 1 and "is missing" in missing.stderr
    monkeypatch.setenv("BAMNET_PSEUDONYM_KEY", OTHER_KEY)
    other = run_cli("resume", str(run))
    assert other.exit_code == 1 and "listed again" in other.stderr
    assert "BAMNET_PSEUDONYM_KEY" in other.stderr


# -- the pieces ----------------------------------------------------------------------------


def test_a_config_that_resolves_differently_is_refused(run: Path):
    from bamnet_core.errors import RunError
    from bamnet_core.runs.folder import RunFolder
    from bamnet_core.runs.integrity import refuse_changed_config

    folder = RunFolder(run)
    text = (run / layout.CONFIG).read_text()
    refuse_changed_config(folder, folder.read_record(), text)
    with pytest.raises(RunError, match="no longer resolves"):
        refuse_changed_config(folder, folder.read_record(), text + "\n[extra]\n")


def test_a_file_is_hashed_in_chunks_and_a_fifo_is_not_waited_on(tmp_path: Path):
    import hashlib
    import os

    from bamnet_core._util.digest import CHUNK, file_digest

    data = os.urandom(3 * CHUNK + 17)
    (tmp_path / "big.bin").write_bytes(data)
    assert file_digest(tmp_path / "big.bin") == (hashlib.sha256(data).hexdigest(), len(data))
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OSError, match="not a regular file"):
        file_digest(tmp_path / "fifo")
