"""The execution layer: same results in this process, on local processes and on Dask; failures and Ctrl-C."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from funnelsim.errors import RunFailed
from funnelsim.experiment.compare import Target, compare, compare_until
from funnelsim.experiment.executors import InProcess, Interrupted, LocalProcesses, dask_executor, open_executor
from funnelsim.experiment.runner import simulate
from funnelsim.model.levers import apply_levers
from tests.helpers import as_from_a_terminal, baseline

ROOT = Path(__file__).resolve().parents[2]


def small(**over):
    return baseline(horizon_weeks=6, **over)


def square(x: int) -> int:
    return x * x


def fail_on_three(x: int) -> int:
    if x == 3:
        raise RuntimeError("three is right out")
    return x


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as client:
        yield client


def executors(dask_client):
    return {"in process": InProcess(), "2 processes": LocalProcesses(2), "dask": dask_executor(dask_client)}


# -- the interface -------------------------------------------------------------------------------
@pytest.mark.parametrize("chunk_size", [1, 3])
def test_map_returns_results_in_task_order_with_progress(dask_client, chunk_size):
    tasks = [(i,) for i in range(10)]
    for kind, ex in executors(dask_client).items():
        ticks = []
        with ex:
            assert ex.map(square, tasks, ticks.append, chunk_size=chunk_size) == [i * i for i in range(10)], kind
        assert sum(ticks) == 10, kind


def test_a_task_that_raises_in_a_worker_is_one_run_failed(dask_client):
    for kind, ex in executors(dask_client).items():
        with pytest.raises(RunFailed) as info, ex:
            ex.map(fail_on_three, [(i,) for i in range(6)], describe=lambda i: f"run #{i}")
        message = str(info.value)
        assert message.startswith("run #3 failed: RuntimeError: three is right out"), (kind, message)
        assert "test_executors.py" in message and "\n" not in message, kind


def test_interrupt_keeps_the_finished_results():
    def stop_at_four(x):
        if x == 4:
            raise KeyboardInterrupt
        return x

    with pytest.raises(Interrupted) as info, InProcess() as ex:
        ex.map(stop_at_four, [(i,) for i in range(8)])
    assert info.value.finished == {i: i for i in range(4)}


def test_open_executor_picks_by_workers_and_tasks():
    with open_executor(1) as ex:
        assert isinstance(ex, InProcess)
    with open_executor(4, tasks=1) as ex:
        assert isinstance(ex, InProcess)  # one run is not worth a pool
    with open_executor(2) as ex:
        assert isinstance(ex, LocalProcesses) and ex.slots() == 2
    mine = InProcess()
    with open_executor(8, executor=mine) as ex:
        assert ex is mine


# -- identical results everywhere -----------------------------------------------------------------
def test_simulate_is_identical_in_process_on_processes_and_on_dask(dask_client):
    scenario = small()
    seq = simulate(scenario, seed=3, replications=4, workers=1)
    two = simulate(scenario, seed=3, replications=4, workers=2)
    dask = simulate(scenario, seed=3, replications=4, executor=dask_executor(dask_client))
    for other in (two, dask):
        pd.testing.assert_frame_equal(seq.kpis, other.kpis)
        pd.testing.assert_frame_equal(seq.timeseries, other.timeseries)
        pd.testing.assert_frame_equal(seq.reps, other.reps)


def test_compare_is_identical_in_process_on_processes_and_on_dask(dask_client):
    a = small()
    b = apply_levers(a, reps=a.sales.teams[0].reps + 5)
    docs = [
        compare({"a": a, "b": b}, replications=4, workers=1).document(),
        compare({"a": a, "b": b}, replications=4, workers=2).document(),
        compare({"a": a, "b": b}, replications=4, executor=dask_executor(dask_client)).document(),
    ]
    assert json.dumps(docs[0]) == json.dumps(docs[1]) == json.dumps(docs[2])


def test_compare_until_stops_at_the_same_size_for_any_workers(dask_client):
    a = small()
    b = apply_levers(a, reps=a.sales.teams[0].reps + 5)
    target = Target("revenue", 0.02)
    one = compare_until({"a": a, "b": b}, target, start=4, max_replications=12, workers=1)
    dask = compare_until({"a": a, "b": b}, target, 4, 12, executor=dask_executor(dask_client))
    assert one.replications == dask.replications
    assert json.dumps(one.document()) == json.dumps(dask.document())


def test_the_scheduler_option_runs_on_a_cluster(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    from funnelsim.cli import main

    args = ["run", str(ROOT / "scenarios/baseline.yaml"), "-r", "2", "--set", "horizon_weeks=4", "--json"]
    assert main([*args, "-w", "1"]) == 0
    local = json.loads(capsys.readouterr().out)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=":0") as c:
        assert main([*args, "--scheduler", c.scheduler_address]) == 0
    assert json.loads(capsys.readouterr().out) == local
    assert main([*args, "-w", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "with --scheduler the cluster's workers are used" in capsys.readouterr().err


# -- Ctrl-C ----------------------------------------------------------------------------------------
def _session_processes(sid: int) -> list[int]:
    """Processes still alive in session `sid` (workers, the fork server, the resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields: state ppid pgrp session
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_during_compare_exits_130_without_traceback_or_leftover_workers(tmp_path):
    cmd = [sys.executable, "-m", "funnelsim.cli", "compare", str(ROOT / "scenarios/lead_strategy.yaml")]
    cmd += ["-r", "200", "-w", "2", "--set", "horizon_weeks=20"]  # far more than the second it gets
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        cmd,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=as_from_a_terminal,
    )
    deadline = time.monotonic() + 60
    while len(_session_processes(proc.pid)) < 4:  # parent, fork server, two workers
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    time.sleep(1.0)  # mid-way: workers busy with runs
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err and b"interrupted" in err
    deadline = time.monotonic() + 10
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session_processes(proc.pid) == []


# -- scripts: worker processes re-run a script's top level ----------------------------------------
UNGUARDED = {
    "simulate": "s = funnelsim.load_scenario({path!r}, ['horizon_weeks=2'])\n"
    "funnelsim.simulate(s, replications=2, workers=2)\n",
    "compare": "s = funnelsim.load_scenario({path!r}, ['horizon_weeks=2'])\n"
    "funnelsim.compare({{'a': s, 'b': s}}, replications=2, workers=2)\n",
}


@pytest.mark.parametrize("call", sorted(UNGUARDED))
def test_a_script_without_the_main_guard_fails_at_once_naming_the_fix(tmp_path, call):
    script = tmp_path / "analysis.py"
    script.write_text("import funnelsim\n\n" + UNGUARDED[call].format(path=str(ROOT / "scenarios" / "baseline.yaml")))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1
    assert last.startswith("funnelsim.errors.UsageError: analysis.py:4 starts 2 worker processes"), last
    assert 'if __name__ == "__main__":' in last
    assert "BrokenProcessPool" not in done.stderr and done.stderr.count("Traceback") == 1  # no worker started


def test_the_main_guard_is_found_around_the_calling_line():
    from funnelsim.experiment.executors import _under_main_guard

    tree = ast.parse("import x\n\ndef main():\n    x.run()\n\nif __name__ == '__main__':\n    main()\nx.run()\n")
    assert _under_main_guard(tree, 7)
    assert not _under_main_guard(tree, 8) and not _under_main_guard(tree, 4)
