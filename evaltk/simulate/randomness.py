"""Independent random streams, keyed so that each piece of the simulation draws its own.

Keying by (seed, purpose, force, block) rather than drawing from one generator in sequence means a
force's data do not change when other forces are added or removed, and episode chunks can be
produced in any grouping with identical results.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """What a random stream is used for (part of its key; never renumber)."""

    FORCE_TRAITS = 1
    BACKBONE = 2
    STARTS = 3
    PEOPLE = 4
    EPISODES = 5
    SERIES = 6
    JOURNEYS = 7


def rng(seed: int, stream: Stream, *keys: int) -> np.random.Generator:
    """A generator for one purpose, e.g. ``rng(seed, Stream.EPISODES, force_no, year)``."""
    return np.random.default_rng(np.random.SeedSequence([seed, int(stream), *keys]))
