"""Scenario loader: every way a hand-written file can be wrong gives a located ScenarioError."""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import pytest

from funnelsim.scenario import docs
from funnelsim.scenario.distributions import Constant, Normal, Uniform
from funnelsim.scenario.errors import Problem, ScenarioError
from funnelsim.scenario.loader import load_scenario, load_variants
from funnelsim.scenario.messages import DIST_CLASSES, unwrap
from funnelsim.scenario.schema import Scenario

# Line numbers below refer to this text (line 1 is `marketing:`).
MINIMAL = """\
marketing:
  channels:
    - name: web
      leads_per_week: 100
sales:
  teams:
    - name: ae
      reps: 3
  stages:
    - name: qualify
      conversion: 0.3
      hours: 0.5
"""


def write(directory: Path, text: str, name: str = "s.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def edited(old: str, new: str, text: str = MINIMAL) -> str:
    assert old in text
    return text.replace(old, new, 1)


def error_of(path: Path, overrides: tuple[str, ...] = (), variants: bool = False) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        (load_variants if variants else load_scenario)(path, overrides)
    assert info.value.problems
    return info.value


def assert_problem(err: ScenarioError, expected: str) -> None:
    text = str(err)
    assert expected in text, f"{expected!r} not in:\n{text}"


# --- the happy path --------------------------------------------------------------------------


def test_minimal_scenario_loads_with_defaults(tmp_path):
    s = load_scenario(write(tmp_path, MINIMAL))
    assert isinstance(s, Scenario)
    assert s.marketing.channels[0].leads_per_week == 100
    assert s.sales.teams[0].reps == 3
    assert s.sales.stages[0].hours == Constant(value=0.5)
    assert s.sales.routing == "least_loaded"


def test_accepts_str_path_and_pathlike(tmp_path):
    path = write(tmp_path, MINIMAL)
    assert load_scenario(str(path)) == load_scenario(path)


# --- Problem and ScenarioError ---------------------------------------------------------------


def test_problem_formats():
    assert str(Problem("scenarios/x.yaml", 14, "sales.teams[0].hours_per_week", "must be greater than 0 (got -5)")) == (
        "scenarios/x.yaml:14: sales.teams[0].hours_per_week: must be greater than 0 (got -5)"
    )
    assert str(Problem("x.yaml", None, "a.b", "m")) == "x.yaml: a.b: m"
    assert str(Problem("x.yaml", 3, "", "m")) == "x.yaml:3: m"
    err = ScenarioError([Problem("a", 1, "p", "m1"), Problem("b", None, "", "m2")])
    assert str(err) == "a:1: p: m1\nb: m2"


def test_scenario_error_pickles():
    err = ScenarioError([Problem("a", 1, "p", "m")])
    again = pickle.loads(pickle.dumps(err))
    assert again.problems == err.problems and str(again) == str(err)


# --- file-level errors -----------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    err = error_of(path)
    assert err.problems[0].line is None
    assert_problem(err, f"{path}: file not found")


def test_directory(tmp_path):
    err = error_of(tmp_path)
    assert_problem(err, f"{tmp_path}: is a directory")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    assert_problem(error_of(path), f"{path}: file is empty")


@pytest.mark.parametrize(
    ("text", "found"), [("- a\n- b\n", "got a list"), ("42\n", "got a number"), ("just text\n", "got text")]
)
def test_top_level_must_be_a_mapping(tmp_path, text, found):
    path = write(tmp_path, text)
    err = error_of(path)
    assert_problem(err, f"{path}:1: expected a mapping")
    assert_problem(err, found)


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, edited("      reps: 3\n", "      reps: [3\n"))
    err = error_of(path)
    assert str(err).startswith(f"{path}:9: invalid YAML")


def test_bad_indentation_is_a_syntax_error(tmp_path):
    path = write(tmp_path, edited("      conversion: 0.3\n", "     conversion: 0.3\n"))
    assert_problem(error_of(path), f"{path}:11: invalid YAML")


def test_tab_and_control_characters_are_syntax_errors(tmp_path):
    path = write(tmp_path, MINIMAL + "\tseed: 1\n")
    assert_problem(error_of(path), f"{path}:13: invalid YAML")
    path = write(tmp_path, MINIMAL + "name: a\x01b\n")
    assert_problem(error_of(path), f"{path}:13: invalid YAML")


