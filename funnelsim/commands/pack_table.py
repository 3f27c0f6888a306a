"""`funnelsim pack-table`: rerun the bundled scenarios and rewrite the results table in a README."""

from __future__ import annotations

from pathlib import Path

from funnelsim.commands.common import UsageError, execution_options, where_to_run


def register(sub) -> None:
    from funnelsim.commands.compare import replications_arg

    t = sub.add_parser(
        "pack-table",
        help="rerun the bundled scenarios and rewrite the results table in a README",
        description="Runs every scenario file with variants in --scenarios and the lead-strategy crossover, then "
        "rewrites the block between <!-- scenarios:start --> and <!-- scenarios:end --> in README.",
    )
    t.add_argument("readme", type=Path, metavar="README")
    t.add_argument("--scenarios", type=Path, default=Path("scenarios"), help="folder of scenario files")
    t.add_argument("--replications", "-r", type=replications_arg, default=20)
    t.add_argument("--crossover-replications", type=replications_arg, default=6)
    execution_options(t)
    t.add_argument("--check", action="store_true", help="exit 1 if the README block is out of date, write nothing")
    t.set_defaults(handler=cmd_pack_table)


def cmd_pack_table(args) -> int:
    from funnelsim.commands.compare import AUTO
    from funnelsim.experiment.executors import open_executor
    from funnelsim.experiment.pack import run_pack
    from funnelsim.report.pack_table import render_block, replace_block
    from funnelsim.report.progress import progress_bar

    if AUTO in (args.replications, args.crossover_replications):
        raise UsageError("pack-table takes fixed numbers of replications, not 'auto'")
    if not args.readme.is_file():
        raise UsageError(f"cannot find {args.readme}")
    if not args.scenarios.is_dir():
        raise UsageError(f"--scenarios {args.scenarios} is not a folder")
    workers, scheduler = where_to_run(args)
    readme: Path = args.readme
    text = readme.read_text()
    try:
        replace_block(text, "", str(readme))  # fail before the long runs, not after
    except ValueError as err:
        raise UsageError(str(err)) from None

    def bar(total: int, label: str):
        return progress_bar(total, label, delay=2.0)

    with open_executor(workers, scheduler) as executor:
        results = run_pack(args.scenarios, executor, args.replications, args.crossover_replications, bar)
    new = replace_block(text, render_block(results, args.scenarios.as_posix().rstrip("/")), str(readme))
    changed = new != text
    if args.check:
        print(f"{readme}: {'out of date' if changed else 'up to date'}")
        return 1 if changed else 0
    if changed:
        tmp = readme.with_name(f".{readme.name}.tmp")
        tmp.write_text(new)
        tmp.replace(readme)
    print(f"{readme}: {'rewrote the scenarios table' if changed else 'already up to date'}")
    return 0
