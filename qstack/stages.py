"""The stages of the quantum internet: what a network can do, and what an application needs.

Wehner, Elkouss & Hanson, "Quantum internet: A vision for the road ahead", Science 362,
eaam9288 (2018) define stages of development by *functionality*: each stage adds a capability
that the previous one lacks, and "an experimental implementation has reached a certain stage
only if the functionality of that stage and all previous stages is available to all the end
nodes using the network". The paper's prose counts the stages 1–6 (trusted repeater networks
are the first); qstack indexes them 0–5, so :attr:`Stage.paper_number` is ``value + 1``.

=====  ==========================  =====================================================
stage  title                       capability it adds (Table 1 and the text, paraphrased)
=====  ==========================  =====================================================
0      trusted repeater            end users get a key relayed hop by hop by trusted nodes;
                                   no end-to-end transmission of qubits
1      prepare and measure         any end node can prepare a one-qubit state and send it to
                                   any other end node, which measures it (or learns it was
                                   lost): end-to-end QKD without trusting intermediate nodes
2      entanglement distribution   heralded (or deterministic) end-to-end entanglement between
                                   any two end nodes, measured at once — no memory needed:
                                   device-independent protocols
3      quantum memory              end nodes store entanglement, prepare ancillas and apply
                                   local gates for long enough compared with the network's
                                   communication time: teleportation, distillation, blind
                                   computing
4      few-qubit fault-tolerant    local operations on a few *logical* qubits done
                                   fault-tolerantly: many rounds, deep local circuits
5      quantum computing           end nodes are quantum computers beyond classical
                                   simulation
=====  ==========================  =====================================================

:func:`network_stage` derives the stage a :class:`~qstack.scenario.Scenario` reaches from its
hardware, links and topology (the rules and their thresholds are documented there and in
:class:`StageCriteria`); :class:`StageReport` says why, pair by pair, and what is missing for the
next stage. Applications declare what they need with :func:`declare` (an
:class:`AppRequirements`, per role if the roles differ) and are refused with a
:class:`StageError` that names the missing capability.

>>> from qstack.scenario import linear_chain
>>> report = network_stage(linear_chain(3, "10 km", t2="1.3 s"))
>>> report.stage
<Stage.QUANTUM_MEMORY: 3>
>>> report.stage.title, report.stage.paper_number
('quantum memory', 4)
>>> teleport = declare("teleport", Stage.QUANTUM_MEMORY, qubits=2)
>>> teleport.check(report, {"alice": "n0", "bob": "n2"})   # passes silently
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import Any

import networkx as nx

from qstack.physical.station import LINK_SCHEMES, depolarised
from qstack.scenario import HardwareSpec, LinkSpec, Scenario, load_scenario

__all__ = [
    "DEFAULT_K",
    "AppRequirements",
    "Stage",
    "StageCriteria",
    "StageError",
    "StageReport",
    "StageRequirement",
    "declare",
    "network_stage",
    "require",
]

DEFAULT_K: float = 10.0
"""Default factor ``k`` of the memory criterion: a memory is useful between two end nodes when
its coherence time is at least ``k`` classical round trips between them (see
:func:`network_stage`). In the paper ``k`` is the number of communication rounds a protocol
needs; ten rounds covers teleportation and the simple memory-stage protocols with room to spare."""


# --------------------------------------------------------------------------------------------
# The stages


class Stage(IntEnum):
    """A stage of the quantum internet, ordered: a higher stage includes every lower one.

    qstack indexes the stages 0–5; the paper (Wehner, Elkouss & Hanson 2018) numbers them 1–6,
    which :attr:`paper_number` gives. Each member has a :attr:`title`, the :attr:`capabilities`
    it adds to the stage below and :attr:`examples` of applications (the paper's Table 1).

    >>> Stage.QUANTUM_MEMORY > Stage.ENTANGLEMENT_DISTRIBUTION
    True
    >>> Stage.QUANTUM_MEMORY.capabilities
    ('storage of entanglement', 'teleportation')
    >>> [s.paper_number for s in Stage]
    [1, 2, 3, 4, 5, 6]
    """

    TRUSTED_REPEATER = 0
    PREPARE_AND_MEASURE = 1
    ENTANGLEMENT_DISTRIBUTION = 2
    QUANTUM_MEMORY = 3
    FEW_QUBIT_FAULT_TOLERANT = 4
    QUANTUM_COMPUTING = 5

    @property
    def title(self) -> str:
        """The stage's name in words, as the paper writes it.

        >>> Stage.FEW_QUBIT_FAULT_TOLERANT.title
        'few-qubit fault-tolerant'
        """
        return _TITLES[self]

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Short names of the capabilities this stage adds to the one below (stage 0: what it
        offers at all); the first is its defining capability.

        >>> Stage.ENTANGLEMENT_DISTRIBUTION.capabilities
        ('end-to-end entanglement',)
        """
        return _CAPABILITIES[self]

    @property
    def capability(self) -> str:
        """The defining capability, ``capabilities[0]``.

        >>> Stage.PREPARE_AND_MEASURE.capability
        'end-to-end prepare-and-measure'
        """
        return _CAPABILITIES[self][0]

    @property
    def examples(self) -> tuple[str, ...]:
        """Example applications at this stage, from the paper's Table 1 (stage 0: its text).

        >>> Stage.ENTANGLEMENT_DISTRIBUTION.examples[0]
        'device-independent quantum key distribution'
        """
        return _EXAMPLES[self]

    @property
    def paper_number(self) -> int:
        """The stage's number in the paper, which counts 1–6 (``value + 1``).

        >>> Stage.TRUSTED_REPEATER.paper_number
        1
        """
        return int(self) + 1

    def describe(self) -> str:
        """``"stage N (title)"``, the form messages use.

        >>> Stage.QUANTUM_MEMORY.describe()
        'stage 3 (quantum memory)'
        """
        return f"stage {int(self)} ({self.title})"

    @classmethod
    def parse(cls, value: object) -> Stage:
        """A stage from a :class:`Stage`, its index (``3`` or ``"3"``), its member name
        (``"QUANTUM_MEMORY"``) or its title (``"quantum memory"``, ``"few-qubit fault-tolerant"``);
        case, spaces, hyphens and underscores do not matter. Indices are qstack's 0–5, not the
        paper's 1–6.

        >>> Stage.parse("quantum memory"), Stage.parse(3), Stage.parse("3"), Stage.parse("QUANTUM_MEMORY")
        (<Stage.QUANTUM_MEMORY: 3>, <Stage.QUANTUM_MEMORY: 3>, <Stage.QUANTUM_MEMORY: 3>, <Stage.QUANTUM_MEMORY: 3>)
        >>> Stage.parse("Prepare-and-measure")
        <Stage.PREPARE_AND_MEASURE: 1>
        >>> Stage.parse(6)
        Traceback (most recent call last):
        ...
        ValueError: not a stage: 6; stages are 0-5 (qstack's indices; the paper counts 1-6) or names: \
trusted repeater, prepare and measure, entanglement distribution, quantum memory, few-qubit fault-tolerant, \
quantum computing
        """
        if isinstance(value, Stage):
            return value
        index: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            index = value
        elif isinstance(value, str):
            text = value.strip()
            if text.isdigit():
                index = int(text)
            else:
                key = _normalise(text)
                for stage in cls:
                    if key in (_normalise(stage.name), _normalise(stage.title)):
                        return stage
        if index is not None and 0 <= index <= 5:
            return cls(index)
        names = ", ".join(s.title for s in cls)
        raise ValueError(
            f"not a stage: {value!r}; stages are 0-5 (qstack's indices; the paper counts 1-6) or names: {names}"
        )


def _normalise(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


_TITLES: dict[Stage, str] = {
    Stage.TRUSTED_REPEATER: "trusted repeater",
    Stage.PREPARE_AND_MEASURE: "prepare and measure",
    Stage.ENTANGLEMENT_DISTRIBUTION: "entanglement distribution",
    Stage.QUANTUM_MEMORY: "quantum memory",
    Stage.FEW_QUBIT_FAULT_TOLERANT: "few-qubit fault-tolerant",
    Stage.QUANTUM_COMPUTING: "quantum computing",
}

_CAPABILITIES: dict[Stage, tuple[str, ...]] = {
    Stage.TRUSTED_REPEATER: ("key from a trusted provider",),
    Stage.PREPARE_AND_MEASURE: ("end-to-end prepare-and-measure",),
    Stage.ENTANGLEMENT_DISTRIBUTION: ("end-to-end entanglement",),
    Stage.QUANTUM_MEMORY: ("storage of entanglement", "teleportation"),
    Stage.FEW_QUBIT_FAULT_TOLERANT: ("few-qubit fault-tolerant operations",),
    Stage.QUANTUM_COMPUTING: ("universal quantum computation",),
}

_EXAMPLES: dict[Stage, tuple[str, ...]] = {
    Stage.TRUSTED_REPEATER: ("quantum key distribution relayed by trusted nodes (no end-to-end security)",),
    Stage.PREPARE_AND_MEASURE: (
        "quantum key distribution",
        "two-party cryptography (secure identification)",
        "position verification",
        "imperfect coin flipping",
    ),
    Stage.ENTANGLEMENT_DISTRIBUTION: (
        "device-independent quantum key distribution",
        "device-independent versions of prepare-and-measure protocols",
    ),
    Stage.QUANTUM_MEMORY: (
        "blind quantum computing",
        "improved coin flipping",
        "anonymous quantum transmission",
        "extending the baseline of telescopes",
        "secret sharing",
        "simple leader election and agreement",
        "time-limited clock synchronisation",
    ),
    Stage.FEW_QUBIT_FAULT_TOLERANT: ("clock synchronisation", "distributed quantum computation"),
    Stage.QUANTUM_COMPUTING: (
        "leader election",
        "fast Byzantine agreement",
        "weak coin flipping with arbitrarily small bias",
    ),
}

# One line per stage for StageReport.explain: how qstack judged the stage reached.
_WHY: dict[Stage, str] = {
    Stage.TRUSTED_REPEATER: "keys can be relayed hop by hop through trusted nodes along the links",
    Stage.PREPARE_AND_MEASURE: "every pair of end nodes can prepare and measure end to end "
    "(a direct link, or end-to-end entanglement measured at once)",
    Stage.ENTANGLEMENT_DISTRIBUTION: "every pair of end nodes can get heralded end-to-end entanglement "
    "(direct heralded links, or swaps at nodes whose memories outlive k round trips of the slowest link)",
    Stage.QUANTUM_MEMORY: "every end node's memory outlives k classical round trips to every other end node",
    Stage.FEW_QUBIT_FAULT_TOLERANT: "every end node has the qubits and gate quality modelled as one "
    "fault-tolerant logical qubit",
    Stage.QUANTUM_COMPUTING: "every end node has the qubits and gate quality modelled as a quantum computer "
    "beyond classical simulation",
}


# --------------------------------------------------------------------------------------------
# Criteria


@dataclass(frozen=True)
class StageCriteria:
    """The thresholds :func:`network_stage` applies; every one is a modelling choice.

    * ``k`` (> 0, default :data:`DEFAULT_K` = 10): a memory is *useful* over a time ``t`` of
      communication when its coherence time is at least ``k·t`` — the paper's storage time
      ``k·C_m·t`` (Table 1), with the local circuit time ``C_m`` neglected next to fibre delays.
    * ``qubits_per_logical`` (default 17): physical qubits modelled as one fault-tolerant
      logical qubit — a distance-3 rotated surface code, 9 data and 8 measurement qubits
      (Fowler et al., PRA 86, 032324 (2012)). Stage 4 needs one logical qubit (the paper's
      ``q ≥ 1``).
    * ``fault_tolerant_error`` (default 1e-3): stage 4 needs every gate and readout error
      (``single_qubit_depolarizing``, ``two_qubit_depolarizing``, ``readout_error``) at most
      this — about ten times below the ~1 % circuit-level threshold of the surface code, so
      that adding qubits really suppresses errors.
    * ``computing_logical_qubits`` (default 50) and ``computing_error`` (default 1e-4): stage 5
      needs that many logical qubits (``50 × 17 = 850`` physical qubits), about where classical
      simulation of the processor stops being practical, and errors at most ``computing_error``
      so that deep circuits can run.

    qstack has no model of logical qubits or of a processor beyond its memory positions: these
    thresholds turn a hardware profile into a yes/no, they do not simulate fault tolerance.

    >>> StageCriteria().physical_qubits(Stage.QUANTUM_COMPUTING)
    850
    >>> StageCriteria(k=5).k
    5.0
    """

    k: float = DEFAULT_K
    qubits_per_logical: int = 17
    fault_tolerant_error: float = 1e-3
    computing_logical_qubits: int = 50
    computing_error: float = 1e-4

    def __post_init__(self) -> None:
        k = float(self.k)
        if not (k > 0 and math.isfinite(k)):
            raise ValueError(f"k must be a finite number > 0, got {self.k!r}")
        object.__setattr__(self, "k", k)
        for name in ("qubits_per_logical", "computing_logical_qubits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("fault_tolerant_error", "computing_error"):
            value = getattr(self, name)
            if not (0.0 <= float(value) <= 1.0):
                raise ValueError(f"{name} must be in [0, 1], got {value!r}")

    def physical_qubits(self, stage: Stage) -> int:
        """Physical qubits an end node needs at ``stage`` (0 below stage 4).

        >>> StageCriteria().physical_qubits(Stage.FEW_QUBIT_FAULT_TOLERANT)
        17
        """
        if stage >= Stage.QUANTUM_COMPUTING:
            return self.computing_logical_qubits * self.qubits_per_logical
        if stage >= Stage.FEW_QUBIT_FAULT_TOLERANT:
            return self.qubits_per_logical
        return 0

    def max_error(self, stage: Stage) -> float:
        """Largest gate/readout error allowed at ``stage`` (1 below stage 4).

        >>> StageCriteria().max_error(Stage.QUANTUM_COMPUTING)
        0.0001
        """
        if stage >= Stage.QUANTUM_COMPUTING:
            return self.computing_error
        if stage >= Stage.FEW_QUBIT_FAULT_TOLERANT:
            return self.fault_tolerant_error
        return 1.0


# --------------------------------------------------------------------------------------------
# Errors


class StageError(RuntimeError):
    """An application (or one of its roles) needs a stage the network does not reach.

    The message names the application and role, the stage needed, the stage reached and what
    is missing, in words and numbers; the same facts are attributes: ``app``, ``role``,
    ``needed``, ``reached`` (:class:`Stage`), ``missing`` (tuple of str), ``network`` (its
    name or ``None``) and ``nodes``.

    >>> err = StageError("teleport", Stage.QUANTUM_MEMORY, Stage.ENTANGLEMENT_DISTRIBUTION,
    ...                  ["storage of entanglement between alice and bob"], role="bob", network="chain")
    >>> print(err)
    app 'teleport' (role 'bob') needs stage 3 (quantum memory: storage of entanglement) but network 'chain' \
reaches stage 2 (entanglement distribution); missing: storage of entanglement between alice and bob
    """

    def __init__(
        self,
        app: str,
        needed: Stage,
        reached: Stage,
        missing: Sequence[str] = (),
        *,
        role: str | None = None,
        network: str | None = None,
        nodes: Sequence[str] = (),
        message: str | None = None,
    ) -> None:
        self.app = app
        self.role = role
        self.needed = Stage.parse(needed)
        self.reached = Stage.parse(reached)
        self.missing: tuple[str, ...] = tuple(missing)
        self.network = network
        self.nodes: tuple[str, ...] = tuple(nodes)
        if message is None:
            who = f"app {app!r}" + (f" (role {role!r})" if role is not None else "")
            where = f"network {network!r}" if network else "the network"
            between = f" between {_join(self.nodes)}" if len(self.nodes) >= 2 else ""
            message = (
                f"{who} needs stage {int(self.needed)} ({self.needed.title}: {self.needed.capability}) "
                f"but {where} reaches {self.reached.describe()}{between}"
            )
            if self.missing:
                message += "; missing: " + "; ".join(self.missing)
        super().__init__(message)


# --------------------------------------------------------------------------------------------
# Formatting


def _fmt_time(seconds: float) -> str:
    """A duration with three significant digits and a readable unit."""
    if math.isinf(seconds):
        return "inf"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _join(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _pair(a: str, b: str) -> str:
    return f"{a} and {b}"


# --------------------------------------------------------------------------------------------
# The physics qstack reads off a scenario


@dataclass(frozen=True)
class _Link:
    spec: LinkSpec
    round_trip: float  # two classical delays between the link's ends
    carries_photons: bool  # both arms deliver photons to the station: eta_a * eta_b > 0
    entangles: bool  # heralds pairs of fidelity > 1/2 with non-zero probability
    success_probability: float
    fidelity: float  # heralded fidelity including raw_fidelity (nan when nothing heralds)

    @property
    def name(self) -> str:
        return f"{self.spec.a}–{self.spec.b}"

    def why_not_entangling(self) -> str:
        if not self.carries_photons:
            return f"link {self.name} carries no photons to its station (emission × fibre × detector efficiency is 0)"
        if self.success_probability <= 0:
            return f"link {self.name} never heralds (success probability 0)"
        return f"link {self.name} heralds pairs of fidelity {self.fidelity:.3g} at best, not above 1/2"


def _coherence(hardware: HardwareSpec) -> tuple[float, str]:
    """(coherence time, what set it), asked of the profile's memory noise model — so a custom
    model (``memory_noise = "mypkg:MyNoise"``) sets the stage through its ``coherence_time()``."""
    model = hardware.memory_model()
    return float(model.coherence_time()), model.coherence_source()


def _link_physics(scenario: Scenario, spec: LinkSpec) -> _Link:
    """Whether ``spec`` carries photons and heralds entanglement, judged by the link's own
    generation scheme (a built-in or a user's plug-in) on the hardware the network builds."""
    hw, _, _ = scenario.link_hardware(spec)
    scheme = LINK_SCHEMES.create(spec.scheme)
    # The scheme's model for a pair just above 1/2 (what entangling needs), else its best effort.
    model = scheme.model(hw, 0.5 + 1e-9) or scheme.model(hw, 0.0)
    p = float(model.success_probability) if model is not None else 0.0
    fidelity = depolarised(float(model.fidelity), hw.raw_w) if model is not None and p > 0 else math.nan
    carries = hw.eta_a > 0 and hw.eta_b > 0
    entangles = carries and p > 0 and fidelity > 0.5 + 1e-12
    return _Link(spec, 2 * spec.classical_delay, carries, entangles, p, fidelity)


def _node_qubits(scenario: Scenario, node: str) -> int:
    """Qubits at ``node``: the memory positions its links reserve there, summed (as
    :class:`qstack.network.QuantumNetwork` allocates them), or its profile's if it has no link."""
    total = 0
    for spec in scenario.links:
        if node in (spec.a, spec.b):
            ends = scenario.link_memory_positions(spec)
            total += ends[0] if spec.a == node else ends[1]
    return total or scenario.hardware_of(node).memory_positions


def _at_least(value: float, bound: float) -> bool:
    """``value >= bound`` up to rounding (so that a boundary set by hand counts as met)."""
    return value >= bound * (1 - 1e-12)


class _Analysis:
    """Everything :func:`network_stage` derives from one scenario."""

    def __init__(self, scenario: Scenario, criteria: StageCriteria) -> None:
        self.scenario = scenario
        self.criteria = criteria
        self.k = criteria.k
        self.ends = tuple(n.name for n in scenario.nodes if n.role == "end")
        self.links = {frozenset((s.a, s.b)): _link_physics(scenario, s) for s in scenario.links}
        self.coherence = {n.name: _coherence(scenario.hardware_of(n.name)) for n in scenario.nodes}
        self.roles = {n.name: n.role for n in scenario.nodes}
        self.qubits = {name: _node_qubits(scenario, name) for name in self.ends}
        # Classical network: every link carries classical messages with its fibre delay.
        self.classical = nx.Graph()
        self.classical.add_nodes_from(n.name for n in scenario.nodes)
        for link in self.links.values():
            self.classical.add_edge(link.spec.a, link.spec.b, delay=link.spec.classical_delay)
        self.delays = {end: nx.single_source_dijkstra_path_length(self.classical, end, weight="delay")
                       for end in self.ends}
        self.entangling = nx.Graph()
        self.entangling.add_nodes_from(self.classical.nodes)
        for link in self.links.values():
            if link.entangles:
                self.entangling.add_edge(link.spec.a, link.spec.b, delay=link.spec.classical_delay, link=link)
        self._thresholds = sorted({link.round_trip for link in self.links.values() if link.entangles})
        self._groups = [self._group(rtt) for rtt in self._thresholds]

    # -------------------------------------------------------------- classical communication

    def round_trip(self, a: str, b: str) -> float:
        """Classical round trip between ``a`` and ``b`` along the fastest chain of links (inf if none)."""
        one_way = self.delays[a].get(b) if a in self.delays else None
        if one_way is None:
            return math.inf
        return 2 * one_way

    # -------------------------------------------------------------- stage 2: entanglement

    def _group(self, rtt: float) -> tuple[dict[str, int], nx.Graph]:
        """Components of the nodes that can swap when the slowest link used has round trip
        ``rtt`` (coherence >= k·rtt), over entangling links no slower than ``rtt``."""
        sub = nx.Graph()
        sub.add_nodes_from(self.entangling.nodes)
        sub.add_edges_from((a, b) for a, b, d in self.entangling.edges(data=True) if d["link"].round_trip <= rtt)
        swappers = [v for v in sub.nodes if _at_least(self.coherence[v][0], self.k * rtt)]
        label: dict[str, int] = {}
        for i, comp in enumerate(nx.connected_components(sub.subgraph(swappers))):
            for v in comp:
                label[v] = i
        return label, sub

    def entanglement_path_exists(self, a: str, b: str) -> bool:
        """Some path of entangling links joins ``a`` and ``b`` whose intermediate nodes all keep a
        qubit for at least ``k`` round trips of the slowest link on the path."""
        for label, sub in self._groups:
            if sub.has_edge(a, b):
                return True
            reach_a = {label[v] for v in sub.neighbors(a) if v in label}
            if a in label:
                reach_a.add(label[a])
            reach_b = {label[v] for v in sub.neighbors(b) if v in label}
            if b in label:
                reach_b.add(label[b])
            if reach_a & reach_b:
                return True
        return False

    def why_no_entanglement(self, a: str, b: str) -> str:
        """Why ``a`` and ``b`` cannot get end-to-end entanglement, naming links and nodes."""
        head = f"end-to-end entanglement between {_pair(a, b)}"
        try:
            path = nx.shortest_path(self.entangling, a, b, weight="delay")
        except nx.NetworkXNoPath:
            try:
                path = nx.shortest_path(self.classical, a, b, weight="delay")
            except nx.NetworkXNoPath:
                return f"{head} — no chain of links joins them"
            broken = [self.links[frozenset(e)] for e in itertools.pairwise(path)]
            reasons = [link.why_not_entangling() for link in broken if not link.entangles]
            return f"{head} — no path of links that herald entanglement: " + "; ".join(reasons)
        slowest = max(self.links[frozenset(e)].round_trip for e in itertools.pairwise(path))
        need = self.k * slowest
        failing = []
        for v in path[1:-1]:
            time, which = self.coherence[v]
            if not _at_least(time, need):
                kind = "end node" if self.roles[v] == "end" else "repeater"
                failing.append(f"{kind} {v} keeps a qubit {_fmt_time(time)} ({which})")
        return (
            f"{head} — on the path {'–'.join(path)} " + ", ".join(failing)
            + f" but a swap needs at least k × the slowest link's round trip = {self.k:g} × {_fmt_time(slowest)}"
            f" = {_fmt_time(need)} (a repeater holds one half of a pair while the neighbouring link heralds)"
        )

    # -------------------------------------------------------------- per end node

    def memory_reason(self, node: str, peer: str) -> str | None:
        """Why ``node``'s memory is not useful with ``peer`` (None if it is): coherence < k·t_comm."""
        time, which = self.coherence[node]
        rtt = self.round_trip(node, peer)
        need = self.k * rtt
        if _at_least(time, need):
            return None
        return (
            f"storage of entanglement between {_pair(node, peer)} — end node {node} keeps a qubit "
            f"{_fmt_time(time)} ({which}) but one classical round trip between them takes {_fmt_time(rtt)}, "
            f"so it needs k·t = {self.k:g} × {_fmt_time(rtt)} = {_fmt_time(need)} (k·C·t criterion)"
        )

    def hardware_reason(self, node: str, stage: Stage) -> str | None:
        """Why ``node``'s processor falls short of ``stage`` (4 or 5), or None."""
        hw = self.scenario.hardware_of(node)
        need_qubits = self.criteria.physical_qubits(stage)
        max_error = self.criteria.max_error(stage)
        problems = []
        if self.qubits[node] < need_qubits:
            logical = "one logical qubit needs" if stage == Stage.FEW_QUBIT_FAULT_TOLERANT else (
                f"{self.criteria.computing_logical_qubits} logical qubits need")
            problems.append(
                f"{self.qubits[node]} qubits (memory positions) where {logical} {need_qubits} "
                f"({self.criteria.qubits_per_logical} per logical qubit)"
            )
        # the node's gate model (built-in numbers or a user's plug-in) says how noisy it is
        for name, value in hw.gate_noise.error_probabilities().items():
            if value > max_error:
                problems.append(f"{name} {value:g} > {max_error:g}")
        if not problems:
            return None
        return f"{stage.capability} at end node {node} — " + ", ".join(problems)


@dataclass(frozen=True)
class StageReport:
    """The stage a network reaches and why (built by :func:`network_stage`).

    * ``stage``: the stage reached — the lowest over all pairs of end nodes;
    * ``per_pair``: the stage each pair of end nodes ``(a, b)`` reaches (``a`` before ``b`` in
      the scenario's node order), counting both nodes' hardware;
    * ``missing``: what the network lacks for the next stage, one line per problem, naming the
      nodes, links and numbers (empty at stage 5);
    * ``per_end``: for each ordered ``(node, peer)``, the stage available to ``node`` when it
      works with ``peer`` counting only ``node``'s own memory and processor (and the links
      between them) — what a role running on ``node`` gets; ``per_pair`` is the lower of the two
      directions;
    * ``end_nodes``, ``round_trips`` (classical round trip of each pair, s), ``qubits`` (qubits
      at each end node), ``criteria`` (the thresholds used), ``name`` (the scenario's name),
      ``notes`` (caveats, e.g. unconnected end nodes).

    >>> from qstack.scenario import linear_chain
    >>> report = network_stage(linear_chain(2, "10 km", t2="1 us"))
    >>> report.stage, report.per_pair
    (<Stage.ENTANGLEMENT_DISTRIBUTION: 2>, {('n0', 'n1'): <Stage.ENTANGLEMENT_DISTRIBUTION: 2>})
    >>> print(report.missing[0])
    storage of entanglement between n0 and n1 — end node n0 keeps a qubit 1 µs (t2) but one classical round \
trip between them takes 96.1 µs, so it needs k·t = 10 × 96.1 µs = 961 µs (k·C·t criterion)
    """

    stage: Stage
    per_pair: dict[tuple[str, str], Stage]
    missing: tuple[str, ...]
    per_end: dict[tuple[str, str], Stage] = field(default_factory=dict)
    end_nodes: tuple[str, ...] = ()
    round_trips: dict[tuple[str, str], float] = field(default_factory=dict)
    qubits: dict[str, int] = field(default_factory=dict)
    criteria: StageCriteria = field(default_factory=StageCriteria)
    name: str | None = None
    notes: tuple[str, ...] = ()
    reasons: dict[tuple[str, str], dict[Stage, tuple[str, ...]]] = field(default_factory=dict, repr=False)

    @property
    def k(self) -> float:
        """The memory factor ``k`` used (``criteria.k``)."""
        return self.criteria.k

    def between(self, a: str, b: str) -> Stage:
        """The stage the pair of end nodes ``a``, ``b`` reaches (either order).

        >>> from qstack.scenario import linear_chain
        >>> network_stage(linear_chain(3)).between("n2", "n0")
        <Stage.QUANTUM_MEMORY: 3>
        """
        self._check_end(a)
        self._check_end(b)
        if a == b:
            raise ValueError(f"a pair needs two distinct end nodes, got {a!r} twice")
        return min(self.per_end[(a, b)], self.per_end[(b, a)])

    def for_node(self, node: str, peers: Iterable[str] | None = None) -> Stage:
        """The stage available to ``node`` with each of ``peers`` (default: every other end
        node), counting only ``node``'s own memory and processor: the lowest of
        ``per_end[(node, peer)]``.

        >>> from qstack.scenario import linear_chain
        >>> network_stage(linear_chain(3)).for_node("n0")
        <Stage.QUANTUM_MEMORY: 3>
        """
        self._check_end(node)
        others = self._peers(node, peers)
        if not others:
            return self.stage
        return min(self.per_end[(node, p)] for p in others)

    def missing_for(self, needed: Stage | int | str, sides: Iterable[tuple[str, str]] | None = None) -> tuple[str, ...]:
        """What stands between ``sides`` (ordered ``(node, peer)`` pairs; default: all) and
        ``needed``: the reasons for every stage above what each side reaches, up to ``needed``.

        >>> from qstack.scenario import linear_chain
        >>> network_stage(linear_chain(2, t2="1 us")).missing_for(Stage.QUANTUM_MEMORY)[0][:40]
        'storage of entanglement between n0 and n'
        """
        needed = Stage.parse(needed)
        chosen = list(self.per_end) if sides is None else list(sides)
        out: list[str] = []
        for side in chosen:
            reached = self.per_end[side]
            side_reasons = self.reasons.get(side, {})
            for stage in Stage:
                if reached < stage <= needed:
                    if stage == Stage.ENTANGLEMENT_DISTRIBUTION and Stage.PREPARE_AND_MEASURE in side_reasons:
                        continue  # the prepare-and-measure reason already says why entanglement is missing
                    for reason in side_reasons.get(stage, ()):
                        if reason not in out:
                            out.append(reason)
        if len(self.end_nodes) < 2 and needed > Stage.TRUSTED_REPEATER:
            out.extend(n for n in self.notes if n not in out)
        return tuple(out)

    def explain(self) -> str:
        """Several lines for people: the stage reached, why, each pair, and what the next stage
        needs.

        >>> from qstack.scenario import linear_chain
        >>> print(network_stage(linear_chain(3, name="chain")).explain())   # doctest: +ELLIPSIS
        network 'chain' reaches stage 3 (quantum memory) — the paper's stage 4 (Wehner, Elkouss & Hanson 2018).
        why: every end node's memory outlives k classical round trips to every other end node.
        end nodes: n0, n2; memory factor k = 10
          n0 and n2: stage 3 (quantum memory), classical round trip 192 µs
        next: stage 4 (few-qubit fault-tolerant) adds few-qubit fault-tolerant operations; missing:
          - few-qubit fault-tolerant operations at end node n0 — 10 qubits (memory positions) where one ...
          - few-qubit fault-tolerant operations at end node n2 — 10 qubits (memory positions) where one ...
        """
        where = f"network {self.name!r}" if self.name else "the network"
        lines = [
            f"{where} reaches {self.stage.describe()} — the paper's stage {self.stage.paper_number} "
            "(Wehner, Elkouss & Hanson 2018).",
        ]
        if len(self.end_nodes) >= 2:
            lines.append(f"why: {_WHY[self.stage]}.")
        lines.append(f"end nodes: {', '.join(self.end_nodes) or 'none'}; memory factor k = {self.k:g}")
        for (a, b), stage in self.per_pair.items():
            rtt = _fmt_time(self.round_trips[(a, b)])
            lines.append(f"  {_pair(a, b)}: {stage.describe()}, classical round trip {rtt}")
        lines.extend(f"note: {note}" for note in self.notes)
        if self.stage < Stage.QUANTUM_COMPUTING:
            nxt = Stage(self.stage + 1)
            lines.append(f"next: {nxt.describe()} adds {', '.join(nxt.capabilities)}; missing:")
            lines.extend(f"  - {reason}" for reason in self.missing)
        else:
            lines.append("this is the last stage.")
        return "\n".join(lines)

    # -------------------------------------------------------------- helpers

    def _check_end(self, node: str) -> None:
        if node not in self.end_nodes:
            known = ", ".join(self.end_nodes) or "none"
            raise ValueError(f"{node!r} is not an end node of {self.name or 'the network'} (end nodes: {known})")

    def _peers(self, node: str, peers: Iterable[str] | None) -> list[str]:
        if peers is None:
            return [p for p in self.end_nodes if p != node]
        others = []
        for p in peers:
            self._check_end(p)
            if p != node and p not in others:
                others.append(p)
        return others


def network_stage(
    scenario: Scenario | Mapping[str, Any] | str | os.PathLike[str],
    *,
    k: float | None = None,
    criteria: StageCriteria | None = None,
) -> StageReport:
    """The stage a scenario's hardware and topology reach, with the reasons.

    ``scenario`` is a :class:`~qstack.scenario.Scenario`, or anything
    :func:`~qstack.scenario.load_scenario` reads (a dict, a ``.toml`` path). ``k`` overrides
    ``criteria.k`` (see :class:`StageCriteria` for every threshold).

    The paper's rule — a stage is reached only when its functionality (and that of every lower
    stage) is available between **every pair of end nodes** — is applied literally: each pair of
    nodes with role ``"end"`` gets a stage, and the network reaches the lowest. Memories are
    judged against the network's own communication times, the paper's ``k·C·t`` idea: let
    ``t_comm(i, j)`` be the classical round trip between ``i`` and ``j`` (twice the one-way
    delay along the fastest chain of links, each link's
    :attr:`~qstack.scenario.LinkSpec.classical_delay` — ``classical_delay_per_km`` if set, else
    the fibre's ``length · n / c``), as :class:`~qstack.network.QuantumNetwork` routes classical
    messages. A node's *coherence time* is its profile's ``depolarizing_time`` if set, else its
    ``t2`` (``inf`` by default); a memory is *useful* over a time ``t`` when coherence ≥ ``k·t``.

    A link *carries photons* when both arms deliver some (emission × fibre × detector efficiency
    > 0 on each side), and *heralds entanglement* when, built as the link layer builds it
    (scheme, arms, detectors, dark counts, phase noise, ``raw_fidelity``; single click at the best
    bright-state population), it heralds with non-zero probability pairs of fidelity above 1/2.

    Rules, for a pair of end nodes ``i``, ``j`` (stages are cumulative):

    * **Stage 0**, trusted repeater: always — the floor. Key relay only needs QKD between
      neighbours and trusted nodes; a pair not joined by photon-carrying links gets a note.
    * **Stage 1**, prepare and measure: ``i`` and ``j`` share a direct link that carries photons
      (prepare-and-measure across one link needs no intermediate node), **or** stage 2 holds for
      them (an entangled pair measured at once is prepare-and-measure without trusting anyone).
      Multi-hop prepare-and-measure without trusted nodes needs swapping, hence repeater memories,
      so it is not granted otherwise.
    * **Stage 2**, entanglement distribution: some path of entanglement-heralding links joins
      them, and every node *inside* the path (repeater, or end node acting as one) keeps a
      qubit at least ``k`` round trips of the slowest link on that path — it must hold one half
      of a pair while the neighbouring link heralds before it can swap. A direct heralded link
      always qualifies: the end nodes need no memory at this stage (the paper: "The end nodes
      require no quantum memory"), since they may measure at once and keep the result when the
      herald arrives. This round-trip test is a necessary condition for swapping at all, not a
      rate estimate: it ignores the waiting for heralding success.
    * **Stage 3**, quantum memory: additionally both end nodes' memories are useful over
      ``k · t_comm(i, j)``. (The paper takes ``t`` as the largest time over all pairs and adds
      the EPR-generation and circuit times; qstack checks each pair with its own round trip,
      which over every pair bounds each node by its farthest partner.) The number of qubits an
      application needs is its own requirement (:class:`AppRequirements`), not the stage's.
    * **Stage 4**, few-qubit fault-tolerant: additionally each end node has at least
      ``criteria.qubits_per_logical`` (17) qubits — the memory positions its links reserve,
      summed — and single-, two-qubit and readout errors ≤ ``criteria.fault_tolerant_error``
      (1e-3): a *model* of one fault-tolerant logical qubit (see :class:`StageCriteria`).
    * **Stage 5**, quantum computing: additionally ≥ 50 logical qubits' worth (850 qubits) and
      errors ≤ 1e-4.

    For roles, :attr:`StageReport.per_end` counts only one side's memory and processor
    (stages 3–5 are per node): a blind-computing client that only prepares and measures does
    not need a memory; its server does.

    >>> from qstack.scenario import linear_chain
    >>> network_stage(linear_chain(3, "10 km")).stage          # SeQUeNCe-like: t2 = 1.3 s
    <Stage.QUANTUM_MEMORY: 3>
    >>> network_stage(linear_chain(3, "10 km", t2="1 us")).stage   # the repeater cannot swap
    <Stage.TRUSTED_REPEATER: 0>
    >>> network_stage(linear_chain(2, "10 km", t2="1 ms"), k=5).stage   # 1 ms >= 5 x 96 us
    <Stage.QUANTUM_MEMORY: 3>
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)  # type: ignore[arg-type]
    if criteria is None:
        criteria = StageCriteria(k=DEFAULT_K if k is None else k)
    elif k is not None:
        criteria = StageCriteria(k, criteria.qubits_per_logical, criteria.fault_tolerant_error,
                                 criteria.computing_logical_qubits, criteria.computing_error)
    an = _Analysis(scenario, criteria)
    ends = an.ends
    notes: list[str] = []
    if len(ends) < 2:
        notes.append(f'a network needs at least two end nodes (role "end"); this one has {len(ends)}')

    per_end: dict[tuple[str, str], Stage] = {}
    reasons: dict[tuple[str, str], dict[Stage, tuple[str, ...]]] = {}
    per_pair: dict[tuple[str, str], Stage] = {}
    round_trips: dict[tuple[str, str], float] = {}
    photon_graph = nx.Graph()
    photon_graph.add_nodes_from(an.classical.nodes)
    photon_graph.add_edges_from((ln.spec.a, ln.spec.b) for ln in an.links.values() if ln.carries_photons)

    for a, b in itertools.combinations(ends, 2):
        rtt = an.round_trip(a, b)
        round_trips[(a, b)] = rtt
        if not nx.has_path(photon_graph, a, b):
            notes.append(
                f"{_pair(a, b)} are not joined by links that carry photons: even a trusted relay cannot "
                "give them a key"
            )
        # Pair-level conditions (links and intermediate nodes).
        pair_reasons: dict[Stage, tuple[str, ...]] = {}
        stage2 = an.entanglement_path_exists(a, b)
        if not stage2:
            pair_reasons[Stage.ENTANGLEMENT_DISTRIBUTION] = (an.why_no_entanglement(a, b),)
        direct = an.links.get(frozenset((a, b)))
        stage1 = stage2 or (direct is not None and direct.carries_photons)
        if not stage1:
            link_text = ("no direct link joins them" if direct is None
                         else direct.why_not_entangling().replace("link", "the direct link", 1))
            no_entanglement = pair_reasons[Stage.ENTANGLEMENT_DISTRIBUTION][0].split(" — ", 1)[1]
            pair_reasons[Stage.PREPARE_AND_MEASURE] = (
                f"end-to-end prepare-and-measure between {_pair(a, b)} — {link_text}, and end-to-end "
                f"entanglement (which they could measure without trusting the nodes between) is unavailable: "
                f"{no_entanglement}",
            )
        base = Stage.ENTANGLEMENT_DISTRIBUTION if stage2 else (
            Stage.PREPARE_AND_MEASURE if stage1 else Stage.TRUSTED_REPEATER)
        # Node-level conditions, one direction at a time.
        for node, peer in ((a, b), (b, a)):
            side = dict(pair_reasons)
            memory = an.memory_reason(node, peer)
            if memory is not None:
                side[Stage.QUANTUM_MEMORY] = (memory,)
            for stage in (Stage.FEW_QUBIT_FAULT_TOLERANT, Stage.QUANTUM_COMPUTING):
                hardware = an.hardware_reason(node, stage)
                if hardware is not None:
                    side[stage] = (hardware,)
            reached = base
            while reached == Stage.ENTANGLEMENT_DISTRIBUTION or (
                Stage.QUANTUM_MEMORY <= reached < Stage.QUANTUM_COMPUTING
            ):
                nxt = Stage(reached + 1)
                if nxt in side:
                    break
                reached = nxt
            per_end[(node, peer)] = reached
            reasons[(node, peer)] = side
        per_pair[(a, b)] = min(per_end[(a, b)], per_end[(b, a)])

    stage = min(per_pair.values()) if per_pair else Stage.TRUSTED_REPEATER
    missing: list[str] = []
    if len(ends) < 2:
        missing.extend(notes)
    elif stage < Stage.QUANTUM_COMPUTING:
        nxt = Stage(stage + 1)
        for side, reached in per_end.items():
            if reached < nxt:
                for reason in reasons[side].get(nxt, ()):
                    if reason not in missing:
                        missing.append(reason)
    return StageReport(
        stage=stage,
        per_pair=per_pair,
        missing=tuple(missing),
        per_end=per_end,
        end_nodes=ends,
        round_trips=round_trips,
        qubits=dict(an.qubits),
        criteria=criteria,
        name=scenario.simulation.name,
        notes=tuple(notes),
        reasons=reasons,
    )


def require(
    app_name: str,
    needed: Stage | int | str,
    report: StageReport,
    role: str | None = None,
    nodes: Sequence[str] | str | None = None,
) -> None:
    """Raise :class:`StageError` unless ``report``'s network gives ``app_name`` stage ``needed``.

    * no ``nodes``: the whole network must reach ``needed`` (every pair of end nodes);
    * ``nodes`` without ``role``: every pair among ``nodes`` must reach it (a single node: that
      node with every other end node);
    * ``nodes`` with ``role``: ``nodes[0]`` runs the role and ``nodes[1:]`` are its peers (all
      other end nodes if none are given); only ``nodes[0]``'s own memory and processor count
      (:attr:`StageReport.per_end`).

    >>> from qstack.scenario import linear_chain
    >>> report = network_stage(linear_chain(2, "10 km", t2="1 us", name="chain"))
    >>> require("bbm92", Stage.ENTANGLEMENT_DISTRIBUTION, report)
    >>> require("teleport", Stage.QUANTUM_MEMORY, report, role="bob", nodes=["n1", "n0"])
    Traceback (most recent call last):
    ...
    qstack.stages.StageError: app 'teleport' (role 'bob') needs stage 3 (quantum memory: storage of entanglement) \
but network 'chain' reaches stage 2 (entanglement distribution) between n1 and n0; missing: storage of \
entanglement between n1 and n0 — end node n1 keeps a qubit 1 µs (t2) but one classical round trip between them \
takes 96.1 µs, so it needs k·t = 10 × 96.1 µs = 961 µs (k·C·t criterion)
    """
    needed = Stage.parse(needed)
    if isinstance(nodes, str):
        nodes = [nodes]
    if nodes is None or len(nodes) == 0:
        reached = report.stage
        if len(report.end_nodes) < 2:
            reached = Stage.TRUSTED_REPEATER
        if reached >= needed:
            return
        raise StageError(app_name, needed, reached, report.missing_for(needed), role=role, network=report.name)
    nodes = list(dict.fromkeys(nodes))
    for node in nodes:
        report._check_end(node)
    if role is not None or len(nodes) == 1:
        head = nodes[0]
        peers = report._peers(head, nodes[1:] or None)
        sides = [(head, p) for p in peers]
        if role is None:  # one node without a role: both sides of each of its pairs count
            sides += [(p, head) for p in peers]
        shown = [head, *peers]
    else:
        sides = [(a, b) for a in nodes for b in nodes if a != b]
        shown = nodes
    if not sides:
        return
    reached = min(report.per_end[s] for s in sides)
    if reached >= needed:
        return
    raise StageError(
        app_name, needed, reached, report.missing_for(needed, sides), role=role, network=report.name, nodes=shown
    )


# --------------------------------------------------------------------------------------------
# Application requirements


@dataclass(frozen=True)
class AppRequirements:
    """What an application needs of the network, declared next to its code.

    * ``name``: the application's name, used in messages;
    * ``stage``: the highest stage any of its roles needs (its headline stage);
    * ``roles``: optional per-role stages, each at most ``stage`` (a role not listed needs
      ``stage``) — e.g. blind computing: client 1, server 3;
    * ``peers`` (>= 1): how many other end nodes each participant works with (2 for a
      three-party GHZ protocol);
    * ``qubits`` (>= 1): qubits each participating end node needs (teleportation's sender
      holds the data qubit and its half of a pair: 2).

    :meth:`check` raises :class:`StageError` naming the missing capability.

    >>> blind = declare("blind computing", Stage.QUANTUM_MEMORY,
    ...                 roles={"client": Stage.PREPARE_AND_MEASURE, "server": Stage.QUANTUM_MEMORY})
    >>> blind.stage_of("client"), blind.stage_of("server")
    (<Stage.PREPARE_AND_MEASURE: 1>, <Stage.QUANTUM_MEMORY: 3>)
    """

    name: str
    stage: Stage
    roles: Mapping[str, Stage] | None = None
    peers: int = 1
    qubits: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        stage = Stage.parse(self.stage)
        object.__setattr__(self, "stage", stage)
        if self.roles is not None:
            roles = {str(role): Stage.parse(value) for role, value in self.roles.items()}
            too_high = {role: s for role, s in roles.items() if s > stage}
            if too_high:
                role, s = next(iter(too_high.items()))
                raise ValueError(
                    f"role {role!r} needs {s.describe()}, above the app's stage {stage.describe()}: "
                    "the app's stage is the highest any role needs"
                )
            object.__setattr__(self, "roles", MappingProxyType(roles))
        for name in ("peers", "qubits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    def __hash__(self) -> int:
        roles = None if self.roles is None else tuple(sorted(self.roles.items()))
        return hash((self.name, self.stage, roles, self.peers, self.qubits))

    def stage_of(self, role: str) -> Stage:
        """The stage ``role`` needs: its entry in ``roles``, else the app's ``stage``.

        >>> declare("qkd", 1).stage_of("alice")
        <Stage.PREPARE_AND_MEASURE: 1>
        """
        if self.roles is not None and role in self.roles:
            return self.roles[role]
        return self.stage

    def check(self, report: StageReport, assignment: Mapping[str, str] | None = None) -> None:
        """Raise :class:`StageError` if the network in ``report`` cannot run this app.

        ``assignment`` maps each role to the end node running it. Without one, the whole
        network must reach ``stage`` and have enough end nodes and qubits. With one, each role
        is checked on its node against its peers (the nodes of the other roles), counting only
        its own node's memory and processor, and its node must hold ``qubits`` qubits. A role
        of ``roles`` left unassigned, an unknown node, or too few nodes for ``peers`` is a
        ``ValueError`` (a mistake in the call, not in the network).

        >>> from qstack.scenario import linear_chain
        >>> report = network_stage(linear_chain(2, "10 km", t2="1 us", name="link"))   # stage 2
        >>> blind = declare("blind", 3, roles={"client": 1, "server": 3})
        >>> blind.check(report, {"client": "n0", "server": "n1"})
        Traceback (most recent call last):
        ...
        qstack.stages.StageError: app 'blind' (role 'server') needs stage 3 (quantum memory: storage of \
entanglement) but network 'link' reaches stage 2 (entanglement distribution) between n1 and n0; missing: \
storage of entanglement between n1 and n0 — end node n1 keeps a qubit 1 µs (t2) but one classical round trip \
between them takes 96.1 µs, so it needs k·t = 10 × 96.1 µs = 961 µs (k·C·t criterion)
        """
        if not assignment:
            self._check_network(report)
            return
        if self.roles is not None:
            unassigned = [role for role in self.roles if role not in assignment]
            if unassigned:
                raise ValueError(f"app {self.name!r}: no node assigned to role(s) {', '.join(map(repr, unassigned))}")
        for node in assignment.values():
            report._check_end(node)
        distinct = list(dict.fromkeys(assignment.values()))
        if len(distinct) < self.peers + 1:
            raise ValueError(
                f"app {self.name!r} needs {self.peers + 1} distinct end nodes (each with {self.peers} "
                f"peer{'s' if self.peers != 1 else ''}), got {len(distinct)}: {dict(assignment)}"
            )
        for role, node in assignment.items():
            needed = self.stage_of(role)
            peers = [p for p in distinct if p != node]
            require(self.name, needed, report, role=role, nodes=[node, *peers])
            self._check_qubits(report, node, role, needed, peers)

    def _check_network(self, report: StageReport) -> None:
        ends = report.end_nodes
        if len(ends) < self.peers + 1:
            raise StageError(
                self.name, self.stage, report.stage, report.notes, network=report.name,
                message=f"app {self.name!r} needs {self.peers + 1} end nodes but "
                f"{'network ' + repr(report.name) if report.name else 'the network'} has {len(ends)}",
            )
        require(self.name, self.stage, report)
        for node in ends:
            self._check_qubits(report, node, None, self.stage, [p for p in ends if p != node])

    def _check_qubits(self, report: StageReport, node: str, role: str | None, needed: Stage,
                      peers: Sequence[str]) -> None:
        have = report.qubits.get(node, 0)
        if have >= self.qubits:
            return
        reached = report.for_node(node, peers) if peers else report.stage
        missing = f"{self.qubits} qubits at end node {node}, which has {have} (memory positions on its links)"
        who = f"app {self.name!r}" + (f" (role {role!r})" if role is not None else "")
        raise StageError(
            self.name, needed, reached, (missing,), role=role, network=report.name, nodes=(node,),
            message=f"{who} needs {self.qubits} qubits at end node {node} but it has {have}; missing: {missing}",
        )


StageRequirement = AppRequirements
"""Alias of :class:`AppRequirements`."""


def declare(
    name: str,
    stage: Stage | int | str,
    *,
    roles: Mapping[str, Stage | int | str] | None = None,
    peers: int = 1,
    qubits: int = 1,
) -> AppRequirements:
    """Declare an application's requirements: ``AppRequirements`` with stages parsed by
    :meth:`Stage.parse`.

    >>> declare("teleport", "quantum memory", qubits=2)
    AppRequirements(name='teleport', stage=<Stage.QUANTUM_MEMORY: 3>, roles=None, peers=1, qubits=2)
    """
    parsed = None if roles is None else {role: Stage.parse(value) for role, value in roles.items()}
    return AppRequirements(name, Stage.parse(stage), parsed, peers, qubits)
