"""``evaltk.run`` and ``evaltk.read_results``: a run's results as objects for a notebook.

:func:`run` is ``evaltk run`` (the same :func:`evaltk.analysis.run.run_with_fits`: same checks,
same files written) that also keeps each outcome's fit, so that a notebook can show the
estimator's own summary and redraw its figure. :func:`read_results` reads a folder already
run (results.json and its figures, checked as ``evaltk book`` checks them); it has no fits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evaltk.analysis.figures import outcome_figure
from evaltk.analysis.run import run_with_fits
from evaltk.api import html as render
from evaltk.estimate import OutcomeFit
from evaltk.publish.load import LEDGER_FIGURE, load_analysis
from evaltk.results.schema import AnalysisResult, OutcomeResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from evaltk.api.analysis import Analysis
    from evaltk.estimators.result import EstimatorResult

Progress = Callable[[str], None]

#: Columns of :meth:`Results.tidy`, in order: one row per outcome, from results.json.
TIDY_COLUMNS = (
    "outcome",
    "label",
    "role",
    "outcome_class",
    "design",
    "estimator",
    "scale",
    "estimate",
    "ci_low",
    "ci_high",
    "std_error",
    "df",
    "p_value",
    "p_adjusted",
    "n_units",
    "n_periods",
)


def _print_step(text: str) -> None:
    # One plain line per step on standard output: a notebook shows it as it happens, with no
    # widget, spinner or control characters (and no red stderr box).
    print(text.strip(), file=sys.stdout, flush=True)


@dataclass(frozen=True)
class OutcomeView:
    """One outcome of a run: its results.json entry and, after :func:`run`, its fit.

    Attributes
    ----------
    reported : OutcomeResult
        The outcome's entry in results.json (after the multiplicity correction).
    fit : OutcomeFit or None
        The fit the entry was built from; None when the results were read from disk.
    results : Results
        The run it belongs to.
    """

    reported: OutcomeResult
    fit: OutcomeFit | None
    results: Results = field(repr=False)

    @property
    def id(self) -> str:
        return self.reported.outcome

    @property
    def estimator(self) -> EstimatorResult | None:
        """The estimator's own result (``ITSResult``, ``DiDResult``, ``CSResult``...), with
        ``headline``, ``tidy()``, ``summary()`` and ``plot()``; None when read from disk or
        when the outcome could not be fitted."""
        return self.fit.result if self.fit is not None else None

    def figure_path(self) -> Path | None:
        """The main figure the run wrote, if any."""
        if self.reported.figure is None:
            return None
        return self.results.folder / "results" / self.reported.figure

    def plot(self, kind: str = "main") -> Figure:
        """The outcome's figure, as the run drew it (titled, stamped when exploratory).

        Parameters
        ----------
        kind : str, default "main"
            ``main``, or an extra figure of a comparison design (``event_study``,
            ``heatmap``, ``groups``, ``series``).

        Returns
        -------
        matplotlib.figure.Figure
            Displayed by a notebook when it is the cell's value. Results read from disk have
            no fit: the figure then shows the PNG the run wrote.

        Raises
        ------
        KeyError
            If the outcome has no figure of that kind.
        """
        if self.fit is not None:
            return _displayable(outcome_figure(self.fit, self.results.result, kind))
        if kind == "main":
            path = self.figure_path()
        else:
            paths = [f.path for f in self.reported.figures if f.kind == kind]
            path = self.results.folder / "results" / paths[0] if paths else None
        if path is None or not path.is_file():
            raise KeyError(f"{self.id}: no {kind} figure in {self.results.folder / 'results'}")
        return _displayable(_png_figure(path))

    def tidy(self) -> pd.DataFrame:
        """The estimator's tidy table (every reported effect, headline first); from disk,
        this outcome's row of :meth:`Results.tidy`."""
        if self.estimator is not None:
            return self.estimator.tidy()
        frame = self.results.tidy()
        return frame[frame["outcome"] == self.id].reset_index(drop=True)

    def summary(self) -> str:
        """The estimator's text summary; from disk, the reported result in words."""
        if self.estimator is not None:
            return self.estimator.summary()
        level = self.results.result.interval_level
        from evaltk.publish import format as fmt

        return f"{self.reported.label}: {fmt.change_with_interval(self.reported, level)}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id!r}: {self.summary().splitlines()[0]}>"

    def _repr_html_(self) -> str:
        parts = [render.outcome_summary(self.reported, self.results.result.interval_level)]
        if self.reported.note:
            parts.append(f"<p>{render.esc(self.reported.note)}</p>")
        if self.estimator is not None:
            parts.append(self.estimator._repr_html_())
        path = self.figure_path()
        if path is not None and path.is_file():
            parts.append(render.image(path, self.reported.label))
        return "<div>" + "".join(parts) + "</div>"


