"""qstack's swap (fast linear-map path and general circuit path) against plain qutip.

The reference swap projects (b, c) of ρ_ab ⊗ ρ_cd on the Bell state β_k with
``qutip.tensor(I, |β_k⟩⟨β_k|, I)``, traces out b, c with ``ptrace`` and applies the correction
σ_k ∈ {I, Z, X, Z·X} to d: out_k = σ_k Tr_bc[Π_k (ρ_ab ⊗ ρ_cd) Π_k] σ_k†, whose trace is
P(k). The noisy reference runs the BSM circuit in qutip: CNOT(b→c), two-qubit depolarising
(1−p₂)ρ + p₂ (1/16)Σ PρP on (b, c), H(b), one-qubit depolarising on b, computational projectors,
and mixes the four true outcomes into each reported one with P(report | true) = e^flips (1−e)^(2−flips).
Random inputs are full-rank G G†/Tr(G G†) with complex Gaussian G, so no structure is assumed.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from qstack_quantum_refs import (
    CORR,
    I2,
    pair_vector,
    qobj_dm,
    random_dm,
    reference_swap_bell,
    reference_swap_circuit,
    swap_map_blocks,
)

from qstack.quantum import GateNoise, create_qubits, entanglement_swap, state_of
from qstack.quantum.kernels import permute_qubits
from qstack.quantum.operations import _swap_branches

TOL = 1e-12
NOISES = [GateNoise(), GateNoise(0.0, 0.1, 0.0), GateNoise(0.0, 0.0, 0.15), GateNoise(0.07, 0.2, 0.1),
          GateNoise(1.0, 0.5, 0.5)]
NOISE_IDS = ["ideal", "gate", "readout", "all", "extreme"]


def _random_pairs(seed: int, count: int = 4):
    rng = np.random.default_rng(seed)
    return [(random_dm(rng, 2), random_dm(rng, 2)) for _ in range(count)]


def test_reference_bell_projector_swap_equals_reference_circuit():
    """Sanity of the references: projecting on β_k equals the CNOT·H circuit's outcome bits
    (phase, parity) of β_k — two independent constructions of the same ideal swap."""
    for rab, rcd in _random_pairs(60, 2):
        rho = qutip.tensor(qobj_dm(rab), qobj_dm(rcd))
        for k in range(4):
            assert np.max(np.abs(reference_swap_bell(rab, rcd, k) - reference_swap_circuit(rho, k))) < TOL


def test_reference_bell_outcome_probabilities_sum_to_one_and_are_bell_populations():
    """Σ_k P(k) = 1, and P(k) = Tr[(|β_k⟩⟨β_k|)_bc ρ_b ⊗ ρ_c] depends only on the inner qubits."""
    from qstack.quantum import bell_state

    for rab, rcd in _random_pairs(61, 2):
        ps = [np.trace(reference_swap_bell(rab, rcd, k)).real for k in range(4)]
        assert sum(ps) == pytest.approx(1.0, abs=TOL)
        rbc = qutip.tensor(qobj_dm(rab).ptrace(1), qobj_dm(rcd).ptrace(0))
        assert ps == pytest.approx([qutip.expect(bell_state(k).proj(), rbc) for k in range(4)], abs=TOL)


def test_fast_path_swap_map_equals_plain_qutip_swap_for_each_outcome():
    """Each outcome block M_k of the precomputed ideal swap map, applied to ρ_ab ⊗ ρ_cd, equals the
    qutip Bell-projector reference out_k to 1e-12; the probability rows equal Tr out_k."""
    p_map, branches = swap_map_blocks(GateNoise())
    for rab, rcd in _random_pairs(62):
        v = pair_vector(rab, rcd)
        probs = p_map @ v
        for k in range(4):
            ref = reference_swap_bell(rab, rcd, k)
            assert np.max(np.abs((branches[k] @ v).reshape(4, 4) - ref)) < TOL, k
            assert probs[k] == pytest.approx(np.trace(ref), abs=TOL)


@pytest.mark.parametrize("noise", NOISES, ids=NOISE_IDS)
def test_noisy_fast_path_swap_map_equals_noisy_qutip_circuit(noise):
    """With gate depolarising and readout errors, every block of the swap map equals the noisy
    qutip circuit reference (depolarising after CNOT and H, readout-flip mixing) to 1e-12."""
    p_map, branches = swap_map_blocks(noise)
    p1, p2, e = noise.single_qubit_depolarizing, noise.two_qubit_depolarizing, noise.readout_error
    for rab, rcd in _random_pairs(63, 3):
        v = pair_vector(rab, rcd)
        rho = qutip.tensor(qobj_dm(rab), qobj_dm(rcd))
        for k in range(4):
            ref = reference_swap_circuit(rho, k, p1, p2, e)
            assert np.max(np.abs((branches[k] @ v).reshape(4, 4) - ref)) < TOL, k
            assert (p_map @ v)[k] == pytest.approx(np.trace(ref), abs=TOL)


@pytest.mark.parametrize("noise", NOISES, ids=NOISE_IDS)
def test_circuit_swap_branches_equal_noisy_qutip_circuit(noise):
    """The general path's branch computation (_swap_branches on the 16×16 ρ_ab ⊗ ρ_cd) equals the
    qutip circuit for all four reported outcomes."""
    p1, p2, e = noise.single_qubit_depolarizing, noise.two_qubit_depolarizing, noise.readout_error
    for rab, rcd in _random_pairs(64, 2):
        rho = qutip.tensor(qobj_dm(rab), qobj_dm(rcd))
        out = _swap_branches(rho.full(), noise)
        for k in range(4):
            assert np.max(np.abs(out[k] - reference_swap_circuit(rho, k, p1, p2, e))) < TOL, k


def _each_outcome(run, max_seeds=300):
    """Call run(seed) → (k, result) for seeds 0, 1, … until all four outcomes were seen."""
    seen = {}
    for seed in range(max_seeds):
        k, res = run(seed)
        seen.setdefault(k, res)
        if len(seen) == 4:
            return seen
    raise AssertionError(f"outcomes seen: {sorted(seen)}")


@pytest.mark.parametrize("noise", [None, GateNoise(0.07, 0.2, 0.0)], ids=["ideal", "gate-noise"])
@pytest.mark.parametrize("reverse", [False, True], ids=["ab", "ba"])
def test_entanglement_swap_fast_path_equals_qutip_for_every_outcome(noise, reverse):
    """entanglement_swap on two 2-qubit groups (stored as (a, b) or reversed as (b, a)) leaves
    (a, d) in out_k / P(k) of the qutip reference for whichever outcome k it reports (no readout
    error: the reported outcome is the true one; readout errors: the next test)."""
    rab, rcd = _random_pairs(65, 1)[0]
    gn = noise or GateNoise()
    rho = qutip.tensor(qobj_dm(rab), qobj_dm(rcd))

    def run(seed):
        if reverse:
            b, a = create_qubits(2, permute_qubits(rab, (1, 0)))
            d, c = create_qubits(2, permute_qubits(rcd, (1, 0)))
        else:
            a, b = create_qubits(2, rab)
            c, d = create_qubits(2, rcd)
        k = entanglement_swap(a, b, c, d, np.random.default_rng(seed), noise)
        return k, state_of([a, d]).full()

    for k, got in _each_outcome(run).items():
        ref = reference_swap_circuit(rho, k, gn.single_qubit_depolarizing, gn.two_qubit_depolarizing, gn.readout_error)
        assert np.max(np.abs(got - ref / np.trace(ref))) < TOL, k


@pytest.mark.parametrize("noise", [None, GateNoise(0.0, 0.0, 0.2), GateNoise(0.07, 0.2, 0.3)],
                         ids=["ideal", "readout", "gates-and-readout"])
@pytest.mark.parametrize("correct", [True, False], ids=["corrected", "frame-tracked"])
def test_fast_and_circuit_swap_paths_agree_outcome_by_outcome_on_one_random_stream(noise, correct):
    """One sampling rule on every swap path: the fast path (both pairs 2-qubit groups, precomputed
    maps) and the circuit path (CNOT, H, measure(), Pauli correction) draw the true outcome, then
    each reported bit's readout flip, from the same random numbers. So on the same seed they report
    the same Bell outcome and leave (a, d) in the same state to 1e-12 — swap by swap, for 200 seeds,
    with readout errors that make reported and true outcomes differ."""
    from qstack.quantum import bell_state_measurement, operate
    from qstack.quantum.operations import CORRECTIONS

    rab, rcd = _random_pairs(70, 1)[0]
    differs = 0
    for seed in range(200):
        a, b = create_qubits(2, rab)
        c, d = create_qubits(2, rcd)
        k_fast = entanglement_swap(a, b, c, d, np.random.default_rng(seed), noise, correct)
        fast = state_of([a, d]).full()
        a, b = create_qubits(2, rab)
        c, d = create_qubits(2, rcd)
        k_circ = bell_state_measurement(b, c, np.random.default_rng(seed), noise)
        if correct and k_circ:
            operate([d], CORRECTIONS[k_circ])
        circ = state_of([a, d]).full()
        assert k_fast == k_circ, seed
        assert np.max(np.abs(fast - circ)) < TOL, seed
        differs += k_fast != 0
    assert differs > 50  # every outcome occurs, not just Φ⁺


@pytest.mark.parametrize("noise", [None, GateNoise(0.07, 0.2, 0.0)], ids=["ideal", "gate-noise"])
@pytest.mark.parametrize("order", [("a", "b", "e"), ("b", "e", "a")], ids=["abe", "bea"])
def test_general_path_with_entangled_spectator_equals_qutip(noise, order):
    """With a third qubit e entangled into a's group the swap takes the circuit path; the joint
    state of (a, e, d) must equal the qutip reference on ρ_abe ⊗ ρ_cd, for every outcome and for
    any qubit order inside the group (here also (b, e, a): a and b reversed and apart).
    (Readout errors: see test_general_path_with_readout_errors_keeps_the_true_branch.)"""
    rng = np.random.default_rng(66)
    rabe, rcd = random_dm(rng, 3), random_dm(rng, 2)  # qubit order a, b, e
    gn = noise or GateNoise()
    # qutip order a=0, b=1, e=2, c=3, d=4.
    rho = qutip.tensor(qobj_dm(rabe), qobj_dm(rcd))
    perm = [("a", "b", "e").index(x) for x in order]

    def run(seed):
        qs = dict(zip(order, create_qubits(3, permute_qubits(rabe, perm)), strict=True))
        c, d = create_qubits(2, rcd)
        k = entanglement_swap(qs["a"], qs["b"], c, d, np.random.default_rng(seed), noise)
        return k, state_of([qs["a"], qs["e"], d]).full()

    for k, got in _each_outcome(run).items():
        ref = reference_swap_circuit(rho, k, gn.single_qubit_depolarizing, gn.two_qubit_depolarizing,
                                     gn.readout_error, a=0, b=1, c=3, d=4, keep=[0, 2, 4])
        assert np.max(np.abs(got - ref / np.trace(ref))) < TOL, k


@pytest.mark.parametrize("noise", [None, GateNoise(0.07, 0.2, 0.0)], ids=["ideal", "gate-noise"])
def test_general_path_with_product_spectator_equals_fast_path(noise):
    """Adding a spectator |0⟩ to a's group forces the circuit path; the (a, d) state for each
    outcome equals the fast path's (both equal the reference out_k / P(k))."""
    rab, rcd = _random_pairs(67, 1)[0]
    p_map, branches = swap_map_blocks(noise)
    v = pair_vector(rab, rcd)

    def run(seed):
        a, b, e = create_qubits(3, np.kron(rab, np.diag([1.0, 0.0])))
        c, d = create_qubits(2, rcd)
        k = entanglement_swap(a, b, c, d, np.random.default_rng(seed), noise)
        assert len(a.group.qubits) == 3  # e stayed with a (and d joined)
        return k, state_of([a, d]).full()

    for k, got in _each_outcome(run).items():
        fast = (branches[k] @ v).reshape(4, 4) / (p_map @ v)[k]
        assert np.max(np.abs(got - fast)) < TOL, k


