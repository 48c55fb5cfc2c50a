"""The network layer's plug-in policies: routing, swap scheduling, purification, cut-offs.

Each kind has a registry; built-ins register through the same decorator as user code, and a
scenario selects one by name with parameters (``swapping = { name = "threshold",
min_fidelity = 0.93 }``) or by ``"module:Name"``. Python code may pass an object instead.

* **Routing** (:data:`ROUTING`): ``route(topology, request) -> [node, …]``, the request as
  context (a :class:`~qstack.network.service.NetRequest` with ``source`` and ``destination``).
* **Swapping** (:data:`SWAPPING`): ``select(view) -> [(up, down), …]`` — which of a repeater's
  pairs towards the head (``view.up``) and the tail (``view.down``) to swap now; ``signalling``
  says how the result travels: ``"track"`` (TRACK messages follow the swaps from head to tail:
  safe for any selection) or ``"records"`` (a SwapRecord to both far ends of the joined segment:
  for schedules such as nesting where a node only joins segments whose far ends are final).
  A policy may call ``view.discard(pair)`` for a pair it will never use.
* **Purification** (:data:`PURIFICATION`): ``protocol`` (the circuit, ``"bbpssw"`` or
  ``"dejmps"``), ``scope`` (``"link"`` or ``"end_to_end"``), ``ready(pair)`` and
  ``select(idle) -> [(keep, sacrifice), …]``. Built-ins: recurrence ``"bbpssw"`` and
  ``"dejmps"``; entanglement pumping ``"dejmps_pumping"`` (alias ``"pumping"``) and
  ``"bbpssw_pumping"``.
* **Cut-off** (:data:`CUTOFF`): ``age_limit(estimate) -> seconds`` (and optionally
  ``link_age_limit(estimate, slot)`` for link pairs, ``slot`` the link's attempt slot in s), where ``estimate(age)`` is
  the pair's expected fidelity at that age; a pair older than its limit is discarded.

>>> {"asap", "nested", "threshold"} <= set(SWAPPING.names())   # the built-ins (users add more)
True
>>> CUTOFF.create({"name": "fixed", "time": 0.5}).age_limit(lambda age: 1.0)
0.5
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import networkx as nx

from qstack.registry import Registry

__all__ = [
    "ROUTING", "SWAPPING", "PURIFICATION", "CUTOFF",
    "ShortestPath", "SwapAsap", "NestedSwapping", "ThresholdSwapping",
    "Purification", "Pumping", "DejmpsPumping", "BbpsswPumping",
    "NoCutoff", "FixedCutoff", "FidelityCutoff", "nested_targets",
]


def _has(*methods: str) -> Callable[[Any], str | None]:
    def check(obj: Any) -> str | None:
        missing = [m for m in methods if not callable(getattr(obj, m, None))]
        return f"missing method(s) {', '.join(missing)}" if missing else None

    return check


ROUTING: Registry[Any] = Registry("routing", "routing policy", _has("route"))
SWAPPING: Registry[Any] = Registry("swapping", "swapping policy", _has("select"))
PURIFICATION: Registry[Any] = Registry("purification", "purification policy", _has("ready", "select"))
CUTOFF: Registry[Any] = Registry("cutoff", "cut-off policy", _has("age_limit"))


# ---------------------------------------------------------------------------------------------- routing

@ROUTING.register("shortest_path")
class ShortestPath:
    """Shortest path by expected link cost (mean time per heralded pair), ties by hop count."""

    name = "shortest_path"

    def route(self, topology: Any, request: Any) -> list[str]:
        return nx.shortest_path(topology.graph, request.source, request.destination, weight="cost")


@ROUTING.register("fewest_hops")
class FewestHops:
    """The path with the fewest links."""

    name = "fewest_hops"

    def route(self, topology: Any, request: Any) -> list[str]:
        return nx.shortest_path(topology.graph, request.source, request.destination)


class _FunctionRouting:
    """A routing function ``fn(graph, source, destination[, request])`` as a policy."""

    def __init__(self, fn: Callable[..., list[str]], name: str) -> None:
        self.fn, self.name = fn, name
        import inspect

        self._takes_request = len(inspect.signature(fn).parameters) >= 4

    def route(self, topology: Any, request: Any) -> list[str]:
        if self._takes_request:
            return self.fn(topology.graph, request.source, request.destination, request)
        return self.fn(topology.graph, request.source, request.destination)


def register_routing_function(name: str) -> Callable[[Callable[..., list[str]]], Callable[..., list[str]]]:
    """Register a routing *function* ``fn(graph, source, destination[, request]) -> route``.

    >>> @register_routing_function("by_hops")
    ... def by_hops(graph, src, dst):
    ...     return nx.shortest_path(graph, src, dst)
    >>> "by_hops" in ROUTING
    True
    """

    def deco(fn: Callable[..., list[str]]) -> Callable[..., list[str]]:
        ROUTING.add(name, lambda: _FunctionRouting(fn, name))
        return fn

    return deco


# ---------------------------------------------------------------------------------------------- swapping

def nested_targets(route_length: int, index: int) -> tuple[int, int] | None:
    """The segment ``(lo, hi)`` that the node at ``index`` joins in the nested (doubling)
    schedule: the route ``0..n−1`` is halved recursively and each split point joins the two
    halves of its segment; end nodes join nothing (None).

    >>> [nested_targets(5, i) for i in range(5)]
    [None, (0, 2), (0, 4), (2, 4), None]
    """
    lo, hi = 0, route_length - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if index == mid:
            return lo, hi
        lo, hi = (lo, mid) if index < mid else (mid, hi)
    return None


@SWAPPING.register("asap")
class SwapAsap:
    """Swap as soon as a pair towards each end is held: oldest first, except that a pair whose
    TRACK already arrived (its segment reaches the head) goes first, so end-to-end pairs do not
    queue behind orphan segments."""

    name = "asap"
    signalling = "track"

    def select(self, view: Any) -> list[tuple[Any, Any]]:
        up_q, down_q = view.up, view.down
        if not up_q or not down_q:
            return []
        n = min(len(up_q), len(down_q))
        if n == 1 and (len(up_q) == 1 or not view.has_tracks):  # the common case: one pair each
            return [(up_q[0], down_q[0])]
        tracked = [p for p in up_q if view.tracked(p)] if view.has_tracks else []
        rest = [p for p in up_q if not view.tracked(p)] if tracked else list(up_q)
        ups = (tracked + rest)[:n]
        return list(zip(ups, list(down_q)[:n], strict=True))


@SWAPPING.register("nested")
class NestedSwapping:
    """Nested (doubling) swapping: the route is halved recursively; the middle node of each
    segment joins the segment's halves once it holds both (:func:`nested_targets`)."""

    name = "nested"
    signalling = "records"

    def targets(self, route_length: int, index: int) -> tuple[int, int] | None:
        return nested_targets(route_length, index)

    def select(self, view: Any) -> list[tuple[Any, Any]]:
        t = view.targets
        if t is None:
            return []
        lo, hi = t
        ups = [p for p in view.up if p.far == lo]
        downs = [p for p in view.down if p.far == hi]
        return list(zip(ups, downs, strict=False))