@dataclass(frozen=True)
class Results:
    """An analysis's results: what :func:`evaltk.run` and :func:`evaltk.read_results` return.

    Shows itself in a notebook (verdict, ledger, outcome table, the ledger's and the primary
    outcomes' figures). Nothing here is protected by disclosure control: publish with
    ``evaltk book``.

    Attributes
    ----------
    result : AnalysisResult
        Exactly what ``results/results.json`` holds.
    folder : pathlib.Path
        The analysis folder.
    fits : Mapping[str, OutcomeFit]
        Each outcome's fit by outcome id, after :func:`evaltk.run`; empty when read from disk.
    """

    result: AnalysisResult
    folder: Path
    fits: Mapping[str, OutcomeFit] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """The verdict's label (``Resolves``, ``Displaces``, ...)."""
        return self.result.verdict.label

    @property
    def headline(self) -> str:
        return self.result.headline

    @property
    def outcomes(self) -> list[OutcomeView]:
        return [self.outcome(o.outcome) for o in self.result.outcomes]

    def outcome(self, outcome_id: str) -> OutcomeView:
        """One outcome by its id (``s136_rate``)."""
        try:
            reported = self.result.outcome(outcome_id)
        except KeyError:
            known = ", ".join(o.outcome for o in self.result.outcomes)
            raise KeyError(f"no outcome {outcome_id!r}; this analysis has {known}") from None
        return OutcomeView(reported, self.fits.get(outcome_id), self)

    def tidy(self) -> pd.DataFrame:
        """One row per outcome from results.json, columns :data:`TIDY_COLUMNS`.

        ``estimate`` is a rate ratio when ``scale`` is ``ratio`` (0.80 = 20 % lower than the
        counterfactual) and a difference in the measure's units when ``difference``;
        ``std_error`` is that of log(estimate) for a ratio.
        """
        rows = [{c: getattr(o, c) for c in TIDY_COLUMNS} for o in self.result.outcomes]
        frame = pd.DataFrame(rows, columns=list(TIDY_COLUMNS))
        numbers = [c for c in TIDY_COLUMNS[7:] if not c.startswith("n_")]
        frame[numbers] = frame[numbers].apply(pd.to_numeric, errors="coerce").astype(float)
        return frame

    def ledger(self) -> pd.DataFrame | None:
        """The whole-system ledger, a row per costed outcome (None for designs without one)."""
        if self.result.ledger is None:
            return None
        rows = []
        for line in self.result.ledger.lines:
            row: dict[str, Any] = {"outcome": line.outcome, "agency": line.agency}
            for name in ("averted", "hours", "pounds"):
                interval = getattr(line, name)
                row |= {
                    name: interval.estimate,
                    f"{name}_low": interval.ci_low,
                    f"{name}_high": interval.ci_high,
                }
            rows.append(row | {"in_net": line.in_net})
        return pd.DataFrame(rows)

    def _figures(self) -> list[tuple[str, Path]]:
        shown = []
        ledger = self.folder / LEDGER_FIGURE
        if ledger.is_file():
            shown.append(("Where demand went (pounds)", ledger))
        for view in self.outcomes:
            path = view.figure_path()
            if view.reported.role == "primary" and path is not None and path.is_file():
                shown.append((view.reported.label, path))
        return shown

    def __repr__(self) -> str:
        status = self.result.registration.status
        return (
            f"<Results {self.result.analysis!r}: {self.verdict} "
            f"({len(self.result.outcomes)} outcomes, {status}); {self.folder}>"
        )

    def _repr_html_(self) -> str:
        others = len(self.result.outcomes) - len(self.result.primary)
        more = (
            f"{others} secondary outcomes: res.outcome(ID) shows each with its figure."
            if others
            else ""
        )
        return render.results_html(self.result, self._figures(), more)


