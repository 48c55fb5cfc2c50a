"""Standard states: Bell basis, Werner and Bell-diagonal states, fidelity, validation.

Conventions under test: |0⟩ = basis(2, 0); Bell order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ with
|Φ^±⟩ = (|00⟩ ± |11⟩)/√2, |Ψ^±⟩ = (|01⟩ ± |10⟩)/√2; a Werner state of fidelity F is
F|Φ⁺⟩⟨Φ⁺| + (1−F)/3 (I − |Φ⁺⟩⟨Φ⁺|) = w|Φ⁺⟩⟨Φ⁺| + (1−w) I/4 with w = (4F − 1)/3;
fidelity to a pure state is ⟨ψ|ρ|ψ⟩ — the square of qutip's root fidelity.
"""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from qstack_quantum_refs import KET0, KET1, bell_basis_matrix, random_dm, random_ket, werner_dm

from qstack.quantum import (
    InvalidStateError,
    bell_coefficients,
    bell_diagonal,
    bell_state,
    fidelity,
    fidelity_from_werner_parameter,
    product_state,
    validate_density_matrix,
    werner,
    werner_parameter,
)

TOL = 1e-12


def test_bell_states_match_their_textbook_definitions():
    """|Φ^±⟩ = (|00⟩ ± |11⟩)/√2 and |Ψ^±⟩ = (|01⟩ ± |10⟩)/√2, in the order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻."""
    k00, k01 = qutip.tensor(KET0, KET0), qutip.tensor(KET0, KET1)
    k10, k11 = qutip.tensor(KET1, KET0), qutip.tensor(KET1, KET1)
    expected = [
        (k00 + k11) / np.sqrt(2),
        (k00 - k11) / np.sqrt(2),
        (k01 + k10) / np.sqrt(2),
        (k01 - k10) / np.sqrt(2),
    ]
    for k, (name, ket) in enumerate(zip(("phi+", "phi-", "psi+", "psi-"), expected, strict=True)):
        assert np.max(np.abs(bell_state(k).full() - ket.full())) < TOL
        assert np.max(np.abs(bell_state(name).full() - ket.full())) < TOL


def test_bell_states_are_orthonormal():
    """The Gram matrix ⟨β_i|β_j⟩ of the four Bell states is the identity: they form a basis."""
    kets = np.hstack([bell_state(k).full() for k in range(4)])
    assert np.max(np.abs(kets.conj().T @ kets - np.eye(4))) < TOL


@pytest.mark.parametrize("alias,index", [("Φ+", 0), ("PHI-", 1), ("psi_plus", 2), (" psi- ", 3), ("Ψ-", 3)])
def test_bell_state_aliases_name_the_same_state(alias, index):
    """Names, unicode aliases and indices address the same Bell state."""
    assert np.max(np.abs(bell_state(alias).full() - bell_state(index).full())) < TOL


@pytest.mark.parametrize("f", [0.25, 0.5, 0.8, 0.97, 1.0])
@pytest.mark.parametrize("which", range(4))
def test_werner_state_has_bell_coefficients_F_and_three_times_one_minus_F_over_3(f, which):
    """werner(F, β) is diagonal in the Bell basis with F on β and (1−F)/3 on each other state."""
    rho = werner(f, which)
    expected = np.full(4, (1 - f) / 3)
    expected[which] = f
    assert bell_coefficients(rho) == pytest.approx(expected, abs=TOL)
    # Independently: all Bell-basis off-diagonals vanish and the trace is 1.
    m = bell_basis_matrix(rho.full())
    assert np.max(np.abs(m - np.diag(expected))) < TOL


@pytest.mark.parametrize("f", [0.25, 0.6, 0.9, 1.0])
def test_werner_state_is_w_phi_plus_plus_white_noise(f):
    """F|Φ⁺⟩⟨Φ⁺| + (1−F)/3 (I − |Φ⁺⟩⟨Φ⁺|) = w|Φ⁺⟩⟨Φ⁺| + (1−w)I/4 with w = (4F−1)/3."""
    w = werner_parameter(f)
    assert w == pytest.approx((4 * f - 1) / 3, abs=TOL)
    assert np.max(np.abs(werner(f).full() - werner_dm(w))) < TOL
    assert fidelity_from_werner_parameter(w) == pytest.approx(f, abs=TOL)


