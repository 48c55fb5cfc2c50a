"""The README's Python examples run as written (and print what their comments promise)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs_and_prints_its_promised_number(code):
    """Each block runs; a printed value matches the number its comment states (e.g. 0.81333…
    for two swapped Werner pairs of fidelity 0.9, or (2F + 1)/3 = 0.8755… for teleportation)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    promised = re.findall(r"#\s*\[?(0\.\d+)…", code)
    for value in promised:
        assert value in out.getvalue(), (value, out.getvalue())
