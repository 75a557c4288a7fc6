"""The run report: ``report.html`` (self-contained), ``plots/*.png`` and ``model-card.md``.

It reads a run folder once into a typed record (:mod:`.record`), draws figures with matplotlib's Agg
canvas (:mod:`.figures`), lays out tables (:mod:`.tables`) and sections
(:mod:`.sections`) and writes the page atomically (:mod:`.build`).
:mod:`.compare` puts several runs side by side; :mod:`.model_card` writes the
model card; :mod:`.verdict` the verdict that opens both; :mod:`.redact` makes the
shareable copy (``--redact``); :mod:`.standards` writes the reporting checklists
(:mod:`.checklists`) and the CHAI model card (:mod:`.chai_card`). It never imports TensorFlow.
"""

from .build import ReportFiles, build_report, build_reports
from .compare import compare_runs
from .record import RunRecord, read_run
from .verdict import Verdict, report_settings, run_verdict, verdict_of

__all__ = ["ReportFiles", "RunRecord", "Verdict", "build_report", "build_reports", "compare_runs",
           "read_run", "report_settings", "run_verdict", "verdict_of"]
