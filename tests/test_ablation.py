"""``bamnet ablate PRESET``: both variants, same split, side by side."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from bamnet_core.runs import layout

TINY_QUICKSTART_GAN = [
    "data.patients_per_class=12", "data.positive_patients=8", "data.size=48",
    "preprocess.size=32", "backbone.filters=[4, 8]", "backbone.dense=8", "train.epochs=1",
    "train.batch_size=8", "generator.epochs=1", "generator.size=16", "generator.batch_size=4",
    "generator.g_filters=4", "generator.d_filters=4", "generator.min_images=4",
    "generator.ratio=1.0",
]


def _sets(*pairs: str) -> list[str]:
    return [arg for pair in pairs for arg in ("--set", pair)]


def test_the_quickstart_gan_ablation_runs_end_to_end(cli, tmp_path):
    result = cli("ablate", "quickstart-gan", *_sets(*TINY_QUICKSTART_GAN), "-o", str(tmp_path),
                 "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    folder = Path(report["folder"])
    with_dir, without_dir = Path(report["runs"]["with"]), Path(report["runs"]["without"])
    assert with_dir.parent == without_dir.parent == folder
    comparison = json.loads((folder / layout.COMPARISON_JSON).read_text())
    assert comparison["same_held_out_split"] is True
    metrics = {(r["split"], r["metric"]): r for r in comparison["metrics"]}
    with_m = json.loads((with_dir / layout.METRICS).read_text())
    without_m = json.loads((without_dir / layout.METRICS).read_text())
    row = metrics[("val", "accuracy")]
    assert row["with_generator"] == \
        with_m["splits"]["val"]["evaluators"]["classification"]["accuracy"]
    assert row["without_generator"] == \
        without_m["splits"]["val"]["evaluators"]["classification"]["accuracy"]
    assert "generator" in with_m and "generator" not in without_m
    assert with_m["gan_quality"]["gan-quality"]["synthetic_images"] > 0
    assert without_m["gan_quality"]["gan-quality"] == {
        "skipped": "the run made no synthetic images"}
    with open(folder / layout.COMPARISON_CSV, encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(comparison["metrics"])
    report = (with_dir / layout.REPORT).read_text()
    generator = report.split('<section id="generator">', 1)[1].split("</section>", 1)[0]
    assert "FID" in generator and "real vs real" in generator and "<img" in generator
    assert report.count("<h2>Generator</h2>") == 1  # one Generator section, not two
    assert "Outside-the-lungs baseline, test split" in report
    rows = comparison["metrics"]
    assert all("interval_low" in r and "degenerate" in r for r in rows)
    seeds = {json.loads((d / layout.META).read_text())["seed"] for d in (with_dir, without_dir)}
    assert len(seeds) == 1


def test_ablating_a_config_without_a_generator_is_one_error_line(cli, tmp_path):
    result = cli("ablate", "quickstart", "--set", "generator={enabled = false}", "-o",
                 str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.count("Error:") == 1 and "[generator] enabled = true" in result.stderr
    assert not list(tmp_path.iterdir())


def test_ablate_takes_only_the_generator(cli, tmp_path):
    result = cli("ablate", "quickstart-gan", "-o", str(tmp_path), "--stage", "backbone")
    assert result.exit_code == 2 and "use generator" in result.stderr
