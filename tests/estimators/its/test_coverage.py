"""Do the ITS intervals cover at their nominal rate on series with known truth?

Data-generating process (monthly, ``n_pre`` + ``n_post`` months, true level rate ratio 0.7)::

    log mu_t = log(50) + 0.002 t + 0.15 sin(2 pi m_t / 12) + 0.08 cos(4 pi m_t / 12)
               + log(0.7) L_t + e_t,      e_t = rho e_{t-1} + u_t  (AR(1), sd(e_t) = sigma)
    y_t ~ Poisson(mu_t G_t),              G_t ~ Gamma(shape=20, scale=1/20)  (Poisson-gamma)

fitted by quasi-Poisson with two Fourier pairs, with and without Newey-West HAC. The series are
drawn at once (vectorised) from one fixed seed, so the coverage below is exactly reproducible.

Measured with 1,000 replicates per cell (rho = 0.4, sigma = 0.1; the test runs 200):

=========  ===========  ===============================  ====================
months     model-based  HAC, default lags (n/(n-k))      HAC, default, no
                                                          correction
=========  ===========  ===============================  ====================
24 + 24    0.927        0.879 (2 lags)                   0.853
36 + 36    0.915        0.878 (3 lags)                   0.857
60 + 60    0.929        0.907 (4 lags)                   0.897
=========  ===========  ===============================  ====================

So the model-based quasi-Poisson interval is the honest default here; Newey-West is
anti-conservative at these lengths (more lags make it worse). When the AR noise dominates the
count noise (sigma = 0.2, no gamma, rho = 0.5) neither reaches 90 % (0.82 model-based, 0.83-0.85
HAC at 72 months): that case needs a model for the autocorrelation itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaltk.estimators.its import ITSModel, ITSSpec

RR = 0.7
REPLICATES = 200


def simulate(
    seed: int, reps: int, n_pre: int, n_post: int, rho: float, sigma: float, shape: float
) -> tuple[pd.DatetimeIndex, pd.Timestamp, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = n_pre + n_post
    periods = pd.date_range("2015-01-01", periods=n, freq="MS")
    t = np.arange(1, n + 1)
    m = periods.month.to_numpy()
    log_mu = (
        np.log(50.0)
        + 0.002 * t
        + 0.15 * np.sin(2 * np.pi * m / 12)
        + 0.08 * np.cos(4 * np.pi * m / 12)
        + np.log(RR) * (t > n_pre)
    )
    e = np.empty((reps, n))
    e[:, 0] = rng.standard_normal(reps) * sigma
    innovations = rng.standard_normal((reps, n)) * sigma * np.sqrt(1 - rho**2)
    for i in range(1, n):
        e[:, i] = rho * e[:, i - 1] + innovations[:, i]
    gamma = rng.gamma(shape, 1 / shape, size=(reps, n))
    return periods, periods[n_pre], rng.poisson(np.exp(log_mu + e) * gamma)


def coverage(spec: ITSSpec, periods, start, ys: np.ndarray) -> float:
    hits = 0
    for y in ys:
        e = ITSModel(pd.DataFrame({"period": periods, "y": y}), start, spec).fit().effect
        hits += e.ci_low <= RR <= e.ci_high
    return hits / len(ys)


@pytest.mark.slow
def test_level_interval_coverage(record_property: pytest.RecordProperty) -> None:
    periods, start, ys = simulate(
        seed=20240601, reps=REPLICATES, n_pre=48, n_post=48, rho=0.4, sigma=0.1, shape=20.0
    )
    model_based = coverage(ITSSpec(), periods, start, ys)
    hac = coverage(ITSSpec(hac=True), periods, start, ys)
    record_property("coverage_model_based", model_based)
    record_property("coverage_hac_default_lags", hac)
    print(f"95% coverage over {REPLICATES}: model-based {model_based:.3f}, HAC {hac:.3f}")
    assert 0.90 <= model_based <= 0.99, model_based
    # HAC is reported, not required to be honest: it under-covers at this length (see above).
    assert 0.80 <= hac <= 0.99, hac
