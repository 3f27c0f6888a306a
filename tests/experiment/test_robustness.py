"""Verdicts under alternative assumptions: a planted flip, the `assumptions:` block, the mechanism."""

from __future__ import annotations

import json
import math

import pytest

from funnelsim.cli import main
from funnelsim.experiment.assumptions import DEFAULT_SETS, apply_to_all, file_sets, one
from funnelsim.experiment.compare import compare
from funnelsim.experiment.robustness import robustness
from funnelsim.report.mechanism import log_ratio, mechanism, mechanism_sentence
from funnelsim.scenario.errors import ScenarioError
from funnelsim.scenario.loader import assumptions_block, load_variants

# Leads are cheap and worth a lot, and the reps have hours to spare: buying twice the leads
# earns more profit under any sensible assumption. `no_sales` is planted to flip it: nothing
# converts, so the extra leads are pure cost.
TWO_VOLUMES = """\
name: volumes
seed: 11
horizon_weeks: 8
marketing:
  marketers: 1
  mql_threshold: 0.3
  nurture: {enabled: false}
  channels:
    - name: web
      leads_per_week: 20
      cost_per_lead: 20
sales:
  teams:
    - name: ae
      reps: 6
  deal_value: 30000
  stages:
    - name: qualify
      conversion: 0.6
      hours: 0.5
    - name: close
      conversion: 0.6
      hours: 1
variants:
  few_leads: {}
  many_leads:
    marketing:
      channels:
        - name: web
          leads_per_week: 40
"""
KEPT = ("work_pipeline_first", "curve_none", "skill_elasticity_low")


def planted_file(tmp_path):
    dropped = "".join(f"  {s.name}: {{drop: true}}\n" for s in DEFAULT_SETS if s.name not in KEPT)
    block = (
        "assumptions:\n"
        "  no_sales:\n"
        "    description: nothing ever converts\n"
        "    source: planted by the test\n"
        "    set:\n"
        "      sales.stages[*].conversion: 0.0\n"
        "  busier_reps:\n"
        "    description: reps sell half as many hours\n"
        "    set:\n"
        "      sales.teams[*].selling_share: 0.2\n"
        "  same_volume:\n"
        "    set:\n"
        "      marketing.channels[*].leads_per_week: 30\n" + dropped
    )
    path = tmp_path / "volumes.yaml"
    path.write_text(TWO_VOLUMES + block)
    return path


def test_a_planted_flip_is_the_one_set_that_does_not_hold(tmp_path, capsys):
    path = planted_file(tmp_path)
    docs = []
    for workers in ("1", "2"):
        argv = ["compare", str(path), "-r", "6", "--kpi", "profit", "--robustness", "--workers", workers, "--json"]
        assert main(argv) == 0
        docs.append(json.loads(capsys.readouterr().out))
    assert docs[0]["robustness"] == docs[1]["robustness"]  # the same for any number of workers
    profit = {c["assumption"]: c for c in docs[0]["robustness"] if c["kpi"] == "profit"}
    assert set(profit) == {"no_sales", "busier_reps", *KEPT}
    assert profit["no_sales"]["holds"] is False and profit["no_sales"]["difference"] < 0
    assert all(c["holds"] for name, c in profit.items() if name != "no_sales")
    plain = next(d for d in docs[0]["differences"] if d["kpi"] == "profit")
    assert plain["mean_diff"] > 0
    # a set that changes nothing here gives the comparison's own numbers, from the same seeds
    assert profit["work_pipeline_first"]["difference"] == plain["mean_diff"]
    assert profit["work_pipeline_first"]["ci95"] == plain["ci95"]


