"""Single-atom nodes (qstack.physical.atoms): transmissivity, two-photon heralding at a middle
station, and the heralded pair's CHSH value and QBER, each against its analytic formula or an
independent density-matrix computation (entanglement swapping by projection)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.physical.atoms import (
    AtomAtomLink,
    AtomNode,
    chsh_from_correlations,
    fidelity_from_visibility,
    visibility_from_fidelity,
)
from qstack.quantum.bell import correlation_matrix, max_chsh_value

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
SZ = np.diag([1.0, -1.0]).astype(complex)


def _psi_minus_werner(v: float) -> np.ndarray:
    return (np.eye(4) - v * (np.kron(SX, SX) + np.kron(SY, SY) + np.kron(SZ, SZ))) / 4


def _swap(rho_a: np.ndarray, rho_b: np.ndarray, m: float) -> tuple[float, np.ndarray]:
    """Project photons (qubits 1, 2 of atomA–photonA ⊗ photonB–atomB) with the Ψ⁻ element of
    visibility m; return the probability and the normalised atom–atom state."""
    e = np.zeros((4, 4), dtype=complex)
    e[1, 1] = e[2, 2] = 0.5
    e[1, 2] = e[2, 1] = -m / 2
    # qubits: atom A, photon A, photon B, atom B
    op = np.kron(np.kron(np.eye(2), e), np.eye(2)) @ np.kron(rho_a, rho_b)
    res = np.einsum("aijbcijd->abcd", op.reshape([2] * 8))                    # trace out both photons
    rho = res.reshape(4, 4)
    p = float(np.trace(rho).real)
    return p, rho / p


def test_node_transmissivity_is_the_product_of_efficiencies_and_fibre_loss():
    node = AtomNode(collection_efficiency=0.3, conversion_efficiency=0.5, detection_efficiency=0.8,
                    fibre_length=50e3, attenuation_db_per_km=0.2)
    assert node.fibre_transmissivity == pytest.approx(0.1, rel=1e-12)        # 10 dB
    assert node.transmissivity == pytest.approx(0.3 * 0.5 * 0.1 * 0.8, rel=1e-12)


def test_two_photon_herald_probability_is_half_the_product_of_transmissivities():
    a = AtomNode(collection_efficiency=0.2, detection_efficiency=0.9, fibre_length=700, attenuation_db_per_km=4)
    b = AtomNode(collection_efficiency=0.1, detection_efficiency=0.9)
    link = AtomAtomLink(a, b, attempt_rate=2e4)
    assert link.accidental_herald_probability == 0.0
    assert link.success_probability == pytest.approx(a.transmissivity * b.transmissivity / 2, rel=1e-12)
    assert link.event_rate == pytest.approx(2e4 * a.transmissivity * b.transmissivity / 2, rel=1e-12)


def test_accidental_heralds_follow_the_first_order_formula():
    a = AtomNode(collection_efficiency=0.05, conversion_efficiency=0.5, conversion_noise=1e-3,
                 fibre_length=10e3, attenuation_db_per_km=0.3, detection_efficiency=0.8)
    link = AtomAtomLink(a, a, attempt_rate=1e5, dark_count_probability=1e-5)
    t = a.fibre_transmissivity * 0.8
    d = 1e-5 + (2 * 1e-3 * t) / 4
    assert link.noise_click_probability == pytest.approx(d, rel=1e-12)
    ea = a.transmissivity
    p_acc = 2 * d * 2 * ea * (1 - ea) + 4 * d * d * (1 - ea) ** 2
    assert link.accidental_herald_probability == pytest.approx(p_acc, rel=1e-12)
    f = (ea * ea / 2) / (ea * ea / 2 + p_acc)
    assert link.true_fraction == pytest.approx(f, rel=1e-12)
    assert link.correlations[0] == pytest.approx(f, rel=1e-12)    # accidentals multiply every correlator by f


@pytest.mark.parametrize("fa,fb", [(1.0, 1.0), (0.95, 0.9), (0.8, 0.99)])
def test_swapping_two_werner_pairs_gives_the_product_visibility(fa, fb):
    """Projecting the photons of ρ_A ⊗ ρ_B onto Ψ⁻ leaves Ψ⁻-Werner atoms with V = V_A V_B,
    heralded with probability 1/4 (half the Bell basis, two outcomes: 1/2)."""
    va, vb = visibility_from_fidelity(fa), visibility_from_fidelity(fb)
    p, rho = _swap(_psi_minus_werner(va), _psi_minus_werner(vb), 1.0)
    assert p == pytest.approx(0.25, abs=1e-12)
    t = correlation_matrix(rho)
    assert np.allclose(t, -va * vb * np.eye(3), atol=1e-12)
    link = AtomAtomLink(AtomNode(atom_photon_fidelity=fa), AtomNode(atom_photon_fidelity=fb), attempt_rate=1.0)
    assert link.correlations[0] == pytest.approx(va * vb, abs=1e-12)
    assert np.allclose(link.density_matrix(), rho, atol=1e-12)


def test_partial_photon_distinguishability_scales_only_the_x_and_y_correlations():
    m = 0.8
    p, rho = _swap(_psi_minus_werner(1.0), _psi_minus_werner(0.9), m)
    t = correlation_matrix(rho)
    assert np.allclose(np.diag(t), [-0.9 * m, -0.9 * m, -0.9], atol=1e-12)
    link = AtomAtomLink(AtomNode(), AtomNode(atom_photon_fidelity=fidelity_from_visibility(0.9)), attempt_rate=1.0,
                        interference_visibility=m)
    assert np.allclose(link.density_matrix(), rho, atol=1e-12)


@pytest.mark.parametrize("m", [1.0, 0.9, 0.6])
def test_heralded_chsh_is_the_horodecki_optimum_and_qber_the_z_error(m):
    node = AtomNode(atom_photon_fidelity=0.96, collection_efficiency=0.1)
    link = AtomAtomLink(node, node, attempt_rate=1.0, interference_visibility=m, dark_count_probability=1e-4)
    zz, xx = link.correlations
    assert link.chsh == pytest.approx(max_chsh_value(link.density_matrix()), abs=1e-9)
    assert link.chsh == pytest.approx(2 * math.sqrt(zz**2 + xx**2), abs=1e-12)
    assert link.qber == pytest.approx((1 - zz) / 2, abs=1e-12)
    rho = link.density_matrix()
    psi = np.array([0, 1, -1, 0]) / math.sqrt(2)
    assert link.fidelity == pytest.approx(float((psi @ rho @ psi).real), abs=1e-12)


def test_werner_limit_chsh_and_qber():
    """M = 1, no noise: S = 2√2 V and Q = (1 − V)/2 with V = V_A V_B."""
    node = AtomNode(atom_photon_fidelity=0.95)
    link = AtomAtomLink(node, node, attempt_rate=1.0)
    v = visibility_from_fidelity(0.95) ** 2
    assert link.chsh == pytest.approx(2 * math.sqrt(2) * v, abs=1e-12)
    assert link.qber == pytest.approx((1 - v) / 2, abs=1e-12)
    assert chsh_from_correlations(v, v) == pytest.approx(2 * math.sqrt(2) * v, abs=1e-12)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="atom_photon_fidelity"):
        AtomNode(atom_photon_fidelity=0.1)
    with pytest.raises(ValueError, match="collection_efficiency"):
        AtomNode(collection_efficiency=1.2)
    with pytest.raises(ValueError, match="fibre_length"):
        AtomNode(fibre_length=-1.0)
    with pytest.raises(ValueError, match="attempt_rate"):
        AtomAtomLink(AtomNode(), AtomNode(), attempt_rate=0.0)
    with pytest.raises(ValueError, match="interference_visibility"):
        AtomAtomLink(AtomNode(), AtomNode(), attempt_rate=1.0, interference_visibility=1.5)


# ---- "atom_single_photon": single-photon interference, the single-click model -------------------

def test_atom_single_photon_matches_single_click_closed_forms_to_1e9():
    """Symmetric arms, no dark counts, M = 1: success 2αη − α²η², fidelity (1 − α)/(1 − αη/2),
    with η = emission × fibre × detector × conversion (the conversion multiplies each arm)."""
    from qstack.physical.atoms import AtomSinglePhoton
    from qstack.physical.heralding import single_click_fidelity, single_click_success_probability
    from qstack.physical.station import LINK_SCHEMES, LinkHardware

    scheme = LINK_SCHEMES.create({"name": "atom_single_photon", "alpha": 0.07, "conversion_efficiency": 0.4})
    assert isinstance(scheme, AtomSinglePhoton)
    m = scheme.model(LinkHardware(eta_a=0.05, eta_b=0.05, cycle_time=1e-4), 0.0)
    eta = 0.05 * 0.4
    assert abs(m.success_probability - single_click_success_probability(0.07, eta)) < 1e-9
    assert abs(m.fidelity - single_click_fidelity(0.07, eta)) < 1e-9


def test_atom_single_photon_fidelity_is_one_minus_alpha_at_small_alpha_eta():
    """Without dark counts F = (1 − α)/(1 − αη/2) → 1 − α as αη → 0 (here αη = 1e-5: |F − (1 − α)| < 1e-5)."""
    from qstack.physical.atoms import AtomSinglePhoton
    from qstack.physical.station import LinkHardware

    m = AtomSinglePhoton(alpha=0.01).model(LinkHardware(eta_a=1e-3, eta_b=1e-3, cycle_time=1e-4), 0.0)
    assert abs(m.fidelity - 0.99) < 1e-5
    assert abs(m.success_probability - 2 * 0.01 * 1e-3) < 1e-9   # ≈ 2αη, linear in η


def test_atom_single_photon_is_single_click_with_the_atom_arm_efficiencies():
    """Delegation: with dark counts, converter noise and visibility M the model equals the built-in
    single_click model at η·η_conv, p_dc + ν and phase spread √(σ² − 2 ln M) (1e-12), and M scales
    the heralded Ψ± coherence exactly (⟨01|ρ|10⟩ ∝ M)."""
    from qstack.physical.atoms import AtomSinglePhoton
    from qstack.physical.heralding import HeraldingModel
    from qstack.physical.station import LinkHardware

    hw = LinkHardware(eta_a=0.02, eta_b=0.03, p_dark=1e-5, phase_std=0.1, cycle_time=1e-4)
    m = AtomSinglePhoton(alpha=0.05, interference_visibility=0.9, conversion_efficiency=0.5,
                         noise_photons=2e-5).model(hw, 0.0)
    sigma = math.sqrt(0.01 - 2 * math.log(0.9))
    ref = HeraldingModel("single_click", 0.01, 0.015, 3e-5, 0.05, sigma, 1e-4)
    assert abs(m.success_probability - ref.success_probability) < 1e-12
    assert abs(m.fidelity - ref.fidelity) < 1e-12
    m1 = AtomSinglePhoton(alpha=0.05).model(LinkHardware(eta_a=0.1, eta_b=0.1, cycle_time=1e-4), 0.0)
    mv = AtomSinglePhoton(alpha=0.05, interference_visibility=0.8).model(
        LinkHardware(eta_a=0.1, eta_b=0.1, cycle_time=1e-4), 0.0)
    assert abs(mv.outcomes()[0][1][1, 2] - 0.8 * m1.outcomes()[0][1][1, 2]) < 1e-12


def test_atom_single_photon_rejects_bad_inputs_naming_the_field():
    from qstack.physical.atoms import AtomSinglePhoton
    from qstack.physical.station import LinkHardware

    for kwargs, field in (({"alpha": 1.0}, "alpha"), ({"interference_visibility": 0.0}, "interference_visibility"),
                          ({"conversion_efficiency": 1.5}, "conversion_efficiency"),
                          ({"noise_photons": -1.0}, "noise_photons")):
        with pytest.raises(ValueError, match=field):
            AtomSinglePhoton(**kwargs)
    with pytest.raises(ValueError, match="cycle_time"):
        AtomSinglePhoton(alpha=0.1).model(LinkHardware(eta_a=0.1, eta_b=0.1), 0.0)
