"""Sweeps: design, identical results on every executor, resume after a kill, failures, bad files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from funnelsim.cli import main
from funnelsim.experiment import sweepchunks
from funnelsim.experiment.executors import dask_executor
from funnelsim.experiment.samplers import design, unit_saltelli
from funnelsim.experiment.statistics import mean_ci
from funnelsim.experiment.sweep import plan, run_sweep
from funnelsim.experiment.sweepfile import load_sweep
from funnelsim.model.streams import replication_seeds
from funnelsim.scenario.errors import ScenarioError
from tests.helpers import as_from_a_terminal

SMALL = """\
name: small
seed: 7
horizon_weeks: 6
marketing:
  marketers: 1
  channels:
    - {name: a, leads_per_week: 30, cost_per_lead: 50}
    - {name: b, leads_per_week: 20}
sales:
  teams:
    - {name: t, reps: 4}
  stages:
    - {name: qualify, conversion: 0.5, hours: 0.5}
    - {name: close, conversion: 0.5, hours: 1, buyer_delay_days: 2}
"""

GRID = """\
name: grid
base: small.yaml
parameters:
  - path: sales.teams[0].reps
    name: reps
    values: [2, 4, 6]
  - path:
      - marketing.channels[0].targeting
      - marketing.channels[1].targeting
    name: targeting
    range: [0, 0.6]
    steps: 3
