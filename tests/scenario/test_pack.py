"""The bundled scenario pack: every file loads, says what it asks, runs; the README table tool; the crossover."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from funnelsim.cli import main
from funnelsim.experiment.crossover import parse_sizes, sign_changes, sweep_team_sizes
from funnelsim.experiment.pack import pack_files
from funnelsim.report.pack_table import END, START, replace_block
from funnelsim.scenario.loader import load_scenario, load_variants

PACK = Path(__file__).resolve().parents[2] / "scenarios"
FILES = {
    "lead_strategy.yaml": ["more_leads", "qualified_leads"],
    "emails.yaml": ["reps_and_email", "email_instead"],
    "sales_cycle.yaml": ["fast_close", "mid_market", "enterprise"],
}
TINY_VARIANTS = """\
name: tiny
seed: 3
horizon_weeks: 6
marketing:
  marketers: 1
  channels:
    - {name: web, leads_per_week: 40, cost_per_lead: 50}
sales:
  teams:
    - {name: ae, reps: 3}
  stages:
    - {name: qualify, conversion: 0.5, hours: 0.5}
    - {name: close, conversion: 0.5, hours: 2, buyer_delay_days: 2}
variants:
  broad: {}
  targeted:
    marketing:
      channels:
        - {name: web, leads_per_week: 40, cost_per_lead: 50, targeting: 0.6}
