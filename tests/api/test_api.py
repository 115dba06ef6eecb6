"""evaltk's notebook API: the same run as `evaltk run`, objects that show themselves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

import evaltk as ev
from evaltk.analysis.run import run_analysis
from evaltk.api.results import TIDY_COLUMNS
from evaltk.errors import RunRefused

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"
HOSTILE = '<script>alert(1)</script> & "quotes"'


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    analysis = tmp_path_factory.mktemp("api") / "my-force"
    ev.simulate_data(analysis / "data", preset="small", seed=11)
    (analysis / "analysis.yaml").write_text(
        f"protocol: {TEMPLATE}\n"
        f"title: '{HOSTILE}'\n"
        "intervention: {start: {E23000019: 2016-04-01}}\n"
        "units: [E23000019]\n"
        "data: {kind: episodes, path: data/episodes.parquet, population: data/population.csv}\n"
        "window: {start: 2014-01-01, end: 2019-12-31}\n",
        encoding="utf-8",
    )
    return analysis


@pytest.fixture(scope="module")
def res(folder: Path) -> ev.Results:
    return ev.run(ev.load(folder), exploratory=True, progress=False)


def test_import_evaltk_does_not_load_the_api() -> None:
    code = "import sys, evaltk; print('evaltk.api' in sys.modules, callable(evaltk.run))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Not loaded by the import; loaded (and callable) on first use.
    assert out.stdout.split() == ["False", "True"]


def test_run_writes_what_evaltk_run_writes(folder: Path, res: ev.Results) -> None:
    written = (folder / "results" / "results.json").read_text(encoding="utf-8")
    assert written == res.result.to_json()
    again = run_analysis(folder, exploratory=True)
    assert (folder / "results" / "results.json").read_text(encoding="utf-8") == written
    assert again == res.result
    assert set(res.fits) == {o.outcome for o in res.result.outcomes}


def test_unregistered_run_is_refused_as_by_the_cli(folder: Path) -> None:
    analysis = ev.load(folder)
    assert analysis.registration == "unregistered"
    assert "not registered" in repr(analysis)
    with pytest.raises(RunRefused, match="not registered"):
        ev.run(analysis, progress=False)


def test_tidy_has_a_row_per_outcome_from_results_json(res: ev.Results) -> None:
    frame = res.tidy()
    assert list(frame.columns) == list(TIDY_COLUMNS)
    assert list(frame["outcome"]) == [o.outcome for o in res.result.outcomes]
    s136 = res.result.outcome("s136_rate")
    row = frame.set_index("outcome").loc["s136_rate"]
    assert (row["estimate"], row["ci_low"], row["p_value"]) == (
        s136.estimate,
        s136.ci_low,
        s136.p_value,
    )
    assert isinstance(res.outcome("s136_rate").tidy(), pd.DataFrame)


def test_outcome_plot_returns_a_figure_fitted_and_read_back(folder: Path, res: ev.Results) -> None:
    fig = res.outcome("s136_rate").plot()
    assert isinstance(fig, Figure) and fig.axes[0].get_title().startswith("Section 136")
    read = ev.read_results(folder)
    assert read.fits == {} and read.result == res.result
    saved = read.outcome("s136_rate").plot()
    assert isinstance(saved, Figure) and saved.images  # the PNG the run wrote
    with pytest.raises(KeyError, match="no outcome 's136'; this analysis has s136_rate"):
        res.outcome("s136")


def test_html_escapes_the_title_and_shows_verdict_and_figures(res: ev.Results) -> None:
    page = res._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in page
    assert f"<b>{res.verdict}</b>" in page and "EXPLORATORY".lower() in page.lower()
    assert page.count("data:image/png;base64,") == 2  # the ledger and the primary outcome
    assert "<script>" not in ev.load(res.folder)._repr_html_()
    assert "<script>" not in res.outcome("s136_rate")._repr_html_()


def test_run_leaves_the_matplotlib_backend_alone(folder: Path) -> None:
    # A run used to switch the session to Agg, so a notebook showed no figure afterwards.
    code = (
        "import matplotlib; matplotlib.use('svg'); import evaltk as ev; "
        f"ev.read_results({str(folder)!r}).outcome('s136_rate').plot(); "
        "import evaltk.analysis.run; print(matplotlib.get_backend())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "svg"
