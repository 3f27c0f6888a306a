"""compare --posterior: replication r of every strategy draws the same parameter set."""

from __future__ import annotations

import pandas as pd
import pytest

from funnelsim.calibrate.draws import PosteriorDraws
from funnelsim.cli import main
from funnelsim.errors import UsageError
from funnelsim.experiment.compare import compare
from funnelsim.experiment.runner import run_once
from funnelsim.scenario.loader import load_scenario

PATH = "sales.stages[3].conversion"


@pytest.fixture
def posterior(tmp_path):
    file = tmp_path / "posterior.parquet"
    pd.DataFrame({PATH: [0.1, 0.9], "weight": [0.5, 0.5]}).to_parquet(file)
    return PosteriorDraws.load(file)


def short(*sets):
    return load_scenario("scenarios/baseline.yaml", ["horizon_weeks=16", *sets])


def test_each_replication_draws_once_for_every_strategy(posterior):
    a, b = short("name=a"), short("name=b", "sales.teams[0].reps=30")
    cmp = compare([a, b], replications=6, seed=1, posterior=posterior)
    draws = [posterior.draw(1, r)[0] for r in range(6)]
    assert set(draws) == {0.1, 0.9}  # both particles are drawn
    for name, scenario in (("a", a), ("b", b)):
        for r, run in enumerate(cmp.results[name].runs):
            assert run_once(posterior.apply(scenario, 1, r), run.seed).kpis == run.kpis
    assert [r.seed for r in cmp.results["a"].runs] == [r.seed for r in cmp.results["b"].runs]
    # the last stage's conversion drives sales: replications with 0.9 win more than those with 0.1
    won = cmp.kpis["a"]["deals_won"].to_numpy()
    high = [w for w, d in zip(won, draws, strict=True) if d == 0.9]
    low = [w for w, d in zip(won, draws, strict=True) if d == 0.1]
    assert min(high) > max(low)
    again = compare([a, b], replications=6, seed=1, posterior=posterior)
    assert again.kpis["b"].equals(cmp.kpis["b"])
    assert any("calibration posterior" in n for n in cmp.notes)


def test_a_strategy_that_sets_a_drawn_field_is_refused(posterior):
    a, b = short("name=a"), short("name=b", f"{PATH}=0.5")
    with pytest.raises(UsageError, match=r"strategy 'b' sets sales.stages\[3\].conversion"):
        compare([a, b], replications=4, seed=1, posterior=posterior)


def test_a_file_that_is_not_a_posterior_exits_2(tmp_path, capsys):
    bad = tmp_path / "p.parquet"
    pd.DataFrame({"sales.stages[3].conversoin": [0.2], "weight": [1.0]}).to_parquet(bad)
    code = main(["compare", "scenarios/alignment.yaml", "--posterior", str(bad), "-r", "2"])
    assert code == 2
    assert "conversoin" in capsys.readouterr().err
    (tmp_path / "t.parquet").write_text("not parquet")
    code = main(["compare", "scenarios/alignment.yaml", "--posterior", str(tmp_path / "t.parquet"), "-r", "2"])
    assert code == 2
    assert "not a Parquet file" in capsys.readouterr().err
