"""How often each ITS model rejects a true "no change" on the project's simulator.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/its_size_by_model.py [--replicates 300]

The comparison behind the street-triage template's ``model: auto`` (book: Methods): one force
(Nottinghamshire, 2014-2019, start April 2016, no effect), at the example's scale (0.25, about
20 s136 detentions a month) and ten times it (2.5), fitted with the GLM and AR(1) working
correlation (the old default), GLS (REML, Satterthwaite t), the GLM with model-based errors
and with Newey-West errors; p < 0.05 is a rejection. Prints one line per model, outcome and
scale with the Monte Carlo SE. Seeds 100000 + r, as in the run the methods page quotes (300
datasets; s136 detentions, A&E conveyances, and the sparse s136 to custody and s136 to an ED
at scale 0.25 with 200). A few CPU-minutes per 100 datasets.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

from evaltk.errors import EstimationError
from evaltk.estimators.its import ITSModel, ITSSpec
from evaltk.simulate import SimulationConfig, simulate_series

NOTTS = "E23000019"
SPECS = {
    "glm_ar1": ITSSpec(ar1=True),
    "gls": ITSSpec(model="gls"),
    "glm_model_based": ITSSpec(),
    "glm_hac": ITSSpec(hac=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=300)
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--outcome", action="append")
    args = parser.parse_args()
    outcomes = args.outcome or ["s136", "ae_conveyance"]
    for scale in args.scale or [0.25, 2.5]:
        rejected = {(m, o): 0 for m in SPECS for o in outcomes}
        for seed in range(args.replicates):
            config = SimulationConfig.preset(
                "demo",
                forces=(NOTTS,),
                starts={NOTTS: "2016-04"},
                effects={},
                seed=100000 + seed,
                scale=scale,
            )
            months = simulate_series(config).sort_values("period")
            for outcome in outcomes:
                series = pd.DataFrame(
                    {"period": months["period"].to_numpy(), "y": months[outcome].to_numpy(float)}
                )
                if outcome == "s136":
                    series["exposure"] = months["population"].to_numpy(float)
                for name, spec in SPECS.items():
                    try:
                        fit = ITSModel(series, start=pd.Timestamp("2016-04-01"), spec=spec).fit()
                    except EstimationError:
                        continue  # a failed fit rejects nothing (gls with an empty month)
                    rejected[(name, outcome)] += fit.effect.p_value < 0.05
        for (name, outcome), n in rejected.items():
            rate = n / args.replicates
            se = math.sqrt(rate * (1 - rate) / args.replicates)
            print(f"scale {scale:g}  {outcome:28s} {name:16s} {rate:.3f} (SE {se:.3f})")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
