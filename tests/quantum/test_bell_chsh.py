"""The optimal CHSH value of two-qubit states and the settings reaching it.

Source: Horodecki, Horodecki & Horodecki, Phys. Lett. A 200, 340 (1995): with the correlation
matrix ``T_ij = Tr(rho sigma_i (x) sigma_j)``, ``S_max = 2 sqrt(m1 + m2)`` (``m1 >= m2`` the two
largest eigenvalues of ``T^T T``), reached by ``b, b' = cos(theta) c1 +- sin(theta) c2``,
``tan(theta) = sqrt(m2/m1)``, ``a = T(b + b')/|T(b + b')|``, ``a' = T(b - b')/|T(b - b')|``.
The correlator of ``a.sigma (x) b.sigma`` is ``a^T T b``. Tsirelson (1980): ``S <= 2 sqrt 2``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip

from qstack.apps.chsh import ALICE_ANGLES, BOB_ANGLES, CHSHGap, settings_gap
from qstack.qkd.entropy import chsh_value_werner
from qstack.quantum import (
    CHSHSettings,
    InvalidStateError,
    bell_diagonal,
    bell_state,
    chsh_correlator,
    chsh_value,
    correlation_matrix,
    max_chsh_value,
    optimal_chsh_settings,
    product_state,
    werner,
)

TOL = 1e-12
TSIRELSON = 2.0 * math.sqrt(2.0)
_P = (np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]]),
      np.array([[1, 0], [0, -1]], dtype=complex))
TSIRELSON_SETTINGS = CHSHSettings.from_xz_angles(ALICE_ANGLES, BOB_ANGLES[:2])


def _ginibre(rng: np.random.Generator, rank: int = 4) -> np.ndarray:
    """A random two-qubit density matrix G G^dagger / Tr(G G^dagger), G a 4 x rank complex Ginibre matrix."""
    g = rng.normal(size=(4, rank)) + 1j * rng.normal(size=(4, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho).real


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.normal(size=3)
    return v / np.linalg.norm(v)


def _spin(v: np.ndarray) -> np.ndarray:
    return sum(x * p for x, p in zip(v, _P, strict=True))


def _bell_operator_expectation(rho: np.ndarray, s: CHSHSettings) -> float:
    """Tr(rho (A0 B0 + A0 B1 + A1 B0 - A1 B1)) computed with the operators themselves (no T matrix)."""
    a0, a1, b0, b1 = (_spin(v) for v in (s.a, s.a_prime, s.b, s.b_prime))
    op = np.kron(a0, b0) + np.kron(a0, b1) + np.kron(a1, b0) - np.kron(a1, b1)
    return float(np.real(np.trace(rho @ op)))


def _t_diagonal_state(t: tuple[float, float, float]) -> np.ndarray:
    """rho = (I + sum_i t_i sigma_i (x) sigma_i)/4, whose correlation matrix is diag(t1, t2, t3)."""
    return (np.eye(4) + sum(ti * np.kron(p, p) for ti, p in zip(t, _P, strict=True))) / 4.0


# --- the correlation matrix ----------------------------------------------------------------------


@pytest.mark.parametrize("which,diag", [("phi+", (1, -1, 1)), ("phi-", (-1, 1, 1)), ("psi+", (1, 1, -1)),
                                        ("psi-", (-1, -1, -1))])
def test_correlation_matrix_of_bell_states(which: str, diag: tuple[int, int, int]) -> None:
    """T_ij = Tr(rho sigma_i sigma_j) of the Bell states is diagonal with entries +-1 (Psi- is the singlet, T = -I)."""
    assert np.allclose(correlation_matrix(bell_state(which)), np.diag(diag), atol=TOL, rtol=0)


def test_correlation_matrix_of_product_state_is_outer_product_of_bloch_vectors() -> None:
    """rho_A (x) rho_B: T = r s^T (rank one) with r, s the Bloch vectors; here |0> (r = z) and |+> (s = x)."""
    t = correlation_matrix(product_state("0", "+"))
    assert np.allclose(t, np.outer([0, 0, 1], [1, 0, 0]), atol=TOL, rtol=0)


def test_correlator_is_a_T_b_and_matches_operator_expectation() -> None:
    """<a.sigma (x) b.sigma> = a^T T b: checked against Tr(rho (a.sigma (x) b.sigma)) on random states and settings."""
    rng = np.random.default_rng(11)
    for _ in range(10):
        rho = _ginibre(rng)
        a, b = _unit(rng), _unit(rng)
        direct = float(np.real(np.trace(rho @ np.kron(_spin(a), _spin(b)))))
        assert chsh_correlator(rho, a, b) == pytest.approx(direct, abs=TOL)


# --- S_max --------------------------------------------------------------------------------------


@pytest.mark.parametrize("f", [0.25, 0.5, 0.7, 0.78, 0.8, 0.9, 0.99, 1.0])
def test_werner_max_chsh_is_tsirelson_times_werner_parameter(f: float) -> None:
    """Werner pair: T = w diag(1, -1, 1), S_max = 2 sqrt(2 w^2) = 2 sqrt2 (4F - 1)/3 = chsh_value_werner(F)."""
    assert max_chsh_value(werner(f)) == pytest.approx(chsh_value_werner(f), abs=TOL)
    assert max_chsh_value(werner(f)) == pytest.approx(TSIRELSON * (4 * f - 1) / 3, abs=TOL)


def test_werner_below_one_quarter_gives_the_modulus() -> None:
    """F < 1/4 has w < 0: S_max = 2 sqrt2 |w| (flip one observable), while chsh_value_werner is negative."""
    assert max_chsh_value(werner(0.1)) == pytest.approx(-chsh_value_werner(0.1), abs=TOL)


@pytest.mark.parametrize("t", [(0.6, -0.3, 0.45), (0.1, 0.2, -0.7), (-0.5, -0.5, 0.0), (0.3, 0.0, 0.0),
                               (1.0, -1.0, 1.0)])
def test_diagonal_T_gives_two_largest_squares(t: tuple[float, float, float]) -> None:
    """T = diag(t1, t2, t3): T^T T = diag(t_i^2), S_max = 2 sqrt(t_(1)^2 + t_(2)^2) over the two largest |t_i|."""
    rho = _t_diagonal_state(t)
    assert np.allclose(correlation_matrix(rho), np.diag(t), atol=TOL, rtol=0)
    squares = sorted(x * x for x in t)
    assert max_chsh_value(rho) == pytest.approx(2 * math.sqrt(squares[2] + squares[1]), abs=TOL)


def test_bell_diagonal_state_violates_iff_m1_plus_m2_exceeds_one() -> None:
    """Horodecki criterion: S_max > 2 iff m1 + m2 > 1 (here Bell-diagonal, T diagonal)."""
    rng = np.random.default_rng(1995)
    for _ in range(40):
        c = rng.dirichlet(np.ones(4) * 0.5)
        rho = bell_diagonal(c)
        m = np.sort(np.linalg.eigvalsh(correlation_matrix(rho).T @ correlation_matrix(rho)))
        assert (max_chsh_value(rho) > 2.0) == (m[2] + m[1] > 1.0)


def test_product_states_never_violate() -> None:
    """Product state: T = r s^T of rank one, S_max = 2 |r| |s| <= 2, = 2 exactly for pure product states."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        ra, rb = qutip.rand_dm(2, seed=rng), qutip.rand_dm(2, seed=rng)
        assert max_chsh_value(qutip.tensor(ra, rb)) <= 2.0 + TOL
        ka, kb = qutip.rand_ket(2, seed=rng), qutip.rand_ket(2, seed=rng)
        assert max_chsh_value(qutip.tensor(ka, kb).proj()) == pytest.approx(2.0, abs=1e-12)


