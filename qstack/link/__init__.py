"""The link layer: heralded entanglement between neighbours as a service (Dahlberg et al. 2019)."""

from .layer import Link, LinkError, LinkPair, LinkRequest

__all__ = ["Link", "LinkError", "LinkPair", "LinkRequest"]
