"""The figures say what the tables say: deals won, and utilisation that cannot pass 100%."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from funnelsim.dashboard.snapshot import live_funnel
from funnelsim.experiment.compare import compare
from funnelsim.model.model import FunnelModel
from funnelsim.report import compare_figures, figures
from funnelsim.report.compare_report import short
from funnelsim.report.tables import fmt
from funnelsim.results.kpis import WON_BY_A_REP, funnel, funnel_label, run_kpis
from funnelsim.scenario.loader import load_variants

LEAD_STRATEGY = Path(__file__).resolve().parents[2] / "scenarios" / "lead_strategy.yaml"


@pytest.fixture(scope="module")
def comparison():
    strategies = load_variants(LEAD_STRATEGY, ["horizon_weeks=13", "people.attrition.annual_rate=0.8"])
    return compare(strategies, replications=2, seed=1)


def test_the_funnel_ends_at_deals_won_by_a_rep_and_the_dashboard_says_so(comparison):
    model = FunnelModel(next(iter(comparison.results.values())).scenario, rng=3).run()
    steps, kpis = funnel(model), run_kpis(model)
    assert steps.index[-1] == WON_BY_A_REP
    assert kpis["deals_won_by_email"] > 0  # the two counts differ: the label matters
    assert steps[WON_BY_A_REP] + kpis["deals_won_by_email"] == kpis["deals_won"]
    live = live_funnel(model, model.book.arrays(), [])
    assert live == [(funnel_label(s), n) for s, n in steps.items()]
    assert live[-1][0] == "Won by a rep"


def test_compare_funnel_figure_adds_email_deals_to_give_the_tables_deals_won(comparison):
    fig = compare_figures.funnel_figure(comparison, dict.fromkeys(comparison.results, "k"))
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert ax.get_yticklabels()[-1].get_text() == "Won by a rep"
    for res in comparison.results.values():
        table = short("deals_won", res.kpis["deals_won"].mean())
        email = short("deals_won_by_email", res.kpis["deals_won_by_email"].mean())
        assert any(t.endswith(f"+ {email} by email alone = {table} deals won") for t in texts), texts


def test_run_funnel_figure_says_the_run_tables_deals_won(comparison):
    res = next(iter(comparison.results.values()))
    texts = [t.get_text() for t in figures.funnel_figure(res.funnel, res.kpis, "x").axes[0].texts]
    assert texts[-1].endswith(f"= {fmt('deals_won', res.kpis['deals_won'].mean())} deals won")


def test_utilisation_bins_stop_at_100_percent_where_hours_used_stop(comparison):
    reps = [res.reps["utilization"].dropna().to_numpy() for res in comparison.results.values()]
    util = np.concatenate(reps)
    assert util.max() <= 1 + 1e-9 and (util > 0.95).any()  # busy reps fill the last bin, none beyond it
    fig = compare_figures.utilization_figure(comparison, dict.fromkeys(comparison.results, "k"))
    ax = fig.axes[0]
    assert ax.get_xlim()[1] == 100
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert max(p.get_x() + p.get_width() for p in bars) == pytest.approx(100)
    assert sum(p.get_height() for p in bars) == pytest.approx(100 * len(reps))  # shares: no rep falls off
    res = next(iter(comparison.results.values()))
    bars = figures.utilization_figure(res.reps, "x").axes[0].patches
    assert max(p.get_x() + p.get_width() for p in bars) == pytest.approx(100)
    assert sum(p.get_height() for p in bars) == len(res.reps["utilization"].dropna())  # every rep counted
