"""Disclosure control: small observed counts are suppressed in tables, downloads and figures,
modelled numbers are not, and the HTML scan fails on a planted small count."""

from __future__ import annotations

import pandas as pd
import pytest

from evaltk.errors import PublishError
from evaltk.publish.count_rule import known_range, publish_count
from evaltk.publish.differencing import Table, check_tables, disclosed
from evaltk.publish.disclosure import (
    protect_result,
    protect_series,
    scan_book,
    small_counts_in_html,
)
from evaltk.results.schema import DisclosureSettings

from .conftest import make_result


def test_the_rule_suppresses_1_to_4_and_rounds_the_rest_to_5():
    nhs = DisclosureSettings()  # threshold 5, round_to unset: NHS England's 5
    shown = {v: publish_count(v, nhs) for v in (0, 1, 2, 3, 4, 5, 7, 8, 12, 13, 145_149)}
    assert shown == {
        0: 0, 1: None, 2: None, 3: None, 4: None, 5: 5, 7: 5, 8: 10, 12: 10, 13: 15,
        145_149: 145_150,
    }  # fmt: skip
    # The inverse a reader can apply holds every value that publishes as it does, and no other.
    for value in range(0, 300):
        low, high = known_range(publish_count(value, nhs), nhs)
        assert low <= value <= (high if high is not None else value)
    assert known_range(5, nhs) == (5, 7) and known_range(10, nhs) == (8, 12)
    assert known_range(None, nhs) == (1, 4) and known_range(0, nhs) == (0, 0)
    # The protocol's own threshold and base: HES's 1-7 and rounding to 10.
    hes = DisclosureSettings(threshold=8, round_to=10)
    assert [publish_count(v, hes) for v in (7, 8, 14, 15)] == [None, 10, 10, 20]


def test_the_probe_difference_pins_an_unrounded_table_but_not_a_rounded_one():
    # The probe: rows_in - the other reasons - rows used gave a suppressed reason (1) back.
    relations = (("rows read", ("rows used", "reason a", "reason b")),)
    unrounded = {"rows read": (1001, 1001), "rows used": (990, 990), "reason b": (10, 10)}
    table = Table("probe: data report", {**unrounded, "reason a": (1, 4)}, relations, 5)
    assert disclosed(table) == [("reason a", 1)]
    with pytest.raises(PublishError, match=r"^probe: data report: .*reason a = 1"):
        check_tables([table])
    nhs = DisclosureSettings()
    rounded = {n: known_range(publish_count(lo, nhs), nhs) for n, (lo, _) in unrounded.items()}
    assert disclosed(Table("probe", {**rounded, "reason a": (1, 4)}, relations, 5)) == []


def test_data_report_is_protected():
    result = make_result()
    data = result.data.model_copy(
        update={
            "rows_in": 10_000,
            "rows_used": 9_840,
            "excluded": {
                "outside window": 150,
                "duplicate episode id": 3,
                "negative duration": 7,
                "code not allowed": 0,
            },
        }
    )
    safe = protect_result(result.model_copy(update={"data": data}))
    assert safe.data.excluded["duplicate episode id"] is None
    # Rounded, not withheld: with every count rounded to 5, 10,000 - 9,840 - 150 - 5 leaves
    # the suppressed 3 anywhere from 1 to 4 (the old rule withheld the 7 as well).
    assert safe.data.excluded["negative duration"] == 5
    assert safe.data.excluded["code not allowed"] == 0
    assert safe.data.rows_in == 10_000 and safe.data.rows_used == 9_840 and safe.data.suppressed
    # Modelled quantities are left alone; the observed post-period total is rounded.
    assert safe.outcomes[0].estimate == result.outcomes[0].estimate
    assert safe.outcomes[0].cumulative.observed == 1050
    odd = data.model_copy(update={"rows_in": 10_003, "rows_used": 9_843})
    rounded = protect_result(result.model_copy(update={"data": odd}))
    assert rounded.data.rows_in == 10_005 and rounded.data.rows_used == 9_845


