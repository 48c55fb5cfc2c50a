"""Low-Earth-orbit pass geometry and the Micius satellite-to-ground downlink.

Geometry (spherical Earth of radius R = 6371 km, circular orbit of radius r = R + h, ground
station at sea level on the sphere). For elevation el the slant range and the Earth
central angle between the ground station and the sub-satellite point are

    d(el)     = sqrt(r^2 - R^2 cos^2 el) - R sin el,
    gamma(el) = arccos((R / r) cos el) - el.

A pass is a great-circle ground track whose closest approach to the station is the
central angle beta0 = gamma(el_max). With the satellite moving at the Keplerian angular
rate omega = sqrt(GM / r^3) and t = 0 at closest approach, the spherical right triangle
gives cos gamma(t) = cos(beta0) cos(omega t), and then

    el(t) = atan2(cos gamma - R / r, sin gamma),   d(t) = sqrt(R^2 + r^2 - 2 R r cos gamma).

A ground station at altitude a above sea level sits on the sphere of radius R_s = R + a:
every formula holds with R replaced by R_s (``station_altitude``), so the zenith range is
h - a and the horizon range sqrt(r^2 - R_s^2).

A pass may be given by its maximum elevation and its duration T above the minimum
elevation instead (:meth:`SatellitePass.from_duration`): cos gamma_min = cos(beta0)
cos(omega T / 2) gives the minimum elevation exactly.

**Earth rotation is ignored**: the ground station moves at most ~465 m/s against an orbital
speed of ~7.6 km/s, which changes a LEO pass's duration and shape by a few percent; the
pass stays exactly symmetric about t = 0 in this model.

The second half of the module holds cited parameters of China's Micius satellite
(QUESS, launched 2016) and two of its ground stations, after

- S.-K. Liao et al., "Satellite-to-ground quantum key distribution", Nature 549, 43 (2017)
  [decoy-state BB84 downlink to Xinglong, 645-1200 km];
- S.-K. Liao et al., "Satellite-relayed intercontinental quantum network",
  Phys. Rev. Lett. 120, 030501 (2018) [Xinglong, Nanshan and Graz].

See :data:`MICIUS`, :data:`XINGLONG`, :data:`GRAZ`, :func:`micius_downlink` and
:data:`MICIUS_XINGLONG_MEASURED_LOSS_DB` for what each number is and where it comes from.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.physical.freespace import PSF_MODELS, FreeSpaceChannel, HufnagelValley, sky_background_photons
from qstack.physical.units import EARTH_RADIUS, GM_EARTH, check_range, check_range_array

__all__ = [
    "GRAZ",
    "TURBULENCE_PROFILES",
    "MICIUS",
    "MICIUS_XINGLONG_MEASURED_LOSS_DB",
    "XINGLONG",
    "DownlinkKeyBudget",
    "DownlinkSpec",
    "GroundStation",
    "PassSamples",
    "SatellitePass",
    "earth_central_angle",
    "downlink_key_budget",
    "elevation_from_slant_range",
    "ground_station_from_mapping",
    "micius_downlink",
    "orbital_angular_velocity",
    "orbital_period",
    "scenario_key_budget",
    "slant_range",
]

FloatOrArray = float | NDArray[np.float64]


def _out(array: NDArray[np.float64], scalar: bool) -> FloatOrArray:
    return float(array) if scalar else array


def _altitude(altitude: float) -> float:
    return check_range("altitude", altitude, low=0.0, low_inclusive=False, unit="m")


def _radii(altitude: float, station_altitude: float) -> tuple[float, float]:
    """(orbit radius r, station radius R_s), checking h > 0 and -500 m <= a < h."""
    h = _altitude(altitude)
    a = check_range("station_altitude", station_altitude, low=-500.0, high=h, high_inclusive=False, unit="m")
    return EARTH_RADIUS + h, EARTH_RADIUS + a


def slant_range(elevation: ArrayLike, altitude: float, station_altitude: float = 0.0) -> FloatOrArray:
    """Return the distance d(el) = sqrt(r^2 - R_s^2 cos^2 el) - R_s sin el (m) to a satellite.

    ``elevation`` in radians (0 to pi/2, scalar or array), ``altitude`` h in metres, r = R + h;
    ``station_altitude`` a (m, in [-500, h)), R_s = R + a.

    >>> slant_range(math.pi / 2, 500e3)
    500000.0
    >>> round(slant_range(0.0, 500e3) / 1e3, 1)  # horizon: sqrt(r^2 - R^2), km
    2573.1
    """
    r, rs = _radii(altitude, station_altitude)
    el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
    cos_el, sin_el = np.cos(el), np.sin(el)
    # sqrt(r^2 - R^2 cos^2) - R sin = (r^2 - R^2) / (sqrt(...) + R sin), free of cancellation.
    d = ((r - rs) * (r + rs)) / (np.sqrt(r**2 - (rs * cos_el) ** 2) + rs * sin_el)
    return _out(d, scalar)


def elevation_from_slant_range(distance: ArrayLike, altitude: float, station_altitude: float = 0.0) -> FloatOrArray:
    """Return the elevation (rad) at which a satellite at ``altitude`` is ``distance`` away.

    Inverse of :func:`slant_range`: sin el = (r^2 - R_s^2 - d^2) / (2 R_s d), for h - a <= d
    <= sqrt(r^2 - R_s^2).

    >>> round(math.degrees(elevation_from_slant_range(500e3, 500e3)), 9)
    90.0
    """
    r, rs = _radii(altitude, station_altitude)
    h = r - rs
    d_max = math.sqrt(h * (r + rs))
    slack = 1e-12  # relative: let round-off from slant_range() through
    d, scalar = check_range_array("distance", distance, low=h * (1 - slack), high=d_max * (1 + slack), unit="m")
    d = np.clip(d, h, d_max)
    sin_el = (h * (r + rs) - d**2) / (2.0 * rs * d)
    return _out(np.arcsin(np.clip(sin_el, 0.0, 1.0)), scalar)


def earth_central_angle(elevation: ArrayLike, altitude: float, station_altitude: float = 0.0) -> FloatOrArray:
    """Return gamma(el) = arccos((R_s / r) cos el) - el (rad), station to sub-satellite point.

    >>> earth_central_angle(math.pi / 2, 500e3)
    0.0
    """
    r, rs = _radii(altitude, station_altitude)
    el, scalar = check_range_array("elevation", elevation, low=0.0, high=math.pi / 2, unit="rad")
    gamma = np.arccos(np.clip(rs / r * np.cos(el), -1.0, 1.0)) - el
    return _out(np.maximum(gamma, 0.0), scalar)


def orbital_angular_velocity(altitude: float) -> float:
    """Return the angular rate omega = sqrt(GM / r^3) (rad/s) of a circular orbit.

    >>> round(orbital_angular_velocity(500e3), 9)
    0.001108508
    """
    r = EARTH_RADIUS + _altitude(altitude)
    return math.sqrt(GM_EARTH / r**3)


def orbital_period(altitude: float) -> float:
    """Return the period 2 pi / omega (s) of a circular orbit at ``altitude`` (m).

    >>> round(orbital_period(500e3) / 60, 1)  # minutes
    94.5
    """
    return 2.0 * math.pi / orbital_angular_velocity(altitude)


@dataclass(frozen=True, slots=True, eq=False)
class PassSamples:
    """Time series of one pass: times (s, 0 at peak), elevation (rad), slant range (m),
    channel transmissivity and loss (dB). All arrays share one shape and are read-only.

    >>> samples = SatellitePass(500e3, math.radians(60)).samples(
    ...     FreeSpaceChannel(850e-9, 0.3, 1.0), dt=10.0)
    >>> samples.times.shape == samples.loss_db.shape
    True
    """

    times: NDArray[np.float64]
    elevation: NDArray[np.float64]
    slant_range: NDArray[np.float64]
    transmissivity: NDArray[np.float64]
    loss_db: NDArray[np.float64]

    def __post_init__(self) -> None:
        shape = None
        for name in ("times", "elevation", "slant_range", "transmissivity", "loss_db"):
            array = np.array(getattr(self, name), dtype=np.float64)
            if shape is None:
                shape = array.shape
            elif array.shape != shape:
                raise ValueError(f"{name} must have shape {shape} like times, got {array.shape}")
            array.setflags(write=False)
            object.__setattr__(self, name, array)


@dataclass(frozen=True, slots=True)
class SatellitePass:
    """One pass of a satellite in a circular orbit over a ground station (Earth not rotating).

    ``altitude`` h (m, > 0); ``max_elevation`` (rad, in (0, pi/2]) reached at t = 0;
    ``min_elevation`` (rad, in [0, pi/2), default 10 degrees) bounds the usable window. The
    pass must rise above its minimum: ``max_elevation >= min_elevation``;
    ``station_altitude`` a (m above sea level, in [-500, h), default 0). Times are in seconds
    from the peak; formulas in the module docstring.

    >>> p = SatellitePass(500e3, max_elevation=math.pi / 2)
    >>> p.slant_range(0.0)
    500000.0
    >>> round(p.duration / 60, 2)  # minutes above 10 degrees, overhead pass
    7.38
    """

    altitude: float
    max_elevation: float
    min_elevation: float = field(default=math.radians(10.0))
    station_altitude: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "altitude", _altitude(self.altitude))
        _, rs = _radii(self.altitude, self.station_altitude)
        object.__setattr__(self, "station_altitude", float(rs - EARTH_RADIUS))
        max_el = check_range(
            "max_elevation", self.max_elevation, low=0.0, high=math.pi / 2, low_inclusive=False, unit="rad"
        )
        min_el = check_range(
            "min_elevation", self.min_elevation, low=0.0, high=math.pi / 2, high_inclusive=False, unit="rad"
        )
        if max_el < min_el:
            raise ValueError(
                f"max_elevation must be >= min_elevation ({min_el!r} rad), got {max_el!r}: "
                "the satellite would never rise above the minimum elevation"
            )
        object.__setattr__(self, "max_elevation", max_el)
        object.__setattr__(self, "min_elevation", min_el)

    @classmethod
    def from_duration(
        cls, altitude: float, max_elevation: float, duration: float, station_altitude: float = 0.0
    ) -> SatellitePass:
        """The pass peaking at ``max_elevation`` (rad) that stays above its minimum for ``duration`` s.

        cos gamma_min = cos(beta0) cos(omega T / 2) and el_min = atan2(cos gamma_min - R_s / r,
        sin gamma_min); ``duration`` must be > 0 and at most the pass's horizon-to-horizon time.

        >>> p = SatellitePass.from_duration(500e3, math.pi / 2, 300.0)
        >>> round(p.duration, 9)
        300.0
        """
        probe = cls(altitude, max_elevation, 0.0, station_altitude)
        t = check_range("duration", duration, low=0.0, high=probe.duration, low_inclusive=False, unit="s")
        rs_over_r = probe.station_radius / probe.orbit_radius
        gamma = math.acos(math.cos(probe.closest_approach_angle) * math.cos(probe.angular_velocity * t / 2.0))
        min_el = math.atan2(math.cos(gamma) - rs_over_r, math.sin(gamma))
        return cls(altitude, max_elevation, min(max(min_el, 0.0), probe.max_elevation), station_altitude)

    @property
    def station_radius(self) -> float:
        """Station radius R_s = R + a (m).

        >>> SatellitePass(500e3, 1.0, station_altitude=1000.0).station_radius
        6372000.0
        """
        return EARTH_RADIUS + self.station_altitude

    @property
    def orbit_radius(self) -> float:
        """Orbit radius r = R + h (m).

        >>> SatellitePass(500e3, 1.0).orbit_radius
        6871000.0
        """
        return EARTH_RADIUS + self.altitude

    @property
    def angular_velocity(self) -> float:
        """Orbital angular rate omega = sqrt(GM / r^3) (rad/s).

        >>> SatellitePass(500e3, 1.0).angular_velocity == orbital_angular_velocity(500e3)
        True
        """
        return orbital_angular_velocity(self.altitude)

    @property
    def closest_approach_angle(self) -> float:
        """Central angle beta0 (rad) between the station and the ground track.

        >>> SatellitePass(500e3, math.pi / 2).closest_approach_angle
        0.0
        """
        return float(earth_central_angle(self.max_elevation, self.altitude, self.station_altitude))

    @property
    def visible_window(self) -> tuple[float, float]:
        """Times (s) at which the elevation crosses ``min_elevation``: (-T/2, +T/2).

        >>> start, end = SatellitePass(500e3, 1.0).visible_window
        >>> start == -end
        True
        """
        gamma_min = float(earth_central_angle(self.min_elevation, self.altitude, self.station_altitude))
        ratio = math.cos(gamma_min) / math.cos(self.closest_approach_angle)
        half = math.acos(min(1.0, ratio)) / self.angular_velocity
        return (-half, half)

    @property
    def duration(self) -> float:
        """Length (s) of the window above ``min_elevation``.

        >>> SatellitePass(500e3, math.radians(10)).duration
        0.0
        """
        start, end = self.visible_window
        return end - start

    def central_angle(self, times: ArrayLike) -> FloatOrArray:
        """Central angle gamma(t) = arccos(cos beta0 cos omega t) (rad) at ``times`` (s).

        >>> SatellitePass(500e3, math.pi / 2).central_angle(0.0)
        0.0
        """
        t, scalar = check_range_array("times", times, low=-math.inf, high=math.inf, unit="s")
        phase = np.minimum(np.abs(self.angular_velocity * t), math.pi)
        cos_gamma = math.cos(self.closest_approach_angle) * np.cos(phase)
        return _out(np.arccos(np.clip(cos_gamma, -1.0, 1.0)), scalar)

    def elevation(self, times: ArrayLike) -> FloatOrArray:
        """Elevation (rad) at ``times`` (s); negative when the satellite is below the horizon.

        >>> p = SatellitePass(500e3, math.radians(45))
        >>> round(math.degrees(p.elevation(0.0)), 9)
        45.0
        """
        gamma = np.asarray(self.central_angle(times))
        el = np.arctan2(np.cos(gamma) - self.station_radius / self.orbit_radius, np.sin(gamma))
        return _out(el, np.ndim(times) == 0)

    def slant_range(self, times: ArrayLike) -> FloatOrArray:
        """Distance (m) from the station to the satellite at ``times`` (s).

        >>> p = SatellitePass(500e3, math.radians(45))
        >>> abs(p.slant_range(0.0) - slant_range(math.radians(45), 500e3)) < 1e-6
        True
        """
        gamma = np.asarray(self.central_angle(times))
        r, big_r = self.orbit_radius, self.station_radius
        # R^2 + r^2 - 2 R r cos(gamma) = (r - R)^2 + 4 R r sin^2(gamma / 2), no cancellation.
        d = np.sqrt((r - big_r) ** 2 + 4.0 * big_r * r * np.sin(gamma / 2.0) ** 2)
        return _out(d, np.ndim(times) == 0)

    def loss_curve(self, channel: FreeSpaceChannel, times: ArrayLike) -> PassSamples:
        """Sample geometry and ``channel`` loss at ``times`` (s), which must lie in the window.

        >>> p = SatellitePass(500e3, math.radians(60))
        >>> curve = p.loss_curve(FreeSpaceChannel(850e-9, 0.3, 1.0), [0.0])
        >>> bool(curve.loss_db[0] > 0)
        True
        """
        start, end = self.visible_window
        slack = 1e-9 * max(1.0, end)
        t, _ = check_range_array("times", times, low=start - slack, high=end + slack, unit="s")
        t = np.clip(np.atleast_1d(t), start, end)
        elevation = np.clip(np.asarray(self.elevation(t)), 0.0, math.pi / 2)
        distance = np.asarray(self.slant_range(t))
        eta = np.asarray(channel.transmissivity(distance, elevation))
        loss = np.asarray(channel.loss_db(distance, elevation))
        return PassSamples(t, elevation, distance, eta, loss)

    def samples(self, channel: FreeSpaceChannel, dt: float) -> PassSamples:
        """Sample the window every ``dt`` seconds at t = k dt, symmetric about the peak.

        The times are k dt for every integer k with |k dt| <= T/2, so the series is exactly
        symmetric about t = 0 (the window's edges are included only if T/2 is a multiple
        of dt).

        >>> s = SatellitePass(500e3, math.pi / 2).samples(FreeSpaceChannel(850e-9, 0.3, 1.0), dt=60.0)
        >>> s.times.tolist()
        [-180.0, -120.0, -60.0, 0.0, 60.0, 120.0, 180.0]
        """
        step = check_range("dt", dt, low=0.0, low_inclusive=False, unit="s")
        _, end = self.visible_window
        k_max = math.floor(end / step * (1.0 + 1e-12))
        times = step * np.arange(-k_max, k_max + 1, dtype=np.float64)
        return self.loss_curve(channel, times)


@dataclass(frozen=True, slots=True)
class GroundStation:
    """An optical ground station: where it is and what its receiver collects.

    ``latitude`` and ``longitude`` in radians (|lat| <= pi/2, |lon| <= pi), ``altitude``
    above sea level in m (>= -500), ``aperture`` the receiving telescope's diameter in m
    (> 0), ``zenith_transmittance`` the clear-sky atmospheric transmittance straight up at
    the link wavelength (in (0, 1]), ``extra_loss_db`` the lumped fixed loss of the link to
    this station other than diffraction, pointing and atmosphere (>= 0 dB). The pass
    geometry of :class:`SatellitePass` does not use the position; it is kept for scenarios.

    >>> station = GroundStation("Xinglong", math.radians(40.40), math.radians(117.58), 960.0, 1.0)
    >>> station.aperture
    1.0
    """

    name: str
    latitude: float
    longitude: float
    altitude: float
    aperture: float
    zenith_transmittance: float = 1.0
    extra_loss_db: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        values = {
            "latitude": check_range("latitude", self.latitude, low=-math.pi / 2, high=math.pi / 2, unit="rad"),
            "longitude": check_range("longitude", self.longitude, low=-math.pi, high=math.pi, unit="rad"),
            "altitude": check_range("altitude", self.altitude, low=-500.0, unit="m"),
            "aperture": check_range("aperture", self.aperture, low=0.0, low_inclusive=False, unit="m"),
            "zenith_transmittance": check_range(
                "zenith_transmittance", self.zenith_transmittance, low=0.0, high=1.0, low_inclusive=False
            ),
            "extra_loss_db": check_range("extra_loss_db", self.extra_loss_db, low=0.0, unit="dB"),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)


MICIUS: Final[Mapping[str, float]] = MappingProxyType(
    {
        # Orbit: ~500 km sun-synchronous (Liao 2017); TLE mean motion 15.255 rev/day gives
        # a = 6868 km, i.e. ~497 km above a 6371 km sphere.
        "altitude": 500e3,
        # Decoy-state BB84 downlink (Liao 2017; values as used by the Baidu QNET Micius
        # example, which takes them from Liao 2017): 848.62 nm, 100 MHz, signal / decoy /
        # vacuum mean photon numbers 0.8 / 0.1 / 0 sent with probabilities 0.5 / 0.25 / 0.25.
        "wavelength": 848.62e-9,
        "repetition_rate": 100e6,
        "signal_mean_photon_number": 0.8,
        "decoy_mean_photon_number": 0.1,
        "vacuum_mean_photon_number": 0.0,
        "signal_probability": 0.5,
        "decoy_probability": 0.25,
        "vacuum_probability": 0.25,
        # QKD transmitter telescope aperture (diameter), 300 mm (Liao 2017).
        "transmitter_aperture": 0.30,
        # Far-field full divergence angle (1/e^2) ~10 urad (Liao 2017), several times the
        # 3.6 urad diffraction limit of a 300 mm aperture; modelled as beam quality
        # M^2 = theta_half * pi * w0 / lambda ~ 2.8.  Recalled from the paper, not checked
        # against a stored copy: an assumption to revisit.
        "divergence_full_angle": 10e-6,
        # Residual tracking jitter per axis: assumed 0.5 urad (sub-urad fine tracking);
        # contributes ~0.2 dB.
        "pointing_jitter": 0.5e-6,
        # Ground single-photon detector efficiency used in the QNET example (Liao 2017).
        "detector_efficiency": 0.5,
        # QKD ran from ~15 deg elevation until the satellite fell to 10 deg (Liao 2017,
        # as described in the QNET example).
        "min_elevation": math.radians(10.0),
    }
)
"""Published (or, where marked, assumed) parameters of the Micius QKD downlink, SI units."""

MICIUS_XINGLONG_MEASURED_LOSS_DB: Final[tuple[tuple[float, float], ...]] = (
    (645e3, 29.8),
    (1200e3, 39.0),
)
"""Measured Micius-Xinglong downlink loss (slant range in m, loss in dB).

