"""Results in a notebook: compact HTML tables and the reports' own figures."""

from __future__ import annotations

import html

import pytest
from matplotlib.figure import Figure

from funnelsim.experiment.compare import compare
from funnelsim.experiment.runner import simulate
from funnelsim.report.compare_figures import FIGURES
from funnelsim.report.compare_report import HEADLINE_KPIS, mean_cell, short, verdict
from funnelsim.report.figures import plt
from funnelsim.results.registry import KPI_LABELS
from tests.helpers import baseline


@pytest.fixture(scope="module")
def comparison():
    return compare(
        {
            "ten": baseline(horizon_weeks=6),
            "twenty": baseline(horizon_weeks=6, sales={"teams": [{"name": "ae", "reps": 20}]}),
        },
        replications=3,
        seed=1,
    )


def test_a_simulation_result_shows_its_headline_kpis_with_intervals():
    result = simulate(baseline(horizon_weeks=6), seed=1, replications=3)
    page = result._repr_html_()
    s = result.summary()
    for k in HEADLINE_KPIS:
        cell = f"{short(k, s.at[k, 'mean'])} [{short(k, s.at[k, 'ci95_low'])}, {short(k, s.at[k, 'ci95_high'])}]"
        assert f"<td>{html.escape(KPI_LABELS[k])}</td><td>{html.escape(cell)}</td>" in page
    assert page.count("<tr>") == len(HEADLINE_KPIS) + 1  # compact: the headline KPIs only


def test_a_comparison_shows_its_verdict_means_and_differences(comparison):
    page = comparison._repr_html_()
    assert verdict(comparison)[0].split(" (")[0] in page
    assert mean_cell(comparison, "twenty", "revenue") in page
    assert "twenty - ten [95% CI]" in page


def test_plot_returns_the_report_figures_closed_in_pyplot(comparison):
    before = set(plt.get_fignums())
    figures = comparison.plot()
    assert list(figures) == [file.removesuffix(".png") for file, _, _ in FIGURES]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert set(plt.get_fignums()) == before  # not drawn twice by a notebook, not piling up
    assert figures._repr_html_().count("data:image/png;base64,") == len(FIGURES)
    run = comparison.results["ten"].plot()
    assert {"revenue_cost", "funnel", "rep_utilization"} <= set(run)
    assert run["funnel"].axes[0].get_title() == f"{comparison.results['ten'].scenario.name}: funnel by stage"
