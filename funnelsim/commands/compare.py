"""`funnelsim compare` and `crossover`: strategies side by side, with honest statistics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from funnelsim.commands.common import UsageError, execution_options, kpi_name, positive_int, seed, where_to_run

AUTO = "auto"


def replications_arg(text: str) -> int | str:
    if text.strip().lower() == AUTO:
        return AUTO
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'auto', got {text!r}") from None
    if value < 2:
        raise argparse.ArgumentTypeError(
            f"statistics need at least 2 replications per strategy (got {value}); use 30 or more for firm conclusions"
        )
    return value


def width_arg(text: str) -> tuple[float, bool]:
    """'2%' (of the baseline's mean) or an absolute width in the KPI's units."""
    raw = text.strip()
    relative = raw.endswith("%")
    try:
        value = float(raw[:-1] if relative else raw.replace(",", "").lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a width like 2% or 500000, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"the target width must be above 0 (got {text!r})")
    return (value / 100 if relative else value), relative


def _overrides(p) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field in every strategy, e.g. --set horizon_weeks=13 (repeatable)",
    )


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare strategies with paired replications, CIs and p-values",
        description="Compare strategies: the first scenario is the baseline. One file with a `variants:` block "
        "compares its variants.",
    )
    p.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO")
    p.add_argument(
        "--replications",
        "-r",
        type=replications_arg,
        default=30,
        help="paired replications per strategy (default 30), or 'auto': add replications until the CI of the "
        "headline KPI's difference is narrower than --target-width",
    )
    p.add_argument("--seed", type=seed, help="master seed (default: the baseline scenario's)")
    execution_options(p)
    p.add_argument("--baseline", metavar="NAME", help="which strategy is the baseline (default: the first)")
    p.add_argument("--kpi", type=kpi_name, default="profit", metavar="KPI", help="headline KPI (default profit)")
    p.add_argument(
        "--target-width",
        type=width_arg,
        default=(0.05, True),
        metavar="W",
        help="auto: full width of the 95%% CI of the headline difference, as a share of the baseline's mean (5%%, the "
        "default) or in the KPI's units (500000)",
    )
    p.add_argument("--max-replications", type=positive_int, default=200, help="auto: stop here (default 200)")
    _overrides(p)
    p.add_argument(
        "--robustness",
        action="store_true",
        help="rerun the comparison, with the same seeds, under each assumption set (speed-to-lead curves, work "
        "policies, elasticities, selling share; and the file's `assumptions:` block) and say where the verdict holds",
    )
    p.add_argument(
        "--robustness-replications",
        type=replications_arg,
        metavar="N",
        help="paired replications per strategy and assumption set (default: the comparison's)",
    )
    p.add_argument(
        "--posterior",
        type=Path,
        metavar="FILE",
        help="posterior.parquet from funnelsim calibrate: replication r of every strategy draws parameter set r, "
        "so the verdict carries calibration uncertainty as well as luck",
    )
    p.add_argument("--out", type=Path, help="write report.html, report.md, comparison.json and PNG figures here")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the comparison as JSON")
    out.add_argument("--markdown", action="store_true", help="print the comparison as Markdown")
    p.set_defaults(handler=cmd_compare)

    c = sub.add_parser(
        "crossover",
        help="compare strategies across team sizes and find where the better one changes",
        description="Run the strategies of a scenario file at several team sizes and plot a KPI against team size.",
    )
    c.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO")
    c.add_argument("--reps", default=None, metavar="SIZES", help="team sizes, e.g. 10,20,40 or 10:120:10")
    c.add_argument("--replications", "-r", type=replications_arg, default=6, help="per strategy and size (default 6)")
    c.add_argument("--seed", type=seed)
    execution_options(c)
    c.add_argument("--baseline", metavar="NAME")
    c.add_argument("--kpi", type=kpi_name, default="profit", metavar="KPI", help="KPI to plot (default profit)")
    _overrides(c)
    c.add_argument(
        "--override-strategy-reps",
        action="store_true",
        help="sweep strategies that set their own team size anyway: each gets every size of --reps, "
        "so a strategy defined by its team size becomes another one (refused without this flag)",
    )
    c.add_argument("--out", type=Path, help="write crossover.png, crossover.json and crossover.md here")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=cmd_crossover)


# -- loading strategies -------------------------------------------------------------------------
def load_strategies(paths: list[Path], overrides: list[str], baseline: str | None = None) -> dict:
    """Every scenario of every file (each variant is one strategy), baseline first."""
    from funnelsim.scenario.errors import ScenarioError
    from funnelsim.scenario.loader import load_variants

    strategies: dict = {}
    problems = []
    for path in paths:
        try:
            found = load_variants(path, overrides)
        except ScenarioError as err:
            problems.extend(err.problems)
            continue
        for name, scenario in found.items():
            key = name
            if key in strategies:
                key = f"{Path(path).stem}:{name}" if len(found) > 1 else Path(path).stem
            if key in strategies:
                raise UsageError(f"two strategies are both called {name!r}; give the scenarios distinct `name:`s")
            strategies[key] = scenario
    if problems:
        raise ScenarioError(problems)
    if len(strategies) < 2:
        only = ", ".join(strategies) or "none"
        raise UsageError(
            f"a comparison needs at least two strategies, got one ({only}); give two scenario files, "
            "or one file with a `variants:` block"
        )
    if baseline is not None:
        if baseline not in strategies:
            raise UsageError(f"--baseline {baseline!r} is not one of the strategies: {', '.join(strategies)}")
        strategies = {baseline: strategies[baseline], **{k: v for k, v in strategies.items() if k != baseline}}
    _check(strategies)
    return strategies


def _check(strategies: dict) -> None:
    from funnelsim.experiment.compare import check_comparable

    try:
        check_comparable(strategies)
    except ValueError as err:
        raise UsageError(str(err)) from None


# -- compare ------------------------------------------------------------------------------------
def cmd_compare(args) -> int:
    from funnelsim.experiment.compare import Target, compare, compare_until
    from funnelsim.report.compare_report import markdown_report, text_report, write_comparison
    from funnelsim.report.progress import progress_bar
    from funnelsim.report.tables import dumps

    workers, scheduler = where_to_run(args)
    strategies = load_strategies(args.scenarios, args.overrides, args.baseline)
    label = " vs ".join(strategies)
    sets = assumption_sets(args.scenarios, strategies) if args.robustness else None
    if args.robustness_replications is not None and not args.robustness:
        raise UsageError("--robustness-replications goes with --robustness")
    if args.robustness_replications == AUTO:
        raise UsageError("--robustness-replications takes a number (default: the comparison's replications)")
    posterior = None
    if args.posterior is not None:
        from funnelsim.calibrate.draws import PosteriorDraws

        if args.robustness:
            raise UsageError("--posterior and --robustness together are not supported yet: run them separately")
        posterior = PosteriorDraws.load(args.posterior)
    if args.replications == AUTO:
        width, relative = args.target_width
        target = Target(args.kpi, width, relative)
        start = min(10, args.max_replications)
        if start < 2:
            raise UsageError("--max-replications must be at least 2 for statistics")

        def bar(total: int, what: str):
            return progress_bar(total, f"{label} ({what})", delay=2.0)

        cmp = compare_until(
            strategies,
            target,
            start,
            args.max_replications,
            args.seed,
            workers,
            bar,
            scheduler=scheduler,
            posterior=posterior,
        )
    else:
        total = args.replications * len(strategies)
        with progress_bar(total, label, delay=2.0) as tick:
            cmp = compare(
                strategies, args.replications, args.seed, workers, tick, scheduler=scheduler, posterior=posterior
            )
    if sets is not None:
        run_robustness(cmp, sets, args, workers, scheduler)
    if args.out:
        write_comparison(cmp, args.out)
    if args.json:
        sys.stdout.write(dumps(cmp.document()))
    elif args.markdown:
        sys.stdout.write(markdown_report(cmp, []))
    else:
        print(text_report(cmp))
        if args.out:
            print(f"\nwrote {args.out}/ (report.html, report.md, comparison.json, figures)")
    return 0


def assumption_sets(paths: list[Path], strategies: dict) -> list:
    """The default assumption sets extended by each file's `assumptions:` block, checked against
    the strategies (every problem at its line, exit 2) before anything runs."""
    from funnelsim.experiment.assumptions import DEFAULT_SETS, apply_to_all, file_sets
    from funnelsim.scenario.loader import assumptions_block

    sets = list(DEFAULT_SETS)
    for path in paths:
        sets = file_sets(assumptions_block(path), sets)
    apply_to_all(strategies, sets)
    return sets


def run_robustness(cmp, sets: list, args, workers, scheduler) -> None:
    from funnelsim.experiment.robustness import ROBUSTNESS_KPIS, robustness
    from funnelsim.report.progress import progress_bar

    kpis = tuple(dict.fromkeys((args.kpi, *ROBUSTNESS_KPIS)))
    n = args.robustness_replications or cmp.replications
    with progress_bar(n * len(cmp.names) * len(sets), "assumption sets", delay=2.0) as tick:
        robustness(cmp, sets, n, kpis, workers, tick, scheduler=scheduler)


# -- crossover ----------------------------------------------------------------------------------
def cmd_crossover(args) -> int:
    from funnelsim.experiment.crossover import DEFAULT_SIZES, check_team_sizes_free, parse_sizes, sweep_team_sizes
    from funnelsim.report.crossover_report import crossover_text, write_crossover
    from funnelsim.report.progress import progress_bar
    from funnelsim.report.tables import dumps

    if args.replications == AUTO:
        raise UsageError("crossover takes a fixed number of replications, not 'auto'")
    try:
        sizes = parse_sizes(args.reps) if args.reps else list(DEFAULT_SIZES)
    except ValueError as err:
        raise UsageError(f"--reps: {err}") from None
    workers, scheduler = where_to_run(args)
    strategies = load_strategies(args.scenarios, args.overrides, args.baseline)
    if not args.override_strategy_reps:
        check_team_sizes_free(strategies)
    total = len(sizes) * len(strategies) * args.replications
    with progress_bar(total, "team sizes", delay=2.0) as tick:
        result = sweep_team_sizes(
            strategies,
            sizes,
            args.replications,
            args.seed,
            workers,
            tick,
            args.kpi,
            scheduler=scheduler,
            override_strategy_reps=args.override_strategy_reps,
        )
    if args.out:
        write_crossover(result, args.out)
    if args.json:
        sys.stdout.write(dumps(result.document()))
    else:
        print(crossover_text(result))
        if args.out:
            print(f"\nwrote {args.out}/ (crossover.png, crossover.md, crossover.json)")
    return 0
