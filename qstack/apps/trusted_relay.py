"""Stage 0: key relay through trusted nodes, on fibre backbones and via the Micius satellite.

Wehner, Elkouss & Hanson (Science 362, eaam9288 (2018)) describe the first stage of the quantum
internet as trusted-repeater networks: neighbours run QKD, and the end nodes get a key
"provided that all intermediary nodes are trusted". Along a path of roles
``[A, T1, ..., Tk, B]`` each adjacent pair distils a link key ``K_j`` by decoy-state BB84
(:func:`qstack.apps.bb84.bb84_session`, all hops at once); then every trusted node ``Ti``
publishes ``P_i = K_{i-1} XOR K_i`` (its left and right link keys, cut to a common length) in an
authenticated message passed along the chain (each hop authenticated with the pre-shared key of
that pair of neighbours: T_i forwards P_1 .. P_i to the next node), and B sends the link key
lengths back the same way. The end-to-end key is ``K_0``, A's key with T1, cut to the shortest
link key ``L = min_j |K_j|``; B recovers it as ``K_k XOR P_k XOR ... XOR P_1`` (the P's
telescope). Every trusted node can compute it too — ``K_{i-1} XOR P_{i-1} XOR ... XOR P_1`` —
which is exactly the trust assumption, and each result reports the key its role computes.
A listener who sees only the public XORs learns nothing: each ``P_i`` is a link key (uniform and
independent of everything else) XORed onto other bits, a one-time pad, so the P's are uniform
and independent of the final key.

The end-to-end key rate is the minimum of the link rates (``|K_j| / T_j`` with ``T_j`` the
quantum transmission time of hop ``j``); with equal hops the relay's key of ``L`` bits in time
``T`` realises exactly that.

Models
------
* :class:`TrustedRelay` — fibre hops between adjacent nodes of the scenario (lengths and
  attenuation from its ``LinkSpec``s, each hop's receiver detector from its hardware profile).
  ``stages/stage0/beijing_shanghai.toml`` chains 32 trusted nodes over ~2000 km after the
  Beijing–Shanghai backbone (Chen et al., Nature 589, 214 (2021)); its hop lengths are
  illustrative. ``hops`` gives each hop its own settings (source, pulses, detector, dark
  counts, sender, start time), from Python or from TOML (``[[application.params.hops]]``),
  and a hop over a ``type = "satellite_downlink"`` link runs over that link's pass
  (:class:`qstack.physical.satellite.DownlinkSpec`): a satellite is just another trusted node.
  :meth:`TrustedRelay.hop_budgets` gives the analytic asymptotic key of each hop
  (:func:`decoy_hop_rate`; a pass integral for satellite hops) and of the chain
  (:class:`RelayBudget`: the minimum hop rate, the shortest hop key).
  ``examples/real/micius_trusted_relay`` and ``examples/real/integrated_network`` use it.
* :class:`MiciusRelay` — the satellite as the trusted node between Xinglong and Graz (Liao et
  al., "Satellite-relayed intercontinental quantum network", PRL 120, 030501 (2018)): Micius
  runs decoy-state BB84 down to each station during a separate pass
  (:class:`qstack.physical.satellite.SatellitePass`, channel :func:`~qstack.physical.satellite.micius_downlink`,
  source parameters :data:`~qstack.physical.satellite.MICIUS`), then XOR-relays. The pass is
  cut into slices of ``time_step`` during which the transmissivity is taken constant.
  :func:`micius_pass_budget` integrates the asymptotic decoy-state key rate over a pass
  (per-pulse rate from the loss at each instant times the repetition rate); with the default
  645–1200 km window of Liao et al., Nature 549, 43 (2017), Fig. 3 (a 276 s pass) it gives a
  few 10^5 secret bits per pass (3.8e5 Xinglong, 2.4e5 Graz; ~2.8e6 detections at Xinglong): the
  order of magnitude of the published figures — "a kilohertz key rate from the satellite to the
  ground over a distance of up to 1,200 kilometres" (Liao 2017, abstract), "~kHz rate per
  passage" (PRL 2018, abstract); our recollection of Liao 2017's single 273 s pass, ~3.6e6
  detections and ~3e5 final bits at 1.1 % QBER, is not checked against a stored copy.
  The simulated protocol run uses ``pulse_fraction`` of the pulses (every pulse costs nothing
  unless detected, but the classical post-processing of ~10^6 detections per pass takes
  seconds) and reports its own finite-key length.

>>> from qstack.apps import run_app
>>> from qstack.scenario import load_scenario
>>> scenario = load_scenario(relay_chain([15e3, 15e3], seed=2))
>>> r = run_app(TrustedRelay(trusted=1, pulses=3_000_000), scenario, {"alice": "n0", "t1": "n1", "bob": "n2"})
>>> alice, t1, bob = (r.results[x] for x in ("alice", "t1", "bob"))
>>> bool(np.array_equal(alice.key, bob.key) and np.array_equal(alice.key, t1.key)), alice.key_length > 1000
(True, True)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qstack.physical.satellite import (
    GRAZ,
    MICIUS,
    XINGLONG,
    GroundStation,
    SatellitePass,
    elevation_from_slant_range,
    micius_downlink,
)
from qstack.physical.units import SPEED_OF_LIGHT, check_range, parse_quantity
from qstack.qkd.finite_key import decoy_state_rate
from qstack.stages import Stage

from .bb84 import (
    BB84Result,
    BB84Settings,
    OpticalLink,
    _Reader,
    _settings,
    _Writer,
    authenticated_link,
    bb84_session,
    expected_gain_qber,
)
from .runtime import Application, RoleContext

__all__ = [
    "HOP_KEYS",
    "Hop",
    "HopBudget",
    "MiciusRelay",
    "PassBudget",
    "RelayBudget",
    "RelayResult",
    "TrustedRelay",
    "decoy_hop_rate",
    "micius_pass_budget",
    "relay_chain",
]


@dataclass(frozen=True)
class RelayResult:
    """One role's view of a trusted-node key relay.

    ``key`` is the end-to-end key as this role computes it (A's link key with T1, cut to
    ``key_length`` = the shortest link key; empty if any hop aborted); ``hops`` this role's
    own :class:`~qstack.apps.bb84.BB84Result` per hop index; ``hop_lengths`` and
    ``hop_durations`` of every hop (B's announcement); ``link_rates`` their secret bits per second
    and ``end_to_end_rate`` the minimum; ``public`` the published XORs this role received or
    sent, by role (B's holds all of them: everything an outside listener sees besides the
    lengths); ``trusted`` whether this role is a trusted node (it knows the key).
    """

    role: str
    key: NDArray[np.uint8] = field(repr=False)
    key_length: int
    trusted: bool
    hops: dict[int, BB84Result] = field(repr=False)
    hop_lengths: tuple[int, ...]
    hop_durations: tuple[float, ...]
    public: dict[str, NDArray[np.uint8]] = field(repr=False)
    finished: float

    @property
    def aborted(self) -> bool:
        """Whether no end-to-end key came out (some hop aborted or gave no key)."""
        return self.key_length == 0

    @property
    def link_rates(self) -> tuple[float, ...]:
        """Secret key rate of each hop, bits per second of its quantum transmission."""
        return tuple(n / t if t > 0 else math.inf for n, t in zip(self.hop_lengths, self.hop_durations, strict=True))

    @property
    def end_to_end_rate(self) -> float:
        """The relay's rate: the minimum of the link rates (bits/s)."""
        return min(self.link_rates)


HOP_KEYS: tuple[str, ...] = ("sender", "start", "detector_efficiency", "dark_count_probability", "pulse_fraction",
                             "f_ec")
"""Keys of a ``hops`` entry besides the :class:`~qstack.apps.bb84.BB84Settings` fields."""


@dataclass(frozen=True)
class Hop:
    """One hop of a trusted relay, ready to run: its optical path and who sends.

    ``link`` the :class:`~qstack.apps.bb84.OpticalLink` (the receiver's detector included; on a
    satellite hop its dark-count probability includes the sky background); ``transmitter``
    ``"left"`` or ``"right"``, the end of the hop that sends the pulses; ``start`` when its
    quantum transmission begins (s); ``settings`` its BB84 settings (None: the relay's);
    ``kind`` the scenario link's type (``"fibre"`` or ``"satellite_downlink"``); ``f_ec`` the
    error-correction efficiency of its analytic rate; ``downlink`` the
    :class:`~qstack.physical.satellite.DownlinkSpec` of a satellite hop (None on fibre);
    ``station_dark`` the receiver's dark-count probability before sky background; ``seed``
    the fading seed of the analytic pass budget.
    """

    link: OpticalLink
    transmitter: str  # "left" or "right" end of the hop sends the pulses
    start: float = 0.0  # when the hop's quantum transmission starts (s)
    settings: BB84Settings | None = None
    kind: str = "fibre"
    f_ec: float = 1.16
    downlink: Any = None
    station_dark: float = 0.0
    seed: int = 0


_Hop = Hop  # the name older code (MiciusRelay) builds hops with


@dataclass(frozen=True)
class HopBudget:
    """The asymptotic decoy-state key of one hop, every pulse counted (no finite-size terms).

    ``index`` (hop ``j`` joins ``roles[j]`` and ``roles[j + 1]``), ``kind`` (the link type),
    ``duration`` (s) of its quantum transmission, ``secret_bits`` over that time, ``qber`` of
    the signal and channel ``transmissivity`` (means over the samples of a pass); ``key_rate``
    their ratio. Fibre: :func:`decoy_hop_rate`; satellite: the pass integral
    :func:`qstack.physical.satellite.downlink_key_budget`.
    """

    index: int
    kind: str
    duration: float
    secret_bits: float
    qber: float
    transmissivity: float

    @property
    def key_rate(self) -> float:
        """Secret bits per second of the hop's transmission (the pass mean on a satellite hop)."""
        return self.secret_bits / self.duration if self.duration > 0 else 0.0


@dataclass(frozen=True)
class RelayBudget:
    """The analytic key budget of a trusted chain: one :class:`HopBudget` per hop.

    The relayed key is XORed through every trusted node, so it is as long as the shortest link
    key (``relayed_bits`` = min secret bits) and its rate is the slowest hop's
    (``end_to_end_rate`` = min key rate, hop ``bottleneck``).
    """

    hops: tuple[HopBudget, ...]

    @property
    def link_rates(self) -> tuple[float, ...]:
        """Each hop's secret key rate (bits/s)."""
        return tuple(h.key_rate for h in self.hops)

    @property
    def end_to_end_rate(self) -> float:
        """The chain's key rate: the minimum hop rate (bits/s)."""
        return min(self.link_rates)

    @property
    def relayed_bits(self) -> float:
        """The relayed key: the shortest hop key (bits)."""
        return min(h.secret_bits for h in self.hops)

    @property
    def bottleneck(self) -> int:
        """Index of the slowest hop (the first one if several tie)."""
        rates = self.link_rates
        return rates.index(min(rates))


def decoy_hop_rate(settings: BB84Settings, channel_efficiency: float, dark_count_probability: float,
                   f_ec: float = 1.16) -> tuple[float, float]:
    """Asymptotic secret key rate (bits/s) and signal QBER of decoy-state BB84 over one channel.

    ``channel_efficiency`` eta = transmissivity x detector efficiency; the gains and QBERs of the
    signal, decoy and vacuum are :func:`~qstack.apps.bb84.expected_gain_qber` (the model the
    simulation samples, intercept–resend included); the rate is
    ``p_signal x repetition_rate x`` :func:`qstack.qkd.decoy_state_rate` (vacuum + weak decoy,
    GLLP, sifting 1/2).

    >>> s = BB84Settings(mu=0.5, nu=0.1, p_signal=0.7, p_decoy=0.2, p_vacuum=0.1, repetition_rate=1e9)
    >>> rate, qber = decoy_hop_rate(s, 0.1 * 0.2, 1e-6)   # 50 km of fibre, 20 % detector
    >>> round(rate / 1e3), round(qber, 4)
    (1347, 0.015)
    """
    if settings.source != "decoy":
        raise ValueError(f'decoy_hop_rate needs source = "decoy", got {settings.source!r}')
    eta = check_range("channel_efficiency", channel_efficiency, low=0.0, high=1.0)
    y0 = check_range("dark_count_probability", dark_count_probability, low=0.0, high=1.0, high_inclusive=False)
    check_range("f_ec", f_ec, low=1.0)
    e_d, eve = settings.misalignment, settings.eavesdropper
    q_mu, e_mu = expected_gain_qber(settings.mu, eta, y0, e_d, eve)
    q_nu, e_nu = expected_gain_qber(settings.nu, eta, y0, e_d, eve)
    q_0, _ = expected_gain_qber(0.0, eta, y0, e_d, eve)
    if q_mu == 0.0 or q_nu == 0.0:
        return 0.0, 0.0
    per_pulse = decoy_state_rate(settings.mu, settings.nu, q_mu, min(e_mu, 0.5), q_nu, min(e_nu, 1.0), q_0, f_ec)
    return settings.p_signal * settings.repetition_rate * per_pulse, e_mu


def _hop_params(hops: Any, roles: tuple[str, ...], base: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Check ``hops`` (one table or None per hop) and build each hop's settings."""
    count = len(roles) - 1
    if hops is None:
        hops = [None] * count
    if isinstance(hops, Mapping):  # {hop index or "left-right" role pair: table}; other hops: the relay's settings
        names = {f"{roles[j]}-{roles[j + 1]}": j for j in range(count)} | {str(j): j for j in range(count)}
        listed: list[Any] = [None] * count
        for key, entry in hops.items():
            j = key if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < count else names.get(str(key))
            if j is None:
                raise ValueError(f"hops.{key}: no such hop; name a hop by its index 0..{count - 1} or its roles "
                                 f"like {roles[0]}-{roles[1]!s}")
            if listed[j] is not None:
                raise ValueError(f"hops.{key}: hop {j} is given twice")
            listed[j] = {} if entry is None else entry
        hops = listed
    if isinstance(hops, (str, bytes)) or not isinstance(hops, Sequence):
        raise ValueError(f"hops must be a list of {count} tables (one per hop, {roles[0]} to {roles[-1]}) or a "
                         f"table of them by hop index or role pair, got {hops!r}")
    if len(hops) != count:
        raise ValueError(f"hops must have one entry per hop: {count} for roles {list(roles)}, got {len(hops)}")
    bb84 = set(BB84Settings.__dataclass_fields__)
    allowed = sorted(bb84 | set(HOP_KEYS))
    out = []
    for j, entry in enumerate(hops):
        where = f"hops[{j}]"
        entry = {} if entry is None else entry
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: must be a table of hop settings, got {entry!r}")
        unknown = sorted(set(entry) - set(allowed))
        if unknown:
            raise ValueError(f"{where}.{unknown[0]}: unknown hop setting; allowed: {', '.join(allowed)}")
        try:
            settings = _settings({**base, **{k: v for k, v in entry.items() if k in bb84}})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        params: dict[str, Any] = {"settings": settings, "sender": None, "start": 0.0, "detector_efficiency": None,
                                  "dark_count_probability": None, "pulse_fraction": None, "f_ec": 1.16}
        sender = entry.get("sender")
        if sender is not None and sender not in roles[j:j + 2]:
            raise ValueError(f"{where}.sender: must be one of the hop's roles {roles[j]!r} or {roles[j + 1]!r}, "
                             f"got {sender!r}")
        params["sender"] = sender
        try:
            if "start" in entry:
                params["start"] = check_range(f"{where}.start", parse_quantity(entry["start"], "time"), low=0.0,
                                              unit="s")
            if entry.get("detector_efficiency") is not None:
                params["detector_efficiency"] = check_range(f"{where}.detector_efficiency",
                                                            entry["detector_efficiency"], low=0.0, high=1.0)
            if entry.get("dark_count_probability") is not None:
                params["dark_count_probability"] = check_range(
                    f"{where}.dark_count_probability", entry["dark_count_probability"], low=0.0, high=1.0,
                    high_inclusive=False)
            if entry.get("pulse_fraction") is not None:
                params["pulse_fraction"] = check_range(f"{where}.pulse_fraction", entry["pulse_fraction"], low=0.0,
                                                       high=1.0, low_inclusive=False)
            if entry.get("f_ec") is not None:
                params["f_ec"] = check_range(f"{where}.f_ec", entry["f_ec"], low=1.0)
        except TypeError as exc:
            raise ValueError(f"{where}: {exc}") from None
        out.append(params)
    return tuple(out)


def _first(*values: float | None) -> float:
    return next(float(v) for v in values if v is not None)


class TrustedRelay(Application):
    """Key relay along roles ``alice, t1, ..., t<trusted>, bob`` (stage 0: trusted repeater).

    ``trusted`` >= 0 trusted nodes (or ``roles``, the chain's role names in order); other keyword
    arguments are :class:`~qstack.apps.bb84.BB84Settings` fields used on every hop (``sampling``
    defaults to ``"click"``). ``hops`` (optional) gives each hop its own settings: a list with
    one table (or None) per hop ``j`` (between ``roles[j]`` and ``roles[j + 1]``), or a table of
    such tables keyed by hop index or role pair (``"t1-t2"``; hops not named keep the relay's
    settings), each holding
    :class:`~qstack.apps.bb84.BB84Settings` fields that override the relay's (``mu``, ``nu``,
    ``p_signal``, ``pulses``, ``repetition_rate``, ``misalignment``, ``auth_key``, ...) and
    :data:`HOP_KEYS`:

    * ``detector_efficiency``, ``dark_count_probability``: the receiver's detector (default: the
      scenario link's override, else the receiving node's hardware profile);
    * ``sender``: the role that sends the pulses (default: the left role on a fibre, the
      satellite on a ``satellite_downlink``, which only it can send);
    * ``start``: when the hop's quantum transmission begins (s or ``"10 min"``; default 0), e.g.
      a second satellite pass later in the orbit;
    * ``pulse_fraction`` (satellite hops, default 1): the fraction of the pass's pulses simulated
      (every pulse costs nothing unless detected, but post-processing 10^6 detections takes
      seconds);
    * ``f_ec``: the error-correction efficiency of the analytic rate (:meth:`hop_budgets`, 1.16).

    Each hop runs over the scenario's link between the two roles' nodes: a fibre (length,
    attenuation), or a ``type = "satellite_downlink"`` link whose pass (the link's
    :class:`~qstack.physical.satellite.DownlinkSpec`: geometry, loss every ``time_step``, sky
    background) the satellite node sends over; on such a hop the simulated pulses are cut in
    slices of the pass's ``time_step`` at the mean transmissivity of the slice. Every role returns
    a :class:`RelayResult`. Every role's node must have ``role = "end"`` (the trusted nodes run QKD
    and hold keys; ``run_app``'s stage check also only knows end nodes).
    :meth:`hop_budgets` gives the analytic asymptotic key of each hop and of the chain.

    >>> from qstack.scenario import load_scenario
    >>> scenario = load_scenario(relay_chain([20e3, 60e3]))
    >>> app = TrustedRelay(trusted=1, hops=[{"mu": 0.6}, {"detector_efficiency": 0.5, "pulses": 10**7}])
    >>> budget = app.hop_budgets(scenario, {"alice": "n0", "t1": "n1", "bob": "n2"})
    >>> budget.bottleneck, budget.end_to_end_rate == min(budget.link_rates)
    (1, True)
    """

    name = "trusted_relay"
    stage = Stage.TRUSTED_REPEATER

    def __init__(self, trusted: int = 1, *, roles: Sequence[str] | None = None,
                 hops: Sequence[Mapping[str, Any] | None] | None = None, **params: Any) -> None:
        if roles is None:
            if isinstance(trusted, bool) or not isinstance(trusted, int) or trusted < 0:
                raise ValueError(f"trusted must be an integer >= 0, got {trusted!r}")
            roles = ("alice", *(f"t{i}" for i in range(1, trusted + 1)), "bob")
        roles = tuple(roles)
        if len(roles) < 2 or len(set(roles)) != len(roles):
            raise ValueError(f"roles must be at least two distinct names, got {roles}")
        self.roles = roles
        base = {"sampling": "click", **params}
        self.settings: BB84Settings = _settings(base)
        self.hop_params: tuple[dict[str, Any], ...] = _hop_params(hops, roles, base)
        for index, role in enumerate(roles):
            if hasattr(type(self), role):
                raise ValueError(f"role name {role!r} clashes with an attribute of {type(self).__name__}")
            setattr(self, role, functools.partial(self._role, index))

    # -------------------------------------------------------------- hops

    def hop(self, scenario: Any, nodes: Mapping[str, str], index: int) -> Hop:
        """Hop ``index`` (between ``roles[index]`` and ``roles[index + 1]``) over the scenario's link."""
        left_role, right_role = self.roles[index], self.roles[index + 1]
        left, right = nodes[left_role], nodes[right_role]
        p = self.hop_params[index]
        settings: BB84Settings = p["settings"]
        try:
            spec = scenario.link(left, right)
        except KeyError:
            raise ValueError(f"hop {index} ({left_role} - {right_role}) needs a direct link between nodes {left!r} "
                             f"and {right!r}; the scenario has none") from None
        kind = getattr(spec, "type", "fibre")
        seed = int(scenario.simulation.seed)
        if kind == "satellite_downlink":
            transmitter = "left" if spec.a == left else "right"
            if p["sender"] is not None and nodes[p["sender"]] != spec.a:
                raise ValueError(f"hops[{index}].sender: a satellite_downlink is sent by its satellite node "
                                 f"{spec.a!r} (role {(left_role, right_role)[transmitter == 'right']!r}), "
                                 f"got {p['sender']!r}")
        else:
            if p["pulse_fraction"] is not None:
                raise ValueError(f"hops[{index}].pulse_fraction: only applies to satellite_downlink hops "
                                 f"(the link {left!r} - {right!r} is a fibre; set pulses instead)")
            transmitter = "right" if p["sender"] == right_role else "left"
        receiver = right if transmitter == "left" else left
        hardware = scenario.hardware_of(receiver)
        eta_d = _first(p["detector_efficiency"], spec.detector_efficiency, hardware.detector_efficiency)
        dark = _first(p["dark_count_probability"], spec.dark_count_probability, hardware.dark_count_probability)
        if kind != "satellite_downlink":
            link = OpticalLink.fibre(spec.length, pulses=settings.pulses, repetition_rate=settings.repetition_rate,
                                     detector_efficiency=eta_d, dark_count_probability=dark,
                                     misalignment=settings.misalignment, attenuation=spec.attenuation,
                                     refractive_index=spec.refractive_index)
            return Hop(link, transmitter, p["start"], settings, kind, p["f_ec"], None, dark, seed)
        downlink = spec.satellite
        step = downlink.time_step
        samples = downlink.satellite_pass().samples(downlink.channel(), step)
        fraction = 1.0 if p["pulse_fraction"] is None else p["pulse_fraction"]
        per_slice = round(settings.repetition_rate * step * fraction)
        if per_slice < 1:
            raise ValueError(f"hops[{index}].pulse_fraction: leaves no pulse per {step:g} s slice of the pass "
                             f"(repetition_rate x time_step x pulse_fraction must be >= 1), got {fraction!r}")
        y0 = min(1.0 - 1e-16, dark + -math.expm1(-eta_d * downlink.background_photons()))
        link = OpticalLink(
            transmissivity=tuple(float(t) for t in samples.transmissivity),
            pulses=(per_slice,) * samples.times.size,
            detector_efficiency=eta_d, dark_count_probability=y0, misalignment=settings.misalignment,
            delay=float(np.max(samples.slant_range)) / SPEED_OF_LIGHT, duration=samples.times.size * step,
        )
        return Hop(link, transmitter, p["start"], settings, kind, p["f_ec"], downlink, dark, seed)

    def hop_budgets(self, scenario: Any, nodes: Mapping[str, str]) -> RelayBudget:
        """The analytic asymptotic decoy-state key of every hop, with ``nodes`` mapping role to node.

        Fibre hops: :func:`decoy_hop_rate` at eta = transmissivity x detector efficiency over the
        hop's ``pulses``; satellite hops: :func:`qstack.physical.satellite.downlink_key_budget` of
        the link's pass (every pulse of the pass, whatever ``pulse_fraction``; the fading draws
        seeded by the scenario's seed, as :func:`~qstack.physical.satellite.scenario_key_budget`).
        """
        from qstack.physical.satellite import downlink_key_budget

        budgets = []
        for j in range(len(self.roles) - 1):
            hop = self.hop(scenario, nodes, j)
            s = hop.settings if hop.settings is not None else self.settings
            if s.source != "decoy":
                raise ValueError(f'hop {j}: the analytic budget needs source = "decoy", got {s.source!r}')
            if hop.kind == "satellite_downlink":
                b = downlink_key_budget(
                    hop.downlink, mu=s.mu, nu=s.nu, p_signal=s.p_signal, p_decoy=s.p_decoy, p_vacuum=s.p_vacuum,
                    repetition_rate=s.repetition_rate, detector_efficiency=hop.link.detector_efficiency,
                    dark_count_probability=hop.station_dark, misalignment=s.misalignment, f_ec=hop.f_ec,
                    seed=hop.seed)
                budgets.append(HopBudget(j, hop.kind, b.duration, b.secret_bits, float(np.mean(b.qber)),
                                         float(np.mean(b.transmissivity))))
            else:
                t = hop.link.transmissivity[0]
                rate, qber = decoy_hop_rate(s, t * hop.link.detector_efficiency, hop.link.dark_count_probability,
                                            hop.f_ec)
                budgets.append(HopBudget(j, hop.kind, hop.link.duration, rate * hop.link.duration, qber, t))
        return RelayBudget(tuple(budgets))

    def _hops(self, ctx: RoleContext) -> list[Hop]:
        scenario, nodes = ctx.session.network.scenario, ctx.transport.node_of
        return [self.hop(scenario, nodes, j) for j in range(len(self.roles) - 1)]

    async def _run_hop(self, ctx: RoleContext, peer: str, side: str, hop: Hop, rng: np.random.Generator) -> BB84Result:
        if hop.start > ctx.now:
            await ctx.sleep(hop.start - ctx.now)
        settings = hop.settings if hop.settings is not None else self.settings
        return await bb84_session(ctx, peer, side, settings, hop.link, rng=rng)

    # -------------------------------------------------------------- roles

    async def _role(self, index: int, ctx: RoleContext) -> RelayResult:
        roles, last = self.roles, len(self.roles) - 1
        hops = self._hops(ctx)
        mine = [j for j in (index - 1, index) if 0 <= j < last]
        processes = {}
        for j in mine:
            left_end = j == index
            peer = roles[j + 1] if left_end else roles[j]
            side = "alice" if (hops[j].transmitter == "left") == left_end else "bob"
            rng = ctx.sim.rng(ctx.node.name, f"app:{self.name}:{ctx.role}:hop{j}")
            processes[j] = ctx.sim.spawn(self._run_hop(ctx, peer, side, hops[j], rng), name=f"{ctx.role}:hop{j}")
        results: dict[int, BB84Result] = {}
        for j, process in processes.items():
            results[j] = await process
        lengths: list[int] = []
        public: dict[str, NDArray[np.uint8]] = {}
        trusted = 0 < index < last

        def link(peer: str) -> Any:
            return authenticated_link(ctx, peer, self.settings.auth_key_bits)

        # forward pass: T_i appends its length and P_i = K_left XOR K_right, and passes everything on
        if index >= 2:
            reader = _Reader(await link(roles[index - 1]).recv("relay/forward"))
            lengths = [int(x) for x in reader.ints()]
            for i in range(1, index):
                public[roles[i]] = reader.bits()
            reader.end()
        if trusted:
            k_left, k_right = results[index - 1].key, results[index].key
            if index == 1:
                lengths = [k_left.size]
            lengths.append(k_right.size)
            m = min(k_left.size, k_right.size)
            public[ctx.role] = k_left[:m] ^ k_right[:m]
            writer = _Writer().ints(lengths)
            for i in range(1, index + 1):
                writer.bits(public[roles[i]])
            link(roles[index + 1]).send("relay/forward", writer.done())
        # backward pass: B announces every link key length; the shortest sets the key length
        if index == last:
            if last == 1:
                lengths = [results[0].key_length]
            payload = _Writer().ints(lengths).done()
        else:
            payload = await link(roles[index + 1]).recv("relay/lengths")
            lengths = [int(x) for x in _Reader(payload).ints()]
        if index > 0:
            link(roles[index - 1]).send("relay/lengths", payload)
        hop_lengths = tuple(lengths)
        length = min(hop_lengths)
        if index == 0:
            key = results[0].key[:length]
        else:
            key = results[index - 1].key[:length].copy()
            for i in range(1, index):
                key ^= public[roles[i]][:length]
        return RelayResult(
            role=ctx.role, key=key, key_length=int(length), trusted=trusted, hops=results, hop_lengths=hop_lengths,
            hop_durations=tuple(h.link.duration for h in hops), public=public, finished=ctx.now,
        )


def relay_chain(lengths: Sequence[float], *, seed: int = 1, detector_efficiency: float = 0.2,
                dark_count_probability: float = 1e-6, attenuation: float = 0.2) -> dict[str, Any]:
    """A scenario dict: nodes ``n0 ... nK`` (all ``role = "end"``: every trusted node runs QKD
    and holds keys) joined by fibres of ``lengths`` (m).

    >>> from qstack.scenario import load_scenario
    >>> [link.length for link in load_scenario(relay_chain([10e3, 20e3])).links]
    [10000.0, 20000.0]
    """
    names = [f"n{i}" for i in range(len(lengths) + 1)]
    return {
        "simulation": {"seed": seed},
        "hardware": {"default": {"memory_positions": 1, "attempt_rate": "1 MHz",
                                 "detector_efficiency": detector_efficiency,
                                 "dark_count_probability": dark_count_probability}},
        "nodes": [{"name": n, "role": "end"} for n in names],
        "links": [{"a": a, "b": b, "length": float(x), "attenuation": attenuation}
                  for a, b, x in zip(names[:-1], names[1:], lengths, strict=True)],
        "application": {"name": "trusted_relay", "params": {"trusted": len(names) - 2},
                        "roles": {"alice": names[0], **{f"t{i}": names[i] for i in range(1, len(names) - 1)},
                                  "bob": names[-1]}},
    }


# ============================================================================ Micius


LIAO_2017_WINDOW: tuple[float, float] = (
    float(elevation_from_slant_range(645e3, MICIUS["altitude"])),
    float(elevation_from_slant_range(1200e3, MICIUS["altitude"])),
)
"""(max, min) elevation (rad) of the 645–1200 km slant-range window of Liao et al., Nature 549,
43 (2017), Fig. 3: 49.0 and 19.8 degrees, a 276 s pass in the model."""

STATIONS: dict[str, GroundStation] = {"XINGLONG": XINGLONG, "GRAZ": GRAZ}


@dataclass(frozen=True)
class PassBudget:
    """A pass's decoy-state key budget, integrated over time slices of ``time_step``.

    Arrays per slice: ``times`` (s from the peak), ``transmissivity`` (channel, without the
    detector), ``gain`` and ``qber`` of the signal, ``key_rate`` (asymptotic secret bits/s);
    totals over the pass: ``detections`` (all classes), ``sifted`` (signal, bases agreeing),
    ``secret_bits``; ``duration`` (s).
    """

    station: str
    time_step: float
    times: NDArray[np.float64] = field(repr=False)
    transmissivity: NDArray[np.float64] = field(repr=False)
    gain: NDArray[np.float64] = field(repr=False)
    qber: NDArray[np.float64] = field(repr=False)
    key_rate: NDArray[np.float64] = field(repr=False)
    detections: float
    sifted: float
    secret_bits: float

    @property
    def duration(self) -> float:
        """Time covered by the slices (s)."""
        return self.times.size * self.time_step


def _pass(max_elevation: float, min_elevation: float) -> SatellitePass:
    return SatellitePass(MICIUS["altitude"], max_elevation, min_elevation)


def micius_pass_budget(
    station: GroundStation = XINGLONG,
    *,
    max_elevation: float = LIAO_2017_WINDOW[0],
    min_elevation: float = LIAO_2017_WINDOW[1],
    time_step: float = 1.0,
    detector_efficiency: float = MICIUS["detector_efficiency"],
    dark_count_probability: float = 1e-7,
    misalignment: float = 0.01,
    f_ec: float = 1.16,
    settings: BB84Settings | None = None,
) -> PassBudget:
    """Integrate the asymptotic decoy-state key of one Micius downlink pass over ``station``.

    At each slice the channel transmissivity ``T(t)`` of
    :func:`~qstack.physical.satellite.micius_downlink` gives the signal and decoy gains and
    QBERs of :func:`~qstack.apps.bb84.expected_gain_qber` (``eta = T eta_d``); the secret rate is
    ``p_signal`` times :func:`~qstack.qkd.decoy_state_rate` (``f_ec``, sifting 1/2) times the
    repetition rate. ``settings`` defaults to Micius's source (:data:`MICIUS`: 100 MHz,
    0.8/0.1/0 with probabilities 0.5/0.25/0.25).

    >>> budget = micius_pass_budget(XINGLONG)
    >>> round(budget.duration), 1e5 < budget.secret_bits < 1e6
    (277, True)
    """
    settings = _micius_settings() if settings is None else settings
    satellite_pass = _pass(max_elevation, min_elevation)
    samples = satellite_pass.samples(micius_downlink(station), time_step)
    eta = samples.transmissivity * detector_efficiency
    gain = np.zeros(eta.size)
    qber = np.zeros(eta.size)
    rate = np.zeros(eta.size)
    detections = 0.0
    y0 = dark_count_probability
    for i, e in enumerate(eta):
        q_mu, e_mu = expected_gain_qber(settings.mu, float(e), y0, misalignment)
        q_nu, e_nu = expected_gain_qber(settings.nu, float(e), y0, misalignment)
        q_0, _ = expected_gain_qber(0.0, float(e), y0, misalignment)
        gain[i], qber[i] = q_mu, e_mu
        rate[i] = settings.p_signal * decoy_state_rate(settings.mu, settings.nu, q_mu, e_mu, q_nu, e_nu, q_0, f_ec) \
            * settings.repetition_rate
        detections += (settings.p_signal * q_mu + settings.p_decoy * q_nu + settings.p_vacuum * q_0)
    pulses_per_slice = settings.repetition_rate * time_step
    return PassBudget(
        station=station.name, time_step=time_step, times=np.asarray(samples.times), transmissivity=np.asarray(
            samples.transmissivity), gain=gain, qber=qber, key_rate=rate,
        detections=detections * pulses_per_slice,
        sifted=0.5 * settings.p_signal * float(gain.sum()) * pulses_per_slice,
        secret_bits=float(rate.sum()) * time_step,
    )


def _micius_settings(**params: Any) -> BB84Settings:
    defaults = {
        "mu": MICIUS["signal_mean_photon_number"], "nu": MICIUS["decoy_mean_photon_number"],
        "p_signal": MICIUS["signal_probability"], "p_decoy": MICIUS["decoy_probability"],
        "p_vacuum": MICIUS["vacuum_probability"], "repetition_rate": MICIUS["repetition_rate"],
        "misalignment": 0.01, "sampling": "click", "pulses": 1,
    }
    return _settings({**defaults, **params})


class MiciusRelay(TrustedRelay):
    """Micius as the trusted relay between Xinglong and Graz (Liao et al., PRL 120, 030501 (2018)).

    Roles ``xinglong``, ``micius``, ``graz``. Each ground station gets a downlink pass of
    decoy-state BB84 (Micius transmits; the station's detector is its node's hardware
    profile): ``max_elevation`` and ``min_elevation`` (degrees or angle strings like
    ``"49 deg"``; default the 645–1200 km window of Liao 2017) per pass, ``time_step`` (s) of the
    loss sampling, ``pass_gap`` (s) between the end of the Xinglong pass and the start of the
    Graz pass, ``pulse_fraction`` of the 100 MHz pulses simulated. Other keyword arguments are
    :class:`~qstack.apps.bb84.BB84Settings` fields (default: :data:`MICIUS`'s source,
    misalignment 0.01). The links of the scenario are not used: the channel is the built-in
    :func:`~qstack.physical.satellite.micius_downlink`. To describe the passes in the scenario
    instead, use :class:`TrustedRelay` over ``satellite_downlink`` links (per-hop ``start``).
    """

    name = "micius_relay"

    def __init__(
        self,
        *,
        max_elevation: float | str | Sequence[float | str] = math.degrees(LIAO_2017_WINDOW[0]),
        min_elevation: float | str | Sequence[float | str] = math.degrees(LIAO_2017_WINDOW[1]),
        time_step: float | str = 10.0,
        pass_gap: float | str = 600.0,
        pulse_fraction: float = 0.05,
        **params: Any,
    ) -> None:
        self.max_elevation = _per_pass("max_elevation", max_elevation)
        self.min_elevation = _per_pass("min_elevation", min_elevation)
        self.time_step = check_range("time_step", parse_quantity(time_step, "time"), low=0.0, low_inclusive=False)
        self.pass_gap = check_range("pass_gap", parse_quantity(pass_gap, "time"), low=0.0)
        self.pulse_fraction = check_range("pulse_fraction", pulse_fraction, low=0.0, high=1.0, low_inclusive=False)
        settings = _micius_settings(**params)
        fields = {f: getattr(settings, f) for f in BB84Settings.__dataclass_fields__}
        super().__init__(roles=("xinglong", "micius", "graz"), **fields)

    def hop(self, scenario: Any, nodes: dict[str, str], index: int) -> _Hop:
        """Hop 0: the Xinglong pass (from t = 0); hop 1: the Graz pass, ``pass_gap`` later."""
        station = (XINGLONG, GRAZ)[index]
        ground = nodes[("xinglong", "graz")[index]]
        satellite_pass = _pass(self.max_elevation[index], self.min_elevation[index])
        samples = satellite_pass.samples(micius_downlink(station), self.time_step)
        per_slice = max(1, round(self.settings.repetition_rate * self.time_step * self.pulse_fraction))
        hardware = scenario.hardware_of(ground)
        link = OpticalLink(
            transmissivity=tuple(float(t) for t in samples.transmissivity),
            pulses=(per_slice,) * samples.times.size,
            detector_efficiency=hardware.detector_efficiency,
            dark_count_probability=hardware.dark_count_probability,
            misalignment=self.settings.misalignment,
            delay=float(np.max(samples.slant_range)) / SPEED_OF_LIGHT,
            duration=samples.times.size * self.time_step,
        )
        start = 0.0 if index == 0 else self._first_duration(scenario, nodes) + self.pass_gap
        return _Hop(link, "right" if index == 0 else "left", start)

    def _first_duration(self, scenario: Any, nodes: dict[str, str]) -> float:
        samples = _pass(self.max_elevation[0], self.min_elevation[0]).samples(micius_downlink(XINGLONG), self.time_step)
        return samples.times.size * self.time_step

    def budgets(self, detector_efficiency: float = MICIUS["detector_efficiency"],
                dark_count_probability: float = 1e-7) -> tuple[PassBudget, PassBudget]:
        """The asymptotic key budgets of the two full passes (every pulse, not ``pulse_fraction``)."""
        return tuple(  # type: ignore[return-value]
            micius_pass_budget(station, max_elevation=self.max_elevation[i], min_elevation=self.min_elevation[i],
                               time_step=self.time_step, detector_efficiency=detector_efficiency,
                               dark_count_probability=dark_count_probability,
                               misalignment=self.settings.misalignment, settings=self.settings)
            for i, station in enumerate((XINGLONG, GRAZ)))


def _per_pass(name: str, value: float | str | Sequence[float | str]) -> tuple[float, float]:
    values = [value, value] if isinstance(value, (int, float, str)) else list(value)
    if len(values) != 2:
        raise ValueError(f"{name} must be one angle or two (Xinglong, Graz), got {value!r}")
    out = []
    for v in values:
        angle = parse_quantity(v, "angle") if isinstance(v, str) else math.radians(float(v))
        out.append(check_range(name, angle, low=0.0, high=math.pi / 2, unit="rad"))
    return out[0], out[1]