def test_the_report_says_where_the_verdict_holds(tmp_path, capsys):
    path = planted_file(tmp_path)
    out = tmp_path / "out"
    argv = ["compare", str(path), "-r", "6", "--robustness", "--robustness-replications", "6", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "holds under 4 of 5 assumption sets; not under no_sales" in text
    assert "Not run: same_volume: the strategies differ in marketing.channels[*].leads_per_week" in text
    md = (out / "report.md").read_text()
    assert "## Robustness" in md and "| no_sales | nothing ever converts (`sales.stages[*].conversion=0.0`) |" in md
    assert "robustness.png" in md and (out / "robustness.png").stat().st_size > 10_000
    assert "<h2>Robustness</h2>" in (out / "report.html").read_text()


def write(tmp_path, block: str):
    path = tmp_path / "bad.yaml"
    path.write_text(TWO_VOLUMES + block)
    return path


@pytest.mark.parametrize(
    ("block", "line", "says"),
    [
        ("assumptions:\n  x:\n    set: {sales.prioritisaton: fifo}\n", 33, "did you mean 'prioritisation'?"),
        (
            "assumptions:\n  x:\n    descripton: hi\n    set: {sales.prioritisation: fifo}\n",
            33,
            "did you mean 'description'?",
        ),
        ("assumptions:\n  x:\n    set:\n      sales.prioritisation: random\n", 34, "sales.prioritisation"),
        ("assumptions:\n  x:\n    set:\n      sales.teams[*].reps: -1\n", 34, "sales.teams[0].reps"),
        ("assumptions:\n  curve_nope: {drop: true}\n", 32, "no assumption set 'curve_nope' to drop"),
        ("assumptions:\n  x: {description: no changes}\n", 32, "expected `set:`"),
        ("assumptions: [1, 2]\n", 31, "expected a mapping"),
    ],
)
def test_a_bad_assumptions_block_is_refused_at_its_line(tmp_path, capsys, block, line, says):
    path = write(tmp_path, block)
    assert main(["compare", str(path), "-r", "6", "--robustness"]) == 2
    _, err = capsys.readouterr()
    assert f"bad.yaml:{line}: " in err and says in err and "Traceback" not in err


def test_validate_checks_the_block_too(tmp_path, capsys):
    path = write(tmp_path, "assumptions:\n  x:\n    set:\n      sales.prioritisation: random\n")
    assert main(["validate", str(path)]) == 2
    assert "bad.yaml:34: assumptions.x -> sales.prioritisation: expected one of" in capsys.readouterr().err
    assert main(["validate", str(planted_file(tmp_path))]) == 0


def test_the_block_is_no_field_of_a_strategy(tmp_path):
    path = write(tmp_path, "assumptions:\n  x:\n    set: {sales.prioritisation: newest_first}\n")
    assert set(load_variants(path)) == {"few_leads", "many_leads"}  # the block is read by --robustness only
    sets = {s.name: s for s in file_sets(assumptions_block(path))}
    assert sets["x"].changes == {"sales.prioritisation": "newest_first"} and "curve_none" in sets
    inside = TWO_VOLUMES.replace("  few_leads: {}", "  few_leads:\n    assumptions: {}")
    (tmp_path / "inside.yaml").write_text(inside)
    with pytest.raises(ScenarioError, match="only allowed at the top level"):
        load_variants(tmp_path / "inside.yaml")


def test_a_set_that_overwrites_what_the_strategies_differ_in_is_not_run(tmp_path):
    strategies = load_variants(planted_file(tmp_path))
    volume = one("volume", "marketing.channels[*].leads_per_week", 30, "same volume", "test")
    applied, skipped = apply_to_all(strategies, [volume, *DEFAULT_SETS[:1]])
    assert list(applied) == [DEFAULT_SETS[0].name]
    assert "differ in marketing.channels[*].leads_per_week" in skipped["volume"]


# -- the mechanism ------------------------------------------------------------------------------
# Same team, same leads, hours that run short: one team spends its selling hours in the morning,
# the other through the day, so afternoon leads wait for the next morning (or do not).
SELLING_HOURS = TWO_VOLUMES.split("variants:")[0].replace("leads_per_week: 20", "leads_per_week: 100") + (
    "variants:\n"
    "  mornings:\n"
    "    sales:\n"
    "      teams:\n"
    "        - name: ae\n"
    "          selling_pattern: morning\n"
    "  all_day:\n"
    "    sales:\n"
    "      teams:\n"
    "        - name: ae\n"
    "          selling_pattern: spread\n"
)


def test_the_verdict_names_the_mechanism_that_moved_most(tmp_path):
    path = tmp_path / "hours.yaml"
    path.write_text(SELLING_HOURS)
    cmp = compare(load_variants(path), replications=8)
    assert cmp.difference("all_day", "revenue").significant
    found = mechanism(cmp, "all_day")
    assert found is not None and found.kpi == "response_time_hours_median"
    assert found.mine < found.theirs
    sentence = mechanism_sentence(cmp, "all_day")
    theirs = cmp.summary("mornings").at["response_time_hours_median", "mean"]
    assert sentence.startswith("What moved most: its reps call new leads within ") and f"{theirs:.0f} h" in sentence
    from funnelsim.report.compare_report import verdict

    assert sentence in verdict(cmp)[0]


def test_log_ratio_floors_shares_and_skips_what_is_missing():
    assert log_ratio(28.0, 315.0) == pytest.approx(math.log(315 / 28))
    assert log_ratio(0.0, 0.02) == pytest.approx(math.log(20))
    assert math.isnan(log_ratio(math.nan, 1.0))


def test_robustness_from_python_attaches_to_the_comparison(tmp_path):
    strategies = load_variants(planted_file(tmp_path))
    cmp = compare(strategies, replications=3)
    rob = robustness(cmp, [one("none", "sales.response_curve", {"preset": "none"}, "flat", "test")], kpis=("revenue",))
    assert cmp.robustness is rob and rob.tally("many_leads", "revenue") == (1, 1)
    assert [c["assumption"] for c in cmp.document()["robustness"]] == ["none"]