def test_not_utf8(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(MINIMAL.encode() + b"name: \xff\n")
    assert_problem(error_of(path), f"{path}:13: file is not UTF-8")


def test_several_documents(tmp_path):
    path = write(tmp_path, MINIMAL + "---\nseed: 1\n")
    assert_problem(error_of(path), f"{path}:13: a scenario file holds one YAML document")


def test_duplicate_key_names_both_lines(tmp_path):
    path = write(tmp_path, edited("      reps: 3\n", "      reps: 3\n      reps: 4\n"))
    assert_problem(error_of(path), f"{path}:9: sales.teams[0].reps: duplicate key 'reps' (first given on line 8)")


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object:os.system x", "!!python/object:os.system"),
        ("!foo 3", "!foo"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
    ],
)
def test_tags_are_rejected(tmp_path, value, tag):
    path = write(tmp_path, MINIMAL + f"name: {value}\n")
    err = error_of(path)
    assert_problem(err, f"{path}:13: name: YAML tag {tag} is not allowed")


def test_tags_never_construct_objects(tmp_path):
    marker = tmp_path / "pwned"
    text = MINIMAL + f"name: !!python/object/apply:os.system ['touch {marker}']\n"
    text += f"description: !!python/object/new:subprocess.call [['touch', '{marker}']]\n"
    err = error_of(write(tmp_path, text))
    assert len(err.problems) == 2
    assert not marker.exists()


def test_standard_tags_are_plain_data(tmp_path):
    s = load_scenario(write(tmp_path, MINIMAL + "name: !!str 123\nseed: !!int '7'\n"))
    assert s.name == "123" and s.seed == 7


def test_merge_keys_are_rejected(tmp_path):
    text = MINIMAL + "calendar:\n  <<: {hours_per_day: 6}\n"
    assert_problem(error_of(write(tmp_path, text)), "14: calendar: YAML merge keys ('<<') are not supported")


def test_anchors_and_aliases_are_copied(tmp_path):
    text = edited("      hours: 0.5\n", "      hours: &h {dist: uniform, low: 0.5, high: 1}\n")
    text += "  deal_value: 1000\n  contact:\n    hours_per_attempt: *h\n"
    s = load_scenario(write(tmp_path, text))
    assert s.sales.contact.hours_per_attempt == s.sales.stages[0].hours == Uniform(dist="uniform", low=0.5, high=1)


def test_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = write(tmp_path, MINIMAL + "\n".join(lines) + "\n")
    assert_problem(error_of(path), f"{path}:")
    assert "more than" in str(error_of(path))


# --- value errors ----------------------------------------------------------------------------


def test_probability_above_one(tmp_path):
    path = write(tmp_path, edited("conversion: 0.3", "conversion: 1.3"))
    assert_problem(error_of(path), f"{path}:11: sales.stages[0].conversion: must be at most 1 (got 1.3)")


