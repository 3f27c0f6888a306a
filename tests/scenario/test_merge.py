"""`extends` and `variants`: named lists merge by name, `replace: true` and `drop: true` are explicit."""

from __future__ import annotations

import pytest

from funnelsim.scenario.errors import ScenarioError
from funnelsim.scenario.loader import load_scenario, load_variants
from tests.scenario.test_loader import write

# Line numbers below refer to this text (line 1 is `marketing:`).
BASE = """\
marketing:
  channels:
    - {name: web, leads_per_week: 100, targeting: 0.2}
    - {name: events, leads_per_week: 20, cost_per_lead: 90}
sales:
  teams:
    - name: aes
      reps: 3
      salary_per_year: 120000
  stages:
    - {name: qualify, conversion: 0.3, hours: 0.5}
    - {name: close, conversion: 0.4, hours: 1}
  response_curve:
    points: [[0, 1.0], [2, 0.5]]
"""


def child(tmp_path, text: str):
    write(tmp_path, BASE, "base.yaml")
    return write(tmp_path, "extends: base.yaml\n" + text, "child.yaml")


def problems(path, variants: bool = False) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        (load_variants if variants else load_scenario)(path)
    return [str(p) for p in info.value.problems]


def test_a_named_item_changes_only_the_fields_it_gives(tmp_path):
    s = load_scenario(child(tmp_path, "sales:\n  teams: [{name: aes, reps: 10}]\n"))
    assert [(t.name, t.reps, t.salary_per_year) for t in s.sales.teams] == [("aes", 10, 120000)]


def test_a_new_name_is_added_at_the_end_and_order_is_kept(tmp_path):
    text = "marketing:\n  channels:\n    - {name: partners, leads_per_week: 5}\n    - {name: web, targeting: 0.5}\n"
    s = load_scenario(child(tmp_path, text))
    channels = s.marketing.channels
    assert [c.name for c in channels] == ["web", "events", "partners"]
    assert (channels[0].leads_per_week, channels[0].targeting) == (100, 0.5)
    assert channels[1].cost_per_lead == 90


def test_replace_true_in_the_first_item_replaces_the_list(tmp_path):
    text = "sales:\n  teams:\n    - {name: sdr, reps: 4, replace: true}\n"
    s = load_scenario(child(tmp_path, text))
    assert [(t.name, t.reps, t.salary_per_year) for t in s.sales.teams] == [("sdr", 4, 132290)]


def test_replace_true_as_an_item_of_its_own(tmp_path):
    text = "sales:\n  stages:\n    - replace: true\n    - {name: only, conversion: 0.2, hours: 1}\n"
    s = load_scenario(child(tmp_path, text))
    assert [st.name for st in s.sales.stages] == ["only"]


def test_drop_removes_the_named_item(tmp_path):
    text = "marketing:\n  channels:\n    - {name: events, drop: true}\n"
    s = load_scenario(child(tmp_path, text))
    assert [c.name for c in s.marketing.channels] == ["web"]


def test_lists_without_names_replace_as_before(tmp_path):
    s = load_scenario(child(tmp_path, "sales:\n  response_curve:\n    points: [[0, 1.0]]\n"))
    assert s.sales.response_curve.points == [(0, 1.0)]


def test_variants_merge_by_name(tmp_path):
    text = "variants:\n  big:\n    sales:\n      teams: [{name: aes, reps: 10}]\n  base_only: {}\n"
    out = load_variants(child(tmp_path, text))
    assert (out["big"].sales.teams[0].reps, out["big"].sales.teams[0].salary_per_year) == (10, 120000)
    assert out["base_only"].sales.teams[0].reps == 3


def test_a_file_extending_a_file_with_variants_inherits_them(tmp_path):
    write(tmp_path, BASE + "variants:\n  big:\n    sales:\n      teams: [{name: aes, reps: 10}]\n", "base.yaml")
    path = write(tmp_path, "extends: base.yaml\nname: mine\n", "child.yaml")
    out = load_variants(path)
    assert list(out) == ["big"] and out["big"].sales.teams[0].salary_per_year == 120000


