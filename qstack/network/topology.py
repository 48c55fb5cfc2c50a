"""What every node knows of the network it is part of: its static description.

A :class:`Topology` is the published configuration of a network — its graph (links with their
expected cost), each link's hardware and expected heralded state, each node's memory noise
model — like a routing table: immutable, shared by all nodes, holding no protocol state. The
network layer uses it to route and to *estimate* what a pair is worth (the fidelity floor, the
threshold swap policy, fidelity cut-offs), so those estimates follow whatever hardware models
the scenario plugs in.

Estimates are Bell-diagonal: a link's expected coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) in its announced
frame, combined along a route by the swap rule (Pauli labels add), then each end memory's Pauli
twirl for the pair's age (:meth:`qstack.physical.memory.MemoryNoise.pauli_weights`): a Pauli
``P`` on one half maps ``β_i`` to ``β_{i ⊕ label(P)}``. For a Werner pair ``w`` and dephasing
memories this is ``1/4 + w(1 + 2 c_a c_b)/4`` with ``c = e^{−t/T2}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from qstack.quantum import theory

__all__ = ["Topology", "LinkInfo", "apply_memory"]

# Pauli labels 2x + z of I, X, Y, Z (β_i = (I ⊗ X^x Z^z) Φ⁺; Y ∝ XZ)
_PAULI_LABEL = (0, 2, 3, 1)


def apply_memory(coeffs: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Bell coefficients after a Pauli channel with weights ``(p_I, p_X, p_Y, p_Z)`` on one half.

    >>> apply_memory([1.0, 0.0, 0.0, 0.0], [0.9, 0.0, 0.0, 0.1])   # Z on Φ⁺ gives Φ⁻
    [0.9, 0.1, 0.0, 0.0]
    """
    out = [0.0, 0.0, 0.0, 0.0]
    for p, label in zip(weights, _PAULI_LABEL, strict=True):
        if p:
            for i in range(4):
                out[i ^ label] += p * coeffs[i]
    return out


@dataclass(frozen=True)
class LinkInfo:
    """A link as the network knows it: name, ends, hardware, scheme, expected coefficients of a
    heralded pair in its announced frame, mean time per pair (``cost``) and ``herald_delay``, the
    least age (s) of a pair when its herald reaches an end: the heralding station waits for the
    farther end's photon and sends the herald back, ``d_a + d_b`` (plus the first round with
    sequential Barrett–Kok rounds); 0 when unknown."""

    name: str
    a: str
    b: str
    hardware: Any
    scheme: Any
    coefficients: tuple[float, float, float, float]
    cost: float
    herald_delay: float = 0.0

    @classmethod
    def from_model(cls, name: str, a: str, b: str, hardware: Any, scheme: Any, base: Any,
                   herald_delay: float = 0.0) -> LinkInfo:
        """The link as heralded by ``base`` (its scheme's model with no fidelity demand, or None):
        the coefficients of a pair in its announced frame, and the mean time per pair."""
        if base is None:
            return cls(name, a, b, hardware, scheme, (0.25, 0.25, 0.25, 0.25), math.inf, herald_delay)
        from qstack.link.protocol import bell_coefficients

        bell = base.outcomes()[0][0]
        lc = bell_coefficients(base, hardware.raw_w, bell)
        coeffs = (lc[bell], lc[1 ^ bell], lc[2 ^ bell], lc[3 ^ bell])
        p = base.success_probability
        cost = base.mean_attempt_time / p if p > 0 and hasattr(base, "mean_attempt_time") else \
            (base.cycle_time / p if p > 0 else math.inf)
        return cls(name, a, b, hardware, scheme, coeffs, cost, herald_delay)


