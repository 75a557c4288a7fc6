"""Every JSON file of a run folder (and of a folder of runs), by name, with its model.

One versioned pydantic model per file; :mod:`bamnet_core.runs.schemas` publishes
each one's JSON Schema into the docs.
"""

from __future__ import annotations

from . import layout
from .audit_file import AuditFile
from .checklist_file import ChecklistFile
from .export_file import ExportReportFile
from .integrity_file import IntegrityFile
from .meta_file import MetaFile
from .metrics_file import MetricsFile, SplitMetrics
from .parent_files import ComparisonFile, LosoFile
from .split_file import SplitFile
from .versioned import RunFile

FILES: dict[str, type[RunFile]] = {
    layout.META: MetaFile,
    layout.INTEGRITY: IntegrityFile,
    layout.METRICS: MetricsFile,
    layout.AUDIT: AuditFile,
    layout.SPLIT_JSON: SplitFile,
    layout.EXPORT_REPORT: ExportReportFile,
    layout.LOSO_JSON: LosoFile,
    layout.COMPARISON_JSON: ComparisonFile,
    layout.checklist_json("<name>"): ChecklistFile,
}
"""File name -> its model; the order is the docs' order."""

__all__ = ["FILES", "AuditFile", "ChecklistFile", "ComparisonFile", "ExportReportFile",
           "IntegrityFile", "LosoFile", "MetaFile", "MetricsFile", "RunFile", "SplitFile",
           "SplitMetrics"]
