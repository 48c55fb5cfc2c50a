"""Decoherence of stored Bell pairs (T1/T2 and depolarising memories) and lazy memories.

Per qubit, T1/T2 storage for time t is amplitude damping γ = 1 − e^{−t/T1} (|1⟩ → |0⟩) with
total coherence decay e^{−t/T2}. For |Φ⁺⟩ = (|00⟩ + |11⟩)/√2 with qubit times t_a, t_b:
F = ⟨Φ⁺|ρ|Φ⁺⟩ = ½(ρ_00,00 + ρ_11,11) + Re ρ_00,11
  = [1 + γ_aγ_b + (1−γ_a)(1−γ_b) + 2 e^{−t_a/T2a} e^{−t_b/T2b}]/4.
Both damped: F → (1 + 1)/4 = ½ (both relax to |00⟩, overlap ½); one damped: F → ¼.
A depolarising memory shrinks each qubit's Bloch vector by e^{−t/T}; on both qubits the Werner
parameter becomes w·e^{−2t/T}: the pair's time constant is T/2.
Channels for t₁ then t₂ compose to the channel for t₁ + t₂ (semigroup), which makes lazy
application in :class:`qstack.physical.memory.QuantumMemory` exact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_quantum_refs import random_dm, werner_dm

from qstack.physical.memory import QuantumMemory
from qstack.quantum import apply_channel, bell_state, create_qubits, fidelity, state_of, theory, werner
from qstack.quantum.noise import depolarizing_memory, t1t2

TOL = 1e-12
TIMES = [0.0, 0.05, 0.3, 1.0, 2.7]


def _stored_phi_plus(t_a, t_b, t1a, t2a, t1b, t2b):
    a, b = create_qubits(2, bell_state(0))
    apply_channel([a], t1t2(t_a, t1a, t2a))
    apply_channel([b], t1t2(t_b, t1b, t2b))
    return state_of([a, b]).full()


@pytest.mark.parametrize("t", TIMES)
def test_t1t2_on_one_qubit_of_phi_plus_gives_stored_pair_fidelity(t):
    """One qubit stored for t: F = (2 − γ + 2e^{−t/T2})/4 = theory.stored_bell_pair_fidelity(t, 0, …)."""
    t1, t2 = 1.3, 0.9
    rho = _stored_phi_plus(t, 0.0, t1, t2, t1, t2)
    gamma = 1 - math.exp(-t / t1)
    expected = (2 - gamma + 2 * math.exp(-t / t2)) / 4
    assert fidelity(rho, bell_state(0)) == pytest.approx(expected, abs=1e-9)
    assert theory.stored_bell_pair_fidelity(t, 0.0, t1, t2) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("t", TIMES)
def test_t1t2_on_both_qubits_of_phi_plus_gives_stored_pair_fidelity(t):
    """Both qubits stored (different times and memories): F equals the closed form with γ_a, γ_b."""
    t1a, t2a, t1b, t2b = 1.0, 1.5, 2.0, 0.4
    ta, tb = t, 0.6 * t
    rho = _stored_phi_plus(ta, tb, t1a, t2a, t1b, t2b)
    ga, gb = 1 - math.exp(-ta / t1a), 1 - math.exp(-tb / t1b)
    expected = (1 + ga * gb + (1 - ga) * (1 - gb) + 2 * math.exp(-ta / t2a) * math.exp(-tb / t2b)) / 4
    assert fidelity(rho, bell_state(0)) == pytest.approx(expected, abs=1e-9)
    assert theory.stored_bell_pair_fidelity(ta, tb, t1a, t2a, t1b, t2b) == pytest.approx(expected, abs=1e-9)


def test_pure_dephasing_memory_loses_only_the_coherence():
    """T1 = ∞: the pair becomes ½(1 + e^{−t/T2})|Φ⁺⟩⟨Φ⁺| + ½(1 − e^{−t/T2})|Φ⁻⟩⟨Φ⁻|."""
    t, t2 = 0.8, 1.1
    rho = _stored_phi_plus(t, 0.0, math.inf, t2, math.inf, t2)
    c = math.exp(-t / t2)
    expected = (1 + c) / 2 * bell_state(0).proj().full() + (1 - c) / 2 * bell_state(1).proj().full()
    assert np.max(np.abs(rho - expected)) < TOL
    assert fidelity(rho, bell_state(0)) == pytest.approx(theory.stored_bell_pair_fidelity(t, 0, math.inf, t2), abs=1e-9)


def test_damping_on_both_qubits_tends_to_one_half_and_on_one_to_one_quarter():
    """t ≫ T1, T2: both damped → |00⟩ with ⟨Φ⁺|00⟩² = ½; one damped → |0⟩⟨0| ⊗ I/2, F = ¼."""
    t, t1, t2 = 60.0, 1.0, 1.0
    both = _stored_phi_plus(t, t, t1, t2, t1, t2)
    one = _stored_phi_plus(t, 0.0, t1, t2, t1, t2)
    assert fidelity(both, bell_state(0)) == pytest.approx(0.5, abs=1e-9)
    assert fidelity(one, bell_state(0)) == pytest.approx(0.25, abs=1e-9)
    assert np.max(np.abs(both - np.diag([1, 0, 0, 0]))) < 1e-9
    assert np.max(np.abs(one - np.diag([0.5, 0.5, 0, 0]))) < 1e-9
    assert theory.stored_bell_pair_fidelity(t, t, t1, t2) == pytest.approx(0.5, abs=1e-9)
    assert theory.stored_bell_pair_fidelity(t, 0.0, t1, t2) == pytest.approx(0.25, abs=1e-9)


@pytest.mark.parametrize("t", TIMES)
def test_depolarizing_memory_on_both_qubits_has_pair_time_constant_T_over_2(t):
    """Each qubit depolarised with p = 1 − e^{−t/T}: a Werner pair w₀ becomes Werner with
    w = w₀ e^{−2t/T} = w₀ e^{−t/(T/2)} (theory.depolarizing_memory_werner_parameter)."""
    T, f0 = 1.7, 0.95
    w0 = (4 * f0 - 1) / 3
    a, b = create_qubits(2, werner(f0))
    apply_channel([a], depolarizing_memory(t, T))
    apply_channel([b], depolarizing_memory(t, T))
    w = w0 * math.exp(-t / (T / 2))
    assert np.max(np.abs(state_of([a, b]).full() - werner_dm(w))) < TOL
    assert theory.depolarizing_memory_werner_parameter(w0, t, t, T) == pytest.approx(w, abs=TOL)


@pytest.mark.parametrize("kind", ["t1t2", "depolarizing"])
def test_lazy_memory_touching_at_t1_then_t2_equals_touching_once_at_t2(kind):
    """E(t₂ − t₁)∘E(t₁) = E(t₂): peeking at a stored qubit midway does not change its state at t₂
    (to 1e-12), so lazy decoherence is exact."""
    kw = {"t1": 1.2, "t2": 0.7} if kind == "t1t2" else {"depolarizing_time": 0.9}
    rho = random_dm(np.random.default_rng(90), 2)
    states = []
    for touches in ([0.3, 0.55, 1.4], [1.4]):
        mem = QuantumMemory("m", 1, **kw)
        a, b = create_qubits(2, rho)
        pos = mem.store(a, now=0.0)
        for now in touches[:-1]:
            mem.peek(pos, now)
        mem.sync(touches[-1])
        states.append(state_of([a, b]).full())
    assert np.max(np.abs(states[0] - states[1])) < TOL
    # And the once-touched state is the channel for the whole time.
    ch = t1t2(1.4, 1.2, 0.7) if kind == "t1t2" else depolarizing_memory(1.4, 0.9)
    a, b = create_qubits(2, rho)
    apply_channel([a], ch)
    assert np.max(np.abs(states[1] - state_of([a, b]).full())) < TOL


def test_memory_pop_after_t_gives_stored_bell_pair_fidelity():
    """A Φ⁺ half stored at 0 and popped at t has F = theory.stored_bell_pair_fidelity(t, 0, T1, T2)."""
    t1, t2 = 2.0, 1.5
    for t in (0.1, 0.9, 3.0):
        mem = QuantumMemory("alice", 2, t1=t1, t2=t2)
        a, b = create_qubits(2, bell_state(0))
        pos = mem.store(a, now=0.0)
        q = mem.pop(pos, now=t)
        assert q is a and pos in mem.free_positions
        assert fidelity(state_of([a, b]), bell_state(0)) == pytest.approx(
            theory.stored_bell_pair_fidelity(t, 0.0, t1, t2), abs=1e-9)


def test_two_memories_with_different_storage_times_and_backdating():
    """Alice stores a from 0 (backdated via since) to 1.0; Bob stores b from 0.3 to 1.0 in a
    different memory: F = stored_bell_pair_fidelity(1.0, 0.7, T1a, T2a, T1b, T2b)."""
    alice = QuantumMemory("alice", 1, t1=1.0, t2=1.2)
    bob = QuantumMemory("bob", 1, t1=3.0, t2=0.5)
    a, b = create_qubits(2, bell_state(0))
    pa = alice.store(a, now=0.2, since=0.0)
    pb = bob.store(b, now=0.3)
    alice.pop(pa, now=1.0)
    bob.pop(pb, now=1.0)
    assert fidelity(state_of([a, b]), bell_state(0)) == pytest.approx(
        theory.stored_bell_pair_fidelity(1.0, 0.7, 1.0, 1.2, 3.0, 0.5), abs=1e-9)


def test_depolarizing_memories_on_both_halves_give_werner_decay():
    """Both halves in depolarising memories of time T for t: w = w₀ e^{−2t/T}."""
    T, t = 2.0, 0.75
    ma, mb = QuantumMemory("a", 1, depolarizing_time=T), QuantumMemory("b", 1, depolarizing_time=T)
    a, b = create_qubits(2, werner(0.9))
    pa, pb = ma.store(a, 0.0), mb.store(b, 0.0)
    ma.pop(pa, t)
    mb.pop(pb, t)
    w = theory.depolarizing_memory_werner_parameter((4 * 0.9 - 1) / 3, t, t, T)
    assert np.max(np.abs(state_of([a, b]).full() - werner_dm(w))) < TOL


def test_memory_refuses_unphysical_times_and_time_travel():
    """T2 > 2T1 is refused; touching a qubit at an earlier time than its last update is refused."""
    with pytest.raises(ValueError, match="t2 must be <= 2"):
        QuantumMemory("m", 1, t1=1.0, t2=2.5)
    mem = QuantumMemory("m", 1, t1=1.0, t2=1.0)
    q, = create_qubits(1)
    pos = mem.store(q, now=1.0)
    with pytest.raises(ValueError, match="backwards"):
        mem.peek(pos, now=0.5)
    with pytest.raises(ValueError, match="since must be <= now"):
        QuantumMemory("m2", 1, t1=1.0, t2=1.0).store(create_qubits(1)[0], now=0.0, since=1.0)
