"""Stage 1: decoy-state BB84 and entanglement-based BBM92 over one direct link.

The quantum part is sampled statistically, pulse by pulse, with vectorised numpy; the whole
classical protocol then runs as real, authenticated messages between the two roles
(``ctx.send``/``ctx.recv`` with bytes): sifting, parameter estimation, Cascade, verification and
privacy amplification. The time the pulses take (pulses / repetition rate) and every message's
classical delay advance the simulation.

Model (what the tests check against)
------------------------------------
*Source* — decoy-state BB84 (Bennett & Brassard 1984; Hwang, PRL 91, 057901 (2003); Lo, Ma &
Chen, PRL 94, 230504 (2005)): each pulse is a phase-randomised weak coherent state of intensity
``mu`` (signal), ``nu`` (decoy) or 0 (vacuum), chosen with probabilities ``p_signal``,
``p_decoy``, ``p_vacuum``; its photon number is Poisson. Alice's bit and basis (0 = Z, 1 = X)
are uniform. Option ``source = "single_photon"``: one photon with probability
``source_efficiency``, no decoys.

*Channel* — the link's transmissivity ``T`` (fibre: ``10^(-alpha L / 10)`` from the scenario's
``LinkSpec`` length and attenuation, the whole link from Alice to Bob): each photon survives
independently. *Intercept–resend* (``eavesdropper = f``): Eve intercepts a fraction ``f`` of the
pulses, measures in a random basis and resends her result in her basis (Gisin et al., Rev. Mod.
Phys. 74, 145 (2002), Sec. VI.A).

*Detector* (Bob's hardware profile): efficiency ``eta_d`` and dark-count probability ``Y0`` per
pulse window; a pulse with ``m`` photons clicks from photons with ``1 - (1 - eta_d)^m``, and a
dark count adds an independent click with ``Y0``. Bob's basis is uniform; a photon click in the
state's basis gives the state's bit flipped with the misalignment probability ``e_d``; any
other click (wrong basis, dark count alone) gives a uniform bit.

*Sampling.* ``sampling = "pulse"`` draws every pulse: class, Poisson photon number, bit and basis
from Alice's rng; Binomial survival and Eve from the channel stream ``("channel", sender,
receiver)``; clicks, dark counts, basis and outcome from Bob's rng. The light that reaches Bob is
handed from Alice's role to Bob's through a mailbox standing for the fibre, after the
transmission time plus the fibre delay. ``sampling = "click"`` draws only the pulses whose
photons reach the detector — per class Binomial(N_c, 1 - e^{-mu_c T}) of them (Poisson
thinning) at uniform positions, with zero-truncated Poisson photon numbers — and Alice's choices
for other pulses only when a dark count shows them: the same distribution at a cost
proportional to the detections (a satellite pass has ~10^10 pulses).

With ``eta = T eta_d`` and ``s = 1 - exp(-eta mu)`` this gives exactly (:func:`expected_gain_qber`)

    Q_mu = s + Y0 (1 - s),        E_mu Q_mu = e' s + Y0 (1 - s) / 2,     e' = e_d + f (1 - 2 e_d) / 4,

which is Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005) (:func:`qstack.qkd.weak_coherent_statistics`)
up to the ``Y0 s`` cross terms they drop, with the intercept–resend error
:func:`qstack.qkd.intercept_resend_qber` in series.

*Key length.* Decoy BB84: the GLLP rate (Gottesman, Lo, Lütkenhaus & Preskill, QIC 4, 325
(2004)) with the vacuum + weak decoy bounds ``Y1^L``, ``e1^U`` of Ma et al. (2005)
(:func:`qstack.qkd.decoy_single_photon_bounds`) estimated from the measured gains and error
rates, applied to the ``n`` key bits: ``n1 = n Y1^L mu e^-mu / Q_mu`` single-photon bits and

    l = floor( n1 (1 - h(e1^U + delta)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)) ),

``delta`` Tomamichel et al.'s statistical term (Nat. Commun. 3, 634 (2012);
:func:`qstack.qkd.finite_key_statistical_deviation`) for ``n1`` bits against the ``k_decoy``
disclosed decoy bits (:func:`decoy_key_length`). This is the asymptotic decoy analysis plus
Tomamichel's finite-size penalty on the phase error; statistical fluctuations of the gains are
not bounded (a rigorous finite-key decoy analysis is Lim et al., PRA 89, 022307 (2014)). As
``n -> inf``, ``l / pulses -> p_signal (1 - sample_fraction) R``, with ``R`` the per-pulse
:func:`qstack.qkd.decoy_state_rate` at the measured statistics and Cascade's measured
efficiency. Single photons and BBM92: Tomamichel's ``l`` (:func:`qstack.qkd.finite_key_length`),
whose asymptotic secret fraction is :func:`qstack.qkd.bb84_asymptotic_rate` ``1 - 2h(Q)`` at
``f = 1``.

*BBM92* (Bennett, Brassard & Mermin, PRL 68, 557 (1992)): an SPDC source (thermal pair number,
:class:`qstack.physical.sources.SPDCSource`) at the link's ``station_position`` sends one photon
of each pair down each arm; both sides measure in random Z/X. Pairs are modelled as independent
|Φ+⟩ pairs, whose Z/X statistics are those of two shared uniform bits ``(z, x)``; each side's
detector takes a uniformly random one of the photons (and dark count) it received, so a
coincidence between photons of different pairs gives a random bit. The exact QBER and
coincidence probability of that model, from multi-pair emissions and dark counts, are
:func:`bbm92_expected_statistics` (cf. Ma, Fung & Lo, PRA 76, 012307 (2007) for the thermal
two-mode analysis). *Intercept–resend* (``eavesdropper = f``): Eve sits at the source on Bob's
arm and intercepts each pair's photon to Bob with probability ``f``, measures it in a random
basis Z/X and resends the eigenstate she found. Alice's photon is thereby projected onto the same
eigenstate, so in Eve's basis both sides share her result, and in the other basis each side gets
its own uniform bit: on attacked pairs the sifted QBER is 1/4, in all
``e' = e_d + f (1 - 2 e_d)/4`` (:func:`qstack.qkd.intercept_resend_qber`) in place of ``e_d``.

Classical protocol (each step a message; Tomamichel et al. 2012, Table I, with Cascade)
-------------------------------------------------------------------------------------------
1. *sifting* — Bob announces the pulses he detected and his bases; Alice announces her bases
   and intensity classes there (and how many pulses of each class she sent);
2. *parameter estimation* — Alice picks a random sample of the sifted signal bits; both disclose
   those bits and every sifted decoy/vacuum bit. Gains ``Q_c``, error rates and the sample QBER
   ``lambda`` follow. Both roles decide from the same public data: ``lambda`` above
   ``qber_threshold`` (11 %, :func:`qstack.qkd.bb84_qber_threshold`) or no positive key even with
   Shannon-limit error correction aborts with :class:`~qstack.qkd.QKDAbort` (both roles);
3. *Cascade* (Brassard & Salvail 1994) run interactively: per pass Alice announces a permutation
   seed and her block parities; Bob's BINARY searches run in parallel over all odd blocks of
   one pass, each round one message of questions and one of parities (Alice's answers through
   :class:`qstack.qkd.ParityOracle`, which counts the leak);
4. *verification* — a ``ceil(log2 1/eps_cor)``-bit Toeplitz hash; a mismatch aborts;
5. *privacy amplification* — Toeplitz hashing (:func:`qstack.qkd.toeplitz_hash`) to ``l`` bits.

6. *confirmation* — Bob confirms he holds the key (authenticated); Alice outputs hers only then.

Authentication: every message carries a Wegman–Carter tag (:func:`qstack.qkd.wegman_carter_tag`)
keyed by a fresh 128-bit slice of a pre-shared :class:`~qstack.qkd.KeyPool` (one pool per
direction, each role holding its own copy; the receiver takes the same slice from its copy,
so a replayed or reused slice is refused by the pool). Cascade's many small messages use
delayed authentication, as :func:`qstack.qkd.distil_key` does: each side tags its whole
transcript of a pass when the pass ends, before any key bit is output.

*Where the pre-shared key comes from* (``auth_key``): a key file (``{file = "path"}``, its
bytes) or inline hexadecimal (``{hex = "..."}``), read when the application is built — a key
too short for the run's messages (``2 × 128 × (cascade_passes + 5)`` bits: one tag per message
and per direction, plus an abort announcement) is refused then, naming both sizes. Without
``auth_key`` each pair of roles gets a fresh ``auth_key_bits``-bit key from the operating
system's CSPRNG (:func:`qstack.qkd.fresh_key`): a key shared out of band and known to nobody
else. The key never comes from the simulation's seed or random streams — whoever knows the seed
could otherwise forge every tag. No result depends on a tag's value, so the same scenario and
seed still give bit-identical results; only the tags on the wire differ from run to run.

*Aborts end both roles with the same reason.* Every abort condition on the public, authenticated
data (QBER above the threshold, no positive length, failed verification) is computed by both
roles from the same messages. A role that refuses a received message (tag, replayed slice,
unexpected step: :class:`~qstack.qkd.MessageRejected`, counted in ``rejected``) is the only one
that knows: it sends an authenticated abort announcement, and the peer — which always still
waits for a message, since Alice's last step is to receive Bob's confirmation — ends with the
same :class:`~qstack.qkd.QKDAbort` (``announced_by`` naming the announcer). The one case no
message can close (two generals) is a refused *confirmation*: Alice aborts, Bob already holds
the key — which Eve learns nothing about from the refusal.

>>> from qstack.apps import run_app
>>> from qstack.scenario import load_scenario
>>> scenario = load_scenario(example_link(length="20 km", seed=3))
>>> r = run_app(BB84(pulses=4_000_000), scenario, {"alice": "alice", "bob": "bob"})
>>> alice, bob = r.results["alice"], r.results["bob"]
>>> bool(np.array_equal(alice.key, bob.key)), alice.key_length > 1000, alice.aborted
(True, True, False)
"""

from __future__ import annotations

import math
import struct
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qstack.physical.fibre import Fibre
from qstack.physical.units import check_range, parse_quantity
from qstack.qkd.authentication import (
    KEY_BITS_PER_TAG,
    KeyPool,
    KeyPoolError,
    PresharedKey,
    fresh_key,
    load_preshared_key,
    wegman_carter_tag,
    wegman_carter_verify,
)
from qstack.qkd.cascade import ParityOracle, cascade_block_size
from qstack.qkd.entropy import _BB84_QBER_THRESHOLD, binary_entropy
from qstack.qkd.finite_key import (
    DecoyBounds,
    decoy_single_photon_bounds,
    decoy_state_rate,
    finite_key_length,
    finite_key_statistical_deviation,
)
from qstack.qkd.intercept_resend import intercept_resend_qber
from qstack.qkd.pipeline import MessageRejected, QKDAbort
from qstack.qkd.privacy import random_toeplitz_seed, toeplitz_hash, verification_tag_length
from qstack.sim import Mailbox
from qstack.stages import Stage

from .runtime import Application, RoleContext

__all__ = [
    "BB84",
    "BBM92",
    "AuthenticatedLink",
    "BB84Result",
    "BB84Settings",
    "EntangledLink",
    "LinkStatistics",
    "OpticalLink",
    "ProtocolError",
    "auth_key_bits_needed",
    "authenticated_link",
    "bb84_session",
    "bbm92_expected_statistics",
    "decoy_key_length",
    "example_link",
    "expected_gain_qber",
]

QBER_THRESHOLD: float = _BB84_QBER_THRESHOLD  # == bb84_qber_threshold(), without scipy.optimize
"""Default abort threshold: the Shor–Preskill limit h(Q) = 1/2, Q = 11.0 %."""

DEFAULT_AUTH_KEY_BITS: int = 8192
"""Size of the fresh pre-shared key a pair of roles gets when no ``auth_key`` is named."""

SIGNAL, DECOY, VACUUM = 0, 1, 2
CLASS_NAMES: tuple[str, str, str] = ("signal", "decoy", "vacuum")
_CHUNK = 1 << 21  # pulses sampled at once (a multiple of 8: packed bit arrays concatenate)


class ProtocolError(RuntimeError):
    """The two roles' messages do not fit together (a bug or a desynchronised peer)."""


# ============================================================================ settings


