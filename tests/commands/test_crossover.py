"""`funnelsim crossover` refuses to overwrite a strategy defined by its team size, unless told to."""

from __future__ import annotations

import json

import pytest

from funnelsim.cli import main
from funnelsim.errors import UsageError
from funnelsim.experiment.crossover import strategies_setting_reps, sweep_team_sizes
from funnelsim.scenario.loader import load_variants
from tests.scenario.test_pack import TINY_VARIANTS

SIZED = TINY_VARIANTS + "  bigger:\n    sales:\n      teams: [{name: ae, reps: 5}]\n"


def test_crossover_refuses_strategies_that_set_the_team_size(tmp_path, capsys):
    path = tmp_path / "sized.yaml"
    path.write_text(SIZED)
    assert main(["crossover", str(path), "--reps", "2,4", "-r", "2", "-w", "1"]) == 2
    err = capsys.readouterr().err
    assert "strategy bigger sets the swept field sales.teams[*].reps" in err
    assert "broad: ae 3; bigger: ae 5" in err and "--override-strategy-reps" in err


def test_the_flag_accepts_it(tmp_path, capsys):
    path = tmp_path / "sized.yaml"
    path.write_text(SIZED)
    argv = ["crossover", str(path), "--reps", "2,4", "-r", "2", "-w", "1", "--json", "--override-strategy-reps"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["strategies"] == ["broad", "targeted", "bigger"]


def test_python_api_refuses_too(tmp_path):
    path = tmp_path / "sized.yaml"
    path.write_text(SIZED)
    variants = load_variants(path)
    assert strategies_setting_reps(variants) == ["bigger"]
    with pytest.raises(UsageError, match="bigger"):
        sweep_team_sizes(variants, [2, 4], replications=2)


def test_strategies_of_the_same_team_size_are_not_refused():
    assert strategies_setting_reps(load_variants("scenarios/lead_strategy.yaml")) == []
    assert strategies_setting_reps(load_variants("scenarios/emails.yaml")) == ["email_instead"]


def test_help_names_the_flag(capsys):
    with pytest.raises(SystemExit):
        main(["crossover", "--help"])
    assert "--override-strategy-reps" in capsys.readouterr().out
