"""Whatever is done to a valid export, reading it gives tables or the project's error, nothing else."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnelsim.calibrate.canonical import CrmData
from funnelsim.calibrate.layouts import write_export
from funnelsim.calibrate.problems import CrmDataError
from funnelsim.calibrate.reader import read_export
from tests.calibrate.sample import sample

LAYOUTS = ("salesforce", "hubspot")
CELLS = st.one_of(
    st.sampled_from(["", " ", "true", "false", "Closed Won", "O1", "L1", "$1,000.00", "1/5/2026 9:30 AM", "NaN"]),
    st.sampled_from(["2026-01-05T09:30:00.000+0000", "9999-12-31", "0000-00-00", "2026-02-30", "-1", "1e400"]),
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def exports():
    root = Path(tempfile.mkdtemp())
    for layout in LAYOUTS:
        write_export(sample(), layout, root / layout)
    yield root
    shutil.rmtree(root)


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def text_of(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


@st.composite
def mutation(draw, rows: list[list[str]]) -> str:
    kind = draw(st.sampled_from(["cell", "drop_column", "duplicate", "shuffle", "truncate", "bytes"]))
    if kind == "cell":
        for _ in range(draw(st.integers(1, 4))):
            r = draw(st.integers(0, len(rows) - 1))
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = draw(CELLS)
    elif kind == "drop_column":
        c = draw(st.integers(0, len(rows[0]) - 1))
        rows = [r[:c] + r[c + 1 :] for r in rows]
    elif kind == "duplicate":
        r = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
        rows = [*rows, rows[r]]
    elif kind == "shuffle":
        rows = [rows[0], *draw(st.permutations(rows[1:]))]
    text = text_of(rows)
    if kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    if kind == "bytes":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(min_size=1, max_size=4)) + text[at:]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mutated_export_is_read_or_refused(exports, data):
    layout = data.draw(st.sampled_from(LAYOUTS))
    source = exports / layout
    files = sorted(p.name for p in source.iterdir())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in files:
            shutil.copy(source / name, folder / name)
        for name in data.draw(st.lists(st.sampled_from(files), min_size=1, max_size=3, unique=True)):
            rows = table((source / name).read_text(encoding="utf-8"))
            (folder / name).write_text(data.draw(mutation(rows)), encoding="utf-8")
        if data.draw(st.booleans()):
            (folder / data.draw(st.sampled_from(files))).unlink()
        try:
            crm = read_export(folder, layout)
        except CrmDataError as err:
            assert str(err) and err.exit_code == 2
        else:
            assert isinstance(crm, CrmData)
