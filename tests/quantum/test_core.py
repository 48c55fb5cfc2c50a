"""The qubit-handle core: groups, gates, measurement (Born rule, collapse), reset, assignment.

A group is the smallest set of qubits sharing a density matrix. Gates merge groups (ρ_A ⊗ ρ_B);
a projective measurement with outcome m leaves the others in Π_m ρ Π_m / p_m with
p_m = Tr Π_m ρ (Born rule) and removes the measured qubits; a measured or discarded qubit is dead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from qstack_quantum_refs import (
    CNOT,
    HAD,
    KET0,
    KET1,
    PAULI_EIGENSTATES,
    bits_of_bell,
    op_on,
    random_dm,
    random_ket,
)

from qstack.quantum import (
    GateNoise,
    InvalidStateError,
    QubitDeadError,
    apply_channel,
    assign_state,
    bell_state,
    bell_state_measurement,
    create_qubits,
    discard,
    gates,
    measure,
    operate,
    reset,
    state_of,
)
from qstack.quantum.noise import depolarizing

TOL = 1e-12


def _se(p: float, n: int) -> float:
    """Standard error of a frequency estimate of probability p from n trials."""
    return math.sqrt(p * (1 - p) / n)


def test_fresh_qubits_start_in_ground_state_in_groups_of_their_own():
    """create_qubits gives |0⟩ = basis(2, 0) for each qubit, each in a separate 1-qubit group."""
    a, b = create_qubits(2)
    assert a.group is not b.group and len(a.group.qubits) == 1
    assert np.max(np.abs(state_of([a, b]).full() - qutip.tensor(KET0, KET0).proj().full())) < TOL


def test_two_qubit_gate_merges_groups_and_h_then_cnot_makes_phi_plus():
    """CNOT(H|0⟩ ⊗ |0⟩) = (|00⟩ + |11⟩)/√2: the gate merges the two groups into one 4×4 state."""
    a, b = create_qubits(2)
    operate([a], gates.H)
    assert a.group is not b.group
    operate([a, b], gates.CNOT)
    assert a.group is b.group and a.group.qubits == [a, b]
    assert np.max(np.abs(state_of([a, b]).full() - bell_state("phi+").proj().full())) < TOL


def test_cnot_with_control_listed_second_acts_on_the_right_qubit():
    """operate([b, a], CNOT) uses b as control: |0⟩_a|1⟩_b → |1⟩_a|1⟩_b."""
    a, b = create_qubits(2)
    operate([b], gates.X)
    operate([b, a], gates.CNOT)
    assert np.max(np.abs(state_of([a, b]).full() - qutip.tensor(KET1, KET1).proj().full())) < TOL


def test_gates_on_any_qubits_of_a_register_match_qutip():
    """U ρ U† for one- and two-qubit gates on arbitrary (non-adjacent, reversed) targets of a random
    3-qubit state agrees with the qutip expansion of U to the full register."""
    rng = np.random.default_rng(31)
    rho = random_dm(rng, 3)
    qs = create_qubits(3, rho)
    ref = qutip.Qobj(rho, dims=[[2] * 3] * 2)
    seq = [([2, 0], gates.CNOT), ([1], gates.rx(0.7)), ([0], gates.T), ([2, 1], gates.CZ), ([1, 2], gates.SWAP),
           ([2], gates.ry(-1.3)), ([0, 2], gates.CNOT), ([1], gates.S * gates.H * gates.rz(2.1))]
    for targets, u in seq:
        operate([qs[t] for t in targets], u)
        full = op_on(u, 3, *targets)
        ref = full * ref * full.dag()
        assert np.max(np.abs(state_of(qs).full() - ref.full())) < TOL


def test_gates_across_groups_merge_as_a_tensor_product():
    """A gate on qubits of two separate groups acts on ρ_A ⊗ ρ_B."""
    rng = np.random.default_rng(32)
    ra, rb = random_dm(rng, 2), random_dm(rng, 1)
    a1, a2 = create_qubits(2, ra)
    b, = create_qubits(1, rb)
    operate([b, a2], gates.CNOT)
    ref = qutip.tensor(qutip.Qobj(ra, dims=[[2, 2]] * 2), qutip.Qobj(rb))
    u = op_on(CNOT, 3, 2, 1)
    ref = u * ref * u.dag()
    assert a1.group is b.group and len(a1.group.qubits) == 3
    assert np.max(np.abs(state_of([a1, a2, b]).full() - ref.full())) < TOL


def test_state_of_gives_the_reduced_state_in_the_requested_order():
    """state_of([q2, q0]) = Tr_{q1} ρ with the qubits in the order asked for (qutip ptrace/permute)."""
    rho = random_dm(np.random.default_rng(33), 3)
    qs = create_qubits(3, rho)
    ref = qutip.Qobj(rho, dims=[[2] * 3] * 2).ptrace([0, 2]).permute([1, 0])
    assert np.max(np.abs(state_of([qs[2], qs[0]]).full() - ref.full())) < TOL
    assert np.max(np.abs(state_of([qs[1]]).full() - qutip.Qobj(rho, dims=[[2] * 3] * 2).ptrace(1).full())) < TOL


def test_gate_noise_depolarizes_after_each_gate():
    """With GateNoise, X|0⟩ becomes (1−p₁)|1⟩⟨1| + p₁ I/2, and CNOT|10⟩ becomes (1−p₂)|11⟩⟨11| + p₂ I/4."""
    p1, p2 = 0.12, 0.3
    q, = create_qubits(1)
    operate([q], gates.X, GateNoise(single_qubit_depolarizing=p1))
    assert np.max(np.abs(state_of([q]).full() - np.diag([p1 / 2, 1 - p1 / 2]))) < TOL
    a, b = create_qubits(2)
    operate([a], gates.X)
    operate([a, b], gates.CNOT, GateNoise(two_qubit_depolarizing=p2))
    assert np.max(np.abs(state_of([a, b]).full() - ((1 - p2) * np.diag([0, 0, 0, 1]) + p2 * np.eye(4) / 4))) < TOL


def test_operate_refuses_non_unitary_and_wrong_size_without_merging():
    """A non-unitary operator is refused (ValueError) and the groups are left as they were."""
    a, b = create_qubits(2)
    with pytest.raises(ValueError, match="not unitary"):
        operate([a, b], 2 * np.eye(4))
    with pytest.raises(ValueError, match="expected"):
        operate([a], gates.CNOT)
    with pytest.raises(ValueError, match="distinct"):
        operate([a, a], gates.CNOT)
    assert a.group is not b.group


def test_measurement_collapses_phi_plus_and_traces_out_the_measured_qubit():
    """Measuring a of Φ⁺ in Z gives m with probability ½ and leaves b in |m⟩; a leaves the group."""
    seen = set()
    for seed in range(20):
        a, b = create_qubits(2, bell_state("phi+"))
        m = measure(a, "Z", np.random.default_rng(seed))
        seen.add(m)
        assert b.group.qubits == [b] and b.group.dm.shape == (2, 2)
        assert np.max(np.abs(state_of([b]).full() - (KET1 if m else KET0).proj().full())) < TOL
    assert seen == {0, 1}


def test_partial_measurement_follows_the_born_rule_conditional_state():
    """Measuring qubit 1 of a random 3-qubit ρ with outcome m leaves Tr_1[Π_m ρ Π_m]/p_m on (0, 2)."""
    rho = random_dm(np.random.default_rng(34), 3)
    ref = qutip.Qobj(rho, dims=[[2] * 3] * 2)
    seen = set()
    for seed in range(30):
        qs = create_qubits(3, rho)
        m = measure(qs[1], "Z", np.random.default_rng(seed))
        seen.add(m)
        proj = op_on((KET1 if m else KET0).proj(), 3, 1)
        branch = proj * ref * proj
        expected = branch.ptrace([0, 2]) / branch.tr()
        assert len(qs[0].group.qubits) == 2
        assert np.max(np.abs(state_of([qs[0], qs[2]]).full() - expected.full())) < TOL
    assert seen == {0, 1}


@pytest.mark.parametrize("basis,index,outcome", [("Z", 0, 0), ("Z", 1, 1), ("X", 2, 0), ("X", 3, 1),
                                                 ("Y", 4, 0), ("Y", 5, 1)])
def test_pauli_eigenstates_give_deterministic_outcomes_in_their_own_basis(basis, index, outcome):
    """|0⟩,|+⟩,|+i⟩ give outcome 0 and |1⟩,|−⟩,|−i⟩ give 1 in the Z, X, Y basis, for every seed."""
    for seed in range(25):
        q, = create_qubits(1, PAULI_EIGENSTATES[index])
        assert measure(q, basis, np.random.default_rng(seed)) == outcome


def test_joint_measurement_reports_first_qubit_as_most_significant_bit():
    """Measuring [a, b] in |1⟩|0⟩ gives outcome 2 = 0b10; in X basis |−⟩|+⟩ also gives 2."""
    a, b = create_qubits(2)
    operate([a], gates.X)
    assert measure([a, b], "Z", np.random.default_rng(0)) == 2
    c, d = create_qubits(2, qutip.tensor(PAULI_EIGENSTATES[3], PAULI_EIGENSTATES[2]))
    assert measure([c, d], "X", np.random.default_rng(0)) == 2


def test_custom_basis_measurement_returns_the_index_of_the_basis_ket():
    """In the basis {|ψ⟩, |ψ⊥⟩}, the state |ψ⟩ always gives 0 and |ψ⊥⟩ always gives 1."""
    rng = np.random.default_rng(35)
    v = random_ket(rng)
    psi = qutip.Qobj(v.reshape(2, 1))
    perp = qutip.Qobj(np.array([-np.conj(v[1]), np.conj(v[0])]).reshape(2, 1))
    for seed in range(20):
        q, = create_qubits(1, psi)
        assert measure(q, [psi, perp], np.random.default_rng(seed)) == 0
        q, = create_qubits(1, perp)
        assert measure(q, [psi, perp], np.random.default_rng(seed)) == 1


def test_custom_two_qubit_bell_basis_measurement_identifies_bell_states():
    """Measuring two qubits in the Bell basis [Φ⁺, Φ⁻, Ψ⁺, Ψ⁻] returns the Bell state's index."""
    basis = [bell_state(k) for k in range(4)]
    for k in range(4):
        for seed in range(5):
            a, b = create_qubits(2, bell_state(k))
            assert measure([a, b], basis, np.random.default_rng(seed)) == k


