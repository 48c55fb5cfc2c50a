"""Tutorial: your own link-generation scheme.

The link layer asks its link's scheme (`qstack.physical.station.LINK_SCHEMES`) for the physics
of each request: ``model(hw, min_fidelity)`` gets the link's ``LinkHardware`` (arm
efficiencies η_a, η_b = emission × fibre × detector, dark counts, phase noise, attempt period)
and returns a ``HeraldingModel`` — or None when the fidelity asked for is out of reach, which
the link layer answers with ``ERR UNSUPPORTED`` before any attempt.

``FixedAlpha`` is single-click heralding at a fixed bright-state population α (the built-in
picks the largest α that meets the request instead). Single click heralds Ψ± with fidelity
F = (1 − α)/(1 − αη/2) at success probability p ≈ 2αη per attempt (η = η_a = η_b); each pair
costs a geometric number of attempts with mean 1/p.

Run: ``python examples/tutorials/link_scheme.py`` — prints the model's F and p and what a
two-node link delivered: every pair's fidelity (ideal memories) and attempts per pair.
"""

from __future__ import annotations

from qstack.network import build_network
from qstack.physical.heralding import HeraldingModel
from qstack.physical.station import LINK_SCHEMES
from qstack.scenario import linear_chain, load_scenario


@LINK_SCHEMES.register("fixed_alpha")
class FixedAlpha:
    """Single click with bright-state population ``alpha`` for every request."""

    name = "fixed_alpha"

    def __init__(self, alpha: float = 0.1) -> None:
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        self.alpha = alpha

    def model(self, hw, min_fidelity: float):
        m = HeraldingModel("single_click", hw.eta_a, hw.eta_b, hw.p_dark, self.alpha, hw.phase_std, hw.cycle_time)
        return m if m.fidelity >= min_fidelity else None


def run(alpha: float = 0.1, duration: str = "0.1 s"):
    """A 10 km two-node link using the scheme (selected by name in the scenario's link table)."""
    sc = load_scenario(linear_chain(2, "10 km", seed=2, duration=duration, t2="inf", raw_fidelity=1.0,
                                    link={"scheme": {"name": "fixed_alpha", "alpha": alpha}}))
    net = build_network(sc)
    records = net.pair_records()
    net.sim.run(until=sc.simulation.duration)
    link = net.links["n0-n1"]
    model = link.end.scheme.model(link.end.hardware, 0.0)
    return model, link.end.hardware, records.rows, link.attempts, link.pairs_generated


if __name__ == "__main__":
    model, hw, rows, attempts, pairs = run()
    print(f"eta per arm {hw.eta_a:.4f}; model: F = {model.fidelity:.9f}, p = {model.success_probability:.6f}")
    print(f"delivered {len(rows)} pairs, fidelity min {min(r['fidelity'] for r in rows):.9f} "
          f"max {max(r['fidelity'] for r in rows):.9f}")
    print(f"attempts per heralded pair {attempts / pairs:.2f} (1/p = {1 / model.success_probability:.2f})")
