"""`funnelsim run`, `validate` and `schema`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from funnelsim.commands.common import execution_options, positive_int, seed, where_to_run

SINGLE_RUN_BAR_AFTER = 2.0  # seconds before a single run's progress bar (by simulated day) appears


def register(sub) -> None:
    run = sub.add_parser("run", help="run a scenario and report revenue, cost and rep workload")
    run.add_argument("scenario", type=Path)
    run.add_argument("--seed", type=seed, help="master seed (default: the scenario's)")
    run.add_argument("--replications", "-r", type=positive_int, default=1)
    execution_options(run)
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field, e.g. --set sales.teams[0].reps=30 (repeatable)",
    )
    run.add_argument(
        "--variant",
        metavar="NAME",
        help="which strategy of a file with `variants:` to run (required for such a file; "
        "`funnelsim compare FILE` runs them all)",
    )
    run.add_argument("--out", type=Path, help="write summary.json, Parquet tables and PNG figures here")
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    run.add_argument("--force", action="store_true", help="run even if the estimated memory exceeds what is available")
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", type=Path, nargs="+")
    validate.set_defaults(handler=cmd_validate)

    schema = sub.add_parser("schema", help="print the scenario JSON schema")
    schema.set_defaults(handler=cmd_schema)


def cmd_run(args) -> int:
    from funnelsim.errors import UsageError
    from funnelsim.experiment.executors import default_workers
    from funnelsim.experiment.runner import simulate
    from funnelsim.experiment.workload import check_fits
    from funnelsim.report.output import run_document, write_run_outputs
    from funnelsim.report.progress import progress_bar
    from funnelsim.report.tables import dumps, kpi_table
    from funnelsim.scenario.loader import load_scenario, variant_names

    workers, scheduler = where_to_run(args)
    names = variant_names(args.scenario) if args.variant is None else []
    if names:
        raise UsageError(
            f"{args.scenario} holds {len(names)} strategies under variants: {', '.join(names)}; "
            f"run one with --variant NAME (e.g. --variant {names[0]}), or all of them with "
            f"`funnelsim compare {args.scenario}`"
        )
    scenario = load_scenario(args.scenario, args.overrides, variant=args.variant)
    if not args.force and scheduler is None:
        check_fits(scenario, at_once=min(args.replications, workers or default_workers()))
    if args.replications == 1:  # one run: a bar by simulated day
        days = max(1, round(scenario.horizon_weeks * scenario.calendar.days_per_week))
        with progress_bar(days, scenario.name, unit="day", delay=SINGLE_RUN_BAR_AFTER) as tick:
            result = simulate(scenario, args.seed, 1, workers=workers, scheduler=scheduler, day_progress=tick)
    else:
        with progress_bar(args.replications, f"{scenario.name}") as tick:
            result = simulate(
                scenario, args.seed, args.replications, workers=workers, progress=tick, scheduler=scheduler
            )
    doc = run_document(result)
    if args.out:
        write_run_outputs(result, doc, args.out)
    if args.json:
        sys.stdout.write(dumps(doc))
    else:
        print(f"{scenario.name}: {args.replications} replication(s), {scenario.horizon_weeks:g} weeks")
        print(kpi_table(result.summary(), args.replications))
        if args.out:
            print(f"\nwrote {args.out}/")
    return 0


def cmd_validate(args) -> int:
    from funnelsim.scenario.errors import ScenarioError
    from funnelsim.scenario.loader import load_variants

    problems = []
    for path in args.files:
        try:
            variants = load_variants(path)
            check_assumptions(path, variants)
        except ScenarioError as err:
            problems.extend(err.problems)
            continue
        names = ", ".join(variants)
        print(f"{path}: ok ({len(variants)} scenario(s): {names})")
    if problems:
        raise ScenarioError(problems)
    return 0


def check_assumptions(path, variants: dict) -> None:
    """A file's `assumptions:` block, checked as `compare --robustness` would (ScenarioError)."""
    from funnelsim.scenario.loader import assumptions_block

    block = assumptions_block(path)
    if block is not None:
        from funnelsim.experiment.assumptions import apply_to_all, file_sets

        apply_to_all(variants, file_sets(block))


def cmd_schema(args) -> int:
    from funnelsim.scenario.docs import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0
