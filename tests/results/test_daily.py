"""The daily series against the run's KPIs: cumulative columns only grow and end at the KPI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from funnelsim.model.model import FunnelModel
from funnelsim.results.daily import DAILY
from funnelsim.results.kpis import daily_series, run_kpis
from funnelsim.scenario.loader import load_variants

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))
CUMULATIVE = [s for s in DAILY if s.cumulative]
# a quarter, with attrition high enough that every scenario loses reps in it
SHORT = ["horizon_weeks=13", "people.attrition.annual_rate=0.8"]


def test_the_columns_that_add_up_are_declared_cumulative():
    names = {s.name for s in CUMULATIVE}
    assert {"rep_hours_used", "rep_hours_available", "deals_won", "revenue", "cost", "leavers"} <= names
    assert all(s.kpi for s in CUMULATIVE)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_cumulative_columns_never_fall_and_end_at_their_kpi(path):
    assert SCENARIOS
    for name, scenario in load_variants(path, SHORT).items():
        model = FunnelModel(scenario, rng=1).run()
        daily, kpis = daily_series(model), run_kpis(model)
        assert kpis["leavers"] > 0, name  # reps leave, so hours of leavers are at stake
        for series in CUMULATIVE:
            column = daily[series.name].to_numpy()
            assert np.all(np.diff(column) >= 0), f"{name}: {series.name} falls"
            assert column[-1] == kpis[series.kpi], f"{name}: {series.name} ends at {column[-1]}"
