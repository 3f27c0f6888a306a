"""Sweep benchmarks: parallel efficiency, sweep overhead, and parent memory against Mesa's batch_run.

    python benchmarks/bench_sweep.py                      # 1,000 baseline runs + memory at 100/1,000/10,000
    python benchmarks/bench_sweep.py --runs 100 --memory-runs 100,1000
    python benchmarks/bench_sweep.py --skip-speed         # memory only

Speed: the same runs (baseline-sized: 38-42 reps, ~500 leads a week, 52 weeks) three ways:
bare (a plain loop over FunnelModel(...).run() and run_kpis, scenarios built beforehand),
`run_sweep` with 1 worker (in this process) and with 2 worker processes.
  overhead   = sweep(1 worker) / bare - 1        (target <= 5%)
  efficiency = sweep(1 worker) / (2 x sweep(2)) (target >= 0.85)
Memory: peak RSS of the parent process for a sweep of N small runs (4 weeks, ~4 reps, 40 leads
a week) on 2 processes, and for Mesa's batch_run of the same runs on 2 processes; each in a
fresh interpreter, so peaks do not mix. For the sweep, also the largest RSS seen while runs were
going (sampled at each finished chunk), before the final compaction into results.parquet.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
REPS = [38, 39, 40, 41, 42]
SMALL_REPS = [3, 4, 5, 6]
SMALL = {"leads_per_week": 40, "horizon_weeks": 4}


def _sweep_file(folder: Path, base: Path, reps: list[int], replications: int, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nbase: {base}\nparameters:\n  - name: reps\n    path: sales.teams[0].reps\n"
        f"    values: {reps}\nreplications: {replications}\nseed: 11\n"
    )
    return path


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


class Busy:
    """CPU use while the block runs: the whole machine's, and this process tree's own.

    The machine is shared, so wall times can be inflated by other work. `cores` is how many cores
    the machine kept busy; `own_cpu` the CPU seconds of this process and its descendants (worker
    processes are sampled every 0.2 s, as they are not our direct children); `foreign_cores` is the
    difference, what others used meanwhile.
    """

    def __enter__(self):
        import psutil

        self._me = psutil.Process()
        self._start_jiffies = _cpu_jiffies()
        self._start_self = self._cpu(self._me)
        self._seen: dict[int, float] = {}
        self._start_seen = {p.pid: self._cpu(p) for p in self._descendants()}
        self._t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _cpu(proc) -> float:
        try:
            t = proc.cpu_times()
            return t.user + t.system
        except Exception:  # noqa: BLE001 - gone already
            return 0.0

    def _descendants(self):
        try:
            return self._me.children(recursive=True)
        except Exception:  # noqa: BLE001
            return []

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for proc in self._descendants():
                cpu = self._cpu(proc)
                if cpu:
                    self._seen[proc.pid] = max(cpu, self._seen.get(proc.pid, 0.0))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.wall = time.perf_counter() - self._t0
        busy, total = (b - a for a, b in zip(self._start_jiffies, _cpu_jiffies(), strict=True))
        self.cores = (os.cpu_count() or 1) * busy / max(total, 1)
        children = sum(cpu - self._start_seen.get(pid, 0.0) for pid, cpu in self._seen.items())
        self.own_cpu = self._cpu(self._me) - self._start_self + children
        self.foreign_cores = max(0.0, self.cores - self.own_cpu / self.wall)


def _line(label: str, seconds: float, n: int, cores: float, expected: int) -> str:
    rate = f"{n / seconds:.2f} runs/s"
    return f"  {label:<18} {seconds:8.1f} s  ({rate}; machine busy {cores:.2f} of {expected} expected cores)"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def peak_rss_mb() -> float:
    """Peak resident memory of this process. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    from the parent across fork and exec, so a child would report its parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- speed -----------------------------------------------------------------------------------------
