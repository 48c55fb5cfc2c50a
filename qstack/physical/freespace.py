"""Free-space optical channel loss for ground-satellite links.

The transmissivity of a downlink is the product of four factors, each a function here:

1. **Diffraction** of a Gaussian beam (Siegman, *Lasers* (1986), ch. 17). The transmitter
   of aperture diameter D_T launches a beam with waist w0 = D_T / 2 (the 1/e^2 intensity
   radius fills the aperture; the 13.5 % of a Gaussian that lies outside that radius is
   *not* removed -- put a truncation loss into ``extra_loss_db`` if it matters). A real beam
   of quality factor M^2 >= 1 spreads like an "embedded" Gaussian:

       w(L) = w0 * sqrt(1 + (L / z_R)^2),   z_R = pi * w0^2 / (M^2 * lambda),

   with far-field divergence half-angle theta = M^2 * lambda / (pi * w0). A receiver of
   aperture radius a = D_R / 2 centred on the beam collects the fraction

       eta_diff = 1 - exp(-2 a^2 / w(L)^2).

   In the far field (L >> z_R and a << w(L)) this becomes eta_diff ~ 2 a^2 / w^2 =
   2 * (pi * D_T * D_R / (4 * M^2 * lambda * L))^2: twice the Friis-type value
   (pi D_T D_R / (4 lambda L))^2 of a *uniformly* illuminated transmitter aperture (an
   untruncated Gaussian with w0 = D_T/2 has twice the on-axis far-field intensity of a
   uniform disc of diameter D_T with the same power). See
   :func:`far_field_collection_efficiency`.

2. **Pointing jitter**: the beam centre wanders from the receiver with a Gaussian angular
   error of standard deviation sigma_theta on each of two axes, i.e. a radial offset r that
   is Rayleigh distributed with sigma = sigma_theta * L. For a receiver small against the
   beam (a << w) the collected power falls as exp(-2 r^2 / w^2), whose mean is

       eta_point = E[exp(-2 r^2 / w^2)] = w^2 / (w^2 + 4 sigma^2)

   (each axis contributes E[exp(-2 x^2 / w^2)] = (1 + 4 sigma^2 / w^2)^(-1/2)). In the far
   field w ~ theta L, so eta_point = theta^2 / (theta^2 + 4 sigma_theta^2), independent of L.
   This is the *mean* efficiency; fading statistics are not modelled.

3. **Atmospheric extinction**: T(el) = T0 ** X(el), T0 the zenith transmittance at the
   ground station and X the relative air mass. Instead of the plane-parallel X = 1/sin(el),
   which diverges at the horizon, we use the standard air-mass model of a homogeneous
   spherical atmosphere of height H (the path through a shell of thickness H, divided by
   H), with y = R_E / H:

       X(el) = sqrt(y^2 sin^2(el) + 2 y + 1) - y sin(el),

   which is exactly 1 at the zenith, tends to 1/sin(el) at high elevation (relative
   difference ~ 1/(2 y sin^2 el) < 0.3 % above 30 degrees for H = 8.435 km) and stays finite
   (~ 38.9) at the horizon. The empirical Kasten–Young formula (F. Kasten & A. T. Young,
   Appl. Opt. 28, 4735 (1989)), X = 1 / (sin el + 0.50572 (el_deg + 6.07995)^-1.6364), is
   available as :func:`kasten_young_airmass` (``airmass_model = "kasten_young"``).

   **Fading** (:meth:`FreeSpaceChannel.sample_transmissivity`): the instantaneous
   transmissivity is the static part (diffraction on axis, atmosphere, fixed loss) times the
   pointing factor exp(-2 r^2 / w^2) of a Rayleigh-distributed offset r (item 2) times a
   log-normal scintillation factor I = exp(N(-s^2/2, s^2)), s^2 = ln(1 + sigma_I^2), of unit
   mean and scintillation index Var(I) = sigma_I^2 -- the weak-turbulence log-normal
   intensity model (L. C. Andrews & R. L. Phillips, *Laser Beam Propagation through Random
   Media*, 2nd ed., SPIE (2005), ch. 8; used for satellite downlinks by e.g. Vasylyev,
   Semenov & Vogel, PRL 108, 220501 (2012) and Bonato et al., NJP 11, 045017 (2009)). Both
   factors have closed-form means (w^2 / (w^2 + 4 sigma^2) and 1), so the mean of the samples
   is exactly :meth:`FreeSpaceChannel.transmissivity`.

   **Sky background** (:func:`sky_background_photons`): a receiver of aperture diameter D,
   full field of view theta_fov, filter bandwidth dlambda and detection window dt collects
   N_b = H_b * Omega * A * dlambda * dt / (h c / lambda) photons per window from a sky of
   spectral radiance H_b, Omega = pi (theta_fov / 2)^2, A = pi D^2 / 4 (E. Miao et al., NJP 7,
   215 (2005); Bonato et al. 2009, Sec. 3).

4. **Fixed extra loss** in dB: transmitter and receiver optics, filters, coupling.
   Detector efficiency belongs to :class:`qstack.physical.detectors.Detector`, not here.

5. **Turbulence along the slant path** (optional, :class:`HufnagelValley` profile; L. C.
   Andrews & R. L. Phillips, *Laser Beam Propagation through Random Media*, 2nd ed., SPIE
   (2005), ch. 12; used for satellite QKD links by J.-P. Bourgoin et al., NJP 15, 023006
   (2013)). Heights h are measured **above the ground station** (the profile's ground term is
   the site's own boundary layer). The Hufnagel–Valley refractive-index structure constant

       C_n^2(h) = 0.00594 (v/27)^2 (1e-5 h)^10 exp(-h/1000) + 2.7e-16 exp(-h/1500) + A exp(-h/100)

   (m^-2/3; v the rms wind speed in m/s, A the ground-level C_n^2) is HV 5/7 for A = 1.7e-14,
   v = 21 (r0 ~ 5 cm at 500 nm, isoplanatic angle ~ 7 urad). Each term is c h^n exp(-h/s),
   so its moments are closed forms, mu_m = int_0^inf C_n^2 h^m dh = sum c Gamma(n+m+1) s^(n+m+1)
   (the satellite lies far above the last C_n^2 worth counting: the upper limit is taken at
   infinity). With k = 2 pi / lambda and zeta the zenith angle (sec zeta = 1 / sin el, the
   plane-parallel slant, accurate inside the turbulent layer):

   * Fried parameter r0 = [0.423 k^2 sec(zeta) mu_0]^(-3/5) (:func:`fried_parameter`);
   * Rytov variance of a downlink (a plane wave at the ground: the turbulence is near the
     receiver, the beam has spread over the whole path before it), weak fluctuations:
     sigma_R^2 = 2.2517 k^(7/6) sec(zeta)^(11/6) mu_(5/6) (A&P write 2.25;
     :func:`downlink_rytov_variance`), the scintillation index of a point receiver;
   * aperture averaging over a receiver of diameter D, with the Gaussian aperture filter
     exp(-kappa^2 D^2 / 16) of A&P, integrated in closed form over the Kolmogorov spectrum
     0.033 C_n^2 kappa^(-11/3):

         sigma_I^2(D) = 8.7008 k^(7/6) sec(zeta) int C_n^2(h) Re[(k D^2/16 + i h sec zeta)^(5/6)
                        - (k D^2/16)^(5/6)] dh,

     8.7008 = 8 pi^2 0.033 (-Gamma(-5/6) / 2) (A&P eq. for the downlink: 8.70); it tends to
     sigma_R^2 as D -> 0 and to 15.35 D^(-7/3) sec^3(zeta) mu_2 for large D (the
     geometric-optics limit; the exact circular aperture gives 17.34, Roddier 1981, so the
     Gaussian filter is ~11 % low there) (:func:`downlink_scintillation_index`). Weak
     fluctuation theory holds for sigma_R^2 < 1 (for HV 5/7 at 850 nm: elevations above
     ~ 20 deg); below that it over-estimates the (saturating) scintillation. The mean
     transmissivity is unchanged: the log-normal fading of item 3 has unit mean.
   * The **seeing-limited spot** at the focal plane: the long-exposure PSF of a telescope
     with D >> r0 has FWHM 0.98 lambda / r0 (Kolmogorov; e.g. F. Roddier, Prog. Opt. 19, 281
     (1981)); with the telescope's own Airy FWHM 1.029 lambda / D added in quadrature (both
     approximated as Gaussians) the spot is a circular Gaussian of sigma = FWHM / (2 sqrt(2 ln 2)).
     A field stop (detector, pinhole or fibre core) of full angle theta_FOV centred on it
     passes

         eta_FOV = 1 - exp(-(theta_FOV / 2)^2 / (2 sigma^2)) = 1 - 2^(-(theta_FOV / FWHM)^2)

     (:func:`field_stop_efficiency`: 1/2 when the stop's diameter equals the FWHM). The exact
     Kolmogorov long-exposure PSF has wider wings: :func:`kolmogorov_encircled_energy` gives
     its fraction inside the stop from the long-exposure OTF (the telescope's times the
     atmosphere's exp(-3.44 (lambda f / r0)^(5/3)); its FWHM is 0.9755 lambda / r0 for D >> r0):
     0.42 (Gaussian 0.50) for theta_FOV = FWHM, 0.83 (Gaussian 0.94) for 2 FWHM, 0.94
     (Gaussian 0.998) for 3 FWHM. :class:`FreeSpaceChannel` uses either (``psf_model``).
   * Turbulence-induced spreading of the *downlink beam* is not added: the turbulence lies
     within ~ 20 km of the receiver, so it widens a beam of radius w ~ 3 m by ~ (lambda / r0)
     x (a few km) ~ 5 cm (< 0.01 dB); beam wander is likewise negligible (A&P ch. 12).

:class:`FreeSpaceChannel` combines them: ``transmissivity(distance, elevation)`` and
``loss_db(distance, elevation)``. All lengths in metres, angles in radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.physical.fibre import db_to_transmissivity, transmissivity_to_db
from qstack.physical.units import EARTH_RADIUS, SPEED_OF_LIGHT, check_range, check_range_array

__all__ = [
    "ATMOSPHERE_SCALE_HEIGHT",
    "FreeSpaceChannel",
    "AIRMASS_MODELS",
    "HufnagelValley",
    "PSF_MODELS",
    "SEEING_WAVELENGTH",
    "PLANCK_CONSTANT",
    "airmass",
    "atmospheric_transmittance",
    "collection_efficiency",
    "downlink_rytov_variance",
    "downlink_scintillation_index",
    "far_field_collection_efficiency",
    "field_stop_efficiency",
    "fried_parameter",
    "gaussian_beam_radius",
    "kasten_young_airmass",
    "kolmogorov_encircled_energy",
    "pointing_efficiency",
    "seeing_fwhm",
    "sky_background_photons",
    "spot_fwhm",
]

ATMOSPHERE_SCALE_HEIGHT: Final[float] = 8_435.0
"""Height (m) of the homogeneous atmosphere used by :func:`airmass` (R_E / H ~ 755)."""

PSF_MODELS: Final[tuple[str, ...]] = ("gaussian", "kolmogorov")
"""Focal-plane spot models of :class:`FreeSpaceChannel`'s field stop: :func:`field_stop_efficiency`
of :func:`spot_fwhm`, or :func:`kolmogorov_encircled_energy`."""

AIRMASS_MODELS: Final[tuple[str, ...]] = ("spherical", "kasten_young")
"""Air-mass models of :class:`FreeSpaceChannel`: :func:`airmass` and :func:`kasten_young_airmass`."""

PLANCK_CONSTANT: Final[float] = 6.62607015e-34
"""Planck constant h (J s, exact in the 2019 SI)."""

FloatOrArray = float | NDArray[np.float64]


def _out(array: NDArray[np.float64], scalar: bool) -> FloatOrArray:
    return float(array) if scalar else array


def gaussian_beam_radius(
    distance: ArrayLike, waist: float, wavelength: float, beam_quality: float = 1.0
) -> FloatOrArray:
    """Return the 1/e^2 intensity radius w(L) = w0 sqrt(1 + (L/z_R)^2) of a Gaussian beam.

    z_R = pi w0^2 / (M^2 lambda) with M^2 = ``beam_quality``. All lengths in metres.

    >>> gaussian_beam_radius(0.0, waist=0.15, wavelength=850e-9)
    0.15
    >>> z_r = math.pi * 0.15**2 / 850e-9
    >>> round(gaussian_beam_radius(z_r, waist=0.15, wavelength=850e-9) / 0.15, 12)  # sqrt(2)
    1.414213562373
    """
    w0 = check_range("waist", waist, low=0.0, low_inclusive=False, unit="m")
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    m2 = check_range("beam_quality", beam_quality, low=1.0)
    length, scalar = check_range_array("distance", distance, low=0.0, unit="m")
    rayleigh = math.pi * w0**2 / (m2 * lam)
    return _out(w0 * np.sqrt(1.0 + (length / rayleigh) ** 2), scalar)


def collection_efficiency(beam_radius: ArrayLike, aperture_radius: float) -> FloatOrArray:
    """Return the fraction 1 - exp(-2 a^2 / w^2) of a Gaussian beam caught by a centred disc.

    ``beam_radius`` w is the 1/e^2 intensity radius at the receiver, ``aperture_radius`` a
    the receiver's radius (half its diameter), both in metres.

    >>> round(collection_efficiency(1.0, 1.0), 12)  # 1 - e^-2
    0.864664716763
    """
    a = check_range("aperture_radius", aperture_radius, low=0.0, unit="m")
    w, scalar = check_range_array("beam_radius", beam_radius, low=0.0, low_inclusive=False, unit="m")
    return _out(-np.expm1(-2.0 * a**2 / w**2), scalar)


def far_field_collection_efficiency(
    distance: ArrayLike,
    transmitter_aperture: float,
    receiver_aperture: float,
    wavelength: float,
    beam_quality: float = 1.0,
) -> FloatOrArray:
    """Return the far-field diffraction efficiency 2 (pi D_T D_R / (4 M^2 lambda L))^2.

    This is the limit of :func:`collection_efficiency` at :func:`gaussian_beam_radius` with
    waist D_T / 2 when L >> z_R and D_R << w(L); it is twice the Friis-type value
    (pi D_T D_R / (4 lambda L))^2 for a uniformly illuminated transmitter (see the module
    docstring). Outside that regime it over-estimates (it can exceed 1); use it only for
    comparison. Apertures are diameters in metres.

    >>> eta = far_field_collection_efficiency(1.0e6, 0.3, 1.0, 850e-9)
    >>> round(eta, 6)
    0.153679
    """
    d_t = check_range("transmitter_aperture", transmitter_aperture, low=0.0, low_inclusive=False, unit="m")
    d_r = check_range("receiver_aperture", receiver_aperture, low=0.0, unit="m")
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    m2 = check_range("beam_quality", beam_quality, low=1.0)
    length, scalar = check_range_array("distance", distance, low=0.0, low_inclusive=False, unit="m")
    return _out(2.0 * (math.pi * d_t * d_r / (4.0 * m2 * lam * length)) ** 2, scalar)


def pointing_efficiency(beam_radius: ArrayLike, jitter_radius: ArrayLike) -> FloatOrArray:
    """Return the mean collection efficiency w^2 / (w^2 + 4 sigma^2) under pointing jitter.

    ``jitter_radius`` sigma (m) is the per-axis standard deviation of the beam centre's
    offset at the receiver (sigma_theta * L for an angular jitter sigma_theta); ``beam_radius``
    w (m) the 1/e^2 radius there. Small-receiver approximation; see the module docstring.

    >>> pointing_efficiency(2.0, 0.0)
    1.0
    >>> pointing_efficiency(2.0, 1.0)
    0.5
    """
    w, w_scalar = check_range_array("beam_radius", beam_radius, low=0.0, low_inclusive=False, unit="m")
    sigma, s_scalar = check_range_array("jitter_radius", jitter_radius, low=0.0, unit="m")
    return _out(w**2 / (w**2 + 4.0 * sigma**2), w_scalar and s_scalar)


def airmass(elevation: ArrayLike, scale_height: float = ATMOSPHERE_SCALE_HEIGHT) -> FloatOrArray:
    """Return the relative air mass of a homogeneous spherical atmosphere at ``elevation``.

    X = sqrt(y^2 sin^2 el + 2y + 1) - y sin el with y = R_E / H (H = ``scale_height`` in m,
    ``elevation`` in radians, 0 to pi/2): 1 at the zenith, ~1/sin(el) high in the sky,
    finite at the horizon.

    >>> airmass(math.pi / 2)
    1.0
    >>> round(airmass(0.0), 2)
    38.88
    """
    h = check_range("scale_height", scale_height, low=0.0, low_inclusive=False, unit="m")
    el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
    y = EARTH_RADIUS / h
    s = np.sin(el)
    # sqrt(y^2 s^2 + 2y + 1) - y s, written without cancellation:
    x = (2.0 * y + 1.0) / (np.sqrt((y * s) ** 2 + 2.0 * y + 1.0) + y * s)
    return _out(x, scalar)


def atmospheric_transmittance(
    elevation: ArrayLike, zenith_transmittance: float, scale_height: float = ATMOSPHERE_SCALE_HEIGHT
) -> FloatOrArray:
    """Return T0 ** X(el), the atmospheric transmittance along a slant path.

    ``zenith_transmittance`` T0 in (0, 1] is the transmittance straight up from the ground
    station at the link wavelength; X is :func:`airmass`.

    >>> atmospheric_transmittance(math.pi / 2, 0.8)
    0.8
    >>> round(atmospheric_transmittance(math.radians(30), 0.8), 3)  # ~0.8**2
    0.641
    """
    t0 = check_range("zenith_transmittance", zenith_transmittance, low=0.0, high=1.0, low_inclusive=False)
    x = airmass(elevation, scale_height)
    return _out(np.power(t0, np.asarray(x)), isinstance(x, float))


def kasten_young_airmass(elevation: ArrayLike) -> FloatOrArray:
    """Return the Kasten–Young relative air mass 1 / (sin el + 0.50572 (el_deg + 6.07995)^-1.6364).

    F. Kasten & A. T. Young, "Revised optical air mass tables and approximation formula",
    Appl. Opt. 28, 4735 (1989). ``elevation`` in radians (0 to pi/2). Within 0.03 % of 1 at
    the zenith, ~38 at the horizon.

    >>> round(kasten_young_airmass(math.pi / 2), 5)
    0.99971
    >>> round(kasten_young_airmass(0.0), 2)
    37.92
    """
    el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
    x = 1.0 / (np.sin(el) + 0.50572 * (np.degrees(el) + 6.07995) ** -1.6364)
    return _out(x, scalar)


def sky_background_photons(
    radiance: float,
    field_of_view: float,
    aperture: float,
    filter_bandwidth: float,
    window: float,
    wavelength: float,
) -> float:
    """Return N_b = H_b Omega A dlambda dt lambda / (h c), sky photons per detection window.

    ``radiance`` H_b: spectral radiance of the sky in W m^-2 sr^-1 per metre of wavelength
    (>= 0; 1 W m^-2 sr^-1 um^-1 = 1e6 of these); ``field_of_view`` full angle (rad, > 0),
    Omega = pi (fov / 2)^2; ``aperture`` receiver diameter (m, > 0), A = pi D^2 / 4;
    ``filter_bandwidth`` dlambda (m, > 0); ``window`` dt (s, > 0); ``wavelength`` (m, > 0).
    The photons arrive at the telescope; receiver optics and detector efficiency are not
    applied here. Miao et al., NJP 7, 215 (2005); Bonato et al., NJP 11, 045017 (2009).

    >>> n = sky_background_photons(1e6, 100e-6, 1.0, 1e-9, 1e-9, 850e-9)
    >>> round(n, 6)  # 1 W m^-2 sr^-1 um^-1, 100 urad, 1 m, 1 nm, 1 ns
    0.026395
    """
    h_b = check_range("radiance", radiance, low=0.0, unit="W m^-3 sr^-1")
    fov = check_range("field_of_view", field_of_view, low=0.0, high=math.pi, low_inclusive=False, unit="rad")
    d = check_range("aperture", aperture, low=0.0, low_inclusive=False, unit="m")
    band = check_range("filter_bandwidth", filter_bandwidth, low=0.0, low_inclusive=False, unit="m")
    dt = check_range("window", window, low=0.0, low_inclusive=False, unit="s")
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    solid_angle = math.pi * (fov / 2.0) ** 2
    area = math.pi * d**2 / 4.0
    return h_b * solid_angle * area * band * dt * lam / (PLANCK_CONSTANT * SPEED_OF_LIGHT)


# ============================================================================ turbulence

SEEING_WAVELENGTH: Final[float] = 500e-9
"""Wavelength (m) at which astronomical seeing is quoted (zenith, 500 nm)."""

_KOLMOGOROV: Final[float] = 0.033
"""Kolmogorov spectrum Phi_n(kappa) = 0.033 C_n^2 kappa^(-11/3) (A&P ch. 3)."""

_APERTURE_COEFF: Final[float] = 8.0 * math.pi**2 * _KOLMOGOROV * (-math.gamma(-5.0 / 6.0) / 2.0)
"""8 pi^2 0.033 (-Gamma(-5/6) / 2) = 8.7008: the aperture-averaged plane-wave coefficient."""

_RYTOV_COEFF: Final[float] = _APERTURE_COEFF * math.cos(5.0 * math.pi / 12.0)
"""_APERTURE_COEFF cos(5 pi / 12) = 2.2520: the plane-wave Rytov coefficient (A&P: 2.25)."""

FRIED_COEFF: Final[float] = 0.423
"""r0 = (0.423 k^2 sec(zeta) int C_n^2 dh)^(-3/5) (Fried 1966; A&P ch. 12)."""

SEEING_FWHM_COEFF: Final[float] = 0.98
"""Long-exposure Kolmogorov PSF FWHM = 0.98 lambda / r0 (Roddier 1981)."""

AIRY_FWHM_COEFF: Final[float] = 1.028_993_8
"""FWHM of the Airy pattern of a circular aperture, in lambda / D."""

_HV57: Final[tuple[float, float]] = (1.7e-14, 21.0)


@dataclass(frozen=True, slots=True)
class HufnagelValley:
    """The Hufnagel–Valley C_n^2(h) profile (module docstring, item 5); h above the station.

    ``ground_cn2`` A (m^-2/3, >= 0, default 1.7e-14) and ``wind_speed`` v (rms, m/s, >= 0,
    default 21): the defaults are HV 5/7. :meth:`from_zenith_seeing` sets A from a site's
    published seeing.

    >>> hv = HufnagelValley.hv57()
    >>> round(fried_parameter(500e-9, math.pi / 2, hv) * 100, 2)  # cm at zenith, 500 nm
    4.96
    """

    ground_cn2: float = _HV57[0]
    wind_speed: float = _HV57[1]

    def __post_init__(self) -> None:
        object.__setattr__(self, "ground_cn2", check_range("ground_cn2", self.ground_cn2, low=0.0,
                                                           high=1e-10, unit="m^-2/3"))
        object.__setattr__(self, "wind_speed", check_range("wind_speed", self.wind_speed, low=0.0, high=200.0,
                                                           unit="m/s"))

    @classmethod
    def hv57(cls) -> HufnagelValley:
        """HV 5/7: A = 1.7e-14 m^-2/3, v = 21 m/s.

        >>> HufnagelValley.hv57().wind_speed
        21.0
        """
        return cls(*_HV57)

    @classmethod
    def from_zenith_seeing(cls, seeing: float, wind_speed: float = _HV57[1]) -> HufnagelValley:
        """The profile whose zenith seeing (FWHM 0.98 lambda / r0 at 500 nm, rad) is ``seeing``.

        Solves mu_0 = (0.423 k^2)^-1 r0^(-5/3) for A: mu_0 = 100 A + (the free-atmosphere terms,
        fixed by ``wind_speed``). Seeing better than the free atmosphere alone gives is refused.

        >>> hv = HufnagelValley.from_zenith_seeing(math.radians(1.7 / 3600))  # 1.7 arcsec
        >>> round(SEEING_FWHM_COEFF * SEEING_WAVELENGTH / fried_parameter(SEEING_WAVELENGTH, math.pi / 2, hv)
        ...       / math.radians(1 / 3600), 9)
        1.7
        """
        eps = check_range("zenith_seeing", seeing, low=0.0, high=1e-3, low_inclusive=False, unit="rad")
        free = cls(0.0, wind_speed)
        r0 = SEEING_FWHM_COEFF * SEEING_WAVELENGTH / eps
        k = 2.0 * math.pi / SEEING_WAVELENGTH
        mu0 = r0 ** (-5.0 / 3.0) / (FRIED_COEFF * k**2)
        rest = free.moment(0.0)
        if mu0 <= rest:
            best = SEEING_FWHM_COEFF * SEEING_WAVELENGTH * (FRIED_COEFF * k**2 * rest) ** 0.6
            raise ValueError(f"zenith_seeing must be > {best:.6g} rad ({math.degrees(best) * 3600:.3g} arcsec, the "
                             f"Hufnagel-Valley free atmosphere alone at wind_speed = {free.wind_speed:g} m/s), "
                             f"got {eps!r}")
        return cls((mu0 - rest) / 100.0, wind_speed)

    @property
    def terms(self) -> tuple[tuple[float, int, float], ...]:
        """The profile as terms (c, n, s) of c h^n exp(-h / s) (h in m).

        >>> len(HufnagelValley().terms)
        3
        """
        return ((0.00594 * (self.wind_speed / 27.0) ** 2 * 1e-50, 10, 1000.0), (2.7e-16, 0, 1500.0),
                (self.ground_cn2, 0, 100.0))

    def cn2(self, height: ArrayLike) -> FloatOrArray:
        """C_n^2 (m^-2/3) at ``height`` (m above the station, >= 0).

        >>> HufnagelValley(1e-14, 21.0).cn2(0.0) == 1e-14 + 2.7e-16
        True
        """
        h, scalar = check_range_array("height", height, low=0.0, unit="m")
        total = np.zeros_like(h)
        for c, n, s in self.terms:
            total = total + c * h**n * np.exp(-h / s)
        return _out(total, scalar)

    def moment(self, order: float) -> float:
        """mu_m = int_0^inf C_n^2(h) h^m dh = sum c Gamma(n + m + 1) s^(n + m + 1) (m > -1).

        >>> round(HufnagelValley.hv57().moment(0.0) * 1e12, 4)  # m^(1/3)
        2.2354
        """
        m = check_range("order", order, low=-1.0, low_inclusive=False)
        return math.fsum(c * math.gamma(n + m + 1.0) * s ** (n + m + 1.0) for c, n, s in self.terms)


def _sec_zenith(elevation: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, low_inclusive=False, unit="rad")
    return 1.0 / np.sin(el), scalar


def _check_profile(profile: object) -> HufnagelValley:
    if not isinstance(profile, HufnagelValley):
        raise TypeError(f"profile must be a HufnagelValley, got {profile!r}")
    return profile


def fried_parameter(wavelength: float, elevation: ArrayLike, profile: HufnagelValley) -> FloatOrArray:
    """Return r0 = [0.423 k^2 sec(zeta) mu_0]^(-3/5) (m) looking up at ``elevation`` (rad, > 0).

    >>> hv = HufnagelValley.hv57()
    >>> r0_zenith = fried_parameter(850e-9, math.pi / 2, hv)
    >>> round(fried_parameter(850e-9, math.radians(30), hv) / r0_zenith, 12)  # (sec zeta)^(-3/5) = 2^-0.6
    0.659753955386
    """
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    sec, scalar = _sec_zenith(elevation)
    k = 2.0 * math.pi / lam
    mu0 = _check_profile(profile).moment(0.0)
    if mu0 == 0.0:
        return _out(np.full(sec.shape, math.inf), scalar)
    return _out((FRIED_COEFF * k**2 * sec * mu0) ** -0.6, scalar)


def downlink_rytov_variance(wavelength: float, elevation: ArrayLike, profile: HufnagelValley) -> FloatOrArray:
    """Return sigma_R^2 = 2.2520 k^(7/6) sec(zeta)^(11/6) mu_(5/6): a downlink's point scintillation.

    Weak fluctuations (valid for sigma_R^2 < 1); the downlink wave is a plane wave at the ground.

    >>> round(downlink_rytov_variance(850e-9, math.pi / 2, HufnagelValley.hv57()), 4)
    0.1267
    """
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    sec, scalar = _sec_zenith(elevation)
    k = 2.0 * math.pi / lam
    return _out(_RYTOV_COEFF * k ** (7.0 / 6.0) * sec ** (11.0 / 6.0) * _check_profile(profile).moment(5.0 / 6.0),
                scalar)


def _aperture_kernel(b: float, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Re[(b + i y)^(5/6)] - b^(5/6) without cancellation (b > 0, y >= 0)."""
    t2 = (y / b) ** 2
    phi = np.arctan2(y, b)
    return b ** (5.0 / 6.0) * (np.expm1(5.0 / 12.0 * np.log1p(t2)) * np.cos(5.0 * phi / 6.0)
                               - 2.0 * np.sin(5.0 * phi / 12.0) ** 2)