def test_negative_duration(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: -2"))
    assert_problem(error_of(path), f"{path}:12: sales.stages[0].hours: must be at least 0 (got -2)")


def test_non_positive_hours_per_week(tmp_path):
    path = write(tmp_path, edited("      reps: 3\n", "      reps: 3\n      hours_per_week: -5\n"))
    expected = f"{path}:9: sales.teams[0].hours_per_week: must be greater than 0 (got -5)"
    assert_problem(error_of(path), expected)


def test_unknown_key_lists_allowed_and_suggests(tmp_path):
    path = write(tmp_path, edited("      reps: 3\n", "      reps: 3\n      hours_per_weak: 30\n"))
    err = error_of(path)
    assert_problem(
        err, f"{path}:9: sales.teams[0].hours_per_weak: unknown field 'hours_per_weak'; allowed: name, reps,"
    )
    assert_problem(err, "(did you mean 'hours_per_week'?)")


def test_unknown_top_level_key_without_close_match(tmp_path):
    path = write(tmp_path, MINIMAL + "zzz: 1\n")
    err = error_of(path)
    assert_problem(err, f"{path}:13: zzz: unknown field 'zzz'; allowed: name, description, seed")
    assert "did you mean" not in str(err)


def test_unknown_key_inside_distribution(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: {dist: normal, mean: 1, sd: 1, sigma: 2}"))
    err = error_of(path)
    assert_problem(
        err, f"{path}:12: sales.stages[0].hours.sigma: unknown field 'sigma'; allowed: dist, mean, sd, low, high"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "path", "message"),
    [
        (
            "leads_per_week: 100",
            "leads_per_week: abc",
            4,
            "marketing.channels[0].leads_per_week",
            "expected a number, got 'abc'",
        ),
        ("reps: 3", "reps: many", 8, "sales.teams[0].reps", "expected a whole number, got 'many'"),
        ("reps: 3", "reps: 2.5", 8, "sales.teams[0].reps", "expected a whole number, got 2.5"),
        ("name: web", "name: 42", 3, "marketing.channels[0].name", "expected text, got 42"),
        (
            "channels:\n    - name: web\n      leads_per_week: 100\n",
            "channels: web\n",
            2,
            "marketing.channels",
            "expected a list, got 'web'",
        ),
        ("sales:\n", "sales: 5\nx:\n", 5, "sales", "expected a mapping of fields, got 5"),
        ("hours: 0.5", "hours: [1, 2]", 12, "sales.stages[0].hours", "expected a distribution"),
    ],
)
def test_wrong_type_says_expected_and_found(tmp_path, old, new, line, path, message):
    file = write(tmp_path, edited(old, new))
    assert_problem(error_of(file), f"{file}:{line}: {path}: {message}")


def test_bool_where_number_expected(tmp_path):
    path = write(tmp_path, edited("leads_per_week: 100", "leads_per_week: NO"))
    assert_problem(error_of(path), f"{path}:4: marketing.channels[0].leads_per_week: expected a number, got 'NO'")


def test_literal_choice(tmp_path):
    path = write(tmp_path, MINIMAL + "  routing: fast\n")
    expected = (
        f"{path}:13: sales.routing: expected one of 'pool', 'round_robin', 'least_loaded', 'best_match' (got 'fast')"
    )
    assert_problem(error_of(path), expected)


def test_unknown_distribution(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: {dist: lognorml, median: 1, sigma: 1}"))
    err = error_of(path)
    assert_problem(
        err, f"{path}:12: sales.stages[0].hours: unknown distribution 'lognorml'; expected one of constant, uniform,"
    )
    assert_problem(err, "(did you mean 'lognormal'?)")


def test_distribution_without_dist_key(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: {low: 1, high: 2}"))
    assert_problem(error_of(path), f"{path}:12: sales.stages[0].hours: a distribution needs a 'dist' key")


def test_distribution_parameter_error_drops_union_tag(tmp_path):
    text = edited(
        "      leads_per_week: 100\n",
        "      leads_per_week: 100\n      fit:\n        dist: normal\n        mean: 0.5\n        sd: -1\n",
    )
    path = write(tmp_path, text)
    assert_problem(error_of(path), f"{path}:8: marketing.channels[0].fit.sd: must be greater than 0 (got -1)")


def test_missing_required_field_points_at_parent(tmp_path):
    path = write(tmp_path, edited("      reps: 3\n", ""))
    assert_problem(error_of(path), f"{path}:7: sales.teams[0].reps: required field is missing")


def test_missing_top_level_section(tmp_path):
    path = write(tmp_path, MINIMAL.split("sales:")[0])
    assert_problem(error_of(path), f"{path}:1: sales: required field is missing")


def test_empty_list(tmp_path):
    path = write(tmp_path, "marketing: {channels: []}\n" + MINIMAL.split("\n", 4)[4])
    assert_problem(error_of(path), f"{path}:1: marketing.channels: must have at least 1 item(s) (got 0)")


def test_repeated_names(tmp_path):
    path = write(
        tmp_path,
        edited("      leads_per_week: 100\n", "      leads_per_week: 100\n    - {name: web, leads_per_week: 5}\n"),
    )
    assert_problem(error_of(path), f"{path}:2: marketing.channels: channel names must be unique (repeated: web)")


def test_nan_is_refused(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: .nan"))
    assert_problem(error_of(path), f"{path}:12: sales.stages[0].hours: expected a number, got .nan")


def test_all_problems_reported_at_once(tmp_path):
    text = edited(
        "conversion: 0.3",
        "conversion: 1.3",
        edited("reps: 3", "reps: -1", edited("leads_per_week: 100", "leads_per_week: x")),
    )
    err = error_of(write(tmp_path, text + "sedd: 1\n"))
    assert [p.line for p in err.problems] == [4, 8, 11, 13]
    assert len(str(err).splitlines()) == 4


# --- YAML 1.2 --------------------------------------------------------------------------------


def test_yaml_1_2_scalars(tmp_path):
    text = edited("name: web", "name: NO", edited("leads_per_week: 100", "leads_per_week: 1e3"))
    s = load_scenario(write(tmp_path, text + "name: yes\ndescription: on\nseed: 0o17\n"))
    assert s.marketing.channels[0].name == "NO"
    assert s.marketing.channels[0].leads_per_week == 1000.0
    assert (s.name, s.description, s.seed) == ("yes", "on", 15)


# --- extends ---------------------------------------------------------------------------------

BASE = MINIMAL + "calendar: {hours_per_day: 7, days_per_week: 4}\nseed: 11\n"


def test_extends_deep_merges(tmp_path):
    write(tmp_path, BASE, "base.yaml")
    child = write(
        tmp_path,
        """\
        extends: base.yaml
        seed: 5
        calendar: {hours_per_day: 6}
        sales:
          teams: [{name: sdr, reps: 9}]
        """,
        "child.yaml",
    )
    s = load_scenario(child)
    assert s.seed == 5
    assert (s.calendar.hours_per_day, s.calendar.days_per_week) == (6, 4)  # mappings merge
    assert [t.name for t in s.sales.teams] == ["ae", "sdr"]  # named lists merge by name: a new name is added
    assert s.sales.stages[0].name == "qualify"  # untouched keys kept


def test_extends_relative_to_including_file(tmp_path):
    write(tmp_path / "common", BASE, "base.yaml")
    child = write(tmp_path / "plans", "extends: ../common/base.yaml\nseed: 2\n", "q3.yaml")
    assert load_scenario(child).seed == 2


def test_extends_chained(tmp_path):
    write(tmp_path, BASE, "a.yaml")
    write(tmp_path / "sub", "extends: ../a.yaml\nseed: 3\nname: b\n", "b.yaml")
    c = write(tmp_path / "sub", "extends: b.yaml\nseed: 4\n", "c.yaml")
    s = load_scenario(c)
    assert (s.seed, s.name, s.calendar.hours_per_day) == (4, "b", 7)


def test_extends_cycle(tmp_path):
    a = write(tmp_path, "extends: b.yaml\nseed: 1\n", "a.yaml")
    write(tmp_path, "seed: 2\nextends: c.yaml\n", "b.yaml")
    write(tmp_path, "extends: b.yaml\n", "c.yaml")
    err = error_of(a)
    b, c = tmp_path / "b.yaml", tmp_path / "c.yaml"
    assert_problem(err, f"{c}:1: extends: extends cycle: {b} -> {c} -> {b}")


def test_extends_itself(tmp_path):
    a = write(tmp_path, "extends: a.yaml\n", "a.yaml")
    assert_problem(error_of(a), f"{a}:1: extends: extends cycle: {a} -> {a}")


def test_extends_missing_base(tmp_path):
    child = write(tmp_path, "seed: 1\nextends: nothere.yaml\n", "child.yaml")
    assert_problem(error_of(child), f"{child}:2: extends: cannot find 'nothere.yaml'")


def test_extends_not_a_path(tmp_path):
    child = write(tmp_path, "extends: [a, b]\n", "child.yaml")
    assert_problem(error_of(child), f"{child}:1: extends: expected the path of the scenario file to build on, got [")


def test_extends_lines_point_into_the_file_that_set_the_value(tmp_path):
    base = write(tmp_path, edited("conversion: 0.3", "conversion: 1.5", BASE), "base.yaml")
    child = write(tmp_path, "extends: base.yaml\n\nsales:\n  teams: [{name: ae, reps: -3}]\n", "child.yaml")
    err = error_of(child)
    assert_problem(err, f"{base}:11: sales.stages[0].conversion: must be at most 1 (got 1.5)")
    assert_problem(err, f"{child}:4: sales.teams[0].reps: must be at least 0 (got -3)")


def test_extends_base_errors_name_the_base(tmp_path):
    base = write(tmp_path, "marketing: [\n", "base.yaml")
    child = write(tmp_path, "seed: 1\nextends: base.yaml\n", "child.yaml")
    err = error_of(child)
    assert_problem(err, f"{base}:2: invalid YAML")
    assert_problem(err, f"{child}:2: extends: 'base.yaml' could not be loaded")


@pytest.mark.parametrize(
    ("target", "expected"),
    [(".", "'.' is not a file"), ("a\\0b", "cannot use 'a\\x00b' as a path"), ('""', "expected the path")],
)
def test_extends_odd_targets(tmp_path, target, expected):
    child = write(tmp_path, f'extends: "{target}"\n' if target != '""' else "extends: ''\n", "child.yaml")
    assert_problem(error_of(child), f"{child}:1: extends: {expected}")


# --- --set overrides -------------------------------------------------------------------------


def test_overrides_valid(tmp_path):
    path = write(tmp_path, MINIMAL)
    s = load_scenario(
        path,
        [
            "sales.teams[0].reps=12",
            "marketing.mql_threshold=0.6",
            "marketing.channels[0].fit={dist: uniform, low: 0, high: 1}",
            "calendar.hours_per_day=6",
            "name = with spaces",
        ],
    )
    assert s.sales.teams[0].reps == 12
    assert s.marketing.mql_threshold == 0.6
    assert s.marketing.channels[0].fit == Uniform(dist="uniform", low=0, high=1)
    assert s.calendar.hours_per_day == 6
    assert s.name == "with spaces"


def test_override_replaces_lists(tmp_path):
    s = load_scenario(write(tmp_path, MINIMAL), ["sales.teams=[{name: a, reps: 1}, {name: b, reps: 2}]"])
    assert [t.reps for t in s.sales.teams] == [1, 2]


def test_override_unknown_path(tmp_path):
    err = error_of(write(tmp_path, MINIMAL), ("sales.teems[0].reps=3",))
    assert_problem(err, "--set: sales.teems[0].reps: unknown field 'teems' in sales")
    assert_problem(err, "(did you mean 'teams'?)")
    assert_problem(err, "(in --set 'sales.teems[0].reps=3')")


def test_override_invalid_value(tmp_path):
    err = error_of(write(tmp_path, MINIMAL), ("sales.teams[0].reps=-1",))
    assert err.problems == [
        Problem("--set", None, "sales.teams[0].reps", "must be at least 0 (got -1) (in --set 'sales.teams[0].reps=-1')")
    ]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("seed", "--set: expected PATH=VALUE"),
        ("sales.teams[4].reps=1", "index 4 is out of range (sales.teams has 1 item(s))"),
        ("sales.teams.reps=1", "--set: sales.teams.reps: sales.teams is a list; pick an item first"),
        ("seed.x=1", "--set: seed.x: seed holds a single value, it has no field 'x'"),
        ("seed[0]=1", "is not a list"),
        ("marketing.mql_threshold=[1, 2", "--set: marketing.mql_threshold: cannot read value"),
        ("seed=!!python/object:os.system x", "YAML tag !!python/object:os.system is not allowed"),
        ("a..b=1", "malformed field path"),
        ("marketing.mql_threshold=high", "expected a number, got 'high'"),
    ],
)
def test_bad_overrides(tmp_path, override, expected):
    err = error_of(write(tmp_path, MINIMAL), (override,))
    assert_problem(err, expected)
    assert all(p.file == "--set" for p in err.problems)
    assert_problem(err, repr(override))


def test_override_and_file_problems_together(tmp_path):
    path = write(tmp_path, edited("reps: 3", "reps: -3"))
    err = error_of(path, ("seed=-1", "nonsense"))
    assert [p.file for p in err.problems] == [str(path), "--set", "--set"]


def test_override_star_sets_every_item(tmp_path):
    path = write(
        tmp_path,
        edited("      leads_per_week: 100\n", "      leads_per_week: 100\n    - {name: ads, leads_per_week: 5}\n"),
    )
    s = load_scenario(path, ["marketing.channels[*].targeting=0.6"])
    assert [c.targeting for c in s.marketing.channels] == [0.6, 0.6]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("marketing.channels[*].targeting=2", "--set: marketing.channels[0].targeting: must be at most 0.95 (got 2)"),
        ("seed[*]=1", "--set: seed[*]: seed is not a list, so [*] does not apply"),
        ("people.hiring.cohorts[*].reps=1", "people.hiring.cohorts is not set here, so [*] matches nothing"),
        ("marketing.channels[*].nme=1", "unknown field 'nme' in marketing.channels[*]"),
    ],
)
def test_bad_star_overrides(tmp_path, override, expected):
    assert_problem(error_of(write(tmp_path, MINIMAL), (override,)), expected)


