"""A run's results as one HTML fragment for a notebook: verdict, ledger, outcomes, figures.

Every piece of text from a protocol or a result (titles, labels, sentences) is escaped: a
protocol title can hold anything. Numbers are worded by :mod:`evaltk.publish.format`, as in
the book, so a notebook and the book say the same thing. No disclosure control is applied
here: this is the analyst's own view; ``evaltk book`` publishes.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evaltk.estimators.render import format_number
from evaltk.publish import format as fmt
from evaltk.results.schema import AnalysisResult, Ledger, OutcomeResult

_BOX = {
    "Resolves": "#2b8a3e",
    "Displaces": "#c92a2a",
    "Refers on": "#e67700",
    "Worsens": "#c92a2a",
}
_NEUTRAL = "#495057"


def esc(text: object) -> str:
    """``text`` safe inside HTML (quotes too, for attributes)."""
    return html.escape(str(text), quote=True)


def image(path: Path, alt: str) -> str:
    """A PNG file as an inline ``<img>`` (a data URI: the notebook keeps it with no file)."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{esc(alt)}' style='max-width:100%'>"


def verdict_box(result: AnalysisResult) -> str:
    """The verdict label, its sentence, the headline and the run's registration status."""
    colour = _BOX.get(result.verdict.label, _NEUTRAL)
    status = result.registration.status
    warning = (
        ""
        if status == "registered"
        else f"<p style='color:#b00020'><b>{esc(fmt.registration(status))}</b>: "
        "not the registered analysis.</p>"
    )
    return (
        f"<div style='border-left:6px solid {colour};padding:0.4em 0.8em;margin:0.5em 0'>"
        f"<p style='font-size:1.2em;margin:0'><b>{esc(result.verdict.label)}</b></p>"
        f"<p>{esc(result.verdict.sentence)}</p><p>{esc(result.headline)}</p>{warning}</div>"
    )


def outcome_table(result: AnalysisResult) -> str:
    """One row per outcome: its role, the change in words with its interval, the p-values."""
    ci = fmt.ci_label(result.interval_level)
    rows = [
        {
            "Outcome": o.label,
            "Id": o.outcome,
            "Role": o.role,
            "Change": fmt.change(o),
            ci: fmt.interval(o),
            "p": fmt.p_value(o.p_value),
            "p adjusted": fmt.p_value(o.p_adjusted) if o.role != "primary" else "",
        }
        for o in result.outcomes
    ]
    return pd.DataFrame(rows).to_html(index=False, escape=True)


def ledger_table(ledger: Ledger) -> str:
    """The whole-system ledger: each costed line and the net, in events, hours and pounds."""
    rows = [
        {
            "Outcome": line.label,
            "Agency": line.agency,
            "Averted": f"{fmt.amount(line.averted.estimate)} {line.unit}",
            "Hours": fmt.amount(line.hours.estimate),
            "£": fmt.amount(line.pounds.estimate),
            "In net": "yes" if line.in_net else "no",
        }
        for line in ledger.lines
    ]
    net = ledger.net_pounds
    rows.append(
        {
            "Outcome": "Net change (positive = saved)",
            "Agency": "",
            "Averted": "",
            "Hours": fmt.amount(ledger.net_hours.estimate),
            "£": f"{fmt.amount(net.estimate)} ({fmt.amount(net.ci_low)} to "
            f"{fmt.amount(net.ci_high)})",
            "In net": "",
        }
    )
    return pd.DataFrame(rows).to_html(index=False, escape=True)


def outcome_summary(outcome: OutcomeResult, level: float) -> str:
    """One outcome's result in a line: label, change with interval, p-value."""
    return (
        f"<p><b>{esc(outcome.label)}</b> ({esc(outcome.outcome)}, {esc(outcome.role)}; "
        f"{esc(outcome.estimator)}): {esc(fmt.change_with_interval(outcome, level))}, "
        f"{esc(fmt.p_value(outcome.p_value, prose=True))}. "
        f"Estimate {esc(format_number(outcome.estimate))} ({esc(outcome.scale)}).</p>"
    )


def results_html(
    result: AnalysisResult, figures: Sequence[tuple[str, Path]], more: str = ""
) -> str:
    """The whole fragment: verdict box, ledger, outcome table, then ``figures`` (title, PNG)."""
    parts = [
        f"<div><h3>{esc(result.title)}</h3>",
        f"<p>{esc(fmt.design(result.design))}; analysis {esc(result.analysis)}.</p>",
        verdict_box(result),
    ]
    if result.ledger is not None:
        parts += ["<p><b>Where demand went</b> (the whole-system ledger)</p>"]
        parts += [ledger_table(result.ledger)]
    elif result.ledger_note:
        parts.append(f"<p>{esc(result.ledger_note)}</p>")
    parts += ["<p><b>Outcomes</b></p>", outcome_table(result)]
    for title, path in figures:
        parts += [f"<p><b>{esc(title)}</b></p>", image(path, title)]
    if more:
        parts.append(f"<p>{esc(more)}</p>")
    parts.append("</div>")
    return "".join(parts)