def test_max_chsh_is_bounded_by_tsirelson_and_invariant_under_local_unitaries() -> None:
    """S_max <= 2 sqrt2 (Tsirelson), and S_max(U (x) V rho U^dag (x) V^dag) = S_max(rho) (T -> O_A T O_B^T)."""
    rng = np.random.default_rng(5)
    for _ in range(15):
        rho = _ginibre(rng)
        s = max_chsh_value(rho)
        assert s <= TSIRELSON + TOL
        u = np.kron(qutip.rand_unitary(2, seed=rng).full(), qutip.rand_unitary(2, seed=rng).full())
        assert max_chsh_value(u @ rho @ u.conj().T) == pytest.approx(s, abs=1e-10)


# --- the optimal settings -----------------------------------------------------------------------


def test_optimal_settings_reproduce_max_for_random_states() -> None:
    """The Horodecki settings are unit vectors and give S = S_max through a^T T b (Ginibre states of ranks 1-4 and
    qutip.rand_dm), also through the Bell operator itself; no random setting beats S_max."""
    rng = np.random.default_rng(20240601)
    states = [_ginibre(rng, rank) for rank in (1, 2, 3, 4) for _ in range(10)]
    states += [qutip.rand_dm([2, 2], seed=rng) for _ in range(10)]
    for rho in states:
        s = optimal_chsh_settings(rho)
        for v in (s.a, s.a_prime, s.b, s.b_prime):
            assert np.linalg.norm(v) == pytest.approx(1.0, abs=TOL)
        s_max = max_chsh_value(rho)
        assert chsh_value(rho, s) == pytest.approx(s_max, abs=TOL)
        m = rho.full() if isinstance(rho, qutip.Qobj) else rho
        assert _bell_operator_expectation(m, s) == pytest.approx(s_max, abs=TOL)
        for _ in range(5):
            trial = CHSHSettings(_unit(rng), _unit(rng), _unit(rng), _unit(rng))
            assert chsh_value(rho, trial) <= s_max + TOL


