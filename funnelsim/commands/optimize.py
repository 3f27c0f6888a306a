"""`funnelsim optimize`: search for the best plan, confirm it, write the recommendation."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

from funnelsim.commands.common import (
    FAILED,
    INTERRUPTED,
    execution_options,
    positive_int,
    seed,
    terminate_as_interrupt,
    where_label,
    where_to_run,
)
from funnelsim.errors import ExecutorFailed, UsageError, install_hint


def register(sub) -> None:
    p = sub.add_parser(
        "optimize",
        help="find the best plan for an optimisation file (Optuna; resumable), with confirmation runs",
        description="Search the levers of OPT.yaml, re-run the best plans to confirm, write best.yaml and a report. "
        "Re-running the same command continues the same study.",
    )
    p.add_argument("problem", type=Path, metavar="OPT.yaml")
    p.add_argument("--out", type=Path, help="output folder (default: runs/<name>)")
    p.add_argument(
        "--trials", type=positive_int, help="trials in all, those already done included (default: the file's)"
    )
    execution_options(p)
    p.add_argument("--seed", type=seed, help="master seed (default: the file's)")
    p.add_argument("--resume", action="store_true", help="continue the study in --out (an error if there is none)")
    p.set_defaults(handler=cmd_optimize)


def cmd_optimize(args) -> int:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise UsageError(f"optimize needs Optuna; install it with: {install_hint('optimize')}") from None
    from funnelsim.experiment.executors import default_workers
    from funnelsim.optimize.problem import load_problem
    from funnelsim.optimize.run import optimize
    from funnelsim.report.optimize_report import verdict
    from funnelsim.report.progress import progress_bar

    workers, scheduler = where_to_run(args)
    problem = load_problem(args.problem)
    workers = workers or default_workers()
    out = args.out or Path("runs") / problem.name
    where = where_label(workers, scheduler)

    with ExitStack() as stack:
        tick = []

        def on_start(trials: int, done: int, runs: int) -> None:
            print(f"optimize {problem.name}: {trials} trials x {problem.replications} replication(s), on {where}")
            if done:
                print(f"resuming {out}: {done} of {trials} trials already done")
            tick.append(stack.enter_context(progress_bar(runs, problem.name)))
            sys.stdout.flush()

        stack.enter_context(terminate_as_interrupt())
        try:
            result = optimize(
                problem,
                out,
                trials=args.trials,
                seed=args.seed,
                resume=args.resume,
                workers=workers,
                scheduler=scheduler,
                progress=lambda n: tick[0](n) if tick else None,
                on_start=on_start,
            )
        except ExecutorFailed as err:
            stack.close()
            print(f"funnelsim: error: {err}", file=sys.stderr)
            return FAILED
    if result.interrupted:
        print(
            f"interrupted: {result.done} of {result.trials} trials done and kept in {out}/study.log; "
            "run the same command again (or with --resume) to continue",
            file=sys.stderr,
        )
        return INTERRUPTED
    for line in verdict(result.outcome):
        print(line)
    print(f"wrote {out}/best.yaml, trials.parquet, optimization.json, report.html, report.md")
    if not result.outcome.recommended:
        print("funnelsim: no plan satisfies the constraints; best.yaml holds the least-violating one", file=sys.stderr)
        return FAILED
    return 0
