"""California's Proposition 99: synthetic control and synthetic DiD beside the published figures.

Abadie A, Diamond A, Hainmueller J. Synthetic control methods for comparative case studies.
JASA 2010;105(490):493-505 (Table 2: the donor weights); Arkhangelsky D, Athey S, Hirshberg
DA, Imbens GW, Wager S. Synthetic difference-in-differences. AER 2021;111(12):4088-4118
(Table 1: SDID, SC and DID on outcomes only, with placebo standard errors). Per-capita
cigarette sales of 39 states, 1970-2000; California treated from 1989; 38 donors.

Tolerances:

- SDID and two-way fixed effects DiD point estimates: deterministic given the panel; the
  reference folder's README gives them to 4 decimals (R ``synthdid``), so half a unit in the
  4th decimal.
- SC of Table 1 (``synthdid``'s outcome-only synthetic control): published to 1 decimal, half
  a unit in it.
- The ADH donor weights: 0.01, as the README asks (they depend on the predictor-weight
  optimisation, which is not convex); every state the paper gives no weight must have less
  than 0.01.
- Placebo standard errors: the published ones are one random draw of 200 placebo
  replications; evaltk uses every donor once, the limit of that draw. The tolerance is two
  Monte Carlo standard deviations of a 200-replication draw, computed (seeded) from evaltk's
  own placebo estimates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaltk.estimators.synthetic import Predictor, SyntheticData, synthetic_data
from evaltk.estimators.synthetic.adh import fit_sc
from evaltk.estimators.synthetic.sdid import Method, fit_weighted, placebo_refit
from evaltk.validation.comparison import Comparison, rounding_tolerance
from evaltk.validation.reference import reference_file

STUDY = "Proposition 99"
FILE = "prop99_smoking.csv"
TREATED = "California"
START = 1989
PLACEBO_REPLICATIONS = 200
MC_DRAWS = 4000
MC_SEED = 20211201

#: The study in words, for the book's validation chapter.
TITLE = "Synthetic control and synthetic DiD: California's Proposition 99"
SOURCE = (
    "Abadie A, Diamond A, Hainmueller J. Synthetic control methods for comparative case "
    "studies. JASA 2010;105(490):493-505 (Table 2, donor weights); Arkhangelsky D, Athey "
    "S, Hirshberg DA, Imbens GW, Wager S. Synthetic difference-in-differences. AER "
    "2021;111(12):4088-4118 (Table 1, outcome only, placebo standard errors). Per-capita "
    "cigarette sales of 39 US states, 1970-2000, California treated from 1989, 38 donors. "
    "The SDID and DID point estimates to 4 decimals are R synthdid's."
)
REFERENCE_LABEL = "Published"
TOLERANCE_TEXT = (
    "SDID and DID point estimates to half a unit in the 4th decimal (they are deterministic); "
    "the SC estimate to half a unit in its one published decimal; the Abadie et al. donor "
    "weights within 0.01 (they depend on a non-convex predictor-weight search), and every "
    "other state below 0.01; placebo standard errors within two Monte Carlo standard "
    "deviations of the published 200-replication draw (evaltk uses every donor once)."
)

#: Abadie et al. 2010, Table 2.
ADH_WEIGHTS = {
    "Utah": 0.334,
    "Nevada": 0.234,
    "Montana": 0.199,
    "Colorado": 0.164,
    "Connecticut": 0.069,
}
WEIGHT_TOL = 0.01
_PRE_80S = tuple(range(1980, 1989))
#: The predictors of Abadie et al. 2010 (Table 1): means over 1980-88 (beer 1984-88) and
#: cigarette sales in 1975, 1980 and 1988.
ADH_PREDICTORS = (
    Predictor("lnincome", _PRE_80S),
    Predictor("age15to24", _PRE_80S),
    Predictor("retprice", _PRE_80S),
    Predictor("beer", tuple(range(1984, 1989))),
    Predictor("cigsale", (1975,)),
    Predictor("cigsale", (1980,)),
    Predictor("cigsale", (1988,)),
)

#: Arkhangelsky et al. 2021, Table 1: method -> (estimate, decimals, placebo SE).
TABLE1: dict[Method, tuple[float, int, float]] = {
    "sdid": (-15.6038, 4, 8.4),
    "sc": (-19.6, 1, 9.9),
    "did": (-27.3491, 4, 17.7),
}
METHOD_WORDS = {
    "sdid": "synthetic DiD",
    "sc": "synthetic control (outcome only)",
    "did": "DiD (two-way fixed effects)",
}
TABLE1_GROUP = "Arkhangelsky et al. 2021, Table 1 (outcome only)"
TABLE2_GROUP = "Abadie et al. 2010, Table 2 (with predictors)"


def load_smoking(folder: Path | None = None) -> pd.DataFrame:
    """``prop99_smoking.csv`` with integer years (raises ``ReferenceMissing`` when absent)."""
    raw = pd.read_csv(reference_file(FILE, folder))
    return raw.assign(year=raw["year"].astype(int))


def smoking_data(raw: pd.DataFrame, predictors: bool = False) -> SyntheticData:
    """California against the 38 other states (with the ADH predictors if asked)."""
    return synthetic_data(
        raw,
        treated=TREATED,
        start=START,
        unit="state",
        period="year",
        outcome="cigsale",
        predictors=ADH_PREDICTORS if predictors else (),
    )


def placebo_estimates(data: SyntheticData, method: Method) -> tuple[float, np.ndarray]:
    """The estimate and every donor's Algorithm 4 placebo estimate."""
    fit = fit_weighted(data, method)
    return fit.estimate, np.array([placebo_refit(fit, data, j) for j in range(data.n_donors)])


