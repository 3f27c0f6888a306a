"""`import funnelsim`: the public API, imported on first use so the import itself stays cheap."""

from __future__ import annotations

import subprocess
import sys

import funnelsim

HEAVY = ("pandas", "scipy", "mesa", "pydantic", "numpy", "matplotlib")


def test_import_funnelsim_imports_no_heavy_module():
    code = f"import sys, funnelsim; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_public_names_are_there_on_first_use():
    assert set(funnelsim.__all__) <= set(dir(funnelsim))
    from funnelsim.experiment.compare import compare
    from funnelsim.scenario.loader import load_scenario

    assert funnelsim.compare is compare and funnelsim.load_scenario is load_scenario
    for name in funnelsim.__all__:
        assert getattr(funnelsim, name) is not None
    assert isinstance(funnelsim.__version__, str)


def test_an_unknown_name_is_an_attribute_error():
    try:
        funnelsim.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("expected AttributeError")
