"""Single-atom quantum-network nodes and heralded atom–atom entanglement through a middle station.

A node is one trapped atom (⁸⁷Rb in the Munich and USTC experiments) whose spin is entangled
with the polarisation of a photon it emits (Weinfurter/Rempe-type nodes; Rosenfeld et al., PRL
119, 010402 (2017); Zhang et al., Nature 607, 687 (2022)). The model, per node:

* **Atom–photon state** of fidelity ``F`` to the target Bell state, taken in Werner form: its
  visibility (correlators in every basis) is ``V = (4F − 1)/3`` (:func:`visibility_from_fidelity`).
* **Photon path** to the station, transmissivity (:attr:`AtomNode.transmissivity`)
  ``η = η_coll · η_conv · 10^(−α L / 10) · η_det``: collection into the fibre mode (including
  the excitation/branching efficiency), the quantum frequency converter to telecom (efficiency
  ``η_conv``; 1 = no converter), the fibre (``α`` dB/km over ``L`` km, at the wavelength that
  travels), the station detector. The converter's noise photons (``ν`` per detection window)
  travel the same fibre.
* **Two-photon Bell-state measurement** at the station (linear optics: a beam splitter and
  polarisation analysis identify ``Ψ⁺`` and ``Ψ⁻``, half of the Bell basis): a herald needs both
  photons, ``p_true = η_A η_B / 2`` per attempt. Entanglement swapping of two Werner pairs gives a
  Werner pair of visibility ``V_A V_B`` (derived and checked in the tests by projecting the
  photons of ``ρ_A ⊗ ρ_B`` onto ``Ψ⁻``).
* **Two-photon interference visibility** ``M`` (the photons' mode overlap, Hong–Ou–Mandel):
  the measurement's projector keeps its populations but its coherence scales by ``M``,
  ``E = ½(|01⟩⟨01| + |10⟩⟨10|) − (M/2)(|01⟩⟨10| + |10⟩⟨01|)``, so the heralded pair's Z
  correlation is unchanged and its X and Y correlations scale by ``M`` (tests).
* **Accidental heralds**: each of the four detectors clicks from noise with probability
  ``d = p_dc + (ν_A t_A + ν_B t_B)/4`` per window (first order; ``t`` = fibre × detector
  transmission of the noise photons, shared out over the four detectors). Each detector is in one
  ``Ψ⁺`` and one ``Ψ⁻`` pair, so one real photon plus one noise click in one of its two partner
  detectors heralds: ``p_acc = 2d[η_A(1 − η_B) + η_B(1 − η_A)] + 4 d² (1 − η_A)(1 − η_B)``.
  Such a herald leaves one atom projected and the other maximally mixed — zero correlations in
  every basis — so it multiplies every correlator by ``f = p_true / (p_true + p_acc)``.

The heralded state is then Bell-diagonal with correlation-matrix magnitudes
``T_zz = V_A V_B f`` and ``T_xx = T_yy = M V_A V_B f`` (:meth:`AtomAtomLink.density_matrix`);
its optimal CHSH value (Horodecki, Horodecki & Horodecki, PLA 200, 340 (1995)) is
``S = 2 √(T_zz² + T_xx²)``, the key-basis (Z) error rate ``Q = (1 − T_zz)/2`` and the fidelity
``F = (1 + T_zz + 2 T_xx)/4``; with ``M = 1`` this is a Werner pair, ``S = 2√2 V``,
``Q = (1 − V)/2``. The event rate is ``attempt_rate × (p_true + p_acc)``.

Single-photon-interference heralding (the USTC 100 km scheme, link scheme ``"atom_single_photon"``,
:class:`AtomSinglePhoton`) is the single-click model of :mod:`qstack.physical.heralding`, to
which it delegates (success ``≈ 2αη``, linear in the transmissivity; fidelity ``≈ 1 − α``): each
atom's spin is entangled with the photon *number* (bright-state population ``α``), one click
behind the station's beam splitter heralds ``Ψ±``. The atom arms' transmissivities include the
converter's efficiency, the photons' interference visibility ``M`` multiplies the heralded
coherence (an optical phase of spread ``σ`` does the same by ``e^{−σ²/2}``, so ``M`` enters as
``σ² → σ² − 2 ln M``) and the converter's noise adds its clicks per detector and window to the
two detectors' dark counts.

>>> node = AtomNode(atom_photon_fidelity=0.97, collection_efficiency=0.1, detection_efficiency=0.9,
...                 fibre_length=1e3, attenuation_db_per_km=3.0)
>>> link = AtomAtomLink(node, node, attempt_rate=5e4)
>>> round(link.success_probability, 8), round(link.chsh, 4), round(link.qber, 4)
(0.00101731, 2.6067, 0.0392)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from qstack.physical.heralding import HeraldingModel
from qstack.physical.station import LINK_SCHEMES, LinkHardware, SingleClick, depolarised
from qstack.physical.units import check_range

__all__ = [
    "AtomAtomLink",
    "AtomLinkModel",
    "AtomNode",
    "AtomSinglePhoton",
    "AtomTwoPhoton",
    "chsh_from_correlations",
    "fidelity_from_visibility",
    "visibility_from_fidelity",
]


def visibility_from_fidelity(fidelity: float) -> float:
    """Visibility ``V = (4F − 1)/3`` of a Werner pair of Bell-state fidelity ``F`` in [¼, 1].

    >>> visibility_from_fidelity(1.0), visibility_from_fidelity(0.25)
    (1.0, 0.0)
    """
    f = check_range("fidelity", fidelity, low=0.25, high=1.0)
    return (4.0 * f - 1.0) / 3.0


def fidelity_from_visibility(visibility: float) -> float:
    """Inverse of :func:`visibility_from_fidelity`: ``F = (1 + 3V)/4``, ``V`` in [0, 1].

    >>> fidelity_from_visibility(0.6)
    0.7
    """
    v = check_range("visibility", visibility, low=0.0, high=1.0)
    return (1.0 + 3.0 * v) / 4.0


def chsh_from_correlations(t_zz: float, t_xx: float) -> float:
    """Optimal CHSH value ``2 √(T_zz² + T_xx²)`` of a Bell-diagonal pair whose two largest
    correlation magnitudes are ``T_zz`` and ``T_xx`` (each in [0, 1]).

    >>> round(chsh_from_correlations(1.0, 1.0), 6)
    2.828427
    """
    zz = check_range("t_zz", t_zz, low=0.0, high=1.0)
    xx = check_range("t_xx", t_xx, low=0.0, high=1.0)
    return 2.0 * math.sqrt(zz * zz + xx * xx)


@dataclass(frozen=True)
class AtomNode:
    """One single-atom node and its photon's path to the middle station (module docstring).

    ``atom_photon_fidelity`` in [¼, 1]; ``collection_efficiency``, ``detection_efficiency``,
    ``conversion_efficiency`` in [0, 1]; ``fibre_length`` in metres (≥ 0);
    ``attenuation_db_per_km`` ≥ 0 at the travelling wavelength; ``conversion_noise`` ≥ 0 noise
    photons per detection window leaving the converter.

    >>> AtomNode(collection_efficiency=0.5, detection_efficiency=0.8).transmissivity
    0.4
    """

    atom_photon_fidelity: float = 1.0
    collection_efficiency: float = 1.0
    detection_efficiency: float = 1.0
    fibre_length: float = 0.0
    attenuation_db_per_km: float = 0.0
    conversion_efficiency: float = 1.0
    conversion_noise: float = 0.0

    def __post_init__(self) -> None:
        check_range("atom_photon_fidelity", self.atom_photon_fidelity, low=0.25, high=1.0)
        for name in ("collection_efficiency", "detection_efficiency", "conversion_efficiency"):
            check_range(name, getattr(self, name), low=0.0, high=1.0)
        check_range("fibre_length", self.fibre_length, low=0.0, unit="m")
        check_range("attenuation_db_per_km", self.attenuation_db_per_km, low=0.0, unit="dB/km")
        check_range("conversion_noise", self.conversion_noise, low=0.0)

    @property
    def fibre_transmissivity(self) -> float:
        """``10^(−α L/10)`` with ``L`` in km."""
        return 10.0 ** (-self.attenuation_db_per_km * self.fibre_length / 1e3 / 10.0)

    @property
    def transmissivity(self) -> float:
        """Probability that the emitted photon is detected: ``η_coll η_conv 10^(−αL/10) η_det``."""
        return (self.collection_efficiency * self.conversion_efficiency * self.fibre_transmissivity
                * self.detection_efficiency)

    @property
    def visibility(self) -> float:
        """Atom–photon visibility ``(4F − 1)/3``."""
        return visibility_from_fidelity(self.atom_photon_fidelity)

    @property
    def noise_photons_detected(self) -> float:
        """Converter noise photons reaching the station's detectors per window: ``ν 10^(−αL/10) η_det``."""
        return self.conversion_noise * self.fibre_transmissivity * self.detection_efficiency


