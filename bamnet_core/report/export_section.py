"""The report's "Export" section: each ONNX model the run exported, its gate and its speed.

Export runs before the report, so the page shows what ``export-report.json``
records: which models were written, each gate's checks against Keras (fp32) or
fp32 (a variant) with their limits, and the speed as the median and range of
the timing rounds. A model is called fastest only when the export said so
(every round beat every other passing model's).
"""

from __future__ import annotations

from html import escape

from ..runs.export_file import ExportedModel, ExportReportFile
from .record import RunRecord
from .sections import section
from .tables import table


def _check(check: dict) -> str:
    value = check.get("value")
    shown = "&ndash;" if value is None else f"{value:.4g}"
    mark = "" if check.get("passed", True) else ' <b class="bad">failed</b>'
    return (f"{escape(str(check.get('check', '?')))} {shown} {escape(str(check.get('rule', '')))}"
            f" {check.get('limit', '')}{mark}")


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _speed(model: ExportedModel) -> str:
    if model.inference_images_per_s is None:
        return "&ndash;"
    shown = _rate(model.inference_images_per_s)
    if model.inference_images_per_s_range:
        slow, fast = model.inference_images_per_s_range
        shown += f" ({_rate(slow)}&ndash;{_rate(fast)})"
    return shown + (" <b>fastest</b>" if model.fastest else "")


def _gate(model: ExportedModel) -> str:
    gate = model.gate
    if gate is None:
        return "&ndash;"
    verdict = "passed" if gate.passed else '<b class="bad">failed</b>'
    written = "" if gate.written else " (not written)"
    return f"{verdict} against {escape(gate.against)}{written}"


def export_body(report: ExportReportFile) -> str:
    """The table of exported models and the lines that qualify it."""
    rows = [(escape(name), _gate(model), "; ".join(_check(c) for c in model.gate.checks)
             if model.gate else "&ndash;", _speed(model))
            for name, model in report.models.items()]
    body = [f"<p>Gates checked on {report.validation_images} validation images "
            f"(ONNX opset {report.opset}).</p>",
            table(("model", "gate", "checks (value rule limit)",
                   "images/s: median (slowest–fastest round)"), rows)]
    if report.fastest is None and len(report.models) > 1:
        body.append("<p>No model is faster than the others here: their speed ranges "
                    "overlap.</p>")
    if report.undecodable_validation_images:
        body.append(f"<p>{len(report.undecodable_validation_images)} validation image(s) could "
                    "not be decoded and were left out of the gates.</p>")
    return "".join(body)


def export_section(record: RunRecord) -> str:
    """The export's gates and speeds, or why there is nothing to show."""
    if record.export is None:
        body = ("<p>No model was exported with this run (<code>[export] onnx</code> off, or "
                "the export did not run); <code>bamnet export RUN --onnx</code> makes one.</p>")
    else:
        body = export_body(record.export)
    return section("export", "Export", body)
