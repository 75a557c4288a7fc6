"""Every shell command in the docs is run here, or listed with the reason it cannot be.

:data:`COVERAGE` names each documented command (:attr:`DocCommand.key`) and how it is covered:

- :class:`Run`: run by ``bash`` in a temp folder, as written except for the placeholders in its
  ``subs`` (``<stamp>``, ``DIR``, ``/data/xrays``: replaced by what the test made) and the flags
  in ``add`` (each with its reason in ``why``). The folder holds ``manifest.csv``: phantom
  images drawn here, 2 per patient, in two site folders (so ``data.path=manifest.csv`` works as
  written), and ``kermany/chest_xray/`` in Kermany's layout. ``bamnet`` and ``python`` on
  ``PATH`` are this checkout. ``slow`` ones run in full only under ``-m slow`` (``nox -s
  docs``, ``nox -s slow``); the fast suite runs their ``fast`` variant (``--until audit``,
  fewer epochs).
- :class:`Allowed`: not runnable here (a network, a cluster, an install into this environment),
  with the reason; ``check`` is run instead where something can be checked (the same config
  resolved and validated with ``bamnet presets show NAME --resolved --set ...``).

A documented command in neither fails :func:`test_every_documented_command_is_covered`.
"""

from __future__ import annotations

import http.server
import io
import os
import re
import shutil
import socketserver
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from doc_commands import ROOT, documented_commands, untagged_fences


@dataclass(frozen=True)
class Run:
    """Run by a test.

    :param expect: a regex the output (stdout and stderr) must match.
    :param subs: placeholder -> replacement, with ``{name}`` from what the test made.
    :param add: flags appended in every mode, for the reason in ``why``.
    :param fast: flags appended in the fast suite ("": run as written there; None: not run
        there), for the reason in ``why``.
    :param fast_expect: what ``fast`` prints instead of ``expect``, if it differs.
    :param slow: also run it in full (with ``add``) under ``-m slow``.
    :param files: paths (after ``subs``) that must exist afterwards.
    :param needs: a fixture giving ``{name}`` values this command uses (a run folder).
    :param fixture: the fast suite runs it inside this fixture, because others need its result.
    :param slow_fixture: the same, under ``-m slow``.
    """

    expect: str
    subs: dict[str, str] = field(default_factory=dict)
    add: str = ""
    fast: str | None = ""
    fast_expect: str | None = None
    slow: bool = False
    why: str = ""
    files: tuple[str, ...] = ()
    needs: str | None = None
    fixture: str | None = None
    slow_fixture: str | None = None


@dataclass(frozen=True)
class Allowed:
    """Not run: ``why``. ``check`` (with ``expect``) is run instead, when not None."""

    why: str
    check: str | None = None
    expect: str = ""


TLS_SETUP = ("a TLS setup with a private CA for a DICOM node that runs until stopped; "
             "tests/test_listen.py makes the same certificates and sends over TLS to "
             "`bamnet listen --tls-cert --tls-key --tls-ca`")
SYSTEMD = "manages a system service (systemd, root); not on a test machine"

#: Flags that make a quickstart run take seconds: fewer, smaller phantoms, a one-epoch tiny GAN
#: and one training epoch.
QUICK = ("--set data.patients_per_class=16 --set data.positive_patients=11 --set data.size=64 "
         "--set preprocess.size=32 --set train.epochs=1 --set generator.epochs=1 "
         "--set generator.size=16 --set generator.batch_size=4 --set generator.g_filters=4 "
         "--set generator.d_filters=4 --set generator.min_images=4")
#: The paper presets on the phantom manifest: small images, a 2-epoch GAN, one training epoch.
PAPER_SHORT = ("--set preprocess.size=32 --set generator.epochs=2 --set generator.size=32 "
               "--set generator.sample_every=1 --set train.epochs=1")
NO_WEIGHTS = "--set backbone.weights=none "
#: bamnet loso holds out each phantom site: one leaves too few covid images for the GAN's floor.
LOSO_SHORT = PAPER_SHORT + " --set generator.min_images=2"
PAPER_WHY = ("no real data set or ImageNet weights here; on the phantom manifest the full "
             "protocol (1000 GAN epochs, 50 epochs of VGG16 at 224 px) would take hours on CPU. "
             "The fast suite stops after the audit (config, data, split and audit checked)")
