"""Where does the better strategy change? Paired comparisons of strategies across team sizes.

At every team size each strategy runs the same replications (common random numbers); the team
size at which the mean paired difference of the chosen KPI changes sign is the crossover.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from funnelsim.errors import UsageError
from funnelsim.experiment.compare import MIN_REPLICATIONS, Comparison, by_name, check_comparable, strategy_seeds
from funnelsim.experiment.executors import Executor, open_executor
from funnelsim.experiment.runner import SimulationResult, run_once
from funnelsim.model.levers import apply_levers
from funnelsim.scenario.schema import Scenario

SWEEP_KPIS = ("profit", "revenue", "revenue_per_rep_hour", "rep_utilization")
DEFAULT_SIZES = (10, 15, 20, 30, 40, 50, 60, 70, 80, 100, 120)


def parse_sizes(text: str) -> list[int]:
    """'10,20,40' or '10:100:10' (start:stop:step, stop included) -> sorted distinct team sizes."""
    text = text.strip()
    try:
        if ":" in text:
            start, stop, step = (int(x) for x in text.split(":"))
            if step <= 0:
                raise ValueError
            sizes = list(range(start, stop + 1, step))
        else:
            sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"expected team sizes like 10,20,40 or 10:100:10, got {text!r}") from None
    if len(set(sizes)) < 2 or min(sizes) < 1:
        raise ValueError(f"need at least two distinct team sizes of 1 rep or more, got {text!r}")
    return sorted(set(sizes))


@dataclass
class Crossover:
    """Per team size and strategy: KPI means and CIs, and paired differences from the baseline.

    `table` has one row per (reps, strategy, kpi); `crossings[name]` lists the interpolated team
    sizes where `name` minus the baseline changes sign on `kpi`.
    """

    kpi: str
    names: list[str]
    sizes: list[int]
    replications: int
    seed: int
    table: pd.DataFrame
    crossings: dict[str, list[float]]

    def series(self, kpi: str | None = None) -> pd.DataFrame:
        return self.table[self.table["kpi"] == (kpi or self.kpi)].reset_index(drop=True)

    def document(self) -> dict:
        return {
            "kpi": self.kpi,
            "baseline": self.names[0],
            "strategies": self.names,
            "replications": self.replications,
            "seed": self.seed,
            "team_sizes": self.sizes,
            "crossings": self.crossings,
            "rows": self.table.to_dict(orient="records"),
        }


def sign_changes(x: Sequence[float], y: Sequence[float]) -> list[float]:
    """Where the piecewise-linear curve through (x, y) crosses zero (interpolated)."""
    out = []
    for (x0, y0), (x1, y1) in zip(zip(x, y, strict=True), list(zip(x, y, strict=True))[1:], strict=False):
        if math.isnan(y0) or math.isnan(y1):
            continue
        if y0 == 0:
            out.append(float(x0))
        elif y0 * y1 < 0:
            out.append(float(x0 + (x1 - x0) * y0 / (y0 - y1)))
    return out


def strategies_setting_reps(scenarios: Mapping[str, Scenario]) -> list[str]:
    """Strategies whose teams' sizes differ from the baseline's (the first): the field a crossover sweeps."""
    teams = {name: [(t.name, t.reps) for t in s.sales.teams] for name, s in scenarios.items()}
    base = next(iter(teams.values()))
    return [name for name, t in teams.items() if t != base]


def _team_sizes(scenario: Scenario) -> str:
    return ", ".join(f"{t.name} {t.reps}" for t in scenario.sales.teams)


def check_team_sizes_free(scenarios: Mapping[str, Scenario]) -> None:
    """Refuse a crossover that would overwrite a strategy defined by its team size."""
    differ = strategies_setting_reps(scenarios)
    if not differ:
        return
    first = next(iter(scenarios))
    sizes = "; ".join(f"{n}: {_team_sizes(scenarios[n])}" for n in [first, *differ])
    raise UsageError(
        f"{'strategy' if len(differ) == 1 else 'strategies'} {', '.join(differ)} "
        f"{'sets' if len(differ) == 1 else 'set'} the swept field sales.teams[*].reps (reps per team: {sizes}); "
        "a crossover gives every strategy the same team size, so it would compare other strategies than "
        "the file describes. Compare them as they are with `funnelsim compare`, or accept the change with "
        "--override-strategy-reps (override_strategy_reps=True from Python)"
    )


def _rows(cmp: Comparison, reps: int, kpis: list[str]) -> list[dict]:
    """One row per strategy and KPI at one team size; the baseline's difference is zero by definition."""
    out = []
    for name in cmp.names:
        summary = cmp.summary(name)
        for k in kpis:
            d = None if name == cmp.baseline else cmp.difference(name, k)
            out.append(
                {
                    "reps": reps,
                    "strategy": name,
                    "kpi": k,
                    "mean": summary.at[k, "mean"],
                    "ci95_low": summary.at[k, "ci95_low"],
                    "ci95_high": summary.at[k, "ci95_high"],
                    "diff": d.mean_diff if d else 0.0,
                    "diff_low": d.ci95[0] if d else 0.0,
                    "diff_high": d.ci95[1] if d else 0.0,
                    "p_value": d.p_value if d else math.nan,
                    "significant": bool(d.significant) if d else False,
                }
            )
    return out


