"""`funnelsim dashboard`: the workshop dashboard, live in the browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from funnelsim.commands.common import BAD_INPUT, UsageError, whole_number
from funnelsim.dashboard.room import DEFAULT_GRACE, DEFAULT_IDLE_TIMEOUT
from funnelsim.errors import install_hint

INSTALL_HINT = f"install it with: {install_hint('dashboard')}"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"ports run from 1 to 65535 (0: any free port), got {value}")
    return value


def _duration(text: str) -> float:
    """'90s', '30m', '2h' or a number of seconds; 0 means never."""
    units = {"s": 1, "m": 60, "h": 3600}
    scale = units.get(text[-1:].lower(), 1)
    number = text[:-1] if text[-1:].lower() in units else text
    try:
        value = float(number) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration such as 90s, 30m or 2h, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a duration is 0 or more, got {text!r}")
    return value


def _count(text: str) -> int:
    return whole_number(text, 1, "at least 1 session")


def _workers(text: str) -> int:
    return whole_number(text, 0, "0 or more workers")


def register(sub) -> None:
    p = sub.add_parser(
        "dashboard",
        help="start the workshop dashboard in the browser",
        description="Serve a live dashboard of SCENARIO: levers, play/pause/step, figures, and two strategies "
        "side by side (a file with `variants:` offers each variant). Prints the address to open.",
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0: any free port)")
    p.add_argument("--open", action="store_true", help="also open the page in the default browser")
    p.add_argument(
        "--max-sessions",
        type=_count,
        default=None,
        metavar="N",
        help="at most N sessions (tabs) at once; a tab beyond them is told the room is full (default: no limit)",
    )
    p.add_argument(
        "--idle-timeout",
        type=_duration,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="TIME",
        help="end a session nobody has used for TIME (90s, 30m, 2h; 0: never; default 30m)",
    )
    p.add_argument(
        "--reconnect-grace",
        type=_duration,
        default=DEFAULT_GRACE,
        metavar="TIME",
        help="how long a tab whose connection is lost keeps its session for a reconnect (default 10s)",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="N",
        help="processes that run the sessions' models (default: one per core; 0: inside the web server)",
    )
    p.set_defaults(handler=cmd_dashboard)


def missing_extra() -> str | None:
    """What is missing for the dashboard, phrased for the user (None: all there)."""
    import importlib.util

    for module in ("solara", "mesa.visualization"):
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:
            found = False
        if not found:
            return f"the dashboard needs {module.split('.')[0]}, which is not installed; {INSTALL_HINT}"
    return None


def assets_installed() -> bool:
    import importlib.metadata

    try:
        importlib.metadata.version("solara-assets")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


STATUS_EVERY = 2.0  # seconds between two looks at the room
HEARTBEAT = 60.0  # while anyone plays, the line is printed again this often


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def watch(address: str, process, every: float = STATUS_EVERY, heartbeat: float = HEARTBEAT) -> int:
    """Print the room's status line whenever it changes (and now and then while anyone plays)
    until the server stops; its exit code."""
    import contextlib
    import subprocess
    import time

    from funnelsim.dashboard import server
    from funnelsim.dashboard.room import status_line

    last, printed = None, 0.0
    while process.poll() is None:
        try:
            now = server.status(address, timeout=every)
        except (OSError, ValueError):
            now = None
        if now is not None:
            key = (now["sessions"], now["playing"])
            if key != last or (now["playing"] and time.monotonic() - printed >= heartbeat):
                print(status_line(now), flush=True)
                last, printed = key, time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):  # still running
            process.wait(every)
    return process.returncode


def cmd_dashboard(args) -> int:
    import signal
    import webbrowser

    problem = missing_extra()
    if problem:
        print(f"funnelsim: error: {problem}", file=sys.stderr)
        return BAD_INPUT
    from funnelsim.scenario.loader import load_variants

    load_variants(args.scenario)  # a bad file fails here, as in `funnelsim run`
    from funnelsim.dashboard import server

    port = args.port or server.free_port(args.host)
    if not server.port_free(args.host, port):
        raise UsageError(f"port {port} on {args.host} is in use (another dashboard?); choose one with --port")
    if not assets_installed():
        print(f"note: solara-assets is missing, so the page needs the internet; {INSTALL_HINT}", file=sys.stderr)
    address = server.url(args.host, port)
    print(f"funnelsim dashboard for {args.scenario}: {address}", flush=True)
    limits = server.Limits(
        max_sessions=args.max_sessions,
        idle_timeout=args.idle_timeout or None,
        grace=args.reconnect_grace,
        workers=args.workers,
    )
    process = server.start(args.scenario, args.host, port, limits)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a supervisor: stop the server too
    try:
        if server.wait_ready(address, process):
            print(f"ready: open {address} in a browser; Ctrl+C stops the dashboard", flush=True)
            if args.open:
                webbrowser.open(address)
        code = watch(address, process)
    except KeyboardInterrupt:
        server.stop(process)
        print("dashboard stopped", file=sys.stderr)
        return 0
    if code != 0:
        print(
            f"funnelsim: error: the dashboard server stopped (exit code {code}); see its messages above",
            file=sys.stderr,
        )
        return 1
    return 0
