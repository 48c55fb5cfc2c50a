"""Test-suite settings shared by every folder.

Hypothesis runs derandomised (the same examples on every run, so CI is reproducible, as the
simulations are) with no example database and no per-example deadline (CI machines are
shared; speed is measured by the benchmarks in ``bench/``, never by tests).
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("qstack", derandomize=True, database=None, deadline=None)
settings.load_profile("qstack")
