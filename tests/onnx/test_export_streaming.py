"""The export's gates read the validation and calibration images a batch at a time, and the
numbers they report are those of holding every image in one array."""

from __future__ import annotations

import json

import numpy as np

import bamnet_core.export.validation as validation
from bamnet_core.runs import layout


def test_streamed_gate_numbers_equal_the_all_at_once_numbers(trained_run, tmp_path,
                                                             monkeypatch):
    import keras

    from bamnet_core.data.loading import load_samples
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.onnx_export import export_onnx, split_rows
    from bamnet_core.export.parity import check_parity
    from bamnet_core.export.quantize import accuracy_and_auc
    from bamnet_core.imaging.preprocess import PreprocessSpec
    from bamnet_core.runs.folder import RunFolder
    from bamnet_core.score.scorer import Scorer
    from bamnet_core.train.engine import predict

    monkeypatch.setattr(validation, "VALIDATION_BATCH", 8)
    out = tmp_path / layout.ONNX
    report = export_onnx(trained_run, carried=carried_facts(trained_run),
                         output=out).report
    assert report["validation_batches"] > 1
    # the same numbers the old way: every validation image in one array, for both models
    spec = PreprocessSpec.from_json((trained_run / layout.PREPROCESS).read_text())
    val = load_samples(split_rows(RunFolder(trained_run), "val", 256), spec)
    model = keras.saving.load_model(trained_run / layout.MODEL, compile=False)
    keras_probs = predict(model, val.x, batch_size=8)
    scorer = Scorer(out, provider="cpu")
    paths = [str(s.path) for s in val.samples]
    whole = check_parity(keras_probs, scorer, paths, tolerance=1e-4, enforce=False)
    fp32 = report["models"]["fp32"]
    assert fp32["parity_vs_keras"] == whole.to_dict()
    quality = accuracy_and_auc(scorer.predict(val.x), [s.label for s in val.samples],
                               scorer.classes, scorer.info.positive, scorer.threshold)
    assert (fp32["accuracy"], fp32["roc_auc"]) == (quality["accuracy"], quality["roc_auc"])
    assert report["validation_images"] == len(val.x)


def test_more_images_than_a_batch_are_read_in_several_batches(trained_run, tmp_path,
                                                              monkeypatch):
    import bamnet_core.train.engine as engine
    from bamnet_core.experiment.export_stage import carried_facts
    from bamnet_core.export.gates import GateLimits
    from bamnet_core.export.onnx_export import export_onnx

    seen: list[int] = []
    real = engine.predict

    def counting(model, x, batch_size=64):
        seen.append(len(x))
        return real(model, x, batch_size=batch_size)

    monkeypatch.setattr(validation, "VALIDATION_BATCH", 8)
    monkeypatch.setattr(engine, "predict", counting)
    result = export_onnx(trained_run, carried=carried_facts(trained_run),
                         output=tmp_path / layout.ONNX, int8=True,
                         limits=GateLimits(min_label_agreement=0, max_accuracy_drop=100,
                                           max_auc_drop=1), calibration_images=20)
    report = json.loads(result.report_path.read_text())
    images = report["validation_images"]
    assert images > 8 and len(seen) == report["validation_batches"] == -(-images // 8)
    assert max(seen) == 8 and sum(seen) == images  # Keras never saw more than one batch
    settings = report["models"]["int8"]["settings"]
    assert settings["calibration_batch"] == 4
    assert settings["calibration_batches"] == -(-settings["calibration_images"] // 4) > 1
    assert np.isfinite(report["models"]["int8"]["inference_images_per_s"])
