"""The report's figures, drawn with matplotlib's Agg canvas (never a process-wide backend).

Each function takes plain data from the run folder (``history.csv`` rows,
``metrics.json`` entries) and returns PNG bytes. ``matplotlib.use`` is never
called: every figure is a :class:`matplotlib.figure.Figure` on its own
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def new_figure(width: float, height: float, panels: int = 1) -> tuple[Any, list[Any]]:
    """A figure with ``panels`` axes side by side, on an Agg canvas of its own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(1, panels, i + 1) for i in range(panels)]


def to_png(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _column(rows: Sequence[dict[str, Any]], key: str) -> list[float]:
    out = []
    for row in rows:
        try:
            out.append(float(row.get(key, "")))
        except ValueError:
            out.append(float("nan"))
    return out


def history_figure(rows: Sequence[dict[str, Any]]) -> bytes | None:
    """Training and validation accuracy and loss per epoch, two panels (the paper's Figs. 7-11)."""
    if not rows:
        return None
    fig, (acc, loss) = new_figure(9, 3.4, 2)
    epochs = list(range(1, len(rows) + 1))
    for ax, metric, title in ((acc, "accuracy", "accuracy"), (loss, "loss", "loss")):
        ax.plot(epochs, _column(rows, metric), label=f"training {title}", marker=".")
        if "val_" + metric in rows[0]:
            ax.plot(epochs, _column(rows, "val_" + metric), label=f"validation {title}",
                    marker=".")
        ax.set(xlabel="epoch", ylabel=title, title=f"Training {title}")
        ax.legend()
    return to_png(fig)


def confusion_figure(matrix: list[list[int]], labels: list[str], title: str) -> bytes:
    """The confusion matrix (rows true, columns predicted), via scikit-learn's display."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, (ax,) = new_figure(4.2, 3.6)
    ConfusionMatrixDisplay(np.asarray(matrix), display_labels=labels).plot(
        ax=ax, colorbar=False, values_format="d")
    ax.set_title(title)
    return to_png(fig)


def roc_pr_figure(roc: dict[str, Any], title: str) -> bytes | None:
    """ROC and precision-recall curves with their 95% patient-bootstrap bands."""
    if roc.get("tpr") is None:
        return None
    grid = roc["grid"]
    fig, (left, right) = new_figure(9, 3.8, 2)
    for ax, key, band, label, xlabel, ylabel in (
            (left, "tpr", "tpr_band", f"ROC AUC {roc['roc_auc']:.3f}", "false positive rate",
             "sensitivity (TPR)"),
            (right, "precision", "precision_band", f"PR AUC {roc['pr_auc']:.3f}",
             "recall (sensitivity)", "precision (PPV)")):
        ax.plot(grid, roc[key], label=label)
        if roc.get(band):
            ax.fill_between(grid, roc[band]["low"], roc[band]["high"], alpha=0.25,
                            label="95% interval (patients resampled)")
        if key == "tpr":
            ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
        ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1.02))
        ax.legend(loc="lower right" if key == "tpr" else "lower left")
    left.set_title(f"ROC ({title})")
    right.set_title(f"Precision-recall ({title})")
    return to_png(fig)


def calibration_figure(calibration: dict[str, Any], title: str) -> bytes | None:
    """The reliability curve: mean predicted probability against the observed rate per bin."""
    bins = calibration.get("bins") or []
    if not bins:
        return None
    fig, (ax,) = new_figure(4.4, 3.8)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    ax.plot([b["mean_predicted"] for b in bins], [b["observed"] for b in bins], marker="o",
            label=f"ECE {calibration['ece']:.3f}")
    ax.set(xlabel="mean predicted probability", ylabel="observed positive rate",
           xlim=(0, 1), ylim=(0, 1), title=f"Calibration ({title})")
    ax.legend(loc="upper left")
    return to_png(fig)


def per_source_figure(per_source: dict[str, Any], title: str, *, min_positives: int = 1,
                      min_negatives: int = 1) -> bytes | None:
    """Sensitivity and specificity per source, with 95% intervals.

    A rate on fewer images than its minimum is left out (the table says "too few"), and a
    chart of one source is not drawn: there is nothing to compare.
    """
    sources = per_source.get("sources") or {}
    if len(sources) < 2:
        return None

    def enough(entry: dict[str, Any], metric: str) -> bool:
        pos = int(entry.get("positives") or 0)
        n = pos if metric == "sensitivity" else int(entry.get("images") or 0) - pos
        return n >= (min_positives if metric == "sensitivity" else min_negatives)

    bars = [(name, metric, entry[metric], entry.get("intervals", {}).get(metric))
            for name, entry in sources.items() for metric in ("sensitivity", "specificity")
            if entry.get(metric) is not None and enough(entry, metric)]
    if not bars:
        return None
    fig, (ax,) = new_figure(max(4.5, 0.9 * len(bars) + 1.5), 3.8)
    colours = {"sensitivity": "tab:red", "specificity": "tab:blue"}
    for i, (_name, metric, value, interval) in enumerate(bars):
        err = None if not interval else [[value - interval["low"]], [interval["high"] - value]]
        ax.bar(i, value, color=colours[metric], yerr=err, capsize=4,
               label=metric if metric not in ax.get_legend_handles_labels()[1] else None)
    ax.set_xticks(range(len(bars)), [f"{n}\n({'sens' if m == 'sensitivity' else 'spec'})"
                                     for n, m, _, _ in bars], fontsize=8)
    ax.set(ylim=(0, 1.05), ylabel="rate", title=f"Per source ({title})")
    ax.legend(loc="lower right")
    return to_png(fig)


def gradcam_grid(items: Sequence[dict[str, Any]], folder: Path, title: str,
                 columns: int = 6, limit: int = 48) -> bytes | None:
    """The Grad-CAM overlays in a grid, misclassified ones first and framed in red."""
    import matplotlib.image as mpimg

    shown = sorted(items, key=lambda i: not i["misclassified"])[:limit]
    shown = [i for i in shown if (folder / i["file"]).is_file()]
    if not shown:
        return None
    rows = -(-len(shown) // columns)
    fig, _ = new_figure(2.2 * columns, 2.6 * rows + 0.4, 0)
    for k, item in enumerate(shown):
        ax = fig.add_subplot(rows, columns, k + 1)
        ax.imshow(mpimg.imread(folder / item["file"]))
        ax.set_xticks([])
        ax.set_yticks([])
        colour = "red" if item["misclassified"] else "black"
        for spine in ax.spines.values():
            spine.set(color=colour, linewidth=3 if item["misclassified"] else 0.5)
        ax.set_title(f"true {item['true']}\npred {item['predicted']} "
                     f"({item['positive_probability']:.2f})", fontsize=11, color=colour)
    fig.suptitle(title)
    return to_png(fig)
