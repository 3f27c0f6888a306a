"""Speed to lead as two named curves: the chance to reach a lead, and to qualify it once reached."""

from __future__ import annotations

import pytest

from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario
from funnelsim.scenario.schema import CURVE_PRESETS, HBR_2011_CURVE, ResponseCurve


def test_presets_and_explicit_points():
    assert ResponseCurve().curves() == ([(0.0, 1.0)], HBR_2011_CURVE)  # nothing said: hbr_2011
    assert ResponseCurve(preset="none").curves() == ([(0.0, 1.0)], [(0.0, 1.0)])
    reach, qualify = ResponseCurve(preset="mit_2007").curves()
    assert reach == CURVE_PRESETS["mit_2007"][0] and qualify == CURVE_PRESETS["mit_2007"][1]
    # a preset names both curves: points beside it would be read two ways, so they are refused
    with pytest.raises(ValueError, match="a preset names both curves"):
        ResponseCurve(preset="mit_2007", points=[(0, 1.0), (10, 0.5)])


def test_a_variant_with_a_preset_on_a_base_with_points_is_told_what_to_write(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    base = Path("scenarios/baseline.yaml").resolve()
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {base}\nsales:\n  response_curve:\n    preset: gentle\n")
    done = subprocess.run([sys.executable, "-m", "funnelsim.cli", "validate", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "a preset names both curves, so it cannot come with points" in done.stderr
    good = tmp_path / "good.yaml"
    good.write_text(f"extends: {base}\nsales:\n  response_curve:\n    preset: gentle\n    points: null\n")
    assert load_scenario(good).sales.response_curve.curves()[1] == CURVE_PRESETS["gentle"][1]


def test_the_hbr_preset_is_the_baseline_curve():
    """The baseline's explicit points and `preset: hbr_2011` are the same model, to the number."""
    explicit = FunnelModel(load_scenario("scenarios/baseline.yaml", ["horizon_weeks=3"]), rng=3).run()
    named = load_scenario("scenarios/baseline.yaml", ["horizon_weeks=3", "sales.response_curve={preset: hbr_2011}"])
    assert named.sales.response_curve.points is None
    preset = FunnelModel(named, rng=3).run()
    assert (explicit.revenue, explicit.deals_won, explicit.first_stage_passed) == (
        preset.revenue,
        preset.deals_won,
        preset.first_stage_passed,
    )


def _reached_share(preset: str) -> float:
    scenario = load_scenario(
        "scenarios/baseline.yaml",
        ["horizon_weeks=4", "sales.teams[0].reps=10", f"sales.response_curve={{preset: {preset}}}"],
    )
    model = FunnelModel(scenario, rng=5).run()
    book = model.book.frame()
    tried = int((book["first_attempt"] >= 0).sum())
    return model.first_stage_reached / tried


def test_reach_falls_with_the_wait_only_under_a_reach_curve():
    """mit_2007: an attempt more than 30 minutes after the lead reached sales is ~100x less likely
    to reach it; on a busy team almost every attempt is that late, so few leads tried are ever
    reached. hbr_2011 has no reach curve: each attempt reaches the lead with `reach_probability`
    (0.45), so over up to 6 attempts most leads tried are reached."""
    assert _reached_share("hbr_2011") > 0.6
    assert _reached_share("mit_2007") < 0.25


def test_no_curve_means_the_wait_does_not_matter():
    """Under `none`, the qualify rate of reached leads does not depend on how long they waited."""
    scenario = load_scenario(
        "scenarios/baseline.yaml", ["horizon_weeks=6", "sales.teams[0].reps=10", "sales.response_curve={preset: none}"]
    )
    model = FunnelModel(scenario, rng=2).run()
    assert model.curve(0.0) == model.curve(100.0) == 1.0
    assert model.reach_curve is None
