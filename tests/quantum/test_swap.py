"""Entanglement swapping of Werner pairs (Żukowski et al. 1993; Dür, Briegel, Cirac, Zoller,
PRA 59, 169 (1999)).

A Bell-state measurement on b, c of pairs (a, b), (c, d) with outcome β_k leaves (a, d) in β_k;
the Pauli correction I, Z, X, Z·X on d (for Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) brings it to Φ⁺. For Werner inputs
ρ_i = w_i|Φ⁺⟩⟨Φ⁺| + (1 − w_i) I/4 the output is Werner with w = w₁w₂ for *every* outcome, each
outcome having probability ¼. With two-qubit gate depolarising 1 − p₂ and readout error 1 − η
per bit, Dür et al. give w = w₁w₂p₂(4η² − 1)/3 for the Φ⁺ fidelity F = (3w + 1)/4 of the
*ensemble*. Outcomes are sampled as in hardware: the state collapses on the true outcome and is
corrected by the reported one, so each swap leaves a Werner state of parameter w₁w₂p₂ rotated by
the Pauli of the readout flips (none with probability η², one bit η(1 − η) each, both (1 − η)²);
averaged over swaps this is Dür's w.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_quantum_refs import pair_vector, swap_map_blocks, werner_dm

from qstack.quantum import (
    GateNoise,
    QubitDeadError,
    bell_coefficients,
    bell_state,
    create_qubits,
    entanglement_swap,
    fidelity,
    operate,
    state_of,
    theory,
    twirl,
    werner,
    werner_parameter,
)

TOL = 1e-12


def _swap_each_outcome(make_pairs, noise=None, max_seeds=400):
    """Run swaps with seeds 0, 1, … until every Bell outcome occurred; yield (k, ρ_ad) per outcome."""
    seen = {}
    for seed in range(max_seeds):
        a, b, c, d = make_pairs()
        k = entanglement_swap(a, b, c, d, np.random.default_rng(seed), noise)
        if k not in seen:
            seen[k] = state_of([a, d]).full()
        if len(seen) == 4:
            return seen
    raise AssertionError(f"not all four outcomes seen in {max_seeds} seeds: {sorted(seen)}")


def _werner_pairs(f1, f2):
    def make():
        a, b = create_qubits(2, werner(f1))
        c, d = create_qubits(2, werner(f2))
        return a, b, c, d

    return make


def test_ideal_swap_of_phi_plus_pairs_gives_phi_plus_for_every_outcome():
    """|Φ⁺⟩_ab|Φ⁺⟩_cd = ½ Σ_k |β_k⟩_bc σ_k|Φ⁺⟩_ad: after correcting σ_k, (a, d) is exactly Φ⁺."""
    for k, rho in _swap_each_outcome(_werner_pairs(1.0, 1.0)).items():
        assert np.max(np.abs(rho - bell_state(0).proj().full())) < TOL, k


def test_uncorrected_swap_leaves_the_bell_state_of_the_outcome():
    """With correct=False (Pauli frame tracked by the caller) the pair (a, d) is β_k itself."""
    seen = set()
    for seed in range(60):
        a, b = create_qubits(2, bell_state(0))
        c, d = create_qubits(2, bell_state(0))
        k = entanglement_swap(a, b, c, d, np.random.default_rng(seed), correct=False)
        seen.add(k)
        assert np.max(np.abs(state_of([a, d]).full() - bell_state(k).proj().full())) < TOL
    assert seen == {0, 1, 2, 3}


@pytest.mark.parametrize("f1,f2", [(0.9, 0.9), (0.95, 0.7), (0.6, 0.99), (0.25, 0.8)])
def test_werner_parameters_multiply_under_ideal_swap(f1, f2):
    """Ideal swap of Werner pairs: the output is Werner with w = w₁·w₂ for every one of the
    four outcomes, i.e. F = (3w₁w₂ + 1)/4 (theory.werner_swap_fidelity)."""
    w = werner_parameter(f1) * werner_parameter(f2)
    for k, rho in _swap_each_outcome(_werner_pairs(f1, f2)).items():
        assert np.max(np.abs(rho - werner_dm(w))) < 1e-9, k
        assert fidelity(rho, bell_state(0)) == pytest.approx(theory.werner_swap_fidelity(f1, f2), abs=1e-9)


@pytest.mark.parametrize(
    "f1,f2,p2,eta", [(0.95, 0.9, 0.98, 0.99), (0.9, 0.9, 1.0, 0.9), (0.85, 0.97, 0.9, 1.0), (1.0, 1.0, 0.8, 0.7)]
)
def test_noisy_swap_is_a_sampled_pauli_error_on_werner_and_averages_to_dur_briegel_cirac_zoller(f1, f2, p2, eta):
    """With depolarising 1 − p₂ after the CNOT and readout error 1 − η per bit, every swap leaves
    Bell coefficients that are a permutation of (W + (1−W)/4, (1−W)/4, (1−W)/4, (1−W)/4),
    W = w₁w₂p₂, exactly (to 1e-9): the gate-noisy Werner state, Pauli-rotated by the readout
    flips. The rotation is none (Φ⁺ largest) with probability η², Φ⁻ or Ψ⁺ (one flipped bit)
    η(1−η) each, Ψ⁻ (1−η)² — within 4 SE over 3000 swaps — so the mean Φ⁺ fidelity is Dür et al.'s
    (3w + 1)/4 with w = w₁w₂p₂(4η² − 1)/3 (PRA 59, 169 (1999)), within 4 SE."""
    noise = GateNoise(two_qubit_depolarizing=1 - p2, readout_error=1 - eta)
    w = theory.noisy_swap_werner_parameter(werner_parameter(f1), werner_parameter(f2), p2, eta)
    big_w = werner_parameter(f1) * werner_parameter(f2) * p2
    werner_sorted = sorted([big_w + (1 - big_w) / 4] + [(1 - big_w) / 4] * 3)
    n = 3000
    labels = np.zeros(4)
    fids = []
    make = _werner_pairs(f1, f2)
    rng = np.random.default_rng(11)
    for _ in range(n):
        a, b, c, d = make()
        entanglement_swap(a, b, c, d, rng, noise)
        coeffs = bell_coefficients(state_of([a, d]))
        assert sorted(coeffs) == pytest.approx(werner_sorted, abs=1e-9)
        labels[int(np.argmax(coeffs))] += 1
        fids.append(coeffs[0])
    probs = np.array([eta**2, eta * (1 - eta), eta * (1 - eta), (1 - eta) ** 2])
    se = np.sqrt(probs * (1 - probs) / n)
    assert np.all(np.abs(labels / n - probs) <= 4 * se + 1e-15), (labels / n, probs)
    fids = np.array(fids)
    se_f = fids.std(ddof=1) / math.sqrt(n)
    assert abs(fids.mean() - (3 * w + 1) / 4) <= 4 * se_f + 1e-12


def test_dur_formula_is_w1_w2_p2_times_4_eta_squared_minus_1_over_3():
    """theory.noisy_swap_werner_parameter: w₁w₂p₂(4η² − 1)/3; ideal devices give w₁w₂."""
    assert theory.noisy_swap_werner_parameter(0.8, 0.7, 1.0, 1.0) == pytest.approx(0.56, abs=TOL)
    assert theory.noisy_swap_werner_parameter(0.8, 0.7, 0.9, 0.95) == pytest.approx(
        0.8 * 0.7 * 0.9 * (4 * 0.95**2 - 1) / 3, abs=TOL)
    # F = (3w+1)/4 with w = w1 w2.
    assert theory.werner_swap_fidelity(0.9, 0.8) == pytest.approx(
        (3 * ((4 * 0.9 - 1) / 3) * ((4 * 0.8 - 1) / 3) + 1) / 4, abs=TOL)


@pytest.mark.parametrize("noise", [None, GateNoise(0.05, 0.1, 0.07)], ids=["ideal", "noisy"])
def test_swap_outcome_probabilities_are_one_quarter_for_werner_inputs(noise):
    """For Werner inputs each reported Bell outcome has probability ¼ (the marginals are I/2, so
    the BSM outcome is uniform): exactly from the swap map's probability rows, and in frequency
    within 4 standard errors."""
    f1, f2 = 0.9, 0.75
    p_map, _ = swap_map_blocks(noise)
    probs = p_map @ pair_vector(werner(f1).full(), werner(f2).full())
    assert probs.real == pytest.approx([0.25] * 4, abs=TOL)
    n = 2000
    rng = np.random.default_rng(51)
    counts = np.zeros(4)
    for _ in range(n):
        a, b, c, d = _werner_pairs(f1, f2)()
        counts[entanglement_swap(a, b, c, d, rng, noise)] += 1
    se = math.sqrt(0.25 * 0.75 / n)
    assert np.all(np.abs(counts / n - 0.25) <= 4 * se), counts


@pytest.mark.parametrize("fids", [(0.95, 0.9, 0.97), (0.9, 0.9, 0.9, 0.9, 0.9), (0.99, 0.8, 0.93, 0.88)])
def test_chain_of_swaps_multiplies_werner_parameters(fids):
    """Swapping k+1 Werner pairs along a chain gives w = Π w_i (exact for ideal swaps) — the
    fidelity of a repeater chain decays geometrically with the number of links."""
    rng = np.random.default_rng(52)
    pairs = [create_qubits(2, werner(f)) for f in fids]
    left, right = pairs[0]
    for c, d in pairs[1:]:
        entanglement_swap(left, right, c, d, rng)
        right = d
    w = math.prod(werner_parameter(f) for f in fids)
    assert np.max(np.abs(state_of([left, right]).full() - werner_dm(w))) < 1e-9
    f_theory = theory.werner_swap_fidelity(*fids)
    assert fidelity(state_of([left, right]), bell_state(0)) == pytest.approx(f_theory, abs=1e-9)


def test_noisy_chain_with_twirls_multiplies_the_per_swap_factors():
    """With readout errors a swap's output is a Pauli-rotated Werner state; twirling back to
    Werner between swaps keeps every run exactly Werner with parameter
    Π w_i · Π_swaps p₂·s_j, where s_j = 1 when swap j's readout was right (probability η²) and
    −1/3 when a flip rotated it (Werner of fidelity (1 − W)/4). The ensemble mean of s_j is
    (4η² − 1)/3, so the mean Werner parameter over runs is Dür's Π w_i · Π p₂(4η² − 1)/3 (within
    4 SE over 2000 chains)."""
    p2, eta = 0.97, 0.95
    noise = GateNoise(two_qubit_depolarizing=1 - p2, readout_error=1 - eta)
    fids = (0.96, 0.92, 0.9, 0.94)
    base = math.prod(werner_parameter(f) for f in fids) * p2 ** (len(fids) - 1)
    allowed = [base * (-1 / 3) ** j for j in range(len(fids))]
    rng = np.random.default_rng(53)
    ws = []
    for _ in range(2000):
        pairs = [create_qubits(2, werner(f)) for f in fids]
        left, right = pairs[0]
        for c, d in pairs[1:]:
            entanglement_swap(left, right, c, d, rng, noise)
            right = d
            twirl(left, right)
        rho = state_of([left, right]).full()
        w_run = (4 * fidelity(rho, bell_state(0)) - 1) / 3
        assert np.max(np.abs(rho - werner_dm(w_run))) < 1e-9
        assert min(abs(w_run - x) for x in allowed) < 1e-9, w_run
        ws.append(w_run)
    ws = np.array(ws)
    expected = base * ((4 * eta**2 - 1) / 3) ** (len(fids) - 1)
    assert abs(ws.mean() - expected) <= 4 * ws.std(ddof=1) / math.sqrt(len(ws))


def test_chain_with_gate_noise_only_stays_werner_without_twirls():
    """With η = 1 (no readout errors) gate depolarising keeps Werner form: w = Π w_i · p₂^(swaps)."""
    p2 = 0.93
    fids = (0.97, 0.9, 0.95)
    rng = np.random.default_rng(54)
    pairs = [create_qubits(2, werner(f)) for f in fids]
    left, right = pairs[0]
    for c, d in pairs[1:]:
        entanglement_swap(left, right, c, d, rng, GateNoise(two_qubit_depolarizing=1 - p2))
        right = d
    w = math.prod(werner_parameter(f) for f in fids) * p2 ** (len(fids) - 1)
    assert np.max(np.abs(state_of([left, right]).full() - werner_dm(w))) < 1e-9


def test_swap_consumes_the_inner_qubits_and_joins_the_outer_ones():
    """b and c are measured (dead, fate 'measured'); a and d now share one 2-qubit group."""
    a, b, c, d = _werner_pairs(0.9, 0.9)()
    entanglement_swap(a, b, c, d, np.random.default_rng(0))
    assert a.group is d.group and len(a.group.qubits) == 2
    for q in (b, c):
        with pytest.raises(QubitDeadError, match="measured"):
            operate([q], np.eye(2))


def test_swap_of_pairs_stored_in_reverse_order_equals_swap_of_ordered_pairs():
    """A pair created as (b, a) is the same physical pair: swapping it gives w₁w₂ as well."""
    f1, f2 = 0.92, 0.81

    def make():
        b, a = create_qubits(2, werner(f1))
        d, c = create_qubits(2, werner(f2))
        return a, b, c, d

    w = werner_parameter(f1) * werner_parameter(f2)
    for k, rho in _swap_each_outcome(make).items():
        assert np.max(np.abs(rho - werner_dm(w))) < 1e-9, k


def test_swap_refuses_repeated_qubits():
    """The four qubits of a swap must be distinct."""
    a, b = create_qubits(2, bell_state(0))
    with pytest.raises(ValueError, match="distinct"):
        entanglement_swap(a, b, a, b, np.random.default_rng(0))


@pytest.mark.parametrize("correct", [False, True])
def test_swap_inner_composes_pauli_frames_by_xor(correct):
    """Writing β_i = (I ⊗ σ_i)Φ⁺ with i = 2·parity + phase (σ = I, Z, X, XZ), Paulis multiply by
    XOR of labels up to phase, so swapping β_i ⊗ β_j with outcome k leaves the far pair in
    β_{i⊕j⊕k}; the correction σ_k removes k, leaving β_{i⊕j}. swap_inner finds the partners itself."""
    from qstack.quantum import operations

    swap_inner = getattr(operations, "swap_inner", None)
    if swap_inner is None:
        pytest.skip("qstack.quantum.operations.swap_inner not available")
    for i in range(4):
        for j in range(4):
            seen = set()
            for seed in range(40):
                a, b = create_qubits(2, bell_state(i))
                c, d = create_qubits(2, bell_state(j))
                k = swap_inner(b, c, np.random.default_rng(seed), correct=correct)
                seen.add(k)
                expected = i ^ j if correct else i ^ j ^ k
                assert np.max(np.abs(state_of([a, d]).full() - bell_state(expected).proj().full())) < TOL
                if len(seen) == 4:
                    break
            assert seen == {0, 1, 2, 3}


class _LargestUniform:
    """Stands in for a numpy Generator whose next random() is 1 − 2⁻⁵³, the largest value
    Generator.random() can return (it samples multiples of 2⁻⁵³ in [0, 1))."""

    def random(self) -> float:
        return 1.0 - 2.0**-53


@pytest.mark.parametrize("path", ["fast", "circuit"])
def test_swap_never_reports_an_outcome_of_zero_probability(path):
    """If b and c are in the same pure state |v⟩, the pair (b, c) is symmetric under exchange and
    has zero overlap with the antisymmetric singlet Ψ⁻: P(Ψ⁻) = 0 exactly, so no value of the
    uniform variate may produce outcome 3, and (a, d) must stay a valid density matrix."""
    v = np.array([0.578 - 0.528j, -0.236 + 0.576j])
    v /= np.linalg.norm(v)
    if path == "fast":
        a, b = create_qubits(2, np.kron([1, 0], v))
    else:  # a spectator in a's group forces the circuit path
        a, b, _ = create_qubits(3, np.kron(np.kron([1, 0], v), [1, 0]))
    c, d = create_qubits(2, np.kron(v, [1, 0]))
    k = entanglement_swap(a, b, c, d, _LargestUniform())
    from qstack.quantum import validate_density_matrix

    validate_density_matrix(state_of([a, d]).full(), tol=1e-9)
    assert k != 3