replications: 3
seed: 1
kpis: [revenue, deals_won, rep_utilization]
"""


def _write(folder: Path, sweep: str = GRID, name: str = "sweep.yaml") -> Path:
    (folder / "small.yaml").write_text(SMALL)
    path = folder / name
    path.write_text(textwrap.dedent(sweep))
    return path


def _frame(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "results.parquet").drop(columns="seconds")


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    return _write(tmp_path)


# -- design ------------------------------------------------------------------------------------
def test_grid_sweep_writes_results_summary_and_manifest(grid_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    outcome = run_sweep(grid_file, out)
    assert outcome.complete and outcome.ran == 27 and outcome.errors == 0
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 27 and df["run_id"].is_unique
    assert list(df.columns[:6]) == ["run_id", "point_id", "replication", "seed", "reps", "targeting"]
    assert sorted(set(zip(df["reps"], df["targeting"], strict=True))) == [
        (r, t) for r in (2, 4, 6) for t in (0.0, 0.3, 0.6)
    ]
    assert (df["status"] == "ok").all() and df["error"].isna().all()
    # common random numbers: replication r has the same seed at every point
    assert df.groupby("replication")["seed"].nunique().eq(1).all()
    assert sorted(df["seed"].unique()) == sorted(replication_seeds(1, 3))
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 9 and (summary["runs"] == 3).all()
    point = df[df["point_id"] == 4]
    mean, low, high = mean_ci(point["revenue"])
    row = summary[summary["point_id"] == 4].iloc[0]
    assert row["revenue_mean"] == pytest.approx(mean)
    assert (row["revenue_ci95_low"], row["revenue_ci95_high"]) == pytest.approx((low, high))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["total_runs"] == 27
    assert manifest["package_version"] and len(manifest["sweep_hash"]) == 64
    assert not list((out / "parts").iterdir())


def test_run_ids_hash_version_base_values_and_seed(grid_file: Path, tmp_path: Path, monkeypatch):
    runs = plan(load_sweep(grid_file)).runs
    assert len({r.run_id for r in runs}) == len(runs)
    again = plan(load_sweep(grid_file)).runs
    assert [r.run_id for r in runs] == [r.run_id for r in again]
    (tmp_path / "small.yaml").write_text(SMALL.replace("cost_per_lead: 50", "cost_per_lead: 51"))
    assert plan(load_sweep(grid_file)).runs[0].run_id != runs[0].run_id
    (tmp_path / "small.yaml").write_text(SMALL)
    monkeypatch.setattr("funnelsim.experiment.sweep.package_version", lambda: "9.9.9")
    assert plan(load_sweep(grid_file)).runs[0].run_id != runs[0].run_id


def test_samplers_draw_within_bounds_and_reproducibly(tmp_path: Path):
    text = """\
    base: small.yaml
    sampler: {sampler}
    samples: 16
    parameters:
      - {{path: 'sales.teams[0].reps', range: [1, 12]}}
      - {{path: 'marketing.channels[0].leads_per_week', range: [5, 500], scale: log}}
      - {{path: 'sales.routing', values: [pool, round_robin, least_loaded]}}
    """
    for sampler in ("random", "lhs", "sobol"):
        path = _write(tmp_path, text.format(sampler=sampler))
        points = design(load_sweep(path)).points
        assert points == design(load_sweep(path)).points
        assert len(points) == (16 * 5 if sampler == "sobol" else 16)
        reps, leads, routing = zip(*points, strict=True)
        assert all(isinstance(r, int) and 1 <= r <= 12 for r in reps)
        assert all(isinstance(x, float) and 5 <= x <= 500 for x in leads)
        assert set(routing) <= {"pool", "round_robin", "least_loaded"}
    lhs = design(load_sweep(_write(tmp_path, text.format(sampler="lhs")))).points
    # one point in each of the 16 strata of the (log) range
    assert len({min(15, int(np.log(x / 5) / np.log(100) * 16)) for _, x, _ in lhs}) == 16


def test_saltelli_design_order():
    u = unit_saltelli(3, 8, seed=5)
    a, b = u[:8], u[8:16]
    for i in range(3):
        abi = u[16 + 8 * i : 24 + 8 * i]
        assert np.array_equal(abi[:, i], b[:, i])
        assert np.array_equal(np.delete(abi, i, axis=1), np.delete(a, i, axis=1))


# -- executors ---------------------------------------------------------------------------------
def test_sequential_processes_and_dask_give_identical_rows(grid_file: Path, tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    run_sweep(grid_file, tmp_path / "seq", workers=1)
    run_sweep(grid_file, tmp_path / "proc", workers=2, chunk_size=2)
    cluster = distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None)
    with cluster:  # the command's own path: --scheduler ADDRESS
        args = ["sweep", str(grid_file), "--out", str(tmp_path / "dask"), "--chunk-size", "3"]
        assert main([*args, "--scheduler", cluster.scheduler_address]) == 0
    seq = _frame(tmp_path / "seq")
    pd.testing.assert_frame_equal(seq, _frame(tmp_path / "proc"))
    pd.testing.assert_frame_equal(seq, _frame(tmp_path / "dask"))
    summary = pd.read_parquet(tmp_path / "seq" / "summary.parquet")
    pd.testing.assert_frame_equal(summary, pd.read_parquet(tmp_path / "dask" / "summary.parquet"))


def test_dask_client_from_python(grid_file: Path, tmp_path: Path):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        outcome = run_sweep(grid_file, tmp_path / "dask", executor=dask_executor(client))
    assert outcome.complete and len(outcome.results) == 27


# -- resume --------------------------------------------------------------------------------------
def test_rerun_of_a_finished_sweep_runs_nothing(grid_file: Path, tmp_path: Path):
    out = tmp_path / "out"
    run_sweep(grid_file, out)
    before = _frame(out)
    again = run_sweep(grid_file, out)
    assert again.ran == 0 and again.already_done == 27
    pd.testing.assert_frame_equal(before, _frame(out))


def test_another_sweep_file_is_refused_unless_forced(grid_file: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(grid_file), "--out", str(out), "--workers", "1"]) == 0
    other = _write(tmp_path, GRID.replace("seed: 1", "seed: 2"), name="other.yaml")
    capsys.readouterr()
    assert main(["sweep", str(other), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "holds results of another sweep" in err and "--force" in err and "Traceback" not in err
    assert main(["sweep", str(other), "--out", str(out), "--workers", "1", "--force"]) == 0
    assert set(pd.read_parquet(out / "results.parquet")["seed"]) == set(replication_seeds(2, 3))


KILLABLE = GRID.replace("values: [2, 4, 6]", "values: [2, 3, 4, 5, 6, 7]").replace("steps: 3", "steps: 5")
KILLABLE = KILLABLE.replace("replications: 3", "replications: 4\nchunk_size: 3\nset:\n  horizon_weeks: 20")


def _start(sweep: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "funnelsim.cli", "sweep", str(sweep), "--out", str(out), "--workers", "2"]
    return subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=sweep.parent,
        preexec_fn=as_from_a_terminal,
    )


def _wait_for_parts(proc: subprocess.Popen, out: Path, n: int) -> None:
    deadline = time.monotonic() + 60
    while len(list((out / "parts").glob("part-*.parquet"))) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def _no_temporaries(out: Path) -> bool:
    return not [p for p in out.rglob("*") if p.name.startswith(".tmp-")]


def test_kill_mid_way_then_resume_completes_only_the_missing_runs(tmp_path: Path):
    sweep = _write(tmp_path, KILLABLE)
    out = tmp_path / "killed"
    proc = _start(sweep, out)
    _wait_for_parts(proc, out, 4)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.communicate()
    assert not (out / "results.parquet").exists()
    kept = 0
    for part in (out / "parts").glob("part-*.parquet"):
        kept += pq.read_table(part).num_rows  # every visible part is whole
    assert 0 < kept < 120

    resumed = run_sweep(sweep, out, workers=1)
    assert resumed.already_done == kept and resumed.ran == 120 - kept and resumed.complete
    assert _no_temporaries(out)

    run_sweep(sweep, tmp_path / "whole", workers=1)
    pd.testing.assert_frame_equal(_frame(out), _frame(tmp_path / "whole"))


def test_ctrl_c_stops_cleanly_and_keeps_finished_chunks(tmp_path: Path):
    sweep = _write(tmp_path, KILLABLE)
    out = tmp_path / "out"
    proc = _start(sweep, out)
    _wait_for_parts(proc, out, 2)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"run the same command again to resume" in err and b"Traceback" not in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert _no_temporaries(out)
    kept = sum(pq.read_table(p).num_rows for p in (out / "parts").glob("part-*.parquet"))
    assert kept > 0
    assert run_sweep(sweep, out, workers=1).ran == 120 - kept


# -- failures ------------------------------------------------------------------------------------
def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(grid_file: Path, tmp_path: Path, monkeypatch, capsys):
    bad_seed = replication_seeds(1, 3)[1]
    real = sweepchunks.run_kpis_once

    def flaky(scenario, seed):
        if seed == bad_seed and scenario.sales.teams[0].reps == 4:
            raise RuntimeError("model blew up")
        return real(scenario, seed)

    monkeypatch.setattr(sweepchunks, "run_kpis_once", flaky)
    out = tmp_path / "out"
    assert main(["sweep", str(grid_file), "--out", str(out), "--workers", "1"]) == 1
    assert "3 run(s) failed" in capsys.readouterr().err
    df = pd.read_parquet(out / "results.parquet")
    failed = df[df["status"] == "error"]
    assert len(failed) == 3 and (failed["reps"] == 4).all() and (failed["seed"] == bad_seed).all()
    assert failed["error"].str.startswith("RuntimeError: model blew up").all()
    assert failed["revenue"].isna().all() and df.loc[df["status"] == "ok", "revenue"].notna().all()
    summary = pd.read_parquet(out / "summary.parquet").set_index("point_id")
    assert summary["errors"].sum() == 3

    monkeypatch.setattr(sweepchunks, "run_kpis_once", real)
    assert run_sweep(grid_file, out).ran == 0  # errors are results; not retried unless asked
    retried = run_sweep(grid_file, out, retry_failed=True)
    assert retried.ran == 3 and retried.errors == 0
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == 27 and (df["status"] == "ok").all()


def test_a_point_whose_values_clash_is_recorded_as_errors(tmp_path: Path):
    clash = """\
    base: small.yaml
    parameters:
      - {path: 'marketing.channels[0].name', values: [x, y]}
      - {path: 'marketing.channels[1].name', values: [x, z]}
    """
    outcome = run_sweep(_write(tmp_path, clash), tmp_path / "out")
    df = outcome.results
    assert outcome.errors == 1 and len(df) == 4
    bad = df[df["status"] == "error"].iloc[0]
    assert (bad["marketing.channels[0].name"], bad["marketing.channels[1].name"]) == ("x", "x")
    assert "channel names must be unique" in bad["error"]


def test_star_in_a_path_stands_for_every_item(tmp_path: Path):
    explicit = load_sweep(_write(tmp_path, GRID))
    star = GRID.replace(
        "path:\n      - marketing.channels[0].targeting\n      - marketing.channels[1].targeting\n",
        "path: marketing.channels[*].targeting\n",
    )
    assert star != GRID
    wild = load_sweep(_write(tmp_path, star + "set:\n  sales.teams[*].selling_share: 0.4\n", "star.yaml"))
    assert wild.parameters[1].paths == explicit.parameters[1].paths
    assert wild.parameters[1].paths == (
        ("marketing", "channels", 0, "targeting"),
        ("marketing", "channels", 1, "targeting"),
    )
    assert wild.base_doc["sales"]["teams"][0]["selling_share"] == 0.4


# -- bad files -----------------------------------------------------------------------------------
BAD = [
    ("parameters:\n  - {path: 'sales.teams[0].repz', values: [1]}\n", 3, "unknown field 'repz'", "did you mean 'reps'"),
    ("parameters:\n  - {path: 'sales.teams[3].reps', values: [1]}\n", 3, "index 3 is out of range", ""),
    ("parameters:\n  - path: sales.teams[0].reps\n    values: [2, -1]\n", 4, "must be at least 0 (got -1)", "[1]"),
    ("parameters:\n  - {path: 'marketing.mql_threshold', range: [0.2, 1.5], steps: 3}\n", 3, "at most 1", ""),
    ("parameters:\n  - {path: 'sales.teams[0].reps', range: [1, 9]}\n", 3, "needs 'steps'", ""),
    (
        "sampler: sobol\nsamples: 12\nparameters:\n  - {path: 'sales.teams[0].reps', range: [1, 9]}\n",
        3,
        "power of 2",
        "",
    ),
    (
        "parameters:\n  - {path: 'sales.teams[0].reps', values: [1]}\nkpis: [revenu]\n",
        4,
        "unknown KPI 'revenu'",
        "'revenue'",
    ),
    ("parameters:\n  - {path: 'sales.teams[0]', values: [1]}\n", 3, "is a group of fields", ""),
    ("parameters:\n  - {path: 'sales.routing', values: [pool, bogus]}\n", 3, "expected one of", "bogus"),
    ("replications: 0\nparameters:\n  - {path: 'sales.teams[0].reps', values: [1]}\n", 2, "must be at least 1", ""),
    (
        "samplr: grid\nparameters:\n  - {path: 'sales.teams[0].reps', values: [1]}\n",
        2,
        "unknown field 'samplr'",
        "sampler",
    ),
    ("parameters:\n  - {path: sales.teams[0].reps, values: [1]}\n", 3, "invalid YAML", "quote field paths"),
    ("parameters:\n  - {path: 'sales.routing[*]', values: [1]}\n", 3, "sales.routing is not a list", "[*]"),
    (
        "parameters:\n  - {path: 'marketing.channels[*].targeting', range: [0, 1.5], steps: 2}\n",
        3,
        "marketing.channels[1].targeting = 1.5: must be at most 0.95",
        "",
    ),
    (
        "parameters:\n  - {path: 'marketing.channels[*].targeting', values: [0.1]}\n"
        "  - {path: 'marketing.channels[1].targeting', values: [0.2]}\n",
        4,
        "marketing.channels[1].targeting is already set by parameters[0]",
        "",
    ),
    (
        "set:\n  sales.teams[0].reps: -3\nparameters:\n  - {path: 'sales.routing', values: [pool]}\n",
        3,
        "at least 0",
        "",
    ),
]


@pytest.mark.parametrize(("body", "line", "message", "also"), BAD)
def test_bad_sweep_files_get_file_line_errors(tmp_path: Path, body: str, line: int, message: str, also: str):
    path = _write(tmp_path, "base: small.yaml\n" + body)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    text = str(info.value)
    assert f"sweep.yaml:{line}:" in text and message in text and also in text, text


def test_bad_sweep_file_exits_2_before_running_anything(tmp_path: Path, capsys):
    path = _write(tmp_path, "base: nowhere.yaml\nparameters:\n  - {path: 'sales.teams[0].reps', values: [1]}\n")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "sweep.yaml:1: base: cannot find 'nowhere.yaml'" in err and "Traceback" not in err
    assert not out.exists()
