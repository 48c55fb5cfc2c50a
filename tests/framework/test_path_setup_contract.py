"""PATH SETUP carries what every node of a route must agree on (Kozlowski et al. CoNEXT 2020):
the swap, cut-off and purification policies, and the flow's priority, which each node hands to
its link layer. A node that runs other policies refuses the flow (an ACK with a reason naming it
and both policies) instead of joining a flow whose swaps, cut-offs or purification rounds its
neighbours would not match. An end node's upper layer hears a failed flow exactly once.
"""

from __future__ import annotations

import pytest
from test_protocols_sans_io import Collector

from qstack.network.protocol import NetworkLayer
from qstack.network.service import NetRequest
from qstack.proto.qstack.v1 import network_pb2
from qstack.testing import FakeLinkLayer, FakeRuntime, chain_topology


def node(name: str, policies: dict | None = None, upper=None):
    rt = FakeRuntime(name)
    link = FakeLinkLayer(rt, {"a": "a-r", "b": "r-b"} if name == "r" else {"r": "a-r"})
    net = NetworkLayer(rt, link, chain_topology(["a", "r", "b"]), policies or {}, upper=upper)
    rt.stack.add(net)
    return rt, link, net


def setup_from(policies: dict, **fields) -> network_pb2.PathSetup:
    """The PATH SETUP head ``a`` sends for a flow under ``policies``."""
    rt, _, net = node("a", policies)
    net.request(NetRequest("a", "b", **fields))
    (sent,) = rt.take_sent()
    return sent.message


def test_path_setup_names_the_cutoff_policy_and_carries_the_priority():
    msg = setup_from({"cutoff": {"name": "fixed", "time": 0.01}}, priority=5)
    assert (msg.cutoff.policy, msg.cutoff.time, msg.priority, msg.swapping) == ("fixed", 0.01, 5, "asap")
    assert not msg.HasField("purification")  # none


@pytest.mark.parametrize(("policies", "cutoff", "purification"), [
    ({"cutoff": {"name": "slots", "slots": 3}}, network_pb2.CutoffSpec(policy="slots", slots=3), None),
    ({"cutoff": {"name": "fidelity", "min_fidelity": 0.8, "max_time": 2.0}},
     network_pb2.CutoffSpec(policy="fidelity", min_fidelity=0.8, max_time=2.0), None),
    ({"purification": {"name": "bbpssw_pumping", "target_fidelity": 0.97, "scope": "end_to_end", "max_rounds": 4}},
     network_pb2.CutoffSpec(policy="none"),
     network_pb2.PurificationSpec(policy="bbpssw_pumping", scope=network_pb2.PURIFY_END_TO_END,
                                  target_fidelity=0.97, max_rounds=4)),
])
def test_path_setup_carries_each_policy_as_fields_not_a_string_to_parse(policies, cutoff, purification):
    """The cut-off and purification policies travel as structured messages (a registered name and
    the policy's parameters), which the decoder checks field by field."""
    msg = setup_from(policies)
    assert msg.cutoff == cutoff
    assert (msg.purification if msg.HasField("purification") else None) == purification


def test_every_node_asks_its_link_layer_at_the_flows_priority():
    """Priority decides which request a link's positions serve first: it must reach each link."""
    rt, link, _ = node("r")
    rt.deliver("a", setup_from({}, priority=3))
    rt.deliver("b", network_pb2.PathSetupAck(flow_id=rt.take_sent()[0].message.flow_id, accepted=True))
    (create,) = link.creates
    assert create.remote == "b" and create.priority == 3


@pytest.mark.parametrize(("head", "here", "words"), [
    ({"cutoff": {"name": "fixed", "time": 0.01}}, {}, "cut-off policy 'none'"),
    ({"cutoff": {"name": "fixed", "time": 0.01}}, {"cutoff": {"name": "fixed", "time": 0.02}}, "(0.02 s)"),
    ({"purification": {"name": "dejmps", "target_fidelity": 0.95}}, {}, "purification 'none'"),
    ({"swapping": "nested"}, {}, "swap policy 'asap'"),
])
def test_a_node_running_other_policies_refuses_the_flow_naming_both(head, here, words):
    rt, link, net = node("r", here)
    rt.deliver("a", setup_from(head))
    (ack,) = rt.take_sent()
    assert ack.peer == "a" and not ack.message.accepted
    assert ack.message.reason.startswith("node r runs ") and words in ack.message.reason
    assert net.flows == {} and link.creates == []


def test_the_same_policies_are_accepted_and_forwarded():
    policies = {"cutoff": {"name": "fixed", "time": 0.01}, "purification": {"name": "dejmps", "target_fidelity": 0.9}}
    rt, _, net = node("r", policies)
    msg = setup_from(policies)
    rt.deliver("a", msg)
    (fwd,) = rt.take_sent()
    assert fwd.peer == "b" and fwd.message == msg and list(net.flows) == [msg.flow_id]


def test_a_failed_flow_reaches_the_head_s_upper_layer_once():
    """The deadline passes before the path is up: the head records one NetFail, tells its upper
    layer once and tears the flow down (a PathTeardown to its neighbour)."""
    upper = Collector()
    rt, _, net = node("a", upper=upper)
    fid = net.request(NetRequest("a", "b", pairs=1, deadline=0.5))
    rt.take_sent()
    rt.advance(1.0)
    assert [(f.flow_id, f.reason) for f in upper.failed] == [(fid, "deadline reached")]
    assert [type(s.message) for s in rt.take_sent()] == [network_pb2.PathTeardown]
    assert fid not in net.flows