@dataclass(frozen=True)
class BB84Settings:
    """Parameters of a BB84 run (SI units; quantities may be strings like ``"100 MHz"``).

    ``pulses`` sent; ``source``: ``"decoy"`` (weak coherent, intensities ``mu`` > ``nu`` > 0
    and vacuum, chosen with ``p_signal``, ``p_decoy``, ``p_vacuum`` > 0 summing to 1) or
    ``"single_photon"`` (one photon with ``source_efficiency``; ``None``: the sender's
    ``emission_efficiency``); ``misalignment`` e_d in [0, 0.5]; ``repetition_rate`` (Hz);
    ``eavesdropper`` in [0, 1], the intercept–resend fraction; ``sample_fraction`` in (0, 1)
    of the sifted signal bits disclosed; ``eps_sec``, ``eps_cor``; ``qber_threshold`` in (0, 0.110028]
    (above the Shor–Preskill limit h(Q) = 1/2 no key is secure, so a higher threshold is
    refused); ``cascade_passes``; ``auth_key``, the pre-shared authentication key
    (``{file = "path"}`` or ``{hex = "..."}``, :func:`qstack.qkd.load_preshared_key`; at least
    :func:`auth_key_bits_needed` bits), or ``auth_key_bits`` for the size of a fresh key
    (default 8192; not both); ``pass_start`` (s from the peak, may be negative) where the pulses
    begin on a ``satellite_downlink`` pass (default: where the pass rises into its window);
    ``sampling``: ``"pulse"`` (every pulse drawn) or ``"click"`` (only the pulses
    whose photons reach the detector are drawn, exactly in distribution — for long runs).

    >>> BB84Settings(pulses=1000, repetition_rate="1 GHz").repetition_rate
    1000000000.0
    >>> BB84Settings(p_signal=0.5)
    Traceback (most recent call last):
    ...
    ValueError: p_signal + p_decoy + p_vacuum must be 1, got 0.8
    """

    pulses: int = 20_000_000
    source: str = "decoy"
    mu: float = 0.5
    nu: float = 0.1
    p_signal: float = 0.7
    p_decoy: float = 0.2
    p_vacuum: float = 0.1
    source_efficiency: float | None = None
    misalignment: float = 0.015
    repetition_rate: float = 100e6
    eavesdropper: float = 0.0
    sample_fraction: float = 0.2
    eps_sec: float = 1e-10
    eps_cor: float = 1e-12
    qber_threshold: float = QBER_THRESHOLD
    cascade_passes: int = 4
    auth_key: Mapping[str, str] | None = None
    auth_key_bits: int | None = None
    sampling: str = "pulse"
    pass_start: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.pulses, bool) or not isinstance(self.pulses, (int, np.integer)) or self.pulses < 1:
            raise ValueError(f"pulses must be an integer >= 1, got {self.pulses!r}")
        if self.source not in ("decoy", "single_photon"):
            raise ValueError(f'source must be "decoy" or "single_photon", got {self.source!r}')
        if self.sampling not in ("pulse", "click"):
            raise ValueError(f'sampling must be "pulse" or "click", got {self.sampling!r}')
        object.__setattr__(self, "pulses", int(self.pulses))
        if self.pass_start is not None:
            object.__setattr__(self, "pass_start", check_range(
                "pass_start", parse_quantity(self.pass_start, "time"), unit="s from the pass's peak"))
        object.__setattr__(self, "repetition_rate", check_range(
            "repetition_rate", parse_quantity(self.repetition_rate, "frequency"), low=0.0, low_inclusive=False))
        mu = check_range("mu", self.mu, low=0.0, low_inclusive=False)
        check_range("nu", self.nu, low=0.0, high=mu, low_inclusive=False, high_inclusive=False)
        probabilities = [check_range(n, getattr(self, n), low=0.0, high=1.0)
                         for n in ("p_signal", "p_decoy", "p_vacuum")]
        if self.source == "decoy":
            if abs(sum(probabilities) - 1.0) > 1e-9:
                raise ValueError(f"p_signal + p_decoy + p_vacuum must be 1, got {sum(probabilities):.6g}")
            if min(probabilities) <= 0.0:
                raise ValueError("p_signal, p_decoy and p_vacuum must all be > 0 for the vacuum + weak decoy bounds, "
                                 f"got {probabilities}")
        if self.source_efficiency is not None:
            check_range("source_efficiency", self.source_efficiency, low=0.0, high=1.0)
        check_range("misalignment", self.misalignment, low=0.0, high=0.5)
        check_range("eavesdropper", self.eavesdropper, low=0.0, high=1.0)
        check_range("sample_fraction", self.sample_fraction, low=0.0, high=1.0, low_inclusive=False,
                    high_inclusive=False)
        check_range("eps_sec", self.eps_sec, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        check_range("eps_cor", self.eps_cor, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
        threshold = self.qber_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
                not 0.0 < threshold <= QBER_THRESHOLD:
            raise ValueError(f"qber_threshold must be in (0, {QBER_THRESHOLD:.6f}] (the Shor–Preskill limit "
                             f"h(Q) = 1/2: above it no key is secure), got {threshold!r}")
        if isinstance(self.cascade_passes, bool) or not isinstance(self.cascade_passes, int) or self.cascade_passes < 1:
            raise ValueError(f"cascade_passes must be an int >= 1, got {self.cascade_passes!r}")
        needed = auth_key_bits_needed(self.cascade_passes)
        if self.auth_key is not None:
            if self.auth_key_bits is not None:
                raise ValueError("auth_key_bits sizes a fresh key; with auth_key the named key's own length "
                                 "is used: give one of them, not both")
            object.__setattr__(self, "_preshared_key", load_preshared_key(self.auth_key, min_bits=needed))
        elif self.auth_key_bits is not None:
            bits = self.auth_key_bits
            if isinstance(bits, bool) or not isinstance(bits, int) or bits < needed or bits % 8:
                raise ValueError(f"auth_key_bits must be a multiple of 8 and >= {needed} (128 bits per tag, "
                                 f"cascade_passes + 5 tags per direction), got {bits!r}")

    @property
    def preshared_key(self) -> PresharedKey | None:
        """The key ``auth_key`` names, read when the settings were built (None: a fresh key per run)."""
        return self.__dict__.get("_preshared_key")

    @property
    def fresh_key_bits(self) -> int:
        """Size of the fresh key a pair of roles gets when ``auth_key`` names none."""
        return DEFAULT_AUTH_KEY_BITS if self.auth_key_bits is None else int(self.auth_key_bits)

    @property
    def intensities(self) -> NDArray[np.float64]:
        """Mean photon numbers of the classes (signal, decoy, vacuum)."""
        return np.array([self.mu, self.nu, 0.0])

    @property
    def class_probabilities(self) -> NDArray[np.float64]:
        """Probabilities of the classes (signal only for a single-photon source)."""
        if self.source == "single_photon":
            return np.array([1.0, 0.0, 0.0])
        return np.array([self.p_signal, self.p_decoy, self.p_vacuum])

    @property
    def duration(self) -> float:
        """Time the pulses take, pulses / repetition_rate (s)."""
        return self.pulses / self.repetition_rate


def auth_key_bits_needed(cascade_passes: int) -> int:
    """Pre-shared key one BB84/BBM92 run may spend: ``2 × 128 × (cascade_passes + 5)`` bits.

    Per direction at most: sifting, estimation, one tag per Cascade pass, verification,
    amplification seed or confirmation, and an abort announcement.

    >>> auth_key_bits_needed(4)
    2304
    """
    return 2 * KEY_BITS_PER_TAG * (int(cascade_passes) + 5)


def _settings(params: Mapping[str, Any]) -> BB84Settings:
    names = set(BB84Settings.__dataclass_fields__)
    unknown = sorted(set(params) - names)
    if unknown:
        raise ValueError(f"unknown BB84 parameter(s) {unknown}; known: {sorted(names)}")
    return BB84Settings(**params)


# ============================================================================ physics


@dataclass(frozen=True)
class OpticalLink:
    """The optical path of prepare-and-measure QKD: pulses, loss, Bob's detector.

    The run is cut in segments of ``pulses[i]`` pulses with channel transmissivity
    ``transmissivity[i]`` (one segment for a fibre; many along a satellite pass);
    ``detector_efficiency`` and ``dark_count_probability`` (per pulse window) are Bob's;
    ``misalignment`` e_d; ``delay`` the one-way propagation time (s); ``duration`` the time the
    pulses take (s).

    >>> link = OpticalLink.fibre(50e3, pulses=10, repetition_rate=1e6, detector_efficiency=0.2)
    >>> round(link.transmissivity[0], 12), link.duration, round(link.delay * 1e6, 1)
    (0.1, 1e-05, 240.2)
    """

    transmissivity: tuple[float, ...]
    pulses: tuple[int, ...]
    detector_efficiency: float
    dark_count_probability: float = 0.0
    misalignment: float = 0.0
    delay: float = 0.0
    duration: float = 0.0

    def __post_init__(self) -> None:
        t = tuple(check_range("transmissivity", x, low=0.0, high=1.0) for x in self.transmissivity)
        p = tuple(int(n) for n in self.pulses)
        if len(t) != len(p) or not t:
            raise ValueError("transmissivity and pulses must be non-empty and of equal length, "
                             f"got {len(t)} and {len(p)}")
        if min(p) < 0 or sum(p) < 1:
            raise ValueError(f"pulses must be >= 0 per segment and >= 1 in all, got {p}")
        object.__setattr__(self, "transmissivity", t)
        object.__setattr__(self, "pulses", p)
        check_range("detector_efficiency", self.detector_efficiency, low=0.0, high=1.0)
        check_range("dark_count_probability", self.dark_count_probability, low=0.0, high=1.0, high_inclusive=False)
        check_range("misalignment", self.misalignment, low=0.0, high=0.5)
        check_range("delay", self.delay, low=0.0, unit="s")
        check_range("duration", self.duration, low=0.0, unit="s")

    @property
    def total_pulses(self) -> int:
        """All pulses sent."""
        return sum(self.pulses)

    @classmethod
    def fibre(
        cls, length: float, *, pulses: int, repetition_rate: float, detector_efficiency: float,
        dark_count_probability: float = 0.0, misalignment: float = 0.0, attenuation: float = 0.2,
        refractive_index: float = 1.44,
    ) -> OpticalLink:
        """A fibre of ``length`` m (:class:`~qstack.physical.fibre.Fibre`) carrying ``pulses``."""
        fibre = Fibre(length, attenuation, refractive_index)
        return cls((fibre.transmissivity,), (pulses,), detector_efficiency, dark_count_probability, misalignment,
                   fibre.delay, pulses / repetition_rate)

    @classmethod
    def downlink(
        cls, spec: Any, *, pulses: int, repetition_rate: float, detector_efficiency: float,
        dark_count_probability: float = 0.0, misalignment: float = 0.0, start: float | None = None,
        seed: int = 0,
    ) -> OpticalLink:
        """``pulses`` sent down a satellite pass (:class:`qstack.physical.satellite.DownlinkSpec`).

        The pulses leave at ``repetition_rate`` from time ``start`` (s from the pass's peak;
        default the start of the visible window) and must end inside the window. The run is cut
        at the multiples of ``time_step / fading_samples`` (``time_step`` without pointing or
        scintillation fading): each segment gets the channel's transmissivity at its midpoint's
        elevation and slant range, and under fading one draw of
        :meth:`~qstack.physical.freespace.FreeSpaceChannel.sample_transmissivity` (seeded by
        ``seed`` and the segment's index: deterministic), so segments average over the fading
        as :func:`~qstack.physical.satellite.downlink_key_budget` does. Sky background adds
        ``1 - exp(-eta_d N_b)`` to the dark-count probability; ``delay`` is the slant range at
        ``start`` over c.

        >>> import math
        >>> from qstack.physical.satellite import XINGLONG, DownlinkSpec
        >>> spec = DownlinkSpec(500e3, math.radians(49), 848.62e-9, 0.3, XINGLONG, min_elevation=math.radians(20))
        >>> link = OpticalLink.downlink(spec, pulses=3_000_000, repetition_rate=1e6, detector_efficiency=0.5, start=0.0)
        >>> link.pulses, round(link.duration, 9)
        ((1000000, 1000000, 1000000), 3.0)
        """
        from qstack.physical.satellite import DownlinkSpec
        from qstack.physical.units import SPEED_OF_LIGHT

        if not isinstance(spec, DownlinkSpec):
            raise TypeError(f"spec must be a DownlinkSpec, got {spec!r}")
        rate = check_range("repetition_rate", repetition_rate, low=0.0, low_inclusive=False, unit="Hz")
        eta_d = check_range("detector_efficiency", detector_efficiency, low=0.0, high=1.0)
        sat_pass, channel = spec.satellite_pass(), spec.channel()
        first, last = sat_pass.visible_window
        t0 = first if start is None else check_range("pass_start", start, low=first, high=last,
                                                     unit="s from the pass's peak (its visible window)")
        duration = int(pulses) / rate
        if t0 + duration > last + 1e-9 * max(1.0, abs(last)):
            raise ValueError(f"pulses: {int(pulses)} pulses at {rate:g} Hz take {duration:g} s, past the end of the "
                             f"pass ({last - t0:g} s from pass_start = {t0:g} s); allowed: pulses <= "
                             f"{math.floor((last - t0) * rate)}")
        fading = spec.fading
        sub = spec.time_step / (spec.fading_samples if fading else 1)
        j0, j1 = math.floor(t0 / sub), math.ceil((t0 + duration) / sub - 1e-12)
        index = np.arange(j0, max(j1, j0 + 1) + 1)
        edges = np.clip(index * sub, t0, t0 + duration)
        counts = np.diff(np.round((edges - t0) * rate)).astype(np.int64)
        keep = counts > 0
        mids = np.clip(0.5 * (edges[:-1] + edges[1:]), first, last)[keep]
        curve = sat_pass.loss_curve(channel, mids)
        eta = np.asarray(curve.transmissivity, dtype=np.float64)
        if fading:
            base = math.floor(first / sub)  # segments counted from the window's start: indices >= 0
            eta = np.array([
                channel.sample_transmissivity(float(d), float(e), np.random.default_rng([seed, int(j) - base]), 1)[0]
                for d, e, j in zip(curve.slant_range, curve.elevation, index[:-1][keep], strict=True)])
        dark = min(1.0 - 1e-15, dark_count_probability + -math.expm1(-eta_d * spec.background_photons()))
        delay = float(sat_pass.slant_range(t0)) / SPEED_OF_LIGHT
        return cls(tuple(float(x) for x in eta), tuple(int(n) for n in counts[keep]), eta_d, dark, misalignment,
                   delay, duration)

    @classmethod
    def from_scenario(cls, scenario: Any, sender: str, receiver: str, settings: BB84Settings) -> OpticalLink:
        """The scenario's direct link from node ``sender`` to node ``receiver`` (the whole fibre,
        or a ``satellite_downlink`` pass from ``settings.pass_start``: :meth:`downlink`), with the
        receiver's detector from its hardware profile (or the link's override)."""
        try:
            spec = scenario.link(sender, receiver)
        except KeyError:
            raise ValueError(f"BB84 needs a direct link between {sender!r} and {receiver!r}; "
                             "the scenario has none") from None
        hardware = scenario.hardware_of(receiver)
        if getattr(spec, "type", "fibre") == "satellite_downlink":
            if (spec.a, spec.b) != (sender, receiver):
                raise ValueError(f"BB84 over the satellite_downlink {spec.a!r} -> {spec.b!r}: the satellite "
                                 f"({spec.a!r}) must be the sender (alice), got sender {sender!r}")
            eta_d = hardware.detector_efficiency if spec.detector_efficiency is None else spec.detector_efficiency
            dark = (hardware.dark_count_probability if spec.dark_count_probability is None
                    else spec.dark_count_probability)
            return cls.downlink(spec.satellite, pulses=settings.pulses, repetition_rate=settings.repetition_rate,
                                detector_efficiency=eta_d, dark_count_probability=dark,
                                misalignment=settings.misalignment, start=settings.pass_start,
                                seed=scenario.simulation.seed)
        if settings.pass_start is not None:
            raise ValueError(f"pass_start only applies to a satellite_downlink link; {sender!r} -> {receiver!r} "
                             f"is {getattr(spec, 'type', 'fibre')!r}")
        return cls.fibre(spec.length, pulses=settings.pulses, repetition_rate=settings.repetition_rate,
                         detector_efficiency=hardware.detector_efficiency,
                         dark_count_probability=hardware.dark_count_probability,
                         misalignment=settings.misalignment, attenuation=spec.attenuation,
                         refractive_index=spec.refractive_index)


def expected_gain_qber(
    mean_photon_number: float,
    channel_efficiency: float,
    dark_count_probability: float,
    misalignment: float,
    eavesdropper: float = 0.0,
    *,
    single_photon: bool = False,
) -> tuple[float, float]:
    """Return the exact gain and QBER ``(Q, E)`` of this module's sampling model.

    ``Q = s + Y0 (1 - s)``, ``E Q = e' s + Y0 (1 - s)/2`` with ``s = 1 - exp(-eta mu)`` (Poisson
    source; ``s = mu eta`` for a single-photon source of efficiency ``mu``), ``eta`` the
    ``channel_efficiency`` (transmissivity times detector efficiency) and
    ``e' = e_d + f (1 - 2 e_d)/4`` under intercept–resend of a fraction ``f``.

    >>> q, e = expected_gain_qber(0.5, 0.01, 1e-6, 0.015)
    >>> from qstack.qkd import weak_coherent_statistics
    >>> q_ma, e_ma = weak_coherent_statistics(0.5, 0.01, 1e-6, 0.015)
    >>> abs(q - q_ma) / q < 1e-5, abs(e - e_ma) / e < 1e-4   # Ma et al. drop the Y0 s cross term
    (True, True)
    >>> expected_gain_qber(1.0, 1.0, 0.0, 0.0, eavesdropper=1.0, single_photon=True)
    (1.0, 0.25)
    """
    mu = check_range("mean_photon_number", mean_photon_number, low=0.0)
    eta = check_range("channel_efficiency", channel_efficiency, low=0.0, high=1.0)
    y0 = check_range("dark_count_probability", dark_count_probability, low=0.0, high=1.0)
    signal_error = intercept_resend_qber(eavesdropper, misalignment)
    s = min(1.0, mu * eta) if single_photon else -math.expm1(-eta * mu)
    gain = s + y0 * (1.0 - s)
    if gain == 0.0:
        return 0.0, 0.0
    return gain, (signal_error * s + 0.5 * y0 * (1.0 - s)) / gain


@dataclass
class _Arrivals:
    """Pulses whose photons reach Bob's detector: index, photon number, state (after Eve)."""

    indices: NDArray[np.int64]
    photons: NDArray[np.int64]
    bits: NDArray[np.uint8]
    bases: NDArray[np.uint8]


class _DenseRecord:
    """Alice's choices for every pulse: class per pulse, bits and bases packed."""

    def __init__(self, classes: NDArray[np.uint8], bits: NDArray[np.uint8], bases: NDArray[np.uint8],
                 counts: NDArray[np.int64]) -> None:
        self.classes, self._bits, self._bases, self.counts = classes, bits, bases, counts

    def lookup(self, indices: NDArray[np.int64]) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
        byte, shift = indices >> 3, (7 - (indices & 7)).astype(np.uint8)
        return (self.classes[indices], (self._bits[byte] >> shift) & 1, (self._bases[byte] >> shift) & 1)


class _SparseRecord:
    """Alice's choices stored only for the pulses whose photons reached Bob; other pulses
    (seen only through dark counts) get theirs drawn on demand, without replacement from the
    class counts left in their segment, so the record stays exactly consistent."""

    def __init__(self, indices: NDArray[np.int64], classes: NDArray[np.uint8], bits: NDArray[np.uint8],
                 bases: NDArray[np.uint8], counts: NDArray[np.int64], bounds: NDArray[np.int64],
                 remaining: NDArray[np.int64], rng: np.random.Generator) -> None:
        self.indices, self.classes, self.bits, self.bases = indices, classes, bits, bases
        self.counts, self._bounds, self._remaining, self._rng = counts, bounds, remaining, rng

    def lookup(self, indices: NDArray[np.int64]) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
        k = indices.size
        classes, bits, bases = (np.zeros(k, np.uint8) for _ in range(3))
        where_clipped = np.minimum(np.searchsorted(self.indices, indices), max(self.indices.size - 1, 0))
        stored = self.indices[where_clipped] == indices if self.indices.size else np.zeros(k, dtype=bool)
        classes[stored] = self.classes[where_clipped[stored]]
        bits[stored] = self.bits[where_clipped[stored]]
        bases[stored] = self.bases[where_clipped[stored]]
        other = np.flatnonzero(~stored)
        if other.size:
            segment = np.searchsorted(self._bounds, indices[other], side="right") - 1
            for s in np.unique(segment):
                rows = other[segment == s]
                drawn = self._rng.multivariate_hypergeometric(self._remaining[s], rows.size)
                self._remaining[s] -= drawn
                labels = np.repeat(np.arange(3, dtype=np.uint8), drawn)
                self._rng.shuffle(labels)
                classes[rows] = labels
            bits[other] = self._rng.integers(0, 2, other.size, dtype=np.uint8)
            bases[other] = self._rng.integers(0, 2, other.size, dtype=np.uint8)
        return classes, bits, bases


def _intercept_resend(bits: NDArray[np.uint8], bases: NDArray[np.uint8], fraction: float,
                      rng: np.random.Generator) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The state after Eve: intercepted pulses carry her result in her (random) basis."""
    if fraction <= 0.0 or bits.size == 0:
        return bits, bases
    n = bits.size
    intercepted = rng.random(n) < fraction
    eve_bases = rng.integers(0, 2, n, dtype=np.uint8)
    eve_bits = np.where(eve_bases == bases, bits, rng.integers(0, 2, n, dtype=np.uint8)).astype(np.uint8)
    state_bits = np.where(intercepted, eve_bits, bits).astype(np.uint8)
    return state_bits, np.where(intercepted, eve_bases, bases).astype(np.uint8)


def _emit_pulses(settings: BB84Settings, link: OpticalLink, source_efficiency: float, rng_alice: np.random.Generator,
                 rng_channel: np.random.Generator) -> tuple[_DenseRecord, _Arrivals]:
    """Draw every pulse: class, photon number ~ Poisson, bit, basis (Alice); fibre loss and Eve (channel)."""
    total = link.total_pulses
    bounds = np.concatenate([[0], np.cumsum(link.pulses)])
    transmissivity = np.asarray(link.transmissivity)
    cumulative = np.cumsum(settings.class_probabilities)
    intensities = settings.intensities
    classes_all = np.empty(total, dtype=np.uint8)
    bits_packed, bases_packed, parts = [], [], []
    for start in range(0, total, _CHUNK):
        m = min(_CHUNK, total - start)
        if settings.source == "decoy":
            u = rng_alice.random(m)
            classes = (u >= cumulative[0]).astype(np.uint8) + (u >= cumulative[1])
            photons = rng_alice.poisson(intensities[classes])
        else:
            classes = np.zeros(m, dtype=np.uint8)
            photons = (rng_alice.random(m) < source_efficiency).astype(np.int64)
        bits = rng_alice.integers(0, 2, m, dtype=np.uint8)
        bases = rng_alice.integers(0, 2, m, dtype=np.uint8)
        classes_all[start:start + m] = classes
        bits_packed.append(np.packbits(bits))
        bases_packed.append(np.packbits(bases))
        occupied = np.flatnonzero(photons)
        segment = np.searchsorted(bounds, start + occupied, side="right") - 1
        survived = rng_channel.binomial(photons[occupied], transmissivity[segment])
        keep = survived > 0
        local = occupied[keep]
        state_bits, state_bases = _intercept_resend(bits[local], bases[local], settings.eavesdropper, rng_channel)
        parts.append(_Arrivals(start + local.astype(np.int64), survived[keep].astype(np.int64), state_bits,
                               state_bases))
    counts = np.bincount(classes_all, minlength=3).astype(np.int64)
    record = _DenseRecord(classes_all, np.concatenate(bits_packed), np.concatenate(bases_packed), counts)
    return record, _concat_arrivals(parts)


def _zero_truncated_poisson(lam: float, size: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Poisson(lam) conditioned on >= 1, by inversion of the survival function."""
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    from scipy.stats import poisson  # imported on first use (scipy.stats is slow to import)

    k_max = int(lam + 12.0 * math.sqrt(lam) + 40)
    survival = poisson.sf(np.arange(0, k_max + 1), lam)  # P(N > k)
    ratio = survival / survival[0]  # P(N > k | N >= 1), decreasing from 1
    v = rng.random(size)
    # N = 1 + #{k >= 1 : P(N > k | N >= 1) > v}
    return 1 + np.searchsorted(-ratio[1:], -v, side="left").astype(np.int64)


def _emit_clicks(settings: BB84Settings, link: OpticalLink, source_efficiency: float, rng_alice: np.random.Generator,
                 rng_channel: np.random.Generator) -> tuple[_SparseRecord, _Arrivals]:
    """Draw only the pulses whose photons reach Bob, exactly in distribution: per segment and
    class, their number is Binomial(N_c, 1 - e^{-mu_c T}) (Poisson thinning), their positions
    uniform, their photon numbers zero-truncated Poisson(mu_c T)."""
    probabilities = settings.class_probabilities
    intensities = settings.intensities
    bounds = np.concatenate([[0], np.cumsum(link.pulses)]).astype(np.int64)
    counts_total = np.zeros(3, dtype=np.int64)
    remaining = np.zeros((len(link.pulses), 3), dtype=np.int64)
    parts, classes_parts = [], []
    for s, (n, t) in enumerate(zip(link.pulses, link.transmissivity, strict=True)):
        counts = rng_alice.multinomial(n, probabilities).astype(np.int64)
        if settings.source == "decoy":
            arrive = -np.expm1(-intensities * t)
        else:
            arrive = np.array([source_efficiency * t, 0.0, 0.0])
        k = rng_channel.binomial(counts, arrive).astype(np.int64)
        remaining[s] = counts - k
        counts_total += counts
        positions = np.sort(rng_channel.choice(n, int(k.sum()), replace=False)).astype(np.int64) if k.sum() else \
            np.zeros(0, dtype=np.int64)
        labels = np.repeat(np.arange(3, dtype=np.uint8), k)
        rng_channel.shuffle(labels)
        photons = np.ones(labels.size, dtype=np.int64)
        if settings.source == "decoy":
            for c in (SIGNAL, DECOY):
                rows = np.flatnonzero(labels == c)
                photons[rows] = _zero_truncated_poisson(float(intensities[c] * t), rows.size, rng_channel)
        bits = rng_alice.integers(0, 2, labels.size, dtype=np.uint8)
        bases = rng_alice.integers(0, 2, labels.size, dtype=np.uint8)
        state_bits, state_bases = _intercept_resend(bits, bases, settings.eavesdropper, rng_channel)
        parts.append((_Arrivals(bounds[s] + positions, photons, state_bits, state_bases), bits, bases))
        classes_parts.append(labels)
    arrivals = _concat_arrivals([p[0] for p in parts])
    record = _SparseRecord(arrivals.indices, np.concatenate(classes_parts),
                           np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]),
                           counts_total, bounds[:-1], remaining, rng_alice)
    return record, arrivals