Read from the link-efficiency-versus-distance curve of Liao et al., Nature 549, 43 (2017),
Fig. 3, as digitised in the Baidu QNET example data (``micius2017_link_efficiency.csv`` in
github.com/baidu/QCompute, Extensions/QuantumNetwork/examples/data): 29.75 dB at 645 km
(29.5-30.5 dB over 645-655 km) and 38.0-40.3 dB over 1180-1200 km (39.0 dB is the mean over
1190-1200 km). The curve fluctuates by ~1 dB on second time scales (turbulence, tracking).
It excludes detector efficiency (the QNET example applies a 50 % detector separately).
"""

XINGLONG: Final[GroundStation] = GroundStation(
    name="Xinglong",
    latitude=math.radians(40.3958),
    longitude=math.radians(117.5775),
    altitude=960.0,
    aperture=1.0,
    zenith_transmittance=0.8,
    extra_loss_db=16.2,
)
"""Xinglong Observatory (NAOC) ground station near Beijing: 1 m telescope (Liao 2017; NAOC
news 2016-09-02), 960 m altitude. ``zenith_transmittance`` 0.8 is an assumed clear-night
value at 850 nm. ``extra_loss_db`` = 16.2 dB is *fitted*: the lumped optics/coupling/
turbulence loss that puts :func:`micius_downlink` midway between the two points of
:data:`MICIUS_XINGLONG_MEASURED_LOSS_DB` (the model then reads 30.9 dB at 645 km and
37.8 dB at 1200 km)."""

GRAZ: Final[GroundStation] = GroundStation(
    name="Graz",
    latitude=math.radians(47.0671),
    longitude=math.radians(15.4933),
    altitude=493.0,
    aperture=0.8,
    zenith_transmittance=0.8,
    extra_loss_db=16.2,
)
"""Graz-Lustbuehel observatory (IWF, Austrian Academy of Sciences), the European station of
Liao et al., PRL 120, 030501 (2018): 0.8 m Ritchey-Chretien receiving telescope beside the
0.5 m satellite-laser-ranging telescope (ILRS station 7839, ~493 m altitude). No measured
Graz loss curve was available to us, so ``zenith_transmittance`` (0.8) and
``extra_loss_db`` (16.2 dB, Xinglong's fitted value) are assumptions. (Vienna was linked to
Graz classically in that experiment and had no Micius receiver.)"""


def micius_downlink(ground_station: GroundStation) -> FreeSpaceChannel:
    """Return the Micius QKD downlink channel to ``ground_station`` (see :data:`MICIUS`).

    Transmitter: 300 mm aperture, 848.62 nm, ~10 urad full divergence (M^2 ~ 2.8), 0.5 urad
    pointing jitter; receiver: the station's aperture, atmosphere and lumped extra loss.
    Detector efficiency is not included (use :class:`qstack.physical.detectors.Detector`).

    Against :data:`MICIUS_XINGLONG_MEASURED_LOSS_DB` the Xinglong model is within ~1.2 dB
    at 645 km and 1200 km (tests allow 3 dB: the extra loss is one fitted constant, the
    measured curve fluctuates by ~1 dB, and turbulence broadening at low elevation, which
    steepens the measured curve, is not modelled).

    >>> link = micius_downlink(XINGLONG)
    >>> el = elevation_from_slant_range(645e3, MICIUS["altitude"])
    >>> round(link.loss_db(645e3, el), 1)
    30.9
    """
    if not isinstance(ground_station, GroundStation):
        raise TypeError(f"ground_station must be a GroundStation, got {ground_station!r}")
    wavelength = MICIUS["wavelength"]
    waist = MICIUS["transmitter_aperture"] / 2.0
    half_angle = MICIUS["divergence_full_angle"] / 2.0
    beam_quality = max(1.0, half_angle * math.pi * waist / wavelength)
    return FreeSpaceChannel(
        wavelength=wavelength,
        transmitter_aperture=MICIUS["transmitter_aperture"],
        receiver_aperture=ground_station.aperture,
        zenith_transmittance=ground_station.zenith_transmittance,
        pointing_jitter=MICIUS["pointing_jitter"],
        extra_loss_db=ground_station.extra_loss_db,
        beam_quality=beam_quality,
    )


# ============================================================================ scenario downlinks

_ANGLE_FIELDS: Final[tuple[str, ...]] = (
    "max_elevation", "min_elevation", "divergence", "pointing_jitter", "field_of_view", "latitude", "longitude",
    "zenith_seeing",
)

TURBULENCE_PROFILES: Final[tuple[str, ...]] = ("hv57", "hufnagel_valley")
"""``turbulence`` values of :class:`DownlinkSpec`: HV 5/7, or a Hufnagel–Valley profile of
``ground_cn2`` (or ``zenith_seeing``) and ``wind_speed`` (:class:`~qstack.physical.freespace.HufnagelValley`)."""
_LENGTH_FIELDS: Final[tuple[str, ...]] = (
    "altitude", "wavelength", "transmitter_aperture", "aperture", "filter_bandwidth",
)
_TIME_FIELDS: Final[tuple[str, ...]] = ("duration", "time_step", "detection_window")


def _field_value(path: str, key: str, value: object) -> float:
    """A number (SI) or a unit string ("500 km", "49 deg", "2 ns") for ``path``.``key``."""
    from qstack.physical.units import parse_quantity

    kind = "angle" if key in _ANGLE_FIELDS else "length" if key in _LENGTH_FIELDS else (
        "time" if key in _TIME_FIELDS else None)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (isinstance(value, str) and kind is None):
        raise ValueError(f"{path}{key}: must be a number" + (f" or a {kind} string" if kind else "")
                         + f", got {value!r}")
    if isinstance(value, str):
        try:
            return parse_quantity(value, kind)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}{key}: {exc}") from None
    return float(value)


def ground_station_from_mapping(table: Mapping[str, object], path: str = "ground_station.") -> GroundStation:
    """Build a :class:`GroundStation` from a scenario table (angles in rad or "40.4 deg").

    Keys: ``name`` (required), ``latitude``, ``longitude`` (required), ``altitude`` (m, default 0),
    ``aperture`` (m, required), ``zenith_transmittance`` (default 1), ``extra_loss_db`` (default 0).
    Errors name ``path`` + the key and the allowed range.

    >>> ground_station_from_mapping({"name": "Graz", "latitude": "47.07 deg", "longitude": "15.49 deg",
    ...                              "altitude": 493, "aperture": "0.8 m"}).aperture
    0.8
    """
    allowed = ("name", "latitude", "longitude", "altitude", "aperture", "zenith_transmittance", "extra_loss_db")
    if not isinstance(table, Mapping):
        raise TypeError(f"{path.rstrip('.')}: must be a table, got {table!r}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{path}{unknown[0]}: unknown key; allowed: {', '.join(allowed)}")
    for key in ("name", "latitude", "longitude", "aperture"):
        if key not in table:
            raise ValueError(f"{path}{key}: required")
    values = {"altitude": 0.0} | {k: _field_value(path, k, v) for k, v in table.items() if k != "name"}
    try:
        return GroundStation(name=table["name"], **values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"{path}{exc}") from None


@dataclass(frozen=True, slots=True)
class DownlinkSpec:
    """A satellite-to-ground optical downlink over one pass: orbit, transmitter, station, noise.

    * Pass: ``altitude`` h (m, > 0) of the circular orbit; ``max_elevation`` (rad, (0, pi/2]);
      either ``min_elevation`` (rad, default 10 deg) or ``duration`` (s, the time above the
      minimum: :meth:`SatellitePass.from_duration`), not both.
    * Transmitter: ``wavelength`` (m), ``transmitter_aperture`` (diameter, m); ``divergence``
      the far-field full angle of the 1/e^2 beam (rad, default: the diffraction limit
      2 lambda / (pi w0)); ``pointing_jitter`` per axis (rad, default 0).
    * Atmosphere: ``scintillation_index`` sigma_I^2 (>= 0, default 0), ``airmass_model``
      (``"spherical"`` or ``"kasten_young"``); the station's zenith transmittance.
    * ``ground_station``: a :class:`GroundStation` (its altitude enters the geometry; its
      aperture, zenith transmittance and fixed loss the channel).
    * Sky background: ``sky_radiance`` (W m^-2 sr^-1 per m of wavelength, default 0),
      ``field_of_view`` (full angle, rad), ``filter_bandwidth`` (m), ``detection_window`` (s);
      the last three are required when ``sky_radiance`` > 0.
    * Turbulence (default off: ``turbulence`` None): ``turbulence`` one of
      :data:`TURBULENCE_PROFILES`. ``"hv57"`` is HV 5/7; ``"hufnagel_valley"`` takes
      ``wind_speed`` (rms, m/s, default 21) and either ``ground_cn2`` A (m^-2/3) or
      ``zenith_seeing`` (the site's seeing FWHM at 500 nm at zenith, rad: sets A,
      :meth:`~qstack.physical.freespace.HufnagelValley.from_zenith_seeing`). The fading's
      scintillation index then follows from the profile (``scintillation_index`` must stay 0),
      and ``field_of_view``, if given, is also the receiver's field stop: the seeing-limited
      spot's fraction inside it (``psf_model`` ``"gaussian"`` or ``"kolmogorov"``) multiplies
      the transmissivity. Formulas: :mod:`qstack.physical.freespace`, item 5.
    * ``time_step`` (s, default 1): the pass is sampled at k * time_step.
    * ``fading_samples`` (int >= 1, default 256): fading draws per time step that average
      the gains when jitter or scintillation is set.

    >>> spec = DownlinkSpec(500e3, math.radians(49), 848.62e-9, 0.3, XINGLONG, min_elevation=math.radians(20))
    >>> round(spec.satellite_pass().slant_range(0.0) / 1e3)  # km at the peak (station at 960 m)
    644
    """

    altitude: float
    max_elevation: float
    wavelength: float
    transmitter_aperture: float
    ground_station: GroundStation
    min_elevation: float | None = None
    duration: float | None = None
    divergence: float | None = None
    pointing_jitter: float = 0.0
    scintillation_index: float = 0.0
    airmass_model: str = "spherical"
    sky_radiance: float = 0.0
    field_of_view: float | None = None
    filter_bandwidth: float | None = None
    detection_window: float | None = None
    time_step: float = 1.0
    fading_samples: int = 256
    turbulence: str | None = None
    ground_cn2: float | None = None
    wind_speed: float | None = None
    zenith_seeing: float | None = None
    psf_model: str = "gaussian"

    def __post_init__(self) -> None:
        if not isinstance(self.ground_station, GroundStation):
            raise TypeError(f"ground_station must be a GroundStation, got {self.ground_station!r}")
        self._check_turbulence()
        if self.min_elevation is not None and self.duration is not None:
            raise ValueError("min_elevation and duration: give one of them (the pass window), not both")
        if self.sky_radiance:
            missing = [k for k in ("field_of_view", "filter_bandwidth", "detection_window") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"{missing[0]}: required when sky_radiance > 0 (the background needs "
                                 "field_of_view, filter_bandwidth and detection_window)")
        check_range("sky_radiance", self.sky_radiance, low=0.0, unit="W m^-3 sr^-1")
        check_range("time_step", self.time_step, low=0.0, low_inclusive=False, unit="s")
        if isinstance(self.fading_samples, bool) or not isinstance(self.fading_samples, int) or self.fading_samples < 1:
            raise ValueError(f"fading_samples must be an integer >= 1, got {self.fading_samples!r}")
        if self.divergence is not None:
            limit = 2.0 * self.wavelength / (math.pi * self.transmitter_aperture / 2.0)
            check_range("divergence", self.divergence, low=limit * (1 - 1e-12), unit="rad (the diffraction limit "
                        "2 lambda / (pi w0))")
        self.channel()  # checks the optical parameters
        self.satellite_pass()  # checks the geometry

    @classmethod
    def from_mapping(cls, table: Mapping[str, object], path: str = "") -> DownlinkSpec:
        """Build from a scenario table; errors (``ValueError``) name ``path`` + the key.

        >>> spec = DownlinkSpec.from_mapping({"altitude": "500 km", "max_elevation": "49 deg",
        ...     "duration": "270 s", "wavelength": "848.62 nm", "transmitter_aperture": "300 mm",
        ...     "ground_station": {"name": "X", "latitude": "40.4 deg", "longitude": "117.6 deg",
        ...                        "aperture": "1 m"}})
        >>> round(spec.satellite_pass().duration, 6)
        270.0
        """
        if isinstance(table, DownlinkSpec):
            return table
        if not isinstance(table, Mapping):
            raise TypeError(f"{path.rstrip('.') or 'satellite'}: must be a table, got {table!r}")
        names = [f for f in cls.__dataclass_fields__]
        unknown = sorted(set(table) - set(names))
        if unknown:
            raise ValueError(f"{path}{unknown[0]}: unknown key; allowed: {', '.join(names)}")
        required = [f for f, d in cls.__dataclass_fields__.items() if d.default is dataclasses.MISSING]
        for key in required:
            if key not in table:
                raise ValueError(f"{path}{key}: required")
        values: dict[str, object] = {}
        for key, value in table.items():
            if key == "ground_station":
                values[key] = value if isinstance(value, GroundStation) else ground_station_from_mapping(
                    value, f"{path}ground_station.")  # type: ignore[arg-type]
            elif key in ("airmass_model", "turbulence", "psf_model"):
                if not isinstance(value, str):
                    raise ValueError(f"{path}{key}: must be a string, got {value!r}")
                values[key] = value
            elif key == "fading_samples":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"{path}fading_samples: must be an integer >= 1, got {value!r}")
                values[key] = value
            else:
                values[key] = _field_value(path, key, value)
        try:
            return cls(**values)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{path}{exc}") from None

    def to_dict(self) -> dict[str, object]:
        """Plain SI values that :meth:`from_mapping` reads back to an equal spec."""
        out: dict[str, object] = {}
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            if key == "ground_station":
                value = {k: getattr(value, k) for k in value.__dataclass_fields__}
            if value is not None:
                out[key] = value
        return out

    def _check_turbulence(self) -> None:
        given = [k for k in ("ground_cn2", "wind_speed", "zenith_seeing") if getattr(self, k) is not None]
        if self.turbulence is None:
            if given:
                raise ValueError(f"{given[0]}: only applies with turbulence = \"hufnagel_valley\" (turbulence is off)")
            return
        if self.turbulence not in TURBULENCE_PROFILES:
            raise ValueError(f"turbulence must be one of {TURBULENCE_PROFILES}, got {self.turbulence!r}")
        if self.psf_model not in PSF_MODELS:
            raise ValueError(f"psf_model must be one of {PSF_MODELS}, got {self.psf_model!r}")
        if self.turbulence == "hv57" and given:
            raise ValueError(f"{given[0]}: not with turbulence = \"hv57\" (HV 5/7 fixes ground_cn2 = 1.7e-14 "
                             "m^-2/3 and wind_speed = 21 m/s); use turbulence = \"hufnagel_valley\"")
        if self.turbulence == "hufnagel_valley" and (self.ground_cn2 is None) == (self.zenith_seeing is None):
            raise ValueError("ground_cn2: give one of ground_cn2 and zenith_seeing with turbulence = "
                             "\"hufnagel_valley\"" + (" (not both)" if self.ground_cn2 is not None else ""))
        self.profile()  # checks the numbers

    def profile(self) -> HufnagelValley | None:
        """The turbulence profile (:class:`~qstack.physical.freespace.HufnagelValley`), None when off.

        >>> spec = DownlinkSpec(500e3, 1.0, 850e-9, 0.3, XINGLONG, turbulence="hufnagel_valley",
        ...                     zenith_seeing=math.radians(1.7 / 3600))
        >>> round(spec.profile().ground_cn2 * 1e15, 3)  # m^-2/3
        11.177
        """
        if self.turbulence is None:
            return None
        if self.turbulence == "hv57":
            return HufnagelValley.hv57()
        wind = 21.0 if self.wind_speed is None else self.wind_speed
        if self.zenith_seeing is not None:
            return HufnagelValley.from_zenith_seeing(self.zenith_seeing, wind)
        return HufnagelValley(self.ground_cn2, wind)  # type: ignore[arg-type]

    @property
    def fading(self) -> bool:
        """Whether the transmissivity fades (pointing jitter, scintillation or turbulence set).

        >>> DownlinkSpec(500e3, 1.0, 850e-9, 0.3, XINGLONG).fading
        False
        """
        return self.pointing_jitter > 0 or self.scintillation_index > 0 or self.turbulence is not None

    @property
    def beam_quality(self) -> float:
        """M^2 = theta_half pi w0 / lambda from ``divergence`` (1 when not given)."""
        if self.divergence is None:
            return 1.0
        return max(1.0, self.divergence / 2.0 * math.pi * (self.transmitter_aperture / 2.0) / self.wavelength)

    def channel(self) -> FreeSpaceChannel:
        """The :class:`~qstack.physical.freespace.FreeSpaceChannel` of this link."""
        station = self.ground_station
        return FreeSpaceChannel(
            wavelength=self.wavelength, transmitter_aperture=self.transmitter_aperture,
            receiver_aperture=station.aperture, zenith_transmittance=station.zenith_transmittance,
            pointing_jitter=self.pointing_jitter, extra_loss_db=station.extra_loss_db,
            beam_quality=self.beam_quality, scintillation_index=self.scintillation_index,
            airmass_model=self.airmass_model, **self._turbulence_channel_fields(),
        )

    def _turbulence_channel_fields(self) -> dict[str, object]:
        profile = self.profile()
        if profile is None:  # default off: the channel is exactly the one without turbulence
            return {}
        return {"turbulence": profile, "field_of_view": self.field_of_view, "psf_model": self.psf_model}

    def satellite_pass(self) -> SatellitePass:
        """The :class:`SatellitePass` (station altitude included)."""
        a = self.ground_station.altitude
        if self.duration is not None:
            return SatellitePass.from_duration(self.altitude, self.max_elevation, self.duration, a)
        min_el = math.radians(10.0) if self.min_elevation is None else self.min_elevation
        return SatellitePass(self.altitude, self.max_elevation, min_el, a)

    def background_photons(self) -> float:
        """Sky photons per detection window at the telescope (0 without a sky radiance)."""
        if not self.sky_radiance:
            return 0.0
        return sky_background_photons(self.sky_radiance, self.field_of_view, self.ground_station.aperture,
                                      self.filter_bandwidth, self.detection_window, self.wavelength)

    def max_slant_range(self) -> float:
        """The longest distance (m) of the pass window: at its minimum elevation."""
        p = self.satellite_pass()
        return float(slant_range(p.min_elevation, p.altitude, p.station_altitude))


@dataclass(frozen=True, slots=True, eq=False)
class DownlinkKeyBudget:
    """Decoy-state BB84 over one pass, per time step and in total.

    Arrays (one value per sample time): ``times`` (s from the peak), ``elevation`` (rad),
    ``slant_range`` (m), ``transmissivity`` (channel mean, before the detector), ``loss_db``,
    ``gain`` and ``qber`` of the signal, ``key_rate`` (secret bits/s). Totals: ``secret_bits``
    = sum of key_rate * time_step (the integral of the rate over the pass), ``sifted`` (signal
    detections in agreeing bases), ``detections`` (all intensities); ``time_step`` (s).
    """

    times: NDArray[np.float64]
    elevation: NDArray[np.float64]
    slant_range: NDArray[np.float64]
    transmissivity: NDArray[np.float64]
    loss_db: NDArray[np.float64]
    gain: NDArray[np.float64]
    qber: NDArray[np.float64]
    key_rate: NDArray[np.float64]
    secret_bits: float
    sifted: float
    detections: float
    time_step: float

    @property
    def duration(self) -> float:
        """Time the samples cover (s): their number times ``time_step``."""
        return self.times.size * self.time_step

    @property
    def mean_key_rate(self) -> float:
        """secret_bits / duration (bits/s)."""
        return self.secret_bits / self.duration

    def key_rate_at(self, distance: float) -> float:
        """Secret key rate (bits/s) at slant range ``distance`` (m), interpolated on the
        receding half of the pass (t >= 0)."""
        half = self.times >= 0
        return float(np.interp(distance, self.slant_range[half], self.key_rate[half]))


def downlink_key_budget(
    spec: DownlinkSpec,
    *,
    mu: float,
    nu: float,
    p_signal: float,
    p_decoy: float,
    p_vacuum: float,
    repetition_rate: float,
    detector_efficiency: float,
    dark_count_probability: float,
    misalignment: float,
    f_ec: float = 1.16,
    seed: int = 0,
) -> DownlinkKeyBudget:
    """Integrate the vacuum + weak decoy key rate (GLLP; Ma et al. 2005) over the pass of ``spec``.

    At each sample time t_k = k * time_step the channel gives the mean transmissivity T; with
    fading (jitter or scintillation) the signal/decoy/vacuum gains Q and error gains EQ of
    :func:`qstack.qkd.weak_coherent_statistics` are averaged over ``fading_samples`` draws of
    :meth:`~qstack.physical.freespace.FreeSpaceChannel.sample_transmissivity` (seeded by
    ``seed`` and k: deterministic). The vacuum yield is Y0 = ``dark_count_probability`` +
    1 - exp(-eta_d N_b) with N_b the sky photons per window. The rate is
    ``p_signal * repetition_rate * decoy_state_rate(...)`` (sifting 1/2 inside), and
    ``secret_bits`` = sum_k rate_k * time_step.

    >>> spec = DownlinkSpec(500e3, math.radians(49), 848.62e-9, 0.3, XINGLONG, min_elevation=math.radians(20))
    >>> b = downlink_key_budget(spec, mu=0.8, nu=0.1, p_signal=0.5, p_decoy=0.25, p_vacuum=0.25,
    ...     repetition_rate=1e8, detector_efficiency=0.5, dark_count_probability=1e-7, misalignment=0.01)
    >>> bool(b.secret_bits > 0), b.times.size == b.key_rate.size
    (True, True)
    """
    from qstack.qkd.finite_key import decoy_state_rate, weak_coherent_statistics

    if not isinstance(spec, DownlinkSpec):
        raise TypeError(f"spec must be a DownlinkSpec, got {spec!r}")
    m = check_range("mu", mu, low=0.0, low_inclusive=False)
    v = check_range("nu", nu, low=0.0, high=m, low_inclusive=False, high_inclusive=False)
    probs = [check_range(n, x, low=0.0, high=1.0) for n, x in
             (("p_signal", p_signal), ("p_decoy", p_decoy), ("p_vacuum", p_vacuum))]
    if abs(sum(probs) - 1.0) > 1e-9:
        raise ValueError(f"p_signal + p_decoy + p_vacuum must be 1, got {sum(probs)!r}")
    rate = check_range("repetition_rate", repetition_rate, low=0.0, low_inclusive=False, unit="Hz")
    eta_d = check_range("detector_efficiency", detector_efficiency, low=0.0, high=1.0)
    dark = check_range("dark_count_probability", dark_count_probability, low=0.0, high=1.0, high_inclusive=False)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    check_range("f_ec", f_ec, low=1.0)
    channel = spec.channel()
    samples = spec.satellite_pass().samples(channel, spec.time_step)
    y0 = min(1.0, dark + -math.expm1(-eta_d * spec.background_photons()))
    fading = spec.fading
    n = samples.times.size
    gain, qber, key = np.zeros(n), np.zeros(n), np.zeros(n)
    detections = 0.0
    for k in range(n):
        if fading:
            rng = np.random.default_rng([seed, k])
            eta = channel.sample_transmissivity(float(samples.slant_range[k]), float(samples.elevation[k]), rng,
                                                spec.fading_samples) * eta_d
        else:
            eta = np.array([samples.transmissivity[k] * eta_d])
        stats = {}
        for name, intensity in (("mu", m), ("nu", v), ("zero", 0.0)):
            q_e = np.array([weak_coherent_statistics(intensity, float(x), y0, e_d) for x in eta])
            q = float(np.mean(q_e[:, 0]))
            eq = float(np.mean(q_e[:, 0] * q_e[:, 1]))
            stats[name] = (q, eq / q if q > 0 else 0.0)
        (q_mu, e_mu), (q_nu, e_nu), (q_0, _) = stats["mu"], stats["nu"], stats["zero"]
        gain[k], qber[k] = q_mu, e_mu
        key[k] = probs[0] * rate * decoy_state_rate(m, v, q_mu, min(e_mu, 0.5), q_nu, min(e_nu, 1.0), q_0, f_ec)
        detections += probs[0] * q_mu + probs[1] * q_nu + probs[2] * q_0
    pulses = rate * spec.time_step
    return DownlinkKeyBudget(
        times=np.asarray(samples.times), elevation=np.asarray(samples.elevation),
        slant_range=np.asarray(samples.slant_range), transmissivity=np.asarray(samples.transmissivity),
        loss_db=np.asarray(samples.loss_db), gain=gain, qber=qber, key_rate=key,
        secret_bits=float(key.sum()) * spec.time_step, sifted=0.5 * probs[0] * float(gain.sum()) * pulses,
        detections=detections * pulses, time_step=spec.time_step,
    )


def scenario_key_budget(scenario: object, satellite: str, ground: str, *, seed: int | None = None,
                        **source: float) -> DownlinkKeyBudget:
    """The :func:`downlink_key_budget` of the scenario's ``satellite_downlink`` link ``satellite`` -> ``ground``.

    ``scenario`` is a :class:`qstack.scenario.Scenario`; the detector is the link's override or
    the ground node's hardware profile (``detector_efficiency``, ``dark_count_probability``);
    ``source`` gives the decoy source and post-processing (``mu``, ``nu``, ``p_signal``,
    ``p_decoy``, ``p_vacuum``, ``repetition_rate``, ``misalignment``, optional ``f_ec``);
    ``seed`` defaults to the scenario's ``simulation.seed``.
    """
    link = scenario.link(satellite, ground)  # type: ignore[attr-defined]
    if getattr(link, "type", "fibre") != "satellite_downlink" or (link.a, link.b) != (satellite, ground):
        raise ValueError(f"the link {satellite!r} -> {ground!r} must be a satellite_downlink with a = {satellite!r} "
                         f"(the satellite) and b = {ground!r} (the ground station), got type {link.type!r} "
                         f"from {link.a!r} to {link.b!r}")
    hardware = scenario.hardware_of(ground)  # type: ignore[attr-defined]
    eta_d = hardware.detector_efficiency if link.detector_efficiency is None else link.detector_efficiency
    dark = hardware.dark_count_probability if link.dark_count_probability is None else link.dark_count_probability
    run_seed = scenario.simulation.seed if seed is None else seed  # type: ignore[attr-defined]
    return downlink_key_budget(link.satellite, detector_efficiency=eta_d, dark_count_probability=dark,
                               seed=run_seed, **source)  # type: ignore[arg-type]
