"""Wall time, simulated leads per second and peak memory of one-year runs at three sizes.

    python benchmarks/bench_run.py            # baseline, 10x, 100x
    python benchmarks/bench_run.py --sizes 1 10

Each size runs in a fresh subprocess so its peak RSS is its own. Targets (2-core machine):
baseline <= 1 s (stretch 0.3 s); 10x <= 12x the baseline's time; 100x peak RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(scale: int, repeats: int) -> dict:
    from funnelsim.model.model import FunnelModel
    from funnelsim.scenario.loader import load_scenario

    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    leads = sum(c.leads_per_week for c in base.marketing.channels) * scale
    reps = sum(t.reps for t in base.sales.teams) * scale
    budget = base.marketing.budget_per_month
    doc = base.model_dump(by_alias=True)
    doc["marketing"]["budget_per_month"] = None if budget is None else budget * scale
    scenario = type(base).model_validate(doc)
    times, created = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        model = FunnelModel(scenario, rng=1, leads_per_week=leads, reps=reps).run()
        times.append(time.perf_counter() - start)
        created = model.leads_created
    best = min(times)
    return {
        "scale": scale,
        "reps": reps,
        "leads_per_week": leads,
        "seconds": best,
        "leads": created,
        "leads_per_second": created / best,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size below 100x (best is kept)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one(args.child, args.repeats)))
        return
    rows = []
    for scale in args.sizes:
        repeats = args.repeats if scale < 100 else 1
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(scale), "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(
            f"{scale:>4}x  reps {r['reps']:>5}  leads/week {r['leads_per_week']:>7.0f}  "
            f"wall {r['seconds']:7.2f} s  leads {r['leads']:>9,}  {r['leads_per_second']:>9,.0f} leads/s  "
            f"peak RSS {r['peak_rss_mb']:7.0f} MB",
            flush=True,
        )
    by = {r["scale"]: r for r in rows}
    if 1 in by and 10 in by:
        ratio = by[10]["seconds"] / by[1]["seconds"]
        print(f"10x / baseline time: {ratio:.1f}x (target <= 12x)")
    if 1 in by:
        print(f"baseline: {by[1]['seconds']:.2f} s (target <= 1 s, stretch 0.3 s)")
    if 100 in by:
        print(f"100x peak RSS: {by[100]['peak_rss_mb']:.0f} MB (target <= 2048 MB)")


if __name__ == "__main__":
    main()
