"""``bamnet report RUN_DIR`` and ``bamnet compare RUN_DIR...``: HTML pages of runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .output import JsonOption, out, print_json
from .state import CLIState


def register(app: typer.Typer, state: CLIState) -> None:
    """Add the ``report`` and ``compare`` commands to ``app``."""

    @app.command("report")
    def report(
        run_dir: Annotated[Path, typer.Argument(help="A run folder made by `bamnet run`.")],
        json_: JsonOption = False,
    ) -> None:
        """Write RUN_DIR/report.html (self-contained), plots/*.png and model-card.md."""
        from ..report import build_report

        files = build_report(run_dir)
        if json_:
            print_json({"report": str(files.html), "model_card": str(files.model_card),
                        "plots": [str(p) for p in files.plots], "sections": files.sections,
                        "verdict": files.verdict})
            return
        if files.verdict:
            out().print(f"Verdict: {files.verdict['reading']}. {files.verdict['sentence']}",
                        highlight=False, markup=False, soft_wrap=True)
        out().print(f"Report: {files.html}\nModel card: {files.model_card}", highlight=False,
                    soft_wrap=True)

    @app.command("compare")
    def compare(
        run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run folders.")],
        output: Annotated[Path, typer.Option(
            "--output", "-o", help="The HTML page to write.")] = Path("compare.html"),
        json_: JsonOption = False,
    ) -> None:
        """Put several runs side by side in one HTML page (e.g. leaky vs patient split)."""
        from ..report import compare_runs

        page = compare_runs(run_dirs, output)
        if json_:
            from ..report import run_verdict

            verdicts = [run_verdict(d) for d in run_dirs]
            print_json({"compare": str(page), "runs": [str(d) for d in run_dirs],
                        "verdicts": [v.to_dict() if v else None for v in verdicts]})
            return
        out().print(f"Comparison: {page}", highlight=False, soft_wrap=True)
