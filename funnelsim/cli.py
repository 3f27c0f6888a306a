"""The `funnelsim` command: argument parsing and error printing, no logic of its own.

Each subcommand lives in `funnelsim/commands/` and registers itself with `register(subparsers)`.
Exit codes: 0 success, 1 a run failed, 2 bad input (scenario, options), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from funnelsim.commands.common import BAD_INPUT, UsageError
from funnelsim.scenario.errors import ScenarioError

# modules under funnelsim.commands, each with register(subparsers)
COMMANDS = ["core", "sweep", "compare", "dashboard"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="funnelsim", description="Agent-based sales funnel simulator.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"funnelsim.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as err:
        print(str(err), file=sys.stderr)
        return BAD_INPUT
    except UsageError as err:
        print(f"funnelsim: error: {err}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
