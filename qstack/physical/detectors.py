"""Threshold (click / no-click) single-photon detectors.

A threshold detector of efficiency eta and dark-count probability p_dc per detection window
stays silent only if every incident photon is missed and no dark count occurs. Photons are
missed independently (a beam splitter of transmissivity eta in front of an ideal bucket
detector), so for a photon-number distribution p(n)

    P(click) = 1 - (1 - p_dc) * sum_n p(n) (1 - eta)^n,

which gives, in closed form,

- Fock state |n>:                      1 - (1 - p_dc) (1 - eta)^n,
- coherent state, mean photon number mu: 1 - (1 - p_dc) exp(-eta mu),
- thermal state, mean photon number mu:  1 - (1 - p_dc) / (1 + eta mu).

(The standard model of e.g. Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005) for decoy-state QKD.)
Because the loss of a channel of transmissivity t in front of the detector commutes with
this model, a lossy channel and a detector combine into a detector of efficiency eta t:
:meth:`Detector.attenuated`.

Dead time is recorded (the detector cannot click again within ``dead_time`` seconds of a
click) but the click probabilities above are per window and assume the detector is armed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qstack.physical.units import check_range

__all__ = ["Detector"]


@dataclass(frozen=True, slots=True)
class Detector:
    """A threshold single-photon detector.

    ``efficiency`` eta in [0, 1] (probability that one photon causes a click),
    ``dark_count_probability`` p_dc in [0, 1) per detection window, ``dead_time`` in s
    (>= 0) after each click.

    >>> d = Detector(efficiency=0.5, dark_count_probability=1e-6)
    >>> round(d.click_probability_fock(1), 9)
    0.5000005
    >>> round(Detector(0.5).click_probability_coherent(2.0), 12)  # 1 - e^-1
    0.632120558829
    """

    efficiency: float
    dark_count_probability: float = 0.0
    dead_time: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "efficiency", check_range("efficiency", self.efficiency, low=0.0, high=1.0))
        object.__setattr__(
            self,
            "dark_count_probability",
            check_range("dark_count_probability", self.dark_count_probability, low=0.0, high=1.0, high_inclusive=False),
        )
        object.__setattr__(self, "dead_time", check_range("dead_time", self.dead_time, low=0.0, unit="s"))

    @property
    def max_count_rate(self) -> float:
        """Largest possible click rate 1 / dead_time (Hz); ``inf`` without dead time.

        >>> Detector(0.9, dead_time=50e-9).max_count_rate
        20000000.0
        """
        return math.inf if self.dead_time == 0.0 else 1.0 / self.dead_time

    def click_probability_fock(self, photon_number: int) -> float:
        """P(click) = 1 - (1 - p_dc)(1 - eta)^n for the Fock state |n> (n >= 0).

        >>> Detector(0.25).click_probability_fock(2)  # 1 - 0.75^2
        0.4375
        >>> round(Detector(0.25, dark_count_probability=0.01).click_probability_fock(0), 12)
        0.01
        """
        if isinstance(photon_number, bool) or not isinstance(photon_number, (int, np.integer)):
            raise TypeError(f"photon_number must be an integer >= 0, got {photon_number!r}")
        if photon_number < 0:
            raise ValueError(f"photon_number must be an integer >= 0, got {photon_number!r}")
        no_click = (1.0 - self.dark_count_probability) * (1.0 - self.efficiency) ** int(photon_number)
        return 1.0 - no_click

    def click_probability_coherent(self, mean_photon_number: float) -> float:
        """P(click) = 1 - (1 - p_dc) exp(-eta mu) for a coherent state of mean mu >= 0.

        >>> Detector(1.0).click_probability_coherent(0.0)
        0.0
        """
        mu = check_range("mean_photon_number", mean_photon_number, low=0.0)
        return 1.0 - (1.0 - self.dark_count_probability) * math.exp(-self.efficiency * mu)

    def click_probability_thermal(self, mean_photon_number: float) -> float:
        """P(click) = 1 - (1 - p_dc) / (1 + eta mu) for a thermal state of mean mu >= 0.

        The thermal distribution p(n) = mu^n / (1 + mu)^(n+1) is that of one arm of an SPDC
        pair source (:class:`qstack.physical.sources.SPDCSource`).

        >>> Detector(0.5).click_probability_thermal(2.0)  # 1 - 1/2
        0.5
        """
        mu = check_range("mean_photon_number", mean_photon_number, low=0.0)
        return 1.0 - (1.0 - self.dark_count_probability) / (1.0 + self.efficiency * mu)

    def click_probability(self, photon_number_distribution: Sequence[float] | NDArray[np.float64]) -> float:
        """P(click) = 1 - (1 - p_dc) sum_n p(n) (1 - eta)^n for a distribution p(0), p(1), ...

        The entries must be probabilities summing to at most 1 (a truncated distribution's
        missing tail is treated as photons that all go undetected, so the result is then a
        lower bound).

        >>> Detector(0.5).click_probability([0.5, 0.5])  # half vacuum, half one photon
        0.25
        """
        p = np.asarray(photon_number_distribution, dtype=np.float64)
        if p.ndim != 1 or p.size == 0:
            raise ValueError(f"photon_number_distribution must be a non-empty 1-D sequence, got shape {p.shape}")
        if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() > 1.0 + 1e-9:
            raise ValueError(
                "photon_number_distribution must be probabilities in [0, 1] summing to <= 1, "
                f"got {photon_number_distribution!r}"
            )
        miss = (1.0 - self.efficiency) ** np.arange(p.size)
        return float(1.0 - (1.0 - self.dark_count_probability) * np.dot(p, miss))

    def attenuated(self, transmissivity: float) -> Detector:
        """Return the detector seen through a channel of ``transmissivity`` t in [0, 1].

        Loss before a threshold detector acts like a lower efficiency: eta -> eta t, dark
        counts and dead time unchanged.

        >>> Detector(0.5).attenuated(0.1).efficiency
        0.05
        """
        t = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
        return Detector(self.efficiency * t, self.dark_count_probability, self.dead_time)
