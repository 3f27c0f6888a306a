"""README's "Optimising a plan": the file it shows loads, its commands parse, the example problem loads."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from funnelsim.cli import build_parser
from funnelsim.optimize.problem import load_problem

ROOT = Path(__file__).resolve().parents[2]


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Optimising a plan")
    return text[start : text.index("\n## ", start + 1)]


def test_the_file_the_readme_shows_loads(tmp_path: Path):
    (body,) = re.findall(r"```yaml\n(.*?)```", section(), re.S)
    folder = tmp_path / "scenarios" / "optimize"
    folder.mkdir(parents=True)
    (tmp_path / "scenarios" / "baseline.yaml").write_text((ROOT / "scenarios" / "baseline.yaml").read_text())
    (folder / "opt.yaml").write_text(body)
    problem = load_problem(folder / "opt.yaml")
    assert [v.kind for v in problem.variables] == ["int", "float", "categorical", "simplex"]
    assert [c.text for c in problem.constraints] == [
        "rep_utilization <= 0.85",
        "cost <= 9e+06",
        "leads_never_worked_share <= 0.5",
    ]


def test_the_commands_parse_and_the_example_problem_loads():
    lines = [line.split("#")[0] for line in re.findall(r"```bash\n(.*?)```", section(), re.S)[0].splitlines()]
    commands = [shlex.split(line) for line in lines if line.startswith("funnelsim optimize")]
    assert commands
    for argv in commands:
        args = build_parser().parse_args(argv[1:])
        problem = load_problem(ROOT / args.problem)
        assert problem.name == "lead_plan" and [v.name for v in problem.variables] == [
            "reps",
            "targeting",
            "mql_threshold",
        ]