def downlink_scintillation_index(
    wavelength: float, elevation: ArrayLike, profile: HufnagelValley, aperture: float
) -> FloatOrArray:
    """Return the aperture-averaged scintillation index sigma_I^2(D) of a downlink (weak fluctuations).

    sigma_I^2(D) = 8.7008 k^(7/6) sec(zeta) int C_n^2(h) Re[(k D^2/16 + i h sec zeta)^(5/6)
    - (k D^2/16)^(5/6)] dh (module docstring, item 5), integrated numerically term by term
    (relative accuracy ~1e-12); ``aperture`` D (receiver diameter, m, >= 0): D = 0 is
    :func:`downlink_rytov_variance`.

    >>> hv = HufnagelValley.hv57()
    >>> point = downlink_rytov_variance(850e-9, math.pi / 2, hv)
    >>> bool(downlink_scintillation_index(850e-9, math.pi / 2, hv, 1.0) < 0.1 * point)  # 1 m telescope
    True
    """
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    d = check_range("aperture", aperture, low=0.0, unit="m")
    sec, scalar = _sec_zenith(elevation)
    profile = _check_profile(profile)
    if d == 0.0:
        return downlink_rytov_variance(lam, elevation, profile)
    from scipy import integrate

    k = 2.0 * math.pi / lam
    b = k * d**2 / 16.0
    out = np.empty(sec.shape)
    for index, sz in np.ndenumerate(sec):
        total = []
        for c, n, s in profile.terms:
            if c == 0.0:
                continue

            def integrand(x: float, n: int = n, s: float = s, sz: float = float(sz)) -> float:
                return float(x**n * math.exp(-x) * _aperture_kernel(b, np.asarray(s * x * sz)))

            peak = float(n)
            pieces = [0.0, max(peak, 1.0) / 4, max(peak, 1.0), 2 * max(peak, 1.0) + 10, 4 * max(peak, 1.0) + 40, 300.0]
            value = math.fsum(integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=1e-13, limit=200)[0]
                              for lo, hi in zip(pieces[:-1], pieces[1:], strict=True))
            total.append(c * s ** (n + 1) * value)
        out[index] = _APERTURE_COEFF * k ** (7.0 / 6.0) * sz * math.fsum(total)
    return _out(out, scalar)


