"""Sizing a run before it starts: the lead estimate, the memory check, and progress by day."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from funnelsim.cli import main
from funnelsim.commands import core
from funnelsim.errors import UsageError
from funnelsim.experiment import workload
from funnelsim.experiment.runner import simulate
from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
HUGE = ["--set", "marketing.channels[0].leads_per_week=1e7", "--set", "marketing.budget_per_month=null"]


@pytest.mark.parametrize(
    "overrides",
    [
        ["horizon_weeks=13"],  # the budget binds a little
        ["horizon_weeks=13", "marketing.budget_per_month=50000"],  # the budget binds hard
        ["horizon_weeks=13", "marketing.budget_per_month=null", "marketing.channels[0].targeting=0.5"],
    ],
)
def test_expected_leads_match_a_run(overrides):
    scenario = load_scenario(BASELINE, overrides)
    bought = FunnelModel(scenario, rng=1).run().leads_created
    assert workload.expected_leads(scenario) == pytest.approx(bought, rel=0.1)


def test_a_run_beyond_the_memory_available_is_refused_with_the_estimate():
    scenario = load_scenario(BASELINE, ["marketing.budget_per_month=null"])
    with pytest.raises(UsageError, match=r"about 26,000 leads in 52 weeks .* more than the 1\.0 MB available"):
        workload.check_fits(scenario, available=2**20)
    workload.check_fits(scenario, available=64 * 2**30)  # fits: nothing said


def test_run_refuses_a_huge_run_at_once_and_exits_2(capsys):
    started = time.monotonic()
    assert main(["run", str(BASELINE), *HUGE]) == 2
    err = capsys.readouterr().err.strip()
    assert time.monotonic() - started < 10  # refused before running
    assert err.count("\n") == 0 and "520,013,000 leads" in err and "--force" in err


def test_force_runs_anyway(monkeypatch, capsys):
    monkeypatch.setattr(workload, "available_memory", lambda: 2**20)
    args = ["run", str(BASELINE), "--set", "horizon_weeks=2"]
    assert main(args) == 2
    assert main([*args, "--force"]) == 0
    assert "Leads created" in capsys.readouterr().out


def test_a_single_run_reports_progress_day_by_day():
    ticks = []
    scenario = load_scenario(BASELINE, ["horizon_weeks=3"])
    result = simulate(scenario, seed=1, day_progress=ticks.append)
    assert ticks == [1] * 15 and len(result.runs) == 1
    pd.testing.assert_frame_equal(result.kpis, simulate(scenario, seed=1).kpis)  # the same run


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_single_run_shows_a_progress_bar_by_day_on_a_terminal(monkeypatch, capsys):
    assert 0 < core.SINGLE_RUN_BAR_AFTER <= 3  # only runs longer than a few seconds show it
    monkeypatch.setattr(core, "SINGLE_RUN_BAR_AFTER", 0.0)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", str(BASELINE), "--set", "horizon_weeks=3"]) == 0
    assert "baseline: 100%" in terminal.getvalue() and "15/15" in terminal.getvalue()
    assert "Leads created" in capsys.readouterr().out
