"""When in the day reps sell (`sales.teams[].selling_pattern`): all hours at the start of the day,
or spread hour by hour, so a lead that arrives after lunch can be called the same afternoon."""

from __future__ import annotations

import numpy as np
import pytest

from funnelsim.model.curves import selling_shares
from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario

H = 8.0


def _run(pattern, *overrides: str, weeks: int = 6) -> FunnelModel:
    scenario = load_scenario(
        "scenarios/baseline.yaml",
        [f"sales.teams[*].selling_pattern={pattern}", f"horizon_weeks={weeks}", *overrides],
    )
    return FunnelModel(scenario, rng=7).run()


def _first_attempts(model: FunnelModel):
    book = model.book.frame()
    tried = book[book["first_attempt"] >= 0]
    return tried["entered"].to_numpy(), tried["first_attempt"].to_numpy()


def test_shares_of_the_day():
    assert selling_shares("morning", 8) == [1.0]
    assert selling_shares("spread", 8) == pytest.approx([1 / 8] * 8)
    assert selling_shares("spread", 7.5) == pytest.approx([1 / 7.5] * 7 + [0.5 / 7.5])
    assert selling_shares([0, 1, 1, 0, 2, 0, 0, 0], 8) == pytest.approx([0, 0.25, 0.25, 0, 0.5, 0, 0, 0])


def test_same_hours_a_day_whatever_the_pattern():
    """The pattern moves the hours within the day; it never adds or removes any."""
    morning, spread = _run("morning", weeks=2), _run("spread", weeks=2)
    for a, b in zip(morning.roster, spread.roster, strict=True):
        assert a.hours_available == pytest.approx(b.hours_available)
        assert b.hours_used <= b.hours_available + max(0.0, -b.budget) + 6.0  # one task may run over


def test_spread_hours_call_afternoon_leads_the_same_day():
    """An overloaded team (8 reps for the baseline's leads): with all hours in the morning, they are
    spent by the time afternoon leads arrive, which wait for tomorrow; spread over the day, the
    afternoon still has hours and most afternoon arrivals get a first attempt the same day."""
    shares = {}
    first_hour = {}
    for pattern in ("morning", "spread"):
        model = _run(pattern, "sales.teams[0].reps=8", "sales.prioritisation=newest_first")
        entered, first = _first_attempts(model)
        afternoon = (entered % H) >= 4.0
        same_day = np.floor(first[afternoon] / H) == np.floor(entered[afternoon] / H)
        shares[pattern] = same_day.mean()
        first_hour[pattern] = ((first % H) < 1.0).mean()
    assert shares["spread"] > 0.5
    assert shares["morning"] < 0.3
    assert shares["spread"] > 2 * shares["morning"]
    # morning: first attempts crowd into the first business hour; spread: about one hour in eight
    assert first_hour["morning"] > 0.4
    assert first_hour["spread"] < 0.2


def test_weights_put_the_selling_where_they_say():
    """Weights [0, 0, 0, 0, 1, 1, 1, 1]: no first attempt happens before the afternoon."""
    model = _run("[0,0,0,0,1,1,1,1]", "sales.teams[0].reps=8", weeks=3)
    _, first = _first_attempts(model)
    assert len(first) > 100
    assert ((first % H) >= 4.0 - 1e-9).all()


def test_a_list_of_the_wrong_length_is_refused_at_its_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    base = Path("scenarios/baseline.yaml").resolve()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"extends: {base}\nsales:\n  teams:\n    - name: account_executives\n      selling_pattern: [1, 2, 3]\n"
    )
    done = subprocess.run([sys.executable, "-m", "funnelsim.cli", "validate", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2
    assert f"{bad}:5: sales.teams[0].selling_pattern: one weight per working hour: 8" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_default_team_calls_afternoon_arrivals_the_same_afternoon():
    """The bundled baseline as it comes (spread hours, pipeline_first, hours to spare): most leads
    reaching sales after lunch get a first attempt before the day ends."""
    model = FunnelModel(load_scenario("scenarios/baseline.yaml", ["horizon_weeks=6"]), rng=7).run()
    entered, first = _first_attempts(model)
    afternoon = (entered % H) >= 4.0
    same_day = np.floor(first[afternoon] / H) == np.floor(entered[afternoon] / H)
    assert model.config.sales.teams[0].selling_pattern == "spread"
    assert same_day.mean() > 0.6
