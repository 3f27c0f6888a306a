"""The default work policy's cost: one baseline year under pipeline_first against fifo, side by side.

    python benchmarks/bench_policy.py [--runs N] [--seed S]

Runs alternate (fifo, pipeline_first, fifo, ...) in one process, so both see the same machine
load. Prints each policy's median seconds a run and the ratio; the target is at most 1.15x.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
TARGET = 1.15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scenarios = {p: load_scenario(BASELINE, [f"sales.prioritisation={p}"]) for p in ("fifo", "pipeline_first")}
    FunnelModel(scenarios["fifo"], rng=args.seed, horizon_weeks=2).run()  # warm imports and caches
    seconds: dict[str, list[float]] = {p: [] for p in scenarios}
    for _ in range(args.runs):
        for policy, scenario in scenarios.items():
            start = time.perf_counter()
            FunnelModel(scenario, rng=args.seed).run()
            seconds[policy].append(time.perf_counter() - start)
    for policy, times in seconds.items():
        print(f"{policy:15s} median {statistics.median(times):.3f} s  (min {min(times):.3f}, max {max(times):.3f})")
    ratio = statistics.median(seconds["pipeline_first"]) / statistics.median(seconds["fifo"])
    print(f"pipeline_first / fifo: {ratio:.2f}x  (target <= {TARGET:.2f}x: {'met' if ratio <= TARGET else 'MISSED'})")


if __name__ == "__main__":
    main()
