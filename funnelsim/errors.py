"""Errors the library raises on purpose; the CLI prints them as one line and picks the exit code.

`UsageError` is bad input (exit 2); any other `FunnelsimError` is a failure while running (exit 1).
Scenario problems have their own `funnelsim.scenario.errors.ScenarioError`, also a `FunnelsimError`.
"""

from __future__ import annotations


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
