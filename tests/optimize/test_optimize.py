"""The optimiser end to end: outputs, constraints, infeasibility, noise, workers, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from funnelsim.cli import main
from funnelsim.optimize.problem import load_problem
from funnelsim.optimize.run import optimize
from funnelsim.optimize.variables import apply_plan, suggest
from funnelsim.scenario.loader import load_scenario
from tests.helpers import as_from_a_terminal
from tests.optimize.conftest import BASE, SMALL, write


def _trials(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "trials.parquet")


def test_a_small_problem_writes_a_runnable_best_plan_and_a_report(small: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["optimize", str(small), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "against the current plan" in printed or "Keep the current plan" in printed
    for name in ("best.yaml", "trials.parquet", "optimization.json", "report.html", "report.md", "convergence.png"):
        assert (out / name).is_file(), name
    doc = json.loads((out / "optimization.json").read_text())
    assert doc["status"] == "recommended" and doc["search"]["trials"] == 8
    plan = doc["recommendation"]["plan"]
    best = load_scenario(out / "best.yaml")  # extends the base, runnable as is
    assert best.sales.teams[0].reps == plan["reps"] and best.horizon_weeks == 12
    assert {c.targeting for c in best.marketing.channels} == {plan["targeting"]}
    assert main(["run", str(out / "best.yaml")]) == 0
    trials = _trials(out)
    assert len(trials) == 8 and {"reps", "targeting", "profit", "feasible", "best_so_far"} <= set(trials)
    assert "## Confirmation runs" in (out / "report.md").read_text()


def test_the_recommendation_satisfies_the_constraints_in_its_confirmation_runs(tmp_path: Path):
    path = write(tmp_path, SMALL.replace("rep_utilization <= 0.9", "rep_utilization <= 0.7"))
    result = optimize(path, tmp_path / "out", report=False)
    c = result.outcome.confirmation
    assert c.feasible
    chosen = c.runs[c.chosen]
    assert chosen.kpis["rep_utilization"].mean() <= 0.7
    for i, runs in enumerate(c.runs):  # no plan that breaks the constraint beats it
        if runs.scores and runs.scores[0] > chosen.scores[0]:
            assert not runs.feasible, i


def test_an_infeasible_problem_exits_1_with_the_least_violating_plan(tmp_path: Path, capsys):
    path = write(tmp_path, SMALL.replace("rep_utilization <= 0.9", "rep_utilization <= 0.05"))
    out = tmp_path / "out"
    assert main(["optimize", str(path), "--out", str(out), "-w", "1"]) == 1
    captured = capsys.readouterr()
    assert "No plan satisfies every constraint" in captured.out and "least-violating" in captured.out
    assert "no plan satisfies the constraints" in captured.err
    doc = json.loads((out / "optimization.json").read_text())
    assert doc["status"] == "infeasible"
    plans = doc["confirmation"]["plans"]
    chosen = next(p for p in plans if p["label"] == doc["recommendation"]["label"])
    util = [p["kpis"]["rep_utilization"]["mean"] for p in plans]
    assert chosen["kpis"]["rep_utilization"]["mean"] == min(util)  # the least utilised violates least
    assert "NO PLAN SATISFIES THE CONSTRAINTS" in (out / "best.yaml").read_text()


PLANTED = f"""\
name: planted
base: {BASE}
set:
  horizon_weeks: 12
  marketing.channels[*].leads_per_week: 30
variables:
  - name: note                    # the description: no effect on the runs at all
    path: description
    values: [plan_a, plan_b]
objectives:
  - kpi: profit
