"""Link generation schemes (plug-ins) and the midpoint heralding station (shared physics).

A **link generation scheme** turns a link's hardware (:class:`LinkHardware`: per-arm detection
probabilities, dark counts, phase noise, attempt timing) and a requested minimum fidelity into a
*generation model*: the success probability per attempt, the attempt timing and the heralded
states. Built-ins: ``"single_click"`` (picks the bright-state population α of the highest rate
that meets the fidelity) and ``"double_click"`` (Barrett–Kok). A user's scheme registers the
same way::

    @LINK_SCHEMES.register("my_scheme")
    class MyScheme:
        def model(self, hw: LinkHardware, min_fidelity: float): ...   # a model or None

A model is any object with ``success_probability``, ``fidelity``, ``cycle_time``,
``round_period`` (0 unless rounds are sequential), ``first_round_probability``,
``outcome_probabilities`` (two floats) and ``outcomes()`` (two ``(bell_index, state)`` pairs,
the unnormalised two-qubit states given each herald) — :class:`HeraldingModel` is one.

The **heralding station** (Dahlberg et al.'s midpoint heralding protocol) is physics shared by
the two ends of a link: each end's link protocol tells it when a memory position emits
(:meth:`HeraldingStation.ready`), the station samples the attempts until a herald
(geometrically), builds the heralded state, keeps each end's qubit until that end takes it
(:meth:`HeraldingStation.take`) and sends both ends a ``Herald`` message over its own classical
channels. The queue item (request id) chosen by the link's first end travels with the herald, as
in the paper's MHP, so both ends attribute the pair to the same request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qstack.physical.heralding import HeraldingModel, single_click_alpha_for_fidelity
from qstack.proto import encode
from qstack.proto.qstack.v1 import link_pb2
from qstack.quantum.core import Qubit, adopt_pair
from qstack.registry import Registry

__all__ = ["LINK_SCHEMES", "LinkHardware", "HeraldingStation", "SingleClick", "DoubleClick", "depolarised"]


def _check_scheme(obj: Any) -> str | None:
    return None if callable(getattr(obj, "model", None)) else "a link scheme needs a model(hw, min_fidelity) method"


#: link generation schemes by name
LINK_SCHEMES: Registry[Any] = Registry("link_scheme", "link generation scheme", _check_scheme)


@dataclass(frozen=True, slots=True)
class LinkHardware:
    """What a link scheme knows of its link: ``eta_a``/``eta_b`` (emission × fibre × detector
    per arm), ``p_dark`` (per detector per attempt), ``phase_std`` (rad), ``cycle_time`` (s per
    attempt), ``round_period`` (s per sequential Barrett–Kok round; 0: interleaved), ``alpha``
    (a fixed bright-state population, or None), ``raw_w`` (Werner parameter of the
    emitters' raw-fidelity depolarisation, 1 for none) and ``pauli`` (None, or the weights of a
    Pauli channel on each heralded pair's second qubit, Bell-index order I, Z, X, XZ: Bell-diagonal
    link noise, :mod:`qstack.physical.link_noise`; the built-in schemes apply it)."""

    eta_a: float
    eta_b: float
    p_dark: float = 0.0
    phase_std: float = 0.0
    cycle_time: float = 0.0
    round_period: float = 0.0
    alpha: float | None = None
    raw_w: float = 1.0
    pauli: tuple[float, float, float, float] | None = None

    def base_model(self, scheme: str) -> HeraldingModel:
        """The hardware as a :class:`HeraldingModel` of ``scheme`` (α = 0.5 unless fixed)."""
        return HeraldingModel(scheme, self.eta_a, self.eta_b, self.p_dark,
                              self.alpha if self.alpha is not None else 0.5, self.phase_std, self.cycle_time,
                              self.round_period if scheme == "double_click" else 0.0)


def depolarised(fidelity: float, raw_w: float) -> float:
    """Fidelity after the raw-fidelity channel ``ρ → wρ + (1 − w)I/4``: ``wF + (1 − w)/4``.

    >>> depolarised(1.0, 0.9)
    0.925
    """
    return raw_w * fidelity + (1.0 - raw_w) / 4.0


@LINK_SCHEMES.register("single_click")
class SingleClick:
    """Single click (one photon from either end interferes at the station): the heralded
    fidelity ``(1 − α)/(1 − αη/2)`` falls and the rate ``2αη − α²η²`` rises with α, so the
    scheme takes the largest α ≤ ``max_alpha`` that meets the requested fidelity."""

    name = "single_click"

    def __init__(self, max_alpha: float = 0.5) -> None:
        if not 0.0 < max_alpha < 1.0:
            raise ValueError(f"max_alpha must be in (0, 1), got {max_alpha}")
        self.max_alpha = max_alpha

    def model(self, hw: LinkHardware, min_fidelity: float) -> HeraldingModel | None:
        if hw.pauli is not None:
            return self._noisy_model(hw, min_fidelity)
        heralded_min = (min_fidelity - (1 - hw.raw_w) / 4) / hw.raw_w
        if heralded_min > 1.0:
            return None
        alpha = hw.alpha
        if alpha is None:
            alpha = single_click_alpha_for_fidelity(max(heralded_min, 1e-6), hw.eta_a, hw.eta_b, hw.p_dark,
                                                    hw.phase_std)
            if alpha is None:
                return None
            alpha = min(alpha, self.max_alpha)
        m = HeraldingModel("single_click", hw.eta_a, hw.eta_b, hw.p_dark, alpha, hw.phase_std, hw.cycle_time)
        return m if depolarised(m.fidelity, hw.raw_w) + 1e-12 >= min_fidelity else None

    def _noisy_model(self, hw: LinkHardware, min_fidelity: float) -> Any:
        """The model with Bell-diagonal link noise ``hw.pauli``: α searched on the noisy fidelity."""
        from qstack.physical.link_noise import NoisyLinkModel, noisy_single_click_alpha

        alpha = hw.alpha if hw.alpha is not None else noisy_single_click_alpha(max(min_fidelity, 1e-6), hw,
                                                                                self.max_alpha)
        if alpha is None:
            return None
        m = NoisyLinkModel(HeraldingModel("single_click", hw.eta_a, hw.eta_b, hw.p_dark, alpha, hw.phase_std,
                                          hw.cycle_time), hw.pauli)  # type: ignore[arg-type]
        return m if depolarised(m.fidelity, hw.raw_w) + 1e-12 >= min_fidelity else None


@LINK_SCHEMES.register("double_click")
class DoubleClick:
    """Barrett–Kok double click: two rounds with a π pulse between, a fixed heralded fidelity
    (1 without dark counts or phase noise) at success probability ``η_a η_b / 2``."""

    name = "double_click"

    def model(self, hw: LinkHardware, min_fidelity: float) -> HeraldingModel | None:
        m = hw.base_model("double_click")
        if hw.pauli is not None:  # Bell-diagonal link noise (qstack.physical.link_noise)
            from qstack.physical.link_noise import NoisyLinkModel

            m = NoisyLinkModel(m, hw.pauli)  # type: ignore[assignment]
        return m if depolarised(m.fidelity, hw.raw_w) + 1e-12 >= min_fidelity else None


class HeraldingStation:
    """The midpoint station of one link (see the module docstring).

    ``runtime`` is the station's own (it sends the heralds); ``ends`` the two node names, the
    first of which chooses the request each position pair serves; ``delays`` the one-way fibre
    delays to each end.
    """

    #: the attempt clocks a station can run (see :meth:`_start`)
    CLOCKS = ("slotted", "free")

    def __init__(self, name: str, runtime: Any, ends: tuple[str, str], delays: tuple[float, float],
                 rng: np.random.Generator, raw_w: float = 1.0, clock: str = "slotted") -> None:
        if clock not in self.CLOCKS:
            raise ValueError(f"HeraldingStation(): clock must be one of {', '.join(map(repr, self.CLOCKS))}, "
                             f"got {clock!r}")
        self.name = name
        self.clock = clock
        self._slotted = clock == "slotted"
        # position pair -> earliest time its memories may emit again (their last emission + one
        # attempt: a cycle, or with sequential rounds the two rounds of the heralded attempt)
        self._free_at: dict[int, float] = {}
        self.rt = runtime
        # a runtime that carries message objects gets the herald itself, others its bytes
        self._objects = getattr(runtime, "wire", None) == "objects"
        self.ends = ends
        self.delays = delays
        self.rng = rng
        self.raw_w = raw_w
        self._ready: dict[int, list[Any]] = {}  # position pair -> [ready at end 0, ready at end 1, request, model]
        self._pending: dict[int, list[Any]] = {}  # seq -> [qubit end 0, qubit end 1, emission time]
        self._states: dict[Any, Any] = {}
        self._models: dict[int, tuple[Any, ...]] = {}
        #: hand out Bell-diagonal heralded pairs as Bell coefficients (the network sets it when
        #: the run uses the Bell-diagonal engine; see qstack.quantum.core.adopt_pair)
        self.bell_engine = False
        self._delay = max(delays)  # a herald needs the photons of both ends: the farther one sets it
        self._inflight: set[int] = set()
        self._seq = 0
        self.pairs_generated = 0
        # attempts of the heralded sequences, and per position pair still attempting: (its first
        # emission, the emission period, its failed attempts (inf: never heralds), failed
        # attempts per round) — see :attr:`attempts`
        self._attempts_heralded = 0
        self._attempting: dict[int, tuple[float, float, float, float]] = {}

    @property
    def stats(self) -> Any:
        """The station's classical message counters (heralds sent)."""
        return self.rt.classical.stats

    @property
    def attempts(self) -> int:
        """Attempts whose outcome the station knows by now: every attempt of the heralded
        sequences, plus each position pair's failed attempts whose photons (both rounds' with
        sequential Barrett–Kok rounds) reached the station by ``rt.now``. An attempt counts when
        it is resolved, not when its sequence is drawn: a sequence is sampled whole when it starts
        (``n ~ Geometric(p)``), and counting all ``n`` then would count attempts that lie in the
        future — past the end of a run — without the pair that ends them, biasing pairs per
        attempt low (by up to ``K/p`` attempts for ``K`` position pairs). Resolved in this order,
        ``pairs_generated − p·attempts`` is a martingale, so ``pairs_generated / attempts``
        estimates ``p`` without bias at any stopping time. With sequential rounds the order of
        the one- and two-round failures of an unfinished sequence is not drawn: its resolved
        failures are its elapsed rounds times its failures per round, rounded down."""
        now = self.rt.now
        total = self._attempts_heralded
        for first, step, failures, per_round in self._attempting.values():
            if not failures or not step > 0.0:
                continue  # none failed, or attempts without a clock (no time to count them in)
            # photons of the rounds emitted at first + r·step reach the station _delay later
            rounds = math.floor((now - self._delay - first) / step + 1e-9) + 1
            if rounds > 0:
                total += int(min(rounds * per_round, failures))
        return total

    def ready(self, end: int, index: int, request_id: int = 0, model: Any = None) -> None:
        """End ``end`` (0 or 1) has position pair ``index`` free and emitting; end 0 names the
        request and its model. Attempts start when both ends are ready."""
        if index in self._inflight:
            return  # attempts are under way on this position pair: the herald settles it
        slot = self._ready.get(index)
        if slot is None:  # the first end to get ready waits for the other
            self._ready[index] = [end == 0, end == 1, request_id, model]
            return
        slot[end] = True
        if end == 0:
            slot[2], slot[3] = request_id, model
        if slot[0] and slot[1] and slot[3] is not None:
            del self._ready[index]
            self._start(index, slot[2], slot[3])

    def withdraw(self, end: int, index: int) -> None:
        """End ``end`` stopped emitting on ``index`` before attempts started (no request left)."""
        slot = self._ready.get(index)
        if slot is not None:
            slot[end] = False

    def _model(self, model: Any) -> tuple[Any, float, float, float, float, tuple[Any, ...]]:
        """``(model, p, round period, P(round 1 heralds | failed attempt), cycle time, heralded
        states)`` of ``model``, cached by identity (hashing a model costs more than a lookup)."""
        p = model.success_probability
        period = model.round_period
        # Sequential Barrett–Kok rounds: a failed attempt lasts one round if round 1 did not
        # herald, two if it did (probability (P1 − p)/(1 − p) given failure).
        q = min(max((model.first_round_probability - p) / (1.0 - p), 0.0), 1.0) if period and p < 1.0 else 0.0
        states = self.heralded_states(model) if p > 0.0 else ()  # a dead link heralds no state
        entry = self._models[id(model)] = (model, p, period, q, model.cycle_time, states)
        return entry

    def _start(self, index: int, request_id: int, model: Any) -> None:
        self._inflight.add(index)
        entry = self._models.get(id(model))
        if entry is None or entry[0] is not model:
            entry = self._model(model)
        _, p, period, q, cycle, states = entry
        # The memories' own clock: no emission before the last one plus one attempt (a position
        # freed early waits, so no memory ever attempts faster than its attempt rate); slotted,
        # emissions fall on the link's grid t = k·slot (slot = cycle, or round period), as in the
        # slotted repeater-chain models; free, the first attempt is as early as that allows.
        start = self.rt.now
        free_at = self._free_at.get(index)
        if free_at is not None and free_at > start:
            start = free_at
        step = period or cycle
        rng = self.rng
        n = 0  # 0: this sequence never heralds (its failed attempts go on for ever)
        if p > 0.0:  # a dead link (no photon, no dark count): its attempts never herald
            if p >= 1e-12:
                n = int(rng.geometric(p)) if p < 1.0 else 1
            else:  # numpy's geometric saturates at 2⁶³ − 1 below p ≈ 1e-19: invert the CDF in floats
                failures = math.log(1.0 - rng.random()) / math.log1p(-p)
                # a herald after 2⁶² attempts lies past any simulated time: it never comes
                n = int(failures) + 1 if failures < 2.0**62 else 0
        if n == 0:
            self._attempting[index] = (self._slot_time(start, step, 0), step, math.inf, 1.0 / (1.0 + q))
            return
        if period:
            m = int(rng.binomial(n - 1, q)) if n > 1 else 0  # failed attempts that took two rounds
            t_emit = self._slot_time(start, period, n - 1 + m)  # round 1 of the successful attempt
            self._attempting[index] = (self._slot_time(start, period, 0), period, n - 1, (n - 1) / (n - 1 + m or 1))
            t_station = t_emit + period + self._delay
            self._free_at[index] = t_emit + 2 * period
        else:
            t_emit = self._slot_time(start, cycle, n - 1)
            self._attempting[index] = (self._slot_time(start, cycle, 0), cycle, n - 1, 1.0)
            t_station = t_emit + self._delay
            self._free_at[index] = t_emit + cycle
        # The grid's tolerance (1e-9 of a slot) may put the emission a hair before now; a herald
        # sooner than that (a station nearly at an end) is then due now, not in the past.
        now = self.rt.now
        self.rt.call_at(t_station if t_station >= now else now, self._herald, index, request_id, states, t_emit, n)

    def _slot_time(self, start: float, slot: float, later: int) -> float:
        """The emission ``later`` slots after the first at or after ``start``: on the grid
        ``k·slot`` when slotted (``k`` the first slot not before ``start``, to 1e-9 of a slot
        against rounding), else ``start + later·slot``."""
        if not self._slotted or slot <= 0.0:
            return start + later * slot
        k = math.ceil(start / slot - 1e-9)
        return (k + later) * slot

    def heralded_states(self, model: Any) -> tuple[float, tuple[int, np.ndarray], tuple[int, np.ndarray]]:
        """(P(first outcome | herald), and per outcome its Bell index and normalised state after
        the raw-fidelity channel), cached per model."""
        cached = self._states.get(model)
        if cached is None:
            p0, p1 = model.outcome_probabilities
            outs = []
            for (bell, state), p in zip(model.outcomes(), (p0, p1), strict=True):
                rho = (np.asarray(state) / p).astype(complex)
                if self.raw_w != 1.0:
                    rho = self.raw_w * rho + (1.0 - self.raw_w) / 4.0 * np.eye(4)
                rho.setflags(write=False)
                outs.append((bell, rho))
            cached = self._states[model] = (p0 / (p0 + p1), outs[0], outs[1])
        return cached

    def _herald(self, index: int, request_id: int, states: tuple[Any, ...], t_emit: float, attempts: int) -> None:
        self._inflight.discard(index)
        self._attempting.pop(index, None)
        self._attempts_heralded += attempts
        first, out0, out1 = states
        bell, rho = out0 if self.rng.random() < first else out1
        qa, qb = adopt_pair(rho, self.bell_engine)
        seq = self._seq
        self._seq += 1
        self.pairs_generated += 1
        self._pending[seq] = [qa, qb, index]
        herald = link_pb2.Herald(bell_index=bell, attempts=attempts, emission_time=t_emit, request_id=request_id)
        herald.pair.link = self.name
        herald.pair.seq = seq
        msg = herald if self._objects else encode(herald, check=False)  # serialised once for both ends
        self.rt.send(self.ends[0], msg)  # both ends get the same (read-only) message
        self.rt.send(self.ends[1], msg)

    def take(self, end: int, seq: int) -> tuple[Qubit, int] | None:
        """End ``end`` takes its qubit of heralded pair ``seq``: ``(qubit, position pair)``, or
        None if the pair is unknown or this end took it already."""
        entry = self._pending.get(seq)
        if entry is None:
            return None
        q = entry[end]
        if q is None:
            return None
        entry[end] = None
        if entry[1 - end] is None:
            del self._pending[seq]
        return q, entry[2]


# The single-atom ("atom_two_photon") and NV-centre ("nv_single_click", memory "nv_nuclear") schemes
# register themselves in the public registries; imported last, as they build on this module.
from qstack.physical import atoms as _atoms  # noqa: E402,F401  ("atom_two_photon")
from qstack.physical import nv as _nv  # noqa: E402,F401