def bench_speed(runs: int, folder: Path) -> dict:
    from funnelsim.experiment.parameters import apply_values
    from funnelsim.experiment.sweep import plan, run_sweep
    from funnelsim.experiment.sweepchunks import run_kpis_once
    from funnelsim.experiment.sweepfile import load_sweep
    from funnelsim.scenario.schema import Scenario

    replications = max(1, runs // len(REPS))
    sweep_path = _sweep_file(folder, BASELINE, REPS, replications, "speed")
    sweep = load_sweep(sweep_path)
    p = plan(sweep)
    paths = [param.paths for param in sweep.parameters]
    scenarios = {v: Scenario.model_validate(apply_values(sweep.base_doc, paths, v)) for v in p.design.points}
    n = len(p.runs)
    print(f"speed: {n} baseline-sized runs", flush=True)

    busy = {}
    t0 = time.perf_counter()
    with Busy() as busy["bare"]:
        for r in p.runs:
            run_kpis_once(scenarios[r.values], r.seed)
    bare = time.perf_counter() - t0
    print(_line("bare loop", bare, n, busy["bare"].cores, 1), flush=True)

    t0 = time.perf_counter()
    with Busy() as busy["one"]:
        one = run_sweep(sweep, folder / "w1", workers=1)
    t1 = time.perf_counter() - t0
    print(_line("sweep, 1 worker", t1, n, busy["one"].cores, 1), flush=True)

    t0 = time.perf_counter()
    with Busy() as busy["two"]:
        two = run_sweep(sweep, folder / "w2", workers=2)
    t2 = time.perf_counter() - t0
    print(_line("sweep, 2 workers", t2, n, busy["two"].cores, 2), flush=True)

    same = one.results.drop(columns="seconds").equals(two.results.drop(columns="seconds"))
    in_runs = float(one.results["seconds"].sum())
    figures = {
        "runs": n,
        "bare_s": bare,
        "sweep_1_worker_s": t1,
        "sweep_2_workers_s": t2,
        "overhead": t1 / bare - 1,
        "overhead_vs_run_time_inside_sweep": t1 / in_runs - 1,
        "efficiency_1_to_2": t1 / (2 * t2),
        "efficiency_bare_to_2": bare / (2 * t2),
        "identical_results": bool(same),
        "machine_busy_cores": {k: round(v.cores, 2) for k, v in busy.items()},
        "foreign_busy_cores": {k: round(v.foreign_cores, 2) for k, v in busy.items()},
        "cpu_s": {k: round(v.own_cpu, 1) for k, v in busy.items()},
        # CPU-based figures, robust to other work on a shared machine:
        "overhead_cpu": busy["one"].own_cpu / busy["bare"].own_cpu - 1,
    }
    print(
        f"  CPU seconds: bare {busy['bare'].own_cpu:.0f}, sweep 1 worker {busy['one'].own_cpu:.0f}, "
        f"sweep 2 workers {busy['two'].own_cpu:.0f} (parent + workers); "
        f"others used {busy['bare'].foreign_cores:.2f} / {busy['one'].foreign_cores:.2f} / "
        f"{busy['two'].foreign_cores:.2f} cores meanwhile",
        flush=True,
    )
    print(
        f"  overhead by CPU time {figures['overhead_cpu']:+.1%}; sweep wall time over its runs' own time "
        f"{figures['overhead_vs_run_time_inside_sweep']:+.1%}",
        flush=True,
    )
    print(
        f"  overhead {figures['overhead']:+.1%} (target <= 5%), "
        f"parallel efficiency 1->2 workers {figures['efficiency_1_to_2']:.3f} (target >= 0.85), "
        f"identical results: {same}",
        flush=True,
    )
    return figures


# -- memory ----------------------------------------------------------------------------------------
def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def child_sweep(n: int, folder: Path) -> dict:
    from funnelsim.experiment.sweep import run_sweep
    from funnelsim.model.levers import apply_levers
    from funnelsim.scenario.defaults import default_scenario

    base = folder / "small.json"  # JSON is YAML
    base.write_text(json.dumps(apply_levers(default_scenario(), **SMALL).model_dump(mode="json")))
    path = _sweep_file(folder, base, SMALL_REPS, n // len(SMALL_REPS), f"mem{n}")
    during = [_rss_mb()]
    t0 = time.perf_counter()
    outcome = run_sweep(path, folder / f"mem{n}", workers=2, progress=lambda _n: during.append(_rss_mb()))
    seconds = time.perf_counter() - t0
    return {"runs": outcome.total, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "during_runs_mb": max(during)}


def child_batch_run(n: int, folder: Path) -> dict:
    import mesa

    from funnelsim.model.model import FunnelModel

    seeds = list(range(n // len(SMALL_REPS)))
    t0 = time.perf_counter()
    results = mesa.batch_run(
        FunnelModel,
        parameters={"reps": SMALL_REPS, **SMALL},
        rng=seeds,
        number_processes=2,
        data_collection_period=-1,
        max_steps=10_000,
        display_progress=False,
    )
    return {"runs": len(results), "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def bench_memory(sizes: list[int], folder: Path) -> list[dict]:
    rows = []
    print("memory: parent peak RSS, small runs on 2 processes", flush=True)
    head = f"  {'runs':>6}  {'sweep s':>8}  {'sweep MB':>8}  {'(during runs)':>13}"
    head += f"  {'batch_run s':>11}  {'batch_run MB':>12}"
    print(head, flush=True)
    for n in sizes:
        row = {"runs": n}
        for kind in ("sweep", "batch_run"):
            cmd = [sys.executable, __file__, "--child", kind, "--n", str(n), "--dir", str(folder)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            row[f"{kind}_s"], row[f"{kind}_peak_mb"] = got["seconds"], got["peak_rss_mb"]
            if "during_runs_mb" in got:
                row["sweep_during_runs_mb"] = got["during_runs_mb"]
        rows.append(row)
        print(
            f"  {n:>6}  {row['sweep_s']:>8.1f}  {row['sweep_peak_mb']:>8.0f}  {row['sweep_during_runs_mb']:>13.0f}  "
            f"{row['batch_run_s']:>11.1f}  {row['batch_run_peak_mb']:>12.0f}",
            flush=True,
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1000, help="baseline runs for the speed figures")
    ap.add_argument("--memory-runs", default="100,1000,10000", help="comma-separated sweep sizes for memory")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", choices=["sweep", "batch_run"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = child_sweep if args.child == "sweep" else child_batch_run
        print(json.dumps(fn(args.n, args.dir)))
        return
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {_load()}", flush=True)
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as tmp:
        folder = Path(tmp)
        if not args.skip_speed:
            figures["speed"] = bench_speed(args.runs, folder)
        if not args.skip_memory:
            figures["memory"] = bench_memory([int(x) for x in args.memory_runs.split(",")], folder)
    print(f"load average at the end {_load()} (other work on the machine inflates wall times)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
