"""Installing and starting funnelsim: every install hint works as printed, old Pythons are told."""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from funnelsim.errors import CHECKOUT, install_hint

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def _old_pythons() -> list[str]:
    found = {shutil.which(f"python3.{minor}") or "" for minor in range(6, 12)}
    found = {p for p in found if "/shims/" not in p}  # a pyenv shim in the checkout runs 3.12
    found |= set(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[6-9]*/bin/python")))
    found |= set(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[01].*/bin/python")))
    return sorted(p for p in found if p)


def test_readme_install_commands_install_from_the_checkout():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if "pip install" in line]
    assert len(lines) >= 4
    for line in lines:
        assert "funnelsim[" not in line, line  # funnelsim is not on a package index
        for target in re.findall(r"pip install(?: -q)? -e ([^\s`]+)", line) or [None]:
            assert target is not None, f"not an install from the checkout: {line}"
            extras = re.fullmatch(r"'?\.(?:\[([a-z,]+)\])?'?", target)
            assert extras, line
            assert set(filter(None, (extras.group(1) or "").split(","))) <= EXTRAS, line


def test_no_source_file_spells_its_own_install_command():
    for path in (ROOT / "funnelsim").rglob("*.py"):
        assert "pip install" not in path.read_text() or path.name == "errors.py", path


def test_install_hint_names_this_python_and_this_checkout():
    hint = shlex.split(install_hint("dashboard"))
    assert hint[:5] == [sys.executable, "-m", "pip", "install", "-e"]
    assert hint[5] == f"{CHECKOUT}[dashboard]" and (CHECKOUT / "pyproject.toml").is_file()
    assert "dashboard" in EXTRAS and CHECKOUT == ROOT


@pytest.mark.slow
def test_install_hint_resolves_as_printed_from_another_folder(tmp_path):
    command = shlex.split(install_hint("distributed"))
    done = subprocess.run([*command, "--dry-run", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("python", _old_pythons() or [None], ids=lambda p: Path(p).parts[-3] if p else "none")
@pytest.mark.parametrize(
    "start", [["-m", "funnelsim.cli", "--help"], ["-c", "import funnelsim"]], ids=["cli", "import"]
)
def test_an_older_python_is_told_in_one_line(python, start):
    if python is None:
        pytest.skip("no Python older than 3.12 on this machine")
    done = subprocess.run([python, *start], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "funnelsim needs Python 3.12 or newer" in done.stderr, done.stderr