def _concat_arrivals(parts: Sequence[_Arrivals]) -> _Arrivals:
    if not parts:
        return _Arrivals(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(0, np.uint8))
    return _Arrivals(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("indices", "photons", "bits", "bases")))


@dataclass
class _Detections:
    """Bob's clicks: pulse indices (sorted), his bases and bits."""

    indices: NDArray[np.int64]
    bases: NDArray[np.uint8]
    bits: NDArray[np.uint8]


def _dark_counts(total: int, probability: float, rng: np.random.Generator) -> NDArray[np.int64]:
    if probability <= 0.0:
        return np.zeros(0, dtype=np.int64)
    k = int(rng.binomial(total, probability))
    return np.sort(rng.choice(total, k, replace=False)).astype(np.int64) if k else np.zeros(0, dtype=np.int64)


def _detect(arrivals: _Arrivals, link: OpticalLink, rng: np.random.Generator) -> _Detections:
    """Bob's threshold detector: photon clicks with 1 - (1 - eta_d)^m, dark counts with Y0,
    random basis; a photon click in the state's basis gives its bit (flipped with e_d)."""
    eta_d = link.detector_efficiency
    if eta_d >= 1.0:
        p_click = np.ones(arrivals.photons.size)
    else:
        p_click = -np.expm1(arrivals.photons * math.log1p(-eta_d))
    fired = rng.random(arrivals.photons.size) < p_click
    photon_clicks = arrivals.indices[fired]
    dark = _dark_counts(link.total_pulses, link.dark_count_probability, rng)
    indices = np.union1d(photon_clicks, dark).astype(np.int64)
    n = indices.size
    where = np.searchsorted(photon_clicks, indices)
    where_clipped = np.minimum(where, max(photon_clicks.size - 1, 0))
    from_photon = (photon_clicks[where_clipped] == indices) if photon_clicks.size else np.zeros(n, bool)
    state_bits = arrivals.bits[fired][where_clipped] if photon_clicks.size else np.zeros(n, np.uint8)
    state_bases = arrivals.bases[fired][where_clipped] if photon_clicks.size else np.zeros(n, np.uint8)
    bases = rng.integers(0, 2, n, dtype=np.uint8)
    random_bits = rng.integers(0, 2, n, dtype=np.uint8)
    flips = (rng.random(n) < link.misalignment).astype(np.uint8)
    faithful = from_photon & (bases == state_bases)
    bits = np.where(faithful, state_bits ^ flips, random_bits).astype(np.uint8)
    return _Detections(indices, bases, bits)


