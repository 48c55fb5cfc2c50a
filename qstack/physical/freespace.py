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
    "PLANCK_CONSTANT",
    "airmass",
    "atmospheric_transmittance",
    "collection_efficiency",
    "far_field_collection_efficiency",
    "gaussian_beam_radius",
    "kasten_young_airmass",
    "pointing_efficiency",
    "sky_background_photons",
]

ATMOSPHERE_SCALE_HEIGHT: Final[float] = 8_435.0
"""Height (m) of the homogeneous atmosphere used by :func:`airmass` (R_E / H ~ 755)."""

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

    def __post_init__(self) -> None:
        if self.airmass_model not in AIRMASS_MODELS:
            raise ValueError(f"airmass_model must be one of {AIRMASS_MODELS}, got {self.airmass_model!r}")
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
        w = float(self.beam_radius(length))
        offsets = rng.standard_normal((int(size), 2)) * (self.pointing_jitter * length)
        pointing = np.exp(-2.0 * np.sum(offsets**2, axis=1) / w**2)
        s2 = math.log1p(self.scintillation_index)
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
        terms["total"] = float(self.loss_db(distance, elevation))
        return terms
