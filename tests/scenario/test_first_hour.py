"""Small traps of a newcomer's first hour: a misspelt `extends`, numbers too large, base errors in variant files."""

from __future__ import annotations

import pytest

from funnelsim.scenario.errors import ScenarioError
from funnelsim.scenario.loader import load_scenario, load_variants
from tests.scenario.test_loader import MINIMAL, edited, write


def problems(path, overrides=(), variants=False) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        (load_variants if variants else load_scenario)(path, overrides)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("first", [True, False])
def test_a_misspelt_extends_is_the_first_problem(tmp_path, first):
    write(tmp_path, MINIMAL, "base.yaml")
    text = "extend: base.yaml\nname: x\n" if first else "name: x\nextend: base.yaml\n"
    found = problems(write(tmp_path, text, "child.yaml"))
    assert "unknown field 'extend'" in found[0] and "(did you mean 'extends'?)" in found[0]
    assert any("marketing: required field is missing" in p for p in found[1:])


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("reps: 3", "reps: 1e400", "8: sales.teams[0].reps"),
        ("hours: 0.5", "hours: {dist: empirical, values: [1, 1e400]}", "12: sales.stages[0].hours.values[1]"),
        ("hours: 0.5", "hours: !!float 1e400", "12: sales.stages[0].hours"),
    ],
)
def test_a_number_too_large_for_a_float_is_refused_where_typed(tmp_path, old, new, where):
    path = write(tmp_path, edited(old, new))
    assert problems(path) == [
        f"{path}:{where}: number 1e400 is too large: it would read as infinity (the largest is about 1.8e308)"
    ]


def test_a_number_too_large_in_set(tmp_path):
    found = problems(write(tmp_path, MINIMAL), ["sales.deal_value={dist: empirical, values: [1, 1e400]}"])
    assert len(found) == 1 and found[0].startswith("--set: sales.deal_value: cannot read value")
    assert "number 1e400 is too large" in found[0]


def test_explicit_infinity_is_refused_even_where_the_type_would_take_it(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: {dist: normal, mean: 1, sd: 1, high: .inf}"))
    assert problems(path) == [
        f"{path}:12: sales.stages[0].hours.high: expected a finite number, got .inf "
        "(infinity is never a valid value; leave an optional bound out for none)"
    ]
    found = problems(write(tmp_path, MINIMAL), ["sales.stages[0].hours={dist: normal, mean: 1, sd: 1, low: -.inf}"])
    assert found == [
        "--set: sales.stages[0].hours.low: expected a finite number, got -.inf (infinity is never a valid value; "
        "leave an optional bound out for none) "
        "(in --set 'sales.stages[0].hours={dist: normal, mean: 1, sd: 1, low: -.inf}')"
    ]


def test_errors_of_the_base_are_not_labelled_with_a_variant(tmp_path):
    text = edited("reps: 3", "reps: -3") + "variants:\n  a: {}\n  b:\n    sales:\n      teams: [{name: ae, reps: 4}]\n"
    path = write(tmp_path, text)
    assert problems(path, variants=True) == [f"{path}:8: sales.teams[0].reps: must be at least 0 (got -3)"]
