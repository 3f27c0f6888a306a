"""Wall time of comparing the two lead-strategy variants, and the speed-up from 1 to 2 workers.

    python benchmarks/bench_compare.py                  # 30 replications each, 1 and 2 workers
    python benchmarks/bench_compare.py --workers 1 2 --replications 30 --repeats 2

Each measurement runs `funnelsim compare` end to end in a fresh process (start-up, pool start,
the runs, statistics), as a user would; the best of `--repeats` is kept. Targets on a 2-core
machine: <= 30 s for 30 replications per strategy, speed-up >= 1.8x from 1 to 2 workers. The
results must not depend on the worker count; this script checks that the JSON documents match.
With 1 worker the CPU seconds of the command are printed too: on a busy machine, wall time above
them is time lost to other processes (the workers of a pool are not counted that way).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "lead_strategy.yaml"


def one(workers: int, replications: int) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the command and its workers) and the JSON it printed."""
    cmd = [sys.executable, "-m", "funnelsim.cli", "compare", str(SCENARIO)]
    cmd += ["--replications", str(replications), "--workers", str(workers), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def load() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1, help="measurements per worker count (best is kept)")
    args = parser.parse_args()

    print(f"compare {SCENARIO.relative_to(ROOT)}: 2 strategies x {args.replications} replications")
    print(f"cores available: {len(os.sched_getaffinity(0))}; {load()} before")
    times: dict[int, float] = {}
    docs: dict[int, str] = {}
    for w in args.workers:
        runs = [one(w, args.replications) for _ in range(args.repeats)]
        best = min(runs)
        times[w] = best[0]
        docs[w] = best[2]
        walls = ", ".join(f"{t:.1f}" for t, _, _ in runs)
        # with 1 worker every run is in the command's own process, so its CPU time is the work itself
        cpu = f", {best[1]:.1f} s CPU" if w == 1 else ""
        print(f"  {w} worker(s): {best[0]:6.1f} s wall{cpu}   (all: {walls})")
    first = args.workers[0]
    for w in args.workers[1:]:
        print(f"speed-up {first} -> {w} workers: {times[first] / times[w]:.2f}x")
    same = len({docs[w] for w in args.workers}) == 1
    print(f"identical results for every worker count: {'yes' if same else 'NO'}")
    print(f"{load()} after")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