def seeing_fwhm(wavelength: float, fried: ArrayLike) -> FloatOrArray:
    """Return the long-exposure seeing FWHM 0.98 lambda / r0 (rad) for Fried parameter ``fried`` (m).

    >>> round(seeing_fwhm(500e-9, 0.1) * 1e6, 6)  # urad
    4.9
    """
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    r0, scalar = check_range_array("fried", fried, low=0.0, low_inclusive=False, unit="m")
    return _out(SEEING_FWHM_COEFF * lam / r0, scalar)


def spot_fwhm(wavelength: float, fried: ArrayLike, aperture: float) -> FloatOrArray:
    """Return the focal-plane spot FWHM sqrt((0.98 lambda / r0)^2 + (1.029 lambda / D)^2) (rad).

    Seeing and the telescope's Airy core, both as Gaussians (widths add in quadrature);
    ``aperture`` D the telescope diameter (m, > 0), ``fried`` r0 (m, > 0; ``inf`` for no turbulence).

    >>> round(spot_fwhm(500e-9, math.inf, 1.0) * 1e6, 6)  # diffraction only, urad
    0.514497
    """
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    d = check_range("aperture", aperture, low=0.0, low_inclusive=False, unit="m")
    r0 = np.asarray(fried, dtype=np.float64)
    if not np.all(r0 > 0.0):  # also refuses nan; inf (no turbulence) is allowed
        raise ValueError(f"fried must be > 0 m (inf: no turbulence), got {fried!r}")
    return _out(np.hypot(SEEING_FWHM_COEFF * lam / r0, AIRY_FWHM_COEFF * lam / d), r0.ndim == 0)


