"""How a sweep's points are drawn: a full grid, random, Latin hypercube or Saltelli-Sobol' design.

Every sampler is deterministic in the sweep's seed, so re-running a sweep file draws the same
points (which is what makes resuming possible). Random designs draw in the unit cube and each
parameter maps its coordinate onto its own values (`Parameter.from_unit`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from funnelsim.experiment.parameters import Parameter, Sweep


@dataclass(frozen=True)
class Design:
    """The points of a sweep, in sample order, as one tuple of values per point.

    For Sobol' designs the order is Saltelli's: N rows of A, N rows of B, then for each
    parameter i the N rows of A with column i taken from B (`AB_i`); `base_samples` is N.
    """

    sampler: str
    points: list[tuple]
    base_samples: int | None = None

    def __len__(self) -> int:
        return len(self.points)


def _rng(seed: int) -> np.random.Generator:
    # Its own stream: replication seeds come from SeedSequence(seed) itself.
    return np.random.default_rng([seed, 0x5EED])


def grid(params: tuple[Parameter, ...]) -> list[tuple]:
    return list(itertools.product(*(p.levels() for p in params)))


def unit_random(d: int, n: int, seed: int) -> np.ndarray:
    return _rng(seed).random((n, d))


def unit_lhs(d: int, n: int, seed: int) -> np.ndarray:
    return qmc.LatinHypercube(d, rng=_rng(seed)).random(n)


def unit_saltelli(d: int, n: int, seed: int) -> np.ndarray:
    """Stacked A, B, AB_1..AB_d from a scrambled Sobol' sequence in 2d dimensions (n a power of 2)."""
    ab = qmc.Sobol(2 * d, scramble=True, rng=_rng(seed)).random_base2(int(n).bit_length() - 1)
    a, b = ab[:, :d], ab[:, d:]
    blocks = [a, b]
    for i in range(d):
        abi = a.copy()
        abi[:, i] = b[:, i]
        blocks.append(abi)
    return np.vstack(blocks)


def _from_unit(params: tuple[Parameter, ...], u: np.ndarray) -> list[tuple]:
    columns = [p.from_unit(u[:, j]) for j, p in enumerate(params)]
    return list(zip(*columns, strict=True))


def design(sweep: Sweep) -> Design:
    """The sweep's points, in a fixed order that does not depend on how they are run."""
    params, spec = sweep.parameters, sweep.spec
    d = len(params)
    if spec.sampler == "grid":
        return Design("grid", grid(params))
    if spec.sampler == "random":
        return Design("random", _from_unit(params, unit_random(d, spec.samples, spec.seed)))
    if spec.sampler == "lhs":
        return Design("lhs", _from_unit(params, unit_lhs(d, spec.samples, spec.seed)))
    return Design("sobol", _from_unit(params, unit_saltelli(d, spec.samples, spec.seed)), base_samples=spec.samples)
