"""The simulated wire: message objects or bytes, the same run bit for bit.

On the simulation kernel a node's messages can travel as bytes (serialised on send, parsed and
validated on receipt, as on a real network) or as the validated message objects themselves,
counted at their serialised size (:func:`qstack.proto.wire_size`). Nothing a protocol can
observe differs between the two: not the random streams, not the event order, not the pairs,
fidelities or byte counts, and not what a receiver refuses. These tests run the same scenarios
both ways and compare everything the run reports.
"""

from __future__ import annotations

import copy

import pytest

from qstack.apps import run_app
from qstack.apps.teleportation import Teleportation
from qstack.network.runner import run_scenario
from qstack.physical.memory import QuantumMemory
from qstack.proto import PathTeardown, Track, encode, wire_size
from qstack.runtime import Layer, ProtocolStack
from qstack.runtime.sim import SimRuntime
from qstack.scenario import ScenarioError, linear_chain, load_scenario
from qstack.sim import Simulation, connect

TIMES = ("wall_seconds", "build_seconds", "pairs_per_wall_second")  # the only machine-dependent figures


def _both(d: dict) -> tuple[dict, dict]:
    out = []
    for wire in ("objects", "bytes"):
        scenario = copy.deepcopy(d)
        scenario["simulation"]["wire"] = wire
        r = run_scenario(load_scenario(scenario))
        out.append({k: v for k, v in r.items() if k not in TIMES})
    return out[0], out[1]


def _purified(d: dict) -> dict:
    d["policies"]["purification"] = {"protocol": "dejmps", "scope": "link", "target_fidelity": 0.999,
                                     "max_rounds": 1}
    return d


@pytest.mark.parametrize("make", [
    lambda: linear_chain(5, seed=2, duration=0.05),
    lambda: linear_chain(5, seed=2, duration=0.05, swapping="nested"),
    lambda: linear_chain(4, seed=3, duration=0.05, cutoff="2 ms"),
    lambda: _purified(linear_chain(3, seed=4, duration=0.05, raw_fidelity=0.9)),
    lambda: linear_chain(3, seed=5, duration=0.05, link={"scheme": "double_click", "rounds": "sequential"}),
], ids=["asap", "nested", "cutoff", "purification", "sequential-double-click"])
def test_objects_and_bytes_on_the_wire_give_the_same_run(make):
    """Swap-ASAP, nested swapping, cut-offs, link purification and sequential Barrett-Kok
    rounds: the whole summary (pairs, every fidelity, events, per-node messages and bytes,
    rejections) is equal whether messages travel as objects or as bytes."""
    objects, as_bytes = _both(make())
    assert objects["delivered_pairs"] > 0
    assert objects["bytes_total"] > 0
    assert objects == as_bytes


def test_an_application_runs_the_same_on_both_wires():
    """Teleportation (transport-layer messages, TeleportRecord corrections, kept qubits): the
    roles' results and the message counts agree between the two wires."""
    runs = []
    for wire in ("objects", "bytes"):
        d = linear_chain(3, seed=3, raw_fidelity=0.9, t2="inf")
        d["simulation"]["wire"] = wire
        r = run_app(Teleportation(states=[(0.3, 0.2), (1.1, -0.4)]), load_scenario(d),
                    {"sender": "n0", "receiver": "n2"})
        runs.append((r.results, r.simulated_time, r.messages))
    assert runs[0] == runs[1]


class _Sink(Layer):
    layer = "sink"

    def __init__(self) -> None:
        self.got: list = []

    def handlers(self):
        return {Track: lambda src, m: self.got.append((src, m.flow_id)),
                PathTeardown: lambda src, m: self.got.append((src, m.reason))}


@pytest.mark.parametrize("wire", ["objects", "bytes"])
def test_a_message_that_breaks_a_field_rule_is_refused_by_the_receiver_on_either_wire(wire):
    """A Track with frame 7 (a Pauli frame is 2 bits: 0..3) is sent without complaint and
    refused by the receiver as ``invalid_field``, counted at its serialised size; a valid
    message on the same channel is delivered."""
    sim = Simulation(seed=0)
    a = SimRuntime(sim, "a", QuantumMemory("a", 1), wire=wire)
    b = SimRuntime(sim, "b", QuantumMemory("b", 1), wire=wire)
    sink = _Sink()
    b.stack.add(sink)
    connect(a.classical, b.classical, 1e-3)
    bad = Track(flow_id=1, frame=7)
    good = PathTeardown(flow_id=2, reason="done")
    a.send("b", bad)
    a.send("b", good)
    sim.run()
    assert sink.got == [("a", "done")]
    assert b.stack.rejected == {"invalid_field": 1}
    assert b.classical.stats.bytes_received == len(encode(bad, check=False)) + len(encode(good))


def test_the_objects_wire_counts_each_message_at_its_serialised_size():
    """``wire_size`` is ``len(encode(m))`` without serialising, also where lengths need two
    varint bytes: envelope prefix 4 (version, tag 22) + body length 2 + flow_id 3 + reason 3 + 200."""
    m = PathTeardown(flow_id=300, reason="x" * 200)
    assert wire_size(m) == len(encode(m)) == 212


def test_an_unknown_wire_is_a_scenario_error_naming_the_field_and_the_choices():
    d = linear_chain(2)
    d["simulation"]["wire"] = "json"
    with pytest.raises(ScenarioError, match=r"simulation\.wire.*'objects', 'bytes'|simulation\.wire.*objects.*bytes"):
        load_scenario(d)
    with pytest.raises(ValueError, match="wire must be one of 'objects', 'bytes'"):
        SimRuntime(Simulation(seed=0), "a", None, wire="json")


def test_the_stack_dispatches_carried_objects_like_parsed_bytes():
    """``ProtocolStack.receive`` (objects) and ``receive_bytes`` (bytes) reach the same handler."""
    stack = ProtocolStack("b", [_Sink()])
    m = PathTeardown(flow_id=2, reason="done")
    stack.receive("a", m)
    stack.receive_bytes("a", encode(m))
    assert stack.layers["sink"].got == [("a", "done"), ("a", "done")]
