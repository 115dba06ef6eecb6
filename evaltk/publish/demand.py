"""The page "Where the demand goes and who carries it", from a run's demand tables.

``evaltk run`` on episodes with person ids writes, beside results.json
(:mod:`evaltk.measures.journeys`): ``pathways.csv`` (each incident of a treated force as a
step of its person's journey: contact, outcome, what followed within 28 days; before and after
the start), ``concentration.csv`` (Lorenz-type points of contacts per person, no point
describing fewer people than the disclosure threshold), ``high_intensity.csv`` (people with at
least k contacts in the year before the start and in the last year, with their incidents and
officer minutes) and ``demand.json`` (k, the windows, the months of each phase).

Disclosure control (the one rule, :mod:`evaltk.publish.count_rule`) is applied here before
anything is drawn or printed: every cell of the pathway table (incidents and people) is
suppressed (1 to threshold - 1) or rounded; shares, monthly rates, the flow figure's bands and
its nodes are computed from the published cells only, so they tell a reader nothing the
published table does not; no total of the table is published. Officer hours of a cell are
shown only where its incidents are. The high-intensity counts follow the same rule; their
shares are of published counts, and the share of hours is withheld with their number of people.
The Lorenz points are shares of groups of at least threshold people (merged by the run), so no
point describes a small group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaltk.estimators.figure_file import save_png
from evaltk.publish import format as fmt
from evaltk.publish.count_rule import publish_count, published_share
from evaltk.publish.disclosure import ROLE_DIRECTIVE, observed
from evaltk.publish.escape import Markup
from evaltk.publish.load import LoadedAnalysis
from evaltk.results.figure_files import (
    CONCENTRATION_FILE,
    DEMAND_SETTINGS_FILE,
    HIGH_INTENSITY_FILE,
    PATHWAYS_FILE,
)
from evaltk.results.schema import AnalysisResult, DisclosureSettings

PAGE = "demand"
PATHWAYS_DOWNLOAD = "pathways.csv"
FLOW_FIGURE = "figures/journeys.png"
LORENZ_FIGURE = "figures/concentration.png"

#: Stage labels in the order they are drawn (measures/journeys.py names them).
CONTACTS = ("Triage contact", "Police only")
OUTCOMES = ("Section 136", "Admission", "A&E", "Referral", "No further action")
NEXT_STEPS = ("Missing-person report", "Admission", "Repeat contact", "No contact")
PHASES = ("before", "after")
_COLOURS = {
    "Section 136": "#b2182b",
    "Admission": "#ef8a62",
    "A&E": "#fddbc7",
    "Referral": "#67a9cf",
    "No further action": "#bababa",
}


@dataclass(frozen=True)
class Demand:
    """An analysis's demand tables with disclosure control applied."""

    pathways: pd.DataFrame  # phase, contact, outcome, next, incidents, people, officer_hours
    lorenz: pd.DataFrame  # phase, people_share, contact_share
    high_intensity: pd.DataFrame  # phase, people, share_incidents, share_hours
    settings: dict[str, Any]
    threshold: int


def _settings(result: AnalysisResult) -> DisclosureSettings:
    return result.disclosure or DisclosureSettings()


def has_demand(analysis: LoadedAnalysis) -> bool:
    """Whether the run wrote the tables of a demand page (episodes with person ids)."""
    results = analysis.folder / "results"
    names = (PATHWAYS_FILE, CONCENTRATION_FILE, HIGH_INTENSITY_FILE, DEMAND_SETTINGS_FILE)
    return all((results / name).is_file() for name in names)


def read_demand(analysis: LoadedAnalysis) -> Demand | None:
    """The protected tables, or None when the run wrote none (no person ids, or a series)."""
    if not has_demand(analysis):
        return None
    results = analysis.folder / "results"
    paths = [results / name for name in (PATHWAYS_FILE, CONCENTRATION_FILE, HIGH_INTENSITY_FILE)]
    settings = json.loads((results / DEMAND_SETTINGS_FILE).read_text(encoding="utf-8"))
    rule = _settings(analysis.result)
    raw_pathways, lorenz, high = (pd.read_csv(p) for p in paths)
    return Demand(
        pathways=protect_pathways(raw_pathways, rule),
        lorenz=lorenz[["phase", "people_share", "contact_share"]],
        high_intensity=protect_high_intensity(high, rule),
        settings=settings,
        threshold=rule.threshold,
    )


