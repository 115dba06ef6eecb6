"""The randomisation scheme of a stepped-wedge trial: which schedules it can draw, and with what
probability, so that the draw and the randomisation test use the same distribution.

A schedule is an integer array: ``steps[i]`` is the step (1-based) at which cluster ``i``
starts. The scheme orders the *blocks* at random (a block is one cluster, or a group that must
start together) and fills the steps in that order, ``sizes[k]`` clusters to step ``k`` (a block
takes the step of its first cluster's slot).

* Enumerable (at most :data:`MAX_ENUMERATION` distinct schedules): every distinct schedule is
  listed and the draw is uniform over them (over the balanced ones when restricted).
* Restricted and not enumerable: ``candidates`` random block orders give the candidate set
  (duplicates dropped) and the draw is uniform over its balanced members (Moulton 2004).
* Otherwise: the draw is one random block order.

The randomisation test re-draws from the same set (exactly, all of it, when it has no more
members than the permutations asked for; otherwise at random), or, in the last case, draws
random block orders as the trial did. Candidate sets come from the protocol's seed, so the test
can rebuild them; the trial's own draw uses a seed derived from the registration (see
:mod:`evaltk.registration.trial_schedule`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import permutations as all_orders

import numpy as np

from evaltk.estimators.permutations import distinct_permutations
from evaltk.protocol.trial import TrialOptions

#: Distinct schedules above which the set is sampled, not listed.
MAX_ENUMERATION = 50_000
#: Block orders listed at most when groups are present (8! = 40,320).
_MAX_BLOCK_ORDERS = 8


def step_sizes(n_clusters: int, steps: int) -> np.ndarray:
    """Clusters per step, as even as possible; the earlier steps take one more."""
    base, extra = divmod(n_clusters, steps)
    return np.array([base + (1 if k < extra else 0) for k in range(steps)], dtype=int)


@dataclass(frozen=True)
class Scheme:
    """A stepped-wedge randomisation scheme over ``n`` clusters.

    Parameters
    ----------
    n_steps : int
        Number of steps.
    n_clusters : int
        Number of clusters (indices ``0 .. n - 1``).
    groups : tuple of tuple of int
        Clusters that must start together (indices); the rest are blocks of one.
    balance : numpy.ndarray, optional
        ``(n_clusters, v)`` variables the steps must balance (restricted randomisation).
    max_imbalance : float, optional
        Largest relative difference of a step's mean from the overall mean kept.
    candidates : int
        Random block orders screened when the schedules cannot all be listed.
    """

    n_steps: int
    n_clusters: int
    groups: tuple[tuple[int, ...], ...] = ()
    balance: np.ndarray | None = field(default=None, compare=False)
    max_imbalance: float | None = None
    candidates: int = 10_000

    @property
    def sizes(self) -> np.ndarray:
        return step_sizes(self.n_clusters, self.n_steps)

    @property
    def restricted(self) -> bool:
        return self.balance is not None and self.max_imbalance is not None

    @property
    def blocks(self) -> list[tuple[int, ...]]:
        grouped = {i for g in self.groups for i in g}
        singles = [(i,) for i in range(self.n_clusters) if i not in grouped]
        return [*map(tuple, self.groups), *singles]

    def assign(self, order: np.ndarray) -> np.ndarray:
        """The schedule given by one order of the blocks (indices into :attr:`blocks`)."""
        slots = np.repeat(np.arange(1, self.n_steps + 1), self.sizes)
        out = np.zeros(self.n_clusters, dtype=int)
        cursor = 0
        blocks = self.blocks
        for b in order:
            block = blocks[int(b)]
            out[list(block)] = slots[min(cursor, self.n_clusters - 1)]
            cursor += len(block)
        return out

    def count(self) -> int:
        """Distinct schedules without restriction (exact without groups; with groups an
        upper bound: the block orders)."""
        if not self.groups:
            out = math.factorial(self.n_clusters)
            for size in self.sizes:
                out //= math.factorial(int(size))
            return out
        return math.factorial(len(self.blocks))

    def imbalance(self, schedules: np.ndarray) -> np.ndarray:
        """Each schedule's imbalance: the largest relative difference between a step's mean
        and the overall mean, over the balance variables (0 without them)."""
        schedules = np.atleast_2d(schedules)
        if self.balance is None:
            return np.zeros(schedules.shape[0])
        x = np.asarray(self.balance, dtype=float).reshape(self.n_clusters, -1)
        overall = x.mean(axis=0)
        worst = np.zeros(schedules.shape[0])
        for k in range(1, self.n_steps + 1):
            members = (schedules == k).astype(float)  # (S, n)
            counts = members.sum(axis=1, keepdims=True)
            means = (members @ x) / np.where(counts > 0, counts, 1)
            gap = np.abs(means / overall - 1.0).max(axis=1)
            worst = np.maximum(worst, np.where(counts[:, 0] > 0, gap, 0.0))
        return worst

    # ------------------------------------------------------------------ the sets

    def random_schedules(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``count`` schedules from random block orders (:meth:`assign`, vectorised)."""
        blocks = self.blocks
        orders = np.argsort(rng.random((count, len(blocks))), axis=1)
        slots = np.repeat(np.arange(1, self.n_steps + 1), self.sizes)
        sizes = np.array([len(b) for b in blocks])[orders]  # (count, blocks) in drawn order
        cursor = np.cumsum(sizes, axis=1) - sizes
        step_in_order = slots[np.minimum(cursor, self.n_clusters - 1)]
        step_of_block = np.empty_like(step_in_order)
        np.put_along_axis(step_of_block, orders, step_in_order, axis=1)
        block_of = np.empty(self.n_clusters, dtype=int)
        for b, block in enumerate(blocks):
            block_of[list(block)] = b
        return np.asarray(step_of_block[:, block_of], dtype=int)

    def enumerable(self) -> bool:
        if not self.groups:
            return self.count() <= MAX_ENUMERATION
        return len(self.blocks) <= _MAX_BLOCK_ORDERS

    def all_schedules(self) -> np.ndarray:
        """Every distinct schedule, in lexicographic order."""
        if not self.groups:
            slots = np.repeat(np.arange(1, self.n_steps + 1), self.sizes)
            return distinct_permutations(slots)
        found = {tuple(self.assign(np.array(o))) for o in all_orders(range(len(self.blocks)))}
        return np.array(sorted(found), dtype=int)

    def reference_set(self, seed: int) -> np.ndarray | None:
        """The schedules the draw is uniform over (balanced ones when restricted), or None
        when the draw is a random block order (unrestricted, too many to list)."""
        if self.enumerable():
            pool = self.all_schedules()
        elif self.restricted:
            rng = np.random.default_rng([seed, 0x5357])
            pool = np.unique(self.random_schedules(self.candidates, rng), axis=0)
        else:
            return None
        if self.restricted:
            assert self.max_imbalance is not None
            pool = pool[self.imbalance(pool) <= self.max_imbalance + 1e-12]
        return pool


