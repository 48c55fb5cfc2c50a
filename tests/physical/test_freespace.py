"""Tests for qstack.physical.freespace: Gaussian-beam diffraction, pointing, atmosphere."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate

from qstack.physical.freespace import (
    ATMOSPHERE_SCALE_HEIGHT,
    FreeSpaceChannel,
    airmass,
    atmospheric_transmittance,
    collection_efficiency,
    far_field_collection_efficiency,
    gaussian_beam_radius,
    pointing_efficiency,
)
from qstack.physical.units import EARTH_RADIUS

WAVELENGTH = 850e-9
W0 = 0.15
Z_R = math.pi * W0**2 / WAVELENGTH


def channel(**kwargs: float) -> FreeSpaceChannel:
    params = {"wavelength": WAVELENGTH, "transmitter_aperture": 0.3, "receiver_aperture": 1.0}
    params.update(kwargs)
    return FreeSpaceChannel(**params)


# --- Gaussian beam -----------------------------------------------------------------------


def test_beam_radius_is_waist_at_zero_and_root_two_waist_at_rayleigh_range() -> None:
    """w(0) = w0 and w(z_R) = sqrt(2) w0 by definition of the Rayleigh range."""
    assert gaussian_beam_radius(0.0, W0, WAVELENGTH) == pytest.approx(W0, rel=1e-12)
    assert gaussian_beam_radius(Z_R, W0, WAVELENGTH) == pytest.approx(math.sqrt(2) * W0, rel=1e-12)


def test_far_field_beam_grows_linearly_with_divergence_m2_lambda_over_pi_w0() -> None:
    """For L >> z_R, w(L) -> theta L with theta = M^2 lambda / (pi w0)."""
    m2 = 2.5
    length = 1e4 * Z_R
    theta = m2 * WAVELENGTH / (math.pi * W0)
    assert gaussian_beam_radius(length, W0, WAVELENGTH, m2) == pytest.approx(theta * length, rel=1e-8)


def test_collection_efficiency_matches_closed_form() -> None:
    """eta = 1 - exp(-2 a^2 / w^2) for a centred disc of radius a."""
    for w, a in [(1.0, 1.0), (3.0, 0.5), (0.2, 0.05), (10.0, 10.0)]:
        assert collection_efficiency(w, a) == pytest.approx(1 - math.exp(-2 * a**2 / w**2), rel=1e-12)


def test_near_field_large_receiver_collects_almost_everything() -> None:
    """Near field (L << z_R) with a receiver three waists wide: eta = 1 - e^-18 ~ 1."""
    eta = collection_efficiency(gaussian_beam_radius(1e-6 * Z_R, W0, WAVELENGTH), 3 * W0)
    assert eta == pytest.approx(1 - math.exp(-18), rel=1e-9)
    ch = channel(receiver_aperture=6 * W0)
    assert ch.diffraction_efficiency(0.0) == pytest.approx(1 - math.exp(-18), rel=1e-12)


@pytest.mark.parametrize("m2", [1.0, 2.8])
def test_far_field_limit_matches_two_times_friis_formula(m2: float) -> None:
    """In the far field (L >> z_R, D_R << w) the exact Gaussian collection tends to
    2 (pi D_T D_R / (4 M^2 lambda L))^2: twice the uniform-aperture Friis value."""
    d_t, d_r = 0.3, 0.01
    length = 1e4 * Z_R
    exact = collection_efficiency(gaussian_beam_radius(length, d_t / 2, WAVELENGTH, m2), d_r / 2)
    far = far_field_collection_efficiency(length, d_t, d_r, WAVELENGTH, m2)
    friis = (math.pi * d_t * d_r / (4 * m2 * WAVELENGTH * length)) ** 2
    assert far == pytest.approx(2 * friis, rel=1e-12)
    assert exact == pytest.approx(far, rel=1e-6)


def test_far_field_formula_over_estimates_outside_its_regime() -> None:
    """At L = z_R the far-field expression exceeds the exact Gaussian result."""
    exact = collection_efficiency(gaussian_beam_radius(Z_R, W0, WAVELENGTH), 0.5)
    assert far_field_collection_efficiency(Z_R, 0.3, 1.0, WAVELENGTH) > exact


# --- pointing ----------------------------------------------------------------------------


@pytest.mark.parametrize(("w", "sigma"), [(1.0, 0.1), (2.0, 1.0), (5.0, 3.0), (0.5, 2.0)])
def test_pointing_efficiency_is_mean_of_gaussian_loss_over_rayleigh_offsets(w: float, sigma: float) -> None:
    """E[exp(-2 r^2 / w^2)] over a Rayleigh(sigma) offset r equals w^2 / (w^2 + 4 sigma^2)."""

    def integrand(r: float) -> float:
        return r / sigma**2 * math.exp(-(r**2) / (2 * sigma**2)) * math.exp(-2 * r**2 / w**2)

    numeric, _ = integrate.quad(integrand, 0.0, math.inf, epsabs=1e-13, epsrel=1e-12)
    assert pointing_efficiency(w, sigma) == pytest.approx(numeric, rel=1e-9)


def test_far_field_pointing_efficiency_is_independent_of_distance() -> None:
    """With w ~ theta L and sigma = sigma_theta L, eta_point -> theta^2 / (theta^2 + 4 sigma_theta^2)."""
    ch = channel(pointing_jitter=1e-6, beam_quality=3.0)
    theta = ch.divergence
    expected = theta**2 / (theta**2 + 4 * (1e-6) ** 2)
    for length in (1e4 * ch.rayleigh_range, 1e5 * ch.rayleigh_range):
        assert ch.pointing_efficiency(length) == pytest.approx(expected, rel=1e-7)


def test_no_jitter_means_no_pointing_loss() -> None:
    assert channel().pointing_efficiency(1e6) == 1.0


# --- atmosphere --------------------------------------------------------------------------


def test_airmass_is_one_at_zenith_and_transmittance_is_t0() -> None:
    assert airmass(math.pi / 2) == pytest.approx(1.0, abs=1e-12)
    assert atmospheric_transmittance(math.pi / 2, 0.8) == pytest.approx(0.8, rel=1e-12)


def test_airmass_at_horizon_is_finite_sqrt_2y_plus_1() -> None:
    """A spherical homogeneous atmosphere gives X(0) = sqrt(2 R/H + 1), not infinity."""
    y = EARTH_RADIUS / ATMOSPHERE_SCALE_HEIGHT
    assert airmass(0.0) == pytest.approx(math.sqrt(2 * y + 1), rel=1e-12)


@pytest.mark.parametrize("degrees", [30.0, 45.0, 60.0, 80.0])
def test_airmass_approaches_plane_parallel_secant_high_in_the_sky(degrees: float) -> None:
    """Above 30 degrees the spherical model agrees with 1/sin(el) to better than 0.3 %."""
    el = math.radians(degrees)
    assert airmass(el) == pytest.approx(1 / math.sin(el), rel=3e-3)
    assert airmass(el) < 1 / math.sin(el)  # curvature shortens the path


def test_airmass_equals_exact_shell_geometry() -> None:
    """X is the chord through a shell of height H divided by H (law of cosines)."""
    h = ATMOSPHERE_SCALE_HEIGHT
    for el in np.radians([0.0, 5.0, 20.0, 70.0]):
        # Solve |R u + s v| = R + H for the path length s along direction v at elevation el.
        s = -EARTH_RADIUS * math.sin(el) + math.sqrt((EARTH_RADIUS * math.sin(el)) ** 2 + 2 * EARTH_RADIUS * h + h**2)
        assert airmass(el) == pytest.approx(s / h, rel=1e-9)


@given(st.floats(min_value=0.0, max_value=math.pi / 2), st.floats(min_value=0.0, max_value=math.pi / 2))
def test_airmass_decreases_with_elevation(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert airmass(high) <= airmass(low)


# --- the combined channel ----------------------------------------------------------------


def test_channel_transmissivity_is_product_of_its_factors() -> None:
    ch = channel(zenith_transmittance=0.8, pointing_jitter=0.5e-6, extra_loss_db=7.0, beam_quality=2.0)
    distance, el = 8e5, math.radians(35)
    expected = (
        ch.diffraction_efficiency(distance)
        * ch.pointing_efficiency(distance)
        * ch.atmospheric_transmittance(el)
        * 10 ** (-0.7)
    )
    assert ch.transmissivity(distance, el) == pytest.approx(expected, rel=1e-12)
    assert ch.loss_db(distance, el) == pytest.approx(-10 * math.log10(expected), rel=1e-12)


def test_loss_budget_terms_add_up_to_total() -> None:
    ch = channel(zenith_transmittance=0.7, pointing_jitter=1e-6, extra_loss_db=3.0)
    budget = ch.loss_budget(1.2e6, math.radians(20))
    parts = budget["diffraction"] + budget["pointing"] + budget["atmosphere"] + budget["extra"]
    assert budget["total"] == pytest.approx(parts, rel=1e-12)
    assert budget["extra"] == 3.0


def test_derived_beam_quantities() -> None:
    ch = channel(beam_quality=2.0)
    assert ch.beam_waist == 0.15
    assert ch.rayleigh_range == pytest.approx(Z_R / 2, rel=1e-12)
    assert ch.divergence == pytest.approx(2 * WAVELENGTH / (math.pi * 0.15), rel=1e-12)
    assert ch.beam_radius(ch.rayleigh_range) == pytest.approx(math.sqrt(2) * 0.15, rel=1e-12)


def test_arrays_give_the_same_values_as_scalars() -> None:
    ch = channel(zenith_transmittance=0.8, pointing_jitter=1e-6)
    distances = np.array([5e5, 8e5, 1.2e6])
    elevations = np.radians([90.0, 40.0, 20.0])
    vector = ch.transmissivity(distances, elevations)
    assert isinstance(vector, np.ndarray) and vector.shape == (3,)
    for i in range(3):
        assert vector[i] == pytest.approx(ch.transmissivity(float(distances[i]), float(elevations[i])), rel=1e-14)
    assert isinstance(ch.transmissivity(5e5, 1.0), float)


def test_channel_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        channel().wavelength = 1.0  # type: ignore[misc]


distances = st.floats(min_value=0.0, max_value=4e7)
elevations = st.floats(min_value=0.0, max_value=math.pi / 2)
channels = st.builds(
    FreeSpaceChannel,
    wavelength=st.floats(min_value=300e-9, max_value=2e-6),
    transmitter_aperture=st.floats(min_value=0.01, max_value=2.0),
    receiver_aperture=st.floats(min_value=0.01, max_value=5.0),
    zenith_transmittance=st.floats(min_value=0.01, max_value=1.0),
    pointing_jitter=st.floats(min_value=0.0, max_value=1e-4),
    extra_loss_db=st.floats(min_value=0.0, max_value=40.0),
    beam_quality=st.floats(min_value=1.0, max_value=10.0),
)


@given(channels, distances, elevations)
def test_transmissivity_stays_in_unit_interval(ch: FreeSpaceChannel, distance: float, el: float) -> None:
    """Property: a passive channel transmits a probability in [0, 1]."""
    assert 0.0 <= ch.transmissivity(distance, el) <= 1.0


@given(channels, distances, distances, elevations)
def test_transmissivity_is_non_increasing_in_distance(ch: FreeSpaceChannel, a: float, b: float, el: float) -> None:
    """Property: farther is never better (beam spreads, jitter grows with L)."""
    near, far = sorted((a, b))
    assert ch.transmissivity(far, el) <= ch.transmissivity(near, el) * (1 + 1e-12)


@given(channels, distances, elevations, elevations)
def test_transmissivity_is_non_decreasing_in_elevation(ch: FreeSpaceChannel, d: float, a: float, b: float) -> None:
    """Property: higher in the sky means less atmosphere."""
    low, high = sorted((a, b))
    assert ch.transmissivity(d, high) >= ch.transmissivity(d, low) * (1 - 1e-12)


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"wavelength": 0.0}, "wavelength"),
        ({"wavelength": -850e-9}, "wavelength"),
        ({"transmitter_aperture": 0.0}, "transmitter_aperture"),
        ({"receiver_aperture": -1.0}, "receiver_aperture"),
        ({"zenith_transmittance": 0.0}, "zenith_transmittance"),
        ({"zenith_transmittance": 1.1}, "zenith_transmittance"),
        ({"pointing_jitter": -1e-6}, "pointing_jitter"),
        ({"extra_loss_db": -1.0}, "extra_loss_db"),
        ({"beam_quality": 0.9}, "beam_quality"),
        ({"wavelength": math.nan}, "wavelength"),
    ],
)
def test_bad_channel_parameters_raise_value_error_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        channel(**kwargs)


@pytest.mark.parametrize(
    ("distance", "elevation", "field"),
    [
        (-1.0, 1.0, "distance"),
        (1e6, -0.1, "elevation"),
        (1e6, 2.0, "elevation"),
        (np.array([1e6, -5.0]), 1.0, "distance"),
        (1e6, np.array([0.5, math.nan]), "elevation"),
    ],
)
def test_bad_geometry_raises_value_error_naming_the_argument(distance: object, elevation: object, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        channel().transmissivity(distance, elevation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: gaussian_beam_radius(1.0, 0.0, WAVELENGTH), "waist"),
        (lambda: gaussian_beam_radius(1.0, W0, 0.0), "wavelength"),
        (lambda: gaussian_beam_radius(1.0, W0, WAVELENGTH, 0.5), "beam_quality"),
        (lambda: gaussian_beam_radius(-1.0, W0, WAVELENGTH), "distance"),
        (lambda: collection_efficiency(0.0, 1.0), "beam_radius"),
        (lambda: collection_efficiency(1.0, -1.0), "aperture_radius"),
        (lambda: far_field_collection_efficiency(0.0, 0.3, 1.0, WAVELENGTH), "distance"),
        (lambda: far_field_collection_efficiency(1e6, 0.0, 1.0, WAVELENGTH), "transmitter_aperture"),
        (lambda: far_field_collection_efficiency(1e6, 0.3, -1.0, WAVELENGTH), "receiver_aperture"),
        (lambda: pointing_efficiency(1.0, -0.1), "jitter_radius"),
        (lambda: pointing_efficiency(0.0, 0.1), "beam_radius"),
        (lambda: airmass(1.0, scale_height=0.0), "scale_height"),
        (lambda: airmass(-0.1), "elevation"),
        (lambda: atmospheric_transmittance(1.0, 0.0), "zenith_transmittance"),
        (lambda: channel().loss_budget(-1.0, 1.0), "distance"),
    ],
)
def test_bad_function_arguments_raise_value_error_naming_the_argument(call, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        call()


def test_non_numeric_distance_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="distance"):
        channel().transmissivity("far", 1.0)  # type: ignore[arg-type]


# ------------------------------------------------------------------ fading, Kasten-Young, sky background

from qstack.physical import freespace as _fs  # noqa: E402


def test_fading_mean_equals_the_closed_form_transmissivity_within_4_se():
    """Pointing (Rayleigh offset, mean w^2 / (w^2 + 4 sigma^2)) and log-normal scintillation
    (mean 1): the sample mean of sample_transmissivity is transmissivity() within 4 SE."""
    link = _fs.FreeSpaceChannel(850e-9, 0.3, 1.0, zenith_transmittance=0.8, pointing_jitter=2e-6,
                                beam_quality=2.8, scintillation_index=0.3)
    draws = link.sample_transmissivity(1.0e6, math.radians(40), np.random.default_rng(11), 200_000)
    se = draws.std(ddof=1) / math.sqrt(draws.size)
    assert abs(draws.mean() - link.transmissivity(1.0e6, math.radians(40))) < 4 * se


def test_scintillation_alone_has_the_stated_scintillation_index_within_4_se():
    """Without jitter, eta / eta_mean = I is log-normal with Var(I) = sigma_I^2 (a lossy link, so
    the clip of eta at 1 is never reached)."""
    link = _fs.FreeSpaceChannel(850e-9, 0.3, 1.0, scintillation_index=0.25, extra_loss_db=20.0)
    draws = link.sample_transmissivity(5e5, 1.0, np.random.default_rng(5), 400_000)
    i = draws / link.transmissivity(5e5, 1.0)
    v = (i - 1.0) ** 2
    assert abs(v.mean() - 0.25) < 4 * v.std(ddof=1) / math.sqrt(v.size)


def test_kasten_young_airmass_matches_its_formula_and_the_spherical_model_high_up():
    """X_KY(el) = 1 / (sin el + 0.50572 (el_deg + 6.07995)^-1.6364) (Kasten & Young 1989); above
    30 degrees it agrees with the homogeneous spherical atmosphere to < 0.5 %."""
    el = math.radians(30.0)
    assert _fs.kasten_young_airmass(el) == pytest.approx(1 / (0.5 + 0.50572 * 36.07995**-1.6364), rel=1e-12)
    assert _fs.kasten_young_airmass(el) == pytest.approx(_fs.airmass(el), rel=5e-3)
    link = _fs.FreeSpaceChannel(850e-9, 0.3, 1.0, zenith_transmittance=0.7, airmass_model="kasten_young")
    assert link.atmospheric_transmittance(el) == pytest.approx(0.7 ** _fs.kasten_young_airmass(el), rel=1e-12)


def test_sky_background_photons_is_radiance_etendue_band_window_over_photon_energy():
    n = _fs.sky_background_photons(2e6, 200e-6, 0.8, 0.5e-9, 3e-9, 810e-9)
    expected = 2e6 * math.pi * 100e-6**2 * math.pi * 0.4**2 * 0.5e-9 * 3e-9 * 810e-9 / (6.62607015e-34 * 299792458.0)
    assert n == pytest.approx(expected, rel=1e-12)


def test_unknown_airmass_model_is_refused():
    with pytest.raises(ValueError, match="airmass_model"):
        _fs.FreeSpaceChannel(850e-9, 0.3, 1.0, airmass_model="flat")