"""


def header(path: Path) -> str:
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#") and line.strip():
            break
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("file", FILES)
def test_pack_file_loads_with_its_variants(file):
    variants = load_variants(PACK / file)
    assert list(variants) == FILES[file]
    assert "extends: baseline.yaml" in (PACK / file).read_text()
    assert (PACK / file) in pack_files(PACK)


@pytest.mark.parametrize("file", FILES)
def test_pack_file_header_states_question_levers_and_sources(file):
    text = header(PACK / file)
    assert "Misconception" in text
    assert "Question:" in text
    assert "Levers changed" in text
    assert "Where the numbers come from" in text


def test_lead_strategy_buys_more_or_better_leads_for_the_same_money():
    v = load_variants(PACK / "lead_strategy.yaml")

    def weekly(s):
        chans = s.marketing.channels
        leads = sum(c.leads_per_week * (1 - c.targeting) for c in chans)
        spend = sum(
            c.leads_per_week * (1 - c.targeting) * c.cost_per_lead / (1 - c.targeting) ** c.targeting_cost_exponent
            for c in chans
        )
        return leads, spend

    (more, spend_more), (qualified, spend_qualified) = weekly(v["more_leads"]), weekly(v["qualified_leads"])
    assert more > 3 * qualified
    assert spend_more == pytest.approx(spend_qualified)
    assert all(c.targeting == 0.7 for c in v["qualified_leads"].marketing.channels)


def _without(model, *fields):
    return model.model_dump(exclude=set(fields))


def test_restated_lists_still_match_the_baseline():
    """Variants restate whole lists (lists replace on merge); only the lever may differ from baseline.yaml,
    so a recalibrated baseline cannot silently leave a variant on the old numbers."""
    base = load_scenario(PACK / "baseline.yaml")
    lead = load_variants(PACK / "lead_strategy.yaml")
    for scenario in lead.values():
        ours = [_without(c, "targeting") for c in scenario.marketing.channels]
        assert ours == [_without(c, "targeting") for c in base.marketing.channels]
        assert [_without(t, "reps") for t in scenario.sales.teams] == [_without(t, "reps") for t in base.sales.teams]
    emails = load_variants(PACK / "emails.yaml")["email_instead"]
    assert [_without(t, "reps") for t in emails.sales.teams] == [_without(t, "reps") for t in base.sales.teams]
    for name, scenario in load_variants(PACK / "sales_cycle.yaml").items():
        ours = [_without(st, "buyer_delay_days") for st in scenario.sales.stages]
        assert ours == [_without(st, "buyer_delay_days") for st in base.sales.stages], name


def test_lead_strategy_team_hours_bind(capsys):
    code = main(["compare", str(PACK / "lead_strategy.yaml"), "-r", "2", "-w", "1", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    more = next(s for s in doc["scenarios"] if s["name"] == "more_leads")
    assert more["kpis"]["rep_utilization"]["mean"] > 0.9


@pytest.mark.parametrize("file", ["emails.yaml", "sales_cycle.yaml"])
def test_pack_file_runs(capsys, file):
    argv = ["compare", str(PACK / file), "-r", "2", "-w", "1", "--set", "horizon_weeks=8", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in doc["scenarios"]] == FILES[file]


# -- the README table ---------------------------------------------------------------------------
def test_pack_table_rewrites_only_its_block(capsys, tmp_path):
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY_VARIANTS)
    (folder / "plain.yaml").write_text(TINY_VARIANTS.split("variants:")[0])
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{START}\nold\n{END}\n\n## After\n")
    argv = ["pack-table", str(readme), "--scenarios", str(folder), "-r", "2", "-w", "1"]
    assert main(argv) == 0
    text = readme.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith("\n\n## After\n")
    block = text.split(START)[1].split(END)[0]
    assert "old" not in block
    assert "`targeted` vs `broad`" in block and "tiny.yaml" in block and "plain.yaml" not in block
    assert "do not edit by hand" in block
    capsys.readouterr()
    assert main([*argv, "--check"]) == 0  # deterministic: regenerating changes nothing
    assert "up to date" in capsys.readouterr().out


def test_pack_table_needs_the_markers(capsys, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no block here\n")
    assert main(["pack-table", str(readme), "--scenarios", str(tmp_path)]) == 2
    assert "no <!-- scenarios:start -->" in capsys.readouterr().err
    with pytest.raises(ValueError):
        replace_block("x", "y")


# -- the crossover ------------------------------------------------------------------------------
def test_sign_changes_interpolate():
    assert sign_changes([10, 20, 30], [4.0, 2.0, -2.0]) == [25.0]
    assert sign_changes([10, 20], [1.0, 2.0]) == []


@pytest.mark.parametrize("text", ["10", "a,b", "10:5:0", "0,5"])
def test_bad_team_sizes(text):
    with pytest.raises(ValueError, match="team sizes"):
        parse_sizes(text)
    assert parse_sizes("10:30:10") == [10, 20, 30]


def test_crossover_command_writes_figure_and_json(capsys, tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_VARIANTS)
    out = tmp_path / "cx"
    argv = ["crossover", str(path), "--reps", "2,6", "-r", "2", "-w", "1", "--out", str(out), "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["strategies"] == ["broad", "targeted"] and doc["team_sizes"] == [2, 6]
    assert {p.name for p in out.iterdir()} == {"crossover.png", "crossover.json", "crossover.md"}
    assert main(["crossover", str(path), "--reps", "7"]) == 2
    assert "at least two distinct team sizes" in capsys.readouterr().err


@pytest.mark.slow
def test_lead_strategy_crossover():
    """A team that chooses its work (pipeline_first) lets the weak leads of the whole audience go,
    so with its hours binding (20 reps) the whole audience costs it no revenue against qualified
    leads at the same budget (free disposal); with ample capacity (120 reps) more leads earn more
    revenue. A first-in-first-out team drowns in the whole audience: qualified leads earn more
    profit and more per rep-hour at 20 reps, and the ordering flips in between."""

    def row(result, kpi, reps):
        t = result.series(kpi)
        return t[(t["reps"] == reps) & (t["strategy"] == "qualified_leads")].iloc[0]

    choosing = sweep_team_sizes(load_variants(PACK / "lead_strategy.yaml"), [20, 120], replications=6, workers=2)
    assert not (row(choosing, "revenue", 20)["diff"] > 0 and row(choosing, "revenue", 20)["significant"])
    assert row(choosing, "revenue", 120)["diff"] < 0 and row(choosing, "revenue", 120)["significant"]

    naive = load_variants(PACK / "lead_strategy.yaml", ["sales.prioritisation=fifo"])
    fifo = sweep_team_sizes(naive, [20, 120], replications=6, workers=2)
    for kpi in ("profit", "revenue_per_rep_hour"):
        assert row(fifo, kpi, 20)["diff"] > 0 and row(fifo, kpi, 20)["significant"]
    assert row(fifo, "revenue", 120)["diff"] < 0 and row(fifo, "revenue", 120)["significant"]
    assert len(fifo.crossings["qualified_leads"]) == 1
