"""Property tests: every operation maps density matrices to density matrices.

Quantum operations are completely positive and trace preserving (CPTP), and post-selected
measurement branches are renormalised, so after *any* sequence of gates, channels, measurements,
swaps, purifications and teleportations every group's ρ must stay Hermitian, of trace 1 and
positive semidefinite (validate_density_matrix with tol 1e-9), and its size must match the
number of qubits in the group. Unitaries in addition preserve the spectrum of the joint state.
Inputs are random full-rank or low-rank states drawn from a hypothesis-chosen seed.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qstack_quantum_refs import random_dm

from qstack.quantum import (
    GateNoise,
    apply_channel,
    create_qubits,
    entanglement_swap,
    gates,
    measure,
    operate,
    purify,
    state_of,
    teleport,
    validate_density_matrix,
)
from qstack.quantum import noise as qn

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(0, 2**32 - 1)
probs = st.floats(0.0, 1.0, allow_nan=False)
angles = st.floats(-2 * np.pi, 2 * np.pi, allow_nan=False)
noises = st.builds(GateNoise, probs, probs, probs)


def _state(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return random_dm(rng, n, rank=int(rng.integers(1, 2**n + 1)))


def assert_groups_valid(qubits) -> None:
    """Every live qubit's group holds a valid density matrix of the right size."""
    seen = []
    for q in qubits:
        if not q.alive or any(q.group is g for g in seen):
            continue
        g = q.group
        seen.append(g)
        assert g.dm.shape == (2 ** len(g.qubits),) * 2
        assert all(x.group is g and x.alive for x in g.qubits)
        validate_density_matrix(g.dm, tol=1e-9)


gate_steps = st.lists(
    st.tuples(st.sampled_from(["rx", "ry", "rz", "h", "t", "cnot", "cz", "swap"]),
              st.permutations([0, 1, 2]), angles),
    min_size=1, max_size=12,
)


@SETTINGS
@given(seeds, gate_steps)
def test_random_gate_sequences_keep_states_valid_and_preserve_the_spectrum(seed, steps):
    """Gates from rotation angles and Clifford+T on random targets: groups stay valid, and the joint
    state's eigenvalues equal those of the initial product state (U ρ U† is a similarity transform)."""
    rng = np.random.default_rng(seed)
    init = [random_dm(rng, 1) for _ in range(3)]
    qs = [create_qubits(1, r)[0] for r in init]
    for name, perm, theta in steps:
        if name in ("rx", "ry", "rz"):
            operate([qs[perm[0]]], getattr(gates, name)(theta))
        elif name in ("h", "t"):
            operate([qs[perm[0]]], gates.H if name == "h" else gates.T)
        else:
            operate([qs[perm[0]], qs[perm[1]]], {"cnot": gates.CNOT, "cz": gates.CZ, "swap": gates.SWAP}[name])
        assert_groups_valid(qs)
    before = np.linalg.eigvalsh(np.kron(np.kron(init[0], init[1]), init[2]))
    after = np.linalg.eigvalsh(state_of(qs).full())
    assert np.max(np.abs(before - after)) < 1e-9


channel_choices = st.one_of(
    st.builds(lambda p: qn.depolarizing(p), probs),
    st.builds(lambda p: qn.depolarizing(p, 2), probs),
    st.builds(qn.phase_flip, probs),
    st.builds(qn.bit_flip, probs),
    st.builds(qn.amplitude_damping, probs),
    st.builds(lambda t, t1, r: qn.t1t2(t, t1, 2 * t1 * r), st.floats(0, 10), st.floats(0.01, 10), st.floats(0.01, 1)),
    st.builds(lambda t, tq: qn.depolarizing_memory(t, tq), st.floats(0, 10), st.floats(0.01, 10)),
    st.just(qn.twirl_werner()),
)


@SETTINGS
@given(seeds, st.lists(st.tuples(channel_choices, st.permutations([0, 1, 2])), min_size=1, max_size=6))
def test_noise_channels_with_random_parameters_keep_states_valid(seed, steps):
    """Each noise channel (CPTP) with random parameters on random qubits of a random 3-qubit
    state keeps the state valid and the trace exactly 1."""
    qs = create_qubits(3, _state(seed, 3))
    for ch, perm in steps:
        apply_channel([qs[i] for i in perm[: ch.num_qubits]], ch)
        assert_groups_valid(qs)
        assert np.trace(state_of(qs).full()).real == pytest.approx(1.0, abs=1e-12)