def test_series_small_months_suppressed_model_columns_kept():
    result = make_result()
    months = pd.date_range("2016-01-01", periods=6, freq="MS")
    series = pd.DataFrame(
        {
            "outcome": "s136_rate",
            "period": months,
            "observed": [12, 3, 9, 2, 30, 8],
            "fitted": [11.5, 4.1, 9.2, 2.5, 28.0, 8.3],
            "counterfactual": 10.0,
            "cf_low": 8.0,
            "cf_high": 12.0,
            "post": [False, False, False, True, True, True],
            "in_fit": True,
        }
    )
    safe = protect_series(series, result)
    # The post-period total (40) is published exactly through the counterfactual minus the
    # events averted, but 40 - [28, 32] - [8, 12] leaves the suppressed 2 anywhere from 1 to 4,
    # so the 8 is rounded, not withheld as the old secondary suppression did.
    assert safe["observed"].isna().tolist() == [False, True, False, True, False, False]
    assert safe["observed"].dropna().tolist() == [10, 10, 30, 10]
    pd.testing.assert_series_equal(safe["fitted"], series["fitted"])


def test_html_scan_reads_only_marked_observed_counts(tmp_path):
    page = (
        '<td><span class="evaltk-observed">1,204</span></td>'
        '<td><span class="evaltk-observed">suppressed</span></td><td>3</td>'
    )
    assert small_counts_in_html(page, 5) == []  # an unmarked 3 is a modelled or other number
    (tmp_path / "ok.html").write_text(page)
    scan_book(tmp_path)
    (tmp_path / "bad.html").write_text('<p><span class="evaltk-observed">3</span></p>')
    with pytest.raises(PublishError, match=r"bad\.html.*observed count of 3"):
        scan_book(tmp_path)


def test_scan_catches_small_count_in_published_download(tmp_path):
    result = make_result()
    data = result.data.model_copy(update={"excluded": {"x": 2}})
    (tmp_path / "results.json").write_text(result.model_copy(update={"data": data}).to_json())
    with pytest.raises(PublishError, match=r"excluded\[x\] = 2"):
        scan_book(tmp_path)


# -- comparison designs (cits, did): observed figures, effects.csv ----------------------------


def _comparison_result(design: str):
    from evaltk.results.schema import EventTimeEffect, FigureFile

    result = make_result()
    outcomes = []
    for outcome in result.outcomes:
        update: dict = {"design": design, "cumulative": None}
        if design == "did":
            update["event_time"] = [
                EventTimeEffect(
                    event_time=0, estimate=0.9, ci_low=0.8, ci_high=1.0, p_value=0.1, kind="lag"
                )
            ]
            update["figures"] = [
                FigureFile(kind="groups", path=f"figures/{outcome.outcome}-groups.png")
            ]
        outcomes.append(outcome.model_copy(update=update))
    return result.model_copy(
        update={
            "design": design,
            "units": ["E23000019", "E23000020"],
            "starts": {"E23000019": "2016-04-01", "E23000020": None},
            "outcomes": outcomes,
        }
    )


def _figure_data(outcome: str, figure: str, small_at: int) -> pd.DataFrame:
    """Six months of treated and comparison points; the treated group's count at month
    ``small_at`` is 3."""
    months = pd.date_range("2016-01-01", periods=6, freq="MS")
    treated_count = [40, 42, 38, 41, 39, 37]
    treated_count[small_at] = 3
    rows = []
    for group, counts in (("treated", treated_count), ("comparison", [60] * 6)):
        for month, count in zip(months, counts, strict=True):
            value = float(count) if figure == "main" else count / 7.3  # a group-mean rate
            rows.append(
                {
                    "outcome": outcome,
                    "figure": figure,
                    "period": month.date().isoformat(),
                    "group": group,
                    "observed": value,
                    "fitted": value + 0.5 if figure == "main" else float("nan"),
                    "counterfactual": value + 2 if figure == "main" else float("nan"),
                    "post": month >= pd.Timestamp("2016-04-01"),
                    "count": count,
                }
            )
    return pd.DataFrame(rows)