# ---------------------------------------------------------------------------- BBM92 physics


@dataclass(frozen=True)
class EntangledLink:
    """A link with an SPDC pair source between its ends (BBM92).

    ``arm_transmissivity`` (to Alice, to Bob); per side ``detector_efficiency`` and
    ``dark_count_probability``; ``misalignment`` e_d of a pair; ``mean_pair_number`` per pulse
    (thermal statistics); ``pulses``; ``delay`` per arm (s); ``duration`` (s).

    >>> link = EntangledLink.from_fibre(20e3, pulses=10, repetition_rate=1e6, mean_pair_number=0.05,
    ...                                 detector_efficiency=(0.5, 0.5))
    >>> [round(t, 6) for t in link.arm_transmissivity]   # 10 km arms: 2 dB each
    [0.630957, 0.630957]
    """

    arm_transmissivity: tuple[float, float]
    detector_efficiency: tuple[float, float]
    dark_count_probability: tuple[float, float]
    mean_pair_number: float
    pulses: int
    misalignment: float = 0.0
    delay: tuple[float, float] = (0.0, 0.0)
    duration: float = 0.0

    @classmethod
    def from_fibre(
        cls, length: float, *, pulses: int, repetition_rate: float, mean_pair_number: float,
        detector_efficiency: tuple[float, float], dark_count_probability: tuple[float, float] = (0.0, 0.0),
        misalignment: float = 0.0, attenuation: float = 0.2, refractive_index: float = 1.44,
        source_position: float = 0.5,
    ) -> EntangledLink:
        """A fibre of ``length`` m with the source at ``source_position`` (fraction from Alice)."""
        arm_a = Fibre(length * source_position, attenuation, refractive_index)
        arm_b = Fibre(length * (1.0 - source_position), attenuation, refractive_index)
        return cls((arm_a.transmissivity, arm_b.transmissivity), tuple(detector_efficiency),
                   tuple(dark_count_probability), mean_pair_number, pulses, misalignment,
                   (arm_a.delay, arm_b.delay), pulses / repetition_rate)


def bbm92_expected_statistics(
    mean_pair_number: float,
    efficiency_a: float,
    efficiency_b: float,
    dark_a: float = 0.0,
    dark_b: float = 0.0,
    misalignment: float = 0.0,
    *,
    eavesdropper: float = 0.0,
) -> tuple[float, float]:
    """Return ``(P_coincidence, E)`` per pulse of the BBM92 model of this module, exactly.

    Thermal pair number ``p(n) = mu^n / (1 + mu)^(n+1)``; each pair's photons reach and fire the
    two detectors independently with ``efficiency_a``/``efficiency_b`` (arm transmissivity times
    detector efficiency); dark counts with ``dark_a``/``dark_b``. With ``c`` pairs seen by both,
    ``a``/``b`` candidates (photons plus dark count) on each side, the sides pick the same pair
    with probability ``c/(a b)``, which errs with ``e_d``; any other pick errs with 1/2. Summed
    over the multinomial split of the ``n`` pairs (tail below 1e-16). Under intercept–resend of
    a fraction ``eavesdropper`` f of the pairs on Bob's arm a pair errs with
    ``e' = e_d + f (1 - 2 e_d)/4`` instead (1/4 on each attacked pair).

    >>> round(bbm92_expected_statistics(1e-12, 0.5, 0.5, 0.0, 0.0, 0.02)[1], 9)   # one pair at a time: E = e_d
    0.02
    >>> p, e = bbm92_expected_statistics(0.1, 0.1, 0.1)   # low efficiency: accidentals/true ~ 2 mu
    >>> round(p, 6), round(e, 4)
    (0.001156, 0.0759)
    >>> round(bbm92_expected_statistics(1e-12, 0.5, 0.5, eavesdropper=1.0)[1], 9)   # full attack: E = 1/4
    0.25
    """
    mu = check_range("mean_pair_number", mean_pair_number, low=0.0)
    ea = check_range("efficiency_a", efficiency_a, low=0.0, high=1.0)
    eb = check_range("efficiency_b", efficiency_b, low=0.0, high=1.0)
    da = check_range("dark_a", dark_a, low=0.0, high=1.0)
    db = check_range("dark_b", dark_b, low=0.0, high=1.0)
    e_d = intercept_resend_qber(eavesdropper, check_range("misalignment", misalignment, low=0.0, high=0.5))
    pb, pa_only, pb_only = ea * eb, ea * (1 - eb), (1 - ea) * eb
    p_none = (1 - ea) * (1 - eb)
    ratio = mu / (1.0 + mu)
    n_max = 0 if mu == 0 else max(1, int(math.ceil(math.log(1e-17) / math.log(ratio))) if ratio > 0 else 1)
    coincidence = 0.0
    same = 0.0
    darks = [(0, 0, (1 - da) * (1 - db)), (1, 0, da * (1 - db)), (0, 1, (1 - da) * db), (1, 1, da * db)]
    for n in range(n_max + 1):
        pn = (1.0 / (1.0 + mu)) * ratio**n
        for c in range(n + 1):
            for u in range(n - c + 1):
                for v in range(n - c - u + 1):
                    w = n - c - u - v
                    weight = (math.comb(n, c) * math.comb(n - c, u) * math.comb(n - c - u, v)
                              * pb**c * pa_only**u * pb_only**v * p_none**w)
                    if weight == 0.0:
                        continue
                    for x, y, pd in darks:
                        na, nb = c + u + x, c + v + y
                        if na and nb:
                            coincidence += pn * weight * pd
                            same += pn * weight * pd * c / (na * nb)
    if coincidence == 0.0:
        return 0.0, 0.0
    return coincidence, 0.5 - (0.5 - e_d) * same / coincidence


@dataclass
class _PairArrivals:
    """Photons of one arm that reach that side's detector: pulse index, the pair's z and x bits."""

    indices: NDArray[np.int64]
    z: NDArray[np.uint8]
    x: NDArray[np.uint8]