def field_stop_efficiency(field_of_view: float, fwhm: ArrayLike) -> FloatOrArray:
    """Return 1 - 2^(-(theta_FOV / FWHM)^2): a circular Gaussian spot's fraction inside a field stop.

    ``field_of_view`` theta_FOV is the stop's full angle (rad, > 0), ``fwhm`` the spot's (rad,
    > 0); the stop is centred on the spot. Equals 1 - exp(-(theta_FOV/2)^2 / (2 sigma^2)).

    >>> field_stop_efficiency(10e-6, 10e-6)
    0.5
    """
    fov = check_range("field_of_view", field_of_view, low=0.0, high=math.pi, low_inclusive=False, unit="rad")
    f, scalar = check_range_array("fwhm", fwhm, low=0.0, low_inclusive=False, unit="rad")
    return _out(-np.expm1(-math.log(2.0) * (fov / f) ** 2), scalar)


def kolmogorov_encircled_energy(
    field_of_view: float, wavelength: float, fried: float, aperture: float | None = None
) -> float:
    """Return the fraction of the long-exposure Kolmogorov PSF inside a centred field stop.

    EE(rho) = 2 pi rho int_0^fc T(f) J1(2 pi rho f) df at the stop radius rho =
    ``field_of_view`` / 2 (f in cycles per radian), with the long-exposure OTF T(f) = T_D(f)
    exp(-3.44 (lambda f / r0)^(5/3)): T_D the OTF of an unobstructed circular aperture of
    diameter ``aperture`` D, (2/pi)(arccos nu - nu sqrt(1 - nu^2)) with nu = lambda f / D,
    cut off at fc = D / lambda (``aperture`` None: D >> r0, T_D = 1). ``fried`` r0 in m
    (> 0). The exact counterpart of :func:`field_stop_efficiency` (module docstring, item 5).

    >>> fwhm = seeing_fwhm(850e-9, 0.1)
    >>> round(kolmogorov_encircled_energy(fwhm, 850e-9, 0.1), 3)
    0.424
    """
    from scipy import integrate, special

    fov = check_range("field_of_view", field_of_view, low=0.0, high=math.pi, low_inclusive=False, unit="rad")
    lam = check_range("wavelength", wavelength, low=0.0, low_inclusive=False, unit="m")
    r0 = check_range("fried", fried, low=0.0, low_inclusive=False, unit="m")
    ratio = 0.0 if aperture is None else r0 / check_range("aperture", aperture, low=0.0, low_inclusive=False,
                                                          unit="m")
    x = fov / 2.0 * r0 / lam  # stop radius in units of lambda / r0; u = lambda f / r0, nu = u r0 / D

    def integrand(u: float) -> float:
        otf = math.exp(-3.44 * u ** (5.0 / 3.0))
        if ratio:
            nu = min(1.0, u * ratio)
            otf *= 2.0 / math.pi * (math.acos(nu) - nu * math.sqrt(1.0 - nu * nu))
        return otf * float(special.j1(2.0 * math.pi * x * u))

    top = 4.0 if not ratio else min(4.0, 1.0 / ratio)
    pieces = max(40, math.ceil(8 * x * top))  # several pieces per period of J1
    edges = np.linspace(0.0, top, pieces + 1)
    value = math.fsum(integrate.quad(integrand, lo, hi, epsabs=1e-15 / max(x, 1e-3), epsrel=1e-12, limit=200)[0]
                      for lo, hi in zip(edges[:-1], edges[1:], strict=True))
    return min(1.0, 2.0 * math.pi * x * value)


