"""Every target of the engine work, side by side for two checkouts: before, after and their ratio.

    git worktree add ../before 26d301b && (cd ../before && python3 -m venv .venv && .venv/bin/pip install -q -e .)
    python benchmarks/bench_engine.py                                  # before=../before, after=this checkout
    python benchmarks/bench_engine.py --before A --after B --repeat 5
    python benchmarks/bench_engine.py --scale                          # also the 100x run (minutes)
    python benchmarks/bench_engine.py --only simulate replay           # a subset

Each checkout runs with its own `.venv/bin/python` (and `.venv/bin/funnelsim`) in a subprocess, from
its own folder, so imports come from that checkout. Measured:

  simulate  one-year baseline `funnelsim.simulate`, best of 3 seeds; the bare-loop floor of
            bench_floor.py is timed in the same process (target: after <= 2x floor)
  compare   `funnelsim compare scenarios/lead_strategy.yaml --replications 20 --workers 2`, whole
            command, best of --repeat, before and after alternating (target: after <= 0.55x before)
  replay    dashboard: the room reached week 51, a lever (reps + 5) moves, the models are rebuilt and
            replayed to that day; the rebuild and replay only, no drawing (target: after <= 0.6 s)
  scale     opt-in: 4,000 reps, 50,000 leads a week, one year through `simulate`: wall time and the
            child's peak RSS (target: <= 792 MB)
  help      `funnelsim --help`, whole command, best of 10, alternating (target: < 0.3 s)

Each measurement is isolated: one that fails prints its error and the rest go on. The load average
is printed at the start and the end; on a busy machine the figures are only indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASELINE = Path("scenarios") / "baseline.yaml"
PAIR = Path("scenarios") / "lead_strategy.yaml"
SCALE_REPS, SCALE_LEADS = 4000, 50_000
MEASURES = ("simulate", "compare", "replay", "scale", "help")


# -- in the child: runs with the checkout's own python, from the checkout's folder -------------------
def child_simulate(root: Path, seeds: list[int]) -> dict:
    sys.path.insert(0, str(HERE))
    from bench_floor import time_floor, time_simulate

    floor = [time_floor(s)[0] for s in seeds]
    sim = [time_simulate(root / BASELINE, s) for s in seeds]
    return {"seconds": min(sim), "all": sim, "floor": min(floor), "floor_all": floor}


def child_replay(root: Path, week: int, repeat: int) -> dict:
    try:
        from funnelsim.dashboard.session import Session
        from funnelsim.scenario.loader import load_variants
    except ImportError:
        return _replay_models_only(root, week, repeat)
    times = []
    for _ in range(repeat):
        session = Session(load_variants(root / BASELINE))
        session.workshop.advance_to(week * session.workshop.days_per_week)
        reps = session.lever_values()["reps"]
        start = time.perf_counter()
        session.set_lever("reps", reps + 5)
        done = session.catch_up(None)
        times.append(time.perf_counter() - start)
        assert done and session.workshop.day >= week * session.workshop.days_per_week
    return {"seconds": min(times), "all": times, "how": "Session.set_lever + catch_up"}


def _replay_models_only(root: Path, week: int, repeat: int) -> dict:
    """Fallback if the dashboard moved: rebuild a model with the lever moved and step it to the day."""
    import funnelsim

    scenario = funnelsim.load_scenario(root / BASELINE)
    reps = sum(t.reps for t in scenario.sales.teams)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model = funnelsim.FunnelModel(scenario, rng=scenario.seed, reps=reps + 5)
        for _ in range(week * scenario.calendar.days_per_week):
            model.step()
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "all": times, "how": "FunnelModel rebuilt and stepped (no Session)"}


def scaled(scenario, reps: int, leads_per_week: float):
    """The scenario with its teams and channels scaled in proportion (and the lead budget with them)."""
    doc = scenario.model_dump(by_alias=True)
    channels, teams = doc["marketing"]["channels"], doc["sales"]["teams"]
    lead_factor = leads_per_week / sum(c["leads_per_week"] for c in channels)
    for c in channels:
        c["leads_per_week"] *= lead_factor
    rep_factor = reps / sum(t["reps"] for t in teams)
    for t in teams:
        t["reps"] = round(t["reps"] * rep_factor)
    if doc["marketing"].get("budget_per_month") is not None:
        doc["marketing"]["budget_per_month"] *= lead_factor
    return type(scenario).model_validate(doc)


def child_scale(root: Path, seed: int) -> dict:
    import funnelsim

    scenario = scaled(funnelsim.load_scenario(root / BASELINE), SCALE_REPS, SCALE_LEADS)
    start = time.perf_counter()
    result = funnelsim.simulate(scenario, seed=seed)
    result.kpis, result.timeseries  # noqa: B018 (what a caller reads)
    seconds = time.perf_counter() - start
    leads = float(result.kpis["leads_created"].iloc[0]) if "leads_created" in result.kpis else None
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "leads": leads,
    }


def child(kind: str, root: Path, args: argparse.Namespace) -> None:
    os.chdir(root)
    import funnelsim

    out = {"funnelsim": str(Path(funnelsim.__file__).resolve())}
    if kind == "simulate":
        out.update(child_simulate(root, args.seeds))
    elif kind == "replay":
        out.update(child_replay(root, args.lever_week, args.repeat))
    elif kind == "scale":
        out.update(child_scale(root, args.seeds[0]))
    print(json.dumps(out))


# -- in the parent ----------------------------------------------------------------------------------
class Failed(Exception):
    pass


def python_of(checkout: Path) -> Path:
    return checkout / ".venv" / "bin" / "python"


def funnelsim_of(checkout: Path) -> list[str]:
    script = checkout / ".venv" / "bin" / "funnelsim"
    return [str(script)] if script.exists() else [str(python_of(checkout)), "-m", "funnelsim.cli"]


def run_child(kind: str, checkout: Path, args: argparse.Namespace, timeout: float) -> dict:
    cmd = [str(python_of(checkout)), str(Path(__file__).resolve()), "--child", kind, "--root", str(checkout)]
    cmd += ["--seeds", *map(str, args.seeds), "--repeat", str(args.repeat), "--lever-week", str(args.lever_week)]
    proc = subprocess.run(cmd, cwd=checkout, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise Failed(f"exit {proc.returncode}: {_tail(proc.stderr)}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if not out["funnelsim"].startswith(str(checkout.resolve())):
        out["warning"] = f"funnelsim imported from {out['funnelsim']}, not from {checkout}"
    return out


def time_command(cmd: list[str], cwd: Path, timeout: float) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise Failed(f"{' '.join(cmd[-3:])}: exit {proc.returncode}: {_tail(proc.stderr)}")
    return seconds


def alternate(sides: dict[str, Path], make_cmd, runs: int, timeout: float) -> dict[str, dict]:
    """Best of `runs` whole-command timings, the sides taken in turn so load drifts hit both alike."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    errors: dict[str, str] = {}
    for i in range(runs):
        order = list(sides) if i % 2 == 0 else list(reversed(sides))
        for name in order:
            if name in errors:
                continue
            try:
                times[name].append(time_command(make_cmd(sides[name]), sides[name], timeout))
            except (Failed, subprocess.TimeoutExpired, OSError) as err:
                errors[name] = str(err)
    out = {}
    for name in sides:
        if times[name]:
            out[name] = {"seconds": min(times[name]), "all": times[name]}
        else:
            out[name] = {"error": errors.get(name, "no run")}
    return out


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def measure(sides: dict[str, Path], kind: str, args: argparse.Namespace) -> dict[str, dict]:
    if kind == "compare":
        cmd = ["compare", str(PAIR), "--replications", "20", "--workers", "2"]
        return alternate(sides, lambda c: funnelsim_of(c) + cmd, args.repeat, 1800)
    if kind == "help":
        return alternate(sides, lambda c: funnelsim_of(c) + ["--help"], args.help_runs, 120)
    timeout = {"simulate": 900, "replay": 900, "scale": 3600}[kind]
    out = {}
    for name, checkout in sides.items():
        try:
            out[name] = run_child(kind, checkout, args, timeout)
        except Exception as err:  # noqa: BLE001 (one failure must not stop the others)
            out[name] = {"error": f"{type(err).__name__}: {err}"}
    return out