def test_errors_in_merged_items_point_at_the_line_typed(tmp_path):
    path = child(tmp_path, "\nsales:\n  teams:\n    - name: aes\n      reps: -1\n")
    assert problems(path) == [f"{path}:6: sales.teams[0].reps: must be at least 0 (got -1)"]
    base = tmp_path / "base.yaml"
    path = child(tmp_path, "sales:\n  teams: [{name: aes, reps: 2}]\n  stages: [{name: close, hours: -1}]\n")
    assert problems(path) == [f"{path}:4: sales.stages[1].hours: must be at least 0 (got -1)"]
    write(tmp_path, BASE.replace("reps: 3", "reps: -3"), "base.yaml")
    path = write(tmp_path, "extends: base.yaml\nsales:\n  teams: [{name: aes, hours_per_week: 30}]\n", "child.yaml")
    assert problems(path) == [f"{base}:8: sales.teams[0].reps: must be at least 0 (got -3)"]


def test_dropped_unknown_name_is_an_error_with_its_line(tmp_path):
    path = child(tmp_path, "marketing:\n  channels:\n    - {name: radio, drop: true}\n")
    assert problems(path) == [
        f"{path}:4: marketing.channels[0].drop: no item named 'radio' to drop (the base has: web, events)"
    ]


def test_drop_in_a_variant_is_checked_and_located(tmp_path):
    text = "variants:\n  a:\n    marketing:\n      channels:\n        - {name: radio, drop: true}\n"
    path = child(tmp_path, text)
    assert problems(path, variants=True) == [
        f"{path}:6: variants.a -> marketing.channels[0].drop: no item named 'radio' to drop (the base has: web, events)"
    ]


def test_drop_in_a_file_without_a_base(tmp_path):
    path = write(tmp_path, BASE.replace("cost_per_lead: 90}\n", "cost_per_lead: 90}\n    - {name: tv, drop: true}\n"))
    assert problems(path) == [f"{path}:5: marketing.channels[2].drop: no item named 'tv' to drop (the base has: none)"]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (
            "[{name: web, targeting: 0.1}, {reps: 2}]",
            "4: marketing.channels[1]: this list merges by name, so every item needs a 'name'",
        ),
        (
            "[{name: web}, {name: web, targeting: 0.1}]",
            "4: marketing.channels[1].name: 'web' appears twice in this list",
        ),
        (
            "[{name: web}, {name: x, replace: true}]",
            "4: marketing.channels[1].replace: 'replace: true' goes in the first item",
        ),
        (
            "[{name: web, replace: yes}]",
            "4: marketing.channels[0].replace: expected true (replace the whole list) or false, got 'yes'",
        ),
        (
            "[{name: web, drop: false}]",
            "4: marketing.channels[0].drop: expected true (remove the item of this name), got false",
        ),
        (
            "[{name: web, drop: true, targeting: 0.1}]",
            "4: marketing.channels[0]: a dropped item takes only 'name' and 'drop' (got also targeting)",
        ),
        (
            "[{name: x, replace: true}, {name: web, drop: true}]",
            "4: marketing.channels[1].drop: a list with 'replace: true' is given whole",
        ),
        ("[{drop: true}]", "4: marketing.channels[0].drop: a dropped item needs the 'name'"),
        ("[{name: web, drop: true}, {name: web}]", "4: marketing.channels[1].name: 'web' appears twice"),
        (
            "[{replace: false}, {name: web}]",
            "4: marketing.channels[0]: an item holding only 'replace: false' means nothing",
        ),
    ],
)
def test_misused_replace_and_drop(tmp_path, items, expected):
    path = child(tmp_path, f"marketing:\n\n  channels: {items}\n")
    found = problems(path)
    assert any(p.startswith(f"{path}:{expected}") for p in found), found