@dataclass(frozen=True, slots=True)
class FreeSpaceChannel:
    """A ground-satellite optical channel: diffraction, pointing, atmosphere and fixed loss.

    Parameters (SI): ``wavelength`` (m, > 0); ``transmitter_aperture`` and
    ``receiver_aperture`` (diameters, m, > 0); ``zenith_transmittance`` T0 (in (0, 1],
    default 1: no atmosphere); ``pointing_jitter`` sigma_theta (rad per axis, >= 0);
    ``extra_loss_db`` (dB, >= 0: optics, filters -- not detectors); ``beam_quality`` M^2
    (>= 1, default 1: diffraction-limited); ``scintillation_index`` sigma_I^2 (>= 0, default
    0) of the log-normal fading; ``airmass_model`` one of :data:`AIRMASS_MODELS` (default
    ``"spherical"``). The beam waist is D_T / 2. Formulas in the module docstring.

    Turbulence (optional, module docstring item 5; default off): ``turbulence`` a
    :class:`HufnagelValley` profile above the receiver. It sets the fading's scintillation
    index to the aperture-averaged :func:`downlink_scintillation_index` at each elevation (so
    ``scintillation_index`` must then stay 0), and with ``field_of_view`` (the receiver's field
    stop, full angle in rad, > 0; requires ``turbulence``) the transmissivity gains the factor
    :meth:`field_stop_efficiency` of the seeing-limited spot, by ``psf_model`` (one of
    :data:`PSF_MODELS`: ``"gaussian"``, :func:`field_stop_efficiency` of :func:`spot_fwhm`,
    default; or ``"kolmogorov"``, :func:`kolmogorov_encircled_energy`).

    >>> link = FreeSpaceChannel(850e-9, transmitter_aperture=0.3, receiver_aperture=1.0)
    >>> round(link.loss_db(1.0e6, math.pi / 2), 2)  # 1000 km overhead, vacuum, perfect pointing
    8.49
    """

    wavelength: float
    transmitter_aperture: float
    receiver_aperture: float
    zenith_transmittance: float = 1.0
    pointing_jitter: float = 0.0
    extra_loss_db: float = 0.0
    beam_quality: float = 1.0
    scintillation_index: float = 0.0
    airmass_model: str = "spherical"
    turbulence: HufnagelValley | None = None
    field_of_view: float | None = None
    psf_model: str = "gaussian"

    def __post_init__(self) -> None:
        if self.airmass_model not in AIRMASS_MODELS:
            raise ValueError(f"airmass_model must be one of {AIRMASS_MODELS}, got {self.airmass_model!r}")
        if self.psf_model not in PSF_MODELS:
            raise ValueError(f"psf_model must be one of {PSF_MODELS}, got {self.psf_model!r}")
        if self.turbulence is not None and not isinstance(self.turbulence, HufnagelValley):
            raise TypeError(f"turbulence must be a HufnagelValley profile or None, got {self.turbulence!r}")
        if self.turbulence is not None and self.scintillation_index:
            raise ValueError("scintillation_index must be 0 when turbulence is set (the profile gives the "
                             f"scintillation index at each elevation), got {self.scintillation_index!r}")
        if self.field_of_view is not None:
            if self.turbulence is None:
                raise ValueError("field_of_view: requires turbulence (the field-stop loss is that of the "
                                 "seeing-limited spot)")
            object.__setattr__(self, "field_of_view", check_range(
                "field_of_view", self.field_of_view, low=0.0, high=math.pi, low_inclusive=False, unit="rad"))
        checks: dict[str, float] = {
            name: check_range(name, getattr(self, name), low=0.0, low_inclusive=False, unit="m")
            for name in ("wavelength", "transmitter_aperture", "receiver_aperture")
        }
        checks |= {
            "zenith_transmittance": check_range(
                "zenith_transmittance", self.zenith_transmittance, low=0.0, high=1.0, low_inclusive=False
            ),
            "pointing_jitter": check_range("pointing_jitter", self.pointing_jitter, low=0.0, unit="rad"),
            "extra_loss_db": check_range("extra_loss_db", self.extra_loss_db, low=0.0, unit="dB"),
            "beam_quality": check_range("beam_quality", self.beam_quality, low=1.0),
            "scintillation_index": check_range("scintillation_index", self.scintillation_index, low=0.0),
        }
        for name, value in checks.items():
            object.__setattr__(self, name, value)

    @property
    def beam_waist(self) -> float:
        """Beam waist w0 = D_T / 2 (m) at the transmitter.

        >>> FreeSpaceChannel(850e-9, 0.3, 1.0).beam_waist
        0.15
        """
        return self.transmitter_aperture / 2.0

    @property
    def rayleigh_range(self) -> float:
        """Rayleigh range z_R = pi w0^2 / (M^2 lambda) (m).

        >>> round(FreeSpaceChannel(850e-9, 0.3, 1.0).rayleigh_range / 1e3, 1)  # km
        83.2
        """
        return math.pi * self.beam_waist**2 / (self.beam_quality * self.wavelength)

    @property
    def divergence(self) -> float:
        """Far-field divergence half-angle M^2 lambda / (pi w0) of the 1/e^2 radius (rad).

        >>> round(FreeSpaceChannel(850e-9, 0.3, 1.0).divergence * 1e6, 3)  # microradians
        1.804
        """
        return self.beam_quality * self.wavelength / (math.pi * self.beam_waist)

    def beam_radius(self, distance: ArrayLike) -> FloatOrArray:
        """Beam 1/e^2 radius w(L) (m) at ``distance`` L (m).

        >>> FreeSpaceChannel(850e-9, 0.3, 1.0).beam_radius(0.0)
        0.15
        """
        return gaussian_beam_radius(distance, self.beam_waist, self.wavelength, self.beam_quality)

    def diffraction_efficiency(self, distance: ArrayLike) -> FloatOrArray:
        """Fraction 1 - exp(-2 a^2 / w(L)^2) of the beam the receiver aperture collects.

        >>> FreeSpaceChannel(850e-9, 0.3, 1.0).diffraction_efficiency(0.0) > 0.999
        True
        """
        return collection_efficiency(self.beam_radius(distance), self.receiver_aperture / 2.0)

    def pointing_efficiency(self, distance: ArrayLike) -> FloatOrArray:
        """Mean pointing efficiency w^2 / (w^2 + 4 (sigma_theta L)^2) at ``distance`` (m).

        >>> FreeSpaceChannel(850e-9, 0.3, 1.0).pointing_efficiency(5.0e5)
        1.0
        """
        length, scalar = check_range_array("distance", distance, low=0.0, unit="m")
        w = np.asarray(self.beam_radius(length))
        return _out(np.asarray(pointing_efficiency(w, self.pointing_jitter * length)), scalar)

    def atmospheric_transmittance(self, elevation: ArrayLike) -> FloatOrArray:
        """Atmospheric transmittance T0 ** X(el) at ``elevation`` (rad).

        >>> FreeSpaceChannel(850e-9, 0.3, 1.0, zenith_transmittance=0.9).atmospheric_transmittance(math.pi / 2)
        0.9
        """
        if self.airmass_model == "kasten_young":
            x = kasten_young_airmass(elevation)
            return _out(np.power(self.zenith_transmittance, np.asarray(x)), isinstance(x, float))
        return atmospheric_transmittance(elevation, self.zenith_transmittance)

    def _profile(self) -> HufnagelValley:
        if self.turbulence is None:
            raise ValueError("turbulence: not set on this channel (a HufnagelValley profile is needed)")
        return self.turbulence

    def fried_parameter(self, elevation: ArrayLike) -> FloatOrArray:
        """Fried parameter r0 (m) at the link wavelength looking up at ``elevation`` (rad, > 0).

        >>> link = FreeSpaceChannel(850e-9, 0.3, 1.0, turbulence=HufnagelValley.hv57())
        >>> round(link.fried_parameter(math.pi / 2) * 100, 2)  # cm
        9.38
        """
        return fried_parameter(self.wavelength, elevation, self._profile())

    def scintillation_at(self, elevation: ArrayLike) -> FloatOrArray:
        """Scintillation index of the fading at ``elevation`` (rad): ``scintillation_index``, or
        with ``turbulence`` the aperture-averaged :func:`downlink_scintillation_index`.

        >>> FreeSpaceChannel(850e-9, 0.3, 1.0, scintillation_index=0.2).scintillation_at(1.0)
        0.2
        """
        if self.turbulence is None:
            el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
            return _out(np.full(el.shape, self.scintillation_index), scalar)
        return downlink_scintillation_index(self.wavelength, elevation, self.turbulence, self.receiver_aperture)

    def spot_fwhm(self, elevation: ArrayLike) -> FloatOrArray:
        """FWHM (rad) of the focal-plane spot at ``elevation``: :func:`spot_fwhm` of r0 and D_R.

        >>> link = FreeSpaceChannel(850e-9, 0.3, 1.0, turbulence=HufnagelValley.hv57())
        >>> round(link.spot_fwhm(math.pi / 2) * 1e6, 2)  # urad
        8.93
        """
        return spot_fwhm(self.wavelength, self.fried_parameter(elevation), self.receiver_aperture)

    def field_stop_efficiency(self, elevation: ArrayLike) -> FloatOrArray:
        """Fraction of the seeing-limited spot inside the ``field_of_view`` at ``elevation`` (1 without one).

        >>> link = FreeSpaceChannel(850e-9, 0.3, 1.0, turbulence=HufnagelValley.hv57(), field_of_view=100e-6)
        >>> round(link.field_stop_efficiency(math.pi / 2), 6)
        1.0
        """
        el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
        if self.field_of_view is None:
            return _out(np.ones(el.shape), scalar)
        if self.psf_model == "kolmogorov":
            r0 = np.asarray(self.fried_parameter(el))
            eta = np.array([kolmogorov_encircled_energy(self.field_of_view, self.wavelength, float(r),
                                                        self.receiver_aperture) for r in r0.ravel()])
            return _out(eta.reshape(r0.shape), scalar)
        return _out(np.asarray(field_stop_efficiency(self.field_of_view, self.spot_fwhm(el))), scalar)

    def transmissivity(self, distance: ArrayLike, elevation: ArrayLike) -> FloatOrArray:
        """Probability that a photon sent reaches the receiver's detectors' input.

        Product of :meth:`diffraction_efficiency`, :meth:`pointing_efficiency`,
        :meth:`atmospheric_transmittance` and 10^(-extra_loss_db / 10). ``distance`` (slant
        range, m) and ``elevation`` (rad) may be arrays of one shape (or broadcastable).

        >>> link = FreeSpaceChannel(850e-9, 0.3, 1.0, extra_loss_db=10.0)
        >>> round(link.transmissivity(0.0, math.pi / 2), 6)
        0.1
        """
        length, d_scalar = check_range_array("distance", distance, low=0.0, unit="m")
        el, e_scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
        eta = (
            np.asarray(self.diffraction_efficiency(length))
            * np.asarray(self.pointing_efficiency(length))
            * np.asarray(self.atmospheric_transmittance(el))
            * db_to_transmissivity(self.extra_loss_db)
        )
        if self.field_of_view is not None:
            eta = eta * np.asarray(self.field_stop_efficiency(el))
        return _out(np.clip(eta, 0.0, 1.0), d_scalar and e_scalar)

    def sample_transmissivity(
        self, distance: float, elevation: float, rng: np.random.Generator, size: int
    ) -> NDArray[np.float64]:
        """Draw ``size`` instantaneous transmissivities under pointing and scintillation fading.

        eta = eta_static * exp(-2 r^2 / w^2) * I: ``eta_static`` the diffraction, atmosphere
        and fixed-loss factors of :meth:`transmissivity`; r the beam-centre offset, Rayleigh
        with sigma = ``pointing_jitter`` * L (two Gaussian axes); I log-normal of mean 1 and
        variance ``scintillation_index`` (module docstring). Each draw is clipped at 1, so the
        samples' mean is :meth:`transmissivity` whenever the clip is not reached. Draws use
        ``rng`` only, in a fixed order (two normals per sample, then one more per sample).

        >>> link = FreeSpaceChannel(850e-9, 0.3, 1.0)
        >>> draws = link.sample_transmissivity(1e6, 1.0, np.random.default_rng(1), 3)
        >>> bool(np.allclose(draws, link.transmissivity(1e6, 1.0)))  # no jitter, no turbulence
        True
        """
        length = check_range("distance", distance, low=0.0, unit="m")
        el = check_range("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"size must be an integer >= 1, got {size!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        static = (
            float(self.diffraction_efficiency(length))
            * float(self.atmospheric_transmittance(el))
            * db_to_transmissivity(self.extra_loss_db)
        )
        if self.field_of_view is not None:
            static *= float(self.field_stop_efficiency(el))
        w = float(self.beam_radius(length))
        offsets = rng.standard_normal((int(size), 2)) * (self.pointing_jitter * length)
        pointing = np.exp(-2.0 * np.sum(offsets**2, axis=1) / w**2)
        s2 = math.log1p(self.scintillation_index if self.turbulence is None else float(self.scintillation_at(el)))
        scint = np.exp(rng.standard_normal(int(size)) * math.sqrt(s2) - s2 / 2.0)
        return np.clip(static * pointing * scint, 0.0, 1.0)

    def loss_db(self, distance: ArrayLike, elevation: ArrayLike) -> FloatOrArray:
        """Channel loss -10 log10(transmissivity) in dB.

        >>> link = FreeSpaceChannel(850e-9, 0.3, 1.0, extra_loss_db=3.0)
        >>> round(link.loss_db(0.0, math.pi / 2), 6)
        3.0
        """
        return transmissivity_to_db(self.transmissivity(distance, elevation))

    def loss_budget(self, distance: float, elevation: float) -> dict[str, float]:
        """Return each loss term in dB: diffraction, pointing, atmosphere, extra and total.

        >>> budget = FreeSpaceChannel(850e-9, 0.3, 1.0, extra_loss_db=3.0).loss_budget(1.0e6, math.pi / 2)
        >>> sorted(budget)
        ['atmosphere', 'diffraction', 'extra', 'pointing', 'total']
        >>> round(budget["total"] - sum(v for k, v in budget.items() if k != "total"), 9)
        0.0
        """
        distance = check_range("distance", distance, low=0.0, unit="m")
        elevation = check_range("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
        terms = {
            "diffraction": transmissivity_to_db(float(self.diffraction_efficiency(distance))),
            "pointing": transmissivity_to_db(float(self.pointing_efficiency(distance))),
            "atmosphere": transmissivity_to_db(float(self.atmospheric_transmittance(elevation))),
            "extra": self.extra_loss_db,
        }
        if self.field_of_view is not None:  # only then: the budget of a channel without one is unchanged
            terms["field_stop"] = transmissivity_to_db(float(self.field_stop_efficiency(elevation)))
        terms["total"] = float(self.loss_db(distance, elevation))
        return terms
