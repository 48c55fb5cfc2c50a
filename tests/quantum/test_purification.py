"""Entanglement purification: BBPSSW (Bennett et al., PRL 76, 722 (1996)) and DEJMPS
(Deutsch et al., PRL 77, 2818 (1996)).

Both apply bilateral CNOTs (keep → sacrifice) and Z-measure the sacrificed pair; success when
Alice's and Bob's bits agree. Bell states are labelled by (parity bit, phase bit); bilateral CNOT
XORs the parity of the kept pair into the sacrificed pair and the phase of the sacrificed pair into
the kept one, so success keeps only pairs of equal parity.

BBPSSW twirls both pairs to Werner form first: with e = (1 − F)/3,
p = F² + 2Fe + 5e², F' = (F² + e²)/p.
DEJMPS rotates Alice by Rx(π/2) and Bob by Rx(−π/2) (swapping Φ⁻ ↔ Ψ⁻), then with
A, B, C, D = λ(Φ⁺), λ(Ψ⁻), λ(Ψ⁺), λ(Φ⁻): N = (A+B)² + (C+D)², and the kept pair has
λ' = ((A²+B²), 2AB, (C²+D²), 2CD)/N in the order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from qstack_quantum_refs import CNOT, KET0, KET1, bell_basis_matrix, op_on, qobj_dm, random_dm

from qstack.quantum import (
    QubitDeadError,
    bell_coefficients,
    bell_diagonal,
    bell_state,
    create_qubits,
    fidelity,
    gates,
    purify,
    state_of,
    theory,
    werner,
)

TOL = 1e-12


def _dejmps_reference(rho1: np.ndarray, rho2: np.ndarray) -> dict[int, qutip.Qobj]:
    """Plain-qutip DEJMPS on pairs (a1, b1), (a2, b2) (qutip order a1, b1, a2, b2): returns the
    unnormalised kept state for the agreeing outcomes m = 0 (|00⟩) and m = 1 (|11⟩) of (a2, b2)."""
    r = qutip.tensor(qobj_dm(rho1), qobj_dm(rho2))
    for q, theta in ((0, np.pi / 2), (2, np.pi / 2), (1, -np.pi / 2), (3, -np.pi / 2)):
        u = op_on(gates.rx(theta), 4, q)
        r = u * r * u.dag()
    for ctl, tgt in ((0, 2), (1, 3)):
        u = op_on(CNOT, 4, ctl, tgt)
        r = u * r * u.dag()
    out = {}
    for m, ket in ((0, KET0), (1, KET1)):
        proj = op_on(ket.proj(), 4, 2) * op_on(ket.proj(), 4, 3)
        out[m] = (proj * r * proj).ptrace([0, 1])
    return out


def _until_success(make, protocol, max_seeds=200):
    for seed in range(max_seeds):
        keep, sac = make()
        if purify(keep, sac, np.random.default_rng(seed), protocol):
            return keep
    raise AssertionError("no success")


@pytest.mark.parametrize("seed", range(6))
def test_dejmps_on_bell_diagonal_pairs_follows_the_deutsch_map(seed):
    """After a successful DEJMPS round on two copies of a random Bell-diagonal state, the kept pair
    is Bell-diagonal with coefficients theory.dejmps(λ) — the state is deterministic given success."""
    lam = np.random.default_rng(seed).dirichlet(np.ones(4))

    def make():
        return tuple(create_qubits(2, bell_diagonal(lam))), tuple(create_qubits(2, bell_diagonal(lam)))

    a1, b1 = _until_success(make, "dejmps")
    rho = state_of([a1, b1]).full()
    expected, _ = theory.dejmps(lam)
    assert bell_coefficients(rho) == pytest.approx(expected, abs=1e-9)
    assert np.max(np.abs(bell_basis_matrix(rho) - np.diag(expected))) < 1e-9  # Bell-diagonal


def test_dejmps_theory_map_written_out_for_one_state():
    """Explicit numbers: λ = (0.7, 0.1, 0.15, 0.05) → A,B,C,D = 0.7, 0.05, 0.15, 0.1;
    N = 0.75² + 0.25² = 0.625; λ' = (0.4940, 2·0.7·0.05, 0.0325, 2·0.15·0.1)/N."""
    lam, n = theory.dejmps([0.7, 0.1, 0.15, 0.05])
    assert n == pytest.approx(0.625, abs=TOL)
    assert lam == pytest.approx(np.array([0.7**2 + 0.05**2, 0.07, 0.15**2 + 0.1**2, 0.03]) / 0.625, abs=TOL)


@pytest.mark.parametrize("seed", range(3))
def test_dejmps_success_probability_equals_N_of_the_deutsch_map(seed):
    """P(success) = (A+B)² + (C+D)²: exactly from the qutip circuit (trace of the agreeing
    branches), and in frequency over purify() runs within 4 standard errors."""
    lam = np.random.default_rng(100 + seed).dirichlet(np.ones(4))
    _, n_theory = theory.dejmps(lam)
    ref = _dejmps_reference(bell_diagonal(lam).full(), bell_diagonal(lam).full())
    assert float(sum(r.tr() for r in ref.values()).real) == pytest.approx(n_theory, abs=TOL)
    runs = 1000
    rng = np.random.default_rng(200 + seed)
    wins = sum(
        purify(tuple(create_qubits(2, bell_diagonal(lam))), tuple(create_qubits(2, bell_diagonal(lam))), rng, "dejmps")
        for _ in range(runs)
    )
    assert abs(wins / runs - n_theory) <= 4 * math.sqrt(n_theory * (1 - n_theory) / runs)