bases = st.one_of(
    st.sampled_from(["Z", "X", "Y"]),
    st.builds(
        lambda th, ph: [
            qutip.Qobj(np.array([[np.cos(th / 2)], [np.exp(1j * ph) * np.sin(th / 2)]])),
            qutip.Qobj(np.array([[-np.exp(-1j * ph) * np.sin(th / 2)], [np.cos(th / 2)]])),
        ],
        angles, angles,
    ),
)


@SETTINGS
@given(seeds, st.integers(0, 2), bases, noises)
def test_measurement_in_any_basis_leaves_a_valid_smaller_group(seed, which, basis, noise):
    """Measuring one qubit of a random 3-qubit state (Z/X/Y or a random orthonormal basis, with
    readout noise) kills it and leaves a valid 2-qubit group (Born-rule renormalisation)."""
    qs = create_qubits(3, _state(seed, 3))
    m = measure(qs[which], basis, np.random.default_rng(seed), noise)
    assert m in (0, 1) and not qs[which].alive
    rest = [q for i, q in enumerate(qs) if i != which]
    assert rest[0].group is rest[1].group and len(rest[0].group.qubits) == 2
    assert_groups_valid(qs)


# Each distinct GateNoise costs the fast path a fresh 256-column swap map (~0.1 s), so the fast
# path draws from a fixed set of noise models; the circuit path takes fully random noise.
FAST_PATH_NOISES = [None, GateNoise(), GateNoise(0.1, 0.2, 0.05), GateNoise(1.0, 1.0, 1.0), GateNoise(0.0, 0.0, 0.5)]


@SETTINGS
@given(seeds, st.sampled_from(FAST_PATH_NOISES), st.booleans(), st.booleans())
def test_entanglement_swap_fast_path_keeps_states_valid(seed, noise, reverse, correct):
    """Swap of random pairs (2-qubit groups, stored either way round) with gate/readout noise,
    corrected or not: the (a, d) group stays valid."""
    rng = np.random.default_rng(seed)
    a, b = create_qubits(2, random_dm(rng, 2, rank=int(rng.integers(1, 5))))
    if reverse:
        a, b = b, a
    c, d = create_qubits(2, random_dm(rng, 2, rank=int(rng.integers(1, 5))))
    k = entanglement_swap(a, b, c, d, rng, noise, correct=correct)
    assert k in range(4) and not b.alive and not c.alive and a.group is d.group
    assert a.group.qubits == [a, d] or a.group.qubits == [d, a]
    assert_groups_valid([a, d])


@SETTINGS
@given(seeds, noises, st.booleans())
def test_entanglement_swap_circuit_path_keeps_states_valid(seed, noise, correct):
    """With a spectator entangled into a's group the swap runs the circuit path; with random noise
    the group (a, spectator, d) stays valid."""
    rng = np.random.default_rng(seed)
    a, b, e = create_qubits(3, random_dm(rng, 3))
    c, d = create_qubits(2, random_dm(rng, 2, rank=int(rng.integers(1, 5))))
    k = entanglement_swap(a, b, c, d, rng, noise, correct=correct)
    assert k in range(4) and not b.alive and not c.alive and a.group is d.group is e.group
    assert_groups_valid([a, d, e])


@SETTINGS
@given(seeds, st.sampled_from(["bbpssw", "dejmps"]), noises)
def test_purification_keeps_states_valid(seed, protocol, noise):
    """One purification round on random pairs with random noise: on success the kept pair is a
    valid 2-qubit state; on failure all four qubits are dead."""
    rng = np.random.default_rng(seed)
    keep = tuple(create_qubits(2, random_dm(rng, 2)))
    sac = tuple(create_qubits(2, random_dm(rng, 2)))
    ok = purify(keep, sac, rng, protocol, noise)
    assert not any(q.alive for q in sac)
    assert all(q.alive for q in keep) == ok
    if ok:
        assert keep[0].group is keep[1].group and len(keep[0].group.qubits) == 2
    assert_groups_valid(keep)


@SETTINGS
@given(seeds, noises)
def test_teleportation_keeps_states_valid(seed, noise):
    """Teleporting a random (possibly entangled-with-a-partner) qubit over a random resource with
    random noise leaves partner and remote in a valid joint state."""
    rng = np.random.default_rng(seed)
    partner, source = create_qubits(2, random_dm(rng, 2))
    local, remote = create_qubits(2, random_dm(rng, 2))
    k = teleport(source, local, remote, rng, noise)
    assert k in range(4) and not source.alive and not local.alive
    assert partner.group is remote.group
    assert_groups_valid([partner, remote])