def _write_comparison(root, result, figure: str, *, data: bool = True):
    from .conftest import write_png

    folder = root / "cits"
    results = folder / "results"
    results.mkdir(parents=True)
    (folder / "analysis.yaml").write_text("protocol: x\n")
    (results / "results.json").write_text(result.to_json(), encoding="utf-8")
    for outcome in result.outcomes:
        write_png(results / outcome.figure)
        for extra in outcome.figures:
            write_png(results / extra.path)
    (results / "effects.csv").write_text(
        "outcome,kind,term,estimate,ci_low,ci_high,p_value,scale,std_error\n"
        "s136_rate,headline,treated_level,0.8,0.7,0.9,0.01,ratio,0.05\n"
    )
    (results / "panel.csv").write_text("outcome,unit,period,numerator\ns136_rate,A,2016-01,3\n")
    if data:
        frame = pd.concat(
            [
                _figure_data("s136_rate", figure, small_at=4),
                _figure_data("ae_conveyances", figure, small_at=0).assign(count=50),
            ]
        )
        frame.to_csv(results / "figure_data.csv", index=False)
    return folder


@pytest.mark.parametrize(("design", "figure"), [("cits", "main"), ("did", "groups")])
def test_comparison_figure_with_small_count_is_redrawn_without_it(
    tmp_path, book_dir, monkeypatch, design, figure
):
    from evaltk.publish import pages
    from evaltk.publish.disclosure import protect
    from evaltk.publish.load import load_analyses

    result = _comparison_result(design)
    folder = _write_comparison(tmp_path / "analyses", result, figure)
    (analysis,) = load_analyses(tmp_path / "analyses")
    safe = protect(analysis)
    assert safe.redraw_figures == (("s136_rate", figure),)
    data = safe.figure_data
    assert data is not None and "count" not in data
    s136 = data[(data["outcome"] == "s136_rate") & (data["group"] == "treated")]
    assert s136["observed"].isna().tolist() == [False, False, False, False, True, False]
    assert data.loc[data["outcome"] == "ae_conveyances", "observed"].notna().all()
    assert s136["fitted"].notna().all() or figure == "groups"  # model columns are kept

    drawn: list[tuple[str, str, bool]] = []
    real = pages.redraw_comparison_figure

    def spy(frame, outcome, kind, res, path):
        part = frame[(frame["outcome"] == outcome) & (frame["figure"] == kind)]
        shown = part["observed"].dropna()
        drawn.append((outcome, kind, bool(((shown > 0) & (shown < 5)).any())))
        real(frame, outcome, kind, res, path)

    monkeypatch.setattr(pages, "redraw_comparison_figure", spy)
    pages.write_pages([analysis], book_dir)
    assert drawn == [("s136_rate", figure, False)]  # drawn without the small count
    chapter = book_dir / "analyses" / "cits"
    name = "s136_rate.png" if figure == "main" else "s136_rate-groups.png"
    source = folder / "results" / "figures" / name
    assert (chapter / "figures" / name).read_bytes() != source.read_bytes()  # redrawn
    other = "ae_conveyances.png" if figure == "main" else "ae_conveyances-groups.png"
    assert (chapter / "figures" / other).read_bytes() == (
        folder / "results" / "figures" / other
    ).read_bytes()  # no small count: copied as drawn
    assert (chapter / "files" / "effects.csv").is_file()
    assert not list(book_dir.rglob("figure_data.csv")) and not list(book_dir.rglob("panel.csv"))
    scan_book(book_dir / "analyses")  # the published files pass the scan


def test_comparison_observed_figure_without_its_data_is_refused(tmp_path):
    from evaltk.publish.disclosure import protect
    from evaltk.publish.load import load_analyses

    _write_comparison(tmp_path / "analyses", _comparison_result("cits"), "main", data=False)
    (analysis,) = load_analyses(tmp_path / "analyses")
    with pytest.raises(PublishError, match=r"figure_data\.csv is missing.*re-run"):
        protect(analysis)