def replication_sd(placebos: np.ndarray) -> float:
    """Monte Carlo standard deviation of R's placebo SE from :data:`PLACEBO_REPLICATIONS`
    random draws of a donor (seeded): how far one published draw may sit from the limit."""
    rng = np.random.default_rng(MC_SEED)
    b = PLACEBO_REPLICATIONS
    draws = rng.choice(placebos, size=(MC_DRAWS, b), replace=True)
    ses = np.sqrt((b - 1) / b) * draws.std(axis=1, ddof=1)
    return float(ses.std(ddof=1))


def comparisons(folder: Path | None = None) -> list[Comparison]:
    """Every published figure beside evaltk's: Table 1 estimates and placebo standard
    errors, then the Table 2 weights."""
    raw = load_smoking(folder)
    outcome_only = smoking_data(raw)
    rows: list[Comparison] = []
    for method, (published, decimals, published_se) in TABLE1.items():
        estimate, placebos = placebo_estimates(outcome_only, method)
        tolerance, rule = rounding_tolerance(decimals)
        rows.append(
            Comparison(
                study=STUDY,
                group=TABLE1_GROUP,
                quantity=f"{METHOD_WORDS[method]}: average effect 1989-2000",
                evaltk=estimate,
                reference=published,
                tolerance=tolerance,
                tolerance_rule=rule,
                decimals=decimals,
            )
        )
        mc_sd = replication_sd(placebos)
        rows.append(
            Comparison(
                study=STUDY,
                group=TABLE1_GROUP,
                quantity=f"{METHOD_WORDS[method]}: placebo standard error",
                evaltk=float(np.std(placebos)),
                reference=published_se,
                tolerance=round(2 * mc_sd, 4),
                tolerance_rule=(
                    f"two Monte Carlo SDs ({2 * mc_sd:.2f}) of a "
                    f"{PLACEBO_REPLICATIONS}-replication placebo SE"
                ),
                decimals=1,
            )
        )
    weights = pd.Series(
        fit_sc(smoking_data(raw, predictors=True)).weights, index=outcome_only.donors
    )
    for state, published in ADH_WEIGHTS.items():
        rows.append(
            Comparison(
                study=STUDY,
                group=TABLE2_GROUP,
                quantity=f"donor weight: {state}",
                evaltk=float(weights[state]),
                reference=published,
                tolerance=WEIGHT_TOL,
                tolerance_rule="0.01 (non-convex predictor-weight search)",
                decimals=3,
            )
        )
    others = weights.drop(list(ADH_WEIGHTS))
    rows.append(
        Comparison(
            study=STUDY,
            group=TABLE2_GROUP,
            quantity=f"largest weight of the other {others.size} states",
            evaltk=float(others.max()),
            reference=0.0,
            tolerance=WEIGHT_TOL,
            tolerance_rule="0.01 (non-convex predictor-weight search)",
            decimals=3,
        )
    )
    return rows