def sweep_team_sizes(
    scenarios: Mapping[str, Scenario] | Sequence[Scenario],
    sizes: Sequence[int],
    replications: int = 5,
    seed: int | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    kpi: str = "profit",
    scheduler: str | None = None,
    executor: Executor | None = None,
    override_strategy_reps: bool = False,
) -> Crossover:
    """Compare the strategies at each team size (reps spread over teams as `apply_levers` does).

    Strategies that differ in team size are refused (UsageError) unless `override_strategy_reps`:
    the sweep would replace what defines them. Runs go to `executor`, the Dask `scheduler` or
    `workers` local processes; results do not depend on which.
    """
    if replications < MIN_REPLICATIONS:
        raise ValueError(f"statistics need at least {MIN_REPLICATIONS} replications per point (got {replications})")
    scenarios = by_name(scenarios)
    check_comparable(scenarios)
    if not override_strategy_reps:
        check_team_sizes_free(scenarios)
    names = list(scenarios)
    master = next(iter(scenarios.values())).seed if seed is None else seed
    seeds = strategy_seeds(master, 0, replications)
    grid = {n: {name: apply_levers(s, reps=n) for name, s in scenarios.items()} for n in sizes}
    # biggest teams first: the longest runs start early and the pool drains evenly
    order = [(n, name, r) for n in sorted(sizes, reverse=True) for r in range(replications) for name in names]

    def describe(i: int) -> str:
        n, name, r = order[i]
        return f"replication {r + 1} of {name} with {n} reps (seed {seeds[r]})"

    with open_executor(workers, scheduler, executor, tasks=len(order)) as ex:
        runs = ex.map(run_once, [(grid[n][name], seeds[r]) for n, name, r in order], progress, describe=describe)
    results = {n: {name: SimulationResult(grid[n][name]) for name in names} for n in sizes}
    for (n, name, _), run in zip(order, runs, strict=True):
        results[n][name].runs.append(run)
    kpis = list(dict.fromkeys((kpi, *SWEEP_KPIS)))
    rows = [row for n in sorted(sizes) for row in _rows(Comparison(results[n], master), n, kpis)]
    table = pd.DataFrame(rows)
    main = table[table["kpi"] == kpi]
    crossings = {}
    for name in names[1:]:
        part = main[main["strategy"] == name].sort_values("reps")
        crossings[name] = sign_changes(part["reps"].tolist(), part["diff"].tolist())
    return Crossover(kpi, names, sorted(sizes), replications, master, table, crossings)