def test_custom_basis_refuses_non_orthonormal_kets_and_bad_names():
    """A basis must be orthonormal with 2^k kets; string bases are Z, X, Y."""
    q, = create_qubits(1)
    with pytest.raises(ValueError, match="orthonormal"):
        measure(q, [KET0, (KET0 + KET1).unit()], np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs 2 kets"):
        measure(q, [KET0], np.random.default_rng(0))
    with pytest.raises(ValueError, match="basis must be"):
        measure(q, "W", np.random.default_rng(0))
    assert q.alive


def test_measure_requires_an_rng():
    """Outcomes must come from a given Generator (reproducibility); no rng is an error."""
    q, = create_qubits(1)
    with pytest.raises(ValueError, match="rng"):
        measure(q, "Z")


@pytest.mark.parametrize("theta", [0.3, 1.1, math.pi / 2, 2.4, 3.0])
def test_z_statistics_of_ry_theta_follow_sin_squared_half_theta(theta):
    """Ry(θ)|0⟩ = cos(θ/2)|0⟩ + sin(θ/2)|1⟩: P(1) = sin²(θ/2) (Born rule), checked within 4 SE."""
    n = 4000
    rng = np.random.default_rng(int(theta * 1000))
    ones = 0
    for _ in range(n):
        q, = create_qubits(1)
        operate([q], gates.ry(theta))
        ones += measure(q, "Z", rng)
    p = math.sin(theta / 2) ** 2
    assert abs(ones / n - p) <= 4 * _se(p, n)


@pytest.mark.parametrize("e", [0.05, 0.3])
def test_readout_error_flips_the_reported_bit_with_probability_e(e):
    """With readout error e, |0⟩ is reported as 1 with frequency e and |1⟩ as 0 with frequency e."""
    n = 4000
    rng = np.random.default_rng(36)
    noise = GateNoise(readout_error=e)
    wrong0 = wrong1 = 0
    for _ in range(n):
        q, = create_qubits(1)
        wrong0 += measure(q, "Z", rng, noise)
        q, = create_qubits(1, KET1)
        wrong1 += 1 - measure(q, "Z", rng, noise)
    assert abs(wrong0 / n - e) <= 4 * _se(e, n)
    assert abs(wrong1 / n - e) <= 4 * _se(e, n)


@pytest.mark.parametrize("k", range(4))
def test_bell_state_measurement_identifies_each_bell_state_deterministically(k):
    """CNOT·H maps Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ to |00⟩, |10⟩, |01⟩, |11⟩, so the BSM returns k for β_k, always."""
    for seed in range(25):
        a, b = create_qubits(2, bell_state(k))
        assert bell_state_measurement(a, b, np.random.default_rng(seed)) == k
        assert a.fate == "measured" and b.fate == "measured"


def test_bell_measurement_with_readout_error_reports_bit_flipped_outcomes():
    """On Φ⁺ with readout error e per bit: P(Φ⁺) = (1−e)², P(Φ⁻) = P(Ψ⁺) = e(1−e), P(Ψ⁻) = e² (4 SE)."""
    e, n = 0.2, 4000
    rng = np.random.default_rng(37)
    counts = np.zeros(4)
    for _ in range(n):
        a, b = create_qubits(2, bell_state(0))
        counts[bell_state_measurement(a, b, rng, GateNoise(readout_error=e))] += 1
    expected = np.array([(1 - e) ** 2, e * (1 - e), e * (1 - e), e * e])
    for k in range(4):
        assert abs(counts[k] / n - expected[k]) <= 4 * _se(expected[k], n)
    # The map from Bell index to reported bits used by these references: (phase, parity).
    assert [bits_of_bell(k) for k in range(4)] == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_dead_qubits_raise_and_the_error_names_how_they_died():
    """A measured qubit raises QubitDeadError mentioning 'measured'; a discarded one 'discarded'."""
    a, b = create_qubits(2, bell_state(0))
    measure(a, "Z", np.random.default_rng(0))
    discard(b)
    assert not a.alive and not b.alive
    for action in (lambda q: operate([q], gates.X), lambda q: measure(q, "Z", np.random.default_rng(0)),
                   lambda q: state_of([q]), lambda q: reset(q), lambda q: apply_channel([q], depolarizing(0.1)),
                   lambda q: assign_state([q], KET0)):
        with pytest.raises(QubitDeadError, match="measured"):
            action(a)
        with pytest.raises(QubitDeadError, match="discarded"):
            action(b)


def test_discard_traces_out_and_leaves_the_partner_maximally_mixed():
    """Discarding half of Φ⁺ leaves the other half in Tr_a Φ⁺ = I/2, in a group of its own."""
    a, b = create_qubits(2, bell_state(0))
    discard(a)
    assert b.group.qubits == [b]
    assert np.max(np.abs(state_of([b]).full() - np.eye(2) / 2)) < TOL


def test_reset_prepares_ground_state_and_leaves_partner_reduced_state():
    """reset(a) on half of a random pair: a → |0⟩ alone; b keeps its marginal Tr_a ρ."""
    rho = random_dm(np.random.default_rng(38), 2)
    a, b = create_qubits(2, rho)
    reset(a)
    assert a.alive and a.group is not b.group
    assert np.max(np.abs(state_of([a]).full() - KET0.proj().full())) < TOL
    ref = qutip.Qobj(rho, dims=[[2, 2]] * 2).ptrace(1)
    assert np.max(np.abs(state_of([b]).full() - ref.full())) < TOL
    operate([a], gates.X)  # still usable
    assert np.max(np.abs(state_of([a]).full() - KET1.proj().full())) < TOL


def test_assign_state_replaces_the_state_and_traces_the_qubit_out_of_its_old_group():
    """assign_state([b], σ) on a 3-qubit group: b is in σ alone; a, c keep Tr_b ρ."""
    rho = random_dm(np.random.default_rng(39), 3)
    a, b, c = create_qubits(3, rho)
    sigma = random_dm(np.random.default_rng(40), 1)
    assign_state([b], sigma)
    assert b.group.qubits == [b] and a.group.qubits == [a, c]
    assert np.max(np.abs(state_of([b]).full() - sigma)) < TOL
    ref = qutip.Qobj(rho, dims=[[2] * 3] * 2).ptrace([0, 2])
    assert np.max(np.abs(state_of([a, c]).full() - ref.full())) < TOL


@pytest.mark.parametrize(
    "bad,msg",
    [(np.eye(4), "trace"), (np.diag([1.2, -0.2, 0, 0]), "positive semidefinite"),
     (np.array([[0.5, 0.3, 0, 0], [0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), "Hermitian"),
     (np.eye(2) / 2, "shape"), (np.array([1, 1, 0, 0]), "norm")],
)
def test_refused_assign_state_leaves_the_old_state_untouched(bad, msg):
    """A refused state (InvalidStateError naming the property) changes nothing: the pair keeps
    its entangled state and its group — nothing is half-applied."""
    rho = random_dm(np.random.default_rng(41), 3)
    a, b, c = create_qubits(3, rho)
    before = state_of([a, b, c]).full().copy()
    group = a.group
    with pytest.raises(InvalidStateError, match=msg):
        assign_state([a, b], bad)
    assert a.group is group and b.group is group and c.group is group and group.qubits == [a, b, c]
    assert np.max(np.abs(state_of([a, b, c]).full() - before)) == 0.0


def test_refused_assign_with_a_dead_qubit_changes_nothing():
    """assign_state([a, dead], ...) raises QubitDeadError before touching a's group."""
    a, b = create_qubits(2, bell_state(0))
    d, = create_qubits(1)
    discard(d)
    with pytest.raises(QubitDeadError):
        assign_state([a, d], bell_state(1))
    assert a.group is b.group
    assert np.max(np.abs(state_of([a, b]).full() - bell_state(0).proj().full())) < TOL


def test_operations_on_one_group_do_not_touch_another():
    """Gates on pair 1 leave pair 2's state exactly as it was (locality of the group structure)."""
    r2 = random_dm(np.random.default_rng(42), 2)
    a, b = create_qubits(2, bell_state(0))
    c, d = create_qubits(2, r2)
    operate([a, b], gates.CNOT)
    operate([a], gates.H)
    assert np.max(np.abs(state_of([c, d]).full() - r2)) == 0.0
    # And CNOT then H⊗I undoes the Bell preparation: Φ⁺ → |00⟩ (a qutip check of the same).
    ref = op_on(HAD, 2, 0) * op_on(CNOT, 2, 0, 1) * bell_state(0)
    assert np.max(np.abs(ref.full() - qutip.tensor(KET0, KET0).full())) < TOL
    assert np.max(np.abs(state_of([a, b]).full() - qutip.tensor(KET0, KET0).proj().full())) < TOL


def test_state_of_across_groups_is_the_tensor_product_in_the_requested_order():
    """For separate groups (a, b) and (c, d), state_of([d, a, c]) is Tr_b ρ_ab ⊗ ρ_cd re-ordered to
    (d, a, c): different groups are uncorrelated, qubits within a group keep their correlations."""
    rng = np.random.default_rng(43)
    rab, rcd = random_dm(rng, 2), random_dm(rng, 2)
    a, b = create_qubits(2, rab)
    c, d = create_qubits(2, rcd)
    qab, qcd = qutip.Qobj(rab, dims=[[2, 2]] * 2), qutip.Qobj(rcd, dims=[[2, 2]] * 2)
    ref = qutip.tensor(qab.ptrace(0), qcd).permute([2, 0, 1])  # (a, c, d) → (d, a, c)
    assert np.max(np.abs(state_of([d, a, c]).full() - ref.full())) < TOL
    ref2 = qutip.tensor(qab, qcd).permute([3, 0, 2, 1])
    assert np.max(np.abs(state_of([d, a, c, b]).full() - ref2.full())) < TOL


def test_joint_measurement_orders_bits_as_the_qubits_are_listed():
    """Measuring [b, a] of |0⟩_a|1⟩_b reports 0b10 = 2: the first *listed* qubit is the high bit."""
    a, b = create_qubits(2)
    operate([b], gates.X)
    assert measure([b, a], "Z", np.random.default_rng(0)) == 2


def test_refused_noisy_three_qubit_gate_changes_nothing():
    """A Toffoli with GateNoise (noise is defined only for 1- and 2-qubit gates) must be refused
    *before* anything happens: |110⟩ must stay |110⟩ in three separate groups."""
    a, b, c = create_qubits(3)
    operate([a], gates.X)
    operate([b], gates.X)
    toffoli = np.eye(8)
    toffoli[6:, 6:] = [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match="1- and 2-qubit"):
        operate([a, b, c], toffoli, GateNoise(single_qubit_depolarizing=0.1))
    assert a.group is not c.group and b.group is not c.group
    assert np.max(np.abs(state_of([a, b, c]).full() - qutip.tensor(KET1, KET1, KET0).proj().full())) < TOL