UNTIL_AUDIT = "--until audit"
STOPPED_AUDIT = r"Stopped after stage audit"
RUN_FOLDER = r"Run folder: runs/\S+-{name}\b"

# The keys quote the docs word for word, run-folder names included (model.onnx, report.html):
# this file checks the docs, so its literals are the point (tests/test_layout_names.py).
COVERAGE: dict[str, Run | Allowed] = {
    # README.md
    "python3 -m venv .venv && . .venv/bin/activate && pip install . && bamnet run quickstart":
        Allowed("creates a virtualenv and installs bamnet's dependencies from PyPI (network): "
                "`nox -s quickstart` does exactly that; `bamnet run quickstart` itself is run "
                "below (docs/export-and-scoring.md)"),
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest":
        Allowed("creates a virtualenv, installs from PyPI and runs the whole suite: that is "
                "`nox -s tests`"),
    "bamnet presets list": Run(r"paper-config-fixed(.|\n)*quickstart-gan"),
    "bamnet presets show quickstart --resolved": Run(r'source = "synthetic-cxr"'),
    "bamnet run quickstart --seed 7": Run(
        RUN_FOLDER.format(name="quickstart"), fast=None, slow=True,
        why="about a minute on 2 cores; the fast suite runs `bamnet run quickstart` shortened"),
    "bamnet run paper-config --data manifest.csv --set 'backbone={name = \"small-cnn\"}'":
        Run(RUN_FOLDER.format(name="paper-config"), add=PAPER_SHORT, fast=UNTIL_AUDIT,
            fast_expect=STOPPED_AUDIT, slow=True, why=PAPER_WHY),
    "bamnet run my-experiment.toml --output-dir runs --json": Run(
        r'"metrics"', files=("runs",),
        why="my-experiment.toml is the user's config: the test writes a tiny one"),
    "bamnet ablate quickstart-gan": Run(
        r"Ablation folder: ", fast=None, slow=True,
        why="two runs of a few minutes each; tests/test_ablation.py checks `bamnet ablate` on a "
            "tiny config in the fast suite"),
    "bamnet plugins --all": Run(r"bamnet_paper|paper"),
    "bamnet install bamnet-something":
        Allowed("installs a package from PyPI into this environment (network; it would change "
                "the test environment); tests/test_install.py checks the pip call it makes"),
    "bamnet plugins new my-net --kind backbone": Run(
        r"bamnet-my-net", files=("bamnet-my-net/pyproject.toml",), fixture="plugin_block"),
    # docs/data.md
    "bamnet data inspect /path/to/manifest.csv": Run(
        r"source 'manifest-csv', 64 images", subs={"/path/to/manifest.csv": "{data}/manifest.csv"}),
    "bamnet data inspect DIR --source kermany-cxr": Run(
        r"source 'kermany-cxr', 8 images", subs={"DIR": "{data}/kermany"}),
    "bamnet data inspect DIR --option source_from=prefix --json": Run(
        r'"site-a"', subs={"DIR": "{data}"}),  # the source column says hospital-a
    "bamnet data fetch cohen-covid --dest ~/data": Run(
        r"covid-chestxray-dataset-master", add="--url {url}",
        why="no internet here: a local HTTP server serves an archive of the same layout",
        files=("{home}/data/covid-chestxray-dataset-master/metadata.csv",)),
    # docs/dicom.md, docs/patient-data.md
    "python benchmarks/dicom_codecs.py":
        Allowed("a benchmark that prints the codec table; tests/test_dicom_decoding.py decodes "
                "the same transfer syntaxes and photometric interpretations, made in code"),
    "bamnet data inspect /pacs/export/cxr":
        Allowed("the user's PACS export; tests/test_dicom_source.py runs `bamnet data inspect` "
                "on a DICOM folder made in code and checks it is detected as `dicom`"),
    "bamnet score model.onnx /pacs/export/cxr -o scores.csv":
        Allowed("the user's PACS export and model; tests/test_dicom_uids.py scores a DICOM "
                "folder made in code and checks the UID columns in CSV and JSON Lines"),
    "bamnet report runs/<stamp>-dicom --redact":
        Allowed("needs a run on a DICOM folder; tests/test_dicom_run.py makes one in code and "
                "runs `bamnet report RUN --redact` on it, then greps every file it writes"),
    # docs/hospital.md
    "bamnet score model.onnx /pacs/export/cxr -o scores.csv --sr results-sr":
        Allowed("the user's PACS export and model; tests/test_score_sr.py runs `bamnet score "
                "--sr` on DICOM files made in code and reads every SR back with highdicom"),
    "bamnet listen model.onnx -o scores.csv --port 11112 --ae-title BAMNET --allow MODALITY1 "
    "--allow PACS1 --send-sr PACS1@10.0.0.5:104":
        Allowed("a DICOM node that runs until stopped, beside a PACS; tests/test_listen.py "
                "starts `bamnet listen` as a process on 127.0.0.1, sends it images and receives "
                "its SRs"),
    "openssl req -x509 -newkey rsa:3072 -nodes -days 365 -subj /CN=bamnet-test-ca -keyout "
    "ca.key -out ca.pem": Allowed(TLS_SETUP),
    "openssl req -newkey rsa:3072 -nodes -subj /CN=bamnet.example.org -keyout node.key -out "
    "node.csr": Allowed(TLS_SETUP),
    "openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -out "
    "node.pem": Allowed(TLS_SETUP),
    "bamnet listen model.onnx -o scores.csv --port 2762 --ae-title BAMNET --allow PACS1 "
    "--tls-cert node.pem --tls-key node.key --tls-ca ca.pem": Allowed(TLS_SETUP),
    "sudo systemctl enable --now bamnet-listen": Allowed(SYSTEMD),
    "systemctl status bamnet-listen": Allowed(SYSTEMD),
    "journalctl -u bamnet-listen -f": Allowed(SYSTEMD),
    "sudo systemctl stop bamnet-listen": Allowed(SYSTEMD),
    # docs/reporting.md
    "bamnet report runs/<stamp>-paper-config-fixed --checklist claim --checklist tripod-ai "
    "--model-card chai":
        Allowed("needs the real-data run; tests/test_report_standards.py runs `bamnet report "
                "RUN --checklist claim --checklist tripod-ai --model-card chai` on the quickstart "
                "and checks every item, its evidence and the card against the schema"),
    "bamnet report runs/<stamp>-paper-config-fixed --redact --checklist claim --model-card chai":
        Allowed("needs the real-data run; tests/test_report_standards.py runs it with --redact "
                "on the quickstart and checks no identifier the shareable report hides leaks"),
    "bamnet run paper-config-fixed --data ../shared/data/cxr-public/manifest.csv --set "
    "'backbone={name = \"small-cnn\"}' --set preprocess.size=128 --set train.epochs=3 --set "
    "generator.epochs=100 --output-dir runs":
        Allowed("the public chest X-rays are not in the test environment; the same preset "
                "runs on the phantom manifest above (bamnet run paper-config-fixed --data "
                "manifest.csv)", check="bamnet presets show paper-config-fixed --resolved "
                "--set 'backbone={name = \"small-cnn\"}' --set preprocess.size=128 "
                "--set train.epochs=3 --set generator.epochs=100", expect=r"small-cnn"),
    # docs/export-and-scoring.md (its run folder is resumed by docs/training.md's bamnet resume)
    "bamnet run quickstart": Run(
        RUN_FOLDER.format(name="quickstart"), slow=True, fast=f"{QUICK} --until train",
        fast_expect=r"Stopped after stage train", fixture="stopped_run",
        slow_fixture="full_quickstart",
        why="the fast suite's run folder for export, score, bamnet resume and load_model: one "
            "epoch on fewer, smaller phantoms, stopped after training (bamnet resume finishes "
            "it)"),
    "bamnet export runs/<stamp>-quickstart --onnx --int8": Run(
        r"model\.int8\.onnx", subs={"runs/<stamp>-quickstart": "{run}"}, fixture="exported_run",
        files=("{run}/model.int8.onnx",), fast="--allow-degraded", slow=True,
        slow_fixture="full_quickstart",
        why="the fast suite's one-epoch model sits near 0.5, where int8 flips labels and the "
            "gate rightly refuses it; in full it runs as written on the full quickstart"),
    "bamnet score runs/<stamp>-quickstart/model.int8.onnx /data/xrays -o scores.csv": Run(
        r"Scored \d+ images",
        subs={"runs/<stamp>-quickstart": "{run}", "/data/xrays": "{data}/site-a"},
        files=("scores.csv",), needs="exported_run", slow=True, slow_fixture="full_quickstart"),
    # docs/paper.md and docs/generator.md
    "bamnet data inspect manifest.csv": Run(r"source 'manifest-csv', 64 images"),
    "bamnet run paper-config --data manifest.csv": Run(
        RUN_FOLDER.format(name="paper-config"), add=NO_WEIGHTS + PAPER_SHORT, fast=UNTIL_AUDIT,
        fast_expect=STOPPED_AUDIT, slow=True, slow_fixture="paper_runs", why=PAPER_WHY),
    "bamnet run paper-config-fixed --data manifest.csv": Run(
        RUN_FOLDER.format(name="paper-config-fixed"), add=NO_WEIGHTS + PAPER_SHORT,
        fast=UNTIL_AUDIT, fast_expect=STOPPED_AUDIT, slow=True, slow_fixture="paper_runs",
        why=PAPER_WHY),
    "BAMNET_DATA=~/data bamnet run paper-config":
        Allowed("needs the three public datasets (several GB, network) and the ImageNet weights; "
                "tests/test_run_inputs.py runs paper-config on tiny copies of their layouts in "
                "BAMNET_DATA; the check resolves the preset's three sources",
                check="bamnet presets show paper-config --resolved",
                expect=r'source = "kermany-cxr"'),
    "bamnet loso paper-config-fixed --data manifest.csv": Run(
        r"LOSO folder: ", add=NO_WEIGHTS + LOSO_SHORT, fast=None, slow=True,
        why=PAPER_WHY + "; bamnet loso retrains once per source and takes no --until: "
                        "tests/test_loso.py checks it on a tiny config in the fast suite"),
    "bamnet loso paper-config-fixed --data /data/cxr/manifest.csv": Run(
        r"LOSO folder: ", add=NO_WEIGHTS + LOSO_SHORT, fast=None, slow=True,
        subs={"/data/cxr/manifest.csv": "{data}/manifest.csv"},
        why=PAPER_WHY + "; bamnet loso retrains once per source and takes no --until: "
                        "tests/test_loso.py checks it on a tiny config in the fast suite"),
    "bamnet compare runs/*-paper-config runs/*-paper-config-fixed": Run(
        r"compare\.html", files=("compare.html",), fast=None, slow=True,
        slow_fixture="paper_runs", why="compares the two paper runs above, which are slow"),
    "bamnet ablate paper-config-fixed --data manifest.csv": Run(
        r"Ablation folder: ", add=NO_WEIGHTS + PAPER_SHORT, fast=None, slow=True,
        why=PAPER_WHY + "; bamnet ablate takes no --until: the same config through bamnet run "
                        "is the fast check"),
    # docs/plugins/guide.md, after `bamnet plugins new NAME`
    "cd bamnet-NAME": Run(r"", subs={"NAME": "my-net"}, fixture="plugin_block"),
    "pip install -e '.[test]' && pytest":
        Allowed("installs the new plugin into this environment; `nox -s plugin_smoke` installs "
                "a template as a wheel and runs its tests, tests/test_plugin_template.py runs "
                "them from the source folder"),
    "bamnet plugins": Run(r"No third-party plugins loaded", fixture="plugin_block",
                          why="lists installed plugins: none here (the new one is not installed)"),
    "bamnet run NAME":
        Allowed("needs the new plugin installed (entry points): `nox -s plugin_smoke` runs "
                "`bamnet run demo` from an installed template"),
    "python -m pip wheel --no-deps . -w dist":
        Allowed("pip's build isolation downloads setuptools (network); `nox -s plugin_smoke` "
                "builds the template and the example plugin as wheels"),
    # docs/scoring-at-scale.md
    "pip install 'bamnet[distributed]'":
        Allowed("installs Ray from PyPI (network); the test environment has the extra"),
    "bamnet score model.int8.onnx /data/xrays -o scores.csv --engine ray --workers 2": Run(
        r"Scored \d+ images",
        subs={"model.int8.onnx": "{tiny_onnx}", "/data/xrays": "{data}/site-a"},
        files=("scores.csv",), fast=None, slow=True,
        why="starting a local Ray takes tens of seconds; model.int8.onnx is a tiny ONNX model"),
    "ray start --head --port=6379 --num-cpus=16":
        Allowed("starts a Ray cluster's head node (several machines)"),
    "ray start --address=HEAD_IP:6379":
        Allowed("joins a Ray cluster: needs a head node on another machine"),
    "bamnet score model.onnx /shared/xrays -o /shared/out/scores.csv --engine ray "
    "--address HEAD_IP:6379 --workers 8":
        Allowed("needs a Ray cluster and a shared folder; the local-Ray form above is run"),
    "ray stop": Allowed("stops a Ray cluster's node (several machines)"),
    "ray get-auth-token": Allowed("prints a head node's token; tests/test_ray_cluster.py runs "
                                  "the token recipe against a real ray start --head"),
    "export RAY_AUTH_MODE=token RAY_AUTH_TOKEN=<that token>":
        Allowed("sets the token on a client machine; tests/test_ray_cluster.py passes a token "
                "through these variables"),
    "bamnet score model.onnx /shared/xrays -o scores.csv --engine ray --address HEAD_IP:6379":
        Allowed("needs a head node on another machine; tests/test_ray_cluster.py runs it "
                "against a local ray start --head"),
    "bamnet score model.onnx s3://my-bucket/xrays/2024/ -o scores.csv --engine ray "
    "--address HEAD:6379": Allowed("needs an S3 bucket and a Ray cluster"),
    # docs/training.md
    "bamnet run paper-config --data manifest.csv --set "
    "backbone.weights=/data/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5":
        Allowed("needs the 58 MB ImageNet weights file (network); tests/test_vgg16_backbone.py "
                "checks how it is found and verified; the check resolves and validates the rest",
                check="bamnet presets show paper-config --resolved",
                expect=r'head = "paper-best"'),
    "bamnet run paper-config --data manifest.csv --set backbone.weights=none "
    "--set preprocess.scaling=unit": Run(
        RUN_FOLDER.format(name="paper-config"), add=PAPER_SHORT, fast=UNTIL_AUDIT,
        fast_expect=STOPPED_AUDIT, slow=True, why=PAPER_WHY),
    "bamnet resume runs/20250101-120000-paper-config": Run(
        r"Run folder: ", subs={"runs/20250101-120000-paper-config": "{run}"},
        needs="stopped_run", fixture="resumed_run",
        files=("{run}/metrics.json", "{run}/report.html"),
        why="the run folder is the fast suite's quickstart, stopped after training"),
    "pip install 'bamnet[jax]'":
        Allowed("installs JAX from PyPI (network); the test environment has the extra"),
    "KERAS_BACKEND=jax bamnet run quickstart":
        Allowed("tests/test_backends.py runs the quickstart on JAX (shortened) in a process that "
                "cannot import TensorFlow, and in full with -m slow; the check resolves it",
                check="bamnet presets show quickstart --resolved", expect=r'name = "dcgan"'),
    "KERAS_BACKEND=torch bamnet run paper-config-fixed --data manifest.csv "
    "--set backbone.weights=none":
        Allowed("needs PyTorch (nox -s torch runs the quickstart on it); the check resolves and "
                "validates the config",
                check="bamnet presets show paper-config-fixed --resolved "
                      "--set backbone.weights=none",
                expect=r'weights = "none"'),
    # docs/multi-worker.md
    **{f'export TF_CONFIG=\'{{"cluster": {{"worker": ["host1:12345", "host2:12345"]}}, "task": '
       f'{{"type": "worker", "index": {i}}}}}\'':
       Allowed("names two machines; tests/test_multi_worker.py runs two workers with TF_CONFIG "
               "on one machine; the check parses the value",
               check="python -c 'import json, sys; print(json.loads(sys.argv[1])[\"task\"])' "
                     "'{\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, "
                     f"\"task\": {{\"type\": \"worker\", \"index\": {i}}}}}'",
               expect=f"'index': {i}")
       for i in (0, 1)},
    "bamnet run my-config.toml -o runs":
        Allowed("one worker of a two-machine run (TF_CONFIG set): tests/test_multi_worker.py "
                "runs two such workers on one machine"),
}