def test_bell_diagonal_round_trips_through_bell_coefficients():
    """bell_coefficients(bell_diagonal(λ)) = λ for random probability vectors λ."""
    rng = np.random.default_rng(11)
    for _ in range(20):
        lam = rng.dirichlet(np.ones(4))
        rho = bell_diagonal(lam)
        assert bell_coefficients(rho) == pytest.approx(lam, abs=TOL)
        assert float(rho.tr().real) == pytest.approx(1.0, abs=TOL)
        # Σ λ_i |β_i⟩⟨β_i| built from qutip kets.
        ref = sum(lam[i] * bell_state(i).proj() for i in range(4))
        assert np.max(np.abs(rho.full() - ref.full())) < TOL


def test_bell_coefficients_are_bell_state_populations_of_any_state():
    """For an arbitrary two-qubit ρ, bell_coefficients(ρ)_i = ⟨β_i|ρ|β_i⟩ (qutip expect)."""
    rng = np.random.default_rng(12)
    rho = random_dm(rng, 2)
    q = qutip.Qobj(rho, dims=[[2, 2], [2, 2]])
    expected = [qutip.expect(bell_state(i).proj(), q) for i in range(4)]
    assert bell_coefficients(q) == pytest.approx(expected, abs=TOL)
    assert bell_coefficients(rho) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("n_qubits", [1, 2, 3])
def test_fidelity_is_the_square_of_qutips_root_fidelity(n_qubits):
    """⟨ψ|ρ|ψ⟩ = (Tr√(√ρ |ψ⟩⟨ψ| √ρ))² for a pure target: qstack's fidelity is qutip's squared."""
    rng = np.random.default_rng(100 + n_qubits)
    dims = [[2] * n_qubits, [2] * n_qubits]
    for _ in range(5):
        rho = qutip.Qobj(random_dm(rng, n_qubits), dims=dims)
        psi = qutip.Qobj(random_ket(rng, n_qubits).reshape(-1, 1), dims=[[2] * n_qubits, [1] * n_qubits])
        # qutip sums √ of all eigenvalues of √ρ_ψ σ √ρ_ψ, so round-off eigenvalues (~1e-17) add
        # ~√1e-17 ≈ 3e-9 each: its root fidelity is only good to ~1e-8.
        assert fidelity(rho, psi) == pytest.approx(qutip.fidelity(rho, psi) ** 2, abs=1e-7)
        # Exactly: ⟨ψ|ρ|ψ⟩ as qutip's expectation value, and for a pure ρ = |φ⟩⟨φ| qutip's
        # pure-state branch |⟨φ|ψ⟩| squared.
        assert fidelity(rho, psi) == pytest.approx(qutip.expect(rho, psi), abs=TOL)
        phi = qutip.Qobj(random_ket(rng, n_qubits).reshape(-1, 1), dims=[[2] * n_qubits, [1] * n_qubits])
        assert fidelity(phi.proj(), psi) == pytest.approx(qutip.fidelity(phi, psi) ** 2, abs=TOL)


def test_fidelity_of_two_kets_is_their_squared_overlap():
    """For pure ρ = |φ⟩ given as a ket, the fidelity is |⟨ψ|φ⟩|²."""
    rng = np.random.default_rng(13)
    phi, psi = random_ket(rng, 2), random_ket(rng, 2)
    assert fidelity(phi, psi) == pytest.approx(abs(np.vdot(psi, phi)) ** 2, abs=TOL)


def test_product_state_labels_are_the_pauli_eigenstates():
    """Labels 0, 1, +, −, +i, −i give the ±1 eigenstates of Z, X and Y."""
    for label, pauli, eig in [("0", qutip.sigmaz(), 1), ("1", qutip.sigmaz(), -1), ("+", qutip.sigmax(), 1),
                              ("-", qutip.sigmax(), -1), ("+i", qutip.sigmay(), 1), ("-i", qutip.sigmay(), -1)]:
        assert qutip.expect(pauli, product_state(label)) == pytest.approx(eig, abs=TOL)
    rho = product_state("1", "+")
    ref = qutip.tensor(KET1.proj(), ((KET0 + KET1).unit()).proj())
    assert np.max(np.abs(rho.full() - ref.full())) < TOL


