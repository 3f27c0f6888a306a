"""Independent random streams, one per purpose.

Two strategies run with the same seed draw arrivals, fits, deal values and stage luck from the
same streams, so a change of routing or staffing does not reshuffle who the leads are.
"""

from __future__ import annotations

import numpy as np

PURPOSES = ("arrivals", "fit", "values", "outcomes", "durations", "nurture", "people", "routing", "referrals")


class RandomStreams:
    """`streams.arrivals`, `streams.fit`, ...: a numpy Generator for each purpose."""

    def __init__(self, seed: int | np.random.SeedSequence):
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
        for name, child in zip(PURPOSES, root.spawn(len(PURPOSES)), strict=True):
            setattr(self, name, np.random.default_rng(child))

    arrivals: np.random.Generator
    fit: np.random.Generator
    values: np.random.Generator
    outcomes: np.random.Generator
    durations: np.random.Generator
    nurture: np.random.Generator
    people: np.random.Generator
    routing: np.random.Generator
    referrals: np.random.Generator  # everything about referral leads, which only some strategies get


def replication_seeds(master: int, replications: int) -> list[int]:
    """Seed of each replication; replication i's seed does not depend on how many are run."""
    root = np.random.SeedSequence(int(master))
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in root.spawn(replications)]
