"""The measures on Spark: the same Panel and RowAccount as DuckDB from the one SQL source.

One random episode table exercises every measure type the templates use (count, rate, share
with and without a denominator filter, mean, sum, per-person repeat windows with and without
``among``, the three high-intensity measures) and every exclusion reason; it is measured by
DuckDB and by Spark (classic ``local[2]``, then through Spark Connect) and the two must agree:
counts exactly, means and shares to 1e-12 relative. The DuckDB result is itself checked
against the pandas reference elsewhere (test_measures_property, test_measures_intensity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from measures_helpers import OTHER, UNIT_A, UNIT_B, protocol, write

from evaltk.episodes.schema import PLACES_OF_SAFETY, REFERRALS
from evaltk.errors import DataError
from evaltk.ingest.dialect import spark_sql
from evaltk.ingest.spark import SparkSettings
from evaltk.measures import EngineSettings, compute_panel

# One worker runs every Spark test (`make test`: --dist loadgroup), so one JVM starts.
SPARK = pytest.mark.xdist_group("spark")

UNITS = (UNIT_A, UNIT_B)
HIGH = {"min_contacts": 3, "months": 2}
OUTCOMES = [
    {"id": "s136_rate", "measure": {"aggregate": "rate", "where": {"s136": True}}},
    {
        "id": "custody",
        "measure": {
            "aggregate": "count",
            "where": {"s136": True, "place_of_safety": "police_custody"},
        },
    },
    {
        "id": "to_ae",
        "measure": {
            "aggregate": "share",
            "denominator": {"s136": True},
            "where": {"s136": True, "place_of_safety": "emergency_department"},
        },
    },
    {"id": "wait", "measure": {"aggregate": "mean", "field": "hospital_wait_minutes"}},
    {
        "id": "referred",
        "measure": {"aggregate": "count", "where": {"referral": ["gp", "community_team"]}},
    },
    {"id": "repeat_28d", "measure": {"aggregate": "share", "repeat": {"within_days": 28}}},
    {
        "id": "repeat_ae",
        "measure": {
            "aggregate": "count",
            "where": {"s136": True},
            "repeat": {"within_days": 7, "among": {"ae_conveyance": True}},
        },
    },
    {
        "id": "long",
        "measure": {
            "aggregate": "sum",
            "field": "officer_minutes",
            "where": {"officer_minutes": {"gt": 20, "ne": 90}},
        },
    },
    {"id": "people", "measure": {"aggregate": "high_intensity_people", "high_intensity": HIGH}},
    {"id": "hi_share", "measure": {"aggregate": "high_intensity_share", "high_intensity": HIGH}},
    {
        "id": "hi_minutes",
        "measure": {
            "aggregate": "high_intensity_field_share",
            "field": "officer_minutes",
            "high_intensity": HIGH,
        },
    },
]


def random_episodes(n: int, seed: int, *, integer_ids: bool = False) -> pd.DataFrame:
    """``n`` episodes over 2015-11..2016-08 (the window is 2016-01..06) of 150 people, with
    every kind of bad row the accounting knows, in fixed proportions."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2015-11-01").value // 1000
    span = (pd.Timestamp("2016-09-01").value // 1000) - start
    # Times on the minute: repeats fall on both sides of day bounds, some at the same instant.
    micros = start + (rng.integers(0, span // 60_000_000, n) * 60_000_000)
    people = rng.integers(0, 150, n)

    def some(values, p_missing=0.05):
        chosen = pd.Series(rng.choice(np.asarray(values, dtype=object), n), dtype=object)
        return chosen.mask(rng.random(n) < p_missing)

    frame = pd.DataFrame(
        {
            "episode_id": [f"e{i}" for i in range(n)],
            "person_id": (
                pd.array(people, dtype="Int64") if integer_ids else [f"p{k}" for k in people]
            ),
            "force": some([UNIT_A, UNIT_A, UNIT_B, OTHER], 0.02),
            "timestamp": pd.to_datetime(micros, unit="us"),
            "s136": some([True, False, False]).astype("boolean"),
            "ae_conveyance": some([True, False]).astype("boolean"),
            "place_of_safety": some([*PLACES_OF_SAFETY, "nowhere"], 0.3),
            "referral": some(list(REFERRALS)),
            "officer_minutes": some([10.0, 30.0, 45.5, 90.0, 240.0, -5.0]).astype(float),
            "hospital_wait_minutes": some([0.0, 12.25, 60.0, 300.0]).astype(float),
        }
    )
    frame["admission_time"] = frame["timestamp"] + pd.to_timedelta(
        rng.integers(-2, 48, n), unit="h"
    )
    frame.loc[rng.random(n) < 0.01, "timestamp"] = pd.NaT
    frame.loc[rng.random(n) < 0.01, "episode_id"] = None
    frame.loc[5:9, "episode_id"] = "dup"  # a duplicated id: all five rows excluded
    frame.loc[rng.random(n) < 0.03, "person_id"] = None
    return frame


def _setup(tmp_path, frame: pd.DataFrame):
    write(tmp_path, frame)
    pd.DataFrame(
        [(u, 2016, p) for u, p in zip(UNITS, (120_000.0, 80_000.0), strict=True)],
        columns=["force", "year", "population"],
    ).to_csv(tmp_path / "population.csv", index=False)
    return protocol(OUTCOMES, units=UNITS)


def _assert_same(duck, spark) -> None:
    assert spark.accounting == duck.accounting
    assert spark.empty_months == duck.empty_months
    pd.testing.assert_frame_equal(spark.frame, duck.frame, check_exact=False, rtol=1e-12)
    # Counts exactly (the numerators of every count-like measure are whole numbers).
    counted = duck.frame["outcome"].isin(["custody", "referred", "repeat_ae", "people"])
    assert (spark.frame.loc[counted, "numerator"] == duck.frame.loc[counted, "numerator"]).all()


@SPARK
def test_spark_local_gives_the_duckdb_panel_and_accounting(tmp_path, spark):
    frame = random_episodes(1200, seed=15)
    p = _setup(tmp_path, frame)
    duck = compute_panel(p, tmp_path)
    on_spark = compute_panel(
        p, tmp_path, settings=EngineSettings(engine="spark", spark=SparkSettings("local[2]"))
    )
    _assert_same(duck, on_spark)
    # The table is not trivial: every exclusion reason and every measure has rows.
    excluded = duck.accounting.excluded
    assert excluded["duplicate episode id"] > 0
    assert all(
        excluded[r] > 0
        for r in (
            "timestamp missing",
            "unit not in protocol",
            "outside analysis window",
            "negative duration",
            "admission before incident",
            "code not allowed",
        )
    )
    totals = duck.frame.groupby("outcome")["numerator"].sum()
    assert (totals > 0).all(), totals[totals <= 0]


@SPARK
def test_spark_connect_gives_the_duckdb_panel(tmp_path, spark):
    """Through a Spark Connect address (how Databricks and a standalone cluster are reached),
    on integer person ids and timestamps stored as text (ISO and UK day-first)."""
    frame = random_episodes(800, seed=16, integer_ids=True)
    text = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
    uk = frame["timestamp"].dt.strftime("%d/%m/%Y %H:%M")
    frame["timestamp"] = text.where(np.arange(len(frame)) % 2 == 0, uk).astype(object)
    p = _setup(tmp_path, frame)
    duck = compute_panel(p, tmp_path)
    remote = spark.conf.get("evaltk.test.remote")
    on_connect = compute_panel(
        p, tmp_path, settings=EngineSettings(engine="spark", spark=SparkSettings(remote=remote))
    )
    _assert_same(duck, on_connect)
    assert duck.accounting.rows_used > 150


@SPARK
def test_spark_names_a_bad_value_and_refuses_other_formats(tmp_path, spark):
    frame = random_episodes(300, seed=17)
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M").astype(object)
    frame.loc[40, "timestamp"] = "last Tuesday"
    p = _setup(tmp_path, frame)
    settings = EngineSettings(engine="spark")
    with pytest.raises(DataError, match=r"column 'timestamp' .* has 'last Tuesday' \(1 such"):
        compute_panel(p, tmp_path, settings=settings)
    frame.to_csv(tmp_path / "episodes.csv", index=False)
    p = protocol(OUTCOMES, units=UNITS, data={"path": "episodes.csv"})
    with pytest.raises(DataError, match="reads parquet files and Delta tables in place"):
        compute_panel(p, tmp_path, settings=settings)


def test_duckdb_only_functions_are_compiled_to_their_spark_equivalents():
    sql = spark_sql(
        "SELECT enum_code(try_cast(f AS ENUM('a', 'b'))) AS u, epoch_us(t) AS us, hash(x) AS h, "
        "CAST(p + INTERVAL (r.lag) MONTH AS DATE) AS m, try_strptime(s, ['%d/%m/%Y', '%Y']) AS d "
        "FROM t"
    )
    assert "NULLIF(ARRAY_POSITION(ARRAY('a', 'b'), f), 0) - 1 AS u" in sql
    assert "UNIX_MICROS(CAST(t AS TIMESTAMP_LTZ)) AS us" in sql
    assert "XXHASH64(x) AS h" in sql
    assert "ADD_MONTHS(p, r.lag)" in sql
    assert "TRY_TO_TIMESTAMP(s, 'dd/MM/yyyy'), TRY_TO_TIMESTAMP(s, 'yyyy')" in sql
