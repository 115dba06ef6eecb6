"""Linkage on Spark: the one-to-one time-window matching as set operations, the same links
as on DuckDB (and as the greedy rule), with today's precision and recall; and the chain
ambulance -> A&E matched the same way on both engines."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from test_linkage import KEY, WINDOWS, simulate

from evaltk.ingest.engine import DuckDBBackend
from evaltk.ingest.pseudonyms import hmac_parameters, pseudonym_sql
from evaltk.ingest.spark import SparkBackend
from evaltk.linkage.link import Extract, link_pseudonymised, precision_recall, pseudonymise
from evaltk.linkage.match import one_to_one

# One worker runs every Spark test (`make test`: --dist loadgroup), so one JVM starts.
SPARK = pytest.mark.xdist_group("spark")


def _tables(tmp_path, seed: int = 3):
    police, ambulance, a_and_e, truth = simulate(seed)
    tables = {
        "police": pseudonymise(Extract(police, "ref", "nhs", "logged"), KEY),
        "ambulance": pseudonymise(Extract(ambulance, "id", "nhs_no", "time"), KEY),
        "ae": pseudonymise(Extract(a_and_e, "id", "nhs", "arrived"), KEY),
    }
    paths = {}
    for name, table in tables.items():
        table = table.assign(time=table["time"].dt.floor("us").astype("datetime64[us]"))
        tables[name] = table
        paths[name] = tmp_path / f"{name}.parquet"
        table.to_parquet(paths[name], index=False)
    return tables, paths, truth


def _keys(links: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(links["police_record"], links["agency_record"], strict=True))


@SPARK
def test_spark_links_as_duckdb_with_todays_precision_and_recall(tmp_path, spark):
    tables, paths, truth = _tables(tmp_path)
    on_duckdb = link_pseudonymised(tables["police"], {a: tables[a] for a in WINDOWS}, WINDOWS).links
    backend = SparkBackend(spark)
    try:
        for name, path in paths.items():
            backend.open_location(str(path), "parquet", f"t_{name}")
        found = []
        for number, (agency, window) in enumerate(WINDOWS.items()):
            links = one_to_one(backend, "t_police", f"t_{agency}", window, f"s{number}")
            found.append(links.assign(agency=agency))
            expected = on_duckdb[on_duckdb["agency"] == agency]
            assert _keys(links) == _keys(expected)
            assert len(links) > 500
            merged = links.merge(expected, on=["police_record", "agency_record"])
            assert (merged["hours_after_x"] == merged["hours_after_y"]).all()
        # Chain: each ambulance record to the A&E arrival 0-8 hours after it, one to one.
        chain_spark = one_to_one(backend, "t_ambulance", "t_ae", (0.0, 8.0), "chain")
    finally:
        backend.close()
    precision, recall = precision_recall(pd.concat(found), truth)
    # Today's figures exactly (0.99721 / 0.98675, which the issue rounds to 0.997 / 0.987):
    # the links are the same on both engines (asserted above), and the greedy loop this
    # replaced gave these very links. Of the 24 true links missed, 21 are A&E records without
    # an NHS number; the other 3 were taken by the same person's earlier incident hours before.
    assert precision >= 0.9972 and recall >= 0.98674, (precision, recall)
    con = duckdb.connect()
    try:
        for name, table in tables.items():
            con.register(f"t_{name}", table)
        chain_duckdb = one_to_one(DuckDBBackend(con), "t_ambulance", "t_ae", (0.0, 8.0), "c")
    finally:
        con.close()
    assert _keys(chain_spark) == _keys(chain_duckdb) and len(chain_duckdb) > 200
    # The chain is right where both ends truly belong to one incident.
    incident_of = {(a, r): p for p, a, r in truth}
    true_pairs = sum(
        incident_of.get(("ambulance", amb)) is not None
        and incident_of.get(("ambulance", amb)) == incident_of.get(("ae", ae))
        for amb, ae in _keys(chain_duckdb)
    )
    assert true_pairs / len(chain_duckdb) > 0.9


@SPARK
def test_pseudonyms_in_either_engine_are_todays(tmp_path, spark):
    """HMAC-SHA-256 pseudonyms computed by SQL in DuckDB and in Spark equal LinkKey's."""
    rng = np.random.default_rng(8)
    ids = [f"{9_400_000_000 + int(n)}" for n in rng.integers(0, 10**9, 300)]
    ids[:6] = [" 943 476 5919", "ab12c", "", "nan", None, "x\ty"]
    frame = pd.DataFrame({"nhs": ids})
    frame.to_parquet(tmp_path / "ids.parquet", index=False)
    expected = KEY.pseudonyms(ids)
    sql = f"SELECT nhs, {pseudonym_sql('nhs')} AS p FROM t ORDER BY nhs"
    params = hmac_parameters(KEY)
    con = duckdb.connect()
    try:
        con.register("t", frame)
        on_duckdb = DuckDBBackend(con).query(sql, params)
    finally:
        con.close()
    backend = SparkBackend(spark)
    try:
        backend.open_location(str(tmp_path / "ids.parquet"), "parquet", "t")
        on_spark = backend.query(sql, params)
    finally:
        backend.close()
    want = dict(zip(ids, expected, strict=True))
    for got in (on_duckdb, on_spark):
        assert len(got) == len(ids)
        for nhs, pseudonym in zip(got["nhs"], got["p"], strict=True):
            nhs = None if pd.isna(nhs) else nhs
            assert (None if pd.isna(pseudonym) else pseudonym) == want[nhs], nhs
    assert want["ab12c"] == KEY.pseudonym("AB12C") and want[""] is None
