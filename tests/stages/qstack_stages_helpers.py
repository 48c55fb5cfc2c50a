"""Scenario dicts for the stage tests.

Links default to the SeQUeNCe-like ones of :func:`qstack.scenario.linear_chain` (10 km,
Barrett–Kok, starlight hardware with T2 = 1.3 s). Where a test needs round numbers the links
get an explicit classical delay of 5 µs per km, so a 10 km link has a one-way delay of 50 µs
and a round trip of exactly ``LINK_RTT`` = 100 µs.
"""

from __future__ import annotations

import copy
from typing import Any

from qstack.scenario import STARLIGHT_HARDWARE, linear_chain, load_scenario

PER_KM = "5 us"
LINK_RTT = 100e-6  # s: round trip of one 10 km link at 5 µs/km


def with_profiles(
    scenario: dict[str, Any], *, end: dict[str, Any] | None = None, repeater: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``scenario`` with end nodes (and/or repeaters) on their own hardware profile: the default
    profile updated with ``end`` (``repeater``)."""
    scenario = copy.deepcopy(scenario)
    base = scenario["hardware"]["default"]
    for role, overrides in (("end", end), ("repeater", repeater)):
        if overrides is None:
            continue
        scenario["hardware"][role] = {**base, **overrides}
        for node in scenario["nodes"]:
            if node["role"] == role:
                node["hardware"] = role
    load_scenario(scenario)
    return scenario


def timed_chain(n: int, **kw: Any) -> dict[str, Any]:
    """A chain of ``n`` nodes, 10 km links with round trips of exactly ``LINK_RTT``."""
    return linear_chain(n, "10 km", link={"classical_delay_per_km": PER_KM}, **kw)


def network(nodes: dict[str, str], links: list[tuple[str, str]], *, hardware: dict[str, dict[str, Any]] | None = None,
            node_hardware: dict[str, str] | None = None, request: tuple[str, str] | None = None) -> dict[str, Any]:
    """A hand-written scenario: ``nodes`` maps name → role, ``links`` are 10 km links at 5 µs/km,
    ``hardware`` extra profiles (each starting from the starlight profile), ``node_hardware`` maps
    node → profile name. One request joins ``request`` (default: the first two end nodes)."""
    profiles = {"default": dict(STARLIGHT_HARDWARE)}
    for name, overrides in (hardware or {}).items():
        profiles[name] = {**STARLIGHT_HARDWARE, **overrides}
    ends = [name for name, role in nodes.items() if role == "end"]
    source, destination = request or (ends[0], ends[1])
    scenario = {
        "simulation": {"seed": 1, "duration": 0.1, "name": "hand"},
        "hardware": profiles,
        "nodes": [
            {"name": name, "role": role, "hardware": (node_hardware or {}).get(name, "default")}
            for name, role in nodes.items()
        ],
        "links": [{"a": a, "b": b, "length": "10 km", "classical_delay_per_km": PER_KM} for a, b in links],
        "requests": [{"source": source, "destination": destination}],
    }
    load_scenario(scenario)
    return scenario
