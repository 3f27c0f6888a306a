"""Cost of people dynamics: the baseline year with every people feature off, then all on.

    python benchmarks/bench_people.py [--repeats 5]

Target: all of it on keeps the one-year baseline run within 1.3x of its time with it off.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from funnelsim.model.model import FunnelModel
from funnelsim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent
OFF = [
    "people.attrition.annual_rate=0",
    "sales.teams[0].ramp=null",
]
ON = [
    "people.attrition.annual_rate=0.3",
    "people.hiring.cohorts=[{week: 12, reps: 10}]",
    "people.hiring.rule={open_leads_per_rep_above: 30, max_headcount: 60}",
    "people.mentoring.enabled=true",
    "people.trust.enabled=true",
    "people.scruples.share_of_reps=0.2",
    "people.referrals.probability_per_deal=0.1",
    "alignment.level=0.5",
    "alignment.joint_training.every_weeks=8",
    "sales.teams[0].training={hours_per_week: 1}",
    "sales.teams[0].learning={max_skill_gain: 0.05}",
    "sales.teams[0].bootcamp={weeks: 1, cost_per_hire: 2000}",
]


def best_time(overrides: list[str], repeats: int) -> tuple[float, int]:
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model = FunnelModel(scenario, rng=1).run()
        times.append(time.perf_counter() - start)
    return min(times), model.leads_created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    best_time(OFF, 1)  # warm up imports and caches
    off, n_off = best_time(OFF, args.repeats)
    on, n_on = best_time(ON, args.repeats)
    print(f"people dynamics off: {off:.3f} s ({n_off:,} leads)")
    print(f"people dynamics on:  {on:.3f} s ({n_on:,} leads)")
    print(f"ratio on/off: {on / off:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
