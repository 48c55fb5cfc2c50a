"""A satellite-borne entangled-photon source sending one photon of each pair down to each of
two ground stations (double downlink; Yin et al., Science 356, 1140 (2017): Micius to Delingha
and Lijiang, 1203 km apart).

Model, per time step of a pass (both stations see the satellite at the same time):

* The source emits polarisation-entangled pairs at ``pair_rate`` R (pairs/s, CW pump) whose
  intrinsic state — source and the polarisation optics of both downlinks — is the Bell-diagonal
  state of visibilities ``V_Z``, ``V_X`` (:func:`qstack.physical.link_noise.pauli_weights_from_visibilities`).
* Each photon reaches its station's detector with probability η_a, η_b: the downlink channel
  (:class:`qstack.physical.freespace.FreeSpaceChannel` along the station's own
  :class:`qstack.physical.satellite.SatellitePass`) times the detector efficiency.
* True coincidences arrive at ``C_t = R η_a η_b``. Each station also counts uncorrelated
  events: photons whose twin was lost and the station's dark and background counts ``n``, so
  its singles rate is ``S = R η + n``. Two uncorrelated events fall within the coincidence
  window τ (full width) at ``C_acc = S_a S_b τ`` (the standard accidental-coincidence rate for
  independent Poisson streams, τ ≪ 1/S). With a CW pump and τ much longer than the photons'
  coherence time, this term *is* the multi-pair contribution of SPDC (two pairs inside one
  window: ``R² η_a η_b τ``, i.e. mean pair number μ = R τ per window), together with noise.
* Accidental pairs carry independent, unpolarised photons (each photon of a Bell pair alone is
  maximally mixed): the recorded pairs are ``f ρ_source + (1 − f) I/4`` with
  ``f = C_t / (C_t + C_acc)``, a Bell-diagonal state. CHSH follows from its correlations
  (:func:`qstack.physical.link_noise.chsh_xz` for the textbook settings a Bell test uses,
  :func:`~qstack.physical.link_noise.chsh_max` for the optimum).

Over a pass the recorded pairs of all steps are pooled as the experiment pools them: each
correlator is the coincidence-weighted mean, so the pooled state is the coincidence-weighted
mean of the per-step states (:class:`DoubleDownlinkBudget`).

>>> src = EntangledPairSource(pair_rate=5.9e6, visibility_z=0.9, visibility_x=0.9, coincidence_window=2.5e-9)
>>> state = double_downlink_state(src, eta_a=1e-3, eta_b=1e-4, noise_rate_a=500.0, noise_rate_b=500.0)
>>> round(state.true_rate, 3), round(state.accidental_rate, 6), round(state.chsh, 4)
(0.59, 0.01744, 2.4725)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qstack.physical.link_noise import chsh_max, chsh_xz, pauli_weights_from_visibilities, qber
from qstack.physical.satellite import DownlinkSpec
from qstack.physical.units import check_range

__all__ = [
    "DoubleDownlinkBudget",
    "DoubleDownlinkState",
    "EntangledPairSource",
    "accidental_coincidence_rate",
    "double_downlink_budget",
    "double_downlink_state",
    "scenario_double_downlink",
]


@dataclass(frozen=True, slots=True)
class EntangledPairSource:
    """The satellite's entangled-pair source: ``pair_rate`` (pairs/s emitted, > 0), the intrinsic
    per-basis visibilities ``visibility_z``, ``visibility_x`` (in [0, 1]) of the pairs as the
    stations would record them without loss and noise, and the stations' ``coincidence_window``
    τ (s, full width, > 0).

    >>> EntangledPairSource(1e6, 0.95, 0.93, 1e-9).weights[0] > 0.9
    True
    """

    pair_rate: float
    visibility_z: float
    visibility_x: float
    coincidence_window: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "pair_rate", check_range("pair_rate", self.pair_rate, low=0.0, low_inclusive=False,
                                                          unit="pairs/s"))
        for name in ("visibility_z", "visibility_x"):
            object.__setattr__(self, name, check_range(name, getattr(self, name), low=0.0, high=1.0))
        object.__setattr__(self, "coincidence_window", check_range("coincidence_window", self.coincidence_window,
                                                                   low=0.0, low_inclusive=False, unit="s"))

    @property
    def weights(self) -> tuple[float, float, float, float]:
        """Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) of the source's pairs."""
        return pauli_weights_from_visibilities(self.visibility_z, self.visibility_x)

    @property
    def mean_pairs_per_window(self) -> float:
        """μ = R τ, the mean number of pairs emitted within one coincidence window."""
        return self.pair_rate * self.coincidence_window