# -- the table ------------------------------------------------------------------------------------
def row(label: str, before, after, unit: str, target: str, met: bool | None) -> str:
    def cell(x):
        if isinstance(x, str):
            return f"{x:>10}"
        return f"{'-':>10}" if x is None else f"{x:>8.3f} {unit}" if unit == "s" else f"{x:>7.0f} {unit}"

    ratio = (
        f"{after / before:>6.2f}x" if isinstance(before, float) and isinstance(after, float) and before else "      -"
    )
    verdict = "" if met is None else ("met" if met else "NOT met")
    return f"{label:<38}{cell(before)}  {cell(after)}  {ratio}   {target:<24}{verdict}"


def value(result: dict, key: str = "seconds"):
    if "error" in result:
        return "failed"
    return result.get(key)


def table(results: dict[str, dict[str, dict]], args: argparse.Namespace) -> list[str]:
    lines = [f"{'measure':<38}{'before':>10}  {'after':>10}  {'ratio':>7}   {'target':<24}verdict"]
    if "simulate" in results:
        r = results["simulate"]
        b, a = value(r["before"]), value(r["after"])
        floor = value(r["after"], "floor")
        if not isinstance(floor, float):
            floor = value(r["before"], "floor")
        ok = a <= 2 * floor if isinstance(a, float) and isinstance(floor, float) else None
        target = f"<= 2x floor ({2 * floor:.3f} s)" if isinstance(floor, float) else "<= 2x floor"
        lines.append(row(f"(a) simulate baseline, best of {len(args.seeds)}", b, a, "s", target, ok))
        lines.append(row("    bare-loop floor (same process)", value(r["before"], "floor"), floor, "s", "", None))
        if isinstance(a, float) and isinstance(floor, float):
            lines.append(f"    after / floor {a / floor:.2f}x (stretch 1.5x)")
    if "compare" in results:
        r = results["compare"]
        b, a = value(r["before"]), value(r["after"])
        ok = a <= 0.55 * b if isinstance(a, float) and isinstance(b, float) else None
        lines.append(row(f"(b) compare -r 20 -w 2, best of {args.repeat}", b, a, "s", "<= 0.55x before", ok))
    if "replay" in results:
        r = results["replay"]
        b, a = value(r["before"]), value(r["after"])
        lines.append(
            row(
                f"(c) dashboard replay to week {args.lever_week}",
                b,
                a,
                "s",
                "<= 0.6 s",
                a <= 0.6 if isinstance(a, float) else None,
            )
        )
    if "scale" in results:
        r = results["scale"]
        b, a = value(r["before"], "peak_rss_mb"), value(r["after"], "peak_rss_mb")
        ok = a <= 792 if isinstance(a, float) else None
        lines.append(row("(d) 100x one year, peak RSS", b, a, "MB", "<= 792 MB", ok))
        lines.append(row("    100x one year, wall time", value(r["before"]), value(r["after"]), "s", "", None))
    if "help" in results:
        r = results["help"]
        b, a = value(r["before"]), value(r["after"])
        lines.append(
            row(
                f"(e) funnelsim --help, best of {args.help_runs}",
                b,
                a,
                "s",
                "< 0.3 s",
                a < 0.3 if isinstance(a, float) else None,
            )
        )
    for kind, r in results.items():
        for side, res in r.items():
            if "error" in res:
                lines.append(f"  ! {kind} ({side}) failed: {res['error']}")
            if "warning" in res:
                lines.append(f"  ! {kind} ({side}): {res['warning']}")
            if res.get("how", "").startswith("FunnelModel"):
                lines.append(f"  ! {kind} ({side}): {res['how']}")
    return lines


