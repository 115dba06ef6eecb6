"""The chain conveyance -> A&E (``after: ambulance``): links through another agency's records,
checked against simulated extracts with known true links; the protocol's one-line refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from evaltk.ingest.pseudonyms import LinkKey
from evaltk.linkage.chain import link_order
from evaltk.linkage.link import Extract, link, precision_recall
from evaltk.protocol.spec import Linkage
from evaltk.simulate.agencies import agency_extracts

KEY = LinkKey(b"0123456789abcdef0123456789abcdef", "test")


def episodes(n: int = 5000, people: int = 2000, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2019-01-01")
    return pd.DataFrame(
        {
            "episode_id": [f"P{i}" for i in range(n)],
            "person_id": [f"person{p}" for p in rng.integers(0, people, n)],
            "timestamp": start + pd.to_timedelta(rng.uniform(0, 365 * 24, n), unit="h"),
            "ambulance_conveyance": rng.random(n) < 0.3,
            "ae_conveyance": rng.random(n) < 0.25,
            "admitted_72h": rng.random(n) < 0.05,
        }
    )


def test_chained_ae_links_through_the_ambulance_record():
    made = agency_extracts(episodes(), seed=1, chained={"ae": "ambulance"})
    police = made.police.assign(timestamp=made.police["timestamp"].astype("datetime64[us]"))

    def extract(agency: str) -> Extract:
        return Extract(made.agencies[agency], "record_id", "nhs_number", "time", agency)

    result = link(
        Extract(police, "episode_id", "person_id", "timestamp", "police"),
        {"ambulance": extract("ambulance"), "ae": extract("ae")},
        KEY,
        {"ambulance": (0.0, 6.0), "ae": (0.0, 6.0)},
        after={"ae": "ambulance"},
    )
    truth = made.truth
    with_id = {
        a: set(t.loc[t["nhs_number"].notna(), "record_id"]) for a, t in made.agencies.items()
    }
    conveyed = set(
        truth.loc[
            (truth["agency"] == "ambulance") & truth["record_id"].isin(with_id["ambulance"]),
            "episode_id",
        ]
    )
    # The chain can find the A&E attendances that followed a conveyance with an NHS number.
    true_chain = {
        (e, "ae", r)
        for e, a, r in truth.itertuples(index=False)
        if a == "ae" and e in conveyed and r in with_id["ae"]
    }
    chain = result.links[result.links["agency"] == "ae"]
    precision, recall = precision_recall(chain, true_chain)
    print(f"chain precision {precision:.4f} recall {recall:.4f} of {len(true_chain)}")
    assert len(true_chain) > 300
    # Measured 0.9973 / 1.0 of 367 (seed 1).
    assert precision >= 0.99 and recall >= 0.99, (precision, recall)
    # Hours after are counted from the incident: ambulance 0.1-2 h, then A&E 0.3-3 h later.
    assert chain["hours_after"].between(0.4 - 1e-9, 5.0 + 1e-9).mean() > 0.97
    # Every chained link goes through a linked ambulance record of the same incident.
    assert set(chain["police_record"]) <= set(
        result.links.loc[result.links["agency"] == "ambulance", "police_record"]
    )


def _linkage(after: dict[str, str]) -> dict:
    agencies = {
        a: {"path": f"{a}.parquet", "person": "nhs", "time": "t", "window_hours": [0, 6]}
        for a in ("ambulance", "ae")
    }
    for agency, parent in after.items():
        agencies[agency]["after"] = parent
    return {"agencies": agencies}


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (
            {"ae": "admission"},
            "agencies.ae.after: 'admission' is not among the linked agencies (ambulance, ae); "
            "add its extract or remove 'after'",
        ),
        (
            {"ae": "ambulance", "ambulance": "ae"},
            "agencies.ambulance.after: the chain ambulance -> ae -> ambulance comes back to "
            "itself; each agency must follow the police incident or an agency that does",
        ),
        ({"ae": "ae"}, "agencies.ae.after: the chain ae -> ae comes back to itself"),
    ],
)
def test_unknown_or_circular_chains_are_refused_in_one_line(after, message):
    with pytest.raises(ValidationError) as caught:
        Linkage.model_validate(_linkage(after))
    [error] = caught.value.errors()
    assert message in error["msg"] and "\n" not in error["msg"]


def test_chained_agencies_are_linked_after_the_agency_they_follow():
    assert link_order({"admission": "ae", "ae": "ambulance", "ambulance": None}) == [
        "ambulance",
        "ae",
        "admission",
    ]
    assert link_order({"ae": None, "ambulance": None}) == ["ae", "ambulance"]