def test_bob_settings_follow_tan_theta_sqrt_m2_over_m1() -> None:
    """b, b' = cos(theta) c1 +- sin(theta) c2 with tan(theta) = sqrt(m2/m1), so
    b . b' = cos(2 theta) = (m1 - m2)/(m1 + m2); here T = diag(0.6, -0.3, 0.45)."""
    rho = _t_diagonal_state((0.6, -0.3, 0.45))
    s = optimal_chsh_settings(rho)
    m1, m2 = 0.36, 0.2025
    assert float(s.b @ s.b_prime) == pytest.approx((m1 - m2) / (m1 + m2), abs=TOL)
    assert chsh_value(rho, s) == pytest.approx(2 * math.sqrt(m1 + m2), abs=TOL)


@pytest.mark.parametrize("state", [np.eye(4) / 4, product_state("0", "+").full(), product_state("+i", "1").full()])
def test_optimal_settings_degenerate_T(state: np.ndarray) -> None:
    """T = 0 (maximally mixed) or rank one (product): a term of S vanishes for every setting; the settings stay
    valid unit vectors and still give S_max (0 and 2)."""
    s = optimal_chsh_settings(state)
    assert chsh_value(state, s) == pytest.approx(max_chsh_value(state), abs=TOL)


def test_tsirelson_angles_on_phi_plus_give_two_sqrt_two() -> None:
    """Alice Z, X; Bob (Z +- X)/sqrt2 (angles 0, pi/2; pi/4, -pi/4): every correlator has modulus 1/sqrt2,
    S = 2 sqrt2 (Tsirelson), and the Horodecki optimum of Phi+ is the same."""
    assert chsh_value(bell_state("phi+"), TSIRELSON_SETTINGS) == pytest.approx(TSIRELSON, abs=TOL)
    assert max_chsh_value(bell_state("phi+")) == pytest.approx(TSIRELSON, abs=TOL)
    assert chsh_value(bell_state("phi+"), optimal_chsh_settings(bell_state("phi+"))) == pytest.approx(TSIRELSON,
                                                                                                      abs=TOL)


# --- settings_gap in qstack.apps.chsh ------------------------------------------------------------


@pytest.mark.parametrize("f", [0.6, 0.85, 1.0])
def test_settings_gap_is_zero_for_werner_pairs_at_the_game_settings(f: float) -> None:
    """The CHSH game's settings are optimal for Werner pairs: S = S_max = 2 sqrt2 (4F - 1)/3."""
    g = settings_gap(werner(f))
    assert isinstance(g, CHSHGap)
    assert g.value == pytest.approx(chsh_value_werner(f), abs=TOL)
    assert g.optimum == pytest.approx(chsh_value_werner(f), abs=TOL)
    assert g.gap == pytest.approx(0.0, abs=TOL)


