"""The conformance tests import the tutorial plug-ins (examples/tutorials) and the broken ones here."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TUTORIALS = HERE.parents[1] / "examples" / "tutorials"
for p in (HERE, TUTORIALS):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
