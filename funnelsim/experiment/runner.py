"""Running a scenario: one seeded run, or replications on local processes.

Each replication is seeded from `SeedSequence(seed).spawn(R)[i]`, so results are identical for
any number of workers and replication i is the same whether 5 or 500 are run.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnelsim.experiment.statistics import summarise
from funnelsim.model.model import FunnelModel
from funnelsim.model.streams import replication_seeds
from funnelsim.results.kpis import daily_series, funnel, rep_table, rep_weekly, response_hours, run_kpis
from funnelsim.scenario.schema import Scenario


@dataclass
class RunResult:
    """What one run leaves behind: small tables, never live agents."""

    seed: int
    kpis: dict[str, float]
    daily: pd.DataFrame
    reps: pd.DataFrame
    funnel: pd.Series
    response_hours: np.ndarray
    rep_weekly: pd.DataFrame


def run_once(scenario: Scenario, seed: int) -> RunResult:
    model = FunnelModel(scenario, rng=seed).run()
    return RunResult(
        seed=seed,
        kpis=run_kpis(model),
        daily=daily_series(model),
        reps=rep_table(model),
        funnel=funnel(model),
        response_hours=response_hours(model).astype(np.float32),
        rep_weekly=rep_weekly(model),
    )


def _run_chunk(scenario: Scenario, seeds: list[int]) -> list[RunResult]:
    return [run_once(scenario, s) for s in seeds]


@dataclass
class SimulationResult:
    """Replications of one scenario: per-run KPIs, daily series and per-rep tables."""

    scenario: Scenario
    runs: list[RunResult] = field(default_factory=list)

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.runs]

    @property
    def kpis(self) -> pd.DataFrame:
        """One row per run, one column per KPI (plus `seed`)."""
        return pd.DataFrame([{"seed": r.seed, **r.kpis} for r in self.runs])

    @property
    def timeseries(self) -> pd.DataFrame:
        return pd.concat([r.daily.assign(run=i, seed=r.seed) for i, r in enumerate(self.runs)], ignore_index=True)

    @property
    def reps(self) -> pd.DataFrame:
        return pd.concat([r.reps.assign(run=i, seed=r.seed) for i, r in enumerate(self.runs)], ignore_index=True)

    @property
    def rep_weekly(self) -> pd.DataFrame:
        """One row per rep, week and run: the ramp and workload record."""
        return pd.concat([r.rep_weekly.assign(run=i, seed=r.seed) for i, r in enumerate(self.runs)], ignore_index=True)

    @property
    def funnel(self) -> pd.DataFrame:
        return pd.DataFrame([r.funnel for r in self.runs]).reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Mean and 95% confidence interval of every KPI over the replications."""
        return summarise(self.kpis)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def process_pool(workers: int) -> Executor:
    """Worker processes started from a server that has already imported the model."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["funnelsim.experiment.runner"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def run_many(
    scenario: Scenario,
    seeds: list[int],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """Run every seed; in parallel when `workers > 1`. Order and results do not depend on workers."""
    if workers <= 1 or len(seeds) <= 1:
        out = []
        for s in seeds:
            out.append(run_once(scenario, s))
            if progress:
                progress(1)
        return out
    chunks = _chunks(seeds, workers)
    with process_pool(min(workers, len(chunks))) as pool:
        futures = [pool.submit(_run_chunk, scenario, c) for c in chunks]
        results = []
        for f in futures:
            part = f.result()
            results.extend(part)
            if progress:
                progress(len(part))
    return results


def _chunks(seeds: list[int], workers: int) -> list[list[int]]:
    """Small enough to balance the load, large enough that start-up per task stays negligible."""
    size = max(1, min(8, len(seeds) // (workers * 2) or 1))
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replications: int = 1,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run `replications` independent replications of `scenario`.

    With one replication the run uses `seed` itself (default: the scenario's seed); with more,
    replication i uses the i-th seed spawned from it.
    """
    master = scenario.seed if seed is None else seed
    seeds = [master] if replications == 1 else replication_seeds(master, replications)
    return SimulationResult(scenario, run_many(scenario, seeds, workers, progress))
