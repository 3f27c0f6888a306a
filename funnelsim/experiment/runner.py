"""Running a scenario: one seeded run, or replications on any executor (`experiment/executors.py`).

Each replication is seeded from `SeedSequence(seed).spawn(R)[i]`, so results are identical for
any number of workers and replication i is the same whether 5 or 500 are run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnelsim.experiment.executors import Executor, InProcess, open_executor
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


def run_once(scenario: Scenario, seed: int, on_day: Callable[[int], None] | None = None) -> RunResult:
    model = FunnelModel(scenario, rng=seed).run(on_day)
    return RunResult(
        seed=seed,
        kpis=run_kpis(model),
        daily=daily_series(model),
        reps=rep_table(model),
        funnel=funnel(model),
        response_hours=response_hours(model).astype(np.float32),
        rep_weekly=rep_weekly(model),
    )


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

    def _repr_html_(self) -> str:
        from funnelsim.report.notebook import result_html

        return result_html(self)

    def plot(self):
        """The run's figures (those `run --out` writes), by name; a notebook shows them all."""
        from funnelsim.report.figures import run_figures
        from funnelsim.report.notebook import figures

        return figures(run_figures(self, self.scenario.name))


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replications: int = 1,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    day_progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run `replications` independent replications of `scenario`.

    With one replication the run uses `seed` itself (default: the scenario's seed); with more,
    replication i uses the i-th seed spawned from it. Runs go to `executor` if given, else to the
    Dask scheduler at `scheduler`, else to `workers` local processes; results are the same on all.
    A single replication run here (no executor, no scheduler) calls `day_progress(1)` after each day.
    """
    master = scenario.seed if seed is None else seed
    seeds = [master] if replications == 1 else replication_seeds(master, replications)

    def describe(i: int) -> str:
        return f"replication {i + 1} of {scenario.name} (seed {seeds[i]})"

    if day_progress is not None and len(seeds) == 1 and scheduler is None and executor is None:
        executor = InProcess()
        tasks = [(scenario, seeds[0], day_progress)]
    else:
        tasks = [(scenario, s) for s in seeds]
    with open_executor(workers, scheduler, executor, tasks=len(seeds)) as ex:
        runs = ex.map(run_once, tasks, progress, describe=describe)
    return SimulationResult(scenario, runs)