def protect_pathways(raw: pd.DataFrame, rule: DisclosureSettings) -> pd.DataFrame:
    """Every cell's incidents and people by the count rule (None: suppressed); officer hours
    only where the incidents are published and not 0."""
    out = raw[["phase", "contact", "outcome", "next"]].copy()
    incidents = [publish_count(_number(v), rule) for v in raw["incidents"]]
    out["incidents"] = pd.array(incidents, dtype="Int64")
    people = [publish_count(_number(v), rule) for v in raw["people"]]
    out["people"] = pd.array(people, dtype="Int64")
    hours = raw["officer_minutes"].astype(float) / 60
    out["officer_hours"] = [
        round(h, 0) if n and h is not None and np.isfinite(h) else None
        for n, h in zip(incidents, map(_number, hours), strict=True)
    ]
    return out


def _number(value: Any) -> float | None:
    """A table cell as a float, None when missing."""
    return None if value is None or pd.isna(value) else float(value)


def protect_high_intensity(raw: pd.DataFrame, rule: DisclosureSettings) -> pd.DataFrame:
    """Per phase: published people, and their shares of published incidents and of hours."""
    rows = []
    for record in raw.to_dict("records"):
        people = publish_count(_number(record["people"]), rule)
        share = published_share(
            publish_count(_number(record["incidents"]), rule),
            publish_count(_number(record["all_incidents"]), rule),
        )
        minutes, all_minutes = _number(record["minutes"]), _number(record["all_minutes"])
        hours = (
            minutes / all_minutes
            if people and minutes is not None and all_minutes and np.isfinite(all_minutes)
            else None
        )
        if people is None:  # a small group: nothing about it is shown
            share = None
        elif people == 0:
            share = 0.0
        rows.append((record["phase"], people, share, hours))
    return pd.DataFrame(rows, columns=["phase", "people", "share_incidents", "share_hours"])


# --------------------------------------------------------------------------- the figures


def _band(x0: float, x1: float, low0: float, high0: float, low1: float, high1: float
          ) -> np.ndarray:  # fmt: skip
    """A flow from [low0, high0] at x0 to [low1, high1] at x1, as a smooth S-shaped band: the
    polygon's vertices, along its upper edge and back along its lower one."""
    x = np.linspace(x0, x1, 40)
    t = (1 - np.cos(np.pi * (x - x0) / (x1 - x0))) / 2
    high, low = high0 + (high1 - high0) * t, low0 + (low1 - low0) * t
    return np.column_stack([np.concatenate([x, x[::-1]]), np.concatenate([high, low[::-1]])])


def _stage_positions(sizes: dict[str, float], order: tuple[str, ...], gap: float) -> dict:
    """Each node's [bottom, top], top of the axis first, with ``gap`` between nodes."""
    positions, top = {}, 1.0 + gap * (len(order) - 1)
    for name in order:
        size = sizes.get(name, 0.0)
        positions[name] = (top - size, top)
        top -= size + gap
    return positions