def accidental_coincidence_rate(singles_a: float, singles_b: float, window: float) -> float:
    """``S_a S_b τ``: coincidences per second between two independent Poisson streams of rates
    ``singles_a``, ``singles_b`` (1/s) within a window of full width ``window`` (s).

    >>> accidental_coincidence_rate(1e3, 2e3, 1e-9)
    0.002
    """
    a = check_range("singles_a", singles_a, low=0.0, unit="1/s")
    b = check_range("singles_b", singles_b, low=0.0, unit="1/s")
    return a * b * check_range("window", window, low=0.0, unit="s")


@dataclass(frozen=True, slots=True)
class DoubleDownlinkState:
    """Recorded pairs at one instant: ``true_rate`` and ``accidental_rate`` (coincidences/s), the
    recorded pairs' Bell ``coefficients`` (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), ``chsh`` (textbook X–Z settings),
    ``chsh_max`` (optimal settings) and ``qber`` (Z, X)."""

    true_rate: float
    accidental_rate: float
    coefficients: tuple[float, float, float, float]
    chsh: float
    chsh_max: float
    qber: tuple[float, float]

    @property
    def coincidence_rate(self) -> float:
        """All recorded coincidences per second, true plus accidental."""
        return self.true_rate + self.accidental_rate


def _mix(weights: Sequence[float], f: float) -> tuple[float, float, float, float]:
    return tuple(f * w + (1.0 - f) / 4.0 for w in weights)  # type: ignore[return-value]


def double_downlink_state(source: EntangledPairSource, eta_a: float, eta_b: float,
                          noise_rate_a: float = 0.0, noise_rate_b: float = 0.0) -> DoubleDownlinkState:
    """The recorded pairs for arm efficiencies ``eta_a``, ``eta_b`` (in [0, 1], channel × detector)
    and the stations' dark + background count rates ``noise_rate_*`` (1/s): see the module
    docstring. A fully mixed state (S = 0) when nothing coincides.

    >>> s = double_downlink_state(EntangledPairSource(1e6, 1.0, 1.0, 1e-9), 1e-2, 1e-2)
    >>> round(s.chsh, 6)   # f = 1/(1 + R τ) = 1/1.001
    2.825602
    """
    ea = check_range("eta_a", eta_a, low=0.0, high=1.0)
    eb = check_range("eta_b", eta_b, low=0.0, high=1.0)
    na = check_range("noise_rate_a", noise_rate_a, low=0.0, unit="1/s")
    nb = check_range("noise_rate_b", noise_rate_b, low=0.0, unit="1/s")
    r = source.pair_rate
    true = r * ea * eb
    acc = accidental_coincidence_rate(r * ea + na, r * eb + nb, source.coincidence_window)
    total = true + acc
    f = true / total if total > 0.0 else 0.0
    coeffs = _mix(source.weights, f)
    return DoubleDownlinkState(true, acc, coeffs, chsh_xz(coeffs), chsh_max(coeffs), qber(coeffs))


@dataclass(frozen=True, slots=True, eq=False)
class DoubleDownlinkBudget:
    """A double-downlink pass, per time step and pooled.

    Arrays (one value per step): ``times`` (s from the peak), ``slant_range_a``/``_b`` (m),
    ``loss_a_db``/``loss_b_db`` (channel and detector), ``loss_db`` (their sum, the two-downlink
    loss), ``true_rate``, ``accidental_rate`` (coincidences/s), ``chsh`` (per step, textbook
    settings). Pooled over the pass: ``coefficients`` of all recorded pairs, ``pooled_chsh``,
    ``pooled_chsh_max``, ``pooled_qber``; ``coincidences`` (expected count), ``time_step``.
    """

    times: NDArray[np.float64]
    slant_range_a: NDArray[np.float64]
    slant_range_b: NDArray[np.float64]
    loss_a_db: NDArray[np.float64]
    loss_b_db: NDArray[np.float64]
    true_rate: NDArray[np.float64]
    accidental_rate: NDArray[np.float64]
    chsh: NDArray[np.float64]
    coefficients: tuple[float, float, float, float]
    time_step: float

    @property
    def loss_db(self) -> NDArray[np.float64]:
        """Two-downlink loss (dB) per step: the sum of the arms'."""
        return self.loss_a_db + self.loss_b_db

    @property
    def summed_range(self) -> NDArray[np.float64]:
        """Summed length of the two downlinks (m) per step."""
        return self.slant_range_a + self.slant_range_b

    @property
    def duration(self) -> float:
        """Time covered by the steps (s)."""
        return float(self.times.size * self.time_step)

    @property
    def coincidences(self) -> float:
        """Expected recorded coincidences over the pass (true + accidental)."""
        return float(np.sum(self.true_rate + self.accidental_rate) * self.time_step)

    @property
    def mean_coincidence_rate(self) -> float:
        """Recorded coincidences per second, averaged over the pass."""
        return self.coincidences / self.duration

    @property
    def pooled_chsh(self) -> float:
        """CHSH of all recorded pairs of the pass (textbook settings)."""
        return chsh_xz(self.coefficients)

    @property
    def pooled_chsh_max(self) -> float:
        """CHSH of all recorded pairs with optimal settings (Horodecki)."""
        return chsh_max(self.coefficients)

    @property
    def pooled_qber(self) -> tuple[float, float]:
        """(QBER_Z, QBER_X) of all recorded pairs."""
        return qber(self.coefficients)


