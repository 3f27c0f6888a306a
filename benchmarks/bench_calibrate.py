"""A full calibration of a 12-month, ~50,000-lead export, and how it scales with workers.

    python benchmarks/bench_calibrate.py [--budget RUNS] [--scaling-budget RUNS] [--skip-scaling]

The export is a funnelsim run of the baseline with twice its leads and reps (52 weeks, about
52,000 leads), written in the Salesforce layout (not timed). Then `funnelsim calibrate` runs as a
user would run it, in a child process: once with the default budget on every core (the target:
at most 15 minutes on 2 cores), and, for the scaling, with a smaller budget on 1 and on 2
workers. Prints the wall time and how it splits between reading, direct estimation, the
simulation-based part, the check runs and the backtest (from calibration.json).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 15 * 60


def make_export(folder: Path) -> int:
    from funnelsim.calibrate.layouts import write_export
    from funnelsim.calibrate.synthetic import simulate_export
    from funnelsim.scenario.loader import load_scenario

    sets = [f"marketing.channels[{i}].leads_per_week={v}" for i, v in enumerate((500, 300, 200))]
    sets += ["sales.teams[0].reps=80", "marketing.budget_per_month=400000"]
    crm = simulate_export(load_scenario(ROOT / "scenarios" / "baseline.yaml", sets), 2026)
    write_export(crm, "salesforce", folder)
    return len(crm.leads)


def calibrate(data: Path, out: Path, budget: int, workers: int, holdout: int | None) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "funnelsim.cli", "calibrate", str(data), "--map", "salesforce"]
    cmd += ["--out", str(out), "--budget", str(budget), "--workers", str(workers)]
    if holdout:
        cmd += ["--holdout-weeks", str(holdout)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"calibrate failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall, json.loads((out / "calibration.json").read_text())["timing_s"]


def show(label: str, wall: float, timing: dict) -> None:
    parts = ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in timing.items())
    other = wall - sum(timing.values())
    print(f"{label}: {wall:.1f} s wall ({parts}, reading + writing + start-up {other:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=500, help="the full run's budget (default: the default, 500)")
    parser.add_argument("--scaling-budget", type=int, default=100)
    parser.add_argument("--skip-scaling", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "export"
        leads = make_export(data)
        print(f"export: {leads:,} leads over 52 weeks, Salesforce layout")
        wall, timing = calibrate(data, Path(tmp) / "full", args.budget, 2, holdout=8)
        show(f"full calibration, budget {args.budget}, 2 workers, --holdout-weeks 8", wall, timing)
        verdict = "met" if wall <= TARGET_S else "MISSED"
        print(f"target: at most {TARGET_S / 60:.0f} min on 2 cores: {wall / 60:.1f} min, {verdict}")
        if args.skip_scaling:
            return
        walls = {}
        for workers in (1, 2):
            walls[workers], timing = calibrate(data, Path(tmp) / f"w{workers}", args.scaling_budget, workers, None)
            show(f"budget {args.scaling_budget}, {workers} worker(s)", walls[workers], timing)
        print(f"scaling: 2 workers {walls[1] / walls[2]:.2f}x faster than 1")


if __name__ == "__main__":
    main()