# --- variants --------------------------------------------------------------------------------

VARIANTS = (
    MINIMAL
    + """\
variants:
  baseline: {}
  more_leads:
    marketing:
      channels:
        - name: web
          leads_per_week: 200
  pool:
    sales: {routing: pool}
    name: pooled
"""
)


def test_variants_merge_over_base(tmp_path):
    out = load_variants(write(tmp_path, VARIANTS))
    assert list(out) == ["baseline", "more_leads", "pool"]
    assert out["baseline"].marketing.channels[0].leads_per_week == 100
    assert out["more_leads"].marketing.channels[0].leads_per_week == 200
    assert out["pool"].sales.routing == "pool" and out["pool"].sales.teams[0].reps == 3
    assert (out["baseline"].name, out["pool"].name) == ("baseline", "pooled")


def test_variants_are_named_after_their_key_unless_they_set_a_name(tmp_path):
    out = load_variants(write(tmp_path, "name: plan\n" + VARIANTS))
    assert {k: v.name for k, v in out.items()} == {"baseline": "baseline", "more_leads": "more_leads", "pool": "pooled"}
    assert load_scenario(write(tmp_path, "name: plan\n" + VARIANTS)).name == "plan"


def test_variants_with_overrides(tmp_path):
    out = load_variants(write(tmp_path, VARIANTS), ["seed=9"])
    assert {s.seed for s in out.values()} == {9}


