"""ABC population Monte Carlo: the same answer anywhere, after any interruption, near the truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from funnelsim.calibrate.abc import JOURNAL, Calibration, Parameter
from funnelsim.calibrate.summary import summarise
from funnelsim.calibrate.synthetic import simulate_export
from funnelsim.errors import UsageError
from funnelsim.experiment.executors import InProcess, LocalProcesses
from funnelsim.scenario.loader import load_scenario

TRUTH = {1: 0.45, 2: 0.35}  # discovery and proposal conversions of the baseline


@pytest.fixture(scope="module")
def problem():
    scenario = load_scenario("scenarios/baseline.yaml", ["horizon_weeks=10"])
    observed = summarise(simulate_export(scenario, 5))
    doc = scenario.model_dump(mode="json", by_alias=True)
    params = [Parameter(("sales", "stages", k, "conversion"), 0.05, 0.95, 0.5, "test") for k in TRUTH]
    return doc, params, observed


def calibration(problem, tmp=None, budget=24, seed=3):
    doc, params, observed = problem
    return Calibration(doc, params, observed, budget=budget, generations=3, seed=seed, journal_dir=tmp)


def test_the_same_posterior_in_this_process_and_on_two_workers(problem):
    with InProcess() as ex:
        one = calibration(problem).run(ex)
    with LocalProcesses(2) as ex:
        two = calibration(problem).run(ex)
    assert np.array_equal(one.values, two.values)
    assert np.array_equal(one.adjusted, two.adjusted)
    assert one.estimate() == two.estimate()


def test_an_interrupted_calibration_resumes_to_the_same_result(problem, tmp_path):
    whole = tmp_path / "whole"
    with InProcess() as ex:
        expected = calibration(problem, whole).run(ex)
    assert expected.resumed == 0
    lines = (whole / JOURNAL).read_text().splitlines()
    assert len(lines) == 1 + 24  # the header, then one line per simulation
    # a kill in the middle of generation 1: 13 simulations written, the 14th cut short
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / JOURNAL).write_text("\n".join(lines[:14]) + "\n" + lines[14][: len(lines[14]) // 2])
    with InProcess() as ex:
        resumed = calibration(problem, cut).run(ex)
    assert resumed.resumed == 13
    assert np.array_equal(resumed.values, expected.values)
    assert resumed.estimate() == expected.estimate()


def test_a_journal_of_another_calibration_is_refused(problem, tmp_path):
    with InProcess() as ex:
        calibration(problem, tmp_path, seed=3).run(ex)
    with pytest.raises(UsageError, match="other data or options"):
        calibration(problem, tmp_path, seed=4)
    head = json.loads((tmp_path / JOURNAL).read_text().splitlines()[0])
    assert set(head) == {"fingerprint"}


def test_the_posterior_finds_conversions_it_was_not_told(problem):
    """Two conversions inferred from a simulated export of known truth: each 95% interval holds
    the truth and is far narrower than the prior (0.05-0.95)."""
    with LocalProcesses(2) as ex:
        post = calibration(problem, budget=60).run(ex)
    est = post.estimate()
    for k, truth in TRUTH.items():
        mean, low, high = est[f"sales.stages[{k}].conversion"]
        assert low <= truth <= high, (k, est)
        assert high - low < 0.45, (k, est)
        assert abs(mean - truth) < 0.12, (k, est)
    tolerances = [g["tolerance"] for g in post.generations]
    assert tolerances[-1] < tolerances[0]  # each generation gets nearer the data