def test_scan_fails_on_planted_small_count_in_comparison_downloads(tmp_path):
    (tmp_path / "effects.csv").write_text(
        "outcome,kind,term,estimate\ns136_rate,headline,treated_level,0.8\n"
    )
    scan_book(tmp_path)  # model estimates only: passes
    (tmp_path / "effects.csv").write_text(
        "outcome,kind,term,estimate,observed\ns136_rate,headline,treated_level,0.8,3\n"
    )
    with pytest.raises(PublishError, match=r"effects\.csv: observed 3"):
        scan_book(tmp_path)
    (tmp_path / "effects.csv").unlink()
    _figure_data("s136_rate", "main", small_at=1).to_csv(tmp_path / "figure_data.csv")
    with pytest.raises(PublishError, match=r"figure_data\.csv holds unprotected"):
        scan_book(tmp_path)


def test_small_count_on_a_comparison_page_fails_the_scan(tmp_path):
    page = '<p>Treated forces: <span class="evaltk-observed">2</span> detentions</p>'
    (tmp_path / "index.html").write_text(page)
    with pytest.raises(PublishError, match=r"observed count of 2"):
        scan_book(tmp_path)


def test_a_month_the_exact_post_total_would_give_away_is_withheld_with_another():
    # Post months 4 and 7: the total (11) is published exactly through the counterfactual
    # minus the events averted; 7 publishes as 5 (5 to 7), so 11 - 7 = 4 would give the
    # suppressed month back: the 7 is withheld too.
    result = make_result()
    series = pd.DataFrame(
        {
            "outcome": "s136_rate",
            "period": pd.date_range("2016-01-01", periods=4, freq="MS"),
            "observed": [40, 38, 4, 7],
            "post": [False, False, True, True],
            "in_fit": True,
        }
    )
    safe = protect_series(series, result)
    assert safe["observed"].isna().tolist() == [False, False, True, True]
    # Both months' range given everything published is now wide, not a single value.
    table = Table(
        "t", {"a": (1, 4), "b": (5, None), "total": (11, 11)}, (("total", ("a", "b")),), 5
    )
    assert disclosed(table) == []


def test_synthetic_placebo_gap_of_a_small_treated_month_is_suppressed_and_redrawn(tmp_path):
    """The treated force's placebo gap is its observed value minus the synthetic one published
    beside it: a month whose count is small is suppressed in the gap too (the donors' gaps,
    whose synthetic forces are not published, are kept), and the figure is redrawn without it."""
    from evaltk.publish.disclosure import observed_figures, protect_figure_data
    from evaltk.publish.disclosure import redraw_comparison_figure as redraw
    from evaltk.results.schema import FigureFile

    base = make_result()
    outcomes = [
        o.model_copy(
            update={
                "figures": [FigureFile(kind="placebo", path=f"figures/{o.outcome}-placebo.png")]
            }
        )
        for o in base.outcomes
    ]
    result = base.model_copy(update={"design": "synthetic_control", "outcomes": outcomes})
    assert observed_figures(result, "s136_rate") == ["main", "placebo"]
    periods = pd.date_range("2016-01-01", periods=4, freq="MS")
    counts = [20, 3, 25, 30]  # the treated force's count by month: one small
    rows = []
    for count in counts:
        rows.append(("treated", "T", 0.5 + count / 100, count))
        rows += [("placebo", f"D{i}", 0.1 * i - 0.15, None) for i in range(3)]
    frame = pd.DataFrame(
        [
            {"outcome": "s136_rate", "figure": "placebo", "period": p, "group": g, "unit": u,
             "observed": v, "count": c}
            for p, (g, u, v, c) in zip(
                [p for p in periods for _ in range(4)], rows, strict=True
            )
        ]
    )  # fmt: skip
    safe = protect_figure_data(frame, result)
    treated = safe[safe["group"] == "treated"]
    assert treated["observed"].isna().tolist() == [False, True, False, False]
    assert safe.loc[safe["group"] == "placebo", "observed"].notna().all()
    path = tmp_path / "placebo.png"
    redraw(safe, "s136_rate", "placebo", result, path)
    assert path.is_file() and path.stat().st_size > 1000
