"""Shared set-up for the link- and network-layer tests (helpers: ``qstack_network_helpers``).

Every test runs with BLAS limited to one thread: the matrices are 4×4 … 16×16, where
multi-threaded BLAS only adds overhead. This changes no result.
"""

from __future__ import annotations

import pytest

from qstack.quantum import single_threaded_blas


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with single_threaded_blas():
        yield
