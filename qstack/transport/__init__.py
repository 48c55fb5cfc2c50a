"""The transport layer: EPR sockets (NetQASM's vocabulary) and teleportation, one layer per node."""

from .sockets import AppQubit, EPRMismatch, EPRSocket, PairInfo, TransportLayer, discard_app_qubit

__all__ = ["AppQubit", "EPRMismatch", "EPRSocket", "PairInfo", "TransportLayer", "discard_app_qubit"]
