"""The verdict as HTML (the top of report.html) and as Markdown (the top of model-card.md).

Only renders the records of :mod:`.verdict`; every rule lives there.
"""

from __future__ import annotations

from html import escape

from .verdict import Verdict

LEVEL_CLASS = {"strong": "lv-strong", "some": "lv-some", "none": "lv-none", "info": "lv-info",
               "unchecked": "lv-some", "too-few": "lv-some", "unlearned": "lv-some"}


def verdict_html(verdict: Verdict) -> str:
    """The verdict block: the overall reading, then one row per line of evidence."""
    rows = "".join(
        f'<tr><td>{escape(e.label)}</td><td class="{LEVEL_CLASS[e.level]}">{escape(e.level)}'
        f"</td><td>{escape(e.finding)}</td><td>{escape(e.meaning)}</td></tr>"
        for e in verdict.evidence)
    return (f'<p class="reading {LEVEL_CLASS[verdict.level]}" id="reading"><b>Verdict: '
            f"{escape(verdict.reading)}.</b> {escape(verdict.sentence)}</p>"
            '<table class="verdict"><thead><tr><th>evidence</th><th>level</th>'
            "<th>number [95% interval]</th><th>what it means</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            '<p class="small">Rules and thresholds: <code>[report.verdict]</code> for the lines '
            "bamnet draws itself, <code>[evaluate.options.NAME]</code> for an evaluator's, in "
            "the run's config.toml (docs/config.md); the reading is the worst level among the "
            "lines, and <i>info</i> lines do not count.</p>")


def headline_html(verdict: Verdict) -> str:
    """The headline split's accuracy, sensitivity, specificity and ROC-AUC, with support."""
    head = verdict.headline
    if not head.get("metrics"):
        return "<p>This run has no headline metrics (it did not finish evaluating).</p>"
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(m['shown'])}</td><td>{escape(m['interval'])}"
        f"</td></tr>" for name, m in head["metrics"].items())
    leaky = ' <b class="bad">LEAKY split: optimistic</b>' if head.get("leaky") else ""
    threshold = (f" Decision threshold {escape(head['threshold_from'])}."
                 if head.get("threshold_from") else "")
    return (f"<p>The <b>{escape(str(head.get('split')))}</b> split: {head.get('images')} "
            f"images of {head.get('patients')} patients.{leaky}{threshold}</p>"
            '<table class="headline"><thead><tr><th>metric</th><th>value</th>'
            "<th>95% interval (patients resampled; exact where the rate is 0 or 1)</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def verdict_markdown(verdict: Verdict) -> list[str]:
    """The verdict as Markdown lines for the model card."""
    lines = ["## Verdict", "", f"**{verdict.reading}.** {verdict.sentence}", "",
             "| evidence | level | number [95% interval] | what it means |",
             "|---|---|---|---|"]
    lines += [f"| {e.label} | {e.level} | {e.finding} | {e.meaning} |"
              for e in verdict.evidence]
    head = verdict.headline
    if head.get("metrics"):
        at = f"; threshold {head['threshold_from']}" if head.get("threshold_from") else ""
        lines += ["", f"Headline ({head.get('split')} split, {head.get('images')} images{at}):",
                  ""]
        lines += [f"- {name}: {m['shown']} {m['interval']}" for name, m in head["metrics"].items()]
    return [*lines, ""]
