"""Stage records: what a resumed run reads back is what the stage wrote."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bamnet_core.contract import Sample, hookimpl
from bamnet_core.experiment import stage_records as records
from bamnet_core.imaging.properties import pixels_of
from bamnet_core.runs import layout
from bamnet_core.runs.files import MetaFile
from bamnet_core.runs.folder import RunFolder


def test_properties_round_trip_with_nan_and_infinity_as_standard_json(tmp_path: Path):
    run = RunFolder(tmp_path)
    (tmp_path / layout.AUDIT).write_text(json.dumps({"warnings": ["a", "b"]}))
    image = str(tmp_path.parent / "data" / "x.png")  # original data: absolute and canonical
    records.save_properties(run, {image: {"mean": math.nan, "aspect": math.inf,
                                            "width": 4, "format": "png",
                                            "pixels": pixels_of("anatomical")}})
    text = (tmp_path / layout.PROPERTIES).read_text()
    assert "NaN" not in text and "Infinity" not in text  # standard JSON for other tools
    report, props = records.load_audit(run)
    assert report.warnings == ["a", "b"]
    assert math.isnan(props[image]["mean"]) and math.isnan(props[image]["aspect"])
    assert props[image]["width"] == 4 and props[image]["format"] == "png"
    # pixel statistics read over the whole image (no `pixels`): the audit runs again
    records.save_properties(run, {image: {"mean": 0.5, "width": 4, "format": "png"}})
    assert records.load_audit(run) is None


def test_a_damaged_split_record_is_not_trusted(tmp_path: Path):
    run = RunFolder(tmp_path)
    assert records.load_split(run) is None  # absent
    (tmp_path / layout.SPLIT_JSON).write_text(
        '{"version": 2, "assignment": {"train": [{"nope": 1}]}}')
    assert records.load_split(run) is None  # wrong shape
    (tmp_path / layout.SPLIT_JSON).write_text("[1, 2")
    assert records.load_split(run) is None  # not JSON


class UrlSource:
    """A source reading from a URL: nothing on disk for the input check to look at."""

    def __init__(self, *, path: str = "s3://bucket/xrays/") -> None:
        self.path = path

    def samples(self):
        return [Sample(path="never-read.png", label="normal", patient_id="p", source="s3")]


class UrlPlugin:
    @hookimpl
    def register_dataset_sources(self, register):
        register("url-source", UrlSource)


def test_a_url_is_not_reported_as_a_missing_folder(tmp_path: Path):
    from bamnet_testing import TINY_CONFIG

    from bamnet_core.config.components import check_inputs
    from bamnet_core.config.load import load_config
    from bamnet_core.plugins import load_plugins

    host = load_plugins(extra=(("url-plugin", UrlPlugin()),))
    config = tmp_path / "url.toml"
    config.write_text(TINY_CONFIG.replace('source = "synthetic-cxr"', 'source = "url-source"')
                      .replace("patients_per_class = 12\nmax_images_per_patient = 2\nsize = 48\n",
                               'path = "s3://bucket/xrays/"\n'))
    check_inputs(load_config(str(config), host.registry))  # raises when it thinks it missing


def test_a_fifo_or_folder_in_place_of_a_record_is_not_waited_on(tmp_path: Path):
    import os

    import pytest

    from bamnet_core.errors import RunError

    run = RunFolder(tmp_path)
    os.mkfifo(tmp_path / layout.SPLIT_JSON)  # a reader of a FIFO would wait for a writer
    (tmp_path / layout.AUDIT).mkdir()
    assert records.load_split(run) is None  # the data stage runs again
    assert records.load_audit(run) is None  # and so does the audit
    os.mkfifo(tmp_path / layout.META)
    with pytest.raises(RunError, match="not a regular file"):
        run.read_model(layout.META, MetaFile)
