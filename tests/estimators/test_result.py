"""Every design's result satisfies one interface: headline Effect, tidy table, text, HTML, plot."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from evaltk.estimators.did import (
    CITSModel,
    CITSSpec,
    DiD2x2Model,
    EventStudyModel,
    EventStudySpec,
    TWFEModel,
)
from evaltk.estimators.effect import Effect
from evaltk.estimators.its import ITSModel, ITSSpec
from evaltk.estimators.render import format_level
from evaltk.estimators.result import TIDY_COLUMNS, EstimatorResult
from evaltk.estimators.staggered import CallawaySantAnna
from evaltk.simulate import SimulationConfig, simulate_series

from .its._series import poisson_series
from .staggered._panel import simulate

NOTTS, NEVER = "E23000019", ["E23000020", "E23000022"]
DESIGNS = ("its", "did_2x2", "twfe", "event_study", "cits", "cits_gls", "cs", "cs_dynamic")


@pytest.fixture(scope="module")
def region() -> pd.DataFrame:
    return simulate_series(SimulationConfig.preset("region", seed=1))


@pytest.fixture(scope="module")
def results(region: pd.DataFrame) -> dict[str, EstimatorResult]:
    sim = poisson_series(seed=3)
    frame = sim.series.assign(exposure=np.full(len(sim.series), 250_000.0))
    three = region[region["force"].isin([NOTTS, *NEVER])].reset_index(drop=True)
    common = {"outcome": "s136", "unit": "force", "treatment": "treated"}
    cits = {"treated": NOTTS, "start": "2016-04", "outcome": "s136", "series": "force"}
    cs = CallawaySantAnna(
        simulate(np.random.default_rng(4), n=300), outcome="y", unit="id", time="t", group="g"
    ).fit(level=0.975)
    return {
        "its": ITSModel(frame, sim.start, ITSSpec(slope_change=True, level=0.975)).fit(),
        "did_2x2": DiD2x2Model(three, **common).fit("cluster"),
        "twfe": TWFEModel(region, exposure="population", **common).fit("cluster"),
        "event_study": EventStudyModel(
            region, exposure="population", spec=EventStudySpec(leads=2, lags=2, width=6), **common
        ).fit("cluster"),
        "cits": CITSModel(three, exposure="population", **cits).fit(),
        "cits_gls": CITSModel(
            three, exposure="population", spec=CITSSpec(model="gls"), **cits
        ).fit(),
        "cs": cs,
        "cs_dynamic": cs.aggregate("dynamic"),
    }


def _reported(result: object) -> tuple[float, float, float]:
    """The interval each result reported before the interface existed."""
    effect = getattr(result, "effect", None)
    if isinstance(effect, Effect):  # ITS: the level change
        return effect.estimate, effect.ci_low, effect.ci_high
    overall = getattr(result, "overall", result)  # C&S: the simple ATT
    return overall.estimate, overall.ci_low, overall.ci_high  # type: ignore[attr-defined]


@pytest.mark.parametrize("design", DESIGNS)
def test_every_result_satisfies_the_interface(
    results: dict[str, EstimatorResult], design: str
) -> None:
    result = results[design]
    assert isinstance(result, EstimatorResult)
    head = result.headline
    assert isinstance(head, Effect)
    assert (head.estimate, head.ci_low, head.ci_high) == _reported(result)
    assert head.ci_low <= head.estimate <= head.ci_high
    tidy = result.tidy()
    assert list(tidy.columns) == list(TIDY_COLUMNS)
    first = tidy.iloc[0]
    assert first["term"] == head.term
    assert first["estimate"] == head.estimate and first["ci_low"] == head.ci_low
    assert first["level"] == head.level
    assert set(tidy["scale"]) <= {"ratio", "difference", "relative"}


@pytest.mark.parametrize("design", DESIGNS)
def test_every_result_renders_its_headline(
    results: dict[str, EstimatorResult], design: str
) -> None:
    result = results[design]
    head = result.headline
    text, html = result.summary(), result._repr_html_()
    numbers = (f"{head.estimate:.4g}", f"{head.ci_low:.4g}", f"{head.ci_high:.4g}")
    for number in numbers:
        assert number in text and number in html
    assert f"{format_level(head.level)} CI" in text
    assert html.startswith("<div>") and "<table" in html
    fig, ax = result.plot()
    assert isinstance(fig, Figure) and isinstance(ax, Axes)
    fig.savefig(io.BytesIO(), format="png")


def test_tidy_dtypes_agree_across_designs(results: dict[str, EstimatorResult]) -> None:
    dtypes = {design: tuple(r.tidy().dtypes.astype(str)) for design, r in results.items()}
    assert len(set(dtypes.values())) == 1, dtypes


def test_degrees_of_freedom_follow_the_reference(results: dict[str, EstimatorResult]) -> None:
    gls = results["cits_gls"]
    assert gls.headline.df is not None and np.isfinite(gls.tidy()["df"]).all()
    assert results["cits"].headline.df is None and results["cits"].tidy()["df"].isna().all()
    assert results["cs"].tidy()["df"].isna().all()


def test_figures_name_the_level_as_the_book_does(results: dict[str, EstimatorResult]) -> None:
    labels = results["its"].plot()[1].get_legend_handles_labels()[1]
    assert "counterfactual 97.5 % CI" in labels
    ylabel = results["cs_dynamic"].plot()[1].get_ylabel()
    assert "97.5 % pointwise interval" in ylabel and "98%" not in ylabel


def test_staggered_level_and_alpha_agree(results: dict[str, EstimatorResult]) -> None:
    cs = results["cs"]
    assert cs.level == 0.975  # type: ignore[attr-defined]
    by_alpha = cs.aggregate("dynamic", alpha=1 - 0.975)  # type: ignore[attr-defined]
    by_level = cs.aggregate("dynamic", level=0.975)  # type: ignore[attr-defined]
    assert by_alpha.headline == by_level.headline
    pd.testing.assert_frame_equal(by_alpha.tidy(), by_level.tidy())
