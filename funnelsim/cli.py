"""The `funnelsim` command: argument parsing and error printing, no logic of its own.

Each subcommand lives in `funnelsim/commands/` and registers itself with `register(subparsers)`;
registering imports nothing heavy, so `funnelsim --help` answers at once and a command imports
what it needs when it runs. Exit codes: 0 success, 1 a run failed, 2 bad input (scenario,
options), 130 interrupted, 141 the reader of the output went away (`| head`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from funnelsim.errors import FunnelsimError

# modules under funnelsim.commands, each with register(subparsers)
COMMANDS = ["core", "sweep", "compare", "optimize", "calibrate", "export_crm", "pack_table", "dashboard"]
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command killed by it


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
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not as an unraisable error at exit
        return code
    except FunnelsimError as err:
        print(err.cli_message(), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # nobody reads stdout any more: say nothing, and let the exit-time flush find /dev/null
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
