"""The exact Bell-diagonal engine's operations against the density-matrix operations.

Each family-preserving operation on the four Bell coefficients (``λ_Φ⁺, λ_Φ⁻, λ_Ψ⁺, λ_Ψ⁻``) must
give the density-matrix result to 1e-12 and consume the same random draws; anything else builds
the exact 4×4 density matrix first (lazy materialisation), so users still see ``Qobj``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from qstack.physical.memory import DepolarizingNoise, QuantumMemory, T1T2Noise
from qstack.quantum import kernels, theory
from qstack.quantum.core import adopt_bell, adopt_pair, adopt_state, bell_form, measure, reduced_dm, state_of
from qstack.quantum.noise import GateNoise, amplitude_damping, depolarizing
from qstack.quantum.operations import entanglement_swap, purify, twirl
from qstack.quantum.states import bell_coefficients, bell_diagonal

NOISES = [None, GateNoise(), GateNoise(0.02, 0.05, 0.0), GateNoise(0.0, 0.0, 0.1), GateNoise(0.03, 0.04, 0.07)]


def _pairs(lam: np.ndarray, bell: bool):
    return adopt_bell(np.array(lam, dtype=float)) if bell else adopt_state(kernels.bell_to_dm(lam))


def test_bell_form_round_trips_and_detects_non_bell_diagonal_states():
    """``bell_to_dm`` is ``Σ λ_k |β_k⟩⟨β_k|`` (checked against the qutip Bell states) and
    ``bell_form`` reads it back; a product state |00⟩ is not Bell-diagonal."""
    lam = [0.6, 0.2, 0.15, 0.05]
    ref = bell_diagonal(lam).full()
    assert np.max(np.abs(kernels.bell_to_dm(lam) - ref)) <= 1e-15
    assert np.max(np.abs(bell_form(ref) - lam)) <= 1e-15
    assert bell_form(np.diag([1.0, 0, 0, 0]).astype(complex)) is None


@pytest.mark.parametrize("correct", [True, False])
@pytest.mark.parametrize("noise", NOISES)
def test_swap_of_every_bell_state_pair_equals_the_density_matrix_swap(noise, correct):
    """All 16 pairs of Bell-state inputs (and a mixed pair): same reported outcome, same random
    draws consumed, and (a, d)'s state equal to 1e-12, with depolarising gate noise and readout
    flips; the output stays in Bell form."""
    inputs = [(np.eye(4)[i], np.eye(4)[j]) for i in range(4) for j in range(4)]
    inputs.append((np.array([0.7, 0.1, 0.15, 0.05]), np.array([0.55, 0.25, 0.1, 0.1])))
    for lam, mu in inputs:
        for seed in range(6):
            out = []
            for bell in (False, True):
                rng = np.random.default_rng(seed)
                a, b = _pairs(lam, bell)
                c, d = _pairs(mu, bell)
                k = entanglement_swap(a, b, c, d, rng, noise, correct)
                assert (a.group.bell is not None) == bell
                out.append((k, reduced_dm([a, d]), rng.random()))
            (k0, rho0, r0), (k1, rho1, r1) = out
            assert k0 == k1 and r0 == r1
            assert np.max(np.abs(rho0 - rho1)) <= 1e-12


def test_ideal_swap_on_bell_states_follows_the_pauli_rule():
    """Uncorrected, the swap of β_i and β_j with outcome k leaves β_{i⊕j⊕k} exactly."""
    for i in range(4):
        for j in range(4):
            a, b = adopt_bell(np.eye(4)[i].copy())
            c, d = adopt_bell(np.eye(4)[j].copy())
            k = entanglement_swap(a, b, c, d, np.random.default_rng(i * 4 + j), None, correct=False)
            assert np.max(np.abs(a.group.bell - np.eye(4)[i ^ j ^ k])) <= 1e-15


@pytest.mark.parametrize("noise", [T1T2Noise(t2=0.3), DepolarizingNoise(0.2)])
def test_pauli_memory_decay_on_bell_coefficients_equals_the_density_matrix_channel(noise):
    """Dephasing (T1 = inf) and depolarising memories on either half, several steps: the Bell
    form equals the density-matrix channel to 1e-12 and stays a Bell form."""
    lam = np.array([0.8, 0.1, 0.06, 0.04])
    results = []
    for bell in (False, True):
        mem = QuantumMemory("m", 2, noise=noise)
        a, b = _pairs(lam, bell)
        mem.store(a, 0.0, 0)
        mem.store(b, 0.0, 1)
        for t in (0.01, 0.05, 0.2):
            mem.peek(0, t)
            mem.peek(1, t / 2)
        assert (a.group.bell is not None) == bell
        results.append(reduced_dm([a, b]))
    assert np.max(np.abs(results[0] - results[1])) <= 1e-12
    # and the analytic value: dephasing multiplies the Φ⁺/Φ⁻ and Ψ⁺/Ψ⁻ coherences by e^{-t/T2} per half
    if isinstance(noise, T1T2Noise):
        c = math.exp(-0.2 / 0.3) * math.exp(-0.1 / 0.3)
        lam2 = bell_coefficients(results[1])
        assert abs((lam2[0] - lam2[1]) - c * (lam[0] - lam[1])) <= 1e-12


def test_amplitude_damping_memory_materialises_and_equals_the_density_matrix_run():
    """T1 < inf leaves the family: the group becomes a density matrix, equal to the DM run."""
    noise = T1T2Noise(t1=0.5, t2=0.3)
    assert not noise.keeps_bell_diagonal
    out = []
    for bell in (False, True):
        mem = QuantumMemory("m", 1, noise=noise)
        a, b = _pairs(np.array([0.9, 0.05, 0.03, 0.02]), bell)
        mem.store(a, 0.0, 0)
        mem.peek(0, 0.1)
        assert a.group.bell is None
        out.append(reduced_dm([a, b]))
    assert np.max(np.abs(out[0] - out[1])) <= 1e-15
    assert bell_form(out[1]) is None  # amplitude damping really left the family


def test_apply_channel_and_gates_materialise_lazily_and_users_see_qobj():
    """A channel outside the family (amplitude damping) or a measurement in Z on a Bell group
    acts on the exact density matrix; ``state_of`` gives a Qobj and leaves the Bell form."""
    from qstack.quantum.core import apply_channel

    lam = np.array([0.7, 0.1, 0.1, 0.1])
    a, b = adopt_bell(lam.copy())
    q = state_of([a, b])
    assert q.dims == [[2, 2], [2, 2]] and a.group.bell is not None
    assert np.max(np.abs(q.full() - bell_diagonal(lam).full())) <= 1e-15
    apply_channel([a], amplitude_damping(0.3))
    assert a.group.bell is None
    ref_a, ref_b = adopt_state(kernels.bell_to_dm(lam))
    apply_channel([ref_a], amplitude_damping(0.3))
    assert np.max(np.abs(reduced_dm([a, b]) - reduced_dm([ref_a, ref_b]))) <= 1e-15
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    assert measure(a, "X", r1) == measure(ref_a, "X", r2)


def test_twirl_on_bell_coefficients_equals_the_twirl_channel():
    """The Werner twirl keeps λ_Φ⁺ and shares the rest equally, as the channel does."""
    lam = np.array([0.6, 0.3, 0.08, 0.02])
    a, b = adopt_bell(lam.copy())
    twirl(a, b)
    c, d = adopt_state(kernels.bell_to_dm(lam))
    twirl(c, d)
    assert a.group.bell is not None
    assert np.max(np.abs(reduced_dm([a, b]) - reduced_dm([c, d]))) <= 1e-15
    assert np.allclose(a.group.bell, [0.6, 0.4 / 3, 0.4 / 3, 0.4 / 3], atol=1e-15)


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
def test_purification_of_bell_diagonal_pairs_matches_the_density_matrix_run_and_theory(protocol):
    """Same success, same draws, same output to 1e-12 on both engines; the ideal DEJMPS output
    on success is the Deutsch et al. map A' = (A²+B²)/N, B' = 2CD/N, C' = (C²+D²)/N,
    D' = 2AB/N with N = (A+B)² + (C+D)² (A = Φ⁺, B = Ψ⁻, C = Ψ⁺, D = Φ⁻)."""
    lam = np.array([0.8, 0.1, 0.06, 0.04])
    for seed in range(8):
        res = []
        for bell in (False, True):
            rng = np.random.default_rng(seed)
            k = list(_pairs(lam, bell))  # copies: merging extends a group's own qubit list
            s = list(_pairs(lam, bell))
            ok = purify(tuple(k), tuple(s), rng, protocol, GateNoise(0.01, 0.02, 0.01) if seed % 2 else None)
            res.append((ok, reduced_dm(k) if ok else None, rng.random(), seed % 2))
        (ok0, r0, x0, noisy), (ok1, r1, x1, _) = res
        assert ok0 == ok1 and x0 == x1
        if ok0:
            assert np.max(np.abs(r0 - r1)) <= 1e-12
            if protocol == "dejmps" and not noisy:
                a, d, c, b_ = lam  # the paper's A = Φ⁺, B = Ψ⁻, C = Ψ⁺, D = Φ⁻
                n = (a + b_) ** 2 + (c + d) ** 2
                expect = np.array([a * a + b_ * b_, 2 * a * b_, c * c + d * d, 2 * c * d]) / n
                assert np.max(np.abs(expect - theory.dejmps_two(lam, lam)[0])) <= 1e-15
                assert np.max(np.abs(bell_coefficients(r1) - expect)) <= 1e-12


