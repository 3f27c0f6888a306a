"""The README's Python snippet, saved as a script and run as a user would."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_snippet() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(r"The same from Python[^\n]*\n\n```python\n(.*?)```", text, re.S)
    assert found, "the README's Python snippet is gone"
    return found.group(1)


def test_the_readme_snippet_runs_as_a_script_with_workers(tmp_path):
    code = readme_snippet()
    assert "workers=2" in code and 'if __name__ == "__main__":' in code
    script = tmp_path / "snippet.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "revenue" in done.stdout and "ci95_low" in done.stdout  # the summary it prints