def test_file_without_variants(tmp_path):
    out = load_variants(write(tmp_path, MINIMAL + "name: solo\n"))
    assert list(out) == ["solo"]


def test_load_scenario_on_variants_file_gives_base(tmp_path):
    s = load_scenario(write(tmp_path, VARIANTS))
    assert s.marketing.channels[0].leads_per_week == 100 and s.sales.routing == "least_loaded"


def test_variant_error_points_into_variant(tmp_path):
    path = write(tmp_path, edited("leads_per_week: 200", "leads_per_week: -5", VARIANTS))
    expected = f"{path}:19: variants.more_leads -> marketing.channels[0].leads_per_week: must be at least 0 (got -5)"
    assert_problem(error_of(path, variants=True), expected)


def test_variant_unknown_key(tmp_path):
    path = write(tmp_path, edited("sales: {routing: pool}", "sales: {routting: pool}", VARIANTS))
    err = error_of(path, variants=True)
    assert_problem(err, f"{path}:21: variants.pool -> sales.routting: unknown field 'routting'")
    assert_problem(err, "(did you mean 'routing'?)")


def test_base_error_reported_once_for_all_variants(tmp_path):
    path = write(tmp_path, edited("reps: 3", "reps: -3", VARIANTS))
    err = error_of(path, variants=True)
    assert [str(p) for p in err.problems] == [f"{path}:8: sales.teams[0].reps: must be at least 0 (got -3)"]


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("variants: 3\n", "13: variants: expected a mapping of variant name"),
        ("variants: {}\n", "13: variants: expected a mapping of variant name"),
        ("variants:\n  a: [1]\n", "14: variants.a: expected a mapping of the fields this variant changes"),
        ("variants:\n  a: {extends: x.yaml}\n", "14: variants.a.extends: 'extends' is only allowed at the top level"),
    ],
)
def test_bad_variants(tmp_path, tail, expected):
    path = write(tmp_path, MINIMAL + tail)
    assert_problem(error_of(path, variants=True), f"{path}:{expected}")


