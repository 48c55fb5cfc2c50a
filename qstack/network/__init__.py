"""The network layer: topology, routing, path set-up, swapping, cut-offs and scenario runs.

After Kozlowski, Dahlberg & Wehner, "Designing a quantum network protocol", CoNEXT 2020.
"""

from .network import ROUTING_POLICIES, FlowResult, QuantumNetwork, register_routing_policy
from .node import Delivery, Flow, QuantumNode, nested_targets
from .runner import build_network, run_scenario

__all__ = [
    "ROUTING_POLICIES",
    "Delivery",
    "Flow",
    "FlowResult",
    "QuantumNetwork",
    "QuantumNode",
    "build_network",
    "nested_targets",
    "register_routing_policy",
    "run_scenario",
]