def double_downlink_budget(link_a: DownlinkSpec, link_b: DownlinkSpec, source: EntangledPairSource, *,
                           detector_efficiency_a: float = 1.0, detector_efficiency_b: float = 1.0,
                           noise_rate_a: float = 0.0, noise_rate_b: float = 0.0,
                           time_step: float | None = None) -> DoubleDownlinkBudget:
    """The pass of two downlinks from one satellite (``link_a``, ``link_b``, same orbit altitude;
    each with its own station and pass geometry, peaks at t = 0), sampled every ``time_step`` s
    (default ``link_a.time_step``) over the times both stations are inside their windows.

    >>> import math
    >>> from qstack.physical.satellite import GroundStation
    >>> st = GroundStation("G", 0.5, 1.7, 3000.0, 1.2, 0.8, 10.0)
    >>> spec = DownlinkSpec(500e3, math.radians(40), 810e-9, 0.3, st, min_elevation=math.radians(20),
    ...                     divergence=10e-6)
    >>> b = double_downlink_budget(spec, spec, EntangledPairSource(5.9e6, 0.9, 0.9, 2.5e-9), time_step=10.0)
    >>> bool(b.loss_db.min() > 40), bool(2.0 < b.pooled_chsh < 2.6)
    (True, True)
    """
    if link_a.altitude != link_b.altitude:
        raise ValueError(f"link_b.altitude must equal link_a.altitude ({link_a.altitude} m): one satellite, "
                         f"got {link_b.altitude} m")
    dea = check_range("detector_efficiency_a", detector_efficiency_a, low=0.0, high=1.0)
    deb = check_range("detector_efficiency_b", detector_efficiency_b, low=0.0, high=1.0)
    dt = check_range("time_step", link_a.time_step if time_step is None else time_step, low=0.0,
                     low_inclusive=False, unit="s")
    pa, pb = link_a.satellite_pass(), link_b.satellite_pass()
    half = min(pa.visible_window[1], pb.visible_window[1])
    k_max = math.floor(half / dt * (1.0 + 1e-12))
    times = dt * np.arange(-k_max, k_max + 1, dtype=np.float64)
    ca = pa.loss_curve(link_a.channel(), times)
    cb = pb.loss_curve(link_b.channel(), times)
    eta_a = ca.transmissivity * dea
    eta_b = cb.transmissivity * deb
    states = [double_downlink_state(source, float(x), float(y), noise_rate_a, noise_rate_b)
              for x, y in zip(eta_a, eta_b, strict=True)]
    true = np.array([s.true_rate for s in states])
    acc = np.array([s.accidental_rate for s in states])
    total = true + acc
    weight = total / total.sum() if total.sum() > 0 else np.full(total.shape, 1.0 / max(total.size, 1))
    pooled = np.sum(np.array([s.coefficients for s in states]) * weight[:, None], axis=0)
    with np.errstate(divide="ignore"):
        loss_a = -10.0 * np.log10(eta_a)
        loss_b = -10.0 * np.log10(eta_b)
    return DoubleDownlinkBudget(times, ca.slant_range, cb.slant_range, loss_a, loss_b, true, acc,
                                np.array([s.chsh for s in states]), tuple(float(x) for x in pooled),  # type: ignore[arg-type]
                                dt)


def scenario_double_downlink(scenario: Any, satellite: str, ground_a: str, ground_b: str,
                             source: EntangledPairSource, *, noise_rate_a: float = 0.0, noise_rate_b: float = 0.0,
                             time_step: float | None = None) -> DoubleDownlinkBudget:
    """:func:`double_downlink_budget` of a scenario's two ``type = "satellite_downlink"`` links
    from node ``satellite`` to ``ground_a`` and ``ground_b`` (their ``satellite`` tables; each
    link's ``detector_efficiency``, default 1).

    >>> # see examples/real/micius_double_downlink/run.py
    """
    specs = []
    efficiencies = []
    for ground in (ground_a, ground_b):
        link = scenario.link(satellite, ground)
        if getattr(link, "type", None) != "satellite_downlink" or link.satellite is None:
            raise ValueError(f"link {satellite}-{ground}: must have type = \"satellite_downlink\" with a satellite "
                             "table")
        specs.append(link.satellite)
        efficiencies.append(1.0 if link.detector_efficiency is None else link.detector_efficiency)
    return double_downlink_budget(specs[0], specs[1], source, detector_efficiency_a=efficiencies[0],
                                  detector_efficiency_b=efficiencies[1], noise_rate_a=noise_rate_a,
                                  noise_rate_b=noise_rate_b, time_step=time_step)