# --- distributions ---------------------------------------------------------------------------

FORMS = {
    "0.5": "constant",
    "{dist: constant, value: 0.5}": "constant",
    "{dist: uniform, low: 0.1, high: 0.9}": "uniform",
    "{dist: normal, mean: 0.5, sd: 0.2}": "normal",
    "{dist: lognormal, median: 0.5, sigma: 0.3}": "lognormal",
    "{dist: beta, a: 2, b: 5}": "beta",
    "{dist: exponential, mean: 2}": "exponential",
    "{dist: triangular, low: 0, mode: 1, high: 3}": "triangular",
    "{dist: gamma, shape: 2, scale: 1.5}": "gamma",
    "{dist: empirical, values: [0.5, 1, 2]}": "empirical",
}


@pytest.mark.parametrize("form", FORMS)
def test_each_distribution_form_validates(tmp_path, form):
    s = load_scenario(write(tmp_path, edited("hours: 0.5", f"hours: {form}")))
    hours = s.sales.stages[0].hours
    assert isinstance(hours, DIST_CLASSES[FORMS[form]])
    assert hours.dist == FORMS[form]


def test_uniform_outside_unit_interval_for_fit(tmp_path):
    text = edited(
        "      leads_per_week: 100\n", "      leads_per_week: 100\n      fit: {dist: uniform, low: 0.5, high: 1.5}\n"
    )
    path = write(tmp_path, text)
    assert_problem(error_of(path), f"{path}:5: marketing.channels[0].fit: values must lie in [0, 1]")


