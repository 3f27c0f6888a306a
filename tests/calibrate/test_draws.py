"""compare --posterior: replication r of every strategy draws the same parameter set."""

from __future__ import annotations

import numpy as np
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


SMALL = """\
name: small
seed: 7
horizon_weeks: 10
marketing:
  marketers: 1
  channels:
    - {name: a, leads_per_week: 60, cost_per_lead: 50}
sales:
  teams:
    - {name: t, reps: 6}
  stages:
    - {name: qualify, conversion: 0.5, hours: 0.5}
    - {name: close, conversion: 0.5, hours: 1, buyer_delay_days: 2}
"""
GRID = """\
name: grid
base: small.yaml
parameters:
  - {path: 'sales.teams[0].reps', name: reps, values: [3, 6]}
replications: 4
seed: 1
kpis: [deals_won]
"""


def test_a_sweep_draws_per_replication_and_refuses_a_swept_drawn_field(tmp_path):
    from funnelsim.experiment.sweep import run_sweep
    from funnelsim.experiment.sweepfile import load_sweep

    (tmp_path / "small.yaml").write_text(SMALL)
    (tmp_path / "grid.yaml").write_text(GRID)
    file = tmp_path / "posterior.parquet"
    pd.DataFrame({"sales.stages[1].conversion": [0.05, 0.95], "weight": [0.5, 0.5]}).to_parquet(file)
    posterior = PosteriorDraws.load(file)
    sweep = load_sweep(tmp_path / "grid.yaml")
    with_draws = run_sweep(sweep, tmp_path / "with", posterior=posterior).results
    without = run_sweep(sweep, tmp_path / "without").results
    draws = [posterior.draw(1, r)[0] for r in range(4)]
    assert set(draws) == {0.05, 0.95}
    for _, point in with_draws.groupby("point_id"):
        point = point.sort_values("replication")
        won = point["deals_won"].to_numpy()
        assert min(won[np.array(draws) == 0.95]) > max(won[np.array(draws) == 0.05])
    assert not with_draws["deals_won"].equals(without["deals_won"])
    # the same folder resumed with another posterior (or none) is refused
    with pytest.raises(UsageError, match="posterior"):
        run_sweep(sweep, tmp_path / "with")
    swept = tmp_path / "p2.parquet"
    pd.DataFrame({"sales.teams[0].reps": [5.0], "weight": [1.0]}).to_parquet(swept)
    with pytest.raises(UsageError, match="which the sweep also varies"):
        run_sweep(sweep, tmp_path / "other", posterior=PosteriorDraws.load(swept))
