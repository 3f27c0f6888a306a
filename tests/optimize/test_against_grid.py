"""Against exhaustive search: on a grid a test can afford, the recommendation is as good as the
grid's optimum (within its 95% CI) for at most a quarter of the grid's runs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from funnelsim.experiment.executors import make_executor
from funnelsim.experiment.statistics import mean_ci
from funnelsim.optimize.evaluate import evaluate, trial_seeds
from funnelsim.optimize.problem import load_problem
from funnelsim.optimize.run import optimize
from tests.optimize.conftest import BASE, write

GRID = f"""\
name: grid
base: {BASE}
set:
  horizon_weeks: 12
  marketing.channels[*].leads_per_week: 30
variables:
  - {{name: reps, path: 'sales.teams[0].reps', range: [2, 12], step: 2}}
  - {{name: targeting, path: 'marketing.channels[*].targeting', range: [0, 0.8], step: 0.2}}
  - {{name: mql, path: marketing.mql_threshold, range: [0.3, 0.8], step: 0.1}}
objectives:
  - kpi: profit
replications: 4
trials: 30
batch: 4
seed: 11
confirm: {{top_k: 2, replications: 20}}
"""


@pytest.mark.slow
def test_the_recommendation_matches_the_grid_optimum_for_a_quarter_of_its_runs(tmp_path: Path):
    problem = load_problem(write(tmp_path, GRID))
    levels = [[2, 4, 6, 8, 10, 12], [0.0, 0.2, 0.4, 0.6, 0.8], [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]]
    plans = [dict(zip(("reps", "targeting", "mql"), v, strict=True)) for v in itertools.product(*levels)]
    seeds = trial_seeds(problem, problem.spec.seed)
    with make_executor(2) as ex:
        grid = evaluate(problem, plans, seeds, ex)
    grid_runs = len(plans) * len(seeds)
    profit = {i: mean_ci(r.kpis["profit"]) for i, r in enumerate(grid)}
    best = max(profit, key=lambda i: profit[i][0])

    result = optimize(problem, tmp_path / "out", workers=2, report=False)
    c = result.outcome.confirmation
    runs = result.outcome.runs_search + c.replications * len(c.candidates)
    assert runs <= grid_runs / 4, (runs, grid_runs)
    chosen = c.candidates[c.chosen].plan
    got = next(profit[i][0] for i, p in enumerate(plans) if all(abs(p[k] - chosen[k]) < 1e-9 for k in p))
    low = profit[best][1]  # the grid optimum's 95% CI is (low, high); as good or better: at least low
    assert got >= low, (chosen, got, plans[best], profit[best])
