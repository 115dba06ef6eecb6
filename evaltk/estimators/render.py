"""One renderer for every estimator's result: the headline, a few facts, the tidy table.

Every result's ``summary()`` and ``_repr_html_()`` call :func:`render_text` and
:func:`render_html` with its headline :class:`~evaltk.estimators.effect.Effect`, its tidy
table (:data:`evaltk.estimators.result.TIDY_COLUMNS`), labelled facts (model, units, months,
inference) and optional further sections (a coefficient table, a pre-trend test). The HTML
escapes every text it is given.

:func:`format_level` is the one way a confidence level is written for people, here, in the
estimators' figures and in the book ("95 %", "97.5 %").
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from evaltk.estimators.effect import Effect

#: A labelled fact shown under the title: ``("family", "quasi_poisson")``.
Fact = tuple[str, Any]
#: A further section: a heading and a table or preformatted text.
Section = tuple[str, "pd.DataFrame | str"]


def format_level(level: float) -> str:
    """A confidence level for people: ``0.95`` -> ``"95 %"``, ``0.975`` -> ``"97.5 %"``.

    Rounded to six decimals of a percent, so that ``1 - 0.025`` does not print its binary
    representation error, and never to whole percents (a 97.5 % interval is not a 98 % one).
    """
    return f"{round(level * 100, 6):g} %"


def format_number(value: Any) -> str:
    """A number for a summary table: four significant digits (six from 10,000), ``""`` when
    missing, ``inf``/``-inf`` when infinite."""
    if value is None or value is pd.NA:
        return ""
    value = float(value)
    if np.isnan(value):
        return ""
    if np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.6g}"


def headline_text(effect: Effect) -> str:
    """``level_change (ratio): 0.7712, 95 % CI 0.7011 to 0.8483, p = 0.0001``."""
    reference = "normal" if effect.df is None else f"t({format_number(effect.df)})"
    return (
        f"{effect.term} ({effect.scale}): {format_number(effect.estimate)}, "
        f"{format_level(effect.level)} CI {format_number(effect.ci_low)} to "
        f"{format_number(effect.ci_high)}, p = {format_number(effect.p_value)} "
        f"(se {format_number(effect.std_error)}, {reference} reference)"
    )


def render_text(
    title: str,
    headline: Effect,
    table: pd.DataFrame,
    facts: Sequence[Fact] = (),
    sections: Sequence[Section] = (),
) -> str:
    """Plain text: title, facts (one per line), headline, the tidy table, the sections.

    Parameters
    ----------
    title : str
        What the model is (``Interrupted time series (segmented GLM)``).
    headline : Effect
        The design's headline effect.
    table : pandas.DataFrame
        The tidy table (:func:`evaltk.estimators.result.tidy_frame`).
    facts : sequence of (label, value)
        Shown as ``label: value`` under the title.
    sections : sequence of (heading, table or text)
        Shown after the table, each under its heading (no heading when it is empty).

    Returns
    -------
    str
    """
    lines = [title, *[f"  {name}: {_fact(value)}" for name, value in facts]]
    lines += ["", f"Headline: {headline_text(headline)}", "", "Effects", _text_table(table)]
    for heading, body in sections:
        lines.append("")
        if heading:
            lines.append(heading)
        lines.append(_text_table(body) if isinstance(body, pd.DataFrame) else body)
    return "\n".join(lines)


def render_html(
    title: str,
    headline: Effect,
    table: pd.DataFrame,
    facts: Sequence[Fact] = (),
    sections: Sequence[Section] = (),
) -> str:
    """The same as :func:`render_text` as an HTML fragment for notebooks; every text is
    escaped (tables through pandas, which escapes cells and headers)."""
    parts = [f"<div><p><b>{_esc(title)}</b></p>"]
    if facts:
        items = "".join(
            f"<li>{_esc(_capital(name))}: {_esc(_fact(value))}</li>" for name, value in facts
        )
        parts.append(f"<ul>{items}</ul>")
    parts.append(f"<p>Headline: {_esc(headline_text(headline))}</p>")
    parts.append(_html_table(table))
    for heading, body in sections:
        if heading:
            parts.append(f"<p><b>{_esc(heading)}</b></p>")
        if isinstance(body, pd.DataFrame):
            parts.append(_html_table(body))
        else:
            parts.append(f"<pre>{_esc(body)}</pre>")
    parts.append("</div>")
    return "".join(parts)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    # A df column with no value says nothing (normal reference throughout), and one level
    # for every row is already in the headline.
    if "df" in table and table["df"].isna().all():
        table = table.drop(columns="df")
    if "level" in table and table["level"].nunique(dropna=False) == 1:
        table = table.drop(columns="level")
    return table


def _text_table(table: pd.DataFrame) -> str:
    shown = _shown(table)
    if shown.empty:
        return "(none)"
    return shown.to_string(index=False, float_format=format_number, na_rep="")


def _html_table(table: pd.DataFrame) -> str:
    return _shown(table).to_html(index=False, float_format=format_number, na_rep="", escape=True)


def _fact(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return format_number(value)
    return str(value)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)


class RendersItself:
    """``summary()`` and ``_repr_html_()`` of a result, from what it says of itself: a title,
    its headline :class:`Effect`, its tidy frame, labelled facts and further sections. Every
    design's result inherits them, so a terminal, a notebook and the book show one layout."""

    @property
    def headline(self) -> Effect:
        raise NotImplementedError

    def tidy(self) -> pd.DataFrame:
        raise NotImplementedError

    def _title(self) -> str:
        raise NotImplementedError

    def _facts(self) -> Sequence[Fact]:
        return ()

    def _sections(self) -> Sequence[Section]:
        return ()

    def summary(self) -> str:
        """Plain text: the title, facts, headline, the tidy table and further sections."""
        return render_text(
            self._title(), self.headline, self.tidy(), self._facts(), self._sections()
        )

    def _repr_html_(self) -> str:
        return render_html(
            self._title(), self.headline, self.tidy(), self._facts(), self._sections()
        )