def test_dejmps_on_arbitrary_states_equals_the_qutip_circuit():
    """For random (non-Bell-diagonal) input pairs, a successful DEJMPS round leaves the kept pair in
    one of the two agreeing-outcome branches Tr[Π_mm ρ' Π_mm]/P_mm of the qutip circuit (1e-12),
    and both branches occur."""
    rng = np.random.default_rng(70)
    rho1, rho2 = random_dm(rng, 2), random_dm(rng, 2)
    ref = _dejmps_reference(rho1, rho2)
    cands = {m: (r / r.tr()).full() for m, r in ref.items()}
    seen = set()
    for seed in range(60):
        keep, sac = tuple(create_qubits(2, rho1)), tuple(create_qubits(2, rho2))
        if not purify(keep, sac, np.random.default_rng(seed), "dejmps"):
            continue
        got = state_of(list(keep)).full()
        match = [m for m, c in cands.items() if np.max(np.abs(got - c)) < TOL]
        assert len(match) == 1
        seen.add(match[0])
    assert seen == {0, 1}


@pytest.mark.parametrize("f", [0.55, 0.7, 0.8, 0.9, 0.99])
def test_bbpssw_on_werner_pairs_gives_bennett_fidelity(f):
    """BBPSSW on Werner pairs: F' = (F² + e²)/(F² + 2Fe + 5e²) with e = (1−F)/3 (theory.bbpssw);
    for F > ½ the output is better than the input."""
    def make():
        return tuple(create_qubits(2, werner(f))), tuple(create_qubits(2, werner(f)))

    a1, b1 = _until_success(make, "bbpssw")
    f_new, _ = theory.bbpssw(f)
    assert fidelity(state_of([a1, b1]), bell_state(0)) == pytest.approx(f_new, abs=1e-9)
    e = (1 - f) / 3
    assert f_new == pytest.approx((f * f + e * e) / (f * f + 2 * f * e + 5 * e * e), abs=TOL)
    assert f_new > f


def test_bbpssw_twirl_makes_the_result_depend_only_on_the_input_fidelity():
    """Because BBPSSW twirls first, a Bell-diagonal (non-Werner) input of fidelity F gives the same
    F' as a Werner input of fidelity F."""
    lam = [0.8, 0.15, 0.05, 0.0]

    def make():
        return tuple(create_qubits(2, bell_diagonal(lam))), tuple(create_qubits(2, bell_diagonal(lam)))

    a1, b1 = _until_success(make, "bbpssw")
    assert fidelity(state_of([a1, b1]), bell_state(0)) == pytest.approx(theory.bbpssw(0.8)[0], abs=1e-9)


@pytest.mark.parametrize("f", [0.6, 0.85])
def test_bbpssw_success_frequency_matches_the_success_probability(f):
    """Success with probability p = F² + 2F(1−F)/3 + 5((1−F)/3)², within 4 standard errors."""
    _, p = theory.bbpssw(f)
    runs = 1000
    rng = np.random.default_rng(71)
    wins = sum(
        purify(tuple(create_qubits(2, werner(f))), tuple(create_qubits(2, werner(f))), rng, "bbpssw")
        for _ in range(runs)
    )
    assert abs(wins / runs - p) <= 4 * math.sqrt(p * (1 - p) / runs)


def test_bbpssw_and_dejmps_agree_on_werner_inputs():
    """On Werner inputs (A = F, B = C = D = e) the DEJMPS map reduces to BBPSSW's F' and p."""
    for f in (0.6, 0.75, 0.95):
        lam, n = theory.dejmps([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3])
        f_b, p_b = theory.bbpssw(f)
        assert lam[0] == pytest.approx(f_b, abs=TOL) and n == pytest.approx(p_b, abs=TOL)


@pytest.mark.parametrize("protocol", ["bbpssw", "dejmps"])
def test_failed_purification_leaves_all_four_qubits_dead(protocol):
    """On failure the kept pair is discarded ('discarded') and the sacrificed pair was measured
    ('measured'); on success the kept pair is alive and the sacrificed one measured."""
    outcomes = set()
    for seed in range(40):
        keep, sac = tuple(create_qubits(2, werner(0.6))), tuple(create_qubits(2, werner(0.6)))
        ok = purify(keep, sac, np.random.default_rng(seed), protocol)
        outcomes.add(ok)
        for q in sac:
            with pytest.raises(QubitDeadError, match="measured"):
                state_of([q])
        for q in keep:
            if ok:
                assert q.alive
            else:
                with pytest.raises(QubitDeadError, match="discarded"):
                    state_of([q])
    assert outcomes == {True, False}


def test_purify_refuses_unknown_protocol_and_repeated_qubits():
    """Only 'bbpssw' and 'dejmps' exist; the four qubits must be distinct."""
    keep, sac = tuple(create_qubits(2, werner(0.9))), tuple(create_qubits(2, werner(0.9)))
    with pytest.raises(ValueError, match="protocol"):
        purify(keep, sac, np.random.default_rng(0), "pumping")
    with pytest.raises(ValueError, match="distinct"):
        purify(keep, keep, np.random.default_rng(0))
    assert all(q.alive for q in keep + sac)
