"""Comparing strategies: statistics against known cases, common random numbers, the command."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from funnelsim.cli import main
from funnelsim.experiment.compare import (
    Target,
    bootstrap_ci,
    compare,
    compare_until,
    next_size,
    paired_difference,
    paired_differences,
    sign_flip_p_value,
    strategy_seeds,
)
from funnelsim.model.levers import apply_levers
from funnelsim.report.compare_report import text_report, verdict
from funnelsim.scenario.loader import load_scenario

TINY = """\
name: tiny
seed: 7
horizon_weeks: 8
marketing:
  marketers: 1
  mql_threshold: 0.5
  channels:
    - name: web
      leads_per_week: 40
      cost_per_lead: 50
sales:
  teams:
    - name: ae
      reps: 3
  stages:
    - name: qualify
      conversion: 0.5
      hours: 0.5
    - name: close
      conversion: 0.5
      hours: 2
      buyer_delay_days: {dist: triangular, low: 1, mode: 3, high: 6}
"""

VARIANTS = (
    TINY
    + """\
variants:
  three_reps: {}
  five_reps:
    sales:
      teams:
        - name: ae
          reps: 5
"""
)


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return load_scenario(path)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- pure statistics ----------------------------------------------------------------------------
def test_paired_differences_drop_missing_pairs():
    d = paired_differences([1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, 7.0])
    assert d.tolist() == [1.0, 3.0]
    with pytest.raises(ValueError, match="same length"):
        paired_differences([1.0, 2.0], [1.0])


def test_bootstrap_ci_is_reproducible_and_handles_degenerate_samples():
    x = np.random.default_rng(1).normal(size=25)
    assert bootstrap_ci(x) == bootstrap_ci(x)
    lo, hi = bootstrap_ci(x)
    assert lo < x.mean() < hi
    assert bootstrap_ci([2.5] * 10) == (2.5, 2.5)
    assert all(math.isnan(v) for v in bootstrap_ci([1.0]))


def test_sign_flip_p_value_is_exact_for_few_pairs():
    # all 5 differences positive: 2 of the 2^5 sign patterns are as extreme (two-sided)
    assert sign_flip_p_value([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(2 / 32)
    assert sign_flip_p_value([0.0] * 8) == 1.0
    assert math.isnan(sign_flip_p_value([1.0]))


def test_null_difference_ci_covers_zero_about_95_percent_of_the_time():
    """Identical strategies (paired, correlated, skewed noise): the CI covers the true zero ~95%,
    and p < 0.05 about 5% of the time."""
    rng = np.random.default_rng(2026)
    trials, n, covered, rejected = 400, 20, 0, 0
    for t in range(trials):
        common = rng.lognormal(10, 0.5, n)
        a = common + rng.normal(0, 2000, n)
        b = common + rng.normal(0, 2000, n)
        d = paired_differences(a, b)
        lo, hi = bootstrap_ci(d, resamples=1999, seed=t)
        covered += lo <= 0 <= hi
        rejected += sign_flip_p_value(d, resamples=1999, seed=t) < 0.05
    assert 0.91 <= covered / trials <= 0.99
    assert rejected / trials <= 0.085


def test_planted_effect_is_detected():
    rng = np.random.default_rng(3)
    a = rng.normal(100, 10, 20)
    b = a + 5 + rng.normal(0, 3, 20)  # true paired effect +5
    d = paired_difference("b", "revenue", a, b)
    assert d.significant and d.p_value < 0.001
    assert d.ci95[0] > 0 and d.ci95[0] < 5 < d.ci95[1]


def test_next_size_grows_towards_the_target_without_overshooting():
    assert next_size(10, width=4.0, target=2.0, step=2, cap=200) == 20  # needs 44, at most doubles
    assert next_size(10, width=2.2, target=2.0, step=2, cap=200) == 14
    assert next_size(150, width=10.0, target=1.0, step=2, cap=200) == 200


# -- with the model -----------------------------------------------------------------------------
def test_identical_strategies_show_no_difference(tiny):
    cmp = compare({"a": tiny, "b": tiny}, replications=6)
    for d in cmp.differences:
        assert d.mean_diff == 0 or math.isnan(d.mean_diff)
        assert not d.significant
    assert "no detectable difference in revenue" in verdict(cmp)[0]
    assert "significant" not in text_report(cmp).split("* significant")[0].replace("no detectable", "")


def test_planted_effect_in_the_model_is_detected(tiny):
    more_reps = apply_levers(tiny, reps=8)
    cmp = compare({"three": tiny, "eight": more_reps}, replications=8)
    rev = cmp.difference("eight", "revenue")
    assert rev.significant and rev.mean_diff > 0
    assert cmp.difference("eight", "rep_utilization").mean_diff < 0
    assert verdict(cmp)[0].startswith("eight earns $")


def test_common_random_numbers_shrink_the_standard_error(tiny):
    four = apply_levers(tiny, reps=4)
    crn = compare({"three": tiny, "four": four}, replications=12)
    indep = compare({"three": tiny, "four": four}, replications=12, common_random_numbers=False)
    assert crn.results["four"].seeds == crn.results["three"].seeds
    assert set(indep.results["four"].seeds).isdisjoint(indep.results["three"].seeds)

    def se(cmp):
        d = paired_differences(cmp.kpis["three"]["profit"], cmp.kpis["four"]["profit"])
        return d.std(ddof=1) / math.sqrt(len(d))

    assert se(crn) < 0.6 * se(indep)


def test_replication_i_does_not_depend_on_how_many_are_run():
    assert strategy_seeds(5, 1, 10)[:4] == strategy_seeds(5, 1, 4)
    assert strategy_seeds(5, 1, 4, common=False)[:2] == strategy_seeds(5, 1, 2, common=False)


def test_results_are_identical_for_any_worker_count(tiny):
    five = apply_levers(tiny, reps=5)
    one = compare({"a": tiny, "b": five}, replications=4, workers=1)
    two = compare({"a": tiny, "b": five}, replications=4, workers=2)
    assert json.dumps(one.document()) == json.dumps(two.document())


def test_sequential_sampling_stops_at_the_target(tiny):
    five = apply_levers(tiny, reps=5)
    target = Target("revenue", 0.10, relative=True)
    cmp = compare_until({"a": tiny, "b": five}, target, start=4, max_replications=40)
    d = cmp.difference("b", "revenue")
    base = cmp.kpis["a"]["revenue"].mean()
    assert d.ci95[1] - d.ci95[0] <= 0.10 * base or cmp.replications == 40
    assert cmp.replications > 4
    assert "Sequential sampling" in cmp.notes[0]
    fixed = compare({"a": tiny, "b": five}, replications=4)
    assert cmp.kpis["b"]["revenue"][:4].tolist() == fixed.kpis["b"]["revenue"].tolist()


# -- the command --------------------------------------------------------------------------------
@pytest.fixture
def pair(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(TINY)
    b = tmp_path / "b.yaml"
    b.write_text(TINY.replace("name: tiny", "name: bigger").replace("reps: 3", "reps: 6"))
    return a, b


def test_compare_json_document(capsys, pair):
    code, out, _ = run_cli(capsys, "compare", *pair, "-r", "3", "--json", "-w", "1")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"baseline", "replications", "scenarios", "differences"}
    assert doc["baseline"] == "tiny" and doc["replications"] == 3
    assert [s["name"] for s in doc["scenarios"]] == ["tiny", "bigger"]
    assert set(doc["scenarios"][0]["kpis"]["revenue"]) == {"mean", "ci95"}
    diff = next(d for d in doc["differences"] if d["kpi"] == "revenue")
    assert set(diff) == {"scenario", "kpi", "mean_diff", "ci95", "p_value"}
    assert diff["scenario"] == "bigger" and len(diff["ci95"]) == 2


def test_compare_variants_text_and_markdown(capsys, tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text(VARIANTS)
    code, out, _ = run_cli(capsys, "compare", path, "-r", "6", "-w", "1")
    assert code == 0
    assert "Baseline: three_reps" in out
    assert re.search(r"five_reps (earns|shows)", out)
    assert "Revenue ($)" in out and "difference [95% CI]" in out
    code, out, _ = run_cli(capsys, "compare", path, "-r", "6", "-w", "1", "--markdown", "--baseline", "five_reps")
    assert code == 0
    assert out.startswith("# five_reps vs three_reps")
    assert "| KPI |" in out


def test_compare_writes_a_self_contained_report(capsys, tmp_path, pair):
    out_dir = tmp_path / "report"
    code, _, _ = run_cli(capsys, "compare", *pair, "-r", "4", "-w", "1", "--out", out_dir)
    assert code == 0
    names = {p.name for p in out_dir.iterdir()}
    expected = {"report.html", "report.md", "comparison.json", "revenue_over_time.png", "funnel.png"}
    assert expected | {"rep_utilization.png", "response_time.png", "differences.png"} <= names
    page = (out_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5
    assert not re.search(r"""(src|href)=['"](?!data:)""", page)  # nothing fetched from elsewhere
    assert "bigger" in page and "95% CI" in page
    assert "![" in (out_dir / "report.md").read_text()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  b:\n    sales: {teamz: []}\n", r"v\.yaml:26: variants\.b -> sales\.teamz: .*unknown field"),
        ("  b:\n    sales:\n      teams:\n        - {name: ae, reps: 2, skil: 0.5}\n", r"v\.yaml:\d+: .*skil"),
        ("  b:\n    horizon_weeks: -3\n", r"v\.yaml:26: variants\.b -> horizon_weeks"),
    ],
)
def test_bad_variants_fail_with_the_line(capsys, tmp_path, body, message):
    path = tmp_path / "v.yaml"
    path.write_text(TINY + "variants:\n  a: {}\n" + body)
    code, out, err = run_cli(capsys, "compare", path, "-r", "3")
    assert code == 2 and not out
    assert re.search(message, err), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-r", "1"], "at least 2 replications"),
        (["-r", "many"], "whole number or 'auto'"),
        (["-r", "auto", "--target-width", "0%"], "target width must be above 0"),
    ],
)
def test_bad_option_values_exit_2(capsys, pair, args, message):
    with pytest.raises(SystemExit) as exc:
        main(["compare", *map(str, pair), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_baseline_exit_2(capsys, pair):
    code, _, err = run_cli(capsys, "compare", *pair, "-r", "3", "--baseline", "nope")
    assert code == 2
    assert "--baseline 'nope' is not one of the strategies: tiny, bigger" in err


def test_one_strategy_or_mismatched_horizons_exit_2(capsys, pair, tmp_path):
    code, _, err = run_cli(capsys, "compare", pair[0], "-r", "3")
    assert code == 2 and "at least two strategies" in err
    short = tmp_path / "short.yaml"
    short.write_text(TINY.replace("name: tiny", "name: short").replace("horizon_weeks: 8", "horizon_weeks: 4"))
    code, _, err = run_cli(capsys, "compare", pair[0], short, "-r", "3")
    assert code == 2 and "must share horizon_weeks" in err
    code, _, err = run_cli(capsys, "compare", pair[0], tmp_path / "missing.yaml", "-r", "3")
    assert code == 2 and "missing.yaml" in err


@pytest.mark.slow
def test_null_coverage_with_the_model_over_many_seeds(tiny):
    """Identical strategies on independent seeds: the difference CI covers zero in ~95% of comparisons."""
    trials, covered = 120, 0
    for t in range(trials):
        cmp = compare({"a": tiny, "b": tiny}, replications=15, seed=1000 + t, common_random_numbers=False)
        lo, hi = cmp.difference("b", "revenue").ci95
        covered += lo <= 0 <= hi
    assert 0.88 <= covered / trials <= 0.99