def draw_schedule(scheme: Scheme, set_seed: int, draw_seed: int) -> tuple[np.ndarray, int]:
    """One schedule drawn by the scheme, and the size of the set it was drawn from (0 when
    it was one random block order).

    ``set_seed`` fixes the candidate set (the protocol's seed, so that the randomisation test
    can rebuild it); ``draw_seed`` picks the schedule.
    """
    pool = scheme.reference_set(set_seed)
    rng = np.random.default_rng([draw_seed, 0x4452])
    if pool is None:
        return scheme.random_schedules(1, rng)[0], 0
    if len(pool) == 0:
        raise ValueError("no schedule meets the balance criterion")
    return pool[int(rng.integers(len(pool)))].copy(), len(pool)


@dataclass(frozen=True)
class ReferenceSchedules:
    """The schedules a randomisation test compares the observed one with."""

    schedules: np.ndarray  # (R, n)
    enumerated: bool  # every schedule of the scheme, equally likely: the test is exact
    n_distinct: int  # schedules in the scheme's set (0: random block orders, not listed)
    seed: int


def reference_schedules(scheme: Scheme, seed: int, permutations: int) -> ReferenceSchedules:
    """Every schedule the scheme could have drawn when there are at most ``permutations``,
    otherwise ``permutations`` of them at random (with replacement, as the Monte Carlo p-value
    of Phipson & Smyth assumes)."""
    pool = scheme.reference_set(seed)
    rng = np.random.default_rng([seed, 0x5249])
    if pool is None:
        return ReferenceSchedules(scheme.random_schedules(permutations, rng), False, 0, seed)
    if len(pool) <= permutations:
        return ReferenceSchedules(pool, True, len(pool), seed)
    rows = rng.integers(len(pool), size=permutations)
    return ReferenceSchedules(pool[rows], False, len(pool), seed)


def trial_scheme(trial: TrialOptions) -> Scheme:
    """The scheme of a protocol's ``design.trial`` (clusters in the order listed)."""
    names = trial.names
    groups = tuple(tuple(names.index(n) for n in group) for group in trial.together)
    restricted = trial.restricted
    if restricted is None:
        return Scheme(trial.steps, len(names), groups)
    columns = []
    for variable in restricted.balance:
        columns.append(
            [
                float(c.population if variable == "population" else c.baseline or 0.0)
                for c in trial.clusters
            ]
        )
    return Scheme(
        trial.steps,
        len(names),
        groups,
        np.array(columns, dtype=float).T,
        restricted.max_imbalance,
        restricted.candidates,
    )