@SWAPPING.register("threshold")
class ThresholdSwapping(SwapAsap):
    """Swap-ASAP between link pairs whose estimated fidelity (heralded state and the memories'
    decay over the pair's age) is at least ``min_fidelity``; a pair below it is discarded at
    once, since storage only lowers it further."""

    name = "threshold"

    def __init__(self, min_fidelity: float = 0.9) -> None:
        if not 0.25 <= min_fidelity <= 1.0:
            raise ValueError(f"min_fidelity must be in [0.25, 1], got {min_fidelity}")
        self.min_fidelity = min_fidelity

    def select(self, view: Any) -> list[tuple[Any, Any]]:
        for q in (view.up, view.down):
            for p in list(q):
                if view.estimate(p) < self.min_fidelity - 1e-12:  # a pair exactly at the threshold passes
                    view.discard(p)
        return super().select(view)


# ---------------------------------------------------------------------------------------------- purification

class Purification:
    """Entanglement purification of stored pairs: pairs of equal level are purified together
    (recurrence), a pair is ready at ``target_fidelity`` or after ``max_rounds`` rounds.
    ``protocol`` is the circuit (BBPSSW twirls to Werner first; DEJMPS does not)."""

    name = "dejmps"
    protocol = "dejmps"

    def __init__(self, target_fidelity: float = 0.95, scope: str = "link", max_rounds: int = 3) -> None:
        if not 0.5 < target_fidelity <= 1.0:
            raise ValueError(f"target_fidelity must be in (0.5, 1], got {target_fidelity}")
        if scope not in ("link", "end_to_end"):
            raise ValueError(f"scope must be 'link' or 'end_to_end', got {scope!r}")
        if not isinstance(max_rounds, int) or max_rounds < 1:
            raise ValueError(f"max_rounds must be an int >= 1, got {max_rounds!r}")
        self.target_fidelity, self.scope, self.max_rounds = target_fidelity, scope, max_rounds

    def ready(self, pair: Any) -> bool:
        """Whether ``pair`` (with ``coeffs`` and ``level``) leaves purification."""
        return pair.coeffs[0] >= self.target_fidelity or pair.level >= self.max_rounds

    def select(self, idle: Sequence[Any]) -> list[tuple[Any, Any]]:
        """Pairs of idle pairs to purify now: (kept, sacrificed), highest level first."""
        by_level: dict[int, list[Any]] = {}
        for p in idle:
            by_level.setdefault(p.level, []).append(p)
        out = []
        for level in sorted(by_level, reverse=True):
            group = by_level[level]
            while len(group) >= 2:
                out.append((group.pop(0), group.pop(0)))
        return out

    def describe(self) -> str:
        return f"{self.name}/{self.scope}/{self.target_fidelity!r}/{self.max_rounds}"


