"""`funnelsim sweep` (run or resume a parameter sweep) and `funnelsim analyze` (what it shows)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

from funnelsim.commands.common import (
    FAILED,
    INTERRUPTED,
    execution_options,
    positive_int,
    terminate_as_interrupt,
    where_label,
    where_to_run,
)
from funnelsim.errors import ExecutorFailed


def register(sub) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="run a parameter sweep (resumable; local processes or a Dask cluster)",
        description="Run every point of a sweep file; re-running the same command resumes it.",
    )
    sweep.add_argument("sweep", type=Path, metavar="SWEEP.yaml")
    execution_options(sweep)
    sweep.add_argument("--out", type=Path, help="output folder (default: runs/<sweep name>)")
    sweep.add_argument("--force", action="store_true", help="replace the results of another sweep in --out")
    sweep.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as errors")
    sweep.add_argument("--chunk-size", type=positive_int, help="runs per task (default: about 2 s of work)")
    sweep.add_argument(
        "--posterior",
        type=Path,
        metavar="FILE",
        help="posterior.parquet from funnelsim calibrate: replication r of every point draws parameter set r",
    )
    sweep.set_defaults(handler=cmd_sweep)

    analyze = sub.add_parser(
        "analyze",
        help="sensitivity indices and main-effect figures of a finished sweep",
        description="Sobol' indices (sobol sweeps) or main effects and heatmaps (other sweeps).",
    )
    analyze.add_argument("dir", type=Path, metavar="DIR", help="a sweep's output folder")
    analyze.add_argument("--kpi", action="append", dest="kpis", metavar="KPI", help="KPI to analyse (repeatable)")
    analyze.add_argument("--pair", nargs=2, metavar=("X", "Y"), help="the two parameters of the heatmaps")
    analyze.add_argument("--out", type=Path, help="where to write (default: DIR/analysis)")
    analyze.add_argument("--resamples", type=positive_int, default=999, help="bootstrap resamples for Sobol' CIs")
    analyze.set_defaults(handler=cmd_analyze)


def cmd_sweep(args) -> int:
    from funnelsim.experiment.executors import default_workers
    from funnelsim.experiment.sweep import run_sweep
    from funnelsim.experiment.sweepfile import load_sweep
    from funnelsim.report.progress import progress_bar

    workers, scheduler = where_to_run(args)
    sweep = load_sweep(args.sweep)
    posterior = None
    if args.posterior is not None:
        from funnelsim.calibrate.draws import PosteriorDraws

        posterior = PosteriorDraws.load(args.posterior)
    workers = workers or default_workers()
    out = args.out or Path("runs") / sweep.name
    where = where_label(workers, scheduler)

    with ExitStack() as stack:
        tick = []

        def on_start(total: int, done: int) -> None:
            reps = sweep.replications
            print(f"sweep {sweep.name}: {total // reps} points x {reps} replication(s) = {total} runs, on {where}")
            if done:
                print(f"resuming {out}: {done} of {total} runs already done")
            if total - done:
                tick.append(stack.enter_context(progress_bar(total - done, sweep.name)))
            sys.stdout.flush()

        stack.enter_context(terminate_as_interrupt())
        try:
            outcome = run_sweep(
                sweep,
                out,
                workers=workers,
                scheduler=scheduler,
                force=args.force,
                retry_failed=args.retry_failed,
                chunk_size=args.chunk_size,
                progress=lambda n: tick[0](n) if tick else None,
                on_start=on_start,
                posterior=posterior,
            )
        except ExecutorFailed as err:
            stack.close()
            print(f"funnelsim: error: {err}", file=sys.stderr)
            return FAILED
    if outcome.interrupted:
        done = outcome.already_done + outcome.ran
        print(
            f"interrupted: {done} of {outcome.total} runs done and kept in {outcome.out}; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return INTERRUPTED
    print(
        f"done: {outcome.total} runs ({outcome.ran} now, {outcome.already_done} before), {outcome.errors} failed\n"
        f"wrote {outcome.out}/results.parquet, summary.parquet, summary.csv"
    )
    if outcome.errors:
        runs = outcome.results
        first = runs.loc[runs["status"] != "ok", "error"].iloc[0]
        print(f"{outcome.errors} run(s) failed; the first: {first}", file=sys.stderr)
        return FAILED
    return 0


def cmd_analyze(args) -> int:
    from funnelsim.report.sensitivity import analyze_sweep

    written = analyze_sweep(args.dir, out=args.out, kpis=args.kpis, pair=args.pair, resamples=args.resamples)
    for path in written:
        print(f"wrote {path}")
    return 0
