"""When each force starts triage: explicit dates from the config, or generated staggered starts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from evaltk.simulate.config import parse_month
from evaltk.simulate.randomness import Stream, rng

if TYPE_CHECKING:
    from evaltk.simulate.config import SimulationConfig

#: Marker for "never treated" in arrays of start months.
NEVER = np.datetime64("NaT", "M")


def start_months(config: SimulationConfig) -> dict[str, np.datetime64]:
    """Each force's first treated month (INCLUSIVE), or :data:`NEVER`.

    Forces named in ``config.starts`` take that month (``None`` means never treated). For the
    rest, ``round(never_treated_share * n)`` of them, chosen at random, are never treated and the
    others start in a month drawn uniformly from ``start_window`` (default: the middle half of
    the simulated period). A start may fall outside the simulated period.
    """
    starts = {
        force: (NEVER if month is None else parse_month(month))
        for force, month in config.starts.items()
    }
    unlisted = [f for f in config.forces if f not in starts]
    if unlisted:
        draw = rng(config.seed, Stream.STARTS)
        n_never = round(config.never_treated_share * len(unlisted))
        never = set(draw.permutation(len(unlisted))[:n_never].tolist())
        low, high = _window(config)
        offsets = draw.integers(0, int((high - low).astype(int)) + 1, size=len(unlisted))
        for i, force in enumerate(unlisted):
            starts[force] = NEVER if i in never else low + offsets[i]
    return {force: starts[force] for force in config.forces}


def _window(config: SimulationConfig) -> tuple[np.datetime64, np.datetime64]:
    if config.start_window is not None:
        low, high = config.start_window
        return parse_month(low), parse_month(high)
    periods = config.periods
    return periods[config.months // 4], periods[(3 * config.months) // 4]
