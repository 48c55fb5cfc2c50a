"""Noise channels against their closed forms (Nielsen & Chuang ch. 8).

Basis convention: |0⟩ = basis(2, 0) is the ground state; amplitude damping relaxes |1⟩ → |0⟩.
Each channel is applied through qstack's core (``apply_channel`` on qubit handles) and through
its Kraus operators with plain qutip (Σ K ρ K†); both must equal the textbook formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from qstack_quantum_refs import X, Y, Z, random_dm, werner_dm

from qstack.quantum import (
    GateNoise,
    apply_channel,
    bell_coefficients,
    bell_state,
    create_qubits,
    fidelity,
    state_of,
)
from qstack.quantum import noise as qn

TOL = 1e-12
PS = [0.0, 0.1, 0.37, 0.75, 1.0]


def _apply(channel, rho: np.ndarray) -> np.ndarray:
    """Apply ``channel`` to a fresh register in state ``rho`` through the qubit-handle core."""
    n = int(round(np.log2(rho.shape[0])))
    qs = create_qubits(n, rho)
    apply_channel(qs, channel)
    return state_of(qs).full()


def _kraus_sum(channel, rho: np.ndarray) -> np.ndarray:
    """Σ K ρ K† with qutip objects (independent of the superoperator path)."""
    n = int(round(np.log2(rho.shape[0])))
    q = qutip.Qobj(rho, dims=[[2] * n] * 2)
    return sum(k * q * k.dag() for k in channel.kraus_ops).full()


def _both(channel, rho):
    a, b = _apply(channel, rho), _kraus_sum(channel, rho)
    assert np.max(np.abs(a - b)) < TOL
    return a


@pytest.mark.parametrize("p", PS)
def test_depolarizing_ground_state_gives_diag_1_minus_p_over_2_and_p_over_2(p):
    """ρ → (1−p)ρ + p I/2 maps |0⟩⟨0| to diag(1 − p/2, p/2)."""
    out = _both(qn.depolarizing(p), np.diag([1.0, 0.0]).astype(complex))
    assert np.max(np.abs(out - np.diag([1 - p / 2, p / 2]))) < TOL


@pytest.mark.parametrize("p", PS)
def test_depolarizing_shrinks_the_bloch_vector_by_1_minus_p(p):
    """For ρ = (I + r·σ)/2, depolarising gives Bloch vector (1 − p) r."""
    rho = random_dm(np.random.default_rng(21), 1)
    out = qutip.Qobj(_both(qn.depolarizing(p), rho))
    q = qutip.Qobj(rho)
    for s in (X, Y, Z):
        assert qutip.expect(s, out) == pytest.approx((1 - p) * qutip.expect(s, q), abs=TOL)


@pytest.mark.parametrize("p", PS)
def test_two_qubit_depolarizing_of_phi_plus_is_werner_with_w_1_minus_p(p):
    """(1−p)|Φ⁺⟩⟨Φ⁺| + p I/4 is the Werner state of parameter w = 1 − p, F = 1 − 3p/4."""
    out = _both(qn.depolarizing(p, 2), bell_state(0).proj().full())
    assert np.max(np.abs(out - werner_dm(1 - p))) < TOL
    assert fidelity(out, bell_state(0)) == pytest.approx(1 - 3 * p / 4, abs=TOL)


def test_two_qubit_depolarizing_of_any_state_mixes_in_white_noise():
    """ρ → (1−p)ρ + p I/4 for an arbitrary two-qubit ρ (not just Bell states)."""
    rho = random_dm(np.random.default_rng(22), 2)
    out = _both(qn.depolarizing(0.3, 2), rho)
    assert np.max(np.abs(out - (0.7 * rho + 0.3 * np.eye(4) / 4))) < TOL


def test_two_qubit_depolarizing_on_one_pair_of_a_register_keeps_the_rest():
    """Depolarising qubits (0, 2) of three: (1−p)ρ + p · I/4 ⊗ ρ_1 (qubit 1's marginal, re-ordered)."""
    rho = random_dm(np.random.default_rng(23), 3)
    p = 0.4
    qs = create_qubits(3, rho)
    apply_channel([qs[0], qs[2]], qn.depolarizing(p, 2))
    q = qutip.Qobj(rho, dims=[[2] * 3] * 2)
    noise = qutip.tensor(qutip.qeye(2) / 2, q.ptrace(1), qutip.qeye(2) / 2)
    expected = (1 - p) * rho + p * noise.full()
    assert np.max(np.abs(state_of(qs).full() - expected)) < TOL


@pytest.mark.parametrize("p", PS)
def test_phase_flip_shrinks_coherences_by_1_minus_2p_and_keeps_populations(p):
    """ρ → (1−p)ρ + pZρZ: ρ00, ρ11 unchanged, ρ01 → (1 − 2p)ρ01."""
    rho = random_dm(np.random.default_rng(24), 1)
    out = _both(qn.phase_flip(p), rho)
    assert out[0, 0] == pytest.approx(rho[0, 0], abs=TOL)
    assert out[1, 1] == pytest.approx(rho[1, 1], abs=TOL)
    assert out[0, 1] == pytest.approx((1 - 2 * p) * rho[0, 1], abs=TOL)
    assert qn.dephasing is qn.phase_flip


@pytest.mark.parametrize("p", PS)
def test_bit_flip_mixes_populations_with_probability_p(p):
    """ρ → (1−p)ρ + pXρX: ρ00 → (1−p)ρ00 + pρ11 and ρ01 → (1−p)ρ01 + pρ10."""
    rho = random_dm(np.random.default_rng(25), 1)
    out = _both(qn.bit_flip(p), rho)
    assert out[0, 0] == pytest.approx((1 - p) * rho[0, 0] + p * rho[1, 1], abs=TOL)
    assert out[0, 1] == pytest.approx((1 - p) * rho[0, 1] + p * rho[1, 0], abs=TOL)


@pytest.mark.parametrize("gamma", PS)
def test_amplitude_damping_relaxes_excited_population_to_ground(gamma):
    """|1⟩ → |0⟩ with probability γ: ρ11 → (1−γ)ρ11, ρ00 → ρ00 + γρ11, ρ01 → √(1−γ) ρ01."""
    rho = random_dm(np.random.default_rng(26), 1)
    out = _both(qn.amplitude_damping(gamma), rho)
    assert out[1, 1] == pytest.approx((1 - gamma) * rho[1, 1], abs=TOL)
    assert out[0, 0] == pytest.approx(rho[0, 0] + gamma * rho[1, 1], abs=TOL)
    assert out[0, 1] == pytest.approx(math.sqrt(1 - gamma) * rho[0, 1], abs=TOL)


T1T2 = [(0.3, 1.0, 0.5), (1.0, 1.0, 2.0), (2.5, 2.0, 0.1), (0.7, float("inf"), 1.3), (0.0, 1.0, 1.0), (4.0, 3.0, 6.0)]


@pytest.mark.parametrize("t,t1,t2", T1T2)
def test_t1t2_populations_relax_as_exp_minus_t_over_T1(t, t1, t2):
    """Starting in |1⟩: P(1) = e^{−t/T1}, P(0) = 1 − e^{−t/T1} (T1 = ∞: no relaxation)."""
    out = _both(qn.t1t2(t, t1, t2), np.diag([0.0, 1.0]).astype(complex))
    p1 = math.exp(-t / t1)
    assert out[1, 1].real == pytest.approx(p1, abs=TOL)
    assert out[0, 0].real == pytest.approx(1 - p1, abs=TOL)


@pytest.mark.parametrize("t,t1,t2", T1T2)
def test_t1t2_coherences_decay_as_exp_minus_t_over_T2(t, t1, t2):
    """ρ01 → e^{−t/T2} ρ01 in total (damping contributes e^{−t/2T1}, pure dephasing the rest);
    populations of any state: ρ11 → e^{−t/T1} ρ11."""
    rho = random_dm(np.random.default_rng(27), 1)
    out = _both(qn.t1t2(t, t1, t2), rho)
    assert out[0, 1] == pytest.approx(math.exp(-t / t2) * rho[0, 1], abs=TOL)
    assert out[1, 1] == pytest.approx(math.exp(-t / t1) * rho[1, 1], abs=TOL)


def test_t1t2_at_the_bound_T2_equals_2T1_is_pure_amplitude_damping():
    """T2 = 2T1 leaves no pure dephasing: the channel is amplitude damping with γ = 1 − e^{−t/T1}."""
    t, t1 = 0.8, 1.3
    a = qn.t1t2(t, t1, 2 * t1).superop
    b = qn.amplitude_damping(1 - math.exp(-t / t1)).superop
    assert np.max(np.abs(a - b)) < TOL


@pytest.mark.parametrize("t1,t2", [(1.0, 2.001), (1.0, 3.0), (0.5, 5.0)])
def test_t1t2_refuses_T2_above_2T1(t1, t2):
    """T2 ≤ 2T1 is a physical bound (coherence cannot outlive population decay); the message says so."""
    with pytest.raises(ValueError, match=r"T2 must be <= 2·T1"):
        qn.t1t2(1.0, t1, t2)
    with pytest.raises(ValueError, match=r"T2 must be <= 2·T1"):
        qn.t1t2_superop(1.0, t1, t2)


def test_t1t2_refuses_negative_duration_and_zero_times():
    """Durations must be ≥ 0 and finite; T1, T2 must be > 0 — the message names the field."""
    with pytest.raises(ValueError, match="duration"):
        qn.t1t2(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="duration"):
        qn.t1t2(float("inf"), 1.0, 1.0)
    with pytest.raises(ValueError, match="T1 and T2 must be > 0"):
        qn.t1t2(1.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="T1"):
        qn.t1t2(1.0, -1.0, 1.0)


@pytest.mark.parametrize("t,t1,t2", T1T2)
def test_direct_t1t2_superop_equals_the_channel_superop(t, t1, t2):
    """The hand-built 4×4 superoperator of memories equals Σ K ⊗ K* of the t1t2 Kraus set."""
    assert np.max(np.abs(qn.t1t2_superop(t, t1, t2) - qn.t1t2(t, t1, t2).superop)) < TOL


@pytest.mark.parametrize("p", PS)
def test_direct_depolarizing_superop_equals_the_channel_superop(p):
    """The hand-built depolarising superoperator equals Σ K ⊗ K* of the Kraus set."""
    assert np.max(np.abs(qn.depolarizing_superop(p) - qn.depolarizing(p).superop)) < TOL


def test_t1t2_channels_form_a_semigroup():
    """E(t₁) ∘ E(t₂) = E(t₁ + t₂): storing in two steps equals storing once."""
    for t1, t2 in [(1.0, 0.5), (2.0, 3.0), (float("inf"), 0.4)]:
        a = qn.t1t2_superop(0.3, t1, t2) @ qn.t1t2_superop(0.9, t1, t2)
        assert np.max(np.abs(a - qn.t1t2_superop(1.2, t1, t2))) < TOL


def test_depolarizing_memory_has_p_1_minus_exp_minus_t_over_T_and_is_a_semigroup():
    """p(t) = 1 − e^{−t/T}; Bloch vectors shrink by e^{−t/T}, so E(t₁)∘E(t₂) = E(t₁+t₂)."""
    T = 2.0
    s = qn.depolarizing_memory(0.7, T).superop
    assert np.max(np.abs(s - qn.depolarizing(1 - math.exp(-0.7 / T)).superop)) < TOL
    assert s[1, 1].real == pytest.approx(math.exp(-0.7 / T), abs=TOL)
    s2 = qn.depolarizing_memory(0.5, T).superop @ qn.depolarizing_memory(0.2, T).superop
    assert np.max(np.abs(s2 - s)) < TOL
    with pytest.raises(ValueError, match="depolarising time T"):
        qn.depolarizing_memory(1.0, 0.0)


@pytest.mark.parametrize(
    "channel",
    [qn.depolarizing(0.3), qn.depolarizing(0.3, 2), qn.phase_flip(0.2), qn.bit_flip(0.9),
     qn.amplitude_damping(0.6), qn.t1t2(0.4, 1.0, 0.7), qn.twirl_werner()],
    ids=lambda c: c.name,
)
def test_every_built_in_channel_is_trace_preserving(channel):
    """Σ K†K = I for every built-in Kraus set (these are built without the runtime check)."""
    d = 2**channel.num_qubits
    total = sum(k.conj().T @ k for k in channel.kraus_np)
    assert np.max(np.abs(total - np.eye(d))) < TOL


def test_kraus_accepts_a_valid_set_and_acts_like_it():
    """kraus([K0, K1]) of amplitude damping given as Qobj acts as amplitude damping."""
    g = 0.3
    k0 = qutip.Qobj(np.array([[1, 0], [0, math.sqrt(1 - g)]]))
    k1 = qutip.Qobj(np.array([[0, math.sqrt(g)], [0, 0]]))
    ch = qn.kraus([k0, k1])
    assert np.max(np.abs(ch.superop - qn.amplitude_damping(g).superop)) < TOL


def test_kraus_refuses_a_non_trace_preserving_set():
    """Σ K†K ≠ I is refused, with the size of the defect in the message."""
    with pytest.raises(ValueError, match=r"not trace preserving.*0\.5"):
        qn.kraus([np.sqrt(0.5) * np.eye(2)])
    with pytest.raises(ValueError, match="not trace preserving"):
        qn.kraus([qutip.sigmax(), qutip.sigmaz()])  # Σ K†K = 2I


def test_kraus_refuses_mismatched_shapes():
    """All Kraus operators must be square with the same 2^k dimension."""
    with pytest.raises(ValueError, match="square of dimension"):
        qn.kraus([np.eye(2), np.eye(4)])
    with pytest.raises(ValueError, match="at least one"):
        qn.kraus([])


def test_twirl_keeps_phi_plus_fidelity_and_yields_werner():
    """The bilateral twirl maps any two-qubit ρ to the Werner state of the same F = ⟨Φ⁺|ρ|Φ⁺⟩."""
    rng = np.random.default_rng(28)
    for _ in range(5):
        rho = random_dm(rng, 2)
        f = fidelity(rho, bell_state(0))
        out = _both(qn.twirl_werner(), rho)
        assert np.max(np.abs(out - werner_dm((4 * f - 1) / 3))) < TOL
        assert bell_coefficients(out) == pytest.approx([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3], abs=TOL)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_channel_parameters_outside_unit_interval_are_refused_by_name(p):
    """Probabilities of every channel and of GateNoise must lie in [0, 1]; the message names it."""
    for fn, name in [(qn.depolarizing, "depolarizing"), (qn.phase_flip, "phase-flip"),
                     (qn.bit_flip, "bit-flip"), (qn.amplitude_damping, "gamma")]:
        with pytest.raises(ValueError, match=name):
            fn(p)
    for field in ("single_qubit_depolarizing", "two_qubit_depolarizing", "readout_error"):
        with pytest.raises(ValueError, match=field):
            GateNoise(**{field: p})


def test_depolarizing_refuses_more_than_two_qubits():
    """Depolarising is defined here on 1 or 2 qubits."""
    with pytest.raises(ValueError, match="num_qubits"):
        qn.depolarizing(0.1, 3)


def test_apply_channel_refuses_wrong_number_of_qubits():
    """A two-qubit channel needs two qubits."""
    q, = create_qubits(1)
    with pytest.raises(ValueError, match="acts on 2 qubit"):
        apply_channel([q], qn.depolarizing(0.1, 2))


def test_gate_noise_is_ideal_only_when_all_figures_vanish():
    """GateNoise() is ideal; any non-zero figure makes it noisy."""
    assert GateNoise().is_ideal
    assert not GateNoise(readout_error=1e-6).is_ideal
    assert not GateNoise(single_qubit_depolarizing=0.5).is_ideal


def test_asymmetric_two_qubit_channel_on_reversed_non_adjacent_qubits_matches_qutip():
    """A two-qubit channel that is not symmetric under exchange — amplitude damping on its first
    qubit followed by CNOT — applied to qubits (2, 0) of a random 3-qubit state equals Σ K ρ K†
    with the Kraus operators expanded onto (2, 0) by qutip; Channel.apply_to agrees on 2 qubits."""
    from qstack_quantum_refs import CNOT, op_on

    g = 0.35
    ad = qn.amplitude_damping(g).kraus_ops
    ops = [CNOT * qutip.tensor(k, qutip.qeye(2)) for k in ad]
    ch = qn.kraus(ops)
    rho = random_dm(np.random.default_rng(29), 3)
    qs = create_qubits(3, rho)
    apply_channel([qs[2], qs[0]], ch)
    q = qutip.Qobj(rho, dims=[[2] * 3] * 2)
    ref = sum(op_on(k, 3, 2, 0) * q * op_on(k, 3, 2, 0).dag() for k in ops)
    assert np.max(np.abs(state_of(qs).full() - ref.full())) < TOL
    r2 = qutip.Qobj(random_dm(np.random.default_rng(30), 2), dims=[[2, 2]] * 2)
    assert np.max(np.abs(ch.apply_to(r2).full() - sum(k * r2 * k.dag() for k in ops).full())) < TOL
