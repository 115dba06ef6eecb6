"""Do the ITS intervals cover at their nominal rate on series with known truth?

Data-generating process (monthly, ``n_pre`` + ``n_post`` months, true level rate ratio 0.7)::

    log mu_t = log(50) + 0.002 t + 0.15 sin(2 pi m_t / 12) + 0.08 cos(4 pi m_t / 12)
               + log(0.7) L_t + e_t,      e_t = rho e_{t-1} + u_t  (AR(1), sd(e_t) = sigma)
    y_t ~ Poisson(mu_t G_t),              G_t ~ Gamma(shape=20, scale=1/20)  (Poisson-gamma)

drawn by :func:`evaltk.validation.dgp.its_series` and fitted by quasi-Poisson with two Fourier
pairs, with and without Newey-West HAC. The series are drawn at once (vectorised) from one
fixed seed, so the coverage below is exactly reproducible.

Measured with this module's ``simulate`` (seed 7, 1,000 replicates per row, Monte Carlo SE
about 0.008; the test itself runs 200 at 48 + 48 months, rho 0.4):

===========  ====  =====  ===========  ==================  ===========
months       rho   sigma  model-based  HAC, default lags   HAC, 6 lags
===========  ====  =====  ===========  ==================  ===========
24 + 24      0.4   0.1    0.924        0.861 (2 lags)      0.825
36 + 36      0.4   0.1    0.941        0.908 (3 lags)      0.873
48 + 48      0.3   0.1    0.943        0.911 (3 lags)      0.889
48 + 48      0.4   0.1    0.928        0.902 (3 lags)      0.875
48 + 48      0.5   0.1    0.921        0.901 (3 lags)      0.874
60 + 60      0.4   0.1    0.929        0.911 (4 lags)      0.890
36 + 36 *    0.5   0.2    0.794        0.828               0.807
60 + 60 *    0.5   0.2    0.788        0.860               0.861
===========  ====  =====  ===========  ==================  ===========

(* no gamma noise: the AR(1) log-noise dominates the count noise.)

So with Poisson-gamma counts and moderate AR(1) log-noise the model-based quasi-Poisson
interval is the honest default (0.92-0.94); Newey-West HAC (with the ``n / (n - k)`` factor) is
anti-conservative, at the floor of 0.90 from 72 months and worse below that or with more lags.
When the autocorrelated noise dominates, neither reaches 0.90 (HAC is the better of the two at
120 months): that case needs the autocorrelation modelled, e.g. ``ITSSpec(ar1=True)`` (an AR(1)
working correlation; see ``test_ar1.py``).
"""

from __future__ import annotations

import pytest

from evaltk.validation.simulation import its_synthetic_coverage

REPLICATES = 200


@pytest.mark.slow
def test_level_interval_coverage(record_property: pytest.RecordProperty) -> None:
    result = its_synthetic_coverage(REPLICATES)
    model_based, hac = result.figures["model_based"], result.figures["hac"]
    assert 0.90 <= result.figures["auto"] <= 0.99, result.figures["auto"]
    record_property("coverage_model_based", model_based)
    record_property("coverage_hac_default_lags", hac)
    print(f"95% coverage over {REPLICATES}: model-based {model_based:.3f}, HAC {hac:.3f}")
    assert 0.90 <= model_based <= 0.99, model_based
    # HAC is reported, not required to be honest: it under-covers at this length (see above).
    assert 0.80 <= hac <= 0.99, hac
    assert result.all_met