@dataclass(frozen=True)
class AtomAtomLink:
    """Heralded atom–atom entanglement between ``alice`` and ``bob`` through a two-photon Bell-state
    measurement at a middle station (module docstring).

    ``attempt_rate`` in Hz (> 0); ``interference_visibility`` ``M`` in [0, 1];
    ``dark_count_probability`` per detector per detection window in [0, 1).
    """

    alice: AtomNode
    bob: AtomNode
    attempt_rate: float
    interference_visibility: float = 1.0
    dark_count_probability: float = 0.0

    def __post_init__(self) -> None:
        check_range("attempt_rate", self.attempt_rate, low=0.0, low_inclusive=False, unit="Hz")
        check_range("interference_visibility", self.interference_visibility, low=0.0, high=1.0)
        check_range("dark_count_probability", self.dark_count_probability, low=0.0, high=1.0, high_inclusive=False)

    @property
    def noise_click_probability(self) -> float:
        """``d = p_dc + (ν_A t_A + ν_B t_B)/4`` per detector and window (first order, capped at 1)."""
        d = self.dark_count_probability + (self.alice.noise_photons_detected + self.bob.noise_photons_detected) / 4.0
        return min(1.0, d)

    @property
    def true_herald_probability(self) -> float:
        """``η_A η_B / 2``: both photons detected in a ``Ψ±`` pattern."""
        return self.alice.transmissivity * self.bob.transmissivity / 2.0

    @property
    def accidental_herald_probability(self) -> float:
        """``2d[η_A(1 − η_B) + η_B(1 − η_A)] + 4d²(1 − η_A)(1 − η_B)``."""
        ea, eb, d = self.alice.transmissivity, self.bob.transmissivity, self.noise_click_probability
        return 2.0 * d * (ea * (1.0 - eb) + eb * (1.0 - ea)) + 4.0 * d * d * (1.0 - ea) * (1.0 - eb)

    @property
    def success_probability(self) -> float:
        """Herald probability per attempt, ``p_true + p_acc``."""
        return self.true_herald_probability + self.accidental_herald_probability

    @property
    def event_rate(self) -> float:
        """Heralded events per second: ``attempt_rate × success_probability``."""
        return self.attempt_rate * self.success_probability

    @property
    def true_fraction(self) -> float:
        """``f = p_true / (p_true + p_acc)`` (0 if nothing heralds)."""
        p = self.success_probability
        return self.true_herald_probability / p if p > 0.0 else 0.0

    @property
    def correlations(self) -> tuple[float, float]:
        """``(T_zz, T_xx)`` of the heralded pair: ``V_A V_B f`` and ``M V_A V_B f``."""
        zz = self.alice.visibility * self.bob.visibility * self.true_fraction
        return zz, self.interference_visibility * zz

    @property
    def chsh(self) -> float:
        """Optimal CHSH value ``2√(T_zz² + T_xx²)``."""
        return chsh_from_correlations(*self.correlations)

    @property
    def chsh_standard_settings(self) -> float:
        """CHSH value ``√2 (T_zz + T_xx)`` at the settings that are optimal for a Werner pair
        (``A₀ = Z``, ``A₁ = X``, ``B = (Z ± X)/√2``; :mod:`qstack.apps.chsh`); equals :attr:`chsh`
        when ``M = 1``."""
        zz, xx = self.correlations
        return math.sqrt(2.0) * (zz + xx)

    @property
    def qber(self) -> float:
        """Key-basis (Z) error rate ``(1 − T_zz)/2``."""
        return (1.0 - self.correlations[0]) / 2.0

    @property
    def fidelity(self) -> float:
        """Fidelity to the heralded Bell state, ``(1 + T_zz + 2 T_xx)/4``."""
        zz, xx = self.correlations
        return (1.0 + zz + 2.0 * xx) / 4.0

    def density_matrix(self) -> np.ndarray:
        """The heralded pair as a 4×4 matrix, Bell-diagonal around ``Ψ⁻``:
        ``¼(𝟙 − T_xx σ_x⊗σ_x − T_xx σ_y⊗σ_y − T_zz σ_z⊗σ_z)``.

        >>> link = AtomAtomLink(AtomNode(), AtomNode(), attempt_rate=1.0)
        >>> round(float(link.density_matrix()[1, 2].real), 6)         # ⟨01|ρ|10⟩ of Ψ⁻
        -0.5
        """
        zz, xx = self.correlations
        sx = np.array([[0, 1], [1, 0]], dtype=complex)
        sy = np.array([[0, -1j], [1j, 0]], dtype=complex)
        sz = np.diag([1.0, -1.0]).astype(complex)
        return (np.eye(4) - xx * np.kron(sx, sx) - xx * np.kron(sy, sy) - zz * np.kron(sz, sz)) / 4.0


