"""Satellite-borne entangled source, double downlink (qstack.physical.double_downlink).

Physics checked against analytic results: the accidental-coincidence rate S_a S_b τ of two
independent Poisson streams (Monte Carlo within 4 standard errors); recorded pairs
f ρ + (1 − f) I/4 with f = C_t/(C_t + C_acc), so S = 2√2 V f and QBER = (1 − V f)/2; without
noise f = 1/(1 + R τ) — the CW multi-pair visibility 1/(1 + μ) with μ = R τ pairs per window;
the pass pools recorded pairs with coincidence weights; the arms' loss is satellite.py's
channel along each station's pass plus the detector.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.physical.double_downlink import (
    EntangledPairSource,
    accidental_coincidence_rate,
    double_downlink_budget,
    double_downlink_state,
)
from qstack.physical.link_noise import chsh_xz
from qstack.physical.satellite import DownlinkSpec, GroundStation

TOL = 1e-12


def _spec(altitude=500e3, aperture=1.2):
    st = GroundStation("G", 0.6, 1.7, 3000.0, aperture, 0.8, 12.0)
    return DownlinkSpec(altitude, math.radians(40), 810e-9, 0.3, st, min_elevation=math.radians(20),
                        divergence=10e-6, time_step=5.0)


def test_accidental_rate_of_two_independent_poisson_streams_matches_monte_carlo():
    """Two independent Poisson streams (2e4/s and 3e4/s, 1 s) and a window of full width 1 µs:
    the pairs within |Δt| < τ/2 number S_a S_b τ = 600 on average (Poisson, SE ≈ √600)."""
    rng = np.random.default_rng(11)
    a = np.sort(rng.uniform(0, 1, rng.poisson(2e4)))
    b = np.sort(rng.uniform(0, 1, rng.poisson(3e4)))
    tau = 1e-6
    count = int(np.sum(np.searchsorted(b, a + tau / 2) - np.searchsorted(b, a - tau / 2)))
    expected = accidental_coincidence_rate(2e4, 3e4, tau)
    assert expected == pytest.approx(600.0, abs=1e-9)
    assert abs(count - expected) <= 4 * math.sqrt(expected)


@pytest.mark.parametrize("eta_a,eta_b,n_a,n_b", [(1e-3, 2e-4, 300.0, 800.0), (1e-4, 1e-4, 0.0, 5000.0)])
def test_recorded_pairs_are_the_source_state_mixed_with_white_noise(eta_a, eta_b, n_a, n_b):
    """f = C_t/(C_t + C_acc) with C_t = R η_a η_b and C_acc = (R η_a + n_a)(R η_b + n_b) τ; the
    pairs are f ρ + (1 − f) I/4: S = 2√2 V f (V_Z = V_X = V), QBER = (1 − V f)/2."""
    r, v, tau = 5.9e6, 0.92, 2.5e-9
    s = double_downlink_state(EntangledPairSource(r, v, v, tau), eta_a, eta_b, n_a, n_b)
    ct = r * eta_a * eta_b
    ca = (r * eta_a + n_a) * (r * eta_b + n_b) * tau
    f = ct / (ct + ca)
    assert s.true_rate == pytest.approx(ct, rel=TOL) and s.accidental_rate == pytest.approx(ca, rel=TOL)
    assert s.chsh == pytest.approx(2 * math.sqrt(2) * v * f, abs=TOL)
    assert s.chsh_max == pytest.approx(s.chsh, abs=TOL)
    assert s.qber[0] == pytest.approx((1 - v * f) / 2, abs=TOL)
    assert s.qber[1] == pytest.approx((1 - v * f) / 2, abs=TOL)


def test_without_noise_the_multi_pair_accidentals_give_visibility_one_over_one_plus_mu():
    """No dark counts: f = 1/(1 + R τ) whatever the losses — the multi-pair term of a CW source
    with μ = R τ pairs per window (S = 2√2/(1 + μ) for a perfect source)."""
    src = EntangledPairSource(2e7, 1.0, 1.0, 5e-9)   # μ = 0.1
    for eta in (1e-2, 1e-4, 1e-6):
        s = double_downlink_state(src, eta, eta / 3)
        assert s.chsh == pytest.approx(2 * math.sqrt(2) / 1.1, abs=TOL)
    assert src.mean_pairs_per_window == pytest.approx(0.1, abs=TOL)


def test_unequal_visibilities_give_the_textbook_and_optimal_chsh_of_the_mixed_state():
    """V_Z = 0.95, V_X = 0.8 mixed with fraction f: t_zz = 0.95 f, t_xx = 0.8 f, so the textbook
    settings give √2 (0.95 + 0.8) f and the optimum 2 f √(0.95² + 0.8²)."""
    s = double_downlink_state(EntangledPairSource(5.9e6, 0.95, 0.8, 2.5e-9), 1e-3, 1e-3, 200.0, 200.0)
    f = s.true_rate / s.coincidence_rate
    assert s.chsh == pytest.approx(math.sqrt(2) * 1.75 * f, abs=TOL)
    assert s.chsh_max == pytest.approx(2 * f * math.hypot(0.95, 0.8), abs=TOL)


def test_pass_loss_is_the_channel_along_each_pass_plus_the_detector_and_pools_by_coincidences():
    """Each step's arm loss equals satellite.py's loss_curve plus −10 log10(detector); the pooled
    state is Σ C(t) λ(t) / Σ C(t) (recomputed here from the per-step states)."""
    a, b = _spec(aperture=1.2), _spec(aperture=1.8)
    src = EntangledPairSource(5.9e6, 0.9, 0.9, 2.5e-9)
    out = double_downlink_budget(a, b, src, detector_efficiency_a=0.5, detector_efficiency_b=0.4,
                                 noise_rate_a=400.0, noise_rate_b=700.0)
    ref_a = a.satellite_pass().loss_curve(a.channel(), out.times).loss_db + 10 * math.log10(2)
    ref_b = b.satellite_pass().loss_curve(b.channel(), out.times).loss_db - 10 * math.log10(0.4)
    assert np.max(np.abs(out.loss_a_db - ref_a)) < 1e-9 and np.max(np.abs(out.loss_b_db - ref_b)) < 1e-9
    assert out.times[0] == -out.times[-1] and out.time_step == 5.0
    states = [double_downlink_state(src, 10 ** (-x / 10), 10 ** (-y / 10), 400.0, 700.0)
              for x, y in zip(out.loss_a_db, out.loss_b_db, strict=True)]
    w = np.array([s.coincidence_rate for s in states])
    pooled = np.sum(np.array([s.coefficients for s in states]) * (w / w.sum())[:, None], axis=0)
    assert np.max(np.abs(pooled - np.array(out.coefficients))) < 1e-12
    assert out.pooled_chsh == pytest.approx(chsh_xz(pooled), abs=1e-12)
    assert out.coincidences == pytest.approx(w.sum() * 5.0, rel=1e-12)
    assert out.mean_coincidence_rate == pytest.approx(w.sum() * 5.0 / out.duration, rel=1e-12)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="visibility_x"):
        EntangledPairSource(1e6, 0.9, 1.2, 1e-9)
    with pytest.raises(ValueError, match="pair_rate"):
        EntangledPairSource(0.0, 0.9, 0.9, 1e-9)
    with pytest.raises(ValueError, match="eta_b"):
        double_downlink_state(EntangledPairSource(1e6, 0.9, 0.9, 1e-9), 0.1, 1.5)
    with pytest.raises(ValueError, match=r"link_b\.altitude must equal link_a\.altitude"):
        double_downlink_budget(_spec(), _spec(altitude=600e3), EntangledPairSource(1e6, 0.9, 0.9, 1e-9))