def test_validate_density_matrix_accepts_valid_states():
    """Random density matrices (Hermitian, trace 1, PSD) and Bell projectors pass validation."""
    rng = np.random.default_rng(14)
    for n in (1, 2, 3):
        validate_density_matrix(random_dm(rng, n))
        validate_density_matrix(random_dm(rng, n, rank=1))
    validate_density_matrix(bell_state(3).proj().full())


def test_validate_refuses_non_hermitian_matrix_and_says_by_how_much():
    """ρ ≠ ρ†: the message names Hermiticity and the size max|ρ − ρ†|."""
    rho = np.diag([0.5, 0.5]).astype(complex)
    rho[0, 1] = 0.2  # ρ − ρ† has entries ±0.2
    with pytest.raises(InvalidStateError, match=r"not Hermitian.*0\.2"):
        validate_density_matrix(rho)


def test_validate_refuses_wrong_trace_and_says_by_how_much():
    """Tr ρ = 1.5: the message names the trace and that it is off by 0.5."""
    with pytest.raises(InvalidStateError, match=r"trace 1\.5.*off by 0\.5"):
        validate_density_matrix(np.diag([1.0, 0.5]))


def test_validate_refuses_negative_eigenvalue_and_says_by_how_much():
    """diag(1.2, −0.2) is Hermitian with trace 1 but has eigenvalue −0.2: not PSD."""
    with pytest.raises(InvalidStateError, match=r"positive semidefinite.*-0\.2"):
        validate_density_matrix(np.diag([1.2, -0.2]))
    # A hidden negative eigenvalue (not on the diagonal): [[.5, .6], [.6, .5]] has eigenvalues 1.1, −0.1.
    with pytest.raises(InvalidStateError, match=r"positive semidefinite.*-0\.1"):
        validate_density_matrix(np.array([[0.5, 0.6], [0.6, 0.5]]))


def test_validate_respects_its_tolerance():
    """An error below tol passes; the same error above tol is refused."""
    rho = np.diag([0.5 + 1e-10, 0.5])
    validate_density_matrix(rho, tol=1e-9)
    with pytest.raises(InvalidStateError, match="trace"):
        validate_density_matrix(rho, tol=1e-11)


def test_validate_refuses_bad_shapes_and_non_finite_entries():
    """Non-square, non-power-of-two and NaN-containing matrices are refused with the reason."""
    with pytest.raises(InvalidStateError, match="square"):
        validate_density_matrix(np.ones((2, 3)) / 2)
    with pytest.raises(InvalidStateError, match=r"2\*\*n"):
        validate_density_matrix(np.eye(3) / 3)
    with pytest.raises(InvalidStateError, match="non-finite"):
        validate_density_matrix(np.array([[np.nan, 0], [0, 0.5]]))


@pytest.mark.parametrize("f", [1.1, -0.01, float("nan")])
def test_werner_refuses_fidelity_outside_unit_interval(f):
    """F must be a probability; the error names the field 'fidelity'."""
    with pytest.raises(ValueError, match="fidelity"):
        werner(f)
    with pytest.raises(ValueError, match="fidelity"):
        werner_parameter(f)


def test_bell_diagonal_refuses_negative_coefficient_naming_it():
    """A negative λ_i is not a probability; the message names the entry (index and Bell state)."""
    with pytest.raises(ValueError, match=r"coefficients\[1\] \(phi-\)"):
        bell_diagonal([0.6, -0.1, 0.3, 0.2])


def test_bell_diagonal_refuses_wrong_length_and_wrong_sum():
    """λ needs four entries summing to one."""
    with pytest.raises(ValueError, match="4 entries"):
        bell_diagonal([0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="sum to 1"):
        bell_diagonal([0.5, 0.5, 0.5, 0.0])


@pytest.mark.parametrize("bad", ["chi+", "phi", "", 4, -1])
def test_bell_state_refuses_unknown_names_and_indices(bad):
    """Only Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ (indices 0–3) exist; the message says which were expected."""
    with pytest.raises(ValueError, match="Bell state"):
        bell_state(bad)
    with pytest.raises(ValueError, match="Bell state"):
        werner(0.9, bad)


def test_product_state_refuses_unknown_label():
    """An unknown state label is refused, naming the label."""
    with pytest.raises(ValueError, match="label.*'2'"):
        product_state("0", "2")