# --------------------------------------------------------------------------------------------
# The "atom_two_photon" link scheme: the heralded pair of AtomAtomLink in a scenario's network


def _bell_diagonal(t_zz: float, t_xx: float, psi_plus: bool) -> np.ndarray:
    """``¼(𝟙 ± T_xx σ_x⊗σ_x ± T_xx σ_y⊗σ_y − T_zz σ_z⊗σ_z)``: around Ψ⁺ (+) or Ψ⁻ (−)."""
    sx = np.array([[0, 1], [1, 0]], dtype=complex)
    sy = np.array([[0, -1j], [1j, 0]], dtype=complex)
    sz = np.diag([1.0, -1.0]).astype(complex)
    sign = 1.0 if psi_plus else -1.0
    return (np.eye(4) + sign * t_xx * (np.kron(sx, sx) + np.kron(sy, sy)) - t_zz * np.kron(sz, sz)) / 4.0


@dataclass(frozen=True)
class AtomLinkModel:
    """A link's generation model (:mod:`qstack.physical.station`) from an :class:`AtomAtomLink`:
    success probability ``p_true + p_acc`` per attempt of ``cycle_time`` seconds; the two heralds
    Ψ⁺ and Ψ⁻ (Bell indices 2 and 3) are equally likely, each leaving the Bell-diagonal pair of
    :meth:`AtomAtomLink.density_matrix` around its Bell state.

    >>> m = AtomLinkModel(AtomAtomLink(AtomNode(), AtomNode(), attempt_rate=1e3), cycle_time=1e-3)
    >>> m.success_probability, m.fidelity
    (0.5, 1.0)
    """

    link: AtomAtomLink
    cycle_time: float
    round_period: float = 0.0

    @property
    def success_probability(self) -> float:
        """Herald probability per attempt."""
        return self.link.success_probability

    @property
    def first_round_probability(self) -> float:
        """One round per attempt: the success probability."""
        return self.link.success_probability

    @property
    def fidelity(self) -> float:
        """Fidelity to the announced Bell state, :attr:`AtomAtomLink.fidelity`."""
        return self.link.fidelity

    @property
    def outcome_probabilities(self) -> tuple[float, float]:
        """``(p/2, p/2)`` for Ψ⁺ and Ψ⁻."""
        p = self.link.success_probability / 2.0
        return p, p

    def outcomes(self) -> list[tuple[int, np.ndarray]]:
        """``[(2, (p/2) ρ_Ψ⁺), (3, (p/2) ρ_Ψ⁻)]``, unnormalised (traces are the probabilities)."""
        zz, xx = self.link.correlations
        p = self.link.success_probability / 2.0
        return [(2, p * _bell_diagonal(zz, xx, True)), (3, p * _bell_diagonal(zz, xx, False))]