def draw_flows(pathways: pd.DataFrame, path: Path, threshold: int) -> None:
    """Before and after, side by side: contact -> outcome -> next within the window, each band
    a share of the phase's published incidents (suppressed cells are not drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), sharey=True)
    gap = 0.045
    for ax, phase in zip(axes, PHASES, strict=True):
        cells = pathways[(pathways["phase"] == phase) & pathways["incidents"].notna()].copy()
        cells["w"] = cells["incidents"].astype(float)
        total = float(cells["w"].sum())
        ax.set_title("Before the start" if phase == "before" else "From the start")
        ax.set_xlim(-0.35, 2.35)
        ax.axis("off")
        if total <= 0:
            ax.text(1, 0.5, "no published flows", ha="center")
            continue
        cells["w"] /= total
        stages = [("contact", CONTACTS), ("outcome", OUTCOMES), ("next", NEXT_STEPS)]
        pos = [
            _stage_positions(
                {str(k): float(v) for k, v in cells.groupby(col)["w"].sum().items()}, order, gap
            )
            for col, order in stages
        ]
        # All of a panel's bands in one collection, drawn in order: the same picture (edges
        # antialiased a fraction of a pixel apart) with one artist instead of one per band
        # (about a hundred).
        bands: list[np.ndarray] = []
        colours: list[str] = []
        for i in range(2):
            (left, lorder), (right, rorder) = stages[i], stages[i + 1]
            flows = cells.groupby([left, right, "outcome"])["w"].sum()
            out_at = {k: pos[i][k][1] for k in lorder}
            in_at = {k: pos[i + 1][k][1] for k in rorder}
            # Sources stacked top-down in target order; targets in source order.
            for a in lorder:
                for b in rorder:
                    share = float(flows.loc[(a, b)].sum()) if (a, b) in flows.index else 0.0
                    if share <= 0:
                        continue
                    colours.append(_COLOURS[a if left == "outcome" else b])
                    bands.append(_band(i + 0.06, i + 0.94, out_at[a] - share, out_at[a],
                                       in_at[b] - share, in_at[b]))  # fmt: skip
                    out_at[a] -= share
                    in_at[b] -= share
        ax.add_collection(PolyCollection(bands, facecolors=colours, alpha=0.75, linewidths=0))
        for i, (_, order) in enumerate(stages):
            for name in order:
                low, high = pos[i][name]
                if high - low <= 0:
                    continue
                ax.add_patch(
                    plt.Rectangle((i - 0.06, low), 0.12, high - low, color="#333333", zorder=3)
                )
                # Outcome labels sit on a white box beside the middle bar, over the bands.
                side, align = (-0.09, "right") if i == 0 else (0.09, "left")
                box = {"facecolor": "white", "alpha": 0.8, "pad": 1, "linewidth": 0}
                ax.text(
                    i + side,
                    (low + high) / 2,
                    f"{name} {fmt.percent((high - low) * 100, whole=True)}",
                    ha=align,
                    va="center",
                    fontsize=8,
                    zorder=4,
                    bbox=box if i == 1 else None,
                )
        for i, head in enumerate(("Contact", "Outcome", "Within 28 days")):
            ax.text(i, -0.12, head, ha="center", fontsize=9, weight="bold")
    fig.suptitle(
        "Each incident's step in its person's journey, as a share of the period's incidents",
        fontsize=10,
    )
    fig.text(
        0.5, 0.01,
        f"Flows of 1-{threshold - 1} incidents are suppressed and not drawn; every other "
        "count is rounded before shares are taken.",
        ha="center", fontsize=8,
    )  # fmt: skip
    save_png(fig, path, metadata={"Software": None}, tight=True)
    plt.close(fig)


def draw_lorenz(lorenz: pd.DataFrame, path: Path, threshold: int) -> None:
    """The concentration of demand before and after: share of contacts against share of
    people, heaviest users first (a Lorenz-type curve), with the line of equal shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 5.0), layout="constrained")
    ax.plot([0, 100], [0, 100], color="#999999", linestyle=":", label="every person alike")
    styles = {"before": ("#2166ac", "Year before the start"), "after": ("#b2182b", "Last year")}
    for phase in PHASES:
        points = lorenz[lorenz["phase"] == phase]
        if len(points) < 2:
            continue
        colour, label = styles[phase]
        ax.plot(points["people_share"] * 100, points["contact_share"] * 100, marker=".",
                color=colour, label=label)  # fmt: skip
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_xlabel("People, heaviest users first (cumulative %)")
    ax.set_ylabel("Contacts (cumulative %)")
    ax.set_title("Who carries the demand", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.text(0.01, -0.02, f"Each point covers at least {threshold} people.", fontsize=8)
    save_png(fig, path, metadata={"Software": None}, tight=True)
    plt.close(fig)


# --------------------------------------------------------------------------- the page


#: The heaviest users a page sentence speaks of: the largest group up to this share of people.
TOP_PEOPLE = 0.05


def _top_share(lorenz: pd.DataFrame, phase: str) -> tuple[float, float] | None:
    """The last point of a phase's curve with at most :data:`TOP_PEOPLE` of its people (else
    its first point): (share of people, share of contacts)."""
    points = lorenz[(lorenz["phase"] == phase) & (lorenz["people_share"] > 0)]
    if points.empty:
        return None
    within = points[points["people_share"] <= TOP_PEOPLE]
    point = within.iloc[-1] if not within.empty else points.iloc[0]
    return float(point["people_share"]), float(point["contact_share"])


def _marked(value: float | None) -> Markup:
    """A published count on the page, marked for the book's HTML scan."""
    return Markup(observed(value))


def _per_month(count: float, months: int) -> str:
    return f"{count / months:,.1f}" if months else "–"


def pathway_rows(demand: Demand) -> list[dict[str, Any]]:
    """The page's table, outcome -> next step (contacts summed): each pathway's incidents,
    per month and as a share of its phase, before and after, and the change in share
    (percentage points). Every number is a sum of published cells; a sum with a suppressed
    part is written "at least"."""
    table = demand.pathways
    months = demand.settings["phase_months"]
    totals = {p: float(table.loc[table["phase"] == p, "incidents"].fillna(0).sum()) for p in PHASES}
    rows = []
    for outcome in OUTCOMES:
        for nxt in NEXT_STEPS:
            cells = table[(table["outcome"] == outcome) & (table["next"] == nxt)]
            row: dict[str, Any] = {"pathway": f"{outcome} → {nxt}"}
            shares: dict[str, float | None] = {}
            for p in PHASES:
                part = cells.loc[cells["phase"] == p, "incidents"]
                n = float(part.fillna(0).sum())
                hidden = bool(part.isna().any())
                if hidden and n == 0:
                    row[f"{p}_count"] = _marked(None)
                else:
                    row[f"{p}_count"] = Markup(("at least " if hidden else "") + observed(n))
                row[f"{p}_month"] = _per_month(n, months.get(p, 0)) if not hidden else "–"
                share = n / totals[p] if totals[p] and not hidden else None
                shares[p] = share
                row[f"{p}_share"] = "–" if share is None else fmt.percent(share * 100)
            before, after = shares["before"], shares["after"]
            row["change"] = (
                "–" if before is None or after is None else f"{(after - before) * 100:+.1f}"
            )
            rows.append(row)
    return rows


def demand_context(analysis: LoadedAnalysis, demand: Demand) -> dict[str, Any]:
    """What ``demand.md.j2`` prints."""
    k = demand.settings["min_contacts"]
    high = {str(r["phase"]): r for r in demand.high_intensity.to_dict("records")}

    def whole(share: float | None) -> str:
        return "–" if share is None else fmt.percent(share * 100, whole=True)

    def high_row(phase: str) -> dict[str, str]:
        row = high.get(phase)
        if row is None:
            return {"people": "–", "incidents": "–", "hours": "–"}
        return {
            "people": _marked(_number(row["people"])),
            "incidents": whole(_number(row["share_incidents"])),
            "hours": whole(_number(row["share_hours"])),
        }

    tops = {p: _top_share(demand.lorenz, p) for p in PHASES}
    top_text = {
        p: (
            f"the heaviest {fmt.percent(t[0] * 100)} of people made "
            f"{fmt.percent(t[1] * 100, whole=True)} of contacts"
            if t is not None
            else "too few people to show"
        )
        for p, t in tops.items()
    }
    return {
        "title": analysis.result.title,
        "units": fmt.units(analysis.result.units),
        "start": fmt.month(analysis.result.start),
        "within_days": demand.settings["within_days"],
        "span_months": demand.settings["span_months"],
        "k": k,
        "threshold": demand.threshold,
        "months": demand.settings["phase_months"],
        "rows": pathway_rows(demand),
        "high": {p: high_row(p) for p in PHASES},
        "top": top_text,
        "flow_figure": FLOW_FIGURE,
        "lorenz_figure": LORENZ_FIGURE,
        "download": f"files/{PATHWAYS_DOWNLOAD}",
        "run_command": analysis.run_command,
        "role": Markup(ROLE_DIRECTIVE),
    }


def pathways_csv(demand: Demand) -> str:
    """The published pathway table: suppressed cells empty, every count rounded."""
    return demand.pathways.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def write_demand_page(analysis: LoadedAnalysis, folder: Path) -> Path | None:
    """Write ``demand.md``, its two figures and the pathway download into a chapter's
    ``folder`` (which has ``figures/`` and ``files/``); None when the run wrote no tables."""
    from evaltk.publish.render import render

    demand = read_demand(analysis)
    if demand is None:
        return None
    draw_flows(demand.pathways, folder / FLOW_FIGURE, demand.threshold)
    draw_lorenz(demand.lorenz, folder / LORENZ_FIGURE, demand.threshold)
    (folder / "files" / PATHWAYS_DOWNLOAD).write_text(pathways_csv(demand), encoding="utf-8")
    page = folder / f"{PAGE}.md"
    page.write_text(render("demand.md.j2", d=demand_context(analysis, demand)), encoding="utf-8")
    return page
