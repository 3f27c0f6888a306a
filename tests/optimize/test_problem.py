"""Optimisation files are checked like sweep files: file:line, unknown fields and paths, exit 2."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest

from funnelsim.cli import main
from funnelsim.optimize.problem import load_problem, parse_constraint
from funnelsim.scenario.errors import ScenarioError
from tests.optimize.conftest import BASE, SMALL, write


def test_a_good_file_loads_with_kinds_from_the_fields(small: Path):
    problem = load_problem(small)
    reps, targeting = problem.variables
    assert (reps.kind, reps.low, reps.high, reps.step) == ("int", 2, 12, 2)
    assert targeting.kind == "float" and len(targeting.paths) == 3  # [*]: every channel
    assert problem.constraints[0].text == "rep_utilization <= 0.9"
    assert problem.base_doc["horizon_weeks"] == 12


def test_constraints_parse_and_measure_their_violation():
    c = parse_constraint("rep_utilization <= 0.85")
    assert c.violation(0.80) < 0 < c.violation(0.90)
    assert parse_constraint("cost >= 1e6").violation(2e6) < 0
    assert "did you mean 'rep_utilization'" in parse_constraint("rep_utilisation <= 0.85")
    assert "expected 'KPI <= number'" in parse_constraint("rep_utilization = 0.85")


HEAD = f"base: {BASE}\nobjectives:\n  - kpi: profit\n"
CASES = [
    (
        "variables:\n  - {path: 'sales.teams[0].repz', range: [1, 5]}\n",
        5,
        "unknown field 'repz'",
        "did you mean 'reps'",
    ),
    ("variables:\n  - {path: 'sales.teams[3].reps', range: [1, 5]}\n", 5, "index 3 is out of range", ""),
    ("variables:\n  - {path: 'sales.teams[0].reps', range: [5, 1]}\n", 5, "low < high", ""),
    ("variables:\n  - {path: sales.routing, kind: categorical}\n", 5, "needs 'values'", ""),
    ("variables:\n  - {path: sales.routing, values: [pool, nowhere]}\n", 5, "sales.routing = 'nowhere'", ""),
    (
        "variables:\n  - {path: 'sales.teams[0].reps', range: [1, 5]}\nconstraints: ['utilization <= 1']\n",
        6,
        "unknown KPI 'utilization'",
        "",
    ),
    (
        "variables:\n  - {path: 'sales.teams[0].reps', range: [1, 5]}\ntrails: 5\n",
        6,
        "unknown field 'trails'",
        "did you mean 'trials'",
    ),
    ("variables:\n  - {path: 'sales.teams[0].reps', kind: simplex}\n", 5, "at least 2 fields", ""),
]


@pytest.mark.parametrize(("body", "line", "message", "also"), CASES)
def test_bad_files_get_file_line_errors(tmp_path: Path, body: str, line: int, message: str, also: str):
    path = write(tmp_path, HEAD + body)
    with pytest.raises(ScenarioError) as info:
        load_problem(path)
    text = str(info.value)
    assert f"opt.yaml:{line}:" in text and message in text and also in text, text


def test_an_unknown_objective_kpi_is_located(tmp_path: Path):
    path = write(tmp_path, SMALL.replace("  - kpi: profit", "  - kpi: proft"))
    with pytest.raises(ScenarioError) as info:
        load_problem(path)
    assert "opt.yaml:16: objectives[0].kpi: unknown KPI 'proft' (did you mean 'profit'?)" in str(info.value)


def test_a_bad_file_exits_2_before_running_anything(tmp_path: Path, capsys):
    path = write(
        tmp_path, "base: nowhere.yaml\nvariables:\n  - {path: x, range: [0, 1]}\nobjectives: [{kpi: profit}]\n"
    )
    out = tmp_path / "out"
    assert main(["optimize", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "opt.yaml:1: base: cannot find 'nowhere.yaml'" in err and "Traceback" not in err
    assert not out.exists()


def test_without_optuna_the_command_says_how_to_install_it(small: Path, monkeypatch, capsys):
    real = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    assert main(["optimize", str(small), "--out", str(small.parent / "out")]) == 2
    err = capsys.readouterr().err
    assert "optimize needs Optuna; install it with:" in err and "[optimize]" in err and "pip install -e" in err
