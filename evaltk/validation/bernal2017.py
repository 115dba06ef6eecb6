"""Bernal, Cummins & Gasparrini (2017): the four smoking-ban models on ``sicily.csv``.

Lopez Bernal J, Cummins S, Gasparrini A. Interrupted time series regression for the evaluation
of public health interventions: a tutorial. Int J Epidemiol 2017;46(1):348-355. Monthly acute
coronary events in Sicily 2002-2006; smoking ban from ``time`` 37 (January 2005). The published
figures are the authors' ``Rcode.R`` with ``Epi::ci.lin`` (normal-quantile 95 % intervals),
as tabulated in the reference folder's README; the R models are

    model1 <- glm(aces ~ offset(log(stdpop)) + smokban + time, family = poisson)
    model2 <- same with family = quasipoisson
    model3 <- model2 + harmonic(month, 2, 12)
    model4 <- model3 + I(time - 36):smokban

Tolerance: the published figures are rounded, so each must equal ours rounded to the same
number of decimals, i.e. ``|ours - published| <= half a unit in the last published decimal``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaltk.estimators.its import ITSModel, ITSResult, ITSSpec
from evaltk.validation.comparison import Comparison, rounding_tolerance
from evaltk.validation.reference import reference_file

STUDY = "Bernal 2017"
FILE = "sicily.csv"
BAN = pd.Timestamp("2005-01-01")

#: The study in words, for the book's validation chapter.
TITLE = "Interrupted time series: Bernal, Cummins & Gasparrini (2017)"
SOURCE = (
    "Lopez Bernal J, Cummins S, Gasparrini A. Interrupted time series regression for "
    "the evaluation of public health interventions: a tutorial. Int J Epidemiol "
    "2017;46(1):348-355. Monthly acute coronary events in Sicily, 2002-2006 (59 "
    "months), smoking ban from January 2005, age-standardised population as offset. "
    "Published figures: the authors' R code (Epi::ci.lin, normal-quantile 95 % "
    "intervals)."
)
REFERENCE_LABEL = "Published"
TOLERANCE_TEXT = (
    "The paper prints rounded figures, so each must equal evaltk's rounded to the "
    "same decimals: the tolerance is half a unit in the last published decimal."
)

#: key -> (heading, spec, {figure: (published value, decimals)}).
MODELS: dict[str, tuple[str, ITSSpec, dict[str, tuple[float, int]]]] = {
    "m1-poisson": (
        "Model 1: Poisson, smokban + time",
        ITSSpec(family="poisson", seasonality="none"),
        {"rr": (0.894, 3), "rr_low": (0.865, 3), "rr_high": (0.925, 3)},
    ),
    "m2-quasipoisson": (
        "Model 2: quasi-Poisson, smokban + time",
        ITSSpec(family="quasi_poisson", seasonality="none"),
        {"rr": (0.894, 3), "rr_low": (0.839, 3), "rr_high": (0.953, 3), "dispersion": (3.559, 3)},
    ),
    "m3-quasipoisson-harmonic2": (
        "Model 3: model 2 + harmonic(month, 2, 12)",
        ITSSpec(family="quasi_poisson", seasonality="fourier", harmonics=2),
        {
            "rr": (0.885, 3),
            "rr_low": (0.839, 3),
            "rr_high": (0.933, 3),
            "dispersion": (2.262, 3),
            "trend_per_year": (1.067, 3),
        },
    ),
    "m4-quasipoisson-harmonic2-slope": (
        "Model 4: model 3 + I(time - 36):smokban",
        ITSSpec(family="quasi_poisson", seasonality="fourier", harmonics=2, slope_change=True),
        {
            "rr": (0.876, 3),
            "rr_low": (0.827, 3),
            "rr_high": (0.929, 3),
            "slope": (1.0015, 4),
            "slope_low": (0.9978, 4),
            "slope_high": (1.0051, 4),
            "dispersion": (2.275, 3),
        },
    ),
}

QUANTITY_WORDS = {
    "rr": "rate ratio of the ban",
    "rr_low": "rate ratio, 95 % CI lower",
    "rr_high": "rate ratio, 95 % CI upper",
    "dispersion": "dispersion (Pearson χ² / df)",
    "trend_per_year": "underlying trend, rate ratio per year",
    "slope": "slope change, rate ratio per month",
    "slope_low": "slope change, 95 % CI lower",
    "slope_high": "slope change, 95 % CI upper",
}


def load_sicily(folder: Path | None = None) -> pd.DataFrame:
    """``sicily.csv`` as published (raises ``ReferenceMissing`` when absent)."""
    return pd.read_csv(reference_file(FILE, folder))


def as_series(raw: pd.DataFrame) -> pd.DataFrame:
    """The ITS input frame: month, acute coronary events, standardised population as exposure."""
    period = pd.to_datetime(pd.DataFrame({"year": raw["year"], "month": raw["month"], "day": 1}))
    return pd.DataFrame({"period": period, "y": raw["aces"], "exposure": raw["stdpop"]})


def fit(raw: pd.DataFrame, key: str) -> ITSResult:
    """Model ``key`` of :data:`MODELS` fitted to the Sicily series."""
    return ITSModel(as_series(raw), BAN, MODELS[key][1]).fit()


def figures(res: ITSResult) -> dict[str, float]:
    """The figures the paper reports, by the names of :data:`MODELS`."""
    out = {
        "rr": res.effect.estimate,
        "rr_low": res.effect.ci_low,
        "rr_high": res.effect.ci_high,
        "dispersion": res.dispersion,
        "trend_per_year": res.trend_per_year.estimate,
    }
    if res.slope_effect is not None:
        out |= {
            "slope": res.slope_effect.estimate,
            "slope_low": res.slope_effect.ci_low,
            "slope_high": res.slope_effect.ci_high,
        }
    return out


def comparisons(folder: Path | None = None) -> list[Comparison]:
    """Every published figure of models 1-4 beside evaltk's, in the paper's order."""
    raw = load_sicily(folder)
    rows = []
    for key, (heading, _, expected) in MODELS.items():
        ours = figures(fit(raw, key))
        for name, (published, decimals) in expected.items():
            tolerance, rule = rounding_tolerance(decimals)
            rows.append(
                Comparison(
                    study=STUDY,
                    group=heading,
                    quantity=QUANTITY_WORDS[name],
                    evaltk=float(ours[name]),
                    reference=published,
                    tolerance=tolerance,
                    tolerance_rule=rule,
                    decimals=decimals,
                )
            )
    return rows
