"""A sweep's unit of work: a chunk of runs, sent whole to a worker, its rows sent back as columns.

A chunk carries the base scenario as a plain document, so a worker needs no files (Dask workers may
share none); it builds each point's scenario once and returns KPIs only, never live models.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from funnelsim.experiment.executors import short_error
from funnelsim.experiment.parameters import apply_values
from funnelsim.model.model import FunnelModel
from funnelsim.results.kpis import run_kpis
from funnelsim.scenario.messages import problems_from
from funnelsim.scenario.schema import Scenario
from funnelsim.scenario.yamlsource import FieldPath, Source


@dataclass(frozen=True)
class RunSpec:
    """One run to do: which point, which replication, which seed."""

    run_id: str
    point_id: int
    replication: int
    seed: int
    values: tuple


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs, so that it needs no files (Dask workers may share none)."""

    base_doc: dict[str, Any]
    paths: list[tuple[FieldPath, ...]]
    names: list[str]
    kpis: tuple[str, ...]
    runs: list[RunSpec]
    posterior: Any = None  # calibrate.draws.PosteriorDraws: replication r of every point gets draw r
    draw_seed: int = 0


def run_kpis_once(scenario: Scenario, seed: int) -> dict[str, float]:
    """One seeded run reduced to its KPIs: the least a sweep needs to keep."""
    return run_kpis(FunnelModel(scenario, rng=seed).run())


def _build(job: ChunkJob, values: tuple) -> Scenario:
    doc = apply_values(job.base_doc, job.paths, values)
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        found = problems_from(exc.errors(include_url=False), Source(doc, {}), Scenario)
        message = "; ".join(f"{p.path}: {p.message}" for p in found)
        raise ValueError(f"invalid scenario at this point: {message}") from None


def run_chunk(job: ChunkJob) -> dict[str, list]:
    """Run every run of the chunk; a run that raises becomes an `error` row, the chunk goes on."""
    cols: dict[str, list] = {k: [] for k in ("run_id", "point_id", "replication", "seed", *job.names)}
    cols.update({k: [] for k in job.kpis})
    cols.update(status=[], error=[], seconds=[])
    scenarios: dict[int, Scenario | Exception] = {}
    for run in job.runs:
        t0 = time.perf_counter()
        kpis, error = None, None
        try:
            if run.point_id not in scenarios:
                try:
                    scenarios[run.point_id] = _build(job, run.values)
                except ValueError as exc:
                    scenarios[run.point_id] = exc
            scenario = scenarios[run.point_id]
            if isinstance(scenario, Exception):
                raise scenario
            if job.posterior is not None:
                scenario = job.posterior.apply(scenario, job.draw_seed, run.replication)
            kpis = run_kpis_once(scenario, run.seed)
        except Exception as exc:  # noqa: BLE001 - one failed run must not stop the sweep
            error = short_error(exc)
        cols["run_id"].append(run.run_id)
        cols["point_id"].append(run.point_id)
        cols["replication"].append(run.replication)
        cols["seed"].append(run.seed)
        for name, value in zip(job.names, run.values, strict=True):
            cols[name].append(value)
        for k in job.kpis:
            cols[k].append(math.nan if kpis is None else float(kpis[k]))
        cols["status"].append("ok" if error is None else "error")
        cols["error"].append(error)
        cols["seconds"].append(time.perf_counter() - t0)
    return cols