replications: 2
trials: 4
confirm: {{top_k: 2, replications: 4}}
"""


def test_plans_that_differ_by_less_than_the_noise_are_called_indistinguishable(tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["optimize", str(write(tmp_path, PLANTED)), "--out", str(out), "-w", "1"]) == 0
    printed = capsys.readouterr().out
    assert "are indistinguishable" in printed and "within the noise" in printed
    doc = json.loads((out / "optimization.json").read_text())
    assert doc["distinguishable_from_runner_up"] is False
    assert "indistinguishable" in (out / "report.md").read_text()


def test_identical_results_for_one_and_two_workers(small: Path, tmp_path: Path):
    one = optimize(small, tmp_path / "one", workers=1, report=False)
    two = optimize(small, tmp_path / "two", workers=2, report=False)
    pd.testing.assert_frame_equal(_trials(tmp_path / "one"), _trials(tmp_path / "two"))
    a, b = (json.loads((tmp_path / d / "optimization.json").read_text()) for d in ("one", "two"))
    for doc in (a, b):
        doc["search"].pop("overhead_seconds")
        doc["problem"].pop("file")
    assert a == b and one.outcome.chosen_plan == two.outcome.chosen_plan


def test_rerunning_a_finished_study_runs_no_trial_again(small: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    optimize(small, out, report=False)
    first = _trials(out)
    result = optimize(small, out, report=False)
    assert result.done_before == 8 and result.done == 8
    pd.testing.assert_frame_equal(first, _trials(out))
    assert main(["optimize", str(small), "--out", str(out), "--seed", "4"]) == 2
    assert "holds the study of seed 3" in capsys.readouterr().err
    assert main(["optimize", str(small), "--out", str(tmp_path / "none"), "--resume"]) == 2
    renamed = write(tmp_path, SMALL.replace("name: small", "name: other"), "other.yaml")
    assert main(["optimize", str(renamed), "--out", str(out)]) == 2
    assert "holds the study 'small' of another problem" in capsys.readouterr().err
    changed = write(tmp_path, SMALL.replace("trials: 8", "trials: 8\ndescription: changed"), "changed.yaml")
    assert main(["optimize", str(changed), "--out", str(out)]) == 2
    assert "holds a study of another problem" in capsys.readouterr().err


KILLABLE = SMALL.replace("trials: 8", "trials: 16").replace("batch: 4", "batch: 2")


def _start(path: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "funnelsim.cli", "optimize", str(path), "--out", str(out), "--workers", "2"]
    return subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=as_from_a_terminal
    )


def _finished(out: Path) -> dict[int, object]:
    if not (out / "study.log").exists():
        return {}
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(out / "study.log")))
    try:
        study = optuna.load_study(study_name="small", storage=storage)
    except KeyError:
        return {}
    return {t.number: t.datetime_complete for t in study.get_trials() if t.state.is_finished()}


def _wait_for_trials(proc: subprocess.Popen, out: Path, n: int) -> None:
    deadline = time.monotonic() + 120
    while len(_finished(out)) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no trials finished in time"
        time.sleep(0.2)


def test_kill_then_resume_reaches_the_uninterrupted_result_without_rerunning_trials(tmp_path: Path):
    path = write(tmp_path, KILLABLE)
    out = tmp_path / "killed"
    proc = _start(path, out)
    _wait_for_trials(proc, out, 4)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    before = _finished(out)
    assert 4 <= len(before) < 16 and not (out / "best.yaml").exists()

    resumed = optimize(path, out, workers=2, resume=True, report=False)
    assert resumed.done_before == len(before) and resumed.done == 16
    after = _finished(out)
    assert all(after[n] == when for n, when in before.items())  # finished trials were not told again

    optimize(path, tmp_path / "whole", workers=1, report=False)
    pd.testing.assert_frame_equal(_trials(out), _trials(tmp_path / "whole"))
    a, b = (json.loads((d / "optimization.json").read_text()) for d in (out, tmp_path / "whole"))
    assert a["confirmation"] == b["confirmation"] and a["recommendation"] == b["recommendation"]


def test_ctrl_c_keeps_finished_trials_and_the_same_command_continues(tmp_path: Path):
    path = write(tmp_path, KILLABLE)
    out = tmp_path / "out"
    proc = _start(path, out)
    _wait_for_trials(proc, out, 2)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"trials done and kept in" in err and b"Traceback" not in err
    kept = len(_finished(out))
    assert kept >= 2
    result = optimize(path, out, workers=1, report=False)
    assert result.done_before == kept and result.done == 16


MULTI = SMALL.replace("  - kpi: profit\n", "  - kpi: profit\n  - {kpi: rep_utilization, direction: minimize}\n")


def test_several_objectives_give_a_pareto_front(tmp_path: Path):
    out = tmp_path / "out"
    result = optimize(write(tmp_path, MULTI), out)
    assert (out / "pareto.png").is_file()
    doc = json.loads((out / "optimization.json").read_text())
    assert doc["search"]["sampler"] == "NSGA-II" and result.outcome.recommended


def test_a_simplex_splits_the_total_across_its_fields(tmp_path: Path):
    body = SMALL.replace("  marketing.channels[*].leads_per_week: 30\n", "").replace(
        "  - name: targeting\n    path: marketing.channels[*].targeting\n    range: [0, 0.8]\n    step: 0.2\n",
        "  - name: mix\n    kind: simplex\n    total: 90\n    path:\n      - marketing.channels[0].leads_per_week\n"
        "      - marketing.channels[1].leads_per_week\n      - marketing.channels[2].leads_per_week\n",
    )
    problem = load_problem(write(tmp_path, body))
    mix = problem.variables[1]
    assert (mix.kind, mix.total, len(mix.paths)) == ("simplex", 90, 3)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        plan = suggest(study.ask(), problem)
        assert sum(plan["mix"]) == pytest.approx(90) and min(plan["mix"]) >= 0
        doc = apply_plan(problem.base_doc, problem.variables, plan)
        assert [c["leads_per_week"] for c in doc["marketing"]["channels"]] == plan["mix"]
