"""Defaults: `sales.stages` may be left out (the calibrated baseline cycle); the schema states every default."""

from __future__ import annotations

from pathlib import Path

from funnelsim.scenario import docs
from funnelsim.scenario.defaults import default_scenario
from funnelsim.scenario.loader import load_scenario
from tests.scenario.test_loader import write

ROOT = Path(__file__).resolve().parents[2]

NO_STAGES = """\
marketing:
  channels:
    - {name: web, leads_per_week: 100}
sales:
  teams:
    - {name: ae, reps: 3}
"""


def test_stages_default_to_the_calibrated_cycle_of_baseline_yaml(tmp_path):
    stages = load_scenario(write(tmp_path, NO_STAGES)).sales.stages
    assert [s.name for s in stages] == ["qualify", "discovery", "proposal", "negotiation"]
    assert stages == load_scenario(ROOT / "scenarios" / "baseline.yaml").sales.stages
    assert stages == default_scenario().sales.stages


def test_given_stages_still_replace_the_default(tmp_path):
    text = NO_STAGES + "  stages:\n    - {name: close, conversion: 0.2, hours: 1}\n"
    assert [s.name for s in load_scenario(write(tmp_path, text)).sales.stages] == ["close"]


def test_schema_lists_what_is_required_and_every_default():
    schema = docs.scenario_json_schema()
    sales = schema["$defs"]["Sales"]
    assert sales["required"] == ["teams"]
    assert [s["name"] for s in sales["properties"]["stages"]["default"]] == [
        "qualify",
        "discovery",
        "proposal",
        "negotiation",
    ]
    assert sales["properties"]["deal_value"]["default"] == {"dist": "lognormal", "median": 25000.0, "sigma": 0.6}
    models = [schema, *schema["$defs"].values()]
    missing = [
        (m["title"], key)
        for m in models
        for key, prop in m.get("properties", {}).items()
        if key not in m.get("required", [])
        and key not in ("extends", "variants")  # the loader's own keys: absent means none
        and "default" not in prop
        and "(default:" not in prop.get("description", "")
    ]
    assert not missing, missing


def test_readme_reference_shows_the_stages_default():
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `sales.stages` |"))
    assert "required" not in row and "name: negotiation" in row
