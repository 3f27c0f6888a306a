"""`funnelsim dashboard`: what it says before any server starts."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import pytest

from funnelsim.cli import build_parser, main
from funnelsim.commands import dashboard
from funnelsim.errors import install_hint

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_command_is_registered_with_host_and_port():
    args = build_parser().parse_args(["dashboard", "s.yaml", "--port", "9000"])
    assert (args.host, args.port, args.open) == ("127.0.0.1", 9000, False)
    assert args.handler is dashboard.cmd_dashboard


def test_a_bad_port_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["dashboard", "s.yaml", "--port", "70000"])
    assert exit_.value.code == 2
    assert "ports run from 1 to 65535" in capsys.readouterr().err


def test_without_the_extra_it_says_how_to_install(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["dashboard", str(SCENARIOS / "baseline.yaml")]) == 2
    err = capsys.readouterr().err
    assert install_hint("dashboard") in err
    assert "Traceback" not in err


def test_a_bad_file_fails_as_in_run(tmp_path, capsys):
    pytest.importorskip("solara")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhorizon_weeks: -1\n")
    assert main(["dashboard", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: horizon_weeks" in err


def test_a_busy_port_is_reported(capsys):
    pytest.importorskip("solara")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert main(["dashboard", str(SCENARIOS / "baseline.yaml"), "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err
