"""README's "Write your own scenario": every file it shows loads and every command runs as printed."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from funnelsim.cli import main
from funnelsim.scenario.loader import load_scenario, load_variants

ROOT = Path(__file__).resolve().parents[1]


def guide() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Write your own scenario")
    return text[start : text.index("\n## ", start + 1)]


def test_the_guide_shows_files_and_commands():
    files = re.findall(r"```yaml\n# (\S+)\n", guide())
    assert files == ["first.yaml", "mine.yaml", "strategies.yaml"]
    assert "replace: true" in guide() and "drop: true" in guide() and "### Units" in guide()


def test_every_file_and_command_of_the_guide_works(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    section = guide()
    for name, body in re.findall(r"```yaml\n# (\S+)\n(.*?)```", section, re.S):
        (tmp_path / name).write_text(body, encoding="utf-8")
    commands = [line for block in re.findall(r"```bash\n(.*?)```", section, re.S) for line in block.splitlines()]
    assert len(commands) >= 4
    monkeypatch.chdir(tmp_path)
    for command in commands:
        argv = shlex.split(command)
        assert argv[0] == "funnelsim"
        assert main(argv[1:]) == 0, (command, capsys.readouterr().err)
    mine = load_scenario("mine.yaml")
    assert [c.name for c in mine.marketing.channels] == ["paid_search", "content"]
    assert (mine.sales.teams[0].reps, mine.sales.teams[0].salary_per_year) == (12, 132290)
    out = load_variants("strategies.yaml")
    assert list(out) == ["as_today", "speed_to_lead"]
    assert (
        out["speed_to_lead"].sales.teams[0].reps == 14 and out["speed_to_lead"].sales.prioritisation == "newest_first"
    )
    assert out["as_today"].sales.teams[0].reps == 12


def test_what_the_guide_says_of_inherited_variants(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    for name, body in re.findall(r"```yaml\n# (\S+)\n(.*?)```", guide(), re.S):
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    Path("half.yaml").write_text("extends: strategies.yaml\nhorizon_weeks: 26\n")
    out = load_variants("half.yaml")
    assert list(out) == ["as_today", "speed_to_lead"] and {s.horizon_weeks for s in out.values()} == {26}
    Path("more.yaml").write_text(
        "extends: strategies.yaml\nvariants:\n  speed_to_lead:\n    sales:\n"
        "      teams: [{name: account_executives, hours_per_week: 45}]\n"
    )
    changed = load_variants("more.yaml")["speed_to_lead"]
    assert changed.sales.prioritisation == "newest_first"  # key by key
    team = changed.sales.teams[0]
    assert (team.reps, team.hours_per_week) == (12, 45)  # the inherited variant's list replaced, then merged by name


@pytest.mark.parametrize("key", ["extends", "variants"])
def test_schema_documents_extends_and_variants(key):
    from funnelsim.scenario.docs import scenario_json_schema

    schema = scenario_json_schema()
    assert key in schema["properties"] and schema["properties"][key]["description"]
    assert "by name" in schema["description"] and "drop: true" in schema["description"]