def _emit_pairs(link: EntangledLink, rng: np.random.Generator, eavesdropper: float = 0.0,
                rng_eve: np.random.Generator | None = None) -> tuple[_PairArrivals, _PairArrivals]:
    """SPDC pairs (thermal number) with shared Z/X bits; each photon survives its arm.

    With ``eavesdropper`` f > 0, Eve (drawing from ``rng_eve``) intercepts each pair's photon to
    Bob with probability f at the source, measures it in a random basis and resends the
    eigenstate: both photons keep the pair's bit in her basis, and each gets its own fresh
    uniform bit in the other basis."""
    if eavesdropper > 0.0 and rng_eve is None:
        raise ValueError("an eavesdropper needs its own random stream (rng_eve)")
    parts_a, parts_b = [], []
    p_geometric = 1.0 / (1.0 + link.mean_pair_number)
    for start in range(0, link.pulses, _CHUNK):
        m = min(_CHUNK, link.pulses - start)
        pairs = rng.geometric(p_geometric, m) - 1
        occupied = np.flatnonzero(pairs)
        pulse = np.repeat(start + occupied, pairs[occupied]).astype(np.int64)
        z = rng.integers(0, 2, pulse.size, dtype=np.uint8)
        x = rng.integers(0, 2, pulse.size, dtype=np.uint8)
        to_a = rng.random(pulse.size) < link.arm_transmissivity[0]
        to_b = rng.random(pulse.size) < link.arm_transmissivity[1]
        z_b, x_b = z, x
        if eavesdropper > 0.0 and pulse.size:
            assert rng_eve is not None
            hit = rng_eve.random(pulse.size) < eavesdropper
            eve_z = rng_eve.integers(0, 2, pulse.size, dtype=np.uint8) == 0   # her basis: Z, else X
            fresh_a = rng_eve.integers(0, 2, pulse.size, dtype=np.uint8)      # the basis she did not measure
            fresh_b = rng_eve.integers(0, 2, pulse.size, dtype=np.uint8)
            z_b = np.where(hit & ~eve_z, fresh_b, z).astype(np.uint8)
            x_b = np.where(hit & eve_z, fresh_b, x).astype(np.uint8)
            z = np.where(hit & ~eve_z, fresh_a, z).astype(np.uint8)
            x = np.where(hit & eve_z, fresh_a, x).astype(np.uint8)
        parts_a.append(_PairArrivals(pulse[to_a], z[to_a], x[to_a]))
        parts_b.append(_PairArrivals(pulse[to_b], z_b[to_b], x_b[to_b]))

    def join(parts: list[_PairArrivals]) -> _PairArrivals:
        return _PairArrivals(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("indices", "z", "x")))

    return join(parts_a), join(parts_b)


def _detect_pairs(arrivals: _PairArrivals, pulses: int, efficiency: float, dark: float, flip: float,
                  rng: np.random.Generator) -> _Detections:
    """One side of BBM92: detect photons, add dark counts, pick one candidate per pulse at random."""
    fired = rng.random(arrivals.indices.size) < efficiency
    pulse = arrivals.indices[fired]
    z, x = arrivals.z[fired], arrivals.x[fired]
    if flip > 0.0:  # misalignment of the pair, applied on this side's photons
        flips = (rng.random(pulse.size) < flip).astype(np.uint8)
        z, x = z ^ flips, x ^ flips
    dark_pulses = _dark_counts(pulses, dark, rng)
    pulse = np.concatenate([pulse, dark_pulses])
    z = np.concatenate([z, rng.integers(0, 2, dark_pulses.size, dtype=np.uint8)])
    x = np.concatenate([x, rng.integers(0, 2, dark_pulses.size, dtype=np.uint8)])
    shuffled = rng.permutation(pulse.size)
    order = shuffled[np.argsort(pulse[shuffled], kind="stable")]
    indices, first = np.unique(pulse[order], return_index=True)
    chosen = order[first]
    bases = rng.integers(0, 2, indices.size, dtype=np.uint8)
    bits = np.where(bases == 0, z[chosen], x[chosen]).astype(np.uint8)
    return _Detections(indices.astype(np.int64), bases, bits)


# ============================================================================ messages


