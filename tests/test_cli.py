"""The command line: readable output, clear errors with exit code 2, nothing half-written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from funnelsim.cli import main
from funnelsim.results.kpis import KPI_NAMES

REQUIRED = [
    "revenue",
    "cost",
    "profit",
    "deals_won",
    "leads_created",
    "leads_worked",
    "leads_never_worked",
    "win_rate",
    "response_time_hours_median",
    "cycle_days_median",
    "rep_hours_available",
    "rep_hours_used",
    "rep_utilization",
    "revenue_per_rep_hour",
    "backlog_end",
    "training_cost",
    "mentoring_hours",
    "hires",
    "leavers",
    "revenue_net_of_refunds",
    "mean_skill_end",
]
SHORT = ["--set", "horizon_weeks=4"]


def test_every_required_kpi_is_reported():
    assert set(REQUIRED) <= set(KPI_NAMES)


def test_run_prints_a_kpi_table(capsys):
    assert main(["run", "scenarios/baseline.yaml", *SHORT]) == 0
    out = capsys.readouterr().out
    assert "Revenue ($)" in out and "Rep utilisation" in out and "95% CI" not in out


def test_run_with_replications_shows_confidence_intervals(capsys):
    assert main(["run", "scenarios/baseline.yaml", "-r", "3", "-w", "1", *SHORT]) == 0
    out = capsys.readouterr().out
    assert "95% CI" in out and ".." in out


def test_run_json_document(capsys):
    assert main(["run", "scenarios/baseline.yaml", "--json", "-r", "2", "-w", "1", "--seed", "3", *SHORT]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenario"] == "baseline" and doc["replications"] == 2
    for k in REQUIRED:
        assert set(doc["kpis"][k]) == {"mean", "ci95"}
    assert len(doc["runs"]) == 2 and {"seed", *REQUIRED} <= set(doc["runs"][0])
    lo, hi = doc["kpis"]["revenue"]["ci95"]
    assert lo <= doc["kpis"]["revenue"]["mean"] <= hi


def test_run_out_writes_tables_and_figures(tmp_path, capsys):
    out = tmp_path / "result"
    assert main(["run", "scenarios/baseline.yaml", "-r", "2", "-w", "1", "--out", str(out), *SHORT]) == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "summary.json",
        "timeseries.parquet",
        "reps.parquet",
        "revenue_cost.png",
        "funnel.png",
        "rep_utilization.png",
    } <= names
    import pandas as pd

    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["run"].nunique() == 2 and ts["day"].max() == 20
    assert (out / "funnel.png").stat().st_size > 10_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def bad(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_bad_scenario_exits_2_with_file_line_and_no_traceback(tmp_path):
    path = bad(
        tmp_path,
        "extends: "
        + str(Path("scenarios/baseline.yaml").resolve())
        + "\nsales:\n  teams:\n    - name: account_executives\n      reps: 10\n      hours_per_week: -5\n",
    )
    out = tmp_path / "never"
    proc = subprocess.run(
        [sys.executable, "-m", "funnelsim.cli", "run", str(path), "--out", str(out)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"{path}:6: sales.teams[0].hours_per_week: must be greater than 0 (got -5)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_bad_override_exits_2(capsys):
    assert main(["run", "scenarios/baseline.yaml", "--set", "marketing.mql_threshold=1.5"]) == 2
    err = capsys.readouterr().err
    assert "--set" in err and "marketing.mql_threshold" in err and "1.5" in err


@pytest.mark.parametrize("args", [["run", "scenarios/baseline.yaml", "-r", "0"], ["run"], ["nope"]])
def test_bad_arguments_exit_2(args):
    proc = subprocess.run([sys.executable, "-m", "funnelsim.cli", *args], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_validate_reports_every_file(tmp_path, capsys):
    broken = bad(tmp_path, "marketing: [1, 2]\n")
    assert main(["validate", "scenarios/baseline.yaml", str(broken)]) == 2
    captured = capsys.readouterr()
    assert "scenarios/baseline.yaml: ok" in captured.out
    assert str(broken) in captured.err


def test_schema_is_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "marketing" in schema["properties"] and "sales" in schema["required"]


def test_readme_documents_every_kpi():
    readme = Path("README.md").read_text()
    missing = [k for k in KPI_NAMES if f"`{k}`" not in readme]
    assert not missing, f"README lacks KPIs: {missing}"


# -- failures, pipes and start-up ----------------------------------------------------------------
BOOM = """\
import funnelsim.experiment.runner as runner


def run_once(scenario, seed):
    raise RuntimeError("the model blew up")


runner.run_once = run_once
"""


def _funnelsim(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "funnelsim.cli", *args], capture_output=True, text=True, env=env, **kw)


def test_a_run_failing_in_a_worker_prints_one_line_and_exits_1(tmp_path):
    # every interpreter (this command's workers and their fork server too) imports sitecustomize
    (tmp_path / "sitecustomize.py").write_text(BOOM)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), root])}
    done = _funnelsim("run", "scenarios/baseline.yaml", "-r", "3", "-w", "2", *SHORT, env=env, cwd=root)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert re.match(r"funnelsim: error: replication [123] of baseline \(seed \d+\) failed: ", lines[0]), lines[0]
    assert "RuntimeError: the model blew up (at sitecustomize.py:5 in run_once)" in lines[0]


def test_output_to_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "funnelsim.cli", "run", "scenarios/baseline.yaml", *SHORT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader has gone, as `| head -1` does after its line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141


def test_run_piped_into_head():
    done = subprocess.run(
        f"{sys.executable} -m funnelsim.cli run scenarios/baseline.yaml --set horizon_weeks=4 | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout.startswith("baseline:") and done.stderr == ""


def test_help_imports_no_heavy_module():
    code = (
        "import sys, contextlib, io\n"
        "from funnelsim.cli import build_parser\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    build_parser().parse_args(['--help'])\n"
        "print(sorted(m for m in ('pandas', 'scipy', 'mesa', 'pydantic', 'numpy', 'matplotlib') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_readme_lists_exactly_what_run_out_writes(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("`--out DIR` writes `summary.json`")
    paragraph = readme[start : readme.index("\n\n", start)]
    listed = set(re.findall(r"`([a-z_]+\.(?:json|parquet|png))`", paragraph))
    out = tmp_path / "out"
    args = ["run", "scenarios/growth_spurt.yaml", "--variant", "mentoring", "--set", "horizon_weeks=20"]
    assert main([*args, "--out", str(out)]) == 0
    written = {p.name for p in out.iterdir()}
    assert "ramp.png" in written  # the growth spurt hires, so every listed file is expected
    assert written == listed
