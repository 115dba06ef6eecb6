"""Rambachan-Roth bounds checked against an independent implementation in the same run:
moderndid's ``didhonest`` (a maintained Python port of R HonestDiD, on PyPI).

Tolerances:
- smoothness FLCI: both solve the same convex programme; ends agree to 1e-3 of the target's
  standard error (moderndid's optimum over a 100-point grid of standard errors against our
  bounded search over the same range).
- relative magnitudes (C-LF): each implementation simulates its own least-favourable
  critical value (1,000 draws of a 99.5 % quantile) and moderndid reads its ends off a grid;
  across our own seeds the ends move by up to ~0.17 standard errors, so the ends must agree
  to 0.3 standard errors of the target.

moderndid 0.2.0 leaves out the earliest pre-start change from the changes that may be the
largest (R HonestDiD loops ``s`` over ``-(T_pre - 1):0``, all ``T_pre`` of them; the port
loops over one fewer). The data below make that earliest change the smallest, so the set it
adds lies almost inside the others' and both definitions give nearly the same interval; the
test checks that premise too (our interval without that change is within 0.1 standard errors
of our interval with it).
"""

from __future__ import annotations

import numpy as np
import pytest
from moderndid import didhonest  # dev dependency: the reference runs in every test run

from evaltk.estimators.sensitivity import relative_magnitudes as rm
from evaltk.estimators.sensitivity import rm_interval, sd_flci

N_PRE, N_POST = 3, 2
BETA = np.array([0.031, 0.034, 0.07, 0.40, 0.50])


def _sigma() -> np.ndarray:
    rng = np.random.default_rng(1)
    root = rng.normal(size=(5, 5)) * 0.05
    return root @ root.T + np.eye(5) * 0.01


def _se(l_vec: np.ndarray) -> float:
    sigma = _sigma()
    return float(np.sqrt(l_vec @ sigma[N_PRE:, N_PRE:] @ l_vec))


@pytest.mark.parametrize("l_vec", [np.array([0.5, 0.5]), np.array([1.0, 0.0])])
def test_smoothness_flci_matches_moderndid(l_vec: np.ndarray) -> None:
    ms = [0.0, 0.01, 0.05, 0.2]
    theirs = didhonest.create_sensitivity_results_sm(
        BETA, _sigma(), N_PRE, N_POST, method="FLCI", m_vec=ms, l_vec=l_vec, alpha=0.05
    )
    for m, low, high in zip(ms, theirs["lb"], theirs["ub"], strict=True):
        ours = sd_flci(BETA, _sigma(), N_PRE, N_POST, l_vec, m, 0.95)
        assert ours.low == pytest.approx(low, abs=1e-3 * _se(l_vec))
        assert ours.high == pytest.approx(high, abs=1e-3 * _se(l_vec))


def test_relative_magnitudes_c_lf_matches_moderndid(monkeypatch: pytest.MonkeyPatch) -> None:
    l_vec = np.array([0.5, 0.5])
    mbars = [1.0]  # one value: moderndid takes ~25 s per value on this grid
    theirs = didhonest.create_sensitivity_results_rm(
        BETA,
        _sigma(),
        N_PRE,
        N_POST,
        m_bar_vec=mbars,
        l_vec=l_vec,
        alpha=0.05,
        grid_points=300,  # over [-1, 2]: steps of 0.01, 0.09 standard errors
        grid_lb=-1.0,
        grid_ub=2.0,
    )
    ours = [rm_interval(BETA, _sigma(), N_PRE, N_POST, l_vec, mbar, 0.95) for mbar in mbars]
    tolerance = 0.3 * _se(l_vec)
    for interval, low, high in zip(ours, theirs["lb"], theirs["ub"], strict=True):
        assert interval.low == pytest.approx(low, abs=tolerance)
        assert interval.high == pytest.approx(high, abs=tolerance)
    # The premise: leaving out the earliest change (moderndid's set of s) moves the ends by
    # far less than the tolerance (0.005 here, 0.05 standard errors).
    full = rm.rm_polyhedra
    monkeypatch.setattr(rm, "rm_polyhedra", lambda a, b, c: full(a, b, c)[2:])
    for mbar, interval in zip(mbars, ours, strict=True):
        without = rm_interval(BETA, _sigma(), N_PRE, N_POST, l_vec, mbar, 0.95)
        assert without.low == pytest.approx(interval.low, abs=0.1 * _se(l_vec))
        assert without.high == pytest.approx(interval.high, abs=0.1 * _se(l_vec))
