"""The noise-aware choice: the search's best plans and the current plan, re-run and judged again.

The best-looking trials are optimistic (the winner's curse: among many noisy scores the top one
is lucky). So the top `top_k` distinct plans and the base plan are re-run with many more
replications on fresh common seeds, and the recommendation is chosen from those runs alone: the
best plan whose confirmation means satisfy every constraint. Paired 95% intervals compare it with
the current plan and with the runner-up; if no plan satisfies the constraints, the least-violating
one is reported and nothing is recommended.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from funnelsim.experiment.executors import Executor
from funnelsim.experiment.parameters import canonical_json
from funnelsim.experiment.statistics import mean_ci
from funnelsim.optimize.evaluate import PlanRuns, confirm_seeds, evaluate, statistic
from funnelsim.optimize.problem import STATISTICS, Objective, OptimizationProblem
from funnelsim.optimize.variables import Plan, base_plan, plan_from_params

BOOTSTRAP = 4000  # resamples for the interval of a quantile's paired difference


@dataclass(frozen=True)
class Candidate:
    """A plan to confirm: the trial that found it (None for the current plan)."""

    plan: Plan
    trial: int | None

    @property
    def label(self) -> str:
        return "current plan" if self.trial is None else f"trial {self.trial}"


@dataclass
class PairedDifference:
    """`kpi` (as the objective's statistic) of plan a minus plan b over the same seeds."""

    kpi: str
    statistic: str
    diff: float
    low: float
    high: float

    @property
    def distinguishable(self) -> bool:
        return not (self.low <= 0 <= self.high) and not math.isnan(self.low)

    def document(self) -> dict:
        return {
            "kpi": self.kpi,
            "statistic": self.statistic,
            "diff": self.diff,
            "ci95": [self.low, self.high],
            "distinguishable": self.distinguishable,
        }


@dataclass
class Confirmation:
    """The confirmation runs and the choice made from them."""

    candidates: list[Candidate]
    runs: list[PlanRuns]
    replications: int
    seeds: list[int]
    status: str = "recommended"  # or "infeasible"
    chosen: int = 0  # index into candidates: the recommendation, or the least-violating plan
    runner_up: int | None = None
    vs_base: list[PairedDifference] = field(default_factory=list)
    vs_runner_up: list[PairedDifference] = field(default_factory=list)

    @property
    def base(self) -> int:
        return 0

    @property
    def feasible(self) -> bool:
        return self.status == "recommended"

    @property
    def distinguishable(self) -> bool | None:
        """Whether the best is distinguishable from the runner-up on the primary objective."""
        return self.vs_runner_up[0].distinguishable if self.vs_runner_up else None


def select(problem: OptimizationProblem, trials: list[FrozenTrial], k: int) -> list[Candidate]:
    """The top `k` distinct plans of the search: feasible before infeasible, then by objective
    (several objectives: the feasible Pareto front, ordered by the first objective)."""
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    primary = problem.primary

    def violation(t: FrozenTrial) -> float:
        return float(sum(max(v, 0.0) for v in t.user_attrs.get("constraints", [])))

    def key(t: FrozenTrial) -> tuple:
        v = violation(t)
        return (v > 0, v, -t.values[0] if primary.maximize else t.values[0], t.number)

    ranked = sorted(done, key=key)
    if len(problem.objectives) > 1:
        front = pareto_front(problem, [t for t in ranked if violation(t) == 0])
        ranked = sorted(front, key=key) + [t for t in ranked if t not in front]
    seen, out = {canonical_json(base_plan(problem))}, []
    for t in ranked:
        plan = plan_from_params(problem, t.params)
        if canonical_json(plan) not in seen:
            seen.add(canonical_json(plan))
            out.append(Candidate(plan, t.number))
        if len(out) == k:
            break
    return out


def pareto_front(problem: OptimizationProblem, trials: list[FrozenTrial]) -> list[FrozenTrial]:
    """The trials no other trial beats on every objective."""
    signs = np.array([1.0 if o.maximize else -1.0 for o in problem.objectives])
    values = np.array([t.values for t in trials]) * signs if trials else np.zeros((0, len(signs)))
    out = []
    for i, t in enumerate(trials):
        others = np.delete(values, i, axis=0)
        dominated = np.any(np.all(others >= values[i], axis=1) & np.any(others > values[i], axis=1))
        if not dominated:
            out.append(t)
    return out


def paired(a, b, objective: Objective) -> PairedDifference:
    """The statistic of a minus that of b, paired by seed: a t-interval for means, else a
    bootstrap over seeds (fixed generator, so reruns give the same interval)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if STATISTICS[objective.statistic] is None:
        diff, low, high = mean_ci(a - b)
        return PairedDifference(objective.kpi, objective.statistic, diff, low, high)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(a), size=(BOOTSTRAP, len(a)))
    q = STATISTICS[objective.statistic]
    boot = np.quantile(a[idx], q, axis=1) - np.quantile(b[idx], q, axis=1)
    diff = statistic(a, objective) - statistic(b, objective)
    low, high = np.quantile(boot, [0.025, 0.975])
    return PairedDifference(objective.kpi, objective.statistic, diff, float(low), float(high))


def confirm(
    problem: OptimizationProblem,
    trials: list[FrozenTrial],
    executor: Executor,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> Confirmation:
    """Re-run the current plan and the top candidates on fresh common seeds; choose from those runs."""
    cands = [Candidate(base_plan(problem), None), *select(problem, trials, problem.spec.confirm.top_k)]
    seeds = confirm_seeds(problem, seed)
    runs = evaluate(problem, [c.plan for c in cands], seeds, executor, progress)
    out = Confirmation(cands, runs, len(seeds), seeds)
    primary = problem.primary
    feasible = [i for i, r in enumerate(runs) if r.feasible]
    if not feasible:
        out.status = "infeasible"
        out.chosen = min(range(len(runs)), key=lambda i: (runs[i].violation, i))
        return out
    sign = -1.0 if primary.maximize else 1.0
    order = sorted(feasible, key=lambda i: (sign * runs[i].scores[0], i))
    out.chosen = order[0]
    out.runner_up = order[1] if len(order) > 1 else None
    best = runs[out.chosen]
    compare = list(problem.objectives)
    for kpi in dict.fromkeys(c.kpi for c in problem.constraints):
        if kpi not in {o.kpi for o in compare}:
            compare.append(Objective(kpi, "maximize", "mean"))
    if out.chosen != out.base and runs[out.base].ok:
        out.vs_base = [paired(best.kpis[o.kpi], runs[out.base].kpis[o.kpi], o) for o in compare]
    if out.runner_up is not None:
        other = runs[out.runner_up]
        out.vs_runner_up = [paired(best.kpis[o.kpi], other.kpis[o.kpi], o) for o in compare]
    return out
