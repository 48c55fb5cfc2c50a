"""Link noise beyond Werner (issue 11): Bell-diagonal link states, visibility per basis, CHSH,
QBER, the swap of two Bell-diagonal pairs, and the multi-pair visibility of an SPDC source.

Physics checked against analytic results computed independently of the code under test:

* a Pauli channel on one qubit of Φ⁺ gives the Bell-diagonal state with the channel's weights;
* QBER per basis read off the 4×4 state (Z: P(outcomes differ); X: the same after H ⊗ H) is
  (1 − V)/2 for the visibilities V_Z, V_X;
* the largest CHSH value over all settings (numerical optimisation over measurement directions
  of the state's expectation values) is Horodecki's 2√(τ1² + τ2²) (Phys. Lett. A 200, 340
  (1995)); the textbook X–Z settings give √2 (V_Z + V_X); with V_Z = V_X = V both are 2√2 V;
* a swap of two Bell-diagonal pairs (qstack's Bell-state measurement and Pauli correction on
  density matrices) gives the XOR convolution of the Bell coefficients, F = Σ_k λ_k μ_k; a whole
  network run with Bell-diagonal links delivers exactly that fidelity on both state engines;
* SPDC: the closed-form threshold-detector coincidence probabilities of a two-mode-squeezed
  polarisation source agree with a truncated Fock-space computation, reach the low-efficiency
  limit (1 + μ/2)/(1 + 3μ/2) ≈ 1 − μ (Kuzucu & Wong, PRA 77, 032314 (2008)) and the lossless
  1/(1 + μ).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm
from scipy.optimize import minimize

from qstack.network.runner import run_scenario
from qstack.physical.heralding import HeraldingModel
from qstack.physical.link_noise import (
    NoisyLinkModel,
    apply_pauli,
    chsh_max,
    chsh_xz,
    correlations,
    pauli_weights_from_bell,
    pauli_weights_from_visibilities,
    qber,
)
from qstack.physical.sources import SPDCSource, spdc_coincidence_probability, spdc_visibility
from qstack.physical.station import LINK_SCHEMES, LinkHardware
from qstack.quantum import create_qubits, entanglement_swap, state_of
from qstack.quantum.states import BELL_KETS_NP
from qstack.scenario import ScenarioError, linear_chain, load_scenario

TOL = 1e-12
_I2 = np.eye(2)
_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]])
_SZ = np.diag([1.0, -1.0]).astype(complex)
_H = np.array([[1, 1], [1, -1]]) / math.sqrt(2)


def _phi_plus() -> np.ndarray:
    return np.outer(BELL_KETS_NP[0], BELL_KETS_NP[0].conj())


def _bell_diag(rho: np.ndarray) -> list[float]:
    return [float(np.real(BELL_KETS_NP[k].conj() @ rho @ BELL_KETS_NP[k])) for k in range(4)]


def _bell_dm(coeffs) -> np.ndarray:
    return sum(c * np.outer(BELL_KETS_NP[k], BELL_KETS_NP[k].conj()) for k, c in enumerate(coeffs))


def _spin(n) -> np.ndarray:
    return n[0] * _SX + n[1] * _SY + n[2] * _SZ


def _unit(theta, phi):
    return np.array([math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)])


def _chsh_of_state(rho, a, a2, b, b2) -> float:
    e = lambda x, y: float(np.real(np.trace(rho @ np.kron(_spin(x), _spin(y)))))  # noqa: E731
    return e(a, b) + e(a, b2) + e(a2, b) - e(a2, b2)


def _numerical_chsh_max(rho, seed=0) -> float:
    """Brute force: maximise the CHSH expectation of ``rho`` over four measurement directions."""
    rng = np.random.default_rng(seed)

    def neg(x):
        dirs = [_unit(x[2 * i], x[2 * i + 1]) for i in range(4)]
        return -_chsh_of_state(rho, *dirs)

    best = 0.0
    for _ in range(4):
        res = minimize(neg, rng.uniform(0, 2 * math.pi, 8), method="BFGS", options={"gtol": 1e-11})
        best = max(best, -res.fun)
    return best


# ---------------------------------------------------------------------------- Bell-diagonal states


def test_pauli_channel_on_one_qubit_of_phi_plus_gives_its_weights_as_bell_coefficients():
    """(I ⊗ X^x Z^z) Φ⁺ = β_{2x+z}: the channel Σ p_k P_k ρ P_k† turns Φ⁺ into Σ p_k |β_k⟩⟨β_k|,
    exactly (every off-diagonal element in the Bell basis is 0)."""
    w = (0.81, 0.07, 0.08, 0.04)
    out = apply_pauli(_phi_plus(), w)
    assert np.max(np.abs(out - _bell_dm(w))) < TOL


def test_pauli_channel_permutes_the_coefficients_of_a_psi_heralded_pair_by_xor():
    """A pair announced as Ψ⁺ (index 2) gets λ_{2⊕k} = p_k: in its own frame the same state."""
    w = (0.7, 0.1, 0.15, 0.05)
    out = _bell_diag(apply_pauli(np.outer(BELL_KETS_NP[2], BELL_KETS_NP[2].conj()), w))
    assert out == pytest.approx([w[2 ^ j] for j in range(4)], abs=TOL)


@pytest.mark.parametrize("v_z,v_x", [(1.0, 1.0), (0.95, 0.9), (0.8, 0.97), (0.0, 0.5), (0.6, 0.0)])
def test_qber_per_basis_read_off_the_state_is_one_minus_visibility_over_two(v_z, v_x):
    """QBER_Z = P(Z outcomes differ) = ⟨01|ρ|01⟩ + ⟨10|ρ|10⟩ and QBER_X the same after H ⊗ H,
    read from the 4×4 state: (1 − V_Z)/2 and (1 − V_X)/2."""
    rho = apply_pauli(_phi_plus(), pauli_weights_from_visibilities(v_z, v_x))
    q_z = float(np.real(rho[1, 1] + rho[2, 2]))
    hh = np.kron(_H, _H)
    rx = hh @ rho @ hh.T
    q_x = float(np.real(rx[1, 1] + rx[2, 2]))
    assert q_z == pytest.approx((1 - v_z) / 2, abs=TOL)
    assert q_x == pytest.approx((1 - v_x) / 2, abs=TOL)
    assert qber(_bell_diag(rho)) == pytest.approx(((1 - v_z) / 2, (1 - v_x) / 2), abs=TOL)


def test_correlation_matrix_of_the_visibility_model_is_vz_vx_and_minus_their_product():
    """t_ii = Tr(ρ σ_i ⊗ σ_i) from the state: t_zz = V_Z, t_xx = V_X, t_yy = −V_Z V_X (independent flips)."""
    v_z, v_x = 0.93, 0.81
    w = pauli_weights_from_visibilities(v_z, v_x)
    rho = apply_pauli(_phi_plus(), w)
    direct = [float(np.real(np.trace(rho @ np.kron(s, s)))) for s in (_SX, _SY, _SZ)]
    assert direct == pytest.approx([v_x, -v_z * v_x, v_z], abs=TOL)
    assert correlations(w) == pytest.approx(tuple(direct), abs=TOL)


@pytest.mark.parametrize("coeffs", [
    (1.0, 0.0, 0.0, 0.0),
    pauli_weights_from_visibilities(0.9, 0.9),
    pauli_weights_from_visibilities(0.95, 0.7),
    (0.6, 0.3, 0.05, 0.05),     # t_yy is not the smallest here
    (0.4, 0.1, 0.3, 0.2),
])
def test_horodecki_chsh_max_equals_brute_force_maximisation_over_settings(coeffs):
    """S_max = 2√(τ1² + τ2²) (two largest |t|) equals the numerical maximum of the CHSH
    expectation of the 4×4 state over all four measurement directions (to 1e-7, the optimiser's
    tolerance; it is a maximum, so the optimum cannot exceed it)."""
    rho = _bell_dm(coeffs)
    numeric = _numerical_chsh_max(rho)
    assert numeric == pytest.approx(chsh_max(coeffs), abs=1e-7)
    assert numeric <= chsh_max(coeffs) + 1e-9


@pytest.mark.parametrize("v_z,v_x", [(0.9, 0.9), (0.95, 0.75), (0.7, 1.0)])
def test_textbook_xz_settings_give_root_two_times_vz_plus_vx(v_z, v_x):
    """A: Z, X; B: (Z ± X)/√2 on the state: S = √2 (V_Z + V_X) (computed from ρ); the optimum
    2√(V_Z² + V_X²) is at least that, equal when V_Z = V_X = V (2√2 V)."""
    w = pauli_weights_from_visibilities(v_z, v_x)
    rho = apply_pauli(_phi_plus(), w)
    z, x = np.array([0, 0, 1.0]), np.array([1.0, 0, 0])
    s = _chsh_of_state(rho, z, x, (z + x) / math.sqrt(2), (z - x) / math.sqrt(2))
    assert s == pytest.approx(math.sqrt(2) * (v_z + v_x), abs=TOL)
    assert chsh_xz(w) == pytest.approx(s, abs=TOL)
    assert chsh_max(w) == pytest.approx(2 * math.sqrt(v_z**2 + v_x**2), abs=TOL)
    if v_z == v_x:
        assert chsh_max(w) == pytest.approx(2 * math.sqrt(2) * v_z, abs=TOL)


def test_a_measured_chsh_and_qber_pair_out_of_werner_reach_is_reached_by_visibilities():
    """A Werner pair has QBER_Z = QBER_X = (1 − V)/2 and S = 2√2 V: QBER 2 % forces S = 2.715.
    QBER_Z = 2 % with S = 2.45 needs V_Z = 0.96 and V_X from 2√(V_Z² + V_X²) = 2.45: 0.7022."""
    v_z = 0.96
    v_x = math.sqrt((2.45 / 2) ** 2 - v_z**2)
    w = pauli_weights_from_visibilities(v_z, v_x)
    assert qber(w)[0] == pytest.approx(0.02, abs=TOL)
    assert chsh_max(w) == pytest.approx(2.45, abs=TOL)
    assert 2 * math.sqrt(2) * (1 - 2 * 0.02) == pytest.approx(2.7153, abs=1e-4)  # the Werner value


def test_bad_bell_coefficients_are_refused_naming_the_rule():
    with pytest.raises(ValueError, match="sum to 1"):
        pauli_weights_from_bell([0.5, 0.2, 0.2, 0.2])
    with pytest.raises(ValueError, match=">= 0"):
        pauli_weights_from_bell([1.1, -0.1, 0, 0])
    with pytest.raises(ValueError, match="four numbers"):
        pauli_weights_from_bell([1.0, 0.0])
    with pytest.raises(ValueError, match=r"visibility_x must be a number in \[0, 1\]"):
        pauli_weights_from_visibilities(0.9, 1.2)


# ---------------------------------------------------------------------------- models, swaps, runs


def test_noisy_double_click_model_keeps_rates_and_has_the_channel_fidelity():
    """Ideal Barrett–Kok heralds pure Ψ±: with the channel, fidelity p_I and per-outcome state
    coefficients λ_{k⊕j} = p_j; success probability η_aη_b/2 unchanged, states Bell-diagonal."""
    w = pauli_weights_from_visibilities(0.96, 0.88)
    base = HeraldingModel("double_click", 0.3, 0.4, cycle_time=1e-5)
    m = NoisyLinkModel(base, w)
    assert m.success_probability == base.success_probability
    assert m.outcome_probabilities == base.outcome_probabilities
    assert m.fidelity == pytest.approx(w[0], abs=TOL)
    for k, s in m.outcomes():
        s = s / np.trace(s)
        assert _bell_diag(s) == pytest.approx([w[k ^ j] for j in range(4)], abs=TOL)
        assert np.max(np.abs(s - _bell_dm(_bell_diag(s)))) < TOL


@pytest.mark.parametrize("lam,mu", [
    (pauli_weights_from_visibilities(0.95, 0.9), pauli_weights_from_visibilities(0.92, 0.97)),
    ((0.85, 0.05, 0.07, 0.03), (0.9, 0.02, 0.03, 0.05)),
])
def test_swap_of_two_bell_diagonal_pairs_is_the_xor_convolution_of_coefficients(lam, mu):
    """qstack's entanglement swap on density matrices (every outcome, with its Pauli correction)
    leaves ν_k = Σ_{i⊕j=k} λ_i μ_j, so F = Σ_k λ_k μ_k (computed here by hand)."""
    expected = [sum(lam[i] * mu[i ^ k] for i in range(4)) for k in range(4)]
    fid = sum(lam[k] * mu[k] for k in range(4))
    assert expected[0] == pytest.approx(fid, abs=TOL)
    for seed in range(6):  # several draws of the outcome: every branch gives the same state
        a, b = create_qubits(2, _bell_dm(lam))
        c, d = create_qubits(2, _bell_dm(mu))
        entanglement_swap(a, b, c, d, np.random.default_rng(seed))
        rho = np.asarray(state_of([a, d]).full())
        assert _bell_diag(rho) == pytest.approx(expected, abs=TOL)


def _run(d: dict, engine: str) -> dict:
    d = {**d, "simulation": {**d["simulation"], "engine": engine}}
    return run_scenario(load_scenario(d), record=True)


def test_chain_with_bell_diagonal_links_runs_on_the_bell_engine_and_gives_the_convolution():
    """Three nodes, two visibility-model links (V_Z = 0.95, V_X = 0.9), ideal memories: ``auto``
    picks the Bell-diagonal engine, the density-matrix engine gives the same pairs to 1e-12, and
    every delivered pair has F = Σ λ_k² exactly."""
    w = pauli_weights_from_visibilities(0.95, 0.9)
    d = linear_chain(3, seed=5, duration=0.01, t2="inf",
                     link={"noise": "bell_diagonal", "visibility_z": 0.95, "visibility_x": 0.9})
    auto = _run(d, "auto")
    dm = _run(d, "density_matrix")
    assert auto["engine"] == "bell_diagonal" and dm["engine"] == "density_matrix"
    assert auto["delivered_pairs"] == dm["delivered_pairs"] > 5
    f = sum(x * x for x in w)
    for a, b in zip(auto["records"], dm["records"], strict=True):
        assert {k: v for k, v in a.items() if k != "fidelity"} == {k: v for k, v in b.items() if k != "fidelity"}
        assert abs(a["fidelity"] - b["fidelity"]) <= 1e-12
        assert a["fidelity"] == pytest.approx(f, abs=1e-12)


def test_bell_coefficient_links_with_raw_fidelity_compose_the_two_channels():
    """bell_coefficients and the nodes' raw_fidelity (Werner w) commute: one link's pair has
    λ = w·p + (1 − w)/4, so a two-link swap has F = Σ λ_k²."""
    p = (0.9, 0.03, 0.05, 0.02)
    d = linear_chain(3, seed=2, duration=0.01, t2="inf", raw_fidelity=0.97,
                     link={"noise": "bell_diagonal", "bell_coefficients": list(p)})
    w = (4 * 0.97 - 1) / 3
    lam = [w * x + (1 - w) / 4 for x in p]
    out = _run(d, "auto")
    assert out["engine"] == "bell_diagonal" and out["delivered_pairs"] > 0
    assert all(r["fidelity"] == pytest.approx(sum(x * x for x in lam), abs=1e-12) for r in out["records"])


def test_werner_noise_named_or_left_out_gives_the_identical_run():
    """``noise = "werner"`` is the default: the same scenario with and without it is bit-identical
    (the Werner path builds the same hardware, pauli None)."""
    d = linear_chain(3, seed=9, duration=0.01, raw_fidelity=0.95, t2="0.1 s")
    named = linear_chain(3, seed=9, duration=0.01, raw_fidelity=0.95, t2="0.1 s", link={"noise": "werner"})
    sa, sb = load_scenario(d), load_scenario(named)
    assert sa.link_hardware(sa.links[0]) == sb.link_hardware(sb.links[0])
    assert sa.link_hardware(sa.links[0])[0].pauli is None
    ra, rb = run_scenario(sa, record=True), run_scenario(sb, record=True)
    assert ra["records"] == rb["records"] and ra["events"] == rb["events"]


def test_single_click_with_bell_diagonal_noise_meets_the_fidelity_on_the_noisy_state():
    """The single-click α search uses the fidelity after the channel: the chosen model's noisy
    fidelity meets the demand (to 1e-9, the root finder's), with the largest such α; its states
    are not Bell-diagonal (|11⟩ admixture), so ``auto`` runs on density matrices."""
    hw = LinkHardware(0.4, 0.4, pauli=pauli_weights_from_visibilities(0.98, 0.96))
    m = LINK_SCHEMES.create("single_click").model(hw, 0.85)
    assert m is not None and m.fidelity == pytest.approx(0.85, abs=1e-9)
    bigger = NoisyLinkModel(HeraldingModel("single_click", 0.4, 0.4, alpha=m.alpha * 1.01), hw.pauli)
    assert bigger.fidelity < 0.85
    assert LINK_SCHEMES.create("single_click").model(hw, 0.99) is None  # above the channel's p_I
    d = linear_chain(3, seed=2, duration=0.005, link={"scheme": "single_click", "noise": "bell_diagonal",
                                                      "visibility_z": 0.98, "visibility_x": 0.96})
    assert _run(d, "auto")["engine"] == "density_matrix"


# ---------------------------------------------------------------------------- scenario fields


@pytest.mark.parametrize("link,match", [
    ({"noise": "bell_diagonal"}, r"links\[0\]\.noise: needs bell_coefficients, or visibility_z and visibility_x"),
    ({"noise": "bell_diagonal", "visibility_z": 0.9}, r"links\[0\]\.visibility_x: required with visibility_z"),
    ({"noise": "bell_diagonal", "visibility_z": 1.5, "visibility_x": 0.9},
     r"links\[0\]\.visibility_z: must be a number in \[0, 1\], got 1\.5"),
    ({"noise": "bell_diagonal", "bell_coefficients": [0.5, 0.5, 0.5, 0]},
     r"links\[0\]\.bell_coefficients: must be an array of four numbers >= 0 summing to 1.*sum 1\.5"),
    ({"noise": "bell_diagonal", "bell_coefficients": [1, 0, 0, 0], "visibility_x": 0.9},
     r"links\[0\]\.visibility_x: must be left out when bell_coefficients is set"),
    ({"visibility_z": 0.9}, r'links\[0\]\.visibility_z: only applies to noise = "bell_diagonal"'),
    ({"noise": "spdc"}, r"links\[0\]\.noise: needs mean_pair_number"),
    ({"noise": "spdc", "mean_pair_number": -0.1}, r"links\[0\]\.mean_pair_number: must be a number >= 0"),
    ({"noise": "werner", "mean_pair_number": 0.1}, r'links\[0\]\.mean_pair_number: only applies to noise = "spdc"'),
    ({"noise": "depolarising"}, r'links\[0\]\.noise: must be one of "werner", "bell_diagonal", "spdc"'),
])
def test_bad_link_noise_fields_are_refused_naming_field_and_range(link, match):
    with pytest.raises(ScenarioError, match=match):
        load_scenario(linear_chain(2, seed=1, link=link))


def test_spdc_noise_multiplies_the_werner_parameter_by_the_source_visibility():
    """noise = "spdc": raw_w = w_raw · V(μ, η_a, η_b) with the arms' efficiencies; no Pauli channel."""
    sc = load_scenario(linear_chain(2, seed=1, raw_fidelity=0.98, link={"noise": "spdc", "mean_pair_number": 0.05}))
    hw, _, _ = sc.link_hardware(sc.links[0])
    w_raw = (4 * 0.98 - 1) / 3
    assert hw.pauli is None
    assert hw.raw_w == pytest.approx(w_raw * spdc_visibility(0.05, hw.eta_a, hw.eta_b), abs=TOL)
    assert hw.raw_w < w_raw


# ---------------------------------------------------------------------------- SPDC multi-pair terms


def test_thermal_pair_statistics_per_mode_pair():
    """P(n) = μ^n/(1 + μ)^(n+1) sums to 1 with mean μ and P(n ≥ 2) = (μ/(1 + μ))²."""
    src = SPDCSource(0.3, 1e6)
    p = src.photon_number_distribution(200)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (np.arange(201) * p).sum() == pytest.approx(0.3, abs=1e-12)
    assert 1 - p[0] - p[1] == pytest.approx(src.multi_photon_probability, abs=1e-12)


def _fock_coincidence(mu: float, eta_a: float, eta_b: float, theta: float, n_max: int = 12) -> float:
    """Truncated Fock-space computation: two TMSVs (H_aH_b, V_aV_b) of μ/2 each, the polariser at
    A rotated by θ (beam-splitter unitary on a_H, a_V), B along H; threshold detectors of
    efficiency η on the transmitted modes: P = ⟨(1 − (1−η_a)^{n_aH})(1 − (1−η_b)^{n_bH})⟩."""
    mu_s = mu / 2
    n = np.arange(n_max + 1)
    amp = np.sqrt(mu_s**n / (1 + mu_s) ** (n + 1))  # TMSV Σ c_n |n, n⟩
    d = n_max + 1
    # modes order: aH, aV, bH, bV; state ψ[aH, aV, bH, bV] = c_{aH} c_{aV} δ(aH,bH) δ(aV,bV)
    psi = np.zeros((d, d, d, d))
    for i in range(d):
        for j in range(d):
            psi[i, j, i, j] = amp[i] * amp[j]
    a = np.diag(np.sqrt(np.arange(1, d)), 1)
    aH, aV = np.kron(a, np.eye(d)), np.kron(np.eye(d), a)
    gen = theta * (aH.T @ aV - aV.T @ aH)  # a real polarisation rotation
    u = expm(gen)
    psi = np.einsum("xy,ybc->xbc", u, psi.reshape(d * d, d, d)).reshape(d, d, d, d)
    click_a = 1 - (1 - eta_a) ** n
    click_b = 1 - (1 - eta_b) ** n
    prob = np.abs(psi) ** 2
    return float(np.einsum("ijkl,i,k->", prob, click_a, click_b))


@pytest.mark.parametrize("mu,eta_a,eta_b", [(0.1, 0.3, 0.5), (0.04, 1.0, 0.2), (0.3, 0.05, 0.08)])
@pytest.mark.parametrize("theta", [0.0, math.pi / 8, math.pi / 4, math.pi / 2])
def test_spdc_coincidence_formula_agrees_with_a_fock_space_computation(mu, eta_a, eta_b, theta):
    """The Gaussian closed form (vacuum probabilities of the analysed modes) equals the truncated
    Fock sum (truncation error below 1e-11 at these μ) for parallel, crossed and oblique polarisers."""
    closed = spdc_coincidence_probability(mu, eta_a, eta_b, math.cos(theta))
    assert closed == pytest.approx(_fock_coincidence(mu, eta_a, eta_b, theta), abs=1e-11)


@pytest.mark.parametrize("mu", [0.01, 0.05, 0.2, 1.0])
def test_spdc_visibility_limits(mu):
    """Low efficiency: V → (1 + μ/2)/(1 + 3μ/2) (= 1 − μ + O(μ²): Kuzucu & Wong's V = 1 − α);
    lossless: V = 1/(1 + μ); in between it falls monotonically with the efficiency."""
    assert spdc_visibility(mu, 1e-9, 1e-9) == pytest.approx((1 + mu / 2) / (1 + 1.5 * mu), abs=1e-8)
    assert spdc_visibility(mu, 1.0, 1.0) == pytest.approx(1 / (1 + mu), abs=TOL)
    vs = [spdc_visibility(mu, e, e) for e in (1e-6, 0.01, 0.1, 0.5, 1.0)]
    assert all(x > y for x, y in zip(vs, vs[1:], strict=False))
    if mu <= 0.01:
        assert spdc_visibility(mu, 1e-6, 1e-6) == pytest.approx(1 - mu, abs=2 * mu * mu)


def test_spdc_dark_counts_lower_the_visibility_and_bad_inputs_name_the_field():
    assert spdc_visibility(0.05, 0.01, 0.01, 1e-5, 1e-5) < spdc_visibility(0.05, 0.01, 0.01)
    with pytest.raises(ValueError, match="eta_a"):
        spdc_visibility(0.1, 1.5, 0.1)
    with pytest.raises(ValueError, match="mean_pair_number"):
        spdc_coincidence_probability(-1.0, 0.1, 0.1, 1.0)
