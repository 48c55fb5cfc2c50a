"""Shared setup for the state-core physics tests.

Every test runs with BLAS limited to one thread (qstack.quantum.single_threaded_blas): the
matrices here are 2×2 … 256×256, where multi-threaded BLAS only adds overhead and, on a loaded
machine, was measured to stall a fast-path swap from ~0.1 ms to ~7 ms. This changes no result.
"""

from __future__ import annotations

import pytest

from qstack.quantum import single_threaded_blas


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with single_threaded_blas():
        yield