class _Writer:
    """Concatenate typed fields into one payload."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def u64(self, value: int) -> _Writer:
        self.parts.append(struct.pack(">Q", int(value)))
        return self

    def f64(self, value: float) -> _Writer:
        self.parts.append(struct.pack(">d", float(value)))
        return self

    def bits(self, bits: NDArray[np.uint8]) -> _Writer:
        array = np.asarray(bits, dtype=np.uint8)
        self.u64(array.size)
        self.parts.append(np.packbits(array).tobytes())
        return self

    def ints(self, values: NDArray[np.integer] | Sequence[int]) -> _Writer:
        array = np.asarray(values, dtype=np.int64)
        if array.size and array.min() < 0:
            raise ValueError("ints() encodes non-negative integers only")
        width = 4 if array.size == 0 or array.max() < 2**32 else 8
        self.u64(array.size)
        self.parts.append(bytes([width]))
        self.parts.append(array.astype(">u4" if width == 4 else ">u8").tobytes())
        return self

    def small(self, values: NDArray[np.uint8]) -> _Writer:
        array = np.asarray(values, dtype=np.uint8)
        self.u64(array.size)
        self.parts.append(array.tobytes())
        return self

    def done(self) -> bytes:
        return b"".join(self.parts)


class _Reader:
    """Read the fields of a :class:`_Writer` payload in order."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError(f"message too short: wanted {n} more bytes at {self.pos} of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def u64(self) -> int:
        return int(struct.unpack(">Q", self._take(8))[0])

    def f64(self) -> float:
        return float(struct.unpack(">d", self._take(8))[0])

    def bits(self) -> NDArray[np.uint8]:
        n = self.u64()
        packed = np.frombuffer(self._take((n + 7) // 8), dtype=np.uint8)
        return np.unpackbits(packed, count=n).astype(np.uint8)

    def ints(self) -> NDArray[np.int64]:
        n = self.u64()
        width = self._take(1)[0]
        return np.frombuffer(self._take(n * width), dtype=">u4" if width == 4 else ">u8").astype(np.int64)

    def small(self) -> NDArray[np.uint8]:
        n = self.u64()
        return np.frombuffer(self._take(n), dtype=np.uint8).copy()

    def end(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{len(self.data) - self.pos} unexpected trailing bytes")


_TAGGED, _DEFERRED, _ABORT = 1, 2, 3
_ABORT_LABEL = "abort"


def _bind(label: str, payload: bytes) -> bytes:
    name = label.encode()
    return struct.pack(">H", len(name)) + name + struct.pack(">Q", len(payload)) + payload


class AuthenticatedLink:
    """Wegman–Carter-authenticated classical messages between this role and ``peer``.

    ``send_pool`` holds the pre-shared key for this direction, ``receive_pool`` (this role's copy
    of) the key of the other direction. :meth:`send` spends a fresh 128-bit slice per message
    and puts its position and the tag in front of the payload; :meth:`recv` takes the same
    slice from ``receive_pool`` (which refuses a slice used before) and checks the tag.
    :meth:`send_deferred`/:meth:`recv_deferred`
    carry untagged messages whose transcripts :meth:`close_batch` authenticates in one tag per
    direction (delayed authentication). Every message names its protocol step (``label``).

    A received message that does not verify, reuses a key slice (a replay), or is not the step
    expected is refused: :class:`~qstack.qkd.MessageRejected` (a :class:`~qstack.qkd.QKDAbort`),
    counted in ``rejected`` by reason. :meth:`announce_abort` tells the peer (tagged); a peer
    waiting for any message then raises the same :class:`~qstack.qkd.QKDAbort`, with
    ``announced_by`` set. ``key_source`` says where the pre-shared key came from.
    """

    def __init__(self, ctx: RoleContext, peer: str, send_pool: KeyPool, receive_pool: KeyPool,
                 key_source: str = "") -> None:
        self.ctx, self.peer = ctx, peer
        self.send_pool, self.receive_pool = send_pool, receive_pool
        self.key_source = key_source
        self.tags_sent = 0
        self.tags_received = 0
        self.messages_sent = 0
        self.bytes_sent = 0
        #: refused messages by reason ("tag", "replay", "unexpected")
        self.rejected: dict[str, int] = {}
        self._sent: list[bytes] = []
        self._received: list[bytes] = []

    @property
    def key_bits_used(self) -> int:
        """Pre-shared key this role spent on its own tags."""
        return KEY_BITS_PER_TAG * self.tags_sent

    def _transmit(self, kind: int, label: str, body: bytes) -> None:
        name = label.encode()
        wire = bytes([kind]) + struct.pack(">H", len(name)) + name + body
        self.messages_sent += 1
        self.bytes_sent += len(wire)
        self.ctx.send(self.peer, wire)

    def _reject(self, reason: str, label: str, what: str) -> MessageRejected:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        return MessageRejected(f"message {label!r} from {self.peer} to {self.ctx.role} refused: {what}; "
                               "aborting, no key", reason=reason, label=label)

    async def _receive(self, kind: int, label: str) -> bytes:
        wire = await self.ctx.recv(self.peer)
        try:
            (length,) = struct.unpack(">H", wire[1:3])
            got = wire[3:3 + length].decode()
        except (struct.error, UnicodeDecodeError):
            raise self._reject("unexpected", label, f"malformed frame of {len(wire)} bytes") from None
        if wire[0] == _ABORT and got == _ABORT_LABEL:
            self._peer_abort(wire[3 + length:])
        if wire[0] != kind or got != label:
            raise self._reject("unexpected", label, f"got {got!r} instead (replayed, reordered or injected)")
        return wire[3 + length:]

    def _send_tagged(self, label: str, payload: bytes, content: bytes, kind: int = _TAGGED) -> None:
        key = self.send_pool.take(KEY_BITS_PER_TAG, purpose=f"{self.ctx.role}->{self.peer}:{label}")
        tag = wegman_carter_tag(content, key.bits)
        self.tags_sent += 1
        self._transmit(kind, label, struct.pack(">QQ", key.start, tag) + payload)

    def _verify(self, label: str, body: bytes, content_of: Any) -> bytes:
        if len(body) < 16:
            raise self._reject("unexpected", label, f"no tag (only {len(body)} bytes)")
        start, tag = struct.unpack(">QQ", body[:16])
        payload = body[16:]
        try:
            key = self.receive_pool.take_range(start, start + KEY_BITS_PER_TAG,
                                               purpose=f"{self.peer}->{self.ctx.role}:{label}")
        except (KeyPoolError, ValueError) as error:
            raise self._reject("replay", label, f"its key slice at {start} was used before or does not exist "
                                                f"({error})") from None
        if not wegman_carter_verify(content_of(payload), tag, key.bits):
            raise self._reject("tag", label, "its tag does not verify (forged or altered in transit)")
        self.tags_received += 1
        return payload

    async def _recv_tagged(self, label: str, content_of: Any) -> bytes:
        return self._verify(label, await self._receive(_TAGGED, label), content_of)

    def announce_abort(self, abort: QKDAbort) -> None:
        """Tell the peer (authenticated) that this role aborts, and why."""
        text = str(abort).encode()
        payload = (_Writer().f64(abort.qber).f64(abort.threshold).small(np.frombuffer(abort.stage.encode(), np.uint8))
                   .small(np.frombuffer(text, np.uint8)).done())
        self._send_tagged(_ABORT_LABEL, payload, _bind(_ABORT_LABEL, payload), kind=_ABORT)

    def _peer_abort(self, body: bytes) -> None:
        """The peer announced an abort: verify it and raise the same QKDAbort here."""
        payload = self._verify(_ABORT_LABEL, body, lambda payload: _bind(_ABORT_LABEL, payload))
        reader = _Reader(payload)
        qber, threshold = reader.f64(), reader.f64()
        stage, text = reader.small().tobytes().decode(), reader.small().tobytes().decode()
        reader.end()
        raise QKDAbort(text, stage=stage, qber=qber, threshold=threshold, announced_by=self.peer)

    def send(self, label: str, payload: bytes) -> None:
        """Send ``payload`` with its own tag."""
        self._send_tagged(label, payload, _bind(label, payload))

    async def recv(self, label: str) -> bytes:
        """The next message, which must be ``label`` and carry a valid tag."""
        return await self._recv_tagged(label, lambda payload: _bind(label, payload))

    def send_deferred(self, label: str, payload: bytes) -> None:
        """Send ``payload`` now; it is authenticated by the next :meth:`close_batch`."""
        self._sent.append(_bind(label, payload))
        self._transmit(_DEFERRED, label, payload)

    async def recv_deferred(self, label: str) -> bytes:
        """Receive a deferred message (authenticated by the next :meth:`close_batch`)."""
        payload = await self._receive(_DEFERRED, label)
        self._received.append(_bind(label, payload))
        return payload

    async def close_batch(self, label: str) -> None:
        """Tag this role's deferred transcript, then check the peer's tag of what we received."""
        sent, received = b"".join(self._sent), b"".join(self._received)
        self._sent, self._received = [], []
        self._send_tagged(label, b"", _bind(label, sent))
        await self._recv_tagged(label, lambda _payload: _bind(label, received))


_STATE: weakref.WeakKeyDictionary[Any, dict[Any, Any]] = weakref.WeakKeyDictionary()


def _session_state(ctx: RoleContext) -> dict[Any, Any]:
    return _STATE.setdefault(ctx.session, {})


def authenticated_link(ctx: RoleContext, peer: str, key_bits: int | None = None, *,
                       key: PresharedKey | None = None) -> AuthenticatedLink:
    """The (one) authenticated link of this role with ``peer`` in this run.

    The pair's pre-shared key is ``key`` (a named key, :func:`qstack.qkd.load_preshared_key`)
    or, without one, a fresh ``key_bits``-bit key (default 8192) from the operating system's
    CSPRNG (:func:`qstack.qkd.fresh_key`) — never the simulation's seed or streams, which would
    let anyone who knows the seed forge tags. It is split in halves, one per direction; each
    role holds its own :class:`~qstack.qkd.KeyPool` copies, consumed in step with the peer's.
    Later protocols between the same roles reuse the link, so no key is spent twice; one named
    key serves one pair of roles (a second pair asking for it is refused: that would reuse it).
    """
    state = _session_state(ctx)
    links = state.setdefault(("links", ctx.role), {})
    if peer in links:
        return links[peer]
    first, second = sorted((ctx.role, peer))
    shared = state.get(("preshared", first, second))
    if shared is None:
        if key is not None:
            owner = state.setdefault(("named-key-pair", id(key.bits)), (first, second))
            if owner != (first, second):
                raise ValueError(f"auth_key ({key.source}) is the pre-shared key of roles {owner[0]!r} and "
                                 f"{owner[1]!r}; roles {first!r} and {second!r} need their own key — one key for two "
                                 "pairs would reuse its bits")
            shared = key
        else:
            shared = fresh_key(DEFAULT_AUTH_KEY_BITS if key_bits is None else int(key_bits))
        state[("preshared", first, second)] = shared
    bits = shared.bits
    half = bits.size // 2
    forward, backward = bits[:half], bits[half:2 * half]
    send_bits, receive_bits = (forward, backward) if ctx.role == first else (backward, forward)
    link = AuthenticatedLink(ctx, peer, KeyPool(send_bits), KeyPool(receive_bits), key_source=shared.source)
    links[peer] = link
    return link


# ============================================================================ post-processing


@dataclass(frozen=True)
class LinkStatistics:
    """What parameter estimation established (both roles compute the same numbers).

    Per class (signal, decoy, vacuum): ``pulses`` sent, ``detections``, ``gains`` Q_c,
    ``sifted`` bits, ``errors`` among the disclosed ones and ``error_rates`` (for the signal
    class the sample's, ``qber`` = lambda). ``sample_size`` k and ``sample_errors`` of the
    signal sample; ``decoy`` the bounds (Y1^L, e1^U) or None (no decoys).
    """

    pulses: tuple[int, int, int]
    detections: tuple[int, int, int]
    sifted: tuple[int, int, int]
    errors: tuple[int, int, int]
    sample_size: int
    decoy: DecoyBounds | None

    @property
    def gains(self) -> tuple[float, float, float]:
        """Q_c = detections / pulses per class (0 where no pulse was sent)."""
        return tuple(d / p if p else 0.0 for d, p in zip(self.detections, self.pulses, strict=True))  # type: ignore[return-value]

    @property
    def error_rates(self) -> tuple[float, float, float]:
        """Error rate of the disclosed bits per class (signal: the sample)."""
        disclosed = (self.sample_size, self.sifted[1], self.sifted[2])
        return tuple(e / n if n else 0.0 for e, n in zip(self.errors, disclosed, strict=True))  # type: ignore[return-value]

    @property
    def qber(self) -> float:
        """lambda, the QBER of the signal sample."""
        return self.error_rates[0]

    @property
    def sample_errors(self) -> int:
        """Errors in the signal sample."""
        return self.errors[0]


def decoy_key_length(
    n: int, k_decoy: int, mu: float, gain: float, bounds: tuple[float, float], leak_ec: float,
    eps_sec: float, eps_cor: float, *, asymptotic: bool = False,
) -> float:
    """Secret key length from ``n`` signal key bits with decoy bounds ``(Y1^L, e1^U)``.

    ``n1 = n Y1^L mu e^-mu / Q_mu`` single-photon bits (at most ``n``) and
    ``floor(n1 (1 - h(e1^U + delta)) - leak_EC - log2(2/(eps_sec^2 eps_cor)))``, ``delta`` from
    :func:`~qstack.qkd.finite_key_statistical_deviation` (``n1`` bits, ``k_decoy`` sample);
    0 when negative. ``asymptotic=True``: ``n1 (1 - h(e1^U)) - leak_EC`` unrounded (may be < 0).

    >>> decoy_key_length(100_000, 10_000, 0.5, 0.01, (0.02, 0.02), 20_000, 1e-10, 1e-12)
    17774
    >>> round(decoy_key_length(100_000, 10_000, 0.5, 0.01, (0.02, 0.02), 20_000, 1e-10, 1e-12, asymptotic=True))
    32074
    """
    y1_lower, e1_upper = bounds
    if n < 1 or gain <= 0.0 or y1_lower <= 0.0:
        return -float(leak_ec) if asymptotic else 0
    n1 = min(float(n), n * y1_lower * mu * math.exp(-mu) / gain)
    if asymptotic:
        return n1 * (1.0 - binary_entropy(min(e1_upper, 0.5))) - leak_ec
    if n1 < 1.0:
        return 0
    delta = finite_key_statistical_deviation(max(1, math.floor(n1)), max(1, k_decoy), eps_sec)
    length = n1 * (1.0 - binary_entropy(min(e1_upper + delta, 0.5))) - leak_ec - math.log2(2.0 / (eps_sec**2 * eps_cor))
    return max(0, math.floor(length))


def _key_length(stats: LinkStatistics, settings: BB84Settings | None, n: int, leak: float, *,
                asymptotic: bool = False, eps: tuple[float, float] = (1e-10, 1e-12)) -> float:
    """The key length of this run: decoy GLLP (decoy source) or Tomamichel (single photons, BBM92)."""
    eps_sec, eps_cor = eps
    if stats.decoy is not None and settings is not None:
        return decoy_key_length(n, stats.sifted[DECOY], settings.mu, stats.gains[SIGNAL], stats.decoy, leak,
                                eps_sec, eps_cor, asymptotic=asymptotic)
    lam = stats.qber
    if asymptotic:
        return n * (1.0 - binary_entropy(lam)) - leak
    if n < 1:
        return 0
    return finite_key_length(n, max(1, stats.sample_size), lam, leak, eps_sec, eps_cor)


def _check_estimate(stats: LinkStatistics, n: int, threshold: float, length_at_shannon: float) -> None:
    lam, k = stats.qber, stats.sample_size
    if lam > threshold:
        raise QKDAbort(
            f"estimated QBER {lam:.4f} ({stats.sample_errors} errors in a sample of {k}) exceeds the threshold "
            f"{threshold:.4f}: the channel may be eavesdropped; aborting, no key",
            stage="parameter estimation", qber=lam, threshold=threshold)
    if n < 2 or length_at_shannon <= 0:
        raise QKDAbort(
            f"no secret key possible at estimated QBER {lam:.4f} (threshold {threshold:.4f}): the key length is "
            f"<= 0 even with Shannon-limit error correction (n = {n} key bits, sample k = {k})",
            stage="parameter estimation", qber=lam, threshold=threshold)


async def _cascade_alice(link: AuthenticatedLink, key: NDArray[np.uint8], rng: np.random.Generator, passes: int,
                         k1: int) -> int:
    """Alice's side of interactive Cascade: answer Bob's parity questions; return the leak."""
    n = key.size
    oracle = ParityOracle(key)
    for p in range(passes):
        seed = int(rng.integers(0, 2**63))
        permutation = np.random.default_rng(seed).permutation(n)
        oracle.register_pass(permutation)
        size = min(k1 << p, n)
        parities = np.array([oracle.parity(p, s, min(s + size, n)) for s in range(0, n, size)], dtype=np.uint8)
        link.send_deferred(f"cascade/{p}/parities", _Writer().u64(seed).bits(parities).done())
        while True:
            reader = _Reader(await link.recv_deferred(f"cascade/{p}/ask"))
            j = reader.u64()
            if j == 2**64 - 1:
                reader.end()
                break
            lo, hi = reader.ints(), reader.ints()
            reader.end()
            answers = np.array([oracle.parity(j, int(a), int(b)) for a, b in zip(lo, hi, strict=True)], dtype=np.uint8)
            link.send_deferred(f"cascade/{p}/answers", _Writer().bits(answers).done())
        await link.close_batch(f"cascade/{p}/authentication")
    return oracle.leaked_bits


async def _cascade_bob(link: AuthenticatedLink, key: NDArray[np.uint8], passes: int,
                       k1: int) -> tuple[NDArray[np.uint8], int, int]:
    """Bob's side: batched BINARY over all odd blocks of the lowest pass that has any, with
    back-tracking into earlier passes (Brassard & Salvail). Returns (key, leak, rounds)."""
    n = key.size
    bob = key.copy()
    known: dict[tuple[int, int, int], int] = {}
    permutations: list[NDArray[np.int64]] = []
    positions: list[NDArray[np.int64]] = []
    sizes: list[int] = []
    odd: list[set[int]] = []
    rounds = flips = 0
    for p in range(passes):
        reader = _Reader(await link.recv_deferred(f"cascade/{p}/parities"))
        permutation = np.random.default_rng(reader.u64()).permutation(n)
        alice_parities = reader.bits()
        reader.end()
        size = min(k1 << p, n)
        inverse = np.empty(n, dtype=np.int64)
        inverse[permutation] = np.arange(n)
        permutations.append(permutation)
        positions.append(inverse)
        sizes.append(size)
        starts = np.arange(0, n, size)
        for block, s in enumerate(starts):
            known[(p, int(s), int(min(s + size, n)))] = int(alice_parities[block])
        own = (np.add.reduceat(bob[permutation].astype(np.int64), starts) & 1).astype(np.uint8)
        odd.append({int(b) for b in np.flatnonzero(own != alice_parities)})
        while True:
            j = next((j for j in range(p + 1) if odd[j]), None)
            if j is None:
                break
            blocks = np.array(sorted(odd[j]), dtype=np.int64)
            lo = blocks * sizes[j]
            hi = np.minimum(lo + sizes[j], n)
            shuffled = bob[permutations[j]]
            prefix = np.zeros(n + 1, dtype=np.uint8)
            np.bitwise_xor.accumulate(shuffled, out=prefix[1:])
            while np.any(hi - lo > 1):
                active = np.flatnonzero(hi - lo > 1)
                mid = (lo[active] + hi[active]) // 2
                ranges = [(j, int(a), int(b)) for a, b in zip(lo[active], mid, strict=True)]
                ask = [r for r in ranges if r not in known]
                if ask:
                    rounds += 1
                    link.send_deferred(f"cascade/{p}/ask", _Writer().u64(j).ints([r[1] for r in ask])
                                       .ints([r[2] for r in ask]).done())
                    answers = _Reader(await link.recv_deferred(f"cascade/{p}/answers")).bits()
                    if answers.size != len(ask):
                        raise ProtocolError(f"asked {len(ask)} parities, got {answers.size}")
                    for r, a in zip(ask, answers, strict=True):
                        known[r] = int(a)
                alice = np.array([known[r] for r in ranges], dtype=np.uint8)
                mine = prefix[mid] ^ prefix[lo[active]]
                differ = alice != mine
                hi[active[differ]] = mid[differ]
                lo[active[~differ]] = mid[~differ]
            flipped = permutations[j][lo]
            bob[flipped] ^= 1
            flips += flipped.size
            if flips > n:
                raise ProtocolError(f"Cascade flipped {flips} bits of a {n}-bit key: inconsistent parities")
            for r in range(p + 1):
                for index in flipped:
                    block = int(positions[r][index]) // sizes[r]
                    odd[r].symmetric_difference_update((block,))
        link.send_deferred(f"cascade/{p}/ask", _Writer().u64(2**64 - 1).done())
        await link.close_batch(f"cascade/{p}/authentication")
    return bob, len(known), rounds


async def _reconcile_and_amplify(
    side: str, link: AuthenticatedLink, key: NDArray[np.uint8], rng: np.random.Generator, stats: LinkStatistics,
    settings: BB84Settings, length_of: Any,
) -> tuple[NDArray[np.uint8], int, int, int]:
    """Cascade, verification and privacy amplification; returns (key, leak, length, errors corrected)."""
    n = key.size
    lam = stats.qber
    k1 = cascade_block_size(lam if lam > 0 else 1.0 / max(1, stats.sample_size), n)
    threshold = settings.qber_threshold
    corrected = 0
    if side == "alice":
        leak = await _cascade_alice(link, key, rng, settings.cascade_passes, k1)
        reference = key
    else:
        reference, leak, _ = await _cascade_bob(link, key, settings.cascade_passes, k1)
        corrected = int(np.count_nonzero(reference != key))
    tag_bits = min(verification_tag_length(settings.eps_cor), n)
    if side == "alice":
        seed = random_toeplitz_seed(rng, n, tag_bits)
        link.send("verification/hash", _Writer().bits(seed).bits(toeplitz_hash(key, seed, tag_bits)).done())
        ok = (await link.recv("verification/result")) == b"\x01"
    else:
        reader = _Reader(await link.recv("verification/hash"))
        seed, alice_hash = reader.bits(), reader.bits()
        reader.end()
        ok = bool(np.array_equal(toeplitz_hash(reference, seed, tag_bits), alice_hash))
        link.send("verification/result", b"\x01" if ok else b"\x00")
    if not ok:
        raise QKDAbort(f"error-correction verification failed at estimated QBER {lam:.4f} (threshold "
                       f"{threshold:.4f}): the {tag_bits}-bit hashes differ; aborting, no key",
                       stage="verification", qber=lam, threshold=threshold)
    length = int(length_of(leak))
    if length <= 0:
        raise QKDAbort(f"finite-key length <= 0 at estimated QBER {lam:.4f} (threshold {threshold:.4f}) after "
                       f"Cascade disclosed {leak} parities of n = {n} bits; aborting, no key",
                       stage="privacy amplification", qber=lam, threshold=threshold)
    if side == "alice":
        seed = random_toeplitz_seed(rng, n, length)
        link.send("amplification/seed", _Writer().u64(length).bits(seed).done())
        if await link.recv("confirmation") != b"\x01":
            raise ProtocolError("Bob's confirmation is not the confirmation message")
    else:
        reader = _Reader(await link.recv("amplification/seed"))
        announced, seed = reader.u64(), reader.bits()
        reader.end()
        if announced != length:
            raise ProtocolError(f"Alice announced key length {announced}, Bob computed {length}")
        link.send("confirmation", b"\x01")
    return toeplitz_hash(reference, seed, length), leak, length, corrected


# ============================================================================ results


@dataclass(frozen=True)
class BB84Result:
    """One role's outcome of a QKD run (BB84 or BBM92).

    ``key`` (uint8 bits, empty after an abort) and ``key_length``; ``qber`` the estimated QBER
    lambda (nan if the run stopped before estimation); ``abort`` the :class:`~qstack.qkd.QKDAbort`
    or None; ``statistics`` (:class:`LinkStatistics`, None if the run aborted before estimation);
    ``leaked_bits`` (Cascade parities); ``errors_corrected`` (Bob only);
    ``asymptotic_key_length`` the length without finite-size terms at the same leak (at the
    Shannon limit if Cascade never ran); ``asymptotic_rate`` per pulse: ``p_signal (1 -
    sample_fraction)`` times :func:`~qstack.qkd.decoy_state_rate` at the measured statistics and
    Cascade's efficiency (decoy), or ``sifted/pulses (1 - sample_fraction) (1 - h - f h)`` —
    :func:`~qstack.qkd.bb84_asymptotic_rate` at ``f = 1`` — (single photons, BBM92);
    ``reconciliation_efficiency`` f (nan before Cascade); ``auth_pools`` this role's (send,
    receive) key pools; ``started``/``finished`` simulated times; ``duration`` the quantum
    transmission time; ``rejected`` the messages this role refused, by reason (``"tag"``,
    ``"replay"``, ``"unexpected"``); ``auth_key_source`` where the pre-shared key came from
    (``"fresh"``, ``"hex"``, ``"file <path>"``).
    """

    protocol: str
    role: str
    peer: str
    key: NDArray[np.uint8] = field(repr=False)
    key_length: int
    qber: float
    abort: QKDAbort | None
    pulses: int
    detections: int
    statistics: LinkStatistics | None = field(repr=False)
    leaked_bits: int
    errors_corrected: int
    asymptotic_key_length: float
    asymptotic_rate: float
    reconciliation_efficiency: float
    auth_bits_used: int
    messages: int
    started: float
    finished: float
    duration: float
    auth_pools: tuple[KeyPool, KeyPool] = field(repr=False, compare=False)
    rejected: dict[str, int] = field(default_factory=dict)
    auth_key_source: str = ""

    @property
    def aborted(self) -> bool:
        """Whether the protocol aborted (no key)."""
        return self.abort is not None

    @property
    def key_rate_per_pulse(self) -> float:
        """Secret bits per pulse sent."""
        return self.key_length / self.pulses

    @property
    def key_rate(self) -> float:
        """Secret bits per second of the quantum transmission (bits / duration)."""
        return self.key_length / self.duration if self.duration > 0 else math.inf


def _statistics(classes: NDArray[np.uint8], sifted: NDArray[np.bool_], counts: Sequence[int], sample_size: int,
                sample_errors: int, decoy_errors: int, vacuum_errors: int,
                settings: BB84Settings | None) -> LinkStatistics:
    detections = tuple(int(np.count_nonzero(classes == c)) for c in range(3))
    sifted_counts = tuple(int(np.count_nonzero(sifted & (classes == c))) for c in range(3))
    stats = LinkStatistics(tuple(int(c) for c in counts), detections, sifted_counts,  # type: ignore[arg-type]
                           (sample_errors, decoy_errors, vacuum_errors), sample_size, None)
    if settings is not None and settings.source == "decoy":
        q_mu, q_nu, y0 = stats.gains
        e_nu = stats.error_rates[DECOY]
        try:
            bounds = decoy_single_photon_bounds(settings.mu, settings.nu, q_mu, min(stats.qber, 1.0), q_nu, e_nu, y0)
        except ValueError:
            bounds = DecoyBounds((0.0, 0.5))
        stats = LinkStatistics(stats.pulses, stats.detections, stats.sifted, stats.errors, sample_size, bounds)
    return stats


def _asymptotic_rate(stats: LinkStatistics, settings: BB84Settings, leak: int, n: int,
                     pulses: int) -> tuple[float, float]:
    """(rate per pulse, reconciliation efficiency f) without finite-size terms."""
    lam = stats.qber
    ideal = n * binary_entropy(lam)
    f = leak / ideal if ideal > 0 else 1.0
    keep = 1.0 - stats.sample_size / max(1, stats.sifted[SIGNAL])
    if stats.decoy is not None:
        q_mu, q_nu, y0 = stats.gains
        rate = decoy_state_rate(settings.mu, settings.nu, q_mu, min(lam, 0.5), q_nu, stats.error_rates[DECOY], y0,
                                max(1.0, f), q=0.5)
        return settings.p_signal * keep * rate, f
    fraction = max(0.0, 1.0 - binary_entropy(lam) - max(1.0, f) * binary_entropy(lam))
    return stats.sifted[SIGNAL] / pulses * keep * fraction, f


def _asymptotics(stats: LinkStatistics | None, settings: BB84Settings, decoy: bool, leak: int, n: int,
                 pulses: int) -> tuple[float, float, float]:
    """(asymptotic key length, asymptotic rate per pulse, f); before Cascade ran (an abort at
    estimation) at the Shannon limit leak = n h(lambda), f = nan."""
    if stats is None:
        return 0.0, 0.0, math.nan
    cascade_ran = leak > 0
    if not cascade_ran:
        leak = round(n * binary_entropy(stats.qber))
    length = float(_key_length(stats, settings if decoy else None, n, leak, asymptotic=True))
    rate, f = _asymptotic_rate(stats, settings, leak, n, pulses)
    return length, rate, f if cascade_ran else math.nan


# ============================================================================ protocol


def _rejected_since(auth: AuthenticatedLink, before: Mapping[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in auth.rejected.items() if v > before.get(k, 0)}


async def bb84_session(
    ctx: RoleContext,
    peer: str,
    side: str,
    settings: BB84Settings,
    link: OpticalLink,
    *,
    rng: np.random.Generator | None = None,
    auth: AuthenticatedLink | None = None,
) -> BB84Result:
    """Run one side of BB84 with ``peer``: ``side`` is ``"alice"`` (transmitter) or ``"bob"``.

    Both roles must call it with the same ``settings`` and ``link``. ``rng`` (default
    ``ctx.rng``) draws this role's choices; the channel draws from the stream
    ``("channel", sender node, receiver node)``. ``auth`` defaults to
    :func:`authenticated_link`. Returns a :class:`BB84Result`; an abort is reported in it,
    not raised.
    """
    if side not in ("alice", "bob"):
        raise ValueError(f'side must be "alice" or "bob", got {side!r}')
    rng = ctx.rng if rng is None else rng
    auth = authenticated_link(ctx, peer, settings.fresh_key_bits, key=settings.preshared_key) if auth is None else auth
    rejected_before = dict(auth.rejected)
    started = ctx.now
    tags_before, messages_before = auth.tags_sent, auth.messages_sent
    me, other = ctx.node.name, ctx.transport.node_of[peer]
    sender, receiver = (ctx.role, peer) if side == "alice" else (peer, ctx.role)
    box_key = ("optical", sender, receiver)
    state = _session_state(ctx)
    box = state.setdefault(box_key, Mailbox(ctx.sim, f"optical {sender}->{receiver}"))
    efficiency = settings.source_efficiency
    if efficiency is None:
        efficiency = ctx.session.network.scenario.hardware_of(me if side == "alice" else other).emission_efficiency
    record: Any = None
    if side == "alice":
        channel_rng = ctx.sim.rng("channel", me, other)
        emit = _emit_pulses if settings.sampling == "pulse" else _emit_clicks
        record, arrivals = emit(settings, link, efficiency, rng, channel_rng)
        await ctx.sleep(link.duration)
        ctx.sim.call_at(ctx.now + link.delay, box.put, arrivals)
    else:
        arrivals = await box.get()
        detections = _detect(arrivals, link, rng)
    stats: LinkStatistics | None = None
    leak = corrected = length = 0
    key = np.zeros(0, dtype=np.uint8)
    abort: QKDAbort | None = None
    n = 0
    indices = np.zeros(0, dtype=np.int64)
    try:
        # 1. sifting
        if side == "bob":
            auth.send("sifting/detections", _Writer().ints(detections.indices).bits(detections.bases).done())
            reader = _Reader(await auth.recv("sifting/announcement"))
            counts, classes, alice_bases = reader.ints(), reader.small(), reader.bits()
            reader.end()
            indices, own_bases, own_bits = detections.indices, detections.bases, detections.bits
            other_bases = alice_bases
        else:
            reader = _Reader(await auth.recv("sifting/detections"))
            indices, other_bases = reader.ints(), reader.bits()
            reader.end()
            classes, own_bits, own_bases = record.lookup(indices)
            counts = record.counts
            auth.send("sifting/announcement", _Writer().ints(counts).small(classes).bits(own_bases).done())
        sifted = own_bases == other_bases
        signal = np.flatnonzero(sifted & (classes == SIGNAL))
        decoy = np.flatnonzero(sifted & (classes == DECOY))
        vacuum = np.flatnonzero(sifted & (classes == VACUUM))
        # 2. parameter estimation
        if signal.size < 3:
            raise QKDAbort(f"only {signal.size} sifted signal bits from {link.total_pulses} pulses: no key",
                           stage="sifting", qber=math.nan, threshold=settings.qber_threshold)
        if side == "alice":
            k = min(signal.size - 2, max(1, round(settings.sample_fraction * signal.size)))
            sample = np.sort(rng.choice(signal.size, k, replace=False))
            auth.send("estimation/sample", _Writer().ints(sample).bits(own_bits[signal[sample]])
                      .bits(own_bits[decoy]).bits(own_bits[vacuum]).done())
            reader = _Reader(await auth.recv("estimation/reply"))
            mine = (own_bits[signal[sample]], own_bits[decoy], own_bits[vacuum])
            theirs = (reader.bits(), reader.bits(), reader.bits())
            reader.end()
        else:
            reader = _Reader(await auth.recv("estimation/sample"))
            sample = reader.ints()
            theirs = (reader.bits(), reader.bits(), reader.bits())
            reader.end()
            mine = (own_bits[signal[sample]], own_bits[decoy], own_bits[vacuum])
            auth.send("estimation/reply", _Writer().bits(mine[0]).bits(mine[1]).bits(mine[2]).done())
        errors = [int(np.count_nonzero(a != b)) for a, b in zip(mine, theirs, strict=True)]
        stats = _statistics(classes, sifted, counts, int(sample.size), *errors,
                            settings if settings.source == "decoy" else None)
        keep = np.ones(signal.size, dtype=bool)
        keep[sample] = False
        raw = own_bits[signal[keep]]
        n = int(raw.size)
        eps = (settings.eps_sec, settings.eps_cor)
        _check_estimate(stats, n, settings.qber_threshold,
                        _key_length(stats, settings, n, n * binary_entropy(stats.qber), eps=eps))
        key, leak, length, corrected = await _reconcile_and_amplify(
            side, auth, raw, rng, stats, settings, lambda leak_ec: _key_length(stats, settings, n, leak_ec, eps=eps))
    except QKDAbort as error:
        if isinstance(error, MessageRejected):  # only this role knows: tell the peer
            auth.announce_abort(error)
        abort = error
        key = np.zeros(0, dtype=np.uint8)
        length = 0
    asymptotic_length, rate, f = _asymptotics(stats, settings, settings.source == "decoy", leak, n, link.total_pulses)
    return BB84Result(
        protocol="bb84", role=ctx.role, peer=peer, key=key, abort=abort, pulses=link.total_pulses,
        detections=int(indices.size), statistics=stats, leaked_bits=int(leak),
        errors_corrected=corrected, key_length=int(length), qber=math.nan if stats is None else stats.qber,
        asymptotic_key_length=asymptotic_length,
        asymptotic_rate=rate, reconciliation_efficiency=f,
        auth_bits_used=KEY_BITS_PER_TAG * (auth.tags_sent - tags_before),
        messages=auth.messages_sent - messages_before, started=started, finished=ctx.now, duration=link.duration,
        auth_pools=(auth.send_pool, auth.receive_pool), rejected=_rejected_since(auth, rejected_before),
        auth_key_source=auth.key_source,
    )


async def _bbm92_session(ctx: RoleContext, peer: str, side: str, settings: BB84Settings, link: EntangledLink,
                         rng: np.random.Generator) -> BB84Result:
    """One side of BBM92 (``side`` ``"alice"`` keeps the reference key, ``"bob"`` corrects)."""
    auth = authenticated_link(ctx, peer, settings.fresh_key_bits, key=settings.preshared_key)
    rejected_before = dict(auth.rejected)
    started = ctx.now
    state = _session_state(ctx)
    key_pairs = ("pairs",) + tuple(sorted((ctx.role, peer)))
    if key_pairs not in state:
        nodes = sorted((ctx.node.name, ctx.transport.node_of[peer]))
        state[key_pairs] = _emit_pairs(link, ctx.sim.rng("spdc-source", *nodes), settings.eavesdropper,
                                       ctx.sim.rng("eavesdropper", *nodes))
    arrivals_a, arrivals_b = state[key_pairs]
    mine = 0 if side == "alice" else 1
    arrivals = arrivals_a if side == "alice" else arrivals_b
    detections = _detect_pairs(arrivals, link.pulses, link.detector_efficiency[mine], link.dark_count_probability[mine],
                               link.misalignment if side == "bob" else 0.0, rng)
    await ctx.sleep(link.duration + link.delay[mine])
    stats: LinkStatistics | None = None
    leak = corrected = length = n = 0
    key = np.zeros(0, dtype=np.uint8)
    abort: QKDAbort | None = None
    coincident = np.zeros(0, dtype=np.int64)
    try:
        if side == "alice":
            auth.send("sifting/detections", _Writer().ints(detections.indices).bits(detections.bases).done())
            reader = _Reader(await auth.recv("sifting/coincidences"))
            where, bob_bases = reader.ints(), reader.bits()
            reader.end()
            coincident = detections.indices[where]
            own_bits, own_bases = detections.bits[where], detections.bases[where]
            other_bases = bob_bases
        else:
            reader = _Reader(await auth.recv("sifting/detections"))
            alice_indices, alice_bases = reader.ints(), reader.bits()
            reader.end()
            coincident, where_a, where_b = np.intersect1d(alice_indices, detections.indices, assume_unique=True,
                                                          return_indices=True)
            auth.send("sifting/coincidences", _Writer().ints(where_a).bits(detections.bases[where_b]).done())
            own_bits, own_bases = detections.bits[where_b], detections.bases[where_b]
            other_bases = alice_bases[where_a]
        sifted = own_bases == other_bases
        signal = np.flatnonzero(sifted)
        if signal.size < 3:
            raise QKDAbort(f"only {signal.size} sifted coincidences from {link.pulses} pulses: no key",
                           stage="sifting", qber=math.nan, threshold=settings.qber_threshold)
        if side == "alice":
            k = min(signal.size - 2, max(1, round(settings.sample_fraction * signal.size)))
            sample = np.sort(rng.choice(signal.size, k, replace=False))
            auth.send("estimation/sample", _Writer().ints(sample).bits(own_bits[signal[sample]]).done())
            reader = _Reader(await auth.recv("estimation/reply"))
            theirs = reader.bits()
            reader.end()
        else:
            reader = _Reader(await auth.recv("estimation/sample"))
            sample, theirs = reader.ints(), reader.bits()
            reader.end()
            auth.send("estimation/reply", _Writer().bits(own_bits[signal[sample]]).done())
        errors = int(np.count_nonzero(own_bits[signal[sample]] != theirs))
        classes = np.zeros(coincident.size, dtype=np.uint8)
        stats = _statistics(classes, sifted, (link.pulses, 0, 0), int(sample.size), errors, 0, 0, None)
        keep = np.ones(signal.size, dtype=bool)
        keep[sample] = False
        raw = own_bits[signal[keep]]
        n = int(raw.size)
        eps = (settings.eps_sec, settings.eps_cor)
        _check_estimate(stats, n, settings.qber_threshold, _key_length(stats, None, n, n * binary_entropy(stats.qber),
                                                                       eps=eps))
        key, leak, length, corrected = await _reconcile_and_amplify(
            side, auth, raw, rng, stats, settings, lambda leak_ec: _key_length(stats, None, n, leak_ec, eps=eps))
    except QKDAbort as error:
        if isinstance(error, MessageRejected):  # only this role knows: tell the peer
            auth.announce_abort(error)
        abort = error
        key, length = np.zeros(0, dtype=np.uint8), 0
    asymptotic_length, rate, f = _asymptotics(stats, settings, False, leak, n, link.pulses)
    return BB84Result(
        protocol="bbm92", role=ctx.role, peer=peer, key=key, abort=abort, pulses=link.pulses,
        detections=int(coincident.size), statistics=stats, leaked_bits=int(leak), errors_corrected=corrected,
        key_length=int(length), qber=math.nan if stats is None else stats.qber,
        asymptotic_key_length=asymptotic_length, asymptotic_rate=rate,
        reconciliation_efficiency=f, auth_bits_used=auth.key_bits_used, messages=auth.messages_sent,
        started=started, finished=ctx.now, duration=link.duration, auth_pools=(auth.send_pool, auth.receive_pool),
        rejected=_rejected_since(auth, rejected_before), auth_key_source=auth.key_source,
    )


# ============================================================================ applications


class BB84(Application):
    """Decoy-state BB84 from ``alice`` to ``bob`` over their direct link (stage 1).

    Keyword arguments are :class:`BB84Settings` fields. Both roles return a :class:`BB84Result`
    (equal keys; an abort — e.g. ``eavesdropper = 0.6`` — in ``abort``).
    """

    name = "bb84"
    stage = Stage.PREPARE_AND_MEASURE
    roles = ("alice", "bob")

    def __init__(self, **params: Any) -> None:
        self.settings = _settings(params)

    def _link(self, ctx: RoleContext) -> OpticalLink:
        nodes = ctx.transport.node_of
        return OpticalLink.from_scenario(ctx.session.network.scenario, nodes["alice"], nodes["bob"], self.settings)

    async def alice(self, ctx: RoleContext) -> BB84Result:
        return await bb84_session(ctx, "bob", "alice", self.settings, self._link(ctx))

    async def bob(self, ctx: RoleContext) -> BB84Result:
        return await bb84_session(ctx, "alice", "bob", self.settings, self._link(ctx))


class BBM92(Application):
    """Entanglement-based BBM92 with an SPDC source at the link's ``station_position`` (stage 1:
    post-selected entanglement distribution).

    ``mean_pair_number`` per pulse (thermal); other keyword arguments are :class:`BB84Settings`
    fields (``pulses``, ``misalignment``, ``repetition_rate``, ``sample_fraction``, …; the decoy
    fields are ignored). Detectors: each node's hardware profile.
    """

    name = "bbm92"
    stage = Stage.PREPARE_AND_MEASURE
    roles = ("alice", "bob")

    def __init__(self, mean_pair_number: float = 0.05, **params: Any) -> None:
        self.mean_pair_number = check_range("mean_pair_number", mean_pair_number, low=0.0, low_inclusive=False)
        self.settings = _settings({**params, "source": "single_photon"})

    def _link(self, ctx: RoleContext) -> EntangledLink:
        nodes = ctx.transport.node_of
        scenario = ctx.session.network.scenario
        a, b = nodes["alice"], nodes["bob"]
        try:
            spec = scenario.link(a, b)
        except KeyError:
            raise ValueError(f"BBM92 needs a direct link between {a!r} and {b!r}; the scenario has none") from None
        position = spec.station_position if spec.a == a else 1.0 - spec.station_position
        ha, hb = scenario.hardware_of(a), scenario.hardware_of(b)
        return EntangledLink.from_fibre(
            spec.length, pulses=self.settings.pulses, repetition_rate=self.settings.repetition_rate,
            mean_pair_number=self.mean_pair_number,
            detector_efficiency=(ha.detector_efficiency, hb.detector_efficiency),
            dark_count_probability=(ha.dark_count_probability, hb.dark_count_probability),
            misalignment=self.settings.misalignment, attenuation=spec.attenuation,
            refractive_index=spec.refractive_index, source_position=position)

    async def alice(self, ctx: RoleContext) -> BB84Result:
        return await _bbm92_session(ctx, "bob", "alice", self.settings, self._link(ctx), ctx.rng)

    async def bob(self, ctx: RoleContext) -> BB84Result:
        return await _bbm92_session(ctx, "alice", "bob", self.settings, self._link(ctx), ctx.rng)


def example_link(length: float | str = "50 km", *, seed: int = 1, detector_efficiency: float = 0.2,
                 dark_count_probability: float = 1e-6, name: str | None = None) -> dict[str, Any]:
    """A scenario dict: end nodes ``alice`` and ``bob`` joined by one fibre of ``length``.

    >>> from qstack.scenario import load_scenario
    >>> load_scenario(example_link("10 km")).links[0].length
    10000.0
    """
    simulation: dict[str, Any] = {"seed": seed}
    if name is not None:
        simulation["name"] = name
    return {
        "simulation": simulation,
        "hardware": {"default": {"memory_positions": 1, "attempt_rate": "1 MHz", "emission_efficiency": 1.0,
                                 "detector_efficiency": detector_efficiency,
                                 "dark_count_probability": dark_count_probability}},
        "nodes": [{"name": "alice", "role": "end"}, {"name": "bob", "role": "end"}],
        "links": [{"a": "alice", "b": "bob", "length": length}],
        "application": {"name": "bb84", "roles": {"alice": "alice", "bob": "bob"}},
    }
