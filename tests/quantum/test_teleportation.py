"""Quantum teleportation (Bennett et al. 1993).

|ψ⟩_s |Φ⁺⟩_lr = ½ Σ_k |β_k⟩_sl σ_k|ψ⟩_r with σ = I, Z, X, XZ for Φ⁺, Φ⁻, Ψ⁺, Ψ⁻: a Bell
measurement of (source, local) with outcome k and the correction σ_k⁻¹ (I, Z, X, Z·X up to phase)
on the remote qubit reproduce |ψ⟩ exactly. Over a Werner resource of parameter w the corrected
output is w|ψ⟩⟨ψ| + (1−w) I/2 for every input and outcome, so the fidelity is
(1 + w)/2 = (2F + 1)/3 (Horodecki et al. 1999) — and the six Pauli eigenstates, a 2-design, give
the same average as the uniform (Haar) average.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from qstack_quantum_refs import PAULI_EIGENSTATES, random_dm, random_ket, werner_dm

from qstack.quantum import (
    GateNoise,
    QubitDeadError,
    bell_state,
    create_qubits,
    fidelity,
    state_of,
    teleport,
    theory,
    werner,
)

TOL = 1e-12


def _teleport_each_outcome(source_state, resource, noise=None, max_seeds=300):
    """Teleport ``source_state`` over ``resource`` with seeds 0, 1, … until every Bell outcome was
    seen; returns {k: remote density matrix}."""
    seen = {}
    for seed in range(max_seeds):
        s, = create_qubits(1, source_state)
        local, remote = create_qubits(2, resource)
        k = teleport(s, local, remote, np.random.default_rng(seed), noise)
        seen.setdefault(k, state_of([remote]).full())
        if len(seen) == 4:
            return seen
    raise AssertionError(f"outcomes seen: {sorted(seen)}")


@pytest.mark.parametrize("seed", range(5))
def test_ideal_teleportation_reproduces_a_random_pure_state_for_every_outcome(seed):
    """Over a perfect Φ⁺ the corrected remote qubit is exactly |ψ⟩⟨ψ| whatever the outcome."""
    v = random_ket(np.random.default_rng(seed))
    target = np.outer(v, v.conj())
    for k, rho in _teleport_each_outcome(v, bell_state(0)).items():
        assert np.max(np.abs(rho - target)) < TOL, k


def test_ideal_teleportation_transfers_mixed_states_and_entanglement():
    """Teleportation is the identity channel: a mixed source arrives unchanged, and half of a
    Bell pair teleported keeps the entanglement with its partner (entanglement swapping)."""
    rho = random_dm(np.random.default_rng(80), 1)
    for k, out in _teleport_each_outcome(rho, bell_state(0)).items():
        assert np.max(np.abs(out - rho)) < TOL, k
    seen = set()
    for seed in range(40):
        p, s = create_qubits(2, bell_state(2))
        local, remote = create_qubits(2, bell_state(0))
        seen.add(teleport(s, local, remote, np.random.default_rng(seed)))
        assert np.max(np.abs(state_of([p, remote]).full() - bell_state(2).proj().full())) < TOL
    assert seen == {0, 1, 2, 3}


@pytest.mark.parametrize("f", [0.5, 0.75, 0.9, 1.0])
def test_teleportation_over_werner_resource_averages_2F_plus_1_over_3(f):
    """With a Werner resource of fidelity F: for each of the 6 Pauli eigenstates and each outcome the
    corrected output is w|ψ⟩⟨ψ| + (1−w)I/2 (w = (4F−1)/3), identical across outcomes, and its
    fidelity averaged over this 2-design is (2F + 1)/3 (theory.teleportation_average_fidelity)."""
    w = (4 * f - 1) / 3
    fids = []
    for psi in PAULI_EIGENSTATES:
        expected = w * psi.proj().full() + (1 - w) * np.eye(2) / 2
        outs = _teleport_each_outcome(psi, werner(f))
        for k, rho in outs.items():
            assert np.max(np.abs(rho - expected)) < 1e-9, k
        fids.append(fidelity(outs[0], psi))
    assert np.mean(fids) == pytest.approx(theory.teleportation_average_fidelity(f), abs=1e-9)
    assert np.mean(fids) == pytest.approx((2 * f + 1) / 3, abs=1e-9)


def test_pauli_eigenstate_average_equals_haar_average_for_a_non_werner_resource():
    """The 6 Pauli eigenstates form a 2-design, so for any channel their average fidelity equals
    the Haar average F̄ = (2 F_e + 1)/3 with F_e the entanglement fidelity ⟨Φ⁺|ρ_res|Φ⁺⟩
    (teleportation over a resource ρ is the Pauli channel with probabilities λ_i = Bell weights;
    here λ = (0.7, 0.2, 0.1, 0) — not Werner — and the outcome-averaged output is compared)."""
    lam = [0.7, 0.2, 0.1, 0.0]
    from qstack.quantum import bell_diagonal

    res = bell_diagonal(lam)
    fids = []
    for psi in PAULI_EIGENSTATES:
        outs = _teleport_each_outcome(psi, res)
        fids.append(np.mean([fidelity(o, psi) for o in outs.values()]))
    assert np.mean(fids) == pytest.approx((2 * 0.7 + 1) / 3, abs=1e-9)


def test_teleportation_with_readout_errors_is_a_pauli_channel():
    """Readout error e on the two BSM bits applies a wrong Z (phase bit) or X (parity bit): the
    output is (1−e)²ρ + e(1−e)(ZρZ + XρX) + e² YρY, whose average fidelity over the 2-design is
    (1−e)² + (1 − (1−e)²)/3. For the input |+⟩ only the Z part hurts: each run's output is |+⟩ or
    |−⟩ exactly, and |−⟩ occurs with frequency within 4 SE of P(phase bit flipped) = e."""
    e = 0.15
    noise = GateNoise(readout_error=e)
    psi = PAULI_EIGENSTATES[2]  # |+⟩: a Z error flips it, X leaves it, Y flips it
    n = 1000
    rng = np.random.default_rng(81)
    wrong = 0
    for _ in range(n):
        s, = create_qubits(1, psi)
        local, remote = create_qubits(2, bell_state(0))
        teleport(s, local, remote, rng, noise)
        f = fidelity(state_of([remote]), psi)
        assert f == pytest.approx(1.0, abs=1e-9) or f == pytest.approx(0.0, abs=1e-9)
        wrong += f < 0.5
    p_wrong = 1 - ((1 - e) ** 2 + e * (1 - e))  # |+⟩ survives I and X errors
    assert abs(wrong / n - p_wrong) <= 4 * math.sqrt(p_wrong * (1 - p_wrong) / n)
    assert p_wrong == pytest.approx(e, abs=TOL)  # only the phase bit matters for |+⟩


def test_teleportation_consumes_source_and_local_qubits():
    """The source and the local half are measured ('measured'); the remote qubit lives on alone."""
    s, = create_qubits(1, qutip.basis(2, 1))
    local, remote = create_qubits(2, bell_state(0))
    teleport(s, local, remote, np.random.default_rng(3))
    for q in (s, local):
        with pytest.raises(QubitDeadError, match="measured"):
            state_of([q])
    assert remote.group.qubits == [remote]


def test_teleportation_fidelity_formula_at_the_classical_limit():
    """F = ½ (a separable Werner state) gives (2·½ + 1)/3 = 2/3: the best classical
    measure-and-prepare average fidelity."""
    assert theory.teleportation_average_fidelity(0.5) == pytest.approx(2 / 3, abs=TOL)
    # The Werner state at F = ½ is w = 1/3: w|Φ⁺⟩⟨Φ⁺| + (1−w)I/4 has no negative partial transpose.
    pt = qutip.partial_transpose(qutip.Qobj(werner_dm(1 / 3), dims=[[2, 2], [2, 2]]), [0, 1])
    assert min(pt.eigenenergies()) == pytest.approx(0.0, abs=TOL)


@pytest.mark.parametrize("p1,p2", [(0.0, 0.2), (0.3, 0.0), (0.12, 0.07)])
def test_teleportation_with_gate_noise_is_depolarizing_plus_dephasing(p1, p2):
    """Gate noise in the Bell measurement, per outcome and exactly:
    * two-qubit depolarising p₂ after the CNOT replaces (source, local) by I/4 ⊗ (remote marginal
      I/2), erasing the outcome's information: a fraction p₂ of the output is I/2;
    * one-qubit depolarising p₁ after H applies X, Y, Z to the source with p₁/4 each; X and Y flip
      the phase bit (a wrong Z correction), Z is invisible to the Z measurement.
    So ρ_out = (1−p₂)[(1 − p₁/2)|ψ⟩⟨ψ| + (p₁/2) Z|ψ⟩⟨ψ|Z] + p₂ I/2, with 2-design average fidelity
    (1−p₂)(1 − p₁/2 + p₁/6) + p₂/2."""
    noise = GateNoise(single_qubit_depolarizing=p1, two_qubit_depolarizing=p2)
    z = np.diag([1.0, -1.0])
    fids = []
    for psi in PAULI_EIGENSTATES:
        r = psi.proj().full()
        expected = (1 - p2) * ((1 - p1 / 2) * r + (p1 / 2) * z @ r @ z) + p2 * np.eye(2) / 2
        outs = _teleport_each_outcome(psi, bell_state(0), noise)
        for k, rho in outs.items():
            assert np.max(np.abs(rho - expected)) < TOL, k
        fids.append(fidelity(outs[0], psi))
    assert np.mean(fids) == pytest.approx((1 - p2) * (1 - p1 / 2 + p1 / 6) + p2 / 2, abs=1e-9)
