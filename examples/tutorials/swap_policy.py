"""Tutorial: your own swap-scheduling policy.

A repeater holding link pairs towards both ends of a flow asks its swap policy which to join
(`qstack.network.policies.SWAPPING`). A policy is any object with ``select(view)`` returning
``(up, down)`` pairs; ``view`` (a ``SwapView``) shows the pairs towards the head (``view.up``)
and the tail (``view.down``), ``view.now``, ``view.estimate(pair)`` and ``view.discard(pair)``
(drop a pair and tell the other end of its link, EXPIRE).

``FreshFirst`` swaps the *youngest* pairs and never one older than ``max_age``: stored pairs
dephase (a Ψ pair whose halves sat t seconds in T2 memories has F = (1 + e^{−2t/T2})/2), so a
policy that refuses old pairs trades rate for fidelity. Registered under a name, it is chosen
like a built-in — ``policies={"swapping": {"name": "fresh_first", "max_age": 1e-3}}`` from
Python, ``swapping = { name = "fresh_first", max_age = 1e-3 }`` in a scenario (after
``import swap_policy``), or ``swapping = "swap_policy:FreshFirst"`` by path.

Run: ``python examples/tutorials/swap_policy.py`` — prints pairs, mean fidelity and the
longest link wait for swap-ASAP and for FreshFirst.
"""

from __future__ import annotations

from qstack.network import run_scenario
from qstack.network.policies import SWAPPING
from qstack.scenario import linear_chain, load_scenario


@SWAPPING.register("fresh_first")
class FreshFirst:
    """Swap the youngest pair towards each side; discard pairs older than ``max_age`` seconds."""

    name = "fresh_first"
    signalling = "track"  # TRACK messages follow the swaps: safe for any selection

    def __init__(self, max_age: float = 1e-3) -> None:
        if not max_age > 0:
            raise ValueError(f"max_age must be > 0 s, got {max_age}")
        self.max_age = max_age

    def select(self, view):
        for side in (view.up, view.down):
            for pair in [p for p in side if view.now - p.created > self.max_age]:
                view.discard(pair)
        if not view.up or not view.down:
            return []
        return [(max(view.up, key=lambda p: p.created), max(view.down, key=lambda p: p.created))]


def scenario():
    return load_scenario(linear_chain(3, "2 km", seed=3, duration="50 ms", t2="5 ms", raw_fidelity=1.0,
                                      link={"attenuation": 0.0, "classical_delay_per_km": 1e-4}))


def compare(max_age: float = 1e-3) -> dict[str, dict[str, float]]:
    out = {}
    for label, policy in (("asap", "asap"), ("fresh_first", {"name": "fresh_first", "max_age": max_age})):
        r = run_scenario(scenario(), policies={"swapping": policy}, record=True)
        waits = [float(w) for row in r["records"] for w in row["link_waits"].split(";")]
        out[label] = {"pairs": r["delivered_pairs"], "fidelity": r["fidelity_mean"], "max_link_wait": max(waits)}
    return out


if __name__ == "__main__":
    for label, row in compare().items():
        print(f"{label:12s} pairs {row['pairs']:5d}  mean fidelity {row['fidelity']:.6f}  "
              f"longest link wait {row['max_link_wait'] * 1e6:.1f} us")