def _displayable(fig: Figure) -> Figure:
    """``fig``, and in an IPython kernel a PNG formatter for Figures if none is registered.

    evaltk draws bare Figures (no pyplot, so a run never changes the session's backend); a
    kernel registers its Figure formatters only when pyplot is first imported, so without
    this a returned Figure showed as ``<Figure size 800x450 with 1 Axes>``. A format the user
    chose (``%config InlineBackend.figure_formats``) is left alone.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return fig
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    for formatter in formatters.values():
        try:
            formatter.lookup_by_type(Figure)
            return fig
        except KeyError:
            continue
    from IPython.core.pylabtools import print_figure

    formatters["image/png"].for_type(Figure, partial(print_figure, fmt="png", base64=True))
    return fig


def _png_figure(path: Path) -> Figure:
    """A Figure holding a PNG at its own size (the run's figure, when no fit is kept)."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    pixels = imread(path)
    dpi = 110  # the run's (evaltk.analysis.figures)
    height, width = pixels.shape[:2]
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    fig.figimage(pixels)
    return fig


def _folder(analysis: Analysis | str | Path) -> Path:
    # An Analysis by what it holds: evaltk.api.analysis imports this module (Analysis.run).
    loaded = getattr(analysis, "loaded", None)
    if loaded is not None:
        return Path(loaded.path)
    return Path(str(analysis))


def run(
    analysis: Analysis | str | Path,
    *,
    exploratory: bool = False,
    progress: bool | Progress = True,
) -> Results:
    """Run an analysis, exactly as ``evaltk run`` does, and keep each outcome's fit.

    Parameters
    ----------
    analysis : Analysis, str or Path
        What :func:`evaltk.load` returned, or the analysis folder (or its YAML file).
    exploratory : bool, default False
        Run even if the protocol is unregistered or changed since registration; every output
        is then stamped as exploratory.
    progress : bool or callable, default True
        True prints one plain line as each step starts; False prints nothing; a callable is
        called with each step's description.

    Returns
    -------
    Results
        The AnalysisResult written to ``results/results.json`` and each outcome's fit.

    Raises
    ------
    RunRefused
        Without ``exploratory``, when the analysis is unregistered or changed since
        registration (the message lists each changed field). Nothing is written.
    ProtocolError, DataError
        As ``evaltk run``: the message names the file, row or field and what to do.

    Examples
    --------
    >>> import evaltk as ev
    >>> res = ev.run("analyses/example-street-triage")  # doctest: +SKIP
    >>> res.verdict, res.outcome("s136_rate").plot()  # doctest: +SKIP
    """
    say: Progress | None
    if progress is True:
        say = _print_step
    elif progress is False:
        say = None
    else:
        say = progress
    path = _folder(analysis)
    result, fits = run_with_fits(path, say, exploratory=exploratory)
    folder = path if path.is_dir() else path.parent
    return Results(result, folder, {fit.outcome.id: fit for fit in fits})


def read_results(folder: str | Path) -> Results:
    """Read an analysis folder already run (``results/results.json`` and its figures).

    Parameters
    ----------
    folder : str or Path
        The analysis folder.

    Returns
    -------
    Results
        Without fits: :meth:`OutcomeView.plot` shows the figures the run wrote.

    Raises
    ------
    PublishError
        If results.json is missing, invalid, from an incompatible schema version, or names a
        figure that is missing (the message says which command to run).
    """
    loaded = load_analysis(Path(folder))
    return Results(loaded.result, loaded.folder)
