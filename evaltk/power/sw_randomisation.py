r"""The registered stepped-wedge test — randomisation inference over the scheme — applied to many
simulated trials at once.

:func:`evaltk.estimators.stepped_wedge.model.randomisation_test` computes one trial's statistic
under the observed schedule and under every reference schedule of the scheme. Here the same
statistics are computed for all replicates × schedules with matrix products (no loop over
either), so that power can be simulated with the test the trial will be analysed with.

Log-rate model. The null model (period fixed effects and a cluster random intercept, no
treatment) is balanced, so its REML components have a closed form: with :math:`e` the log
rates less their period means over clusters,

.. math::

    \mathrm{MSB} = \frac{T \sum_c \bar e_c^2}{C - 1}, \qquad
    \mathrm{MSW} = \frac{\sum_{ct} (e_{ct} - \bar e_c)^2}{(C-1)(T-1)},

:math:`\sigma^2 = \mathrm{MSW}`, :math:`\sigma^2 + T\tau^2 = \mathrm{MSB}` when MSB > MSW,
otherwise :math:`\tau^2 = 0` and :math:`\sigma^2` the pooled mean square (what statsmodels'
``MixedLM(...).fit(reml=True)`` converges to). The GLS statistic under schedule :math:`D`
quasi-demeans by :math:`\lambda = 1 - \sqrt{\sigma^2/(\sigma^2 + T\tau^2)}`; writing
:math:`A = D - \text{period means}` and :math:`B` = each cluster's mean of :math:`D` less their
mean (constant over periods), and :math:`k = 1 - (1 - \lambda)^2`,

.. math::

    \hat\theta_D = \frac{A \cdot z - k\, B \cdot z}{A \cdot A - k\, B \cdot B},

because :math:`A \cdot \bar z = B \cdot z` and :math:`A \cdot B = B \cdot B` (:math:`\bar z`
the cluster means). The dot products are two matrix products of the replicates' log rates with
the schedules, whatever the replicate's :math:`\lambda`.

Poisson model. The one-step (score) statistic :math:`U_D / I_D` of the fit without treatment.
With cluster and period fixed effects and exposure constant over periods up to a period
factor (rank one: a cluster's population times a period's months), the fitted means are
:math:`\hat\mu_{ct} = Y_{c\cdot} Y_{\cdot t} / Y_{\cdot\cdot}` (the exposure is absorbed), and
with these product weights the weighted two-way demeaning is one step:
:math:`I_D = \sum \hat\mu D^2 - \sum_c Y_{c\cdot} r_c^2 - \sum_t Y_{\cdot t} q_t^2 +
Y_{\cdot\cdot} g^2` with :math:`r, q, g` the weighted cluster, period and grand means of
:math:`D`. ``tests/power/test_sw_randomisation.py`` checks both against the estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaltk.estimators.did.wild_bootstrap import TIE_TOLERANCE

#: Replicates handled together by the Poisson statistic (bounds its (R, S, C) temporaries).
_CHUNK = 64


@dataclass(frozen=True)
class RITest:
    """Each replicate's statistic under the observed schedule and its randomisation p-value."""

    statistic: np.ndarray
    p_value: np.ndarray


def ri_p_values(observed: np.ndarray, reference: np.ndarray, enumerated: bool) -> np.ndarray:
    """:func:`evaltk.estimators.did.randomization.p_value` of every replicate: ``observed``
    (R,) against its row of ``reference`` (R, S)."""
    hits = np.sum(
        np.abs(reference) >= np.abs(observed)[:, None] * (1 - TIE_TOLERANCE), axis=1
    ).astype(float)
    if enumerated:
        return hits / reference.shape[1]
    return (1.0 + hits) / (reference.shape[1] + 1.0)


