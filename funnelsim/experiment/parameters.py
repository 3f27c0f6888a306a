"""What a sweep varies: the sweep file's schema, its parameters and the base scenario they change.

`sweepfile.load_sweep` reads and checks a file into a `Sweep`; a `Parameter` knows the field
paths it sets and the values it can take, on a grid or from uniforms in a random design.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from funnelsim.results.registry import KPI_NAMES
from funnelsim.scenario.yamlsource import FieldPath, format_path

SAMPLERS = ("grid", "random", "lhs", "sobol")
# columns of a results row that are not parameters
RESERVED = ("run_id", "point_id", "replication", "seed", "status", "error", "seconds", *KPI_NAMES)
Scalar = bool | int | float | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ParameterSpec(_Strict):
    """One thing the sweep varies: a list of `values`, or a `range` [low, high]."""

    path: str | Annotated[list[str], Field(min_length=1)]
    name: str | None = None
    values: Annotated[list[Scalar], Field(min_length=1)] | None = None
    range: tuple[float, float] | None = None
    steps: Annotated[int, Field(ge=2)] | None = None
    scale: Literal["linear", "log"] = "linear"
    integer: bool | None = None


class SweepSpec(_Strict):
    """The sweep file as written."""

    name: str = "sweep"
    description: str = ""
    base: str
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")
    parameters: Annotated[list[ParameterSpec], Field(min_length=1)]
    sampler: Literal["grid", "random", "lhs", "sobol"] = "grid"
    samples: Annotated[int, Field(ge=1)] | None = None
    replications: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    kpis: Annotated[list[str], Field(min_length=1)] | None = None
    chunk_size: Annotated[int, Field(ge=1)] | None = None


@dataclass(frozen=True)
class Parameter:
    """A validated parameter: the scenario fields it sets and the values it can take.

    `kind` is "int", "float", "str" or "bool"; a parameter has either `values` or `low`/`high`.
    """

    name: str
    paths: tuple[FieldPath, ...]
    kind: str
    values: tuple[Scalar, ...] | None = None
    low: float | None = None
    high: float | None = None
    steps: int | None = None
    scale: str = "linear"

    def levels(self) -> list[Scalar]:
        """The grid levels: the listed values, or `steps` points across the range."""
        if self.values is not None:
            return list(self.values)
        if self.scale == "log":
            raw = np.geomspace(self.low, self.high, self.steps)
        else:
            raw = np.linspace(self.low, self.high, self.steps)
        if self.kind == "int":
            return list(dict.fromkeys(int(round(x)) for x in raw))
        return [float(x) for x in raw]

    def from_unit(self, u: np.ndarray) -> list[Scalar]:
        """Map uniforms in [0, 1) onto the parameter's values (inverse transform)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        if self.values is not None:
            idx = np.floor(u * len(self.values)).astype(int)
            return [self.values[i] for i in idx]
        if self.kind == "int":
            lo, hi = int(self.low), int(self.high)
            if self.scale == "log":
                x = np.floor(np.exp(np.log(lo) + u * (np.log(hi + 1) - np.log(lo))))
            else:
                x = lo + np.floor(u * (hi - lo + 1))
            return [int(v) for v in np.clip(x, lo, hi)]
        if self.scale == "log":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        return [float(v) for v in x]

    def describe(self) -> dict[str, Any]:
        """JSON-ready description, kept in the manifest."""
        out: dict[str, Any] = {"name": self.name, "paths": [format_path(p) for p in self.paths], "kind": self.kind}
        if self.values is not None:
            out["values"] = list(self.values)
        else:
            out.update(low=self.low, high=self.high, scale=self.scale, steps=self.steps)
        return out


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the base scenario as plain data, the parameters and the design settings."""

    spec: SweepSpec
    file: str
    base_file: str
    base_doc: dict[str, Any]
    parameters: tuple[Parameter, ...]
    kpis: tuple[str, ...]
    sweep_hash: str
    base_hash: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def sampler(self) -> str:
        return self.spec.sampler

    @property
    def replications(self) -> int:
        return self.spec.replications

    @property
    def seed(self) -> int:
        return self.spec.seed


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def set_value(doc: Any, path: FieldPath, value: Any) -> None:
    """Set `value` at `path` inside plain data (in place); the path must exist."""
    cur = doc
    for key in path[:-1]:
        cur = cur[key]
    cur[path[-1]] = value


def apply_values(base_doc: dict, paths: list[tuple[FieldPath, ...]], values: tuple) -> dict:
    """A copy of the base document with each parameter's value set at its paths."""
    doc = copy.deepcopy(base_doc)
    for param_paths, value in zip(paths, values, strict=True):
        for p in param_paths:
            set_value(doc, p, value)
    return doc
