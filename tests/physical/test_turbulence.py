"""Tests for the slant-path turbulence of qstack.physical.freespace (module docstring, item 5).

Hufnagel–Valley C_n^2(h), its closed-form moments, the Fried parameter, the downlink Rytov
variance and its aperture-averaged scintillation index, the seeing-limited spot and its
fraction inside a field stop; each against a closed form or an independent numerical
integral, and the FreeSpaceChannel / DownlinkSpec wiring (default off: bit-identical).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import integrate, optimize, special

from qstack.physical.freespace import (
    FreeSpaceChannel,
    HufnagelValley,
    downlink_rytov_variance,
    downlink_scintillation_index,
    field_stop_efficiency,
    fried_parameter,
    kolmogorov_encircled_energy,
    seeing_fwhm,
    spot_fwhm,
)
from qstack.physical.satellite import XINGLONG, DownlinkSpec, downlink_key_budget

LAM = 850e-9
K = 2.0 * math.pi / LAM
HV57 = HufnagelValley.hv57()
ARCSEC = math.radians(1.0 / 3600.0)


def _hv_integral(profile: HufnagelValley, weight) -> float:
    """int_0^300 km C_n^2(h) weight(h) dh by adaptive quadrature on the C_n^2 formula itself."""
    def f(h: float) -> float:
        a, v = profile.ground_cn2, profile.wind_speed
        cn2 = 0.00594 * (v / 27.0) ** 2 * (1e-5 * h) ** 10 * math.exp(-h / 1000.0) + 2.7e-16 * math.exp(-h / 1500.0) \
            + a * math.exp(-h / 100.0)
        return cn2 * weight(h)
    edges = [0, 50, 200, 1000, 3000, 6000, 10000, 15000, 25000, 40000, 80000, 300000]
    return math.fsum(integrate.quad(f, lo, hi, epsabs=1e-40, epsrel=1e-13, limit=400)[0]
                     for lo, hi in zip(edges[:-1], edges[1:], strict=True))


# --- profile ---------------------------------------------------------------------------------


def test_hv57_ground_value_and_tropopause_term_follow_the_published_formula():
    """C_n^2(0) = A + 2.7e-16; at 10 km the wind term 0.00594 (21/27)^2 (0.1)^10 e^-10 dominates."""
    assert HV57.cn2(0.0) == pytest.approx(1.7e-14 + 2.7e-16, rel=1e-15)
    wind = 0.00594 * (21 / 27) ** 2 * 0.1**10 * math.exp(-10)
    assert HV57.cn2(1e4) == pytest.approx(wind + 2.7e-16 * math.exp(-10 / 1.5) + 1.7e-14 * math.exp(-100), rel=1e-12)


@pytest.mark.parametrize("order", [0.0, 5.0 / 6.0, 5.0 / 3.0, 2.0])
@pytest.mark.parametrize("profile", [HV57, HufnagelValley(3e-15, 10.0), HufnagelValley(0.0, 40.0)])
def test_closed_form_moments_equal_numerical_integration_to_1e_9(profile, order):
    """mu_m = sum c Gamma(n+m+1) s^(n+m+1) against quadrature of C_n^2(h) h^m over 0-300 km."""
    assert profile.moment(order) == pytest.approx(_hv_integral(profile, lambda h: h**order), rel=1e-9)


def test_hv57_fried_parameter_is_about_5_cm_at_500_nm_zenith():
    """The defining property of HV 5/7 (A&P ch. 12): r0 ~ 5 cm at 0.5 um, zenith."""
    assert fried_parameter(500e-9, math.pi / 2, HV57) == pytest.approx(0.0496, abs=5e-4)


@pytest.mark.parametrize("el_deg", [90.0, 45.0, 20.0])
def test_fried_parameter_is_the_fried_formula_with_the_numerical_integral(el_deg):
    """r0 = [0.423 k^2 sec(zeta) int C_n^2 dh]^(-3/5), lambda^(6/5) and (sec zeta)^(-3/5) scaling."""
    el = math.radians(el_deg)
    expected = (0.423 * K**2 / math.sin(el) * _hv_integral(HV57, lambda h: 1.0)) ** -0.6
    assert fried_parameter(LAM, el, HV57) == pytest.approx(expected, rel=1e-9)
    assert fried_parameter(2 * LAM, el, HV57) / fried_parameter(LAM, el, HV57) == pytest.approx(2**1.2, rel=1e-12)


def test_zenith_seeing_sets_the_ground_cn2_that_reproduces_it():
    hv = HufnagelValley.from_zenith_seeing(1.7 * ARCSEC, wind_speed=21.0)
    r0 = fried_parameter(500e-9, math.pi / 2, hv)
    assert 0.98 * 500e-9 / r0 == pytest.approx(1.7 * ARCSEC, rel=1e-12)
    assert hv.wind_speed == 21.0 and 0 < hv.ground_cn2 < 1.7e-14  # 1.7" is better than HV 5/7's 2.0"


def test_seeing_better_than_the_free_atmosphere_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="zenith_seeing must be > .*arcsec"):
        HufnagelValley.from_zenith_seeing(0.5 * ARCSEC)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"ground_cn2": -1e-15}, "ground_cn2"), ({"ground_cn2": math.nan}, "ground_cn2"),
    ({"wind_speed": -1.0}, "wind_speed"), ({"wind_speed": 1e3}, "wind_speed"),
])
def test_bad_profile_parameters_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        HufnagelValley(**kwargs)


# --- scintillation ---------------------------------------------------------------------------


def test_kappa_integral_of_the_aperture_filtered_kolmogorov_spectrum_has_the_closed_form():
    """int_0^inf kappa^(-8/3) e^(-b kappa^2) (1 - cos(a kappa^2)) dkappa
    = (-Gamma(-5/6)/2) Re[(b - ia)^(5/6) - b^(5/6)]: the step from the spectrum
    0.033 C_n^2 kappa^(-11/3) to the 8.70 / 2.25 coefficients."""
    c = -math.gamma(-5.0 / 6.0) / 2.0
    for a, b in [(1.0, 0.5), (0.3, 2.0), (5.0, 0.05)]:
        def f(u: float, a: float = a, b: float = b) -> float:  # kappa = sqrt(u): 1 - cos = 2 sin^2(a u / 2)
            return 0.5 * u ** (-11.0 / 6.0) * math.exp(-b * u) * 2.0 * math.sin(a * u / 2.0) ** 2

        edges = np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 20), np.linspace(1.0, 60.0 / b, 400)[1:]])
        numeric = math.fsum(integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-13, limit=200)[0]
                            for lo, hi in zip(edges[:-1], edges[1:], strict=True))
        closed = c * (complex(b, -a) ** (5.0 / 6.0)).real - c * b ** (5.0 / 6.0)
        assert numeric == pytest.approx(closed, rel=1e-9)


@pytest.mark.parametrize("el_deg", [90.0, 40.0, 25.0])
def test_rytov_variance_is_the_plane_wave_downlink_formula_with_the_numerical_integral(el_deg):
    """sigma_R^2 = 2.2520 k^(7/6) sec^(11/6) int C_n^2 h^(5/6) dh (A&P: 2.25)."""
    el = math.radians(el_deg)
    coeff = 8 * math.pi**2 * 0.033 * (-math.gamma(-5 / 6) / 2) * math.cos(5 * math.pi / 12)
    assert coeff == pytest.approx(2.25, abs=0.003)
    expected = coeff * K ** (7 / 6) / math.sin(el) ** (11 / 6) * _hv_integral(HV57, lambda h: h ** (5 / 6))
    assert downlink_rytov_variance(LAM, el, HV57) == pytest.approx(expected, rel=1e-9)


def test_aperture_averaged_index_tends_to_the_point_value_for_a_tiny_aperture():
    el = math.radians(35.0)
    point = downlink_rytov_variance(LAM, el, HV57)
    assert downlink_scintillation_index(LAM, el, HV57, 0.0) == point
    assert downlink_scintillation_index(LAM, el, HV57, 1e-9) == pytest.approx(point, rel=1e-9)


@pytest.mark.parametrize("el_deg", [90.0, 30.0])
def test_large_aperture_limit_is_the_geometric_optics_closed_form(el_deg):
    """D >> sqrt(lambda h): sigma_I^2 -> 8.7008 (5/72) 16^(7/6) D^(-7/3) sec^3(zeta) mu_2 (= 15.35 ...)."""
    el, d = math.radians(el_deg), 200.0
    c = 8 * math.pi**2 * 0.033 * (-math.gamma(-5 / 6) / 2) * (5 / 72) * 16 ** (7 / 6)
    assert c == pytest.approx(15.35, abs=0.01)
    expected = c * d ** (-7 / 3) / math.sin(el) ** 3 * HV57.moment(2.0)
    assert downlink_scintillation_index(LAM, el, HV57, d) == pytest.approx(expected, rel=1e-9)


def test_aperture_averaged_index_equals_a_direct_quadrature_over_height():
    """The term-by-term integral against one quadrature of C_n^2(h) Re[(kD^2/16 + i h sec)^(5/6) - ...]."""
    el, d = math.radians(30.0), 0.05  # b ~ 1 km: the direct weight below has no severe cancellation
    b, sec = K * d**2 / 16, 1 / math.sin(el)
    coeff = 8 * math.pi**2 * 0.033 * (-math.gamma(-5 / 6) / 2)
    weight = lambda h: (complex(b, h * sec) ** (5 / 6)).real - b ** (5 / 6)  # noqa: E731
    expected = coeff * K ** (7 / 6) * sec * _hv_integral(HV57, weight)
    assert downlink_scintillation_index(LAM, el, HV57, d) == pytest.approx(expected, rel=1e-9)


def test_aperture_averaging_reduces_scintillation_monotonically():
    values = [downlink_scintillation_index(LAM, 0.6, HV57, d) for d in (0.0, 0.05, 0.3, 1.0, 2.0)]
    assert all(a > b for a, b in zip(values, values[1:], strict=False))


# --- focal-plane spot and field stop -------------------------------------------------------------


@pytest.mark.parametrize("ratio", [0.3, 1.0, 1.7, 3.0])
def test_field_stop_efficiency_is_the_gaussian_spot_integrated_over_the_disc(ratio):
    """eta = 1 - 2^(-(theta/FWHM)^2) against int_0^(theta/2) r exp(-r^2/2 sigma^2) dr / sigma^2."""
    fwhm = 8e-6
    sigma = fwhm / (2 * math.sqrt(2 * math.log(2)))
    numeric = integrate.quad(lambda r: r * math.exp(-r * r / (2 * sigma**2)) / sigma**2, 0, ratio * fwhm / 2,
                             epsabs=0.0, epsrel=1e-13)[0]
    assert field_stop_efficiency(ratio * fwhm, fwhm) == pytest.approx(numeric, rel=1e-9)


def test_spot_fwhm_adds_seeing_and_airy_widths_in_quadrature():
    assert spot_fwhm(LAM, 0.05, 1.0) == pytest.approx(math.hypot(0.98 * LAM / 0.05, 1.0289938 * LAM), rel=1e-7)
    assert spot_fwhm(LAM, math.inf, 1.0) == pytest.approx(1.0289938 * LAM, rel=1e-7)


def test_long_exposure_kolmogorov_psf_has_fwhm_0_98_lambda_over_r0():
    """Half maximum of the PSF from the OTF exp(-3.44 u^(5/3)): 0.9755 lambda / r0, the 0.98 of the seeing."""
    def psf(x: float) -> float:
        return integrate.quad(lambda u: math.exp(-3.44 * u ** (5 / 3)) * special.j0(2 * math.pi * x * u) * u,
                              0, 6, limit=400, epsabs=0.0, epsrel=1e-12)[0]
    half = optimize.brentq(lambda x: psf(x) - psf(0.0) / 2, 0.1, 1.0, xtol=1e-12)
    assert 2 * half == pytest.approx(0.98, abs=0.005)


def test_kolmogorov_encircled_energy_integrates_its_psf_and_tends_to_one():
    """EE(rho) from the J1 formula against 2 pi int_0^rho PSF(r) r dr of the same OTF; EE -> 1 for wide stops."""
    lam, r0, x = LAM, 0.08, 0.7  # stop radius in lambda / r0

    def psf(r: float) -> float:  # normalised so that its integral over the plane is 1 (u = lambda f / r0)
        return 2 * math.pi * integrate.quad(lambda u: math.exp(-3.44 * u ** (5 / 3)) * special.j0(2 * math.pi * r * u)
                                            * u, 0, 6, limit=400, epsabs=0.0, epsrel=1e-12)[0]
    numeric = 2 * math.pi * integrate.quad(lambda r: psf(r) * r, 0, x, epsabs=0.0, epsrel=1e-11)[0]
    assert kolmogorov_encircled_energy(2 * x * lam / r0, lam, r0) == pytest.approx(numeric, rel=1e-8)
    assert kolmogorov_encircled_energy(60 * lam / r0, lam, r0) == pytest.approx(1.0, abs=2e-3)


def test_gaussian_spot_overestimates_what_a_wide_stop_passes_of_the_kolmogorov_spot():
    """Docstring numbers: at theta = FWHM 0.42 vs 0.50; at 2 FWHM 0.83 vs 0.94."""
    f = seeing_fwhm(LAM, 0.1)
    assert kolmogorov_encircled_energy(f, LAM, 0.1) == pytest.approx(0.424, abs=0.005)
    assert kolmogorov_encircled_energy(2 * f, LAM, 0.1) == pytest.approx(0.826, abs=0.005)
    assert field_stop_efficiency(2 * f, f) == 0.9375


# --- channel and downlink wiring -----------------------------------------------------------------


def _channel(**kw) -> FreeSpaceChannel:
    return FreeSpaceChannel(LAM, 0.3, 1.0, zenith_transmittance=0.8, pointing_jitter=0.5e-6, extra_loss_db=10.0,
                            beam_quality=2.8, **kw)


def test_turbulence_without_a_field_stop_leaves_the_mean_transmissivity_unchanged():
    """Scintillation has unit mean: only the fading changes, not transmissivity()."""
    d, el = np.array([7e5, 1.2e6]), np.array([0.8, 0.35])
    assert np.array_equal(_channel(turbulence=HV57).transmissivity(d, el), _channel().transmissivity(d, el))


def test_field_stop_multiplies_the_transmissivity_by_its_efficiency_and_appears_in_the_budget():
    ch = _channel(turbulence=HV57, field_of_view=12e-6)
    d, el = 1.0e6, 0.5
    eta = field_stop_efficiency(12e-6, spot_fwhm(LAM, fried_parameter(LAM, el, HV57), 1.0))
    assert ch.transmissivity(d, el) == pytest.approx(_channel().transmissivity(d, el) * eta, rel=1e-14)
    budget = ch.loss_budget(d, el)
    assert budget["field_stop"] == pytest.approx(-10 * math.log10(eta), rel=1e-12)
    assert "field_stop" not in _channel().loss_budget(d, el)


def test_kolmogorov_psf_model_uses_the_exact_encircled_energy_with_the_telescope_otf():
    ch = _channel(turbulence=HV57, field_of_view=20e-6, psf_model="kolmogorov")
    el = 0.6
    r0 = fried_parameter(LAM, el, HV57)
    assert ch.field_stop_efficiency(el) == kolmogorov_encircled_energy(20e-6, LAM, r0, 1.0)
    assert kolmogorov_encircled_energy(20e-6, LAM, r0, 1.0) < kolmogorov_encircled_energy(20e-6, LAM, r0)


def test_fading_with_turbulence_has_the_profile_scintillation_index_within_4_se():
    """No jitter: eta/eta_mean is the log-normal factor, of mean 1 and variance sigma_I^2(D, el)."""
    ch = FreeSpaceChannel(LAM, 0.3, 0.05, turbulence=HV57)
    el = math.radians(30.0)
    s2 = float(ch.scintillation_at(el))
    draws = ch.sample_transmissivity(8e5, el, np.random.default_rng(7), 200_000) / ch.transmissivity(8e5, el)
    n = draws.size
    assert abs(draws.mean() - 1.0) <= 4 * draws.std() / math.sqrt(n)
    var_se = math.sqrt((np.mean((draws - 1) ** 4) - s2**2) / n)
    assert abs(np.mean((draws - 1) ** 2) - s2) <= 4 * var_se


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"turbulence": HV57, "scintillation_index": 0.1}, "scintillation_index must be 0"),
    ({"field_of_view": 1e-5}, "field_of_view: requires turbulence"),
    ({"turbulence": HV57, "field_of_view": -1e-5}, "field_of_view"),
    ({"turbulence": HV57, "psf_model": "airy"}, "psf_model must be one of"),
    ({"turbulence": "hv57"}, "turbulence must be a HufnagelValley"),
])
def test_bad_turbulence_channel_parameters_name_the_field(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _channel(**kwargs)


SPEC = DownlinkSpec(500e3, math.radians(48.88), 848.62e-9, 0.3, XINGLONG, min_elevation=math.radians(19.75),
                    divergence=10e-6, pointing_jitter=0.5e-6, time_step=10.0, fading_samples=8)
BUDGET = {"mu": 0.8, "nu": 0.1, "p_signal": 0.5, "p_decoy": 0.25, "p_vacuum": 0.25, "repetition_rate": 1e8,
          "detector_efficiency": 0.5, "dark_count_probability": 1e-7, "misalignment": 0.01}


def test_downlink_without_turbulence_fields_builds_the_same_channel_as_before():
    assert SPEC.channel() == dataclasses.replace(SPEC, field_of_view=1e-4).channel()
    assert SPEC.channel().turbulence is None and SPEC.to_dict().get("turbulence") is None


def test_downlink_table_with_turbulence_round_trips_and_sets_the_channel():
    table = SPEC.to_dict() | {"turbulence": "hufnagel_valley", "zenith_seeing": "8.24 urad", "wind_speed": 21,
                              "field_of_view": "15 urad", "psf_model": "kolmogorov"}
    spec = DownlinkSpec.from_mapping(table)
    assert DownlinkSpec.from_mapping(spec.to_dict()) == spec
    ch = spec.channel()
    assert ch.turbulence.ground_cn2 == pytest.approx(HufnagelValley.from_zenith_seeing(8.24e-6, 21.0).ground_cn2,
                                                     rel=1e-12)
    assert ch.field_of_view == pytest.approx(15e-6) and ch.psf_model == "kolmogorov"


def test_downlink_budget_with_turbulence_is_deterministic_and_loses_key_to_the_field_stop():
    spec = dataclasses.replace(SPEC, turbulence="hv57", field_of_view=15e-6)
    a, b = downlink_key_budget(spec, seed=3, **BUDGET), downlink_key_budget(spec, seed=3, **BUDGET)
    assert a.key_rate.tobytes() == b.key_rate.tobytes()
    plain = downlink_key_budget(SPEC, seed=3, **BUDGET)
    assert a.secret_bits < plain.secret_bits
    assert np.all(a.loss_db > plain.loss_db)


@pytest.mark.parametrize(("change", "match"), [
    ({"turbulence": "kolmogorov"}, "turbulence must be one of"),
    ({"ground_cn2": 1e-14}, "ground_cn2: only applies with turbulence"),
    ({"turbulence": "hv57", "wind_speed": 10.0}, "wind_speed: not with turbulence = \"hv57\""),
    ({"turbulence": "hufnagel_valley"}, "ground_cn2: give one of ground_cn2 and zenith_seeing"),
    ({"turbulence": "hufnagel_valley", "ground_cn2": 1e-14, "zenith_seeing": 1e-5}, "not both"),
    ({"turbulence": "hufnagel_valley", "zenith_seeing": 1e-6}, "zenith_seeing must be >"),
    ({"turbulence": "hv57", "scintillation_index": 0.2}, "scintillation_index must be 0"),
    ({"turbulence": "hv57", "psf_model": "x"}, "psf_model must be one of"),
    ({"turbulence": 3}, "turbulence: must be a string"),
])
def test_downlink_turbulence_errors_name_the_field(change, match):
    with pytest.raises(ValueError, match=match):
        DownlinkSpec.from_mapping(SPEC.to_dict() | change, "links[0].satellite.")
