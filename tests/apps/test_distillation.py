"""End-to-end DEJMPS distillation run by the applications (qstack.apps.distillation).

End-to-end pairs over two Werner links of fidelity F (ideal swaps and memories) are Werner with
F_e2e = werner_swap_fidelity(F, F), Bell coefficients (F_e2e, e, e, e). One DEJMPS round on
two of them succeeds with probability N = (A + B)² + (C + D)² and leaves the Bell-diagonal
state of :func:`qstack.quantum.theory.dejmps`; k recurrence rounds succeed with probability
∏_j N_j^{2^{k−j}}. Output fidelities are checked exactly (1e-9) from the distilled pair's
state, success rates within 4 standard errors √(p(1 − p)/n).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.apps import run_app
from qstack.apps.distillation import Distillation, expected_distillation, pair_fidelity
from qstack.quantum import bell_coefficients, state_of, theory
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import StageError

ENDS = {"alice": "n0", "bob": "n2"}


def _chain(raw_fidelity: float, seed: int = 1):
    return load_scenario(linear_chain(3, seed=seed, raw_fidelity=raw_fidelity, t2="inf"))


def _werner(f: float) -> np.ndarray:
    return np.array([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3])


@pytest.mark.parametrize("raw_fidelity", [0.95, 0.9, 0.85])
def test_one_dejmps_round_matches_theory(raw_fidelity):
    """One round on Werner e2e pairs: the distilled pair's Bell coefficients equal
    theory.dejmps(F_e2e, e, e, e) to 1e-9 (so its fidelity does too, above F_e2e), and the
    success rate over 250 attempts is N within 4 SE; both ends agree on every attempt."""
    f = theory.werner_swap_fidelity(raw_fidelity, raw_fidelity)
    coefficients, p = theory.dejmps(_werner(f))
    n = 250
    r = run_app(Distillation(rounds=1, attempts=n), _chain(raw_fidelity, seed=7), ENDS)
    a, b = r.results["alice"], r.results["bob"]
    assert a.successes == b.successes
    rho = state_of([a.pair.touch(), b.pair.touch()])
    assert bell_coefficients(rho) == pytest.approx(coefficients, abs=1e-9)
    assert pair_fidelity(a.pair, b.pair) == pytest.approx(coefficients[0], abs=1e-9)
    assert coefficients[0] > f
    assert abs(a.success_rate - p) < 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("rounds", [2, 3])
def test_recurrence_rounds_iterate_the_dejmps_map(rounds):
    """k = 2 and 3 rounds on 2^k Werner e2e pairs of F_e2e = 0.8133 (links of 0.9): fidelity
    dejmps^k exactly (0.8915, 0.9429…), success probability N₁^{2^{k−1}}⋯N_k within 4 SE over 80
    attempts."""
    f = theory.werner_swap_fidelity(0.9, 0.9)
    c, p = _werner(f), 1.0
    for j in range(1, rounds + 1):
        c, n_j = theory.dejmps(c)
        p *= n_j ** (2 ** (rounds - j))
    assert expected_distillation(f, rounds) == pytest.approx((c[0], p), abs=1e-12)
    n = 80
    r = run_app(Distillation(rounds=rounds, attempts=n), _chain(0.9, seed=rounds), ENDS)
    a, b = r.results["alice"], r.results["bob"]
    assert pair_fidelity(a.pair, b.pair) == pytest.approx(c[0], abs=1e-9)
    assert abs(a.success_rate - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_perfect_pairs_always_pass_and_stay_perfect():
    """Φ⁺ inputs: both sacrificed qubits give equal bits every time and the kept pair stays Φ⁺."""
    r = run_app(Distillation(rounds=2, attempts=10), _chain(1.0), ENDS)
    a, b = r.results["alice"], r.results["bob"]
    assert a.successes == [True] * 10
    assert pair_fidelity(a.pair, b.pair) == pytest.approx(1.0, abs=1e-9)


def test_expected_distillation_one_round_is_bbpssw_on_werner_pairs():
    """On Werner inputs the first DEJMPS round equals BBPSSW: F' = (F² + e²)/N."""
    for f in (0.6, 0.8, 0.95):
        assert expected_distillation(f, 1) == pytest.approx(theory.bbpssw(f), abs=1e-12)


def test_distillation_needs_stage_three():
    """End memories of 1 ns put the chain at stage 2: refused before running."""
    d = linear_chain(3, seed=1)
    d["hardware"]["poor"] = {**d["hardware"]["default"], "t2": "1 ns", "t1": "1 s"}
    for node in d["nodes"]:
        if node["role"] == "end":
            node["hardware"] = "poor"
    with pytest.raises(StageError, match="stage 3"):
        run_app(Distillation(), load_scenario(d), ENDS)