@LINK_SCHEMES.register("atom_two_photon")
class AtomTwoPhoton:
    """Heralded atom–atom entanglement by a two-photon Bell-state measurement
    (:class:`AtomAtomLink`), as a link scheme. From the link's hardware it takes each arm's
    detection probability (``emission_efficiency`` = the atom's collection efficiency ×
    fibre × station ``detector_efficiency``), the station's ``dark_count_probability`` and the
    attempt period; its own parameters are the atoms' ``atom_photon_fidelity`` (both nodes, or
    ``atom_photon_fidelity_b`` for Bob's if different), the photons'
    ``interference_visibility`` M, a frequency converter's ``conversion_efficiency`` and the
    converter's ``noise_photons`` per detection window that reach the station from each arm.
    The ends' ``raw_fidelity`` still depolarises every pair on top (leave it at 1).

    In a scenario: ``scheme = { name = "atom_two_photon", atom_photon_fidelity = 0.97,
    interference_visibility = 0.95 }``.

    >>> hw = LinkHardware(eta_a=0.1, eta_b=0.1, cycle_time=2e-5)
    >>> m = AtomTwoPhoton(atom_photon_fidelity=0.97).model(hw, 0.5)
    >>> round(m.success_probability, 6), round(m.link.chsh, 4)
    (0.005, 2.6067)
    """

    name = "atom_two_photon"

    def __init__(self, atom_photon_fidelity: float = 1.0, atom_photon_fidelity_b: float | None = None,
                 interference_visibility: float = 1.0, conversion_efficiency: float = 1.0,
                 noise_photons: float = 0.0) -> None:
        self.fidelity_a = check_range("atom_photon_fidelity", atom_photon_fidelity, low=0.25, high=1.0)
        self.fidelity_b = self.fidelity_a if atom_photon_fidelity_b is None else check_range(
            "atom_photon_fidelity_b", atom_photon_fidelity_b, low=0.25, high=1.0)
        self.visibility = check_range("interference_visibility", interference_visibility, low=0.0, high=1.0)
        self.conversion = check_range("conversion_efficiency", conversion_efficiency, low=0.0, high=1.0)
        self.noise = check_range("noise_photons", noise_photons, low=0.0)

    def atom_link(self, hw: LinkHardware) -> AtomAtomLink:
        """The :class:`AtomAtomLink` of a link's hardware (arm efficiencies already include
        collection, fibre and detector; ``noise_photons`` are counted at the detectors)."""
        if hw.cycle_time <= 0.0:
            raise ValueError(f"atom_two_photon needs an attempt period > 0 s, got cycle_time = {hw.cycle_time}")
        a = AtomNode(self.fidelity_a, collection_efficiency=hw.eta_a, conversion_efficiency=self.conversion,
                     conversion_noise=self.noise)
        b = AtomNode(self.fidelity_b, collection_efficiency=hw.eta_b, conversion_efficiency=self.conversion,
                     conversion_noise=self.noise)
        return AtomAtomLink(a, b, attempt_rate=1.0 / hw.cycle_time, interference_visibility=self.visibility,
                            dark_count_probability=hw.p_dark)

    def model(self, hw: LinkHardware, min_fidelity: float) -> AtomLinkModel | None:
        """The link's model, or None if its fidelity (after ``hw.raw_w``) is below ``min_fidelity``."""
        m = AtomLinkModel(self.atom_link(hw), hw.cycle_time)
        return m if depolarised(m.fidelity, hw.raw_w) + 1e-12 >= min_fidelity else None



