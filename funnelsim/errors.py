"""Errors the library raises on purpose; the CLI prints them as one line and picks the exit code.

`UsageError` is bad input (exit 2); any other `FunnelsimError` is a failure while running (exit 1).
Scenario problems have their own `funnelsim.scenario.errors.ScenarioError`, also a `FunnelsimError`.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent


class FunnelsimError(Exception):
    """Base of the errors funnelsim raises for the user to read (not bugs)."""

    exit_code = 1  # what the command exits with

    def cli_message(self) -> str:
        return f"funnelsim: error: {self}"


class UsageError(FunnelsimError):
    """Bad options or arguments: something the caller asked for cannot be done as asked."""

    exit_code = 2


class RunFailed(FunnelsimError):
    """A run raised (in this process, a local worker or a Dask worker); the message says which and why."""


class ExecutorFailed(FunnelsimError):
    """The execution layer itself failed (a worker killed, the cluster gone), not a run."""


def install_hint(extra: str) -> str:
    """A command that installs the optional `extra` and works as printed from any folder: this
    Python's pip, the checkout funnelsim runs from (funnelsim is installed from a checkout)."""
    if (CHECKOUT / "pyproject.toml").is_file():
        return f"{shlex.quote(sys.executable)} -m pip install -e {shlex.quote(f'{CHECKOUT}[{extra}]')}"
    return f"pip install -e '.[{extra}]' in the funnelsim repository folder"
