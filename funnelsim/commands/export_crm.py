"""`funnelsim export-crm`: a run written as a CRM export, to try `calibrate` on a known truth."""

from __future__ import annotations

from pathlib import Path

from funnelsim.commands.common import seed

LAYOUTS = ("salesforce", "hubspot")


def register(sub) -> None:
    p = sub.add_parser(
        "export-crm",
        help="write one run of a scenario as a Salesforce or HubSpot export (a known truth for calibrate)",
        description="Run SCENARIO once and write what its CRM would export at the horizon: leads, opportunities "
        "with their stage history, activities and reps, in the layout of --layout. `funnelsim calibrate OUT "
        "--map LAYOUT` reads it back.",
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--layout", choices=LAYOUTS, default="salesforce", help="whose export (default salesforce)")
    p.add_argument("--out", type=Path, required=True, help="folder to write the tables into")
    p.add_argument("--seed", type=seed, help="the run's seed (default: the scenario's)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field, e.g. --set horizon_weeks=26 (repeatable)",
    )
    p.set_defaults(handler=cmd_export_crm)


def cmd_export_crm(args) -> int:
    from funnelsim.calibrate.layouts import write_export
    from funnelsim.calibrate.synthetic import simulate_export
    from funnelsim.report.output import write_atomically
    from funnelsim.scenario.loader import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    crm = simulate_export(scenario, scenario.seed if args.seed is None else args.seed)
    written: list[str] = []

    def fill(tmp: Path) -> None:
        write_export(crm, args.layout, tmp)
        written.extend(sorted(p.name for p in tmp.iterdir()))

    write_atomically(args.out, fill)
    print(
        f"wrote {args.out}/ ({', '.join(written)}): {len(crm.leads):,} leads, {len(crm.opportunities):,} "
        f"opportunities, {crm.leads['created'].min():%Y-%m-%d} to {crm.as_of:%Y-%m-%d}, {args.layout} layout"
    )
    return 0
