"""``bamnet report RUN_DIR`` and ``bamnet compare RUN_DIR...``: HTML pages of runs."""

from __future__ import annotations

import sys
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
        redact: Annotated[bool, typer.Option(
            "--redact", help="Write the shareable report into RUN_DIR/shareable/: patient ids "
            "as keyed pseudonyms, paths as source and index, no images.")] = False,
        images: Annotated[bool, typer.Option(
            "--images", help="With --redact, keep Grad-CAM overlays and thumbnails (check "
            "them for burned-in text first).")] = False,
        checklist: Annotated[list[str] | None, typer.Option(
            "--checklist", help="Also write a reporting checklist filled from the run: claim "
            "(CLAIM 2024) or tripod-ai (TRIPOD+AI), as checklists/NAME.md and .json; repeat "
            "for both.")] = None,
        model_card: Annotated[str | None, typer.Option(
            "--model-card", help="Also write a model card in another format: chai (the CHAI "
            "applied model card, model-card.chai.xml, checked against its schema).")] = None,
        json_: JsonOption = False,
    ) -> None:
        """Write RUN_DIR/report.html (self-contained), plots/*.png and model-card.md."""
        from ..report import build_reports
        from ..report.checklists import CHECKLISTS
        from ..report.standards import MODEL_CARDS

        if images and not redact:
            raise typer.BadParameter("--images goes with --redact (the full report always "
                                     "has its images)", param_hint="--images")
        for name in checklist or []:
            if name not in CHECKLISTS:
                raise typer.BadParameter(f"unknown checklist {name!r}; use one of: "
                                         f"{', '.join(CHECKLISTS)}", param_hint="--checklist")
        if model_card is not None and model_card not in MODEL_CARDS:
            raise typer.BadParameter(f"unknown model card format {model_card!r}; use one of: "
                                     f"{', '.join(MODEL_CARDS)}", param_hint="--model-card")
        files, shared = build_reports(run_dir, redact=redact, images=images,
                                      checklists=checklist or (), model_card=model_card)
        standards = files.standards
        if json_:
            payload = {"report": str(files.html), "model_card": str(files.model_card),
                       "plots": [str(p) for p in files.plots], "sections": files.sections,
                       "verdict": files.verdict.to_dict() if files.verdict else None,
                       "redacted": redact,
                       "checklists": {name: {"markdown": str(md), "json": str(js),
                                             "counts": standards.counts[name]}
                                      for name, (md, js) in standards.checklists.items()}}
            if standards.model_card is not None:
                payload["chai_model_card"] = {"xml": str(standards.model_card),
                                              "left_for_author": standards.left_for_author}
            if shared is not None:
                payload["shareable"] = {"report": str(shared.html),
                                        "model_card": str(shared.model_card)}
            print_json(payload)
            return
        if files.verdict:
            out().print(f"Verdict: {files.verdict.reading}. {files.verdict.sentence}",
                        highlight=False, markup=False, soft_wrap=True)
        kind = "Shareable report" if redact else "Report"
        lines = [f"{kind}: {files.html}", f"Model card: {files.model_card}"]
        for name, (md, js) in standards.checklists.items():
            counts = ", ".join(f"{n} {state}" for state, n in standards.counts[name].items())
            lines.append(f"Checklist {name}: {md} and {js.name} ({counts})")
        if standards.model_card is not None:
            lines.append(f"CHAI model card: {standards.model_card} (valid against schema "
                         f"v0.2; {len(standards.left_for_author)} fields left for the author: "
                         f"{', '.join(standards.left_for_author)})")
        if shared is not None:
            lines += [f"Shareable report: {shared.html}", f"Model card: {shared.model_card}"]
        out().print("\n".join(lines), highlight=False, soft_wrap=True)

    @app.command("compare")
    def compare(
        run_dirs: Annotated[list[Path], typer.Argument(help="Two or more run folders (a "
                                                       "`bamnet loso` folder stands for its "
                                                       "held-out runs).")],
        output: Annotated[str | None, typer.Option(
            "--output", "-o", help="The HTML page to write, or - for stdout. (default: "
            "compare.html in the first run's folder)", show_default=False)] = None,
        json_: JsonOption = False,
    ) -> None:
        """Put several runs side by side in one HTML page (e.g. leaky vs patient split)."""
        from ..errors import ConfigError
        from ..report.compare import compare_runs, comparison_page, default_output

        if output == "-":
            if json_:
                raise ConfigError("-o - prints the page on stdout, where --json prints too",
                                  hint="drop --json, or write the page to a file with -o")
            sys.stdout.write(comparison_page(run_dirs))
            return
        page = compare_runs(run_dirs, output or default_output(run_dirs))
        if json_:
            from ..report import run_verdict
            from ..report.compare import compared_runs

            compared = compared_runs(run_dirs)
            verdicts = [run_verdict(d) for d in compared]
            print_json({"compare": str(page), "runs": [str(d) for d in compared],
                        "verdicts": [v.to_dict() if v else None for v in verdicts]})
            return
        out().print(f"Comparison: {page}", highlight=False, soft_wrap=True)