class Topology:
    """The static network description (see the module docstring)."""

    def __init__(self, links: Sequence[LinkInfo], memories: Mapping[str, Any], roles: Mapping[str, str]) -> None:
        self.graph = nx.Graph()
        self.memories = dict(memories)
        self.roles = dict(roles)
        self.links: dict[str, LinkInfo] = {}
        self._between: dict[tuple[str, str], LinkInfo] = {}
        for n in memories:
            self.graph.add_node(n)
        for info in links:
            self.links[info.name] = info
            self._between[(info.a, info.b)] = self._between[(info.b, info.a)] = info
            self.graph.add_edge(info.a, info.b, cost=info.cost, link=info.name)
        self._route_cache: dict[tuple[tuple[str, ...], float], list[float]] = {}
        self._link_cache: dict[tuple[str, float], tuple[float, ...]] = {}

    def link_between(self, a: str, b: str) -> LinkInfo:
        """The link joining neighbours ``a`` and ``b``."""
        return self._between[(a, b)]

    def link_coefficients(self, info: LinkInfo, link_min: float = 0.0) -> tuple[float, ...]:
        """Expected Bell coefficients (announced frame) of a pair of link ``info`` made for a
        request of minimum fidelity ``link_min``: its scheme's model for that fidelity (the one
        the link layer uses), or the link's base model when ``link_min`` is 0 or unreachable."""
        if link_min <= 0.0:
            return info.coefficients
        key = (info.name, link_min)
        hit = self._link_cache.get(key)
        if hit is None:
            model = info.scheme.model(info.hardware, link_min) if info.scheme is not None else None
            if model is None:
                hit = info.coefficients
            else:
                from qstack.link.protocol import bell_coefficients

                bell = model.outcomes()[0][0]
                lc = bell_coefficients(model, info.hardware.raw_w, bell)
                hit = tuple(lc[i ^ bell] for i in range(4))
            self._link_cache[key] = hit
        return hit

    def route_coefficients(self, route: Sequence[str], link_min: float = 0.0) -> list[float]:
        """Expected Bell coefficients of a fresh end-to-end pair along ``route`` (in its
        announced frame) whose links were made for minimum fidelity ``link_min``, ignoring
        storage."""
        key = (tuple(route), link_min)
        hit = self._route_cache.get(key)
        if hit is not None:
            return hit
        c: list[float] | None = None
        for a, b in zip(route, route[1:], strict=False):
            lc = list(self.link_coefficients(self.link_between(a, b), link_min))
            c = lc if c is None else list(theory.bell_diagonal_swap(c, lc))
        assert c is not None, "a route has at least two nodes"
        self._route_cache[key] = c
        return c

    def stored(self, coeffs: Sequence[float], node_a: str, node_b: str, age: float) -> list[float]:
        """``coeffs`` after both halves were stored ``age`` seconds at ``node_a`` and ``node_b``."""
        c = apply_memory(coeffs, self.memories[node_a].pauli_weights(age))
        return apply_memory(c, self.memories[node_b].pauli_weights(age))

    def expired_at_delivery(self, route: Sequence[str], limit: float) -> str | None:
        """Why every end-to-end pair along ``route`` would be older than the cut-off ``limit``
        (s) when it is delivered, or None when some pair may not be.

        A delivered pair's age counts from its oldest link pair's emission, and the pair is only
        complete once every link's herald has reached an end, so it is at least the largest
        :attr:`LinkInfo.herald_delay` on the route: a cut-off below that discards every pair.

        >>> t = Topology([LinkInfo("a-b", "a", "b", None, None, (1.0, 0.0, 0.0, 0.0), 1.0, 5e-5)],
        ...              {"a": None, "b": None}, {"a": "end", "b": "end"})
        >>> t.expired_at_delivery(["a", "b"], 1e-3) is None
        True
        >>> print(t.expired_at_delivery(["a", "b"], 1e-6).split(" (")[0])
        cut-off 1e-06 s is shorter than the herald delay of link a-b
        """
        slowest = max((self.link_between(a, b) for a, b in zip(route, route[1:], strict=False)),
                      key=lambda info: info.herald_delay)
        if limit < slowest.herald_delay:
            return (f"cut-off {limit:.6g} s is shorter than the herald delay of link {slowest.name} "
                    f"({slowest.herald_delay:.6g} s, the least age of its pairs on arrival): every pair would be "
                    "discarded at delivery")
        return None

    def estimated_fidelity(self, route: Sequence[str], age: float) -> float:
        """What the end nodes can estimate of a pair's fidelity from what they know: the links'
        states combined by the swap rule, then their own memories' decay over ``age`` (storage
        at repeaters is not counted)."""
        return self.stored(self.route_coefficients(route), route[0], route[-1], age)[0]
