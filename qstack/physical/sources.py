"""Photon sources and their photon-number statistics.

- :class:`WeakCoherentSource`: a phase-randomised attenuated laser pulse of mean photon
  number mu has Poissonian statistics p(n) = e^-mu mu^n / n!, the input of decoy-state BB84
  (Hwang, PRL 91, 057901 (2003); Lo, Ma, Chen, PRL 94, 230504 (2005)).
- :class:`SinglePhotonSource`: a triggered source that emits exactly one photon with
  probability ``efficiency`` and nothing otherwise (no multi-photon component).
- :class:`SPDCSource`: one spatial/polarisation mode pair of spontaneous parametric
  down-conversion has thermal pair statistics p(n) = mu^n / (1 + mu)^(n+1) with mean pair
  number mu (e.g. Ma, Fung, Lo, PRA 76, 012307 (2007)).

A polarisation-entangled SPDC source (two such mode pairs, H_aH_b and V_aV_b, each of mean
pair number mu/2, as in a Sagnac or two-crystal source of Φ⁺) seen through threshold detectors
loses two-photon visibility to its multi-pair emissions: :func:`spdc_coincidence_probability`
and :func:`spdc_visibility` (derivation there; V -> (1 + mu/2)/(1 + 3mu/2) = 1 - mu + O(mu²) at
low detection efficiency, the V = 1 - alpha of Kuzucu & Wong, PRA 77, 032314 (2008) and the
V = 1 - 2rho per mode pair of Scarani et al., Eur. Phys. J. D 32, 129 (2005); the exact
threshold-detector formulas are those of Takesue & Shimizu, Opt. Commun. 283, 276 (2010)).

Every source exposes ``photon_number_probability(n)``, ``photon_number_distribution(n_max)``
(p(0..n_max) as a numpy array, feeding :meth:`qstack.physical.detectors.Detector.click_probability`),
``mean_photon_number``, ``multi_photon_probability`` and ``repetition_rate`` (Hz) with its
``pulse_period`` (s). For the SPDC source "photon number" means pair number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qstack.physical.units import check_range

__all__ = ["SPDCSource", "SinglePhotonSource", "WeakCoherentSource", "spdc_coincidence_probability", "spdc_visibility"]


def _photon_number(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= 0, got {n!r}")
    if n < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {n!r}")
    return int(n)


def _rate(value: float) -> float:
    return check_range("repetition_rate", value, low=0.0, low_inclusive=False, unit="Hz")


@dataclass(frozen=True, slots=True)
class WeakCoherentSource:
    """Attenuated laser: Poissonian photon number of mean ``mean_photon_number`` (>= 0).

    ``repetition_rate`` in Hz (> 0).

    >>> src = WeakCoherentSource(mean_photon_number=0.5, repetition_rate=100e6)
    >>> round(src.photon_number_probability(1), 12)  # 0.5 e^-0.5
    0.303265329856
    >>> src.pulse_period
    1e-08
    """

    mean_photon_number: float
    repetition_rate: float

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "mean_photon_number", check_range("mean_photon_number", self.mean_photon_number, low=0.0)
        )
        object.__setattr__(self, "repetition_rate", _rate(self.repetition_rate))

    @property
    def pulse_period(self) -> float:
        """Time between pulses, 1 / repetition_rate (s).

        >>> WeakCoherentSource(0.1, 1e6).pulse_period
        1e-06
        """
        return 1.0 / self.repetition_rate

    def photon_number_probability(self, n: int) -> float:
        """p(n) = e^-mu mu^n / n!.

        >>> WeakCoherentSource(0.0, 1.0).photon_number_probability(0)
        1.0
        """
        n = _photon_number(n)
        mu = self.mean_photon_number
        if mu == 0.0:
            return 1.0 if n == 0 else 0.0
        return math.exp(-mu + n * math.log(mu) - math.lgamma(n + 1))

    def photon_number_distribution(self, n_max: int) -> NDArray[np.float64]:
        """Array p(0), ..., p(n_max).

        >>> WeakCoherentSource(1.0, 1.0).photon_number_distribution(2).round(6).tolist()
        [0.367879, 0.367879, 0.18394]
        """
        n = np.arange(_photon_number(n_max, "n_max") + 1)
        mu = self.mean_photon_number
        if mu == 0.0:
            return (n == 0).astype(np.float64)
        from scipy.special import gammaln  # here, not at import: scipy.special costs start-up time

        return np.exp(-mu + n * math.log(mu) - gammaln(n + 1))

    @property
    def multi_photon_probability(self) -> float:
        """P(n >= 2) = 1 - e^-mu (1 + mu).

        >>> round(WeakCoherentSource(0.1, 1.0).multi_photon_probability, 9)
        0.00467884
        """
        mu = self.mean_photon_number
        return -math.expm1(-mu) - mu * math.exp(-mu)


@dataclass(frozen=True, slots=True)
class SinglePhotonSource:
    """Emits one photon with probability ``efficiency`` in [0, 1], else vacuum.

    ``repetition_rate`` in Hz (> 0).

    >>> src = SinglePhotonSource(efficiency=0.6, repetition_rate=1e6)
    >>> src.photon_number_distribution(2).tolist()
    [0.4, 0.6, 0.0]
    """

    efficiency: float
    repetition_rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "efficiency", check_range("efficiency", self.efficiency, low=0.0, high=1.0))
        object.__setattr__(self, "repetition_rate", _rate(self.repetition_rate))

    @property
    def pulse_period(self) -> float:
        """Time between triggers, 1 / repetition_rate (s).

        >>> SinglePhotonSource(1.0, 2e6).pulse_period
        5e-07
        """
        return 1.0 / self.repetition_rate

    @property
    def mean_photon_number(self) -> float:
        """Mean photon number per trigger, equal to ``efficiency``.

        >>> SinglePhotonSource(0.3, 1.0).mean_photon_number
        0.3
        """
        return self.efficiency

    def photon_number_probability(self, n: int) -> float:
        """p(0) = 1 - efficiency, p(1) = efficiency, p(n >= 2) = 0.

        >>> SinglePhotonSource(0.3, 1.0).photon_number_probability(1)
        0.3
        """
        n = _photon_number(n)
        if n == 0:
            return 1.0 - self.efficiency
        return self.efficiency if n == 1 else 0.0

    def photon_number_distribution(self, n_max: int) -> NDArray[np.float64]:
        """Array p(0), ..., p(n_max) (n_max >= 0; with n_max = 0 only the vacuum term).

        >>> SinglePhotonSource(0.3, 1.0).photon_number_distribution(1).tolist()
        [0.7, 0.3]
        """
        size = _photon_number(n_max, "n_max") + 1
        return np.array([self.photon_number_probability(n) for n in range(size)], dtype=np.float64)

    @property
    def multi_photon_probability(self) -> float:
        """P(n >= 2) = 0 for an ideal single-photon source.

        >>> SinglePhotonSource(0.9, 1.0).multi_photon_probability
        0.0
        """
        return 0.0


@dataclass(frozen=True, slots=True)
class SPDCSource:
    """SPDC pair source with thermal pair statistics of mean ``mean_pair_number`` (>= 0).

    ``repetition_rate`` in Hz (> 0; the pump pulse rate, or the inverse coincidence window
    for a CW pump).

    >>> src = SPDCSource(mean_pair_number=0.1, repetition_rate=1e8)
    >>> round(src.photon_number_probability(1), 12)  # 0.1 / 1.1^2
    0.082644628099
    """

    mean_pair_number: float
    repetition_rate: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "mean_pair_number", check_range("mean_pair_number", self.mean_pair_number, low=0.0))
        object.__setattr__(self, "repetition_rate", _rate(self.repetition_rate))

    @property
    def pulse_period(self) -> float:
        """Time between pump pulses, 1 / repetition_rate (s).

        >>> SPDCSource(0.1, 1e8).pulse_period
        1e-08
        """
        return 1.0 / self.repetition_rate

    @property
    def mean_photon_number(self) -> float:
        """Mean pair number mu (the mean photon number in either arm).

        >>> SPDCSource(0.2, 1.0).mean_photon_number
        0.2
        """
        return self.mean_pair_number

    def photon_number_probability(self, n: int) -> float:
        """p(n) = mu^n / (1 + mu)^(n+1), the probability of exactly n pairs.

        >>> SPDCSource(1.0, 1.0).photon_number_probability(0)
        0.5
        """
        n = _photon_number(n)
        mu = self.mean_pair_number
        if mu == 0.0:
            return 1.0 if n == 0 else 0.0
        return math.exp(n * math.log(mu) - (n + 1) * math.log1p(mu))

    def photon_number_distribution(self, n_max: int) -> NDArray[np.float64]:
        """Array p(0), ..., p(n_max) of pair numbers.

        >>> SPDCSource(1.0, 1.0).photon_number_distribution(2).round(12).tolist()
        [0.5, 0.25, 0.125]
        """
        n = np.arange(_photon_number(n_max, "n_max") + 1)
        mu = self.mean_pair_number
        if mu == 0.0:
            return (n == 0).astype(np.float64)
        return np.exp(n * math.log(mu) - (n + 1) * math.log1p(mu))

    @property
    def multi_photon_probability(self) -> float:
        """P(n >= 2 pairs) = (mu / (1 + mu))^2.

        >>> SPDCSource(1.0, 1.0).multi_photon_probability
        0.25
        """
        mu = self.mean_pair_number
        return (mu / (1.0 + mu)) ** 2


def spdc_coincidence_probability(mean_pair_number: float, eta_a: float, eta_b: float, overlap: float,
                                 p_dark_a: float = 0.0, p_dark_b: float = 0.0) -> float:
    """Probability per pulse that a threshold detector behind a polariser at each end clicks,
    for a polarisation-entangled SPDC source of total mean pair number ``mean_pair_number`` (mu).

    The source is two independent two-mode squeezed vacua (H_aH_b and V_aV_b), each of mean pair
    number mu_s = mu/2 and thermal pair statistics mu_s^n/(1 + mu_s)^(n+1). ``overlap`` is the
    polarisers' amplitude overlap c (for linear polarisers at angles theta_a, theta_b on Φ⁺,
    c = cos(theta_a - theta_b)); ``eta_a``, ``eta_b`` the arms' detection probabilities (loss is a
    beam splitter: the state stays Gaussian); ``p_dark_*`` the detectors' dark-count
    probabilities per pulse. The two analysed modes a, b are a zero-mean Gaussian state with
    n_a = eta_a mu_s, n_b = eta_b mu_s and <ab> = m = sqrt(eta_a eta_b mu_s (1 + mu_s)) c (and
    <a†b> = <aa> = <bb> = 0), whose vacuum probabilities are 1/(1 + n_a) and
    1/((1 + n_a)(1 + n_b) - m^2) (from the Husimi function at the origin). So

        P_cc = 1 - (1-d_a)/(1+n_a) - (1-d_b)/(1+n_b) + (1-d_a)(1-d_b)/((1+n_a)(1+n_b) - m^2).

    >>> round(spdc_coincidence_probability(0.0, 0.5, 0.5, 1.0), 12)
    0.0
    >>> round(spdc_coincidence_probability(0.2, 1.0, 1.0, 1.0), 12)   # = P(at least one H pair)
    0.090909090909
    """
    mu = check_range("mean_pair_number", mean_pair_number, low=0.0)
    ea = check_range("eta_a", eta_a, low=0.0, high=1.0)
    eb = check_range("eta_b", eta_b, low=0.0, high=1.0)
    c = check_range("overlap", overlap, low=-1.0, high=1.0)
    da = check_range("p_dark_a", p_dark_a, low=0.0, high=1.0)
    db = check_range("p_dark_b", p_dark_b, low=0.0, high=1.0)
    mu_s = mu / 2.0
    n_a, n_b = ea * mu_s, eb * mu_s
    m2 = ea * eb * mu_s * (1.0 + mu_s) * c * c
    a, b = 1.0 + n_a, 1.0 + n_b
    d = a * b - m2
    # the same sum, regrouped so that no two O(1) terms cancel (P_cc ~ eta² at low efficiency):
    # [1 - (1-d_a)/A][1 - (1-d_b)/B] + (1-d_a)(1-d_b)(1/D - 1/(AB)), with 1/D - 1/(AB) = m²/(AB·D)
    return (n_a + da) / a * ((n_b + db) / b) + (1.0 - da) * (1.0 - db) * m2 / (a * b * d)


def spdc_visibility(mean_pair_number: float, eta_a: float, eta_b: float,
                    p_dark_a: float = 0.0, p_dark_b: float = 0.0) -> float:
    """Two-photon polarisation visibility ``(P_cc(c=1) - P_cc(c=0)) / (P_cc(c=1) + P_cc(c=0))`` of
    the source of :func:`spdc_coincidence_probability` (parallel against crossed polarisers).

    The Gaussian state is invariant under the polarisation rotations U ⊗ U*, so the visibility is
    the same in every basis: the coincidences are those of a Werner state of parameter V. At low
    detection efficiency, P_cc ~ eta_a eta_b (mu_s^2 + mu_s (1 + mu_s) c^2) and
    V -> (1 + mu_s)/(1 + 3 mu_s) = (2 + mu)/(2 + 3mu) ~ 1 - mu: independent of the efficiencies
    and of the basis (Kuzucu & Wong 2008); higher efficiencies lower it further. 1 for mu = 0
    (without dark counts; 0 when nothing clicks).

    >>> round(spdc_visibility(0.1, 1e-9, 1e-9), 9)   # (2 + 0.1)/(2 + 0.3)
    0.913043478
    >>> round(spdc_visibility(0.1, 1.0, 1.0), 12)   # lossless: 1/(1 + mu)
    0.909090909091
    >>> round(spdc_visibility(0.0, 0.3, 0.3), 12)
    1.0
    """
    mu = check_range("mean_pair_number", mean_pair_number, low=0.0)
    if mu == 0.0 and p_dark_a == 0.0 and p_dark_b == 0.0:
        check_range("eta_a", eta_a, low=0.0, high=1.0)
        check_range("eta_b", eta_b, low=0.0, high=1.0)
        return 1.0
    par = spdc_coincidence_probability(mu, eta_a, eta_b, 1.0, p_dark_a, p_dark_b)
    cross = spdc_coincidence_probability(mu, eta_a, eta_b, 0.0, p_dark_a, p_dark_b)
    total = par + cross
    return (par - cross) / total if total > 0.0 else 0.0
