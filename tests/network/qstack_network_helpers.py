"""Shared set-up for the link- and network-layer tests.

The chains used here are short (2 km links without attenuation) with an explicit classical
delay per km, so that every timing in the protocol is a simple multiple of two constants:

* ``d``: the arm delay node ↔ heralding station (the station sits in the middle of the link),
  ``d = classical_delay_per_km · (length/2)``; the photon reaches the station ``d`` after
  emission and the herald reaches each end another ``d`` later;
* ``D``: the classical node ↔ node delay of one link, ``D = d_A + d_B = 2d``.
"""

from __future__ import annotations

from qstack.network import build_network
from qstack.scenario import linear_chain, load_scenario

LINK_KM = 2.0
PER_KM = 1e-4  # s per km
ARM = PER_KM * LINK_KM / 2  # d
HOP = 2 * ARM  # D


def chain_dict(n: int, *, link: dict | None = None, **kw):
    """A ``linear_chain`` scenario dict with the short test links (see the module docstring)."""
    lk = {"classical_delay_per_km": PER_KM, "attenuation": 0.0}
    lk.update(link or {})
    kw.setdefault("duration", 0.03)
    return linear_chain(n, f"{LINK_KM} km", link=lk, **kw)


def chain(n: int, **kw):
    """Build (without running) the network of :func:`chain_dict`."""
    return build_network(load_scenario(chain_dict(n, **kw)))


def run(net, until: float | None = None):
    """Run ``net`` up to ``until`` (default: the scenario's duration) and return its flow 1."""
    net.sim.run(until=net.scenario.simulation.duration if until is None else until)
    return net.flows[1]