def test_settings_gap_reveals_misaligned_settings() -> None:
    """Phi- (T = diag(-1, 1, 1)) has E(alpha, beta) = cos(alpha + beta) in the X-Z plane: the game's settings give
    S = 0, while S_max = 2 sqrt2; the same via angles, CHSHSettings, and the optimal settings (gap 0)."""
    rho = bell_state("phi-")
    value, optimum = settings_gap(rho)
    assert value == pytest.approx(0.0, abs=TOL)
    assert optimum == pytest.approx(TSIRELSON, abs=TOL)
    assert settings_gap(rho, (ALICE_ANGLES, BOB_ANGLES[:2])) == pytest.approx((0.0, TSIRELSON), abs=TOL)
    assert settings_gap(rho, (ALICE_ANGLES, (-math.pi / 4, math.pi / 4))) == pytest.approx((TSIRELSON, TSIRELSON),
                                                                                          abs=TOL)
    assert settings_gap(rho, optimal_chsh_settings(rho)).gap == pytest.approx(0.0, abs=TOL)


# --- validation ---------------------------------------------------------------------------------


BAD_STATES = [
    (np.eye(4), "trace"),
    (np.diag([1.5, -0.5, 0.0, 0.0]), "positive semidefinite"),
    (np.eye(2) / 2, "4×4"),
    (np.eye(8) / 8, "4×4"),
    (np.full(4, 0.25), "4×4"),
    (np.triu(np.ones((4, 4))) / 4, "Hermitian"),
    (np.full((4, 4), np.nan), "non-finite"),
]


@pytest.mark.parametrize("bad,match", BAD_STATES)
@pytest.mark.parametrize("fn", [correlation_matrix, max_chsh_value, optimal_chsh_settings,
                                lambda r: chsh_value(r, TSIRELSON_SETTINGS), lambda r: settings_gap(r),
                                lambda r: chsh_correlator(r, [0, 0, 1], [0, 0, 1])])
def test_invalid_states_raise_value_error_naming_the_problem(fn, bad: np.ndarray, match: str) -> None:
    """Not a two-qubit density matrix (trace != 1, not PSD, wrong shape, not Hermitian, NaN): ValueError
    (InvalidStateError, from qstack.quantum.states.validate_density_matrix) saying which."""
    with pytest.raises(InvalidStateError, match=match):
        fn(bad)
    assert issubclass(InvalidStateError, ValueError)


def test_qobj_ket_is_accepted_as_its_projector() -> None:
    """A Qobj ket |psi> is taken as |psi><psi|."""
    assert max_chsh_value(bell_state("psi-")) == pytest.approx(TSIRELSON, abs=TOL)


@pytest.mark.parametrize("kwargs,match", [
    ({"a": [0, 0, 2]}, r"a must be a unit vector"),
    ({"b_prime": [0.0, 1.0]}, r"b_prime must be a Bloch vector of 3 entries"),
    ({"a_prime": [math.nan, 0.0, 1.0]}, r"a_prime has non-finite entries"),
])
def test_settings_must_be_unit_bloch_vectors(kwargs: dict, match: str) -> None:
    """Observables a.sigma need unit Bloch vectors a in R^3; anything else raises ValueError naming the setting."""
    args = {"a": [0, 0, 1], "a_prime": [1, 0, 0], "b": [0, 0, 1], "b_prime": [1, 0, 0], **kwargs}
    with pytest.raises(ValueError, match=match):
        CHSHSettings(**args)


def test_from_xz_angles_needs_two_angles_per_side() -> None:
    """CHSH has two settings per side."""
    with pytest.raises(ValueError, match="two angles each"):
        CHSHSettings.from_xz_angles((0.0,), (0.0, 1.0))


def test_chsh_value_requires_settings_object() -> None:
    """chsh_value takes a CHSHSettings (angles go through CHSHSettings.from_xz_angles or settings_gap)."""
    with pytest.raises(TypeError, match="CHSHSettings"):
        chsh_value(bell_state("phi+"), ((0.0, 1.0), (0.0, 1.0)))  # type: ignore[arg-type]
