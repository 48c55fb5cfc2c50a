"""Optical fibre: loss and propagation delay, plus decibel / transmissivity conversions.

Model: a fibre of length L with attenuation coefficient alpha (dB/km) transmits a photon
with probability (transmissivity)

    eta = 10 ** (-alpha * L_km / 10),

the standard loss model (e.g. Pirandola et al., Nat. Commun. 8, 15043 (2017) use it for the
PLOB bound; alpha ~ 0.2 dB/km at 1550 nm in standard single-mode fibre). A signal travels at
the group velocity c / n_g, so the one-way delay is L * n_g / c. We parametrise the speed by
the (group) refractive index ``refractive_index`` = 1.44 by default, i.e. ~2.08e8 m/s, the
value usually rounded to "2e8 m/s" (REFERENCES.md, Generation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from typing import overload

import numpy as np
from numpy.typing import NDArray

from qstack.physical.units import SPEED_OF_LIGHT, check_range

__all__ = ["Fibre", "db_to_transmissivity", "transmissivity_to_db"]


@overload
def db_to_transmissivity(loss_db: float) -> float: ...


@overload
def db_to_transmissivity(loss_db: NDArray[np.float64]) -> NDArray[np.float64]: ...


def db_to_transmissivity(loss_db: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
    """Return the transmissivity 10^(-loss/10) of a loss given in dB (loss >= 0).

    Accepts a float or a numpy array; a loss of ``inf`` dB gives transmissivity 0.

    >>> db_to_transmissivity(10.0)
    0.1
    >>> db_to_transmissivity(0.0)
    1.0
    """
    if isinstance(loss_db, np.ndarray):
        if np.any(np.isnan(loss_db)) or np.any(loss_db < 0):
            raise ValueError(f"loss_db must be >= 0 dB, got {loss_db!r}")
        return np.power(10.0, -loss_db / 10.0)
    if isinstance(loss_db, bool) or not isinstance(loss_db, Real):
        raise TypeError(f"loss_db must be a real number >= 0 dB, got {loss_db!r}")
    if math.isnan(loss_db) or loss_db < 0:
        raise ValueError(f"loss_db must be >= 0 dB, got {loss_db!r}")
    return float(10.0 ** (-float(loss_db) / 10.0))


@overload
def transmissivity_to_db(transmissivity: float) -> float: ...


@overload
def transmissivity_to_db(transmissivity: NDArray[np.float64]) -> NDArray[np.float64]: ...


def transmissivity_to_db(
    transmissivity: float | NDArray[np.float64],
) -> float | NDArray[np.float64]:
    """Return the loss -10 log10(eta) in dB of a transmissivity 0 <= eta <= 1.

    Transmissivity 0 gives ``inf`` dB. Accepts a float or a numpy array.

    >>> transmissivity_to_db(0.01)
    20.0
    >>> transmissivity_to_db(1.0)
    0.0
    """
    if isinstance(transmissivity, np.ndarray):
        t = transmissivity
        if np.any(np.isnan(t)) or np.any(t < 0) or np.any(t > 1):
            raise ValueError(f"transmissivity must be in [0, 1], got {transmissivity!r}")
        with np.errstate(divide="ignore"):
            return np.where(t > 0, -10.0 * np.log10(np.where(t > 0, t, 1.0)), np.inf)
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    if eta == 0.0:
        return math.inf
    return 0.0 - 10.0 * math.log10(eta)  # "0.0 -" turns -0.0 into 0.0


@dataclass(frozen=True, slots=True)
class Fibre:
    """A length of optical fibre with exponential loss and group-velocity delay.

    Parameters (SI): ``length`` in m (>= 0), ``attenuation_db_per_km`` in dB/km (>= 0,
    default 0.2, telecom C-band), ``refractive_index`` the group index n_g (>= 1, default
    1.44), which sets the signal speed c / n_g.

    >>> fibre = Fibre(50_000.0)
    >>> round(fibre.transmissivity, 12), fibre.loss_db
    (0.1, 10.0)
    >>> round(fibre.delay * 1e6, 3)  # microseconds
    240.166
    """

    length: float
    attenuation_db_per_km: float = 0.2
    refractive_index: float = 1.44

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", check_range("length", self.length, low=0.0, unit="m"))
        object.__setattr__(
            self,
            "attenuation_db_per_km",
            check_range("attenuation_db_per_km", self.attenuation_db_per_km, low=0.0, unit="dB/km"),
        )
        object.__setattr__(self, "refractive_index", check_range("refractive_index", self.refractive_index, low=1.0))

    @property
    def loss_db(self) -> float:
        """Total loss alpha * L in dB (L in km).

        >>> Fibre(25_000.0, attenuation_db_per_km=0.16).loss_db
        4.0
        """
        return self.attenuation_db_per_km * self.length / 1000.0

    @property
    def transmissivity(self) -> float:
        """Probability 10^(-alpha L / 10) that a photon entering the fibre leaves it.

        >>> Fibre(0.0).transmissivity
        1.0
        """
        return db_to_transmissivity(self.loss_db)

    @property
    def speed(self) -> float:
        """Signal (group) speed c / n_g in m/s.

        >>> Fibre(1.0, refractive_index=1.0).speed
        299792458.0
        """
        return SPEED_OF_LIGHT / self.refractive_index

    @property
    def delay(self) -> float:
        """One-way propagation time L * n_g / c in s.

        >>> Fibre(299_792_458.0, refractive_index=1.0).delay
        1.0
        """
        return self.length * self.refractive_index / SPEED_OF_LIGHT
