"""Distributed quantum computing: the nonlocal CNOT (Eisert et al. 2000) and a distributed
Deutsch–Jozsa over three nodes, checked against theory.

* Ideal links: the gate-teleported CNOT acts exactly as CNOT on every input — the four
  computational states, |+⟩|0⟩ (→ Φ⁺ shared by the nodes) and arbitrary superpositions —
  fidelity 1 to 1e-9.
* Werner links of fidelity F: the pair's Pauli error on the target's half becomes X on the
  target (X), Z on the control (Z) or both (Y): fidelity ``F + e(⟨X_t⟩² + ⟨Z_c⟩² + ⟨Z_cX_t⟩²)``
  in ``CNOT|ψ⟩``, e = (1 − F)/3 — (2F + 1)/3 on computational inputs, F for |+⟩|0⟩ — to 1e-9.
* Deutsch–Jozsa with the oracle split across nodes: y = a for f = a·x ⊕ c with certainty over
  ideal links; over Werner links every nonlocal CNOT flips its input's bit with q = 2(1 − F)/3:
  P(y = a) = (1 − q)^k exactly (from the state) and the verdict within 4 SE.
* Stages: the nonlocal CNOT needs stage 4 (≥ 17 qubits per node, errors ≤ 1e-3), the
  algorithm stage 5 (≥ 850 qubits, errors ≤ 1e-4); both are refused below.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import qutip

from qstack.apps import run_app
from qstack.apps.distributed import (
    ORACLES,
    DistributedDeutschJozsa,
    NonlocalCNOT,
    bell_ket,
    deutsch_jozsa_success,
    input_ket,
    nonlocal_cnot_fidelity,
    pair_fidelity,
)
from qstack.apps.ghz import star_scenario
from qstack.quantum import gates, state_of, theory
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import StageError

ENDS = {"control": "n0", "target": "n2"}
DJ_ROLES = {"alice": "l1", "bob": "l2", "charlie": "hub"}
INPUTS = [*itertools.product("01", "01"), ("+", "0"), ("+", "1"), ("+i", "-"), ((0.6, 0.8j), "+"),
          ((1, 2), (3, 1j))]


def _chain(raw_fidelity: float = 1.0, **hardware):
    return load_scenario(linear_chain(3, seed=2, raw_fidelity=raw_fidelity, t2="inf",
                                      **{"memory_positions": 20, **hardware}))


def _cnot_fidelity(control, target, scenario) -> float:
    r = run_app(NonlocalCNOT(control, target), scenario, ENDS)
    want = gates.CNOT * qutip.tensor(input_ket(control), input_ket(target))
    return pair_fidelity(r.results["control"], r.results["target"], want)


@pytest.mark.parametrize("control, target", INPUTS)
def test_nonlocal_cnot_over_ideal_links_is_exactly_cnot(control, target):
    """Ideal links, 2-link chain: output = CNOT|c, t⟩ with fidelity 1 for computational inputs,
    |+⟩|0⟩ (a Bell pair between the nodes) and arbitrary superpositions."""
    assert _cnot_fidelity(control, target, _chain()) == pytest.approx(1.0, abs=1e-9)


def test_nonlocal_cnot_makes_a_bell_pair_between_the_nodes():
    """|+⟩|0⟩ → Φ⁺: the two nodes end up sharing (|00⟩ + |11⟩)/√2."""
    r = run_app(NonlocalCNOT("+", "0"), _chain(), ENDS)
    assert pair_fidelity(r.results["control"], r.results["target"], bell_ket()) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("control, target", INPUTS)
def test_nonlocal_cnot_over_werner_links_matches_the_pauli_error_fidelity(control, target):
    """Werner links of F = 0.9 (F_e2e = 0.8133): fidelity F + e(⟨X_t⟩² + ⟨Z_c⟩² + ⟨Z_cX_t⟩²),
    exactly; computational inputs give (2F + 1)/3, |+⟩|0⟩ gives F."""
    f = theory.werner_swap_fidelity(0.9, 0.9)
    expected = nonlocal_cnot_fidelity(f, input_ket(control), input_ket(target))
    assert _cnot_fidelity(control, target, _chain(0.9)) == pytest.approx(expected, abs=1e-9)
    if isinstance(control, str) and control in "01" and target in ("0", "1"):
        assert expected == pytest.approx((2 * f + 1) / 3, abs=1e-12)
    if (control, target) == ("+", "0"):
        assert expected == pytest.approx(f, abs=1e-12)


def test_nonlocal_cnot_needs_stage_four():
    """Ten memory positions per node (below 17 per logical qubit), or gates erring at 1e-2, keep
    the network below stage 4: the nonlocal CNOT is refused before running."""
    with pytest.raises(StageError, match="stage 4"):
        run_app(NonlocalCNOT(), _chain(memory_positions=10), ENDS)
    with pytest.raises(StageError, match="stage 4"):
        run_app(NonlocalCNOT(), _chain(two_qubit_depolarizing=1e-2), ENDS)


def _dj_scenario(raw_fidelity: float = 1.0, seed: int = 3):
    return load_scenario(star_scenario(2, seed=seed, raw_fidelity=raw_fidelity, memory_positions=850))


@pytest.mark.parametrize("oracle", sorted(ORACLES))
def test_deutsch_jozsa_over_ideal_links_is_deterministic(oracle):
    """Ideal links: y = (a₁, a₂) with probability 1 (from the state, 1e-9) and the verdict
    (constant iff y = 00) is right in every one of 3 runs."""
    sc = _dj_scenario()
    r = run_app(DistributedDeutschJozsa(oracle, observe=True), sc, DJ_ROLES)
    rho = state_of([r.results["alice"].touch(), r.results["bob"].touch()]).full()
    a1, a2, _ = ORACLES[oracle]
    assert rho[2 * a1 + a2, 2 * a1 + a2].real == pytest.approx(1.0, abs=1e-9)
    r = run_app(DistributedDeutschJozsa(oracle, runs=3), sc, DJ_ROLES)
    for res in r.results["charlie"]:
        assert res.bits == (a1, a2)
        assert res.verdict == ("constant" if oracle.startswith("constant") else "balanced")


@pytest.mark.parametrize("oracle", ["x1", pytest.param("xor", marks=pytest.mark.slow)])
def test_deutsch_jozsa_over_werner_links_flips_each_cnot_input_with_probability_q(oracle):
    """Werner links of F = 0.85 (single link each): P(y = a) = (1 − q)^k, q = 2(1 − F)/3 = 0.1,
    k nonlocal CNOTs — exactly from the state; over 150 runs the rate of y = a and of correct
    verdicts (1 − q^k) fall within 4 SE."""
    f = 0.85
    sc = _dj_scenario(f, seed=9)
    exact, verdict = deutsch_jozsa_success(oracle, f)
    r = run_app(DistributedDeutschJozsa(oracle, observe=True), sc, DJ_ROLES)
    rho = state_of([r.results["alice"].touch(), r.results["bob"].touch()]).full()
    a1, a2, _ = ORACLES[oracle]
    assert rho[2 * a1 + a2, 2 * a1 + a2].real == pytest.approx(exact, abs=1e-9)
    assert exact == pytest.approx(0.9 ** (int(a1) + int(a2)), abs=1e-12)
    n = 150
    results = run_app(DistributedDeutschJozsa(oracle, runs=n), sc, DJ_ROLES).results["charlie"]
    right_bits = np.mean([res.bits == (a1, a2) for res in results])
    right_verdict = np.mean([res.verdict == "balanced" for res in results])
    assert abs(right_bits - exact) < 4 * math.sqrt(exact * (1 - exact) / n)
    assert abs(right_verdict - verdict) < 4 * math.sqrt(verdict * (1 - verdict) / n) + 1 / n


def test_distributed_algorithm_needs_stage_five():
    """Twenty memory positions per link (a stage-4 network) are not enough for the stage-5
    algorithm: refused before running, naming stage 5."""
    sc = load_scenario(star_scenario(2, seed=1, memory_positions=20))
    with pytest.raises(StageError, match="stage 5"):
        run_app(DistributedDeutschJozsa("xor"), sc, DJ_ROLES)


def test_input_ket_rejects_unknown_states():
    """State labels are 0, 1, ±, ±i or two amplitudes, not all zero."""
    with pytest.raises(ValueError, match="unknown state"):
        input_ket("2")
    with pytest.raises(ValueError, match="two amplitudes"):
        input_ket((0, 0))
