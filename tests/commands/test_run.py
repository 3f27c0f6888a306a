"""`funnelsim run` on a file with variants: one strategy by name, never the base by accident."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelsim.cli import main
from funnelsim.scenario.errors import ScenarioError
from funnelsim.scenario.loader import load_scenario, variant_names


def test_run_refuses_a_file_with_variants_without_variant(capsys):
    assert main(["run", "scenarios/emails.yaml", "--set", "horizon_weeks=2"]) == 2
    err = capsys.readouterr().err
    assert "reps_and_email, email_instead" in err and "--variant NAME" in err
    assert "funnelsim compare scenarios/emails.yaml" in err


def test_run_variant_runs_that_strategy(capsys):
    assert main(["run", "scenarios/emails.yaml", "--variant", "email_instead", "--set", "horizon_weeks=2"]) == 0
    assert capsys.readouterr().out.startswith("email_instead: 1 replication(s), 2 weeks")


def test_run_unknown_variant_lists_the_names_with_the_line(capsys):
    assert main(["run", "scenarios/emails.yaml", "--variant", "emails_instead"]) == 2
    err = capsys.readouterr().err
    assert (
        "scenarios/emails.yaml:21: variants: no variant 'emails_instead'; the file has: reps_and_email, email_instead"
        in err
    )
    assert "(did you mean 'email_instead'?)" in err


def test_run_variant_on_a_file_without_variants(capsys):
    assert main(["run", "scenarios/baseline.yaml", "--variant", "x"]) == 2
    assert "scenarios/baseline.yaml: no variant 'x': this file has no variants" in capsys.readouterr().err


def test_load_scenario_variant_from_python():
    email = load_scenario("scenarios/emails.yaml", variant="email_instead")
    assert (email.name, email.sales.teams[0].reps, email.marketing.mql_threshold) == ("email_instead", 20, 0.7)
    assert load_scenario("scenarios/emails.yaml").sales.teams[0].reps == 40  # the base, as documented
    with pytest.raises(ScenarioError, match="no variant 'nope'"):
        load_scenario("scenarios/emails.yaml", variant="nope")
    assert variant_names("scenarios/emails.yaml") == ["reps_and_email", "email_instead"]
    assert variant_names("scenarios/baseline.yaml") == []


def test_only_the_chosen_variant_is_validated(tmp_path):
    text = Path("scenarios/emails.yaml").read_text()
    text = text.replace("extends: baseline.yaml", f"extends: {Path('scenarios/baseline.yaml').resolve()}")
    path = tmp_path / "v.yaml"
    path.write_text(text.replace("email_interval_days: 2.5", "email_interval_days: -1"))
    assert load_scenario(path, variant="reps_and_email").sales.teams[0].reps == 40
    with pytest.raises(ScenarioError, match="email_interval_days"):
        load_scenario(path, variant="email_instead")
