"""`funnelsim calibrate` killed mid-run (SIGKILL, workers and all), then run again: it resumes from
its journal and ends with exactly what an uninterrupted run at the same seed gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from funnelsim.calibrate.layouts import write_export
from funnelsim.calibrate.synthetic import simulate_export
from funnelsim.scenario.loader import load_scenario

BUDGET = 40  # 5 generations of 8


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    truth = load_scenario("scenarios/baseline.yaml", ["horizon_weeks=10", "sales.teams[0].reps=20"])
    truth = truth.model_copy(update={"seed": 5})
    write_export(simulate_export(truth, 5), "salesforce", folder)
    return folder


def command(data, out) -> list[str]:
    return [
        sys.executable,
        "-m",
        "funnelsim.cli",
        "calibrate",
        str(data),
        "--map",
        "salesforce",
        "--out",
        str(out),
        "--budget",
        str(BUDGET),
        "--workers",
        "2",
        "--seed",
        "3",
    ]


def journal_lines(out) -> int:
    path = out / "abc_journal.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def test_a_killed_calibration_resumes_to_the_uninterrupted_result(export, tmp_path):
    whole = subprocess.run(command(export, tmp_path / "whole"), capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr[-2000:]

    cut = tmp_path / "cut"
    live = subprocess.Popen(
        command(export, cut), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 300
    while journal_lines(cut) < BUDGET // 2 and time.monotonic() < deadline and live.poll() is None:
        time.sleep(0.05)
    assert live.poll() is None, "finished before it could be killed"
    os.killpg(live.pid, signal.SIGKILL)  # no clean-up at all: the process and its workers
    live.wait(30)
    done = journal_lines(cut)
    assert 0 < done < BUDGET and not (cut / "posterior.parquet").exists()

    again = subprocess.run(command(export, cut), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "read back from the journal" in again.stdout
    pd.testing.assert_frame_equal(
        pd.read_parquet(cut / "posterior.parquet"),
        pd.read_parquet(tmp_path / "whole" / "posterior.parquet"),
        check_exact=True,
    )
    assert (cut / "calibrated.yaml").read_text() == (tmp_path / "whole" / "calibrated.yaml").read_text()
