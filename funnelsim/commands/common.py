"""Shared pieces of the subcommands: argument types and the usage error."""

from __future__ import annotations

import argparse

BAD_INPUT = 2


class UsageError(Exception):
    """Bad command-line input that argparse itself cannot catch."""


def _whole_number(text: str, minimum: int, bound: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {bound} (got {value})")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1, "at least 1")


def seed(text: str) -> int:
    return _whole_number(text, 0, "0 or more")
