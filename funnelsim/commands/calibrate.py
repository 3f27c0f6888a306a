"""`funnelsim calibrate`: a company's CRM export in, a scenario that reproduces it out."""

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
from funnelsim.errors import ExecutorFailed

DEFAULT_BUDGET = 500  # funnelsim.calibrate.run.DEFAULT_BUDGET (kept here: registering imports nothing heavy)


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="calibrate a scenario to a CRM export (Salesforce, HubSpot or your own tables), with a backtest",
        description="Read the CSV/Parquet tables in DATA_DIR through MAP (a MAP.yaml, or the preset salesforce or "
        "hubspot), estimate what they show directly, infer the rest by simulation (ABC), and write "
        "calibrated.yaml, posterior.parquet, calibration.json and a report. Re-running the same command "
        "continues an interrupted calibration.",
    )
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    p.add_argument("--map", required=True, metavar="MAP", help="MAP.yaml, or a preset: salesforce, hubspot")
    p.add_argument(
        "--holdout-weeks",
        type=positive_int,
        metavar="N",
        help="fit on all but the last N weeks, then forecast them and report how the forecast did",
    )
    p.add_argument("--out", type=Path, help="output folder (default: runs/calibrate-<DATA_DIR name>)")
    p.add_argument(
        "--base",
        type=Path,
        metavar="SCENARIO",
        help="scenario to calibrate (its team, costs and rules are kept where the data are silent; "
        "default: the built-in baseline)",
    )
    execution_options(p)
    p.add_argument(
        "--budget",
        type=positive_int,
        default=DEFAULT_BUDGET,
        metavar="RUNS",
        help=f"simulations (default {DEFAULT_BUDGET})",
    )
    p.add_argument("--seed", type=seed, default=0, help="master seed (default 0)")
    p.set_defaults(handler=cmd_calibrate)


def cmd_calibrate(args) -> int:
    from funnelsim.calibrate.output import write_outputs
    from funnelsim.calibrate.reader import read_export
    from funnelsim.calibrate.run import CHECK_RUNS, DEFAULT_GENERATIONS, FORECAST_DRAWS, calibrate
    from funnelsim.experiment.executors import Interrupted, default_workers, make_executor
    from funnelsim.report.progress import progress_bar
    from funnelsim.scenario.defaults import default_scenario
    from funnelsim.scenario.loader import load_scenario

    workers, scheduler = where_to_run(args)
    workers = workers or default_workers()
    base = load_scenario(args.base) if args.base else default_scenario()
    crm = read_export(args.data_dir, args.map)
    out = args.out or Path("runs") / f"calibrate-{args.data_dir.resolve().name}"
    runs = args.budget // DEFAULT_GENERATIONS * DEFAULT_GENERATIONS + CHECK_RUNS
    runs += FORECAST_DRAWS if args.holdout_weeks else 0
    print(
        f"calibrate {args.data_dir}: {len(crm.leads):,} leads, {len(crm.opportunities):,} opportunities "
        f"to {crm.as_of:%Y-%m-%d}; {runs} simulations on {where_label(workers, scheduler)}"
    )
    sys.stdout.flush()
    with ExitStack() as stack:
        stack.enter_context(terminate_as_interrupt())
        executor = stack.enter_context(make_executor(workers, scheduler))
        tick = stack.enter_context(progress_bar(runs, "calibrate"))
        try:
            cal = calibrate(
                crm,
                base.model_dump(mode="json", by_alias=True),
                executor,
                out=out,
                budget=args.budget,
                generations=DEFAULT_GENERATIONS,
                seed=args.seed,
                holdout_weeks=args.holdout_weeks,
                progress=tick,
            )
        except Interrupted:
            stack.close()
            print(
                f"interrupted: the simulations done are kept in {out}/abc_journal.jsonl; "
                "run the same command again to continue",
                file=sys.stderr,
            )
            return INTERRUPTED
        except ExecutorFailed as err:
            stack.close()
            print(f"funnelsim: error: {err}", file=sys.stderr)
            return FAILED
    from funnelsim.calibrate.output import verdict

    written = write_outputs(cal, out)
    for line in verdict(cal):
        print(line)
    if cal.posterior.resumed:
        print(f"({cal.posterior.resumed} simulations were read back from the journal of an earlier, interrupted run)")
    print(f"wrote {out}/: {', '.join(written)}")
    return 0
