"""The network layer: topology, routing, path set-up, swapping, cut-offs and scenario runs.

After Kozlowski, Dahlberg & Wehner, "Designing a quantum network protocol", CoNEXT 2020. The
service interface is :mod:`qstack.network.service`, the per-node protocol
:class:`~qstack.network.protocol.NetworkLayer`, its plug-in policies
:mod:`qstack.network.policies`; :class:`QuantumNetwork` wires a scenario's stacks on the
simulation runtime.
"""

from .network import ROUTING_POLICIES, Delivery, FlowResult, PairSink, QuantumNetwork, register_routing_policy
from .policies import CUTOFF, PURIFICATION, ROUTING, SWAPPING, nested_targets
from .protocol import Flow, NetworkLayer, Pair, SwapView
from .runner import build_network, run_scenario
from .service import FlowInfo, NetDeliver, NetExpire, NetFail, NetRequest, NetworkUser
from .topology import Topology

__all__ = [
    "CUTOFF", "PURIFICATION", "ROUTING", "ROUTING_POLICIES", "SWAPPING",
    "Delivery", "Flow", "FlowInfo", "FlowResult", "NetDeliver", "NetExpire", "NetFail", "NetRequest",
    "NetworkLayer", "NetworkUser", "Pair", "PairSink", "QuantumNetwork", "SwapView", "Topology",
    "build_network", "nested_targets", "register_routing_policy", "run_scenario",
]