def test_uncorrected_swap_leaves_the_raw_projected_state():
    """With correct=False, (a, d) holds Tr_bc[Π_k ρ Π_k]/P(k) — the reference before σ_k."""
    rab, rcd = _random_pairs(68, 1)[0]

    def run(seed):
        a, b = create_qubits(2, rab)
        c, d = create_qubits(2, rcd)
        k = entanglement_swap(a, b, c, d, np.random.default_rng(seed), correct=False)
        return k, state_of([a, d]).full()

    for k, got in _each_outcome(run).items():
        ref = qutip.Qobj(reference_swap_bell(rab, rcd, k), dims=[[2, 2], [2, 2]])
        undo = qutip.tensor(I2, CORR[k]).dag()
        raw = (undo * ref * undo.dag()).full()
        assert np.max(np.abs(got - raw / np.trace(raw))) < TOL, k


def test_general_path_with_readout_errors_keeps_the_true_branch():
    """With readout errors the circuit path collapses on the *true* BSM outcome t but corrects
    with the *reported* k: (a, d) = σ_k Tr_bc[Π_t ρ Π_t] σ_k† / P(t) — one term of the fast path's
    mixture Σ_t P(k|t) (…). Each run must match exactly one such term; the reported phase and
    parity bits differ from the true ones with frequency e each (within 4 SE). Averaged over runs
    this reproduces the fast path's mixed branch, so both paths have the same statistics."""
    e = 0.3
    noise = GateNoise(0.0, 0.1, e)
    rab, rcd = _random_pairs(69, 1)[0]
    rho = qutip.tensor(qobj_dm(rab), qobj_dm(rcd))
    raw = []
    for t in range(4):  # Tr_bc[Π_t ρ' Π_t] with ρ' after the noisy gates, correction undone
        ref = qutip.Qobj(reference_swap_circuit(rho, t, 0.0, 0.1, 0.0), dims=[[2, 2], [2, 2]])
        undo = qutip.tensor(I2, CORR[t]).dag()
        raw.append(undo * ref * undo.dag())
    n = 400
    flips = np.zeros(2)
    for seed in range(n):
        a, b, x = create_qubits(3, np.kron(rab, np.diag([1.0, 0.0])))
        c, d = create_qubits(2, rcd)
        k = entanglement_swap(a, b, c, d, np.random.default_rng(seed), noise)
        got = state_of([a, d]).full()
        corr = qutip.tensor(I2, CORR[k])
        cands = [(corr * r * corr.dag()).full() / r.tr() for r in raw]
        matches = [t for t in range(4) if np.max(np.abs(got - cands[t])) < TOL]
        assert len(matches) == 1, (k, matches)
        t = matches[0]
        bk, bt = (k in (1, 3), k in (2, 3)), (t in (1, 3), t in (2, 3))
        flips += [bk[0] != bt[0], bk[1] != bt[1]]
    se = np.sqrt(e * (1 - e) / n)
    assert np.all(np.abs(flips / n - e) <= 4 * se), flips / n