# --- what the commands run against -------------------------------------------------------


def write_phantoms(root: Path) -> None:
    """``root/manifest.csv`` (64 images: 20 normal and 12 covid patients, 2 images each, in
    ``site-a/`` and ``site-b/``, named ``site-a__...``; the ``source`` column says
    ``hospital-a``), ``kermany/chest_xray/`` (Kermany's layout, 8 images) and
    ``my-experiment.toml`` (a config that trains in seconds)."""
    import cv2
    import numpy as np
    from bamnet_testing import TINY_CONFIG

    from bamnet_paper.phantoms import draw, jitter, random_anatomy

    rng = np.random.default_rng(0)
    rows = ["path,label,patient_id,source"]
    for i in range(32):
        label = "covid" if i % 8 < 3 else "normal"
        site = "site-a" if i % 2 else "site-b"
        anatomy = random_anatomy(rng, positive=label == "covid", opacity=1.0)
        first = draw(anatomy, rng, size=64)
        for k, image in enumerate((first, jitter(first, rng))):
            rel = f"{site}/{site}__p{i:02d}-{k}.png"
            (root / site).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / rel), image)
            rows.append(f"{rel},{label},p{i:02d},hospital-{site[-1]}")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    for folder, names in (("NORMAL", ["IM-0001-0001", "IM-0001-0002", "IM-0002-0001",
                                      "IM-0002-0002"]),
                          ("PNEUMONIA", ["person1_virus_1", "person1_virus_2",
                                         "person2_bacteria_3", "person2_bacteria_4"])):
        target = root / "kermany" / "chest_xray" / "train" / folder
        target.mkdir(parents=True)
        for name in names:
            anatomy = random_anatomy(rng, positive=folder != "NORMAL", opacity=1.0)
            cv2.imwrite(str(target / f"{name}.png"), draw(anatomy, rng, size=64))
    (root / "my-experiment.toml").write_text(TINY_CONFIG, encoding="utf-8")


