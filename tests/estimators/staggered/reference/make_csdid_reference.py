"""Regenerate ``csdid_mpdta.json``: csdid 0.4.3 (a line-by-line Python port of R ``did``) on mpdta.

The R reference in ``../shared/reference`` covers the doubly robust and IPW estimators without
covariates and outcome regression with ``lpop``. This file adds what it leaves out: ``dr`` and
``ipw`` with covariates, the universal base period, anticipation, and the ``balance_e``,
``min_e`` and ``max_e`` options of the aggregations. Run it in the benchmark's venv, which
has csdid installed (``bench/requirements-peers.txt``)::

    bench/.venv-peers/bin/python tests/estimators/staggered/reference/make_csdid_reference.py

All standard errors are analytical (``bstrap=False``). ``x2 = sin(countyreal)`` is a second,
arbitrary but deterministic covariate.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt

HERE = Path(__file__).resolve().parent
MPDTA = (HERE.parents[3] / ".." / "shared" / "reference" / "mpdta.csv").resolve()

# key -> (control group, est_method, base period, anticipation, covariate formula)
CASES = {
    "nev-dr-cov2": ("nevertreated", "dr", "varying", 0, "lemp ~ lpop + x2"),
    "nyt-dr-cov2": ("notyettreated", "dr", "varying", 0, "lemp ~ lpop + x2"),
    "nev-ipw-cov2": ("nevertreated", "ipw", "varying", 0, "lemp ~ lpop + x2"),
    "nyt-ipw-cov2": ("notyettreated", "ipw", "varying", 0, "lemp ~ lpop + x2"),
    "nyt-reg-cov2": ("notyettreated", "reg", "varying", 0, "lemp ~ lpop + x2"),
    "nev-dr-universal": ("nevertreated", "dr", "universal", 0, None),
    "nyt-dr-universal-cov": ("notyettreated", "dr", "universal", 0, "lemp ~ lpop"),
    "nyt-dr-ant1": ("notyettreated", "dr", "varying", 1, None),
    "nev-ipw-ant1-cov": ("nevertreated", "ipw", "varying", 1, "lemp ~ lpop"),
}
# name -> (aggte type, options)
AGGREGATIONS = {
    "simple": ("simple", {}),
    "group": ("group", {}),
    "dynamic": ("dynamic", {}),
    "calendar": ("calendar", {}),
    "dynamic_balance1": ("dynamic", {"balance_e": 1}),
    "dynamic_window": ("dynamic", {"min_e": -2, "max_e": 1}),
    "group_max1": ("group", {"max_e": 1}),
}


def _floats(values: object) -> list[float | None]:
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    return [float(v) if np.isfinite(v) else None for v in arr]


def main() -> None:
    warnings.simplefilter("ignore")
    data = pd.read_csv(MPDTA)
    data["x2"] = np.sin(data["countyreal"])
    out = {}
    for key, (control, method, base, ant, formula) in CASES.items():
        with contextlib.redirect_stdout(io.StringIO()):
            model = ATTgt(
                "lemp",
                "year",
                "countyreal",
                "first.treat",
                data,
                control_group=control,
                xformla=formula,
                anticipation=ant,
            )
            model.fit(est_method=method, base_period=base, bstrap=False)
        r = model.results
        case = {
            "group": _floats(r["group"]),
            "time": _floats(r["year"]),
            "att": _floats(r["att"]),
            "se": _floats(r["se"]),
            "aggregations": {},
        }
        for name, (typ, opts) in AGGREGATIONS.items():
            with contextlib.redirect_stdout(io.StringIO()):
                model.aggte(typec=typ, bstrap=False, **opts)
            a = model.atte
            egt = a.get("egt") if typ != "simple" else None
            case["aggregations"][name] = {
                "type": typ,
                "options": opts,
                "overall_att": float(a["overall_att"]),
                "overall_se": float(a["overall_se"]),
                "egt": None if egt is None else _floats(egt),
                "att_egt": None if egt is None else _floats(a["att_egt"]),
                "se_egt": None if egt is None else _floats(a["se_egt"]),
            }
        out[key] = case
    (HERE / "csdid_mpdta.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
