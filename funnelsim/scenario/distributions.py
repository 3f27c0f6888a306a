"""Distributions for any stochastic quantity in a scenario.

Every distribution samples by inverse transform (`ppf` of uniforms), so one uniform stream
drives each quantity: strategies that share seeds share luck (common random numbers), and a
distribution can be restricted to its upper tail (marketing targeting) without rejection.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Smallest interval holding every value this distribution can produce."""
        raise NotImplementedError

    def mean(self) -> float:
        """Mean, estimated once by quadrature over the quantile function."""
        u = (np.arange(20_000) + 0.5) / 20_000
        return float(np.mean(self.ppf(u)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.ppf(rng.random(n))


class Constant(_Dist):
    """Always the same value."""

    dist: Literal["constant"] = "constant"
    value: float

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=float)

    def support(self):
        return (self.value, self.value)

    def mean(self):
        return self.value


class Uniform(_Dist):
    """Uniform between `low` and `high`."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError(f"high must be at least low (got low={self.low}, high={self.high})")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)

    def support(self):
        return (self.low, self.high)

    def mean(self):
        return 0.5 * (self.low + self.high)


class Normal(_Dist):
    """Normal, truncated to [low, high] and to the bounds of the field it feeds."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean")
    sd: float = Field(gt=0)
    low: float = -math.inf
    high: float = math.inf

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _order(self):
        if self.high <= self.low:
            raise ValueError(f"high must be above low (got low={self.low}, high={self.high})")
        return self

    def truncated(self, low: float, high: float) -> Normal:
        return self.model_copy(update={"low": max(self.low, low), "high": min(self.high, high)})

    def ppf(self, u):
        a = special.ndtr((self.low - self.mean_) / self.sd)
        b = special.ndtr((self.high - self.mean_) / self.sd)
        p = a + (b - a) * np.asarray(u, dtype=float)
        x = self.mean_ + self.sd * special.ndtri(np.clip(p, 1e-15, 1 - 1e-15))
        return np.clip(x, self.low, self.high)

    def support(self):
        return (self.low, self.high)


class LogNormal(_Dist):
    """Log-normal given its median and the standard deviation `sigma` of its logarithm."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)

    def ppf(self, u):
        z = special.ndtri(np.clip(np.asarray(u, dtype=float), 1e-15, 1 - 1e-15))
        return self.median * np.exp(self.sigma * z)

    def support(self):
        return (0.0, math.inf)

    def mean(self):
        return self.median * math.exp(self.sigma**2 / 2)


class Beta(_Dist):
    """Beta(a, b), rescaled to [low, high] (default [0, 1])."""

    dist: Literal["beta"]
    a: float = Field(gt=0)
    b: float = Field(gt=0)
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _order(self):
        if self.high <= self.low:
            raise ValueError(f"high must be above low (got low={self.low}, high={self.high})")
        return self

    def ppf(self, u):
        return self.low + (self.high - self.low) * special.betaincinv(self.a, self.b, u)

    def support(self):
        return (self.low, self.high)

    def mean(self):
        return self.low + (self.high - self.low) * self.a / (self.a + self.b)


class Exponential(_Dist):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def ppf(self, u):
        return -self.mean_ * np.log1p(-np.asarray(u, dtype=float))

    def support(self):
        return (0.0, math.inf)

    def mean(self):
        return self.mean_


class Triangular(_Dist):
    """Triangular between `low` and `high` with its peak at `mode`."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high (got low={self.low}, mode={self.mode}, high={self.high})"
            )
        return self

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        lo, c, hi = self.low, self.mode, self.high
        f = (c - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (c - lo))
        right = hi - np.sqrt((1 - u) * (hi - lo) * (hi - c))
        return np.where(u < f, left, right)

    def support(self):
        return (self.low, self.high)

    def mean(self):
        return (self.low + self.mode + self.high) / 3


class Gamma(_Dist):
    """Gamma with shape `shape` and scale `scale` (mean = shape x scale)."""

    dist: Literal["gamma"]
    shape: float = Field(gt=0)
    scale: float = Field(gt=0)

    def ppf(self, u):
        return self.scale * special.gammaincinv(self.shape, np.asarray(u, dtype=float))

    def support(self):
        return (0.0, math.inf)

    def mean(self):
        return self.shape * self.scale


class Empirical(_Dist):
    """Each listed value equally likely (resampling observed data)."""

    dist: Literal["empirical"]
    values: list[float] = Field(min_length=1)

    def ppf(self, u):
        vals = np.sort(np.asarray(self.values, dtype=float))
        idx = np.minimum((np.asarray(u) * len(vals)).astype(int), len(vals) - 1)
        return vals[idx]

    def support(self):
        return (min(self.values), max(self.values))

    def mean(self):
        return float(np.mean(self.values))


Distribution = Annotated[
    Constant | Uniform | Normal | LogNormal | Beta | Exponential | Triangular | Gamma | Empirical,
    Field(discriminator="dist"),
]
DIST_NAMES = ("constant", "uniform", "normal", "lognormal", "beta", "exponential", "triangular", "gamma", "empirical")


def coerce_distribution(value: Any) -> Any:
    """A bare number is shorthand for a constant."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "constant", "value": value}
    return value


def within(dist: _Dist, low: float, high: float) -> _Dist:
    """Fit `dist` to a field's bounds: normals are truncated, anything else must already fit."""
    if isinstance(dist, Normal):
        out = dist.truncated(low, high)
        if out.high <= out.low:
            raise ValueError(f"truncating to [{low}, {high}] leaves nothing (got low={dist.low}, high={dist.high})")
        return out
    lo, hi = dist.support()
    if lo < low or hi > high:
        raise ValueError(f"values must lie in [{low:g}, {high:g}] (this {dist.dist} ranges over [{lo:g}, {hi:g}])")
    return dist