def cohen_archive() -> bytes:
    """A zip laid out like the cohen-covid GitHub archive, with two small images."""
    import cv2
    import numpy as np

    from bamnet_paper.phantoms import draw, random_anatomy

    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    top = "covid-chestxray-dataset-master"
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{top}/metadata.csv", "patientid,finding,view,modality,filename\n"
                    "1,Pneumonia/Viral/COVID-19,PA,X-ray,a.png\n1,No Finding,PA,X-ray,b.png\n")
        for name in ("a.png", "b.png"):
            ok, png = cv2.imencode(".png", draw(random_anatomy(rng, positive=True, opacity=1.0),
                                                rng, size=64))
            zf.writestr(f"{top}/images/{name}", png.tobytes())
    return buf.getvalue()


@dataclass
class DocEnv:
    """The shell environment and the ``{name}`` values the commands' placeholders take."""

    env: dict[str, str]
    template: Path
    values: dict[str, str]

    def workdir(self, tmp: Path) -> Path:
        """A fresh working folder: the phantom data set, ``my-experiment.toml``."""
        shutil.copytree(self.template, tmp, dirs_exist_ok=True)
        return tmp


@dataclass
class Result:
    key: str
    command: str
    code: int
    output: str
    cwd: Path


@pytest.fixture(scope="module")
def doc_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocEnv]:
    base = tmp_path_factory.mktemp("doc-commands")
    bin_dir = base / "bin"
    bin_dir.mkdir()
    for name, line in (("bamnet", f'exec "{sys.executable}" -m bamnet_core "$@"'),
                       ("python", f'exec "{sys.executable}" "$@"')):
        shim = bin_dir / name
        shim.write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
        shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    home = base / "home"
    home.mkdir()
    template = base / "data"
    template.mkdir()
    write_phantoms(template)
    from onnx_fixtures import write_tiny_model

    tiny = write_tiny_model(base / "model.int8.onnx", size=16)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("BAMNET_", "PYTEST_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", HOME=str(home),
               PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
               BAMNET_CACHE_DIR=str(tmp_path_factory.getbasetemp() / "bamnet-cache"),
               BAMNET_LOAD_PLUGINS="", BAMNET_OFFLINE="1", COLUMNS="200",
               KERAS_BACKEND="tensorflow")
    payload = cohen_archive()

    class Archive(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            """Silence the server."""

    server = socketserver.TCPServer(("127.0.0.1", 0), Archive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    values = {"home": str(home), "tiny_onnx": str(tiny),
              "url": f"http://127.0.0.1:{server.server_address[1]}/master.zip"}
    try:
        yield DocEnv(env, template, values)
    finally:
        server.shutdown()
        server.server_close()


def command_for(key: str, values: dict[str, str], *, fast: bool) -> str:
    """The command as the test runs it: placeholders replaced, the mapped flags added."""
    entry = COVERAGE[key]
    assert isinstance(entry, Run)
    text = key
    for placeholder, replacement in entry.subs.items():
        assert placeholder in text, (key, placeholder)
        text = text.replace(placeholder, replacement.format(**values))
    flags = [entry.add, entry.fast if fast else ""]
    extra = " ".join(f.format(**values) for f in flags if f)
    return f"{text} {extra}".rstrip()


def run_doc(doc_env: DocEnv, key: str, cwd: Path, *, fast: bool,
            values: dict[str, str] | None = None) -> Result:
    """Run one documented command with ``bash`` in ``cwd``; check it as its entry says."""
    values = {**doc_env.values, "data": str(cwd), **(values or {})}
    command = command_for(key, values, fast=fast)
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=doc_env.env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=3600, check=False)
    result = Result(key, command, done.returncode, done.stdout, cwd)
    check(result, values, fast=fast)
    return result


def check(result: Result, values: dict[str, str], *, fast: bool) -> None:
    entry = COVERAGE[result.key]
    assert isinstance(entry, Run)
    tail = result.output[-4000:]
    assert result.code == 0, f"`{result.command}` exited {result.code}:\n{tail}"
    expect = entry.fast_expect if fast and entry.fast_expect is not None else entry.expect
    assert re.search(expect, result.output, flags=re.M), \
        f"`{result.command}` printed no {expect!r}:\n{tail}"
    for name in entry.files:
        path = Path(name.format(**values))
        assert (result.cwd / path).exists(), f"`{result.command}` made no {path}"


def only_run_dir(parent: Path) -> Path:
    (found,) = [p for p in (parent / "runs").iterdir() if p.is_dir()]
    return found


# --- fixtures: commands whose results other commands use ----------------------------------


@pytest.fixture(scope="module")
def stopped_run(doc_env: DocEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """export-and-scoring.md's `bamnet run quickstart`, shortened, stopped after training."""
    cwd = doc_env.workdir(tmp_path_factory.mktemp("quickstart"))
    result = run_doc(doc_env, "bamnet run quickstart", cwd, fast=True)
    return {"results": {result.key: result}, "values": {"run": str(only_run_dir(cwd))}}


@pytest.fixture(scope="module")
def resumed_run(doc_env: DocEnv, stopped_run: dict,
                tmp_path_factory: pytest.TempPathFactory) -> dict:
    """training.md's bamnet resume, on a copy of that run folder: it finishes the run."""
    cwd = doc_env.workdir(tmp_path_factory.mktemp("resume"))
    run = cwd / "runs" / Path(stopped_run["values"]["run"]).name
    shutil.copytree(stopped_run["values"]["run"], run)
    values = {"run": str(run)}
    result = run_doc(doc_env, "bamnet resume runs/20250101-120000-paper-config", cwd,
                     fast=True, values=values)
    return {"results": {result.key: result}, "values": values}


@pytest.fixture(scope="module")
def exported_run(doc_env: DocEnv, resumed_run: dict) -> dict:
    """export-and-scoring.md's export, on the finished run folder."""
    values = resumed_run["values"]
    cwd = Path(values["run"]).parents[1]
    result = run_doc(doc_env, "bamnet export runs/<stamp>-quickstart --onnx --int8", cwd,
                     fast=True, values=values)
    return {"results": {result.key: result}, "values": values}


@pytest.fixture(scope="module")
def full_quickstart(doc_env: DocEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """export-and-scoring.md's three commands as written, in order, in one folder."""
    cwd = doc_env.workdir(tmp_path_factory.mktemp("full-quickstart"))
    results = {}
    first = run_doc(doc_env, "bamnet run quickstart", cwd, fast=False)
    values = {"run": str(only_run_dir(cwd))}
    results[first.key] = first
    for key in ("bamnet export runs/<stamp>-quickstart --onnx --int8",
                "bamnet score runs/<stamp>-quickstart/model.int8.onnx /data/xrays -o scores.csv"):
        results[key] = run_doc(doc_env, key, cwd, fast=False, values=values)
    return {"results": results, "values": values}


@pytest.fixture(scope="module")
def plugin_block(doc_env: DocEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """README's `bamnet plugins new my-net`, then guide.md's `cd bamnet-NAME` and `bamnet
    plugins` in the folder it wrote."""
    cwd = doc_env.workdir(tmp_path_factory.mktemp("plugin"))
    results = {}
    for key, where in (("bamnet plugins new my-net --kind backbone", cwd),
                       ("cd bamnet-NAME", cwd), ("bamnet plugins", cwd / "bamnet-my-net")):
        results[key] = run_doc(doc_env, key, where, fast=True)
    return {"results": results, "values": {}}


@pytest.fixture(scope="module")
def paper_runs(doc_env: DocEnv, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """paper.md's two runs (shortened) and the comparison of their folders, in one folder."""
    cwd = doc_env.workdir(tmp_path_factory.mktemp("paper"))
    results = {}
    for key in ("bamnet run paper-config --data manifest.csv",
                "bamnet run paper-config-fixed --data manifest.csv",
                "bamnet compare runs/*-paper-config runs/*-paper-config-fixed"):
        results[key] = run_doc(doc_env, key, cwd, fast=False)
    return {"results": results, "values": {}}


# --- the tests ----------------------------------------------------------------------------


def test_every_documented_command_is_covered():
    documented = {cmd.key: cmd.where for cmd in documented_commands()}
    missing = {key: where for key, where in documented.items() if key not in COVERAGE}
    assert not missing, ("documented commands neither run nor allowlisted in "
                         f"tests/test_doc_commands.py COVERAGE: {missing}")
    stale = set(COVERAGE) - set(documented)
    assert not stale, f"COVERAGE names commands the docs no longer show: {stale}"


def test_every_code_block_says_its_language():
    untagged = [f"{f.file}:{f.line}" for f in untagged_fences()]
    assert not untagged, ("fenced blocks without a language (```text for output, ```bash for "
                          f"commands): {untagged}")


def test_every_shortening_and_allowlisting_says_why():
    for key, entry in COVERAGE.items():
        if isinstance(entry, Allowed) or entry.add or entry.fast != "":
            assert entry.why, f"{key}: say why it is not run as written"


def test_the_extraction_strips_prompts_comments_and_joins_lines(tmp_path: Path):
    from doc_commands import DocCommand, commands_in, fences

    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "x.md"
    page.write_text("```console\n$ bamnet a --x 1   # why\nhead$ bamnet b \\\n    --y 2\n```\n"
                    "```python\nprint(1)\n```\n", encoding="utf-8")
    (shell, python_block) = fences(page, tmp_path)
    assert python_block.language == "python"
    assert commands_in(shell) == [DocCommand("docs/x.md", 2, "bamnet a --x 1   # why"),
                                  DocCommand("docs/x.md", 3, "bamnet b --y 2")]
    assert [c.key for c in commands_in(shell)] == ["bamnet a --x 1", "bamnet b --y 2"]


def _params(*, fast: bool) -> list:
    out = []
    for key, entry in COVERAGE.items():
        if isinstance(entry, Run) and (entry.fast is not None if fast else entry.slow):
            marks = () if fast else (pytest.mark.slow,)
            out.append(pytest.param(key, id=key[:70], marks=marks))
    return out


@pytest.mark.parametrize("key", _params(fast=True))
def test_documented_command_runs(key: str, doc_env: DocEnv, tmp_path: Path,
                                 request: pytest.FixtureRequest):
    entry = COVERAGE[key]
    assert isinstance(entry, Run)
    if entry.fixture:  # run inside it, checked there; here: that it ran
        made = request.getfixturevalue(entry.fixture)
        assert made["results"][key].code == 0
        return
    values = request.getfixturevalue(entry.needs)["values"] if entry.needs else {}
    run_doc(doc_env, key, doc_env.workdir(tmp_path), fast=True, values=values)


@pytest.mark.parametrize("key", _params(fast=False))
def test_documented_command_runs_in_full(key: str, doc_env: DocEnv, tmp_path: Path,
                                         request: pytest.FixtureRequest):
    entry = COVERAGE[key]
    assert isinstance(entry, Run)
    if entry.slow_fixture:
        made = request.getfixturevalue(entry.slow_fixture)
        assert made["results"][key].code == 0
        return
    values = request.getfixturevalue(entry.needs)["values"] if entry.needs else {}
    run_doc(doc_env, key, doc_env.workdir(tmp_path), fast=False, values=values)


@pytest.mark.parametrize("key", [k for k, e in COVERAGE.items()
                                 if isinstance(e, Allowed) and e.check])
def test_allowlisted_command_is_checked(key: str, doc_env: DocEnv, tmp_path: Path):
    entry = COVERAGE[key]
    assert isinstance(entry, Allowed) and entry.check
    done = subprocess.run(["bash", "-c", entry.check], cwd=doc_env.workdir(tmp_path),
                          env=doc_env.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"`{entry.check}` exited {done.returncode}:\n{done.stdout}"
    assert re.search(entry.expect, done.stdout), (entry.expect, done.stdout[-3000:])
