"""The whole linkage on Spark (``evaltk run --engine spark``): the same pseudonyms, links and
flags as the DuckDB pipeline on simulated extracts with known true links, the chain
ambulance -> A&E, and the key in no query plan."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from evaltk.analysis.run import run_analysis
from evaltk.ingest.engine import EngineSettings
from evaltk.ingest.field_sql import field_column
from evaltk.ingest.pseudonyms import LinkKey, hmac_parameters
from evaltk.ingest.spark import SparkBackend, SparkSettings, spark_session
from evaltk.linkage.on_spark import KEY_VIEW, _joined, _pseudonym, link_on_spark
from evaltk.linkage.pipeline import link_episodes
from evaltk.protocol import load_protocol
from evaltk.simulate import SimulationConfig, write_dataset
from evaltk.simulate.agencies import AgencyExtracts, agency_extracts

SPARK = pytest.mark.xdist_group("spark")
ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "protocols" / "street-triage-its.yaml"
KEY = "linkage-test-key-0123456789abcdef"
CHAIN = {"ae": "ambulance"}


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AgencyExtracts]:
    folder = tmp_path_factory.mktemp("spark-linked") / "sim"
    write_dataset(SimulationConfig.preset("small", scale=0.04, seed=5), folder)
    episodes = pd.read_parquet(folder / "episodes.parquet")
    for column in episodes.columns:
        if str(episodes[column].dtype) in ("str", "string"):
            episodes[column] = episodes[column].astype(object)
    episodes["timestamp"] = episodes["timestamp"].astype("datetime64[us]")
    return folder, agency_extracts(episodes, seed=2, chained=CHAIN)


def analysis(folder: Path, simulated: Path, made: AgencyExtracts) -> Path:
    """Every extract as parquet with raw NHS numbers; A&E chained to the ambulance."""
    data = folder / "data"
    data.mkdir(parents=True)
    (data / "population.csv").write_bytes((simulated / "population.csv").read_bytes())
    made.police.to_parquet(data / "police.parquet", index=False)
    agencies = {}
    windows = {"ambulance": [0, 6], "ae": [0, 6], "admission": [0, 72]}
    for agency, table in made.agencies.items():
        table.assign(time=pd.to_datetime(table["time"]).astype("datetime64[us]")).to_parquet(
            data / f"{agency}.parquet", index=False
        )
        agencies[agency] = {
            "path": f"data/{agency}.parquet",
            "person": "nhs_number",
            "time": "time",
            "record": "record_id",
            "window_hours": windows[agency],
            **({"after": CHAIN[agency]} if agency in CHAIN else {}),
        }
    outcomes = [
        {
            "id": f"{agency}_after",
            "label": f"Share of incidents followed by {agency}",
            "role": "primary" if agency == "ae" else "secondary",
            "class": "displacement",
            "direction": "decrease",
            "measure": {"aggregate": "share", "where": {f"linked_{agency}": True}},
        }
        for agency in agencies
    ]
    body = {
        "title": "Linked on Spark",
        "data": {
            "kind": "episodes",
            "path": "data/police.parquet",
            "population": "data/population.csv",
            "identifiers": "raw",
            "linkage": {"agencies": agencies},
        },
        "outcomes": outcomes,
    }
    (folder / "analysis.yaml").write_text(
        f"protocol: {TEMPLATE}\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in body.items()),
        encoding="utf-8",
    )
    return folder


def flagged(path: Path) -> pd.DataFrame:
    """The flagged police file (a file, or Spark's folder of files), by episode id."""
    import duckdb

    where = path / "*.parquet" if path.is_dir() else path
    frame = duckdb.sql(f"SELECT * FROM read_parquet('{where}')").df()
    return frame.sort_values("episode_id").reset_index(drop=True)


def chain_truth(made: AgencyExtracts) -> pd.Series:
    """Per episode: truly followed by an ambulance record and then an A&E attendance, both
    with an NHS number (what the chain can find)."""
    found = []
    for agency in ("ambulance", "ae"):
        table = made.agencies[agency]
        with_id = set(table.loc[table["nhs_number"].notna(), "record_id"])
        truth = made.truth[(made.truth["agency"] == agency) & made.truth["record_id"].isin(with_id)]
        found.append(set(truth["episode_id"]))
    both = found[0] & found[1]
    return made.police["episode_id"].isin(both).set_axis(made.police["episode_id"]).sort_index()


@pytest.fixture(scope="module")
def linked(made, tmp_path_factory):
    """The chained analysis and its DuckDB linkage (the reference), made once."""
    simulated, extracts = made
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVALTK_LINK_KEY", KEY)
        folder = analysis(tmp_path_factory.mktemp("linked") / "a", simulated, extracts)
        loaded = load_protocol(folder)
        on_duckdb = link_episodes(loaded.protocol, loaded.folder)
    return loaded, on_duckdb, flagged(on_duckdb.path)


def _assert_as_duckdb(on_spark, linked) -> pd.DataFrame:
    _, on_duckdb, duck = linked
    assert on_spark.counts == on_duckdb.counts  # every count, for every agency
    rows = flagged(on_spark.path)
    assert len(rows) == len(duck) > 3000
    # Same pseudonyms (HMAC in Spark SQL) and the same flags, row by row.
    assert (rows["person_id"] == duck["person_id"]).all()
    assert rows["person_id"].str.fullmatch("[0-9a-f]{64}").all()
    for agency in ("ambulance", "ae", "admission"):
        assert (rows[f"linked_{agency}"] == duck[f"linked_{agency}"]).all(), agency
    return rows


@SPARK
def test_spark_linkage_gives_duckdbs_pseudonyms_links_and_chain(made, linked, spark, monkeypatch):
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    loaded = linked[0]
    backend = SparkBackend(spark)
    try:
        on_spark = link_on_spark(loaded.protocol, loaded.folder, backend=backend)
    finally:
        backend.close()
    rows = _assert_as_duckdb(on_spark, linked)
    # The chain ambulance -> A&E against the true links.
    truth = chain_truth(made[1])
    got = rows.set_index("episode_id")["linked_ae"].sort_index()
    right = int((got & truth).sum())
    precision, recall = right / int(got.sum()), right / int(truth.sum())
    print(f"chain precision {precision:.4f} recall {recall:.4f} of {int(truth.sum())}")
    # Measured 0.967 / 0.983 of 236 (seed 2): a few incidents whose ambulance record is
    # followed by a same-person A&E attendance of another incident, or whose own A&E record
    # was taken by a neighbouring ambulance record first.
    assert truth.sum() > 200
    assert precision >= 0.95 and recall >= 0.97, (precision, recall)


@SPARK
def test_spark_connect_linkage_gives_duckdbs(linked, spark, monkeypatch):
    """Through a Spark Connect address: the same counts, pseudonyms and flags."""
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    loaded = linked[0]
    remote = SparkSettings(remote=spark.conf.get("evaltk.test.remote"))
    try:
        on_connect = link_on_spark(
            loaded.protocol, loaded.folder, settings=EngineSettings(engine="spark", spark=remote)
        )
    finally:
        # The Connect session link_on_spark opened (getOrCreate gives it back), stopped
        # while its server runs: left open, its client retried releasing it for ~10
        # minutes at interpreter exit, after the server had stopped with the fixture.
        spark_session(remote).stop()
    _assert_as_duckdb(on_connect, linked)


@SPARK
def test_linked_run_on_spark_writes_the_duckdb_results_json(linked, spark, monkeypatch):
    """`evaltk run --engine spark` on the chained analysis: linkage and measures on Spark,
    the same results.json (linkage counts, panel, verdict) byte for byte as on DuckDB."""
    monkeypatch.setenv("EVALTK_LINK_KEY", KEY)
    folder = linked[0].folder
    run_analysis(folder, exploratory=True)
    on_duckdb = (folder / "results" / "results.json").read_bytes()
    run_analysis(folder, exploratory=True, engine=EngineSettings(engine="spark"))
    assert (folder / "results" / "results.json").read_bytes() == on_duckdb
    rates = json.loads(on_duckdb)["data"]["linkage"]
    assert [r["agency"] for r in rates] == ["ambulance", "ae", "admission"]
    assert all(r["incidents_linked"] > 50 for r in rates)


@SPARK
def test_the_key_is_in_no_spark_plan(tmp_path, spark):
    """The pseudonymising statement's plans (parsed to physical, after running) hold neither
    the key nor its padded halves, as bytes, hex or text."""
    secret = b"spark-plan-key-0123456789abcdef!"
    key = LinkKey(secret, "test")
    pd.DataFrame({"nhs": ["943 476 5919", "ab12c", None]}).to_parquet(tmp_path / "ids.parquet")
    backend = SparkBackend(spark)
    try:
        backend.bytes_view(KEY_VIEW, hmac_parameters(key))
        file = backend.open_location(str(tmp_path / "ids.parquet"), "parquet", "ids")
        from evaltk.ingest.dialect import spark_sql

        person = field_column("person_id", "nhs", "VARCHAR", file.path)
        sql = spark_sql(f"SELECT {_pseudonym(person, 'raw', key)} AS p FROM {_joined(file, key)}")
        frame = spark.sql(sql)
        got = [r["p"] for r in frame.collect()]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            frame.explain("extended")
            frame.explain("formatted")
        plans = out.getvalue() + sql + frame._jdf.queryExecution().toString()
    finally:
        backend.close()
    assert got == key.pseudonyms(["943 476 5919", "ab12c", None])
    assert re.search(r"(LocalRelation|ExistingRDD) ?\[inner#\d+, ?outer#", plans), plans[-300:]
    texts = [secret.hex(), secret.decode(), *(v.hex() for v in hmac_parameters(key).values())]
    for value in hmac_parameters(key).values():
        head = value[:12]
        texts += [
            str(list(head))[1:-1],  # 92, 93, ...
            " ".join(f"{b:02x}" for b in head),
            ",".join(f"{b:02x}" for b in head),
            value[:16].decode("latin-1"),
        ]
    for text in texts:
        assert text.lower() not in plans.lower(), text[:8]


@SPARK
def test_float_identifiers_get_the_pseudonyms_of_their_digits(tmp_path, spark):
    """An NHS number stored as a float (SPSS, Excel) is hashed as its digits on Spark too."""
    key = LinkKey(KEY.encode(), "test")
    numbers = [9434765919.0, None, 9_400_007_919.0]
    pd.DataFrame({"nhs": numbers}).to_parquet(tmp_path / "ids.parquet")
    backend = SparkBackend(spark)
    try:
        backend.bytes_view(KEY_VIEW, hmac_parameters(key))
        file = backend.open_location(str(tmp_path / "ids.parquet"), "parquet", "ids")
        person = field_column("person_id", "nhs", file.types["nhs"], file.path)
        got = backend.query(
            f"SELECT nhs, {_pseudonym(person, 'raw', key)} AS p FROM {_joined(file, key)}"
        )
    finally:
        backend.close()
    assert file.types["nhs"] == "DOUBLE"
    want = key.pseudonyms(numbers)
    found = {None if pd.isna(n) else n: None if pd.isna(p) else p for n, p in got.values}
    assert [found[n] for n in numbers] == want
    assert want[0] == key.pseudonym("9434765919")
