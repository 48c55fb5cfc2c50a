"""Tests for qstack.physical.heralding: heralded entanglement generation at a midpoint station.

Conventions used throughout: two-qubit states are 4×4 matrices in the basis ``|ab⟩`` with qubit
A first (``|00⟩, |01⟩, |10⟩, |11⟩``); ``|1⟩`` is the bright (emitting) state. Bell order is
Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ (indices 0..3), ``Ψ± = (|01⟩ ± |10⟩)/√2``. Fidelity to a pure target is
``⟨ψ|ρ|ψ⟩`` (not qutip's square root).

The heart of the file is an independent Fock-space simulation of the optics in qutip (emission,
amplitude-damping loss, optional phase jitter, 50:50 beam splitter, threshold detectors with dark
counts) against which the model's closed-form quantum instrument is checked to 1e-12.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import qutip as qt

from qstack.physical.heralding import (
    SCHEMES,
    HeraldedPair,
    HeraldingModel,
    attempts_until_success,
    click_instrument,
    single_click_alpha_for_fidelity,
    single_click_fidelity,
    single_click_success_probability,
)
from qstack.quantum.states import BELL_KETS_NP

PSI_PLUS, PSI_MINUS = 2, 3
N_FOCK = 3  # photon modes truncated to 0..2 photons: enough for the bunched |11⟩ → |2,0⟩ term
DIMS = [2, 2, N_FOCK, N_FOCK]  # qubit A, qubit B, mode a (→ detector c), mode b (→ detector d)


# --------------------------------------------------------------------------------------------
# Independent Fock-space model of one optical round
# --------------------------------------------------------------------------------------------


@cache
def _emission() -> qt.Qobj:
    """CNOT-like emission: |q⟩|n⟩ → |q⟩|n ⊕ q⟩ on n ∈ {0, 1} (|2⟩ fixed), so a qubit in |1⟩ puts
    one photon into its (initially empty) mode. Unitary on qubit ⊗ mode."""
    flip = qt.Qobj(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=complex))
    cnot = qt.tensor(qt.projection(2, 0, 0), qt.qeye(N_FOCK)) + qt.tensor(qt.projection(2, 1, 1), flip)
    return qt.expand_operator(cnot, DIMS, (0, 2)) * qt.expand_operator(cnot, DIMS, (1, 3))


def _loss_kraus(eta: float) -> list[np.ndarray]:
    """Amplitude damping of a bosonic mode with transmissivity η:
    E_k = Σ_n √(C(n,k) η^(n−k) (1−η)^k) |n−k⟩⟨n| (k photons lost)."""
    ops = []
    for k in range(N_FOCK):
        e = np.zeros((N_FOCK, N_FOCK))
        for n in range(k, N_FOCK):
            e[n - k, n] = math.sqrt(math.comb(n, k) * eta ** (n - k) * (1 - eta) ** k)
        ops.append(e)
    return ops


@cache
def _beam_splitter_modes() -> qt.Qobj:
    """50:50 beam splitter U = exp[(π/4)(a†b − a b†)] on the two modes (a = c-port, b = d-port).
    It maps a† → (a† − b†)/√2, b† → (a† + b†)/√2 (checked in a test below); exact on the ≤ 2
    photon sector, which is all that is ever populated."""
    a = qt.tensor(qt.destroy(N_FOCK), qt.qeye(N_FOCK))
    b = qt.tensor(qt.qeye(N_FOCK), qt.destroy(N_FOCK))
    return ((math.pi / 4) * (a.dag() * b - a * b.dag())).expm()


def _channel(rho: qt.Qobj, kraus: list[np.ndarray], target: int) -> qt.Qobj:
    out = 0 * rho
    for k in kraus:
        op = qt.expand_operator(qt.Qobj(k), DIMS, target)
        out = out + op * rho * op.dag()
    return out


def _phase_average(rho: qt.Qobj, sigma: float) -> qt.Qobj:
    """Average over a Gaussian optical phase φ ~ N(0, σ²) on mode b (e^{iφ n_b}), by 60-point
    Gauss–Hermite quadrature (exact to machine precision for these entire integrands)."""
    if sigma == 0:
        return rho
    x, w = np.polynomial.hermite.hermgauss(60)
    out = 0 * rho
    for xi, wi in zip(x, w, strict=True):
        phi = math.sqrt(2) * sigma * xi
        r = qt.expand_operator(qt.Qobj(np.diag(np.exp(1j * phi * np.arange(N_FOCK)))), DIMS, 3)
        out = out + (wi / math.sqrt(math.pi)) * (r * rho * r.dag())
    return out


def optical_round(rho_q: np.ndarray, eta_a: float, eta_b: float, p_dark: float, sigma: float = 0.0) -> dict:
    """One emission/interference round. Returns {'c': ρ, 'd': ρ}: the unnormalised qubit states
    conditioned on (c click, d silent) and (d click, c silent). Threshold detectors with dark
    counts: POVM no-click = (1 − p_dc)|0⟩⟨0|, click = I − no-click."""
    vac = qt.fock_dm(N_FOCK, 0)
    rho = qt.tensor(qt.Qobj(rho_q, dims=[[2, 2], [2, 2]]), vac, vac)
    emit = _emission()
    rho = emit * rho * emit.dag()
    rho = _channel(rho, _loss_kraus(eta_a), 2)
    rho = _channel(rho, _loss_kraus(eta_b), 3)
    rho = _phase_average(rho, sigma)
    u = qt.expand_operator(_beam_splitter_modes(), DIMS, (2, 3))
    rho = u * rho * u.dag()
    click = np.diag([math.sqrt(p_dark), 1.0, 1.0])  # √POVM (diagonal in Fock basis)
    silent = np.diag([math.sqrt(1 - p_dark), 0.0, 0.0])
    out = {}
    for name, (kc, kd) in {"c": (click, silent), "d": (silent, click)}.items():
        k = qt.expand_operator(qt.tensor(qt.Qobj(kc), qt.Qobj(kd)), DIMS, (2, 3))
        out[name] = (k * rho * k.dag()).ptrace([0, 1]).full()
    return out


def _product(a: float) -> np.ndarray:
    """(√(1−a)|0⟩ + √a|1⟩)^{⊗2} as a density matrix."""
    psi = np.array([math.sqrt(1 - a), math.sqrt(a)])
    ket = np.kron(psi, psi)
    return np.outer(ket, ket)


XX = np.kron(np.array([[0, 1], [1, 0]]), np.array([[0, 1], [1, 0]]))


def fock_double_click(eta_a: float, eta_b: float, p_dark: float, sigma: float = 0.0) -> dict:
    """Barrett–Kok in the Fock model: |+⟩|+⟩, round 1, π pulse (X⊗X), round 2 with fresh modes
    (independent phase per round). Same detector twice → 'same', else 'diff'."""
    first = optical_round(_product(0.5), eta_a, eta_b, p_dark, sigma)
    same = np.zeros((4, 4), dtype=complex)
    diff = np.zeros((4, 4), dtype=complex)
    for d1, r1 in first.items():
        second = optical_round(XX @ r1 @ XX, eta_a, eta_b, p_dark, sigma)
        for d2, r2 in second.items():
            if d1 == d2:
                same += r2
            else:
                diff += r2
    return {"same": same, "diff": diff}


def _fid(rho: np.ndarray, k: int) -> float:
    b = BELL_KETS_NP[k]
    return float(np.real(b.conj() @ rho @ b) / np.trace(rho).real)


# --------------------------------------------------------------------------------------------
# 0. The Fock model itself: beam-splitter convention, HOM bunching, loss channel completeness
# --------------------------------------------------------------------------------------------


def test_fock_model_beam_splitter_convention_and_hong_ou_mandel_bunching() -> None:
    """U|1,0⟩ = (|1,0⟩ − |0,1⟩)/√2, U|0,1⟩ = (|1,0⟩ + |0,1⟩)/√2: a photon from either arm reaches
    port c with amplitude +1/√2, so a c click heralds Ψ⁺ — the same labelling as qstack (no
    relabelling of detectors needed). Two photons bunch: ⟨1,1|U|1,1⟩ = 0, U|1,1⟩ = (|2,0⟩−|0,2⟩)/√2."""
    u = _beam_splitter_modes()
    k = lambda n, m: qt.tensor(qt.basis(N_FOCK, n), qt.basis(N_FOCK, m))  # noqa: E731
    s = 1 / math.sqrt(2)
    assert (u * k(1, 0) - s * (k(1, 0) - k(0, 1))).norm() < 1e-12
    assert (u * k(0, 1) - s * (k(1, 0) + k(0, 1))).norm() < 1e-12
    assert abs(k(1, 1).overlap(u * k(1, 1))) < 1e-12
    assert (u * k(1, 1) - s * (k(2, 0) - k(0, 2))).norm() < 1e-12


@pytest.mark.parametrize("eta", [0.0, 0.37, 1.0])
def test_fock_model_loss_channel_is_trace_preserving(eta: float) -> None:
    """Σ_k E_k† E_k = I for the amplitude-damping Kraus operators of a mode."""
    total = sum(e.T @ e for e in _loss_kraus(eta))
    assert np.allclose(total, np.eye(N_FOCK), atol=1e-14)


def test_fock_model_ideal_c_click_heralds_psi_plus_and_d_click_psi_minus() -> None:
    """Lossless, noiseless, weak excitation: the c herald is mostly Ψ⁺, the d herald mostly Ψ⁻,
    with fidelity (1−α)/(1−α/2) (the |11⟩ admixture)."""
    out = optical_round(_product(0.1), 1.0, 1.0, 0.0)
    assert _fid(out["c"], PSI_PLUS) == pytest.approx(0.9 / 0.95, abs=1e-12)
    assert _fid(out["d"], PSI_MINUS) == pytest.approx(0.9 / 0.95, abs=1e-12)


# --------------------------------------------------------------------------------------------
# 1. The model's instrument against the Fock simulation
# --------------------------------------------------------------------------------------------

SINGLE_GRID = [
    # alpha, eta_a, eta_b, p_dark, phase_std
    (0.05, 0.1, 0.1, 0.0, 0.0),  # textbook weak-excitation regime
    (0.3, 0.8, 0.35, 0.0, 0.0),  # asymmetric arms
    (0.5, 1.0, 1.0, 0.0, 0.0),  # lossless, large αη: strong bunching term
    (0.9, 0.95, 0.7, 0.02, 0.0),  # large αη with dark counts
    (0.2, 0.0, 0.6, 0.1, 0.0),  # one dead arm
    (0.6, 0.3, 1.0, 0.3, 0.0),  # strong dark counts
    (0.25, 0.5, 0.4, 0.01, 0.4),  # phase jitter
    (0.7, 0.9, 0.9, 0.05, 1.1),  # large phase jitter
]


@pytest.mark.parametrize(("alpha", "eta_a", "eta_b", "p_dark", "sigma"), SINGLE_GRID)
def test_single_click_outcomes_equal_fock_space_optics(alpha, eta_a, eta_b, p_dark, sigma) -> None:
    """Each unnormalised heralded state of the single-click model equals Tr_modes[Π ρ] of the
    full qubit⊗Fock simulation: (c click, d silent) → Ψ⁺ entry, (d click, c silent) → Ψ⁻ entry."""
    model = HeraldingModel("single_click", eta_a, eta_b, p_dark, alpha, sigma)
    fock = optical_round(_product(alpha), eta_a, eta_b, p_dark, sigma)
    (k_c, s_c), (k_d, s_d) = model.outcomes()
    assert (k_c, k_d) == (PSI_PLUS, PSI_MINUS)
    np.testing.assert_allclose(s_c, fock["c"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(s_d, fock["d"], rtol=0, atol=1e-12)


DOUBLE_GRID = [
    # eta_a, eta_b, p_dark, phase_std
    (1.0, 1.0, 0.0, 0.0),
    (0.3, 0.8, 0.0, 0.0),
    (0.9, 0.5, 0.05, 0.0),
    (0.1, 0.1, 0.2, 0.0),
    (0.0, 0.7, 0.1, 0.0),
    (0.6, 0.7, 0.01, 0.5),
]


@pytest.mark.parametrize(("eta_a", "eta_b", "p_dark", "sigma"), DOUBLE_GRID)
def test_double_click_outcomes_equal_two_round_fock_space_optics(eta_a, eta_b, p_dark, sigma) -> None:
    """Barrett–Kok: |+⟩|+⟩, click, X⊗X, click with fresh photon modes. Same detector twice equals
    the model's Ψ⁺ outcome, different detectors its Ψ⁻ outcome (phase jitter independent per
    round), to 1e-12."""
    model = HeraldingModel("double_click", eta_a, eta_b, p_dark, phase_std=sigma)
    fock = fock_double_click(eta_a, eta_b, p_dark, sigma)
    (k_s, s_same), (k_d, s_diff) = model.outcomes()
    assert (k_s, k_d) == (PSI_PLUS, PSI_MINUS)
    np.testing.assert_allclose(s_same, fock["same"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(s_diff, fock["diff"], rtol=0, atol=1e-12)


def test_click_instrument_is_read_only_and_diagonal_in_the_outcome_sign() -> None:
    """M_c and M_d differ only in the sign of the ⟨01|·|10⟩ coherence factor (the beam splitter
    phase), so both outcomes are equally likely on any input."""
    m = click_instrument(0.4, 0.7, 0.03, 0.2)
    assert not m.flags.writeable
    diff = m[0] - m[1]
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 2] = mask[2, 1] = True
    assert np.all(diff[~mask] == 0)
    assert diff[1, 2] == pytest.approx(2 * (1 - 0.03) * math.exp(-0.02) * math.sqrt(0.28) / 2, abs=1e-15)


def test_outcomes_cannot_be_corrupted_by_the_caller() -> None:
    """Normalising a returned outcome in place (a natural thing to do) must not change the
    success probability p = 2αη − α²η² of a fresh, identical model."""
    params = ("single_click", 0.123, 0.123, 0.0, 0.321)
    state = HeraldingModel(*params).outcomes()[0][1]
    try:
        state /= np.trace(state)
    except ValueError:  # read-only arrays are an acceptable fix
        pass
    p = HeraldingModel(*params).success_probability
    assert p == pytest.approx(2 * 0.321 * 0.123 - (0.321 * 0.123) ** 2, abs=1e-12)


# --------------------------------------------------------------------------------------------
# 2. Closed forms and limits
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("alpha", "eta"), [(1e-3, 1e-2), (0.05, 0.1), (0.3, 0.5), (0.5, 0.9), (0.9, 1.0)])
def test_single_click_exact_rate_and_fidelity_without_dark_counts(alpha: float, eta: float) -> None:
    """Symmetric, no dark counts: p = 2αη − α²η² (the α²η² term is the bunched |11⟩ event counted
    once, not twice) and F = (1−α)/(1−αη/2), exactly."""
    m = HeraldingModel("single_click", eta, eta, 0.0, alpha)
    p = 2 * alpha * eta - alpha**2 * eta**2
    f = (1 - alpha) / (1 - alpha * eta / 2)
    assert m.success_probability == pytest.approx(p, abs=1e-12)
    assert m.fidelity == pytest.approx(f, abs=1e-12)
    assert single_click_success_probability(alpha, eta) == pytest.approx(p, abs=1e-12)
    assert single_click_fidelity(alpha, eta) == pytest.approx(f, abs=1e-12)


def test_low_loss_approximations_hold_only_for_small_alpha_eta() -> None:
    """p ≈ 2αη and F ≈ 1−α have relative errors O(αη): < 1e-4 at αη = 1e-5, but > 10 % at
    α = 0.5, η = 0.9 (exact p = 0.6975 vs 0.9; exact F = 0.645 vs 0.5)."""
    small = HeraldingModel("single_click", 1e-3, 1e-3, 0.0, 1e-2)
    assert abs(small.success_probability / (2 * 1e-2 * 1e-3) - 1) < 1e-4
    assert abs(small.fidelity / (1 - 1e-2) - 1) < 1e-4
    big = HeraldingModel("single_click", 0.9, 0.9, 0.0, 0.5)
    assert big.success_probability == pytest.approx(0.6975, abs=1e-12)
    assert abs(big.success_probability / (2 * 0.5 * 0.9) - 1) > 0.10
    assert abs(big.fidelity / (1 - 0.5) - 1) > 0.10


@pytest.mark.parametrize(("eta_a", "eta_b"), [(1.0, 1.0), (0.5, 0.5), (0.2, 0.9), (0.01, 0.03)])
def test_double_click_without_dark_counts_is_perfect_with_rate_eta_a_eta_b_over_two(eta_a, eta_b) -> None:
    """Barrett–Kok without dark counts: p = η_Aη_B/2 and F = 1 for any arm asymmetry; the Ψ⁺ and
    Ψ⁻ heralds are equally likely and each a pure Bell state."""
    m = HeraldingModel("double_click", eta_a, eta_b)
    assert m.success_probability == pytest.approx(eta_a * eta_b / 2, abs=1e-12)
    assert m.fidelity == pytest.approx(1.0, abs=1e-12)
    for k, s in m.outcomes():
        np.testing.assert_allclose(s, eta_a * eta_b / 4 * np.outer(BELL_KETS_NP[k], BELL_KETS_NP[k]).real, atol=1e-12)


P_DARK = np.linspace(0.0, 0.4, 21)


@pytest.mark.parametrize(
    ("scheme", "eta_a", "eta_b", "alpha"),
    [
        ("single_click", 0.01, 0.01, 0.05),
        ("single_click", 0.3, 0.8, 0.2),
        ("single_click", 1.0, 1.0, 0.5),
        ("double_click", 0.01, 0.02, 0.5),
        ("double_click", 0.9, 0.6, 0.5),
    ],
)
def test_dark_counts_monotonically_lower_fidelity(scheme, eta_a, eta_b, alpha) -> None:
    """False heralds from dark counts admix non-Ψ states: F strictly decreases with p_dc."""
    f = [HeraldingModel(scheme, eta_a, eta_b, pd, alpha).fidelity for pd in P_DARK]
    assert np.all(np.diff(f) < 0)


@pytest.mark.parametrize(
    ("scheme", "eta", "alpha"), [("single_click", 0.01, 0.05), ("single_click", 1e-3, 0.5), ("double_click", 0.01, 0.5)]
)
def test_dark_counts_raise_success_probability_at_realistic_loss(scheme, eta, alpha) -> None:
    """At realistic loss (η ≲ 1 %) dark counts add false heralds: p strictly increases with p_dc."""
    p = [HeraldingModel(scheme, eta, eta, pd, alpha).success_probability for pd in P_DARK]
    assert np.all(np.diff(p) > 0)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9])
def test_dark_count_in_silent_detector_vetoes_true_heralds_at_no_loss(alpha: float) -> None:
    """At η = 1 a herald needs the *other* detector silent, so dark counts also veto true heralds:
    p = (1 − p_dc)[1 − P₀₀ + 2 p_dc P₀₀] with P₀₀ = (1−α)². dp/dp_dc at 0 is 3P₀₀ − 1, so p
    *falls* with dark counts when P₀₀ < 1/3 (α > 1 − 1/√3 ≈ 0.42) and rises otherwise."""
    p00 = (1 - alpha) ** 2
    for pd in P_DARK:
        m = HeraldingModel("single_click", 1.0, 1.0, pd, alpha)
        assert m.success_probability == pytest.approx((1 - pd) * (1 - p00 + 2 * pd * p00), abs=1e-12)
    p0, p1 = (HeraldingModel("single_click", 1.0, 1.0, pd, alpha).success_probability for pd in (0.0, 1e-3))
    assert (p1 < p0) == (p00 < 1 / 3)


@pytest.mark.parametrize("sigma", [0.0, 0.1, 0.5, 1.0, 2.0])
def test_phase_jitter_multiplies_psi_coherence_by_exp_minus_sigma_squared_over_two(sigma: float) -> None:
    """Gaussian optical phase noise of std σ: ⟨01|ρ|10⟩ → e^{−σ²/2}⟨01|ρ|10⟩, populations
    untouched, so F = [P_Ψ + e^{−σ²/2} C]/p; symmetric single click without dark counts gives
    F = [(1−α)(1 + e^{−σ²/2}) ] / [2(1−αη/2)]."""
    alpha, eta = 0.2, 0.3
    ref = HeraldingModel("single_click", eta, eta, 0.01, alpha).outcomes()
    jit = HeraldingModel("single_click", eta, eta, 0.01, alpha, sigma).outcomes()
    factor = math.exp(-(sigma**2) / 2)
    for (_, r), (_, j) in zip(ref, jit, strict=True):
        expected = r.copy()
        expected[1, 2] *= factor
        expected[2, 1] *= factor
        np.testing.assert_allclose(j, expected, rtol=0, atol=1e-15)
    clean = HeraldingModel("single_click", eta, eta, 0.0, alpha, sigma)
    assert clean.fidelity == pytest.approx((1 - alpha) * (1 + factor) / (2 * (1 - alpha * eta / 2)), abs=1e-12)


def test_phase_jitter_does_not_change_success_probability() -> None:
    """Jitter only dephases: p is independent of σ."""
    p = [HeraldingModel("single_click", 0.4, 0.6, 0.02, 0.3, s).success_probability for s in (0, 0.5, 3)]
    assert p == pytest.approx([p[0]] * 3, abs=1e-15)


# --------------------------------------------------------------------------------------------
# 3. Inverting F(α)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "eta"), [(0.9, 0.5), (0.99, 0.01), (0.7, 1.0), (0.95, 0.2)])
def test_alpha_for_fidelity_inverts_exact_single_click_fidelity(target: float, eta: float) -> None:
    """Symmetric, no dark counts: F(α) = (1−α)/(1−αη/2) ⇒ α = (1−F)/(1−Fη/2)."""
    alpha = single_click_alpha_for_fidelity(target, eta, eta)
    assert alpha == pytest.approx((1 - target) / (1 - target * eta / 2), abs=1e-9)


@pytest.mark.parametrize(("target", "eta", "p_dark"), [(0.9, 0.01, 0.1), (0.8, 1e-3, 0.05), (0.6, 0.001, 0.3)])
def test_alpha_for_fidelity_is_none_when_dark_counts_and_loss_make_the_target_unreachable(target, eta, p_dark):
    """With strong dark counts and large loss no α reaches the target (checked on a dense α grid)
    and the function says so with None."""
    grid = np.linspace(1e-4, 1 - 1e-4, 2001)
    best = max(HeraldingModel("single_click", eta, eta, p_dark, a).fidelity for a in grid)
    assert best < target
    assert single_click_alpha_for_fidelity(target, eta, eta, p_dark) is None


def test_alpha_for_fidelity_finds_reachable_target_with_weak_dark_counts() -> None:
    """With p_dc = 1e-6, η = 0.5: F(α=0.2) ≈ 0.84 ≥ 0.8, so an α exists; the largest such α must
    be returned (F(α) ≥ 0.8, F(α + 1e-6) < 0.8)."""
    fid = lambda a: HeraldingModel("single_click", 0.5, 0.5, 1e-6, a).fidelity  # noqa: E731
    assert fid(0.2) > 0.8
    alpha = single_click_alpha_for_fidelity(0.8, 0.5, 0.5, 1e-6)
    assert alpha is not None
    assert fid(alpha) >= 0.8 - 1e-9
    assert fid(alpha + 1e-6) < 0.8


# --------------------------------------------------------------------------------------------
# 4. Sampling
# --------------------------------------------------------------------------------------------

N_DRAWS = 20_000


@pytest.mark.parametrize(("p", "seed"), [(0.1, 11), (0.02, 12), (0.7, 13)])
def test_attempts_until_success_is_geometric_mean_and_variance(p: float, seed: int) -> None:
    """Attempts to first success ~ Geometric(p) on {1, 2, …}: mean 1/p, variance (1−p)/p².
    SE(mean) = σ/√N; SE(s²) = σ²√((κ − 1)/N) with kurtosis κ = 9 + p²/(1−p). Within 4 SE."""
    rng = np.random.default_rng(seed)
    n = np.array([attempts_until_success(p, rng) for _ in range(N_DRAWS)], dtype=float)
    assert n.min() >= 1
    var = (1 - p) / p**2
    se_mean = math.sqrt(var / N_DRAWS)
    se_var = var * math.sqrt((8 + p**2 / (1 - p)) / N_DRAWS)
    assert abs(n.mean() - 1 / p) < 4 * se_mean
    assert abs(n.var(ddof=1) - var) < 4 * se_var


def test_attempts_until_success_is_one_when_p_is_one_and_rejects_p_outside_unit_interval() -> None:
    rng = np.random.default_rng(0)
    assert all(attempts_until_success(1.0, rng) == 1 for _ in range(100))
    for bad in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="p must be in"):
            attempts_until_success(bad, rng)


@pytest.mark.parametrize(
    ("scheme", "eta_a", "eta_b", "p_dark", "alpha", "seed"),
    [("single_click", 0.3, 0.5, 0.05, 0.3, 21), ("double_click", 0.8, 0.4, 0.15, 0.5, 22)],
)
def test_generate_samples_outcomes_with_their_probabilities(scheme, eta_a, eta_b, p_dark, alpha, seed) -> None:
    """Herald frequencies P(Ψ⁺ | success) = tr ρ_Ψ⁺ / p within 4 SE (SE = √(q(1−q)/N)); attempts
    have mean 1/p within 4 SE; each state is the normalised outcome of its herald."""
    m = HeraldingModel(scheme, eta_a, eta_b, p_dark, alpha, cycle_time=1e-5)
    outs = dict(m.outcomes())
    p = m.success_probability
    q = np.trace(outs[PSI_PLUS]).real / p
    rng = np.random.default_rng(seed)
    pairs = [m.generate(rng) for _ in range(N_DRAWS)]
    plus = np.mean([pair.bell_index == PSI_PLUS for pair in pairs])
    assert abs(plus - q) < 4 * math.sqrt(q * (1 - q) / N_DRAWS)
    attempts = np.array([pair.attempts for pair in pairs], dtype=float)
    assert abs(attempts.mean() - 1 / p) < 4 * math.sqrt((1 - p) / p**2 / N_DRAWS)
    for pair in pairs[:50]:
        assert isinstance(pair, HeraldedPair)
        expected = outs[pair.bell_index] / np.trace(outs[pair.bell_index]).real
        np.testing.assert_allclose(pair.state, expected, rtol=0, atol=1e-15)
        assert pair.time == pytest.approx((pair.attempts - 1) * 1e-5, abs=1e-18)


@pytest.mark.parametrize(
    ("scheme", "eta_a", "eta_b", "p_dark", "sigma"),
    [("single_click", 0.3, 0.9, 0.2, 0.7), ("double_click", 0.8, 0.4, 0.15, 0.3), ("double_click", 1.0, 0.1, 0.4, 0.0)],
)
def test_psi_plus_and_psi_minus_heralds_are_equally_likely(scheme, eta_a, eta_b, p_dark, sigma) -> None:
    """M_c and M_d share their diagonal (only the interference sign differs) and the probability
    of a herald is Σ_i M_ii ρ_ii, so P(Ψ⁺) = P(Ψ⁻) = p/2 exactly, even with asymmetric arms and
    dark counts (for Barrett–Kok: P(same detector) = P(different) = p/2). Checked on the Fock model."""
    m = HeraldingModel(scheme, eta_a, eta_b, p_dark, 0.3, sigma)
    probs = [np.trace(s).real for _, s in m.outcomes()]
    assert probs[0] == pytest.approx(probs[1], abs=1e-15)
    if scheme == "double_click":
        fock = fock_double_click(eta_a, eta_b, p_dark, sigma)
        assert np.trace(fock["same"]).real == pytest.approx(np.trace(fock["diff"]).real, abs=1e-13)


def test_generate_respects_max_attempts() -> None:
    """With max_attempts = 1 a pair is returned with probability p (else None), within 4 SE."""
    m = HeraldingModel("single_click", 0.2, 0.2, 0.0, 0.25)
    p = m.success_probability
    rng = np.random.default_rng(5)
    got = [m.generate(rng, max_attempts=1) for _ in range(N_DRAWS)]
    frac = np.mean([g is not None for g in got])
    assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / N_DRAWS)
    assert all(g.attempts == 1 for g in got if g is not None)


def test_generate_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    m = HeraldingModel("single_click", 0.05, 0.07, 1e-3, 0.1, cycle_time=2e-4)

    def run(seed: int) -> list:
        rng = np.random.default_rng(seed)
        return [m.generate(rng) for _ in range(30)]

    a, b, c = run(7), run(7), run(8)
    assert [(x.attempts, x.bell_index) for x in a] == [(x.attempts, x.bell_index) for x in b]
    assert all(np.array_equal(x.state, y.state) for x, y in zip(a, b, strict=True))
    assert [x.attempts for x in a] != [x.attempts for x in c]


def test_rate_is_success_probability_over_cycle_time() -> None:
    """rate = p / T_cycle; undefined (ValueError) for T_cycle = 0."""
    m = HeraldingModel("double_click", 0.3, 0.2, 1e-4, cycle_time=2.5e-4)
    assert m.rate == pytest.approx(m.success_probability / 2.5e-4, rel=1e-12)
    with pytest.raises(ValueError, match="cycle_time"):
        HeraldingModel("double_click", 0.3, 0.2).rate  # noqa: B018


# --------------------------------------------------------------------------------------------
# 5. Validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scheme": "triple_click"}, "scheme"),
        ({"scheme": "SINGLE_CLICK"}, "scheme"),
        ({"eta_a": -0.01}, "eta_a"),
        ({"eta_a": 1.01}, "eta_a"),
        ({"eta_a": float("nan")}, "eta_a"),
        ({"eta_b": -1e-9}, "eta_b"),
        ({"eta_b": 2.0}, "eta_b"),
        ({"p_dark": 1.0}, "p_dark"),
        ({"p_dark": 1.5}, "p_dark"),
        ({"p_dark": -0.1}, "p_dark"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": -0.2}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"cycle_time": -1e-6}, "cycle_time"),
        ({"cycle_time": float("inf")}, "cycle_time"),
        ({"phase_std": -0.1}, "phase_std"),
        ({"phase_std": float("nan")}, "phase_std"),
    ],
)
def test_invalid_parameters_raise_value_error_naming_the_field(kwargs: dict, field: str) -> None:
    params = {
        "scheme": "single_click",
        "eta_a": 0.5,
        "eta_b": 0.5,
        "p_dark": 0.0,
        "alpha": 0.1,
        "phase_std": 0.0,
        "cycle_time": 1e-5,
    }
    params.update(kwargs)
    with pytest.raises(ValueError, match=field):
        HeraldingModel(**params)


def test_alpha_is_only_validated_for_single_click() -> None:
    """Double click always starts from |+⟩|+⟩, so alpha is ignored (and any value accepted)."""
    assert HeraldingModel("double_click", 0.5, 0.5, alpha=0.0).fidelity == pytest.approx(1.0, abs=1e-12)
    assert set(SCHEMES) == {"single_click", "double_click"}


@pytest.mark.parametrize(
    ("args", "field"),
    [((1.2, 0.5, 0.0), "eta_a"), ((0.5, -0.5, 0.0), "eta_b"), ((0.5, 0.5, 1.0), "p_dark"), ((0.5, 0.5, 1.1), "p_dark")],
)
def test_click_instrument_validates_its_inputs(args: tuple, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        click_instrument(*args)
