"""The backtest's 80% intervals hold the held-out truth about 80% of the time (slow)."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim.calibrate.run import calibrate
from funnelsim.calibrate.synthetic import simulate_export
from funnelsim.experiment.executors import LocalProcesses
from funnelsim.scenario.loader import load_scenario

SEEDS = 20
# Simulations per calibration. At 60 (12 a generation) the posterior is mostly prior and the
# forecasts wander: measured coverage 0.57 at 80% and 0.72 at 95%. At 300 the 20 exports gave 0.73
# (new opportunities 0.70, deals won 0.75, revenue 0.75) and 0.88, in 22 minutes on 2 cores.
BUDGET = 300


@pytest.mark.slow
def test_the_80_percent_intervals_cover_about_80_percent(tmp_path):
    """20 exports of a known company (30 weeks), each calibrated on its first 24 weeks and
    forecasting the last 6: the share of held-out measures inside their 80% interval is between
    0.65 and 0.93 (a binomial 95% range around 0.8 for 60 correlated trials, far from 0.5), and
    inside the 95% interval at least as often."""
    truth = load_scenario("scenarios/baseline.yaml", ["horizon_weeks=30"])
    base = load_scenario("scenarios/baseline.yaml").model_dump(mode="json", by_alias=True)
    in80, in95, by_measure = [], [], {}
    with LocalProcesses(2) as ex:
        for seed in range(SEEDS):
            crm = simulate_export(truth, 1000 + seed)
            cal = calibrate(crm, base, ex, out=None, budget=BUDGET, seed=seed, holdout_weeks=6, bootstrap=20)
            for key, m in cal.backtest["measures"].items():
                by_measure.setdefault(key, []).append(m["in_80"])
                in80.append(m["in_80"])
                in95.append(m["in_95"])
    c80, c95 = float(np.mean(in80)), float(np.mean(in95))
    each = ", ".join(f"{k} {np.mean(v):.2f}" for k, v in by_measure.items())
    print(f"backtest coverage over {SEEDS} exports: 80% intervals {c80:.2f} ({each}), 95% intervals {c95:.2f}")
    assert 0.65 <= c80 <= 0.93, c80
    assert c95 >= c80
