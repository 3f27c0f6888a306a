"""The KPI registry is the one list: every place that names, labels or formats KPIs reads it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnelsim
from funnelsim.dashboard import components, snapshot
from funnelsim.experiment import compare, parameters, sweepfile
from funnelsim.experiment.statistics import summarise
from funnelsim.model.model import FunnelModel
from funnelsim.report import compare_report, crossover_report, output, sensitivity, tables
from funnelsim.results import daily, kpis, registry
from funnelsim.results.registry import KPI, KPIS, Kpi, Unit
from funnelsim.scenario.errors import ScenarioError
from tests.experiment.test_sweep import SMALL as SWEEP_BASE
from tests.helpers import baseline

SMALL = {"horizon_weeks": 4, "sales": {"teams": [{"name": "ae", "reps": 6}]}}


def test_every_kpi_is_declared_once_with_a_label_a_unit_and_a_computation():
    names = [k.name for k in KPIS]
    assert len(names) == len(set(names))
    for k in KPIS:
        assert k.label and isinstance(k.unit, Unit) and callable(k.compute), k.name
        assert k.bounds.lower <= k.bounds.upper
    assert all(KPI[k].bounds.lower == 0 and KPI[k].bounds.upper == 1 for k in ("win_rate", "trust_end"))
    assert KPI["rep_utilization"].bounds.upper == math.inf  # hours used can pass hours available


def test_every_list_of_kpis_is_the_registry():
    assert kpis.KPI_NAMES is registry.KPI_NAMES and kpis.KPI_LABELS is registry.KPI_LABELS
    for module in (compare, parameters, sweepfile, compare_report, output):
        assert module.KPI_NAMES is registry.KPI_NAMES, module.__name__
    assert registry.kpi_names(Unit.MONEY) == tables.MONEY
    assert registry.kpi_names(Unit.SHARE) == tables.SHARES
    selections = (compare_report.HEADLINE_KPIS, sensitivity.DEFAULT_KPIS, components.STRIP)
    assert all(set(s) <= set(KPI) for s in selections)
    assert all(key in KPI and label == KPI[key].short for key, label, _ in components.KPIS)
    assert crossover_report.label_of is registry.label_of is sensitivity.label_of


def test_daily_series_are_declared_in_the_model_collectors_order():
    assert list(daily.DAILY_SERIES) == [s.name for s in daily.DAILY]
    assert all(s.kpi is None or s.kpi in KPI for s in daily.DAILY)
    assert all(s.title and s.measure for s in daily.DAILY)
    assert set(snapshot.SERIES) <= set(daily.DAILY_SERIES)
    model = FunnelModel(baseline(**SMALL), rng=1).run()
    frame = kpis.daily_series(model)
    assert list(frame.columns[: len(daily.DAILY)]) == list(daily.DAILY_SERIES)


def test_run_kpis_follow_the_registry_order():
    model = FunnelModel(baseline(**SMALL), rng=3).run()
    assert tuple(kpis.run_kpis(model)) == registry.KPI_NAMES


def test_a_kpi_added_to_the_registry_shows_in_the_run_summary(monkeypatch):
    extra = Kpi("deals_per_rep", "Deals per rep at end", Unit.COUNT, lambda r: r.won / max(1, len(r.model.reps)))
    monkeypatch.setattr(registry, "KPIS", (*KPIS, extra))
    monkeypatch.setattr(registry, "KPI", {**KPI, extra.name: extra})
    monkeypatch.setattr(registry, "KPI_NAMES", (*registry.KPI_NAMES, extra.name))
    result = funnelsim.simulate(baseline(**SMALL), seed=1, replications=2)
    assert "deals_per_rep" in result.kpis.columns
    summary = result.summary()
    assert list(summary.index)[-1] == "deals_per_rep"
    assert summary.at["deals_per_rep", "ci95_low"] >= 0  # a count: its interval stays at or above 0
    assert "Deals per rep at end" in tables.kpi_table(summary, 2)


def test_an_unknown_kpi_in_a_sweep_file_is_rejected_with_the_registry_as_hint(tmp_path: Path):
    (tmp_path / "small.yaml").write_text(SWEEP_BASE)
    path = tmp_path / "sweep.yaml"
    path.write_text("base: small.yaml\nparameters:\n  - {path: 'sales.routing', values: [pool]}\nkpis: [profits]\n")
    with pytest.raises(ScenarioError, match="unknown KPI 'profits'.*did you mean 'profit'"):
        sweepfile.load_sweep(path)
    path.write_text("base: small.yaml\nparameters:\n  - {path: 'sales.routing', values: [pool]}\nkpis: [trust_end]\n")
    assert sweepfile.load_sweep(path).kpis == ("trust_end",)


def test_formats_follow_the_unit():
    assert tables.fmt("revenue", 1234.5) == "$1,234"
    assert tables.fmt("win_rate", 0.1234) == "12.3%"
    assert tables.fmt("mean_skill_end", 0.71234) == "0.712"
    assert tables.fmt("rep_hours_used", 1234.56) == "1,235"
    assert tables.fmt("response_time_hours_median", 18.26) == "18.3"
    assert tables.fmt("not_a_kpi", 3.0) == "3"


def test_summary_keeps_intervals_within_bounds():
    frame = pd.DataFrame({"reps_overloaded_share": [0.0, 0.0, 0.3], "hires": [0, 0, 9], "profit": [-5.0, 0.0, 9.0]})
    s = summarise(frame, list(frame.columns))
    assert s.at["reps_overloaded_share", "ci95_low"] == 0 and s.at["hires", "ci95_low"] == 0
    assert s.at["profit", "ci95_low"] < -5  # money is not bounded
    assert np.isfinite(s.to_numpy()).all()


def test_funnel_and_dashboard_share_the_stage_predicate():
    model = FunnelModel(baseline(**SMALL), rng=2).run()
    book = model.book.arrays()
    n = len(model.sales.stages)
    funnel = kpis.funnel(model)
    assert list(funnel.iloc[3:]) == kpis.stage_passes(book, n)
    live = snapshot.live_funnel(model, book, [])
    assert [count for _, count in live[3:]] == kpis.stage_passes(book, n)
