"""DI-QKD over a single-atom link, from a scenario file: the "atom_two_photon" link scheme
(qstack.physical.atoms) and the spot-checking DI-QKD app with a finite key (qstack.apps.chsh)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from qstack.apps import make_application, run_app
from qstack.apps.chsh import DIQKD, settings_gap
from qstack.physical.atoms import AtomAtomLink, AtomNode, AtomTwoPhoton
from qstack.physical.station import LINK_SCHEMES, LinkHardware
from qstack.qkd.device_independent import di_qkd_finite_key
from qstack.scenario import load_scenario

MUNICH = Path(__file__).resolve().parents[2] / "examples" / "real" / "di_qkd_atoms" / "munich.toml"


def _scenario(rounds: int, **params: object):
    data = tomllib.loads(MUNICH.read_text())
    data["application"]["params"].update(rounds=rounds, **params)
    return load_scenario(data)


def test_atom_scheme_is_registered_and_its_model_is_the_atom_atom_link():
    """The scheme's model: success η_A η_B/2 (+ accidentals), Ψ± heralds equally likely, states of
    trace p/2 whose correlations are (T_zz, T_xx) = (V_A V_B f, M V_A V_B f)."""
    hw = LinkHardware(eta_a=0.02, eta_b=0.03, p_dark=1e-4, cycle_time=1e-5)
    scheme = LINK_SCHEMES.create({"name": "atom_two_photon", "atom_photon_fidelity": 0.95,
                                  "atom_photon_fidelity_b": 0.9, "interference_visibility": 0.8})
    assert isinstance(scheme, AtomTwoPhoton)
    m = scheme.model(hw, 0.0)
    ref = AtomAtomLink(AtomNode(0.95, collection_efficiency=0.02), AtomNode(0.9, collection_efficiency=0.03),
                       attempt_rate=1e5, interference_visibility=0.8, dark_count_probability=1e-4)
    assert m.success_probability == pytest.approx(ref.success_probability, rel=1e-12)
    assert m.fidelity == pytest.approx(ref.fidelity, rel=1e-12)
    (i0, s0), (i1, s1) = m.outcomes()
    assert (i0, i1) == (2, 3)
    p0, p1 = m.outcome_probabilities
    assert p0 == p1 == pytest.approx(ref.success_probability / 2, rel=1e-12)
    assert np.trace(s0).real == pytest.approx(p0, rel=1e-12)
    np.testing.assert_allclose(s1 / p1, ref.density_matrix(), atol=1e-12)
    zz, xx = ref.correlations
    sx, sz = np.array([[0, 1], [1, 0]]), np.diag([1, -1])
    assert np.trace(s0 / p0 @ np.kron(sx, sx)).real == pytest.approx(xx, abs=1e-12)   # Ψ⁺: ⟨XX⟩ = +T_xx
    assert np.trace(s0 / p0 @ np.kron(sz, sz)).real == pytest.approx(-zz, abs=1e-12)
    assert scheme.model(hw, ref.fidelity + 1e-6) is None            # below the requested fidelity


def test_chsh_at_the_games_settings_is_sqrt2_times_tzz_plus_txx():
    """Corrected to the Φ⁺ frame, the game's settings give S = √2 (T_zz + T_xx) (< optimum if M < 1)."""
    link = AtomAtomLink(AtomNode(0.97), AtomNode(0.96), attempt_rate=1.0, interference_visibility=0.7)
    xz = np.kron(np.eye(2), np.array([[0, 1], [1, 0]]) @ np.diag([1, -1]))   # Ψ⁻ = (1 ⊗ XZ) Φ⁺
    phi = xz.conj().T @ link.density_matrix() @ xz
    gap = settings_gap(phi)
    assert gap.value == pytest.approx(link.chsh_standard_settings, abs=1e-12)
    assert gap.optimum == pytest.approx(link.chsh, abs=1e-12)
    assert link.chsh_standard_settings < link.chsh


def test_munich_scenario_run_matches_the_link_model_and_the_finite_key_formula():
    """`qstack run` path: the run's S and QBER within 4 standard errors of the AtomAtomLink values;
    the key length is di_qkd_finite_key at the run's own statistics, less the revealed bits (1e-9)."""
    sc = _scenario(2500)
    spec = sc.application
    app = make_application(spec.name, spec.params, spec.roles)
    res = run_app(app, sc, spec.roles)
    alice, bob = res.results["alice"], res.results["bob"]
    hw, _, _ = sc.link_hardware(sc.links[0])
    link = LINK_SCHEMES.create(sc.links[0].scheme).model(hw, 0.0).link
    assert abs(alice.chsh.value - link.chsh_standard_settings) < 4 * alice.chsh.standard_error
    q_se = math.sqrt(link.qber * (1 - link.qber) / alice.qber_rounds)
    assert abs(alice.qber - link.qber) < 4 * q_se
    wins, tests = alice.bell_test.wins, alice.bell_test.rounds
    errors = round(alice.qber * alice.qber_rounds)
    expected = di_qkd_finite_key(2500, 8 * wins / tests - 4, errors / alice.qber_rounds,
                                 test_probability=app.test_probability, noise=app.noise, bound=app.bound,
                                 epsilons=dict(app.epsilons))
    assert alice.key_length == pytest.approx(expected.key_length - alice.qber_rounds, abs=1e-9)
    assert bob.key_length == alice.key_length and bob.finite_key == alice.finite_key
    assert alice.aborted and bob.aborted          # 2500 events are far too few for a finite key
    assert abs(tests / 2500 - app.test_probability) < 4 * math.sqrt(0.3 * 0.7 / 2500)
    summary = app.summary(res.results)
    assert summary["key_length_bits"] == alice.key_length and summary["bound"] == "eat_improved"


def test_spot_checking_run_is_deterministic_for_a_seed():
    roles = {"alice": "alice", "bob": "bob"}
    a = run_app(DIQKD(300, protocol="spot_checking", test_probability=0.5), _scenario(300), roles)
    b = run_app(DIQKD(300, protocol="spot_checking", test_probability=0.5), _scenario(300), roles)
    ra, rb = a.results["alice"], b.results["alice"]
    assert (ra.chsh, ra.qber, ra.key_length, ra.raw_key) == (rb.chsh, rb.qber, rb.key_length, rb.raw_key)


@pytest.mark.parametrize(("params", "field"), [
    ({"protocol": "biased"}, "protocol"),
    ({"protocol": "spot_checking", "test_probability": 1.0}, "test_probability"),
    ({"protocol": "spot_checking", "noise": 0.5}, "noise"),
    ({"protocol": "spot_checking", "bound": "renyi"}, "bound"),
    ({"protocol": "spot_checking", "epsilons": {"smoothing": 2.0}}, "smoothing"),
    ({"protocol": "spot_checking", "attack": "intercept_resend"}, "attack"),
])
def test_bad_di_qkd_parameters_are_refused_naming_the_field(params, field):
    with pytest.raises(ValueError, match=field):
        DIQKD(100, **params)


def test_bad_atom_scheme_parameter_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="interference_visibility"):
        AtomTwoPhoton(interference_visibility=1.5)
    with pytest.raises(ValueError, match="atom_photon_fidelity"):
        LINK_SCHEMES.create({"name": "atom_two_photon", "atom_photon_fidelity": 0.1})
