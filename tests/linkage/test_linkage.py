"""Linkage of simulated police, ambulance and A&E extracts with known true links."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaltk.ingest.pseudonyms import LinkKey
from evaltk.linkage.link import Extract, link, precision_recall

KEY = LinkKey(b"0123456789abcdef0123456789abcdef", "test")
WINDOWS = {"ambulance": (0.0, 6.0), "ae": (0.0, 12.0)}


def simulate(seed: int = 3, n_people: int = 800, n_incidents: int = 3000):
    """Police incidents; for some, an ambulance record 0.2-3 h later and an A&E arrival 0.5-8 h
    later (the true links). Plus noise: agency records of people never in police data, records
    of the same people days later, NHS numbers typed with spaces by one agency, and 3 % of
    agency records with no NHS number at all (these cannot be linked: recall loss)."""
    rng = np.random.default_rng(seed)
    nhs = np.array([f"{9_000_000_000 + i * 7919}" for i in range(n_people)])
    who = rng.integers(0, n_people, n_incidents)
    t0 = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.uniform(0, 365 * 24, n_incidents), "h")
    police = pd.DataFrame(
        {"ref": [f"P{i}" for i in range(n_incidents)], "nhs": nhs[who], "logged": t0}
    )
    truth = set()
    amb, ae = [], []
    for i in range(n_incidents):
        if rng.random() < 0.35:
            rid = f"A{len(amb)}"
            amb.append((rid, nhs[who[i]], t0[i] + pd.Timedelta(hours=rng.uniform(0.2, 3))))
            truth.add((f"P{i}", "ambulance", rid))
        if rng.random() < 0.25:
            rid = f"E{len(ae)}"
            ae.append((rid, nhs[who[i]], t0[i] + pd.Timedelta(hours=rng.uniform(0.5, 8))))
            truth.add((f"P{i}", "ae", rid))
    for rows, prefix in ((amb, "A"), (ae, "E")):
        for _ in range(len(rows) // 2):  # unrelated records: other people, or days apart
            person = rng.integers(0, n_people * 2)
            ident = nhs[person] if person < n_people else f"{8_000_000_000 + person}"
            when = pd.Timestamp("2018-01-01") + pd.Timedelta(hours=rng.uniform(0, 365 * 24))
            rows.append((f"{prefix}{len(rows)}", ident, when))
    ambulance = pd.DataFrame(amb, columns=["id", "nhs_no", "time"])
    ambulance["nhs_no"] = ambulance["nhs_no"].str.replace(
        r"(\d{3})(\d{3})(\d{4})", r"\1 \2 \3", regex=True
    )
    a_and_e = pd.DataFrame(ae, columns=["id", "nhs", "arrived"])
    lost = rng.random(len(a_and_e)) < 0.03
    a_and_e.loc[lost, "nhs"] = None
    return police, ambulance, a_and_e, truth


def test_linkage_precision_and_recall():
    police, ambulance, a_and_e, truth = simulate()
    result = link(
        Extract(police, "ref", "nhs", "logged", "police"),
        {
            "ambulance": Extract(ambulance, "id", "nhs_no", "time", "ambulance"),
            "ae": Extract(a_and_e, "id", "nhs", "arrived", "ae"),
        },
        KEY,
        WINDOWS,
    )
    precision, recall = precision_recall(result.links, truth)
    print(f"linkage precision {precision:.4f} recall {recall:.4f} rates {result.rates}")
    assert precision >= 0.97
    assert recall >= 0.95
    assert 0.3 < result.rates["ambulance"]["incidents_linked"] < 0.4
    # The link table holds record ids and pseudonymous nothing else: no NHS number.
    text = result.links.to_csv()
    assert not any(n in text for n in police["nhs"].unique()[:50])
