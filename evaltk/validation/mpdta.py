"""Callaway & Sant'Anna (2021) on ``mpdta``: evaltk beside R ``did`` in four scenarios.

Data and expected figures from the reference folder: ``mpdta.csv`` (500 counties, 2003-2007,
log teen employment), ``mpdta_r_did_attgt.csv`` and ``mpdta_r_did_aggte.csv`` -- R
``did::att_gt`` / ``did::aggte`` with analytical standard errors (``bstrap = FALSE,
cband = FALSE``, ``base_period = "varying"``)::

    att_gt(yname = "lemp", tname = "year", idname = "countyreal", gname = "first.treat",
           data = mpdta, control_group = ..., est_method = ..., xformla = ...)
    aggte(out, type = "simple" | "group" | "dynamic" | "calendar")

Tolerances: every ATT(g,t) and aggregate within 1e-6 absolute, every standard error within
1e-4 relative (``|ours - R| <= 1e-4 |R|``). evaltk implements the same closed forms and agrees
to about 1e-14; the tolerances leave room for other BLAS and optimiser paths. The figures R
prints rounded (the pre-trend Wald test W = 7.791, p = 0.168, and the headline figures of the
README) are checked to half a unit in their last decimal.

A (group, time) cell or an aggregation level that only one side has appears as a row with no
value on the other side, which is never within tolerance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from evaltk.estimators.staggered import CallawaySantAnna
from evaltk.validation.comparison import Comparison, rounding_tolerance
from evaltk.validation.reference import reference_file

ATT_TOL = 1e-6
SE_RTOL = 1e-4
DATA, ATTGT, AGGTE = "mpdta.csv", "mpdta_r_did_attgt.csv", "mpdta_r_did_aggte.csv"

#: The study in words, for the book's validation chapter.
TITLE = "Staggered adoption: Callaway & Sant'Anna (2021), mpdta, against R did"
SOURCE = (
    "Callaway B, Sant'Anna PHC. Difference-in-differences with multiple time periods. "
    "J Econometrics 2021;225(2):200-230. County teen employment (log), 500 counties, "
    "2003-2007, the mpdta panel of the R package did. Reference values: R did::att_gt "
    "and did::aggte with analytical standard errors (bstrap = FALSE, cband = FALSE, "
    "base_period = varying) in four scenarios; the pre-trend Wald test and the headline "
    "figures as R prints them."
)
REFERENCE_LABEL = "R did"
TOLERANCE_TEXT = (
    "Every ATT(g,t) and aggregate within 1e-6 of R's, every standard error within "
    "1e-4 of R's relative to its size; figures R prints rounded (the Wald test, the "
    "headline figures) to half a unit in their last decimal. A cell or level that only "
    "one side has would show a dash and fail."
)

#: Scenario (the reference files' name) -> estimator options.
SCENARIOS: dict[str, dict[str, Any]] = {
    "mpdta_nev_dr": {"control_group": "never_treated", "est_method": "dr"},
    "mpdta_nyt_dr": {"control_group": "not_yet_treated", "est_method": "dr"},
    "mpdta_nev_reg_cov": {
        "control_group": "never_treated",
        "est_method": "reg",
        "covariates": ["lpop"],
    },
    "mpdta_nev_ipw": {"control_group": "never_treated", "est_method": "ipw"},
}
SCENARIO_WORDS = {
    "mpdta_nev_dr": "never-treated comparisons, doubly robust",
    "mpdta_nyt_dr": "not-yet-treated comparisons, doubly robust",
    "mpdta_nev_reg_cov": "never-treated comparisons, outcome regression on lpop",
    "mpdta_nev_ipw": "never-treated comparisons, inverse probability weighting",
}
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")
LEVEL_COLUMN = {"group": "group", "dynamic": "event_time", "calendar": "time"}
LEVEL_WORDS = {"group": "cohort", "dynamic": "event time", "calendar": "year"}

#: The pre-trend Wald test of mpdta_nev_dr as R prints it: (statistic, p-value), 3 decimals.
PRETEST = {"statistic": 7.791, "p_value": 0.168}
PRETEST_DF = 5
#: The headline figures of the reference README (mpdta_nev_dr), 4 decimals.
HEADLINE = {
    ("simple", "estimate"): -0.0400,
    ("simple", "std_error"): 0.0120,
    ("group", "estimate"): -0.0310,
    ("group", "std_error"): 0.0124,
    ("dynamic", "estimate"): -0.0772,
    ("dynamic", "std_error"): 0.0200,
}

_ATT_RULE = "1e-6 absolute"
_SE_RULE = "1e-4 relative"


def load(name: str, folder: Path | None = None) -> pd.DataFrame:
    """One reference file as a frame (raises ``ReferenceMissing`` when absent)."""
    return pd.read_csv(reference_file(name, folder))


def fit_scenarios(mpdta: pd.DataFrame) -> dict[str, Any]:
    """A fitted ``CallawaySantAnna`` result per scenario of :data:`SCENARIOS`."""
    return {
        name: CallawaySantAnna(
            mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat", **kw
        ).fit()
        for name, kw in SCENARIOS.items()
    }


def _value(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def _att(study: str, group: str, quantity: str, ours: Any, ref: Any) -> Comparison:
    return Comparison(study, group, quantity, _value(ours), _ref(ref), ATT_TOL, _ATT_RULE)


def _se(study: str, group: str, quantity: str, ours: Any, ref: Any) -> Comparison:
    reference = _ref(ref)
    tolerance = SE_RTOL * abs(reference) if math.isfinite(reference) else 0.0
    return Comparison(study, group, quantity, _value(ours), reference, tolerance, _SE_RULE)


def _ref(x: Any) -> float:
    # A row evaltk has and R does not: NaN reference, so the row is never "within".
    return math.nan if x is None or pd.isna(x) else float(x)


def attgt_rows(scenario: str, result: Any, attgt: pd.DataFrame) -> list[Comparison]:
    """ATT(g,t) and its standard error per (cohort, year) cell, outer-joined with R's."""
    ref = attgt[attgt["scenario"] == scenario]
    merged = result.to_frame().merge(
        ref, left_on=["group", "time"], right_on=["group", "t"], how="outer"
    )
    merged["cell_time"] = merged["time"].fillna(merged["t"])
    rows = []
    for cell in merged.sort_values(["group", "cell_time"]).itertuples():
        label = f"ATT({int(cell.group)}, {int(cell.cell_time)})"
        rows.append(_att(scenario, "ATT(g,t)", label, cell.att_x, cell.att_y))
        rows.append(_se(scenario, "ATT(g,t)", f"SE of {label}", cell.std_error, cell.se))
    return rows