def null_reml(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """REML ``(tau2, sigma2)`` of the log-rate model without treatment, every replicate of
    ``z`` (R, C, T) at once (closed form of the balanced model; module docstring)."""
    _, n_c, n_t = z.shape
    e = z - z.mean(axis=1, keepdims=True)
    means = e.mean(axis=2)
    msb = n_t * np.sum(means**2, axis=1) / (n_c - 1)
    ssw = np.sum((e - means[:, :, None]) ** 2, axis=(1, 2))
    msw = ssw / ((n_c - 1) * (n_t - 1))
    inside = msb > msw
    pooled = (ssw + msb * (n_c - 1)) / ((n_c - 1) * n_t)
    sigma2 = np.where(inside, msw, pooled)
    tau2 = np.where(inside, (msb - msw) / n_t, 0.0)
    return tau2, sigma2


def _parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` (module docstring) of schedules ``d`` (S, C, T), flattened to (S, C*T)."""
    a = d - d.mean(axis=1, keepdims=True)
    rows = d.mean(axis=2, keepdims=True)
    b = np.broadcast_to(rows - rows.mean(axis=1, keepdims=True), d.shape)
    return a.reshape(len(d), -1), b.reshape(len(d), -1)


def log_rate_ri(z: np.ndarray, d_obs: np.ndarray, d_ref: np.ndarray, enumerated: bool) -> RITest:
    """The randomisation test of the log-rate model for replicates ``z`` (R, C, T) observed
    under ``d_obs`` (C, T), against schedules ``d_ref`` (S, C, T)."""
    tau2, sigma2 = null_reml(z)
    n_t = z.shape[2]
    k = 1.0 - np.maximum(sigma2, 1e-300) / (np.maximum(sigma2, 1e-300) + n_t * tau2)
    flat = z.reshape(len(z), -1)
    d_all = np.concatenate([d_obs[None], d_ref])
    a, b = _parts(d_all)
    za, zb = flat @ a.T, flat @ b.T  # (R, 1 + S)
    aa, bb = np.sum(a * a, axis=1), np.sum(b * b, axis=1)
    theta = (za - k[:, None] * zb) / (aa[None, :] - k[:, None] * bb[None, :])
    return RITest(theta[:, 0], ri_p_values(theta[:, 0], theta[:, 1:], enumerated))


def _score(y: np.ndarray, d: np.ndarray) -> np.ndarray:
    """One-step Poisson statistic of replicates ``y`` (R, C, T) under schedules ``d`` (S, C, T)."""
    total = y.sum(axis=(1, 2))
    rows, cols = y.sum(axis=2), y.sum(axis=1)  # (R, C), (R, T)
    safe = np.where(total > 0, total, 1.0)
    mu = rows[:, :, None] * cols[:, None, :] / safe[:, None, None]
    flat_d = d.reshape(len(d), -1)
    score = (y - mu).reshape(len(y), -1) @ flat_d.T  # (R, S)
    # d is 0/1, so sum mu d^2 = sum mu d
    first = mu.reshape(len(y), -1) @ flat_d.T
    r = np.einsum("sct,rt->rsc", d, cols) / safe[:, None, None]
    q = np.einsum("sct,rc->rst", d, rows) / safe[:, None, None]
    g = first / safe[:, None]
    information = (
        first
        - np.einsum("rsc,rc->rs", r**2, rows)
        - np.einsum("rst,rt->rs", q**2, cols)
        + total[:, None] * g**2
    )
    return np.asarray(score / np.where(information > 1e-12 * safe[:, None], information, np.nan))


def poisson_ri(y: np.ndarray, d_obs: np.ndarray, d_ref: np.ndarray, enumerated: bool) -> RITest:
    """The randomisation test of the Poisson model (score statistic) for count replicates
    ``y`` (R, C, T) whose exposure is rank one (module docstring)."""
    d_all = np.concatenate([d_obs[None], d_ref])
    stats = np.concatenate(
        [_score(y[i : i + _CHUNK], d_all) for i in range(0, len(y), _CHUNK)], axis=0
    )
    return RITest(stats[:, 0], ri_p_values(stats[:, 0], stats[:, 1:], enumerated))