@dataclass(frozen=True, slots=True)
class _AmplitudeDampingGates(GateNoise):
    """A gate model with amplitude damping after each gate: outside the family."""

    gamma: float = 0.1

    def after_gate(self, dm, positions, n):
        for p in positions:
            dm = kernels.apply_superop(dm, amplitude_damping(self.gamma).superop, [p], n)
        return dm


def test_a_gate_model_outside_the_family_swaps_on_density_matrices():
    """A non-Pauli gate model is not declared to keep the family: the swap materialises both
    pairs and equals the density-matrix swap."""
    noise = _AmplitudeDampingGates()
    assert not noise.keeps_bell_diagonal
    lam = np.array([0.9, 0.04, 0.03, 0.03])
    out = []
    for bell in (False, True):
        rng = np.random.default_rng(4)
        a, b = _pairs(lam, bell)
        c, d = _pairs(lam, bell)
        k = entanglement_swap(a, b, c, d, rng, noise)
        assert a.group.bell is None
        out.append((k, reduced_dm([a, d])))
    assert out[0][0] == out[1][0] and np.max(np.abs(out[0][1] - out[1][1])) <= 1e-15


def test_adopt_pair_keeps_non_bell_diagonal_states_as_density_matrices():
    """A heralded state off the family (|00⟩ admixture) is adopted as its density matrix."""
    rho = 0.9 * kernels.bell_to_dm([0, 0, 1, 0]) + 0.1 * np.diag([1.0, 0, 0, 0])
    rho.setflags(write=False)
    a, b = adopt_pair(rho)
    assert a.group.bell is None and np.max(np.abs(reduced_dm([a, b]) - rho)) == 0.0
    a, b = adopt_pair(depolarizing(0.0, 2).apply_to(bell_diagonal([0.9, 0.1, 0, 0])).full())
    assert a.group.bell is not None
