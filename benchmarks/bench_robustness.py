"""Wall time of `compare --robustness` against the plain compare, side by side, and their ratio.

    python benchmarks/bench_robustness.py                     # lead_strategy.yaml, 10 replications, 2 workers
    python benchmarks/bench_robustness.py --replications 10 --workers 2 --repeats 2

Each measurement runs `funnelsim compare` end to end in a fresh process (start-up, pool start,
the runs, statistics), as a user would; the best of `--repeats` is kept, and the two commands
alternate so that a busy spell of the machine does not fall on one of them only. Target: the
robustness run takes at most 12x the plain compare (it reruns the comparison under about a dozen
assumption sets). The plain part of both must agree: this script checks the differences match.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "lead_strategy.yaml"
TARGET = 12.0


def one(replications: int, workers: int, robust: bool) -> tuple[float, dict]:
    cmd = [sys.executable, "-m", "funnelsim.cli", "compare", str(SCENARIO)]
    cmd += ["--replications", str(replications), "--workers", str(workers), "--json"]
    cmd += ["--robustness"] if robust else []
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return time.perf_counter() - start, json.loads(done.stdout)


def load() -> str:
    try:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(f"compare {SCENARIO.relative_to(ROOT)}: {args.replications} replications, {args.workers} workers")
    print(f"cores available: {len(os.sched_getaffinity(0))}; {load()} before")
    plain, robust = [], []
    for _ in range(args.repeats):
        t, doc_plain = one(args.replications, args.workers, False)
        plain.append(t)
        t, doc_robust = one(args.replications, args.workers, True)
        robust.append(t)
    assert doc_plain["differences"] == doc_robust["differences"], "the plain comparison changed under --robustness"
    sets = len({c["assumption"] for c in doc_robust["robustness"]})
    a, b = min(plain), min(robust)
    print(f"{'compare':<24} {a:8.1f} s")
    print(f"{'compare --robustness':<24} {b:8.1f} s   ({sets} assumption sets)")
    verdict = "within" if b / a <= TARGET else "OVER"
    print(f"{'ratio':<24} {b / a:8.1f} x   ({verdict} the target of {TARGET:g}x); {load()} after")


if __name__ == "__main__":
    main()
