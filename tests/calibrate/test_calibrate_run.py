"""A calibration from an export of known truth gives a scenario that reproduces the export."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim.calibrate.output import FILES, write_outputs
from funnelsim.calibrate.run import calibrate, export_profile
from funnelsim.calibrate.summary import summarise
from funnelsim.calibrate.synthetic import simulate_export
from funnelsim.experiment.executors import LocalProcesses
from funnelsim.model.streams import replication_seeds
from funnelsim.scenario.loader import load_scenario
from funnelsim.scenario.schema import Scenario

WEEKS = 26


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    truth = load_scenario("scenarios/baseline.yaml", [f"horizon_weeks={WEEKS}"])
    crm = simulate_export(truth, 21)
    base = load_scenario("scenarios/baseline.yaml").model_dump(mode="json", by_alias=True)
    out = tmp_path_factory.mktemp("calibration")
    with LocalProcesses(2) as ex:
        cal = calibrate(crm, base, ex, out=out, budget=100, seed=4, holdout_weeks=6, bootstrap=50)
    written = write_outputs(cal, out)
    return truth, crm, cal, out, written


def test_every_output_is_written_and_the_scenario_loads(calibrated):
    _, _, cal, out, written = calibrated
    assert set(FILES) <= set(written)
    scenario = load_scenario(out / "calibrated.yaml")
    assert scenario == Scenario.model_validate(cal.doc)
    text = (out / "calibrated.yaml").read_text()
    for p in cal.posterior.parameters:  # every simulation-based value says how it was found
        line = next(
            ln for ln in text.splitlines() if ln.strip().startswith(f"{p.path[-1]}:") and "simulation-based" in ln
        )
        assert "95%" in line
    assert "direct" in text


def test_the_calibrated_scenario_reproduces_the_export(calibrated):
    """Simulated exports of the calibrated scenario against the data it was fitted on: volumes
    within 3%, each stage's pass share within 0.06, deals won per week within 25%."""
    _, _, cal, _, _ = calibrated
    observed = cal.observed
    scenario = Scenario.model_validate(cal.doc)
    runs = [summarise(simulate_export(scenario, s)) for s in replication_seeds(99, 3)]
    sim = {k: np.nanmean([r[k] for r in runs]) for k in observed}
    assert sim["leads_per_week"] == pytest.approx(observed["leads_per_week"], rel=0.03)
    for key in ("mql_share", "sql_share", "reached_proposal", "reached_negotiation", "reached_won"):
        assert abs(sim[key] - observed[key]) < 0.06, (key, sim[key], observed[key])
    assert sim["won_per_week"] == pytest.approx(observed["won_per_week"], rel=0.25)
    assert sim["value_q50"] == pytest.approx(observed["value_q50"], rel=0.1)


def test_the_backtest_reports_forecasts_beside_what_happened(calibrated):
    _, crm, cal, _, _ = calibrated
    bt = cal.backtest
    assert bt["weeks"] == pytest.approx(6, abs=0.01)
    held_out = crm.opportunities["created"] >= cal.fit_crm.as_of
    assert bt["measures"]["new_opportunities"]["actual"] == held_out.sum()
    for m in bt["measures"].values():
        low80, high80 = m["interval_80"]
        low95, high95 = m["interval_95"]
        assert low95 <= low80 <= m["forecast"] <= high80 <= high95
        assert m["in_80"] == (low80 <= m["actual"] <= high80)
    # the fit never saw the held-out weeks
    assert cal.fit_crm.leads["created"].max() < cal.fit_crm.as_of
    profile = export_profile(cal.fit_crm)
    assert len(profile["weekly_leads"]) == pytest.approx(WEEKS - 6, abs=1)


def test_a_small_budget_is_said_to_be_small(calibrated):
    """The fixture's 100 simulations are below SMALL_BUDGET: the verdict, the report and the json say so."""
    import json

    from funnelsim.calibrate.output import verdict
    from funnelsim.calibrate.run import SMALL_BUDGET

    _, _, cal, out, _ = calibrated
    warning = f"Use --budget {SMALL_BUDGET} or more"
    assert any(warning in line for line in verdict(cal))
    assert warning in (out / "calibration.md").read_text()
    assert any(warning in n for n in json.loads((out / "calibration.json").read_text())["notes"])


def test_the_check_draws_its_runs_from_the_posterior():
    """A posterior predictive check: each check run gets a posterior draw (by weight), so a
    particle of weight zero is never run and a lone heavy one is run every time."""
    from funnelsim.calibrate.abc import Parameter, Posterior
    from funnelsim.calibrate.run import CHECK_RUNS, check_runs

    doc = load_scenario("scenarios/baseline.yaml").model_dump(mode="json", by_alias=True)
    p = Parameter(("marketing", "mql_threshold"), 0.2, 0.95, 0.6, "test")
    posterior = Posterior([p], np.array([[0.31], [0.77]]), np.array([0.0, 1.0]), np.zeros(2), [{}, {}])

    class Recorder:
        def map(self, fn, tasks):
            self.tasks = list(tasks)
            return []

    ex = Recorder()
    check_runs(doc, 0, ex, posterior)
    assert [d["marketing"]["mql_threshold"] for d, _ in ex.tasks] == [0.77] * CHECK_RUNS
    assert len({s for _, s in ex.tasks}) == CHECK_RUNS  # each at its own seed
    assert doc["marketing"]["mql_threshold"] == 0.6  # the calibrated document itself is untouched
