"""Test-suite settings shared by every folder.

Hypothesis runs derandomised (the same examples on every run, so CI is reproducible, as the
simulations are) with no example database and no per-example deadline (CI machines are
shared; speed is measured by the benchmarks in ``bench/``, never by tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import settings

settings.register_profile("qstack", derandomize=True, database=None, deadline=None)
settings.load_profile("qstack")

# The conformance tests import the tutorial plug-ins (examples/tutorials) and the broken plug-ins
# of tests/conformance by module name (one conftest.py per suite: pytest imports them all as
# "conftest", so a second one in a sub-folder would clash).
_HERE = Path(__file__).resolve().parent
for _p in (_HERE / "conformance", _HERE.parent / "examples" / "tutorials"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