def aggregation_rows(
    scenario: str, result: Any, aggte: pd.DataFrame, agg_type: str
) -> list[Comparison]:
    """The overall figure of one aggregation and, except ``simple``, each level's."""
    ref = aggte[(aggte["scenario"] == scenario) & (aggte["type"] == agg_type)]
    agg = result.aggregate(agg_type)
    group = f"{agg_type} aggregation"
    first = ref.iloc[0] if len(ref) else None
    rows = [
        _att(
            scenario,
            group,
            "overall ATT",
            agg.estimate,
            None if first is None else first["overall_att"],
        ),
        _se(
            scenario,
            group,
            "SE of overall ATT",
            agg.std_error,
            None if first is None else first["overall_se"],
        ),
    ]
    if agg_type == "simple":
        return rows
    column = LEVEL_COLUMN[agg_type]
    ours = agg.levels[[column, "estimate", "std_error"]].rename(columns={column: "egt"})
    merged = ours.merge(ref.assign(egt=ref["egt"].astype(int)), on="egt", how="outer")
    for level in merged.sort_values("egt").itertuples():
        label = f"{LEVEL_WORDS[agg_type]} {int(level.egt)}"
        rows.append(_att(scenario, group, f"ATT, {label}", level.estimate, level.att_egt))
        rows.append(_se(scenario, group, f"SE, {label}", level.std_error, level.se_egt))
    return rows


def pretest_rows(result: Any) -> list[Comparison]:
    """The pre-trend Wald test of mpdta_nev_dr, to R's printed three decimals."""
    pre = result.pretest
    rows = []
    for name, words in (("statistic", "Wald statistic W"), ("p_value", "p-value")):
        tolerance, rule = rounding_tolerance(3)
        rows.append(
            Comparison(
                "mpdta_nev_dr",
                f"pre-trend Wald test ({pre.df} df)",
                words,
                _value(getattr(pre, name)),
                PRETEST[name],
                tolerance,
                rule,
                decimals=3,
            )
        )
    return rows


def headline_rows(result: Any) -> list[Comparison]:
    """The README's headline figures of mpdta_nev_dr, to their four printed decimals."""
    rows = []
    for (agg_type, name), published in HEADLINE.items():
        tolerance, rule = rounding_tolerance(4)
        words = "ATT" if name == "estimate" else "SE"
        rows.append(
            Comparison(
                "mpdta_nev_dr",
                "headline figures (reference README)",
                f"{agg_type} aggregation, {words}",
                _value(getattr(result.aggregate(agg_type), name)),
                published,
                tolerance,
                rule,
                decimals=4,
            )
        )
    return rows


def comparisons(folder: Path | None = None, fits: dict[str, Any] | None = None) -> list[Comparison]:
    """Every figure of the four scenarios beside R's, scenario by scenario.

    ``fits`` (from :func:`fit_scenarios`) saves refitting when the caller already has them.
    """
    attgt, aggte = load(ATTGT, folder), load(AGGTE, folder)
    if fits is None:
        fits = fit_scenarios(load(DATA, folder))
    rows: list[Comparison] = []
    for scenario in SCENARIOS:
        result = fits[scenario]
        if scenario == "mpdta_nev_dr":
            rows += headline_rows(result) + pretest_rows(result)
        rows += attgt_rows(scenario, result, attgt)
        for agg_type in AGGREGATIONS:
            rows += aggregation_rows(scenario, result, aggte, agg_type)
    return rows
