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
  illustrative.
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
from collections.abc import Sequence
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
    "MiciusRelay",
    "PassBudget",
    "RelayResult",
    "TrustedRelay",
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


@dataclass(frozen=True)
class _Hop:
    link: OpticalLink
    transmitter: str  # "left" or "right" end of the hop sends the pulses
    start: float = 0.0  # when the hop's quantum transmission starts (s)


class TrustedRelay(Application):
    """Key relay along roles ``alice, t1, ..., t<trusted>, bob`` (stage 0: trusted repeater).

    ``trusted`` >= 0 trusted nodes; other keyword arguments are
    :class:`~qstack.apps.bb84.BB84Settings` fields used on every hop (``sampling`` defaults to
    ``"click"``). Each hop's left role sends the pulses over the scenario's link between the two
    roles' nodes. Every role returns a :class:`RelayResult`. Every role's node must have
    ``role = "end"`` (the trusted nodes run QKD and hold keys; ``run_app``'s stage check also only
    knows end nodes).
    """

    name = "trusted_relay"
    stage = Stage.TRUSTED_REPEATER

    def __init__(self, trusted: int = 1, *, roles: Sequence[str] | None = None, **params: Any) -> None:
        if roles is None:
            if isinstance(trusted, bool) or not isinstance(trusted, int) or trusted < 0:
                raise ValueError(f"trusted must be an integer >= 0, got {trusted!r}")
            roles = ("alice", *(f"t{i}" for i in range(1, trusted + 1)), "bob")
        roles = tuple(roles)
        if len(roles) < 2 or len(set(roles)) != len(roles):
            raise ValueError(f"roles must be at least two distinct names, got {roles}")
        self.roles = roles
        self.settings: BB84Settings = _settings({"sampling": "click", **params})
        for index, role in enumerate(roles):
            if hasattr(type(self), role):
                raise ValueError(f"role name {role!r} clashes with an attribute of {type(self).__name__}")
            setattr(self, role, functools.partial(self._role, index))

    # -------------------------------------------------------------- hops

    def hop(self, scenario: Any, nodes: dict[str, str], index: int) -> _Hop:
        """Hop ``index`` (between ``roles[index]`` and ``roles[index + 1]``): the scenario's fibre."""
        left, right = nodes[self.roles[index]], nodes[self.roles[index + 1]]
        return _Hop(OpticalLink.from_scenario(scenario, left, right, self.settings), "left")

    def _hops(self, ctx: RoleContext) -> list[_Hop]:
        scenario, nodes = ctx.session.network.scenario, ctx.transport.node_of
        return [self.hop(scenario, nodes, j) for j in range(len(self.roles) - 1)]

    async def _run_hop(self, ctx: RoleContext, peer: str, side: str, hop: _Hop, rng: np.random.Generator) -> BB84Result:
        if hop.start > ctx.now:
            await ctx.sleep(hop.start - ctx.now)
        return await bb84_session(ctx, peer, side, self.settings, hop.link, rng=rng)

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
    misalignment 0.01). The links of the scenario are not used.
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