@PURIFICATION.register("dejmps")
class Dejmps(Purification):
    """DEJMPS (Deutsch et al., PRL 77, 2818 (1996)) recurrence purification."""

    name = "dejmps"
    protocol = "dejmps"


@PURIFICATION.register("bbpssw")
class Bbpssw(Purification):
    """BBPSSW (Bennett et al., PRL 76, 722 (1996)): bilateral twirl to Werner, then CNOTs."""

    name = "bbpssw"
    protocol = "bbpssw"


class Pumping(Purification):
    """Entanglement pumping (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999); Dür & Briegel,
    Rep. Prog. Phys. 70, 1381 (2007)): one pair is purified again and again with fresh (level-0)
    pairs, so a pair's ``level`` counts its pumping steps (the first joins two fresh pairs) and
    ``max_rounds`` bounds them. The base of the registered variants, which share this selection
    and differ in the circuit of each step (``protocol``): :class:`DejmpsPumping`
    (``"dejmps_pumping"``, alias ``"pumping"``) and :class:`BbpsswPumping` (``"bbpssw_pumping"``).
    With fresh pairs of fidelity F0 < 1 the kept pair's fidelity tends to a fixed point below one
    (:func:`qstack.quantum.theory.pumping_fixed_point`), so a ``target_fidelity`` above it is
    never reached and ``max_rounds`` ends the pumping. Used directly it pumps with DEJMPS steps."""

    name = "dejmps_pumping"
    protocol = "dejmps"

    def select(self, idle: Sequence[Any]) -> list[tuple[Any, Any]]:
        """(kept, fresh): the highest-level pair (the oldest among equals) with a fresh pair; two
        fresh pairs when none has been pumped yet."""
        fresh = [p for p in idle if p.level == 0]
        base = max(idle, key=lambda p: (p.level, -p.seq))
        if base.level == 0:
            if len(fresh) < 2:
                return []
            base = fresh[0]
        sacrifice = next((p for p in fresh if p is not base), None)
        return [] if sacrifice is None else [(base, sacrifice)]


@PURIFICATION.register("pumping")  # the original name, kept for existing scenarios: the same policy
@PURIFICATION.register("dejmps_pumping")
class DejmpsPumping(Pumping):
    """Entanglement pumping with DEJMPS steps (Deutsch et al., PRL 77, 2818 (1996)): no twirl, so
    the kept pair stays Bell-diagonal but not Werner (``theory.dejmps_pumping``). Also registered
    as ``"pumping"``, the name existing scenarios use: it builds this same policy (named
    ``"dejmps_pumping"``), so both names give identical runs.

    >>> PURIFICATION.create({"name": "pumping", "target_fidelity": 0.99}).describe()
    'dejmps_pumping/link/0.99/3'
    """

    name = "dejmps_pumping"
    protocol = "dejmps"