def describe(name: str, checkout: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(checkout), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        head, dirty = "?", ""
    mark = " (+ uncommitted changes)" if dirty else ""
    return f"{name:<7}{checkout}  {head[:70]}{mark}"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" (1, 5, 15 min; {os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=ROOT.parent / "before", help="the checkout to compare with")
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--repeat", type=int, default=3, help="runs of compare and of the replay (best kept)")
    parser.add_argument("--help-runs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--lever-week", type=int, default=51)
    parser.add_argument("--scale", action="store_true", help="also the 100x run (a few minutes a checkout)")
    parser.add_argument("--only", nargs="+", choices=MEASURES, help="just these measurements")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--child", choices=["simulate", "replay", "scale"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.root, args)
        return

    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    kinds = [k for k in (args.only or MEASURES) if k != "scale" or args.scale or (args.only and "scale" in args.only)]
    print(f"load average at start: {load()}")
    for name, checkout in sides.items():
        print(describe(name, checkout))
        if not python_of(checkout).exists():
            print(f"  ! no {python_of(checkout)}: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'")
    results: dict[str, dict[str, dict]] = {}
    for kind in kinds:
        start = time.perf_counter()
        try:
            results[kind] = measure(sides, kind, args)
        except Exception:  # noqa: BLE001
            results[kind] = {s: {"error": traceback.format_exc(limit=2).strip().splitlines()[-1]} for s in sides}
        print(f"  {kind} measured in {time.perf_counter() - start:.0f} s (load {os.getloadavg()[0]:.2f})", flush=True)
    print()
    print("\n".join(table(results, args)))
    print(f"\nload average at end: {load()}")
    if args.json:
        args.json.write_text(json.dumps({"load_end": os.getloadavg(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
