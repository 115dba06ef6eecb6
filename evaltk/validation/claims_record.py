"""The published before/after claims and the study's scenarios as data, and the record's
replicates read back (see :mod:`evaltk.validation.claims`, which runs the study).

Kept apart from the study so that the book's page (:mod:`evaltk.publish.claims`) can print
the record with the same citations and wording without loading an estimator or the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

from evaltk.validation.record import Cell, ReplicateCell

ALPHA = 0.05


# -- the published claims ----------------------------------------------------------------------
@dataclass(frozen=True)
class PublishedClaim:
    """One published before/after comparison, as its authors reported it."""

    key: str
    place: str
    citation: str
    url: str
    what: str
    before: float
    after: float
    unit: str
    statistic: str
    published: float
    decimals: int


SUSSEX = PublishedClaim(
    key="sussex",
    place="Sussex",
    citation=(
        "Heslin M, Callaghan L, Packwood M, Badu V, Byford S. Decision analytic model exploring "
        "the cost and cost-offset implications of street triage. BMJ Open 2016;6:e009670, "
        "abstract (results)"
    ),
    url="https://doi.org/10.1136/bmjopen-2015-009670",
    what="s136 detentions, a six-month period in the year before vs the year after the start",
    before=194,
    after=118,
    unit="detentions in six months",
    statistic="chi-square (1 df)",
    published=18.542,
    decimals=3,
)

NTW = PublishedClaim(
    key="ntw",
    place="Northumberland, Tyne and Wear",
    citation=(
        "Keown P, French J, Gibson G, et al. Too much detention? Street Triage and detentions "
        "under Section 136 Mental Health Act in the North-East of England: a descriptive study "
        "of the effects of a Street Triage intervention. BMJ Open 2016;6:e011837, abstract "
        "(results); population 1,420,800 as given in the authors' conference abstract "
        "(Newcastle University ePrints 226784)"
    ),
    url="https://doi.org/10.1136/bmjopen-2016-011837",
    what="annual rate of s136 detentions, the year before vs the first year of street triage",
    before=59.8,
    after=26.4,
    unit="per 100,000 a year",
    statistic="reduction (%)",
    published=56.0,
    decimals=0,
)
NTW_POPULATION = 1_420_800

CLAIMS = (SUSSEX, NTW)


@dataclass(frozen=True)
class Scenario:
    """One threat to a before/after comparison, in the simulator's terms."""

    name: str
    says: str
    settings: dict[str, float]
    windows: str  # "year apart" (as Heslin et al.) or "consecutive"
    start_after_peak: bool = False
    effects: dict[str, float] | None = None


SCENARIOS = (
    Scenario(
        "no change, ordinary variation",
        "Triage changes nothing; detentions vary month to month as they do in real forces "
        "(seasonality, slow drifts, extra-Poisson variation); no trend.",
        {"trend": 0.0},
        "year apart",
    ),
    Scenario(
        "no change, falling trend",
        "Triage changes nothing, but detentions were already falling by 10 % a year.",
        {"trend": -0.10},
        "year apart",
    ),
    Scenario(
        "no change, start after a bad six months",
        "Triage changes nothing; the scheme starts straight after the force's worst six "
        "months (schemes are often started when the problem looks worst).",
        {"trend": 0.0},
        "consecutive",
        start_after_peak=True,
    ),
    Scenario(
        "no change, consecutive seasons",
        "Triage changes nothing; the six months before (July to December, including the "
        "summer peak) are compared with the six months after (January to June).",
        {"trend": 0.0, "seasonal_amplitude": 0.15},
        "consecutive",
    ),
    Scenario(
        "fewer detentions, more A&E",
        "Triage cuts s136 detentions by 30 % but sends 25 % more people to A&E: the claim "
        "is true as far as it goes, and says nothing of where the demand went.",
        {"trend": 0.0},
        "year apart",
        effects={"s136": 0.7, "ae_conveyance": 1.25},
    ),
)
NULL_SCENARIOS = tuple(s for s in SCENARIOS if s.effects is None)
DISPLACEMENT = SCENARIOS[-1]


@dataclass(frozen=True)
class Replicate:
    """One simulated force: the claim's test and the registered analysis, side by side."""

    before: float
    after: float
    chi_square_p: float
    claimed: bool
    its_ratio: float
    its_p: float
    its_claimed: bool
    #: Displacement scenario: whether the registered ITS of A&E conveyances finds the rise.
    ae_rise_found: bool | None = None

    def cells(self) -> list[Cell]:
        return [
            self.before,
            self.after,
            round(self.chi_square_p, 6),
            round(self.its_ratio, 6),
            round(self.its_p, 6),
            None if self.ae_rise_found is None else int(self.ae_rise_found),
        ]


#: What each replicate keeps in the record, in order (see :meth:`Replicate.cells`).
REPLICATE_FIELDS = ("before", "after", "chi_square_p", "its_ratio", "its_p", "ae_rise_found")


def from_cells(cells: list[Cell]) -> Replicate:
    """A replicate read back from the record (claims are recomputed from the p-values)."""
    before, after, p, ratio, its_p, ae = cells
    assert isinstance(before, int | float) and isinstance(after, int | float)
    assert isinstance(p, int | float) and isinstance(ratio, int | float)
    assert isinstance(its_p, int | float)
    return Replicate(
        before=float(before),
        after=float(after),
        chi_square_p=float(p),
        claimed=bool(p < ALPHA and after < before),
        its_ratio=float(ratio),
        its_p=float(its_p),
        its_claimed=bool(its_p < ALPHA and ratio < 1),
        ae_rise_found=None if ae is None else bool(ae),
    )


def read_replicates(cells: dict[str, list[ReplicateCell]]) -> dict[str, list[Replicate]]:
    """The record's replicates as :class:`Replicate` by scenario name."""
    out: dict[str, list[Replicate]] = {}
    for name, rows in cells.items():
        out[name] = []
        for row in rows:
            if not isinstance(row, list) or len(row) != len(REPLICATE_FIELDS):
                raise ValueError(f"{name}: a replicate is not a row of {REPLICATE_FIELDS}")
            out[name].append(from_cells(row))
    return out