@PURIFICATION.register("bbpssw_pumping")
class BbpsswPumping(Pumping):
    """Entanglement pumping with BBPSSW steps (Bennett et al., PRL 76, 722 (1996)): each step
    twirls both pairs to Werner form, then purifies, so only fidelities matter
    (``theory.bbpssw_pumping``); its fixed point (``theory.bbpssw_pumping_fixed_point``) is lower
    than DEJMPS pumping's for Werner fresh pairs.

    >>> p = PURIFICATION.create({"name": "bbpssw_pumping", "target_fidelity": 0.99, "max_rounds": 5})
    >>> p.protocol, p.max_rounds
    ('bbpssw', 5)
    """

    name = "bbpssw_pumping"
    protocol = "bbpssw"


# ---------------------------------------------------------------------------------------------- cut-off

@CUTOFF.register("none")
class NoCutoff:
    """Pairs are kept however old."""

    name = "none"

    def age_limit(self, estimate: Callable[[float], float]) -> float:
        return math.inf


@CUTOFF.register("fixed")
class FixedCutoff:
    """A pair older than ``time`` seconds (from the emission of its oldest link pair) is discarded."""

    name = "fixed"

    def __init__(self, time: float) -> None:
        if not time > 0:
            raise ValueError(f"time must be > 0 s, got {time}")
        self.time = float(time)

    def age_limit(self, estimate: Callable[[float], float]) -> float:
        return self.time


@CUTOFF.register("slots")
class SlotCutoff:
    """A memory cut-off counted in attempt slots (Brand, Coopmans & Elkouss, IEEE JSAC 38, 619
    (2020); Kamin et al. 2023): a link pair stored at a repeater waits while the other links make
    at most ``slots`` more attempts, and is discarded if it has not been swapped by then, so its
    link starts again in the next slot. ``slots = 0``: swap only pairs heralded in the same slot.

    The limit is ``(slots + ½)`` of the link's attempt slot (its cycle, or its round with
    sequential Barrett–Kok rounds) after the pair's emission; with the slotted attempt clock and
    heralds plus classical messages shorter than half a slot this is exactly the slotted model
    (``qstack.network.analysis.two_segment_waiting_time`` gives its waiting times). A cut-off in
    slots has no meaning for an end-to-end pair: delivered pairs are not limited.

    >>> c = CUTOFF.create({"name": "slots", "slots": 3})
    >>> c.link_age_limit(lambda age: 1.0, 1e-3), c.describe()
    (0.0035, 'slots(3)')
    """

    name = "slots"

    def __init__(self, slots: int) -> None:
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 0:
            raise ValueError(f"slots must be an integer >= 0 (attempt slots a stored pair waits), got {slots!r}")
        self.slots = slots

    def age_limit(self, estimate: Callable[[float], float]) -> float:
        return math.inf

    def link_age_limit(self, estimate: Callable[[float], float], slot: float) -> float:
        """The limit for a link pair whose link attempts once per ``slot`` seconds."""
        return (self.slots + 0.5) * slot

    def describe(self) -> str:
        return f"slots({self.slots})"


@CUTOFF.register("fidelity")
class FidelityCutoff:
    """A pair is discarded when its estimated fidelity falls below ``min_fidelity`` (the age is
    found by bisection on the estimate, which storage only lowers); at most ``max_time``."""

    name = "fidelity"

    def __init__(self, min_fidelity: float, max_time: float = math.inf) -> None:
        if not 0.25 < min_fidelity <= 1.0:
            raise ValueError(f"min_fidelity must be in (0.25, 1], got {min_fidelity}")
        if not max_time > 0:
            raise ValueError(f"max_time must be > 0 s, got {max_time}")
        self.min_fidelity, self.max_time = min_fidelity, max_time

    def age_limit(self, estimate: Callable[[float], float]) -> float:
        f0 = estimate(0.0)
        if f0 < self.min_fidelity:
            return 0.0
        hi = 1e-6
        while estimate(hi) >= self.min_fidelity:
            hi *= 2
            if hi > min(self.max_time, 1e9):
                return self.max_time
        lo = 0.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if estimate(mid) >= self.min_fidelity else (lo, mid)
        return min(lo, self.max_time)
