"""BB84 / BBM92 key rates with unequal X and Z error rates, and the X/Z QBERs of two-qubit states.

Sources: Lo, Chau & Ardehali, J. Cryptology 18, 133 (2005) (efficient BB84, error rates of the
two bases estimated separately: ``r = 1 - h(Q_X) - h(Q_Z)`` per sifted bit, reached per sent
signal as the key-basis probability ``p_Z -> 1``; ``(p_Z^2 + (1-p_Z)^2)`` times that at finite
bias); Shor & Preskill, PRL 85, 441 (2000) (``1 - 2 h(Q)`` for equal error rates). QBERs are
measured for Phi+ correlations: ``Q_Z = (1 - <ZZ>)/2``, ``Q_X = (1 - <XX>)/2``; Bell-diagonal
(Phi+, Phi-, Psi+, Psi-): ``Q_Z = c_Psi+ + c_Psi-``, ``Q_X = c_Phi- + c_Psi-``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip

from qstack.qkd import (
    XZQBER,
    bb84_asymmetric_rate,
    bb84_asymptotic_rate,
    bbm92_asymmetric_rate,
    bell_diagonal_qbers,
    binary_entropy,
    efficient_bb84_rate,
    state_qbers,
)
from qstack.quantum import apply_channel, bell_diagonal, bell_state, create_qubits, noise, state_of, werner

TOL = 1e-12
GRID = [0.0, 0.01, 0.03, 0.05, 0.08, 0.11, 0.2, 0.5]


def _dephased_phi_plus(p: float, both: bool = False) -> qutip.Qobj:
    """Phi+ with qstack's phase-flip (dephasing) channel rho -> (1-p) rho + p Z rho Z on Alice's qubit (and Bob's)."""
    a, b = create_qubits(2, bell_state("phi+"))
    apply_channel([a], noise.dephasing(p))
    if both:
        apply_channel([b], noise.dephasing(p))
    return state_of([a, b])


# --- the asymmetric rate -------------------------------------------------------------------


@pytest.mark.parametrize("qx", GRID)
@pytest.mark.parametrize("qz", GRID)
def test_lca_rate_is_one_minus_h_qx_minus_h_qz_clipped(qx: float, qz: float) -> None:
    """Lo–Chau–Ardehali (2005): r = max(0, 1 - h(Q_X) - h(Q_Z)), the same for BBM92, symmetric in X <-> Z."""
    expected = max(0.0, 1.0 - binary_entropy(qx) - binary_entropy(qz))
    assert bb84_asymmetric_rate(qx, qz) == pytest.approx(expected, abs=TOL)
    assert bbm92_asymmetric_rate(qx, qz) == bb84_asymmetric_rate(qx, qz)
    assert bb84_asymmetric_rate(qz, qx) == pytest.approx(bb84_asymmetric_rate(qx, qz), abs=TOL)
    assert bb84_asymmetric_rate(qx, qz) >= 0.0


@pytest.mark.parametrize("q", GRID)
def test_equal_error_rates_give_shor_preskill(q: float) -> None:
    """Q_X = Q_Z = Q: 1 - h(Q) - h(Q) is the Shor–Preskill rate 1 - 2 h(Q) (PRL 85, 441 (2000))."""
    assert bb84_asymmetric_rate(q, q) == pytest.approx(bb84_asymptotic_rate(q), abs=TOL)


def test_rate_is_clipped_at_zero_where_the_bound_is_negative() -> None:
    """1 - h(0.3) - h(0.2) < 0: no key, reported as 0 (not a negative rate); h(1/2) = 1 alone kills the key."""
    assert 1.0 - binary_entropy(0.3) - binary_entropy(0.2) < 0.0
    assert bb84_asymmetric_rate(0.3, 0.2) == 0.0
    assert bb84_asymmetric_rate(0.5, 0.0) == 0.0
    assert efficient_bb84_rate(0.3, 0.2, 0.9) == 0.0


def test_qber_above_one_half_is_bob_flipping_his_bits() -> None:
    """h(Q) = h(1 - Q): perfectly anticorrelated outcomes (Q = 1, e.g. Psi- in X and Z) are a perfect key."""
    assert bb84_asymmetric_rate(1.0, 1.0) == 1.0
    assert bb84_asymmetric_rate(0.9, 0.2) == pytest.approx(bb84_asymmetric_rate(0.1, 0.2), abs=TOL)


@pytest.mark.parametrize("name,args", [("qber_x", (1.5, 0.0)), ("qber_x", (-0.1, 0.0)), ("qber_z", (0.0, 1.01)),
                                       ("qber_z", (0.0, -1e-3)), ("qber_x", (math.nan, 0.0)),
                                       ("qber_z", (0.0, math.nan)), ("qber_x", (math.inf, 0.0))])
def test_qber_outside_unit_interval_or_nan_raises_naming_it(name: str, args: tuple[float, float]) -> None:
    """A QBER is a probability: outside [0, 1], NaN or infinite raises ValueError naming the parameter and range."""
    for fn in (bb84_asymmetric_rate, bbm92_asymmetric_rate):
        with pytest.raises(ValueError, match=rf"{name} must be in \[0, 1\]"):
            fn(*args)
    with pytest.raises(ValueError, match=rf"{name} must be in \[0, 1\]"):
        efficient_bb84_rate(*args, 0.9)


# --- finite bias -----------------------------------------------------------------------------


@pytest.mark.parametrize("qx,qz", [(0.0, 0.0), (0.02, 0.01), (0.05, 0.05), (0.1, 0.0), (0.0, 0.07)])
@pytest.mark.parametrize("pz", [0.0, 0.3, 0.5, 0.9, 0.99, 1.0])
def test_efficient_bb84_rate_per_signal(qx: float, qz: float, pz: float) -> None:
    """LCA (2005): per sent signal (p_Z^2 + (1-p_Z)^2)(1 - h(Q_X) - h(Q_Z)) with both sifted bases as key;
    p_Z^2 (1 - h(Q_X) - h(Q_Z)) when only Z-basis bits make key (Tomamichel et al. 2012, asymptotically)."""
    r = bb84_asymmetric_rate(qx, qz)
    assert efficient_bb84_rate(qx, qz, pz) == pytest.approx((pz**2 + (1 - pz) ** 2) * r, abs=TOL)
    assert efficient_bb84_rate(qx, qz, pz, key_bases="both") == efficient_bb84_rate(qx, qz, pz)
    assert efficient_bb84_rate(qx, qz, pz, key_bases="z") == pytest.approx(pz**2 * r, abs=TOL)
    assert efficient_bb84_rate(qx, qz, pz) == pytest.approx(efficient_bb84_rate(qx, qz, 1.0 - pz), abs=TOL)


def test_unbiased_bases_give_half_the_shor_preskill_rate_per_signal() -> None:
    """p_Z = 1/2 is original BB84: sifting keeps half the signals, rate (1 - 2 h(Q))/2 per signal."""
    for q in GRID:
        assert efficient_bb84_rate(q, q, 0.5) == pytest.approx(bb84_asymptotic_rate(q) / 2.0, abs=TOL)


def test_bias_to_one_reaches_the_asymmetric_rate_per_signal() -> None:
    """LCA's point: as p_Z -> 1 the sifting factor p_Z^2 + (1-p_Z)^2 -> 1, doubling BB84's efficiency."""
    r = bb84_asymmetric_rate(0.03, 0.01)
    previous = 0.0
    for pz in (0.5, 0.7, 0.9, 0.99, 0.999999):
        value = efficient_bb84_rate(0.03, 0.01, pz)
        assert previous < value <= r
        previous = value
    assert efficient_bb84_rate(0.03, 0.01, 1.0) == pytest.approx(r, abs=TOL)
    assert r - efficient_bb84_rate(0.03, 0.01, 0.999999) < 1e-5


@pytest.mark.parametrize("pz", [-0.1, 1.1, math.nan])
def test_basis_probability_outside_unit_interval_raises(pz: float) -> None:
    """p_Z is a probability: outside [0, 1] or NaN raises ValueError naming p_z and [0, 1]."""
    with pytest.raises(ValueError, match=r"p_z must be in \[0, 1\]"):
        efficient_bb84_rate(0.01, 0.01, pz)


def test_unknown_key_bases_convention_raises() -> None:
    """Only the two documented conventions, 'both' (LCA) and 'z', are accepted."""
    with pytest.raises(ValueError, match="key_bases must be 'both' or 'z'"):
        efficient_bb84_rate(0.01, 0.01, 0.9, key_bases="x")  # type: ignore[arg-type]


# --- QBERs of states --------------------------------------------------------------------------


@pytest.mark.parametrize("which,expected", [("phi+", (0.0, 0.0)), ("phi-", (1.0, 0.0)), ("psi+", (0.0, 1.0)),
                                            ("psi-", (1.0, 1.0))])
def test_bell_states_errors_against_phi_plus_correlations(which: str, expected: tuple[float, float]) -> None:
    """<XX>, <ZZ> = (+1,+1) Phi+, (-1,+1) Phi-, (+1,-1) Psi+, (-1,-1) Psi-: Q = (1 - <PP>)/2 in each basis."""
    q = state_qbers(bell_state(which))
    assert isinstance(q, XZQBER)
    assert q.qber_x == pytest.approx(expected[0], abs=TOL)
    assert q.qber_z == pytest.approx(expected[1], abs=TOL)


@pytest.mark.parametrize("f", [0.25, 0.5, 0.8, 0.95, 1.0])
def test_werner_pair_has_equal_qbers(f: float) -> None:
    """Werner pair of fidelity F: Q_X = Q_Z = 2(1 - F)/3, so the asymmetric rate is Shor–Preskill's."""
    q = state_qbers(werner(f))
    assert q.qber_x == pytest.approx(2 * (1 - f) / 3, abs=TOL)
    assert q.qber_z == pytest.approx(2 * (1 - f) / 3, abs=TOL)
    assert bb84_asymmetric_rate(*q) == pytest.approx(bb84_asymptotic_rate(2 * (1 - f) / 3), abs=TOL)


def test_state_qbers_match_bell_diagonal_formula_for_random_coefficients() -> None:
    """Bell-diagonal (Phi+, Phi-, Psi+, Psi-): Q_Z = c_Psi+ + c_Psi-, Q_X = c_Phi- + c_Psi-; Qobj and numpy agree."""
    rng = np.random.default_rng(2005)
    for _ in range(25):
        c = rng.dirichlet(np.ones(4))
        rho = bell_diagonal(c)
        from_state = state_qbers(rho)
        from_numpy = state_qbers(rho.full())
        from_coeffs = bell_diagonal_qbers(c)
        assert from_coeffs.qber_z == pytest.approx(c[2] + c[3], abs=TOL)
        assert from_coeffs.qber_x == pytest.approx(c[1] + c[3], abs=TOL)
        for q in (from_state, from_numpy):
            assert q.qber_x == pytest.approx(from_coeffs.qber_x, abs=TOL)
            assert q.qber_z == pytest.approx(from_coeffs.qber_z, abs=TOL)


def test_state_qbers_equal_outcome_probabilities_of_a_general_state() -> None:
    """For any state Q_Z = <01|rho|01> + <10|rho|10>, Q_X the same after H (x) H (random Ginibre states)."""
    rng = np.random.default_rng(7)
    hh = np.kron(*(2 * [np.array([[1, 1], [1, -1]]) / math.sqrt(2)]))
    for _ in range(10):
        g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = g @ g.conj().T
        rho /= np.trace(rho)
        q = state_qbers(rho)
        rx = hh @ rho @ hh
        assert q.qber_z == pytest.approx(float(np.real(rho[1, 1] + rho[2, 2])), abs=TOL)
        assert q.qber_x == pytest.approx(float(np.real(rx[1, 1] + rx[2, 2])), abs=TOL)


@pytest.mark.parametrize("p", [0.01, 0.05, 0.1, 0.2, 0.25, 0.4])
def test_dephasing_gives_x_errors_only_and_beats_the_symmetric_formula(p: float) -> None:
    """Phase flip Z with probability p on one half of Phi+ gives (1-p) Phi+ + p Phi-: Q_Z = 0, Q_X = p, and the
    LCA rate 1 - h(p) exceeds Shor–Preskill's 1 - 2 h(p/2) at the averaged QBER (h concave: 2 h(p/2) > h(p))."""
    rho = _dephased_phi_plus(p)
    q = state_qbers(rho)
    assert q.qber_z == pytest.approx(0.0, abs=TOL)
    assert q.qber_x == pytest.approx(p, abs=TOL)
    asymmetric = bb84_asymmetric_rate(*q)
    assert asymmetric == pytest.approx(1.0 - binary_entropy(p), abs=TOL)
    symmetric = bb84_asymptotic_rate((q.qber_x + q.qber_z) / 2.0)
    assert symmetric == pytest.approx(max(0.0, 1.0 - 2.0 * binary_entropy(p / 2.0)), abs=TOL)
    assert asymmetric > symmetric
    assert bell_diagonal_qbers([1 - p, p, 0.0, 0.0]) == pytest.approx((p, 0.0), abs=TOL)


def test_dephasing_example_values() -> None:
    """p = 0.1: 1 - h(0.1) = 0.531004... vs 1 - 2 h(0.05) = 0.427206...; p = 0.25: 0.188722... vs no key at all
    (1 - 2 h(0.125) = -0.0871...). Reference digits from a 40-digit decimal evaluation of h."""
    assert bb84_asymmetric_rate(*state_qbers(_dephased_phi_plus(0.1))) == pytest.approx(0.53100440641071878, abs=1e-12)
    assert bb84_asymptotic_rate(0.05) == pytest.approx(0.42720608576808774, abs=1e-12)
    assert bb84_asymmetric_rate(*state_qbers(_dephased_phi_plus(0.25))) == pytest.approx(0.18872187554086714,
                                                                                          abs=1e-12)
    assert bb84_asymptotic_rate(0.125) == 0.0


def test_dephasing_both_halves_compounds_the_phase_error() -> None:
    """Independent phase flips p on both halves: Phi- weight 2p(1-p), so Q_X = 2p(1-p), still Q_Z = 0."""
    p = 0.07
    q = state_qbers(_dephased_phi_plus(p, both=True))
    assert q.qber_z == pytest.approx(0.0, abs=TOL)
    assert q.qber_x == pytest.approx(2 * p * (1 - p), abs=TOL)


def test_bit_flip_gives_z_errors_only() -> None:
    """Bit flip X with probability p on one half of Phi+ gives (1-p) Phi+ + p Psi+: Q_Z = p, Q_X = 0."""
    a, b = create_qubits(2, bell_state("phi+"))
    apply_channel([b], noise.bit_flip(0.15))
    q = state_qbers(state_of([a, b]))
    assert q.qber_z == pytest.approx(0.15, abs=TOL)
    assert q.qber_x == pytest.approx(0.0, abs=TOL)


@pytest.mark.parametrize("bad,match", [(np.eye(4), "trace"), (np.eye(2) / 2, "4×4"),
                                       (np.diag([1.5, -0.5, 0.0, 0.0]), "positive semidefinite")])
def test_state_qbers_rejects_invalid_states(bad: np.ndarray, match: str) -> None:
    """Not a two-qubit density matrix (trace != 1, wrong shape, not PSD): ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=match):
        state_qbers(bad)


@pytest.mark.parametrize("coeffs,match", [([0.5, 0.5, 0.0], "4 entries"), ([0.5, 0.6, -0.1, 0.0], r"coefficients\[2\]"),
                                          ([0.5, 0.5, 0.5, 0.0], "sum to 1"),
                                          ([math.nan, 0.5, 0.5, 0.0], r"coefficients\[0\]")])
def test_bell_diagonal_qbers_rejects_invalid_coefficients(coeffs: list[float], match: str) -> None:
    """Bell-diagonal coefficients are 4 probabilities summing to 1; anything else raises ValueError naming it."""
    with pytest.raises(ValueError, match=match):
        bell_diagonal_qbers(coeffs)
