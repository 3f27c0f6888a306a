"""`funnelsim dashboard`: the workshop dashboard, live in the browser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from funnelsim.commands.common import BAD_INPUT, UsageError
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


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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
    process = server.start(args.scenario, args.host, port)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a supervisor: stop the server too
    try:
        if server.wait_ready(address, process):
            print(f"ready: open {address} in a browser; Ctrl+C stops the dashboard", flush=True)
            if args.open:
                webbrowser.open(address)
        code = process.wait()
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
