"""Does the verdict survive its own assumptions? The comparison rerun under each assumption set.

Every set runs every strategy with the seeds of the plain comparison (common random numbers
across strategies *and* across sets), through the same executors, so a verdict that changes
under a set changes because of the assumption, not the luck of the draw. For each set, strategy
and headline KPI we keep the paired difference with its 95% CI, and whether the verdict holds:
the same winner with a significant difference when the plain comparison found one, no
significant difference when it found none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from funnelsim.experiment.assumptions import DEFAULT_SETS, AssumptionSet, apply_to_all
from funnelsim.experiment.compare import Comparison, Difference, paired_difference, strategy_seeds
from funnelsim.experiment.executors import Executor, open_executor
from funnelsim.model.model import FunnelModel
from funnelsim.results.kpis import run_kpis
from funnelsim.scenario.schema import Scenario

ROBUSTNESS_KPIS = ("revenue", "profit")


def run_kpis_once(scenario: Scenario, seed: int) -> dict[str, float]:
    """One run's KPIs alone: the robustness runs need nothing else, and travel light between processes."""
    return run_kpis(FunnelModel(scenario, rng=seed).run())


def holds(plain: Difference, under: Difference) -> bool:
    """The verdict (winner and significance) is the same under the set as in the plain comparison."""
    if plain.significant:
        return under.significant and (under.mean_diff > 0) == (plain.mean_diff > 0)
    return not under.significant


@dataclass(frozen=True)
class Check:
    """One strategy against the baseline on one KPI, under one assumption set."""

    assumption: str
    strategy: str
    kpi: str
    difference: Difference
    holds: bool

    def as_dict(self) -> dict:
        return {
            "assumption": self.assumption,
            "strategy": self.strategy,
            "kpi": self.kpi,
            "difference": self.difference.mean_diff,
            "ci95": list(self.difference.ci95),
            "p_value": self.difference.p_value,
            "holds": self.holds,
        }


@dataclass
class Robustness:
    """The checks of a comparison under its assumption sets.

    Attributes:
        sets: the sets tried, in order (those skipped too).
        checks: one per set run, strategy and KPI.
        skipped: set name -> why it was not run for this comparison.
        replications: paired replications per strategy and set.
        unchanged: sets that changed no strategy: their numbers are the plain comparison's.
    """

    sets: list[AssumptionSet]
    checks: list[Check]
    replications: int
    kpis: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)

    def of(self, strategy: str, kpi: str) -> list[Check]:
        return [c for c in self.checks if c.strategy == strategy and c.kpi == kpi]

    def tally(self, strategy: str, kpi: str) -> tuple[int, int]:
        """(sets under which the verdict holds, sets run)."""
        checks = self.of(strategy, kpi)
        return sum(c.holds for c in checks), len(checks)

    def document(self) -> list[dict]:
        return [c.as_dict() for c in self.checks]


def robustness(
    cmp: Comparison,
    sets: Sequence[AssumptionSet] = DEFAULT_SETS,
    replications: int | None = None,
    kpis: Sequence[str] = ROBUSTNESS_KPIS,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
) -> Robustness:
    """Rerun `cmp` under every set and attach the result as `cmp.robustness`.

    `replications` defaults to the comparison's; the seeds are the comparison's seeds, so a set
    that changes nothing gives the comparison's own numbers. Sets are checked (ScenarioError,
    with the line of a file's set) before anything runs.
    """
    n = cmp.replications if replications is None else replications
    scenarios: Mapping[str, Scenario] = {name: res.scenario for name, res in cmp.results.items()}
    applied, skipped = apply_to_all(scenarios, sets)
    unchanged = [s for s, by in applied.items() if all(by[k] == scenarios[k] for k in by)]
    seeds = {name: strategy_seeds(cmp.seed, i, n, cmp.common_random_numbers) for i, name in enumerate(cmp.names)}
    reuse = n <= cmp.replications
    todo = [s for s in applied if not (reuse and s in unchanged)]
    tasks = [(s, name, seeds[name][r]) for s in todo for r in range(n) for name in cmp.names]

    def describe(i: int) -> str:
        s, name, seed = tasks[i]
        return f"assumption set {s}: {name} (seed {seed})"

    with open_executor(workers, scheduler, executor, tasks=len(tasks)) as ex:
        runs = ex.map(run_kpis_once, [(applied[s][name], seed) for s, name, seed in tasks], progress, describe=describe)
    values: dict[tuple[str, str], list[dict[str, float]]] = {}
    for (s, name, _), kpi_values in zip(tasks, runs, strict=True):
        values.setdefault((s, name), []).append(kpi_values)
    for s in applied:
        if s not in todo:
            for name in cmp.names:
                values[(s, name)] = [run.kpis for run in cmp.results[name].runs[:n]]
    checks = []
    base = cmp.baseline
    for s in applied:
        for name in cmp.names[1:]:
            for kpi in kpis:
                a = [v[kpi] for v in values[(s, base)]]
                b = [v[kpi] for v in values[(s, name)]]
                d = paired_difference(name, kpi, a, b)
                checks.append(Check(s, name, kpi, d, holds(cmp.difference(name, kpi), d)))
    result = Robustness(list(sets), checks, n, tuple(kpis), skipped, unchanged)
    cmp.robustness = result
    return result
