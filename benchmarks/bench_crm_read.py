"""Wall time and peak memory of reading a 1,000,000-row Salesforce export into the canonical tables.

    python benchmarks/bench_crm_read.py                 # 500k leads, 100k opportunities, 50k history, 350k tasks
    python benchmarks/bench_crm_read.py --scale 0.1     # a tenth of that

The export is generated once into a temporary folder (not timed); the read runs in a fresh
subprocess so its peak RSS is its own. Targets (2-core machine): <= 60 s and <= 2 GB peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(folder: Path, scale: float) -> int:
    import numpy as np
    import pandas as pd

    from funnelsim.calibrate.canonical import CrmData, dtype
    from funnelsim.calibrate.layouts import write_export

    rng = np.random.default_rng(1)
    n_leads, n_opps, n_hist, n_acts, n_reps = (int(x * scale) for x in (500_000, 100_000, 50_000, 350_000, 200))
    start = pd.Timestamp("2025-01-01").value
    year = 365 * 86_400 * 10**9

    def times(n: int, base=None, spread: int = year):
        base = start if base is None else base
        return pd.to_datetime(base + rng.integers(0, spread, n) // 10**9 * 10**9)

    def frame(columns: dict) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(v, dtype=dtype(c)) for c, v in columns.items()})

    reps = np.array([f"005{i:012d}" for i in range(n_reps)], dtype=object)
    lead_ids = np.char.add("00Q", np.char.zfill(np.arange(n_leads).astype(str), 12)).astype(object)
    opp_ids = np.char.add("006", np.char.zfill(np.arange(n_opps).astype(str), 12)).astype(object)
    created = times(n_leads)
    day = 86_400 * 10**9
    leads = frame(
        {
            "lead_id": lead_ids,
            "created": created,
            "channel": rng.choice(["Web", "Trade Show", "Partner", "Email", "Referral"], n_leads),
            "owner": rng.choice(reps, n_leads),
            "first_contact": pd.Series(created + pd.to_timedelta(rng.integers(60, 86_400, n_leads), "s")).where(
                rng.random(n_leads) < 0.7
            ),
            "mql_time": pd.Series(created + pd.Timedelta(days=1)).where(rng.random(n_leads) < 0.4),
            "sql_time": pd.Series((created + pd.Timedelta(days=2)).normalize()).where(np.arange(n_leads) < n_opps),
            "opp_id": pd.Series(np.concatenate([opp_ids, np.full(n_leads - n_opps, None, dtype=object)])),
        }
    )
    opp_created = pd.Series(created[:n_opps] + pd.Timedelta(days=2))
    with_history = n_hist // 2
    outcome = rng.choice(["won", "lost", "open"], n_opps, p=[0.25, 0.45, 0.3])
    outcome[:with_history] = "open"
    stage = np.where(outcome == "open", "discovery", None).astype(object)
    stage[:with_history] = "proposal"
    close = (opp_created + pd.to_timedelta(rng.integers(1, 120, n_opps), "D")).dt.normalize()
    opps = frame(
        {
            "opp_id": opp_ids,
            "lead_id": lead_ids[:n_opps],
            "created": opp_created,
            "amount": rng.lognormal(10, 0.8, n_opps).round(2),
            "close_time": close.where(outcome != "open"),
            "outcome": outcome,
            "stage": stage,
            "owner": rng.choice(reps, n_opps),
        }
    )
    hist_opp = np.repeat(opp_ids[:with_history], 2)
    first = opp_created[:with_history].to_numpy()
    entered = np.empty(2 * with_history, dtype="datetime64[ns]")
    entered[0::2], entered[1::2] = first, first + np.timedelta64(5, "D")
    history = frame({"opp_id": hist_opp, "stage": np.tile(["discovery", "proposal"], with_history), "entered": entered})
    who = rng.integers(0, n_leads, n_acts)
    acts = frame(
        {
            "rep_id": rng.choice(reps, n_acts),
            "lead_id": lead_ids[who],
            "opp_id": pd.Series(np.where(who < n_opps, opp_ids[np.minimum(who, n_opps - 1)], None)),
            "time": pd.Series(created[who] + pd.to_timedelta(rng.integers(0, 30 * day, n_acts), "ns")).dt.floor("s"),
            "type": rng.choice(["call", "email", "meeting", "demo", "other"], n_acts),
        }
    )
    staff = frame({"rep_id": reps, "start": pd.Series(times(n_reps, spread=year).normalize()), "end": pd.NaT})
    crm = CrmData(
        leads,
        opps,
        ("qualify", "discovery", "proposal", "negotiation"),
        pd.Timestamp("2026-06-01"),
        history,
        acts,
        staff,
    )
    write_export(crm, "salesforce", folder)
    return crm.rows()


def child(folder: str) -> None:
    from funnelsim.calibrate.reader import read_export

    start = time.perf_counter()
    crm = read_export(folder, "salesforce")
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": crm.rows(), "peak_rss_mb": rss}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1,000,000-row export")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        begun = time.perf_counter()
        rows = generate(folder, args.scale)
        size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        print(f"generated {rows:,} rows ({size:.0f} MB of CSV) in {time.perf_counter() - begun:.0f} s (not timed)")
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(folder)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        peak = max(r["peak_rss_mb"], children)
        print(
            f"read_export: {r['rows']:,} rows  wall {r['seconds']:6.1f} s (target <= 60 s)  "
            f"peak RSS {peak:6.0f} MB (target <= 2048 MB)"
        )


if __name__ == "__main__":
    main()
