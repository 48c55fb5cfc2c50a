"""The transport layer: EPR sockets (NetQASM vocabulary) and qubit delivery by teleportation."""

from .sockets import AppQubit, EPRSocket, Transport, discard_app_qubit

__all__ = ["AppQubit", "EPRSocket", "Transport", "discard_app_qubit"]