def test_constant_outside_unit_interval_for_fit(tmp_path):
    text = edited("      leads_per_week: 100\n", "      leads_per_week: 100\n      fit: 2\n")
    path = write(tmp_path, text)
    assert_problem(error_of(path), f"{path}:5: marketing.channels[0].fit: must be between 0 and 1 (got 2)")


def test_normal_is_truncated_to_field_bounds(tmp_path):
    text = edited(
        "      leads_per_week: 100\n", "      leads_per_week: 100\n      fit: {dist: normal, mean: 0.5, sd: 1}\n"
    )
    fit = load_scenario(write(tmp_path, text)).marketing.channels[0].fit
    assert isinstance(fit, Normal) and (fit.low, fit.high) == (0.0, 1.0)
    hours = (
        load_scenario(write(tmp_path, edited("hours: 0.5", "hours: {dist: normal, mean: 1, sd: 2}")))
        .sales.stages[0]
        .hours
    )
    assert hours.low == 0.0 and hours.high == float("inf")


def test_uniform_order_error(tmp_path):
    path = write(tmp_path, edited("hours: 0.5", "hours: {dist: uniform, low: 3, high: 1}"))
    assert_problem(
        error_of(path), f"{path}:12: sales.stages[0].hours: high must be at least low (got low=3.0, high=1.0)"
    )


# --- docs and JSON schema --------------------------------------------------------------------


def _field_paths(model, prefix=""):
    for name, f in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        sub = unwrap(f.annotation)
        if getattr(sub, "__origin__", None) is list:
            sub, path = unwrap(sub.__args__[0]), path + "[]"
        if isinstance(sub, type) and hasattr(sub, "model_fields"):
            yield from _field_paths(sub, path)


def test_field_reference_covers_every_field_and_is_deterministic():
    md = docs.field_reference_markdown()
    assert md == docs.field_reference_markdown()
    for path in _field_paths(Scenario):
        assert f"| `{path}` |" in md, path
    for form in (
        "constant",
        "uniform",
        "normal",
        "lognormal",
        "beta",
        "exponential",
        "triangular",
        "gamma",
        "empirical",
    ):
        assert f"| `{form}` |" in md


def test_update_readme_rewrites_only_the_block(tmp_path, capsys):
    readme = write(tmp_path, "# Title\n\n<!-- fields:start -->\nstale\n<!-- fields:end -->\n\nMore.\n", "README.md")
    assert docs.main(["--check", str(readme)]) == 1
    assert docs.update_readme(readme) is True
    text = readme.read_text()
    assert text.startswith("# Title\n\n<!-- fields:start -->\n") and text.endswith("<!-- fields:end -->\n\nMore.\n")
    assert docs.field_reference_markdown() in text
    assert docs.update_readme(readme) is False
    assert docs.main(["--check", str(readme)]) == 0
    no_block = write(tmp_path, "# nothing\n", "OTHER.md")
    assert docs.main([str(no_block)]) == 2


def test_repository_readme_is_current():
    readme = Path(__file__).resolve().parents[2] / "README.md"
    if not readme.exists() or docs.START not in readme.read_text(encoding="utf-8"):
        pytest.skip("README.md has no field reference block yet")
    assert docs.readme_is_current(readme), "run: python -m funnelsim.scenario.docs README.md"


def test_json_schema_is_strict_json_and_accepts_bare_numbers():
    schema = docs.scenario_json_schema()
    text = json.dumps(schema, allow_nan=False)
    assert schema["title"] == "Scenario" and "marketing" in schema["required"]
    hours = schema["$defs"]["Stage"]["properties"]["hours"]
    assert {"type": "number"} in hours["anyOf"]
    assert "Infinity" not in text