# --------------------------------------------------------------------------------------------
# The "atom_single_photon" link scheme: single-photon interference (single click) between atoms


@LINK_SCHEMES.register("atom_single_photon")
class AtomSinglePhoton:
    """Heralded atom–atom entanglement by single-photon interference (module docstring), as a
    link scheme: the built-in ``single_click`` model (:class:`~qstack.physical.station.SingleClick`,
    :class:`~qstack.physical.heralding.HeraldingModel`) with the atom arms' efficiencies. From the
    link's hardware it takes each arm's ``emission_efficiency`` × fibre × station
    ``detector_efficiency``, the ``dark_count_probability``, ``phase_std`` and the attempt period;
    its own parameters are the bright-state population ``alpha`` in (0, 1) (None: the link's
    ``alpha``, else the largest ≤ ``max_alpha`` that meets the requested fidelity), the photons'
    ``interference_visibility`` M in (0, 1], a frequency converter's ``conversion_efficiency``
    in [0, 1] and its ``noise_photons`` in [0, 1): noise clicks per detector and detection window
(counted at the detectors, added to the dark counts).

    In a scenario: ``scheme = { name = "atom_single_photon", alpha = 0.03,
    interference_visibility = 0.97, conversion_efficiency = 0.3 }``.

    >>> hw = LinkHardware(eta_a=0.1, eta_b=0.1, cycle_time=1e-4)
    >>> m = AtomSinglePhoton(alpha=0.05).model(hw, 0.5)
    >>> round(m.success_probability, 6), round(m.fidelity, 6)     # 2αη − α²η², (1 − α)/(1 − αη/2)
    (0.009975, 0.952381)
    """

    name = "atom_single_photon"

    def __init__(self, alpha: float | None = None, interference_visibility: float = 1.0,
                 conversion_efficiency: float = 1.0, noise_photons: float = 0.0, max_alpha: float = 0.5) -> None:
        self.alpha = None if alpha is None else check_range("alpha", alpha, low=0.0, high=1.0,
                                                            low_inclusive=False, high_inclusive=False)
        self.visibility = check_range("interference_visibility", interference_visibility, low=0.0, high=1.0,
                                      low_inclusive=False)
        self.conversion = check_range("conversion_efficiency", conversion_efficiency, low=0.0, high=1.0)
        self.noise = check_range("noise_photons", noise_photons, low=0.0, high=1.0, high_inclusive=False)
        self.single_click = SingleClick(max_alpha)

    def hardware(self, hw: LinkHardware) -> LinkHardware:
        """The single-click hardware of the atom link: arms ``η_A η_conv`` and ``η_B η_conv``,
        dark clicks ``p_dc + ν`` per detector, phase spread ``√(σ² − 2 ln M)``, ``alpha`` if set."""
        dark = hw.p_dark + self.noise
        if dark >= 1.0:
            raise ValueError(f"dark_count_probability + noise_photons must be < 1, got {dark}")
        sigma = math.sqrt(hw.phase_std ** 2 - 2.0 * math.log(self.visibility))
        return replace(hw, eta_a=hw.eta_a * self.conversion, eta_b=hw.eta_b * self.conversion, p_dark=dark,
                       phase_std=sigma, alpha=self.alpha if self.alpha is not None else hw.alpha)

    def model(self, hw: LinkHardware, min_fidelity: float) -> HeraldingModel | None:
        """The link's single-click model, or None if no α meets ``min_fidelity``."""
        if hw.cycle_time <= 0.0:
            raise ValueError(f"atom_single_photon needs an attempt period > 0 s, got cycle_time = {hw.cycle_time}")
        return self.single_click.model(self.hardware(hw), min_fidelity)
