"""The Bell-diagonal engine's hot paths against their reference computations.

The engine runs a repeater's swap on straight-line Python compiled from the swap's linear maps
(:func:`qstack.quantum.operations._compile_bell_swap`), enters it from ``swap_inner`` without the
generic checks, decoheres a popped Bell pair in ``QuantumMemory.pop`` directly, and discards half
of a Bell pair without building the 4×4 state. Each must equal the computation it replaces: the
numpy maps to 1e-15, the density-matrix run of the same operation to 1e-12 with the same random
draws, and the partial trace of the exact density matrix entry for entry.
"""

from __future__ import annotations

import numpy as np
import pytest

from qstack.physical.memory import DepolarizingNoise, QuantumMemory, T1T2Noise
from qstack.quantum import kernels
from qstack.quantum.core import adopt_bell, adopt_state, discard, reduced_dm
from qstack.quantum.noise import GateNoise
from qstack.quantum.operations import _bell_swap_map, _compile_bell_swap, swap_inner

NOISES = [GateNoise(), GateNoise(0.02, 0.05, 0.0), GateNoise(0.0, 0.0, 0.1), GateNoise(0.03, 0.04, 0.07)]


def _random_bell(rng: np.random.Generator) -> np.ndarray:
    lam = rng.random(4)
    return lam / lam.sum()


@pytest.mark.parametrize("correct", [True, False])
@pytest.mark.parametrize("noise", NOISES)
def test_compiled_swap_kernel_equals_the_numpy_bell_swap_maps(noise, correct):
    """For random Bell-diagonal inputs the compiled kernel gives the true-outcome probabilities
    ``P @ (λ ⊗ μ)`` and every branch ``s · T[m][k] @ (λ ⊗ μ)`` of the numpy maps to 1e-15."""
    p_map, blocks = _bell_swap_map(noise, correct)
    probs_of, lams = _compile_bell_swap(p_map, blocks)
    rng = np.random.default_rng(7)
    for _ in range(50):
        lam, mu = _random_bell(rng), _random_bell(rng)
        v = np.multiply.outer(lam, mu).reshape(16)
        vec, probs = probs_of(tuple(lam.tolist()), tuple(mu.tolist()))
        assert np.max(np.abs(np.array(vec) - v)) == 0.0
        assert np.max(np.abs(np.array(probs) - p_map @ v)) <= 1e-15
        for m in range(4):
            for k in range(4):
                s = 1.0 / probs[m]
                assert np.max(np.abs(np.array(lams[m][k](vec, s)) - s * (blocks[m][k] @ v))) <= 1e-15


@pytest.mark.parametrize("noise", [None, *NOISES])
def test_swap_inner_on_bell_pairs_equals_the_density_matrix_swap(noise):
    """``swap_inner`` (what a repeater calls) on two Bell-form pairs: the same reported outcome,
    the same random draws and (a, d)'s state equal to 1e-12 as on density matrices; the far
    pair stays in Bell form and the measured qubits are dead."""
    rng_states = np.random.default_rng(3)
    for seed in range(40):
        lam, mu = _random_bell(rng_states), _random_bell(rng_states)
        out = []
        for bell in (False, True):
            rng = np.random.default_rng(seed)
            a, b = adopt_bell(lam) if bell else adopt_state(kernels.bell_to_dm(lam))
            c, d = adopt_bell(mu) if bell else adopt_state(kernels.bell_to_dm(mu))
            k = swap_inner(b, c, rng, noise)
            assert (a.group.bell is not None) == bell and not b.alive and not c.alive
            out.append((k, reduced_dm([a, d]), rng.random()))
        (k0, rho0, r0), (k1, rho1, r1) = out
        assert k0 == k1 and r0 == r1
        assert np.max(np.abs(rho0 - rho1)) <= 1e-12


def test_discarding_half_of_a_bell_pair_leaves_the_exact_partial_trace():
    """The other half of a Bell-diagonal pair is left in ``(Σλ/2)·I``: entry for entry (dtype,
    value, sign of zero) what the partial trace of the exact density matrix gives, either half."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        lam = _random_bell(rng)
        for pos in (0, 1):
            qubits = adopt_bell(lam)
            ref = kernels.partial_trace(kernels.bell_to_dm(lam), [1 - pos], 2)
            discard(qubits[pos])
            got = qubits[1 - pos].group.dm
            assert got.dtype == ref.dtype and np.array_equal(got, ref)
            assert [str(x) for x in got.ravel()] == [str(x) for x in ref.ravel()]


@pytest.mark.parametrize("noise", [T1T2Noise(t2=0.05), DepolarizingNoise(0.02)])
def test_popping_a_stored_bell_pair_half_applies_the_memory_channel(noise):
    """``QuantumMemory.pop`` of a Bell-form half decoheres it by the channel's Pauli twirl: equal
    to 1e-12 to the density-matrix channel over the same storage time; the pair stays in Bell form."""
    lam = np.array([0.85, 0.07, 0.05, 0.03])
    out = []
    for bell in (False, True):
        mem = QuantumMemory("m", 2, noise=noise)
        a, b = adopt_bell(lam) if bell else adopt_state(kernels.bell_to_dm(lam))
        mem.store(b, 0.0, 1, 0.0)
        q = mem.pop(1, 0.013)
        assert q is b and mem.qubit_at(1) is None and (a.group.bell is not None) == bell
        out.append(reduced_dm([a, b]))
    assert np.max(np.abs(out[0] - out[1])) <= 1e-12
    assert out[1][0, 3].real < 0.5 * (lam[0] - lam[1])  # the channel really acted


def test_popping_before_the_storage_time_is_refused():
    """A pop at a time before the qubit's storage start is an error naming the memory."""
    mem = QuantumMemory("m", 1, noise=T1T2Noise(t2=1.0))
    a, b = adopt_bell(np.array([1.0, 0.0, 0.0, 0.0]))
    mem.store(b, 1.0, 0, 1.0)
    with pytest.raises(ValueError, match="time went backwards for memory 'm'"):
        mem.pop(0, 0.5)
