"""The stepped-wedge randomisation scheme: sizes, constraints, restricted balance, the draw."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evaltk.estimators.stepped_wedge.scheme import (
    Scheme,
    draw_schedule,
    reference_schedules,
    step_sizes,
)


def test_step_sizes_are_as_even_as_possible_with_the_extra_clusters_first() -> None:
    assert step_sizes(12, 6).tolist() == [2] * 6
    assert step_sizes(11, 4).tolist() == [3, 3, 3, 2]
    assert step_sizes(5, 5).tolist() == [1] * 5


def test_every_distinct_schedule_is_listed_once() -> None:
    scheme = Scheme(3, 6)
    schedules = scheme.all_schedules()
    assert scheme.count() == math.factorial(6) // 8 == 90
    assert schedules.shape == (90, 6)
    assert len({tuple(s) for s in schedules}) == 90
    for step in (1, 2, 3):
        assert ((schedules == step).sum(axis=1) == 2).all()


def test_random_block_orders_fill_every_step_with_its_clusters() -> None:
    schedules = Scheme(6, 12).random_schedules(500, np.random.default_rng(1))
    for step in range(1, 7):
        assert ((schedules == step).sum(axis=1) == 2).all()
    # Each cluster is equally likely at each step: 500 / 6 = 83 expected, SD about 8.3.
    counts = np.array([(schedules[:, 0] == step).sum() for step in range(1, 7)])
    assert np.all(np.abs(counts - 500 / 6) < 4 * np.sqrt(500 * (1 / 6) * (5 / 6)))


def test_groups_start_together_in_every_schedule_listed_or_drawn() -> None:
    scheme = Scheme(4, 10, groups=((0, 1), (2, 3, 4)))
    for schedules in (
        scheme.all_schedules(),
        scheme.random_schedules(300, np.random.default_rng(2)),
    ):
        assert (schedules[:, 0] == schedules[:, 1]).all()
        assert (schedules[:, 2] == schedules[:, 3]).all()
        assert (schedules[:, 3] == schedules[:, 4]).all()
        assert set(np.unique(schedules)) == {1, 2, 3, 4}
    # The vectorised draw is the block-by-block rule of Scheme.assign.
    orders = np.argsort(np.random.default_rng(3).random((50, len(scheme.blocks))), axis=1)
    by_rule = np.array([scheme.assign(order) for order in orders])
    assert (by_rule == scheme.random_schedules(50, np.random.default_rng(3))).all()


def test_imbalance_is_the_largest_relative_gap_of_a_step_mean() -> None:
    scheme = Scheme(2, 4, balance=np.array([[100.0], [100.0], [200.0], [200.0]]), max_imbalance=0.2)
    # Mean 150; steps {100, 100} and {200, 200}: 1/3 off; {100, 200} twice: 0.
    assert scheme.imbalance(np.array([[1, 1, 2, 2]]))[0] == pytest.approx(1 / 3)
    assert scheme.imbalance(np.array([[1, 2, 1, 2]]))[0] == pytest.approx(0.0)
    kept = scheme.reference_set(seed=1)
    assert kept is not None
    assert sorted(map(tuple, kept)) == [(1, 2, 1, 2), (1, 2, 2, 1), (2, 1, 1, 2), (2, 1, 2, 1)]


def test_restricted_sampling_keeps_only_balanced_schedules() -> None:
    rng = np.random.default_rng(4)
    populations = rng.integers(50_000, 250_000, size=14).astype(float)[:, None]
    scheme = Scheme(7, 14, balance=populations, max_imbalance=0.2, candidates=5_000)
    assert not scheme.enumerable()
    kept = scheme.reference_set(seed=9)
    assert kept is not None and 0 < len(kept) < 5_000
    assert (scheme.imbalance(kept) <= 0.2 + 1e-12).all()
    unrestricted = scheme.random_schedules(5_000, np.random.default_rng(5))
    assert np.mean(scheme.imbalance(unrestricted) <= 0.2) < 0.5  # the restriction bites
    chosen, pool = draw_schedule(scheme, set_seed=9, draw_seed=123)
    assert pool == len(kept)
    assert any((chosen == row).all() for row in kept)


def test_the_draw_is_fixed_by_its_seeds() -> None:
    scheme = Scheme(3, 6)
    first, pool = draw_schedule(scheme, set_seed=1, draw_seed=2**63 + 5)
    again, _ = draw_schedule(scheme, set_seed=1, draw_seed=2**63 + 5)
    assert pool == 90 and (first == again).all()
    others = {tuple(draw_schedule(scheme, 1, seed)[0]) for seed in range(20)}
    assert len(others) > 10  # 20 seeds over 90 schedules: nearly all different


def test_too_many_schedules_unrestricted_draw_one_random_order() -> None:
    scheme = Scheme(6, 12)  # 7,484,400 schedules: not listed
    chosen, pool = draw_schedule(scheme, set_seed=1, draw_seed=77)
    assert pool == 0 and sorted(chosen.tolist()) == sorted(np.repeat(np.arange(1, 7), 2).tolist())
    assert (draw_schedule(scheme, set_seed=2, draw_seed=77)[0] == chosen).all()


def test_reference_is_every_schedule_when_few_else_a_sample() -> None:
    exact = reference_schedules(Scheme(3, 6), seed=1, permutations=99)
    assert exact.enumerated and exact.n_distinct == 90 and exact.schedules.shape == (90, 6)
    sampled = reference_schedules(Scheme(6, 12), seed=1, permutations=99)
    assert not sampled.enumerated and sampled.schedules.shape == (99, 12)
