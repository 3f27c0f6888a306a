"""Running plans: each plan's replications through the shared executors, reduced to scores.

Replication r of every plan uses the same seed (common random numbers), so two trials differ by
their plan, not their luck. Confirmation uses fresh seeds from the same master seed (those after
the trials' own), so the plans the search liked are not judged on the luck that made them look good.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import ValidationError

from funnelsim.experiment.executors import Executor
from funnelsim.experiment.sweepchunks import run_kpis_once
from funnelsim.model.streams import replication_seeds
from funnelsim.optimize.problem import STATISTICS, Objective, OptimizationProblem
from funnelsim.optimize.variables import Plan, apply_plan
from funnelsim.scenario.messages import problems_from
from funnelsim.scenario.schema import Scenario
from funnelsim.scenario.yamlsource import Source


def trial_seeds(problem: OptimizationProblem, seed: int) -> list[int]:
    return replication_seeds(seed, problem.replications)


def confirm_seeds(problem: OptimizationProblem, seed: int) -> list[int]:
    n = problem.replications
    return replication_seeds(seed, n + problem.spec.confirm.replications)[n:]


@dataclass
class PlanRuns:
    """A plan's replications: one row of KPIs per seed, or why the plan could not run."""

    plan: Plan
    kpis: pd.DataFrame | None = None
    error: str | None = None
    scores: list[float] = field(default_factory=list)
    violations: list[float] = field(default_factory=list)
    means_only: dict[str, float] | None = None  # a repeated plan: the means of its earlier runs
    ran: int = 0  # runs actually done for this plan

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def feasible(self) -> bool:
        return self.ok and all(v <= 0 for v in self.violations)

    @property
    def violation(self) -> float:
        """Total relative violation: 0 when every constraint holds, inf when the plan did not run."""
        return math.inf if not self.ok else float(sum(max(v, 0.0) for v in self.violations))

    def means(self) -> dict[str, float]:
        if self.means_only is not None:
            return dict(self.means_only)
        return {} if self.kpis is None else {k: float(v) for k, v in self.kpis.mean().items()}


def statistic(values, objective: Objective) -> float:
    x = np.asarray(values, dtype=float)
    q = STATISTICS[objective.statistic]
    return float(np.mean(x)) if q is None else float(np.quantile(x, q))


def build(problem: OptimizationProblem, plan: Plan) -> Scenario | str:
    """The plan's scenario, or why it is not a valid one (values valid alone may clash together)."""
    doc = apply_plan(problem.base_doc, problem.variables, plan)
    try:
        return Scenario.model_validate(doc)
    except ValidationError as exc:
        found = problems_from(exc.errors(include_url=False), Source(doc, {}), Scenario)
        return "invalid scenario for this plan: " + "; ".join(f"{p.path}: {p.message}" for p in found)


def evaluate(
    problem: OptimizationProblem,
    plans: Sequence[Plan],
    seeds: list[int],
    executor: Executor,
    progress: Callable[[int], None] | None = None,
) -> list[PlanRuns]:
    """Every plan at every seed, in one batch of tasks (results in plan order whatever the workers)."""
    out = [PlanRuns(plan) for plan in plans]
    tasks, owners = [], []
    for i, plan in enumerate(plans):
        scenario = build(problem, plan)
        if isinstance(scenario, str):
            out[i].error = scenario
            continue
        tasks += [(scenario, s) for s in seeds]
        owners.append(i)

    def describe(t: int) -> str:
        return f"replication {t % len(seeds) + 1} of plan {owners[t // len(seeds)] + 1} (seed {seeds[t % len(seeds)]})"

    results = executor.map(run_kpis_once, tasks, progress, describe=describe) if tasks else []
    for k, i in enumerate(owners):
        out[i].kpis = pd.DataFrame(results[k * len(seeds) : (k + 1) * len(seeds)])
        out[i].ran = len(seeds)
    for runs in out:
        score(problem, runs)
    return out


def score(problem: OptimizationProblem, runs: PlanRuns) -> None:
    """The objectives' statistics and each constraint's violation, from the plan's runs."""
    if not runs.ok:
        return
    runs.scores = [statistic(runs.kpis[o.kpi], o) for o in problem.objectives]
    runs.violations = [c.violation(float(runs.kpis[c.kpi].mean())) for c in problem.constraints]
