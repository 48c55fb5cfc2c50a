"""The Argonne–UChicago 52-mile "quantum loop" (2020): the fibre link budget from what is verified.

What could be verified (README.md lists the sources and what could not be found): the loop is a
pair of connected 26-mile fibre cables, 52 miles in all; entangled photon pairs (a Qubitekk
source) were sent around the two 26-mile loops and detected on their return, with "a high
signal-to-noise ratio". No loss, rate, fidelity or visibility of that experiment was published
in anything we could read. The one quantitative paper we found on the same Chicago-area fibre is
the Fermilab–Argonne synchronisation experiment (arXiv:2208.01789): two pairs of 59 km deployed
fibre, a coincidence-to-accidental ratio of 51 ± 2 falling to 5.3 ± 0.4 with the O-band clock on.

So this example computes only the link budget, with qstack's fibre model
(:class:`qstack.physical.fibre.Fibre`) and the repeaterless bound
(:func:`qstack.qkd.entropy.plob_bound`), from the verified lengths and an ASSUMED attenuation.
It predicts nothing that was measured, and its test checks the arithmetic against the closed
forms (``η = 10^{−αL/10}``, delay ``L n/c``), not against the experiment.

Run: ``python examples/real/chicago_loop/run.py``
"""

from __future__ import annotations

from typing import Any

from qstack.physical.fibre import Fibre
from qstack.qkd.entropy import plob_bound

#: international mile, exactly (NIST): 1 mi = 1609.344 m
MILE_M = 1609.344

INPUTS = {
    # Argonne/UChicago announcements, 19 Feb 2020 (read in stored copies of the UChicago
    # news page, the Qubitekk release and SciTechDaily's report): "a pair of connected 26-mile
    # fiber-optic cables", "52 total miles"; "distributed across two 26-mile fiber loops".
    "loop_miles": 26.0,
    "loops": 2,
    # arXiv:2208.01789 abstract (checked): "2 pairs of 59 km of deployed fiber between Fermi and
    # Argonne National Laboratories".
    "argonne_fermilab_km": 59.0,
    # ASSUMPTION: 0.2 dB/km, the usual specification of standard single-mode fibre at 1550 nm.
    # The deployed loop's measured loss (splices, connectors, bends) was not published in what
    # we could read; deployed metro fibre is commonly worse, so README also gives 0.3 dB/km.
    "attenuation_db_per_km": 0.2,
    "attenuation_pessimistic_db_per_km": 0.3,   # ASSUMPTION: a pessimistic deployed-fibre figure
    # ASSUMPTION: group index 1.44 (qstack's default, ~2.08e8 m/s in fibre).
    "refractive_index": 1.44,
}

PUBLISHED = {
    "total_miles": 52.0,                 # announcements (checked)
    "car_without_clock": (51.0, 2.0),    # arXiv:2208.01789 abstract (checked), 59 km Fermilab–Argonne
    "car_with_clock": (5.3, 0.4),
}


def budget(attenuation_db_per_km: float | None = None) -> dict[str, Any]:
    """Fibre loss, transmissivity, delay and PLOB bound of one 26-mile loop, of the 52-mile
    total, of a photon pair each photon going round one loop (coincidences: both must arrive),
    and of one 59 km Argonne–Fermilab fibre, at ``attenuation_db_per_km`` (default: the assumed)."""
    c = INPUTS
    alpha = c["attenuation_db_per_km"] if attenuation_db_per_km is None else attenuation_db_per_km
    loop = Fibre(c["loop_miles"] * MILE_M, alpha, c["refractive_index"])
    total = Fibre(c["loops"] * c["loop_miles"] * MILE_M, alpha, c["refractive_index"])
    af = Fibre(c["argonne_fermilab_km"] * 1e3, alpha, c["refractive_index"])
    return {
        "attenuation_db_per_km": alpha,
        "loop_km": loop.length / 1e3,
        "total_km": total.length / 1e3,
        "loop_loss_db": loop.loss_db,
        "loop_transmissivity": loop.transmissivity,
        "loop_delay_s": loop.delay,
        "total_loss_db": total.loss_db,
        "total_transmissivity": total.transmissivity,
        # each photon of a pair round its own loop: a coincidence needs both
        "pair_coincidence_transmissivity": loop.transmissivity ** c["loops"],
        "plob_loop": plob_bound(loop.transmissivity),
        "plob_total": plob_bound(total.transmissivity),
        "argonne_fermilab_loss_db": af.loss_db,
        "argonne_fermilab_delay_s": af.delay,
    }


def compute() -> dict[str, Any]:
    """The link budget at the assumed and at the pessimistic attenuation."""
    return {"assumed": budget(), "pessimistic": budget(INPUTS["attenuation_pessimistic_db_per_km"])}


if __name__ == "__main__":
    fig = compute()
    for label, b in fig.items():
        print(f"{label} ({b['attenuation_db_per_km']} dB/km): loop {b['loop_km']:.3f} km, {b['loop_loss_db']:.2f} dB, "
              f"delay {b['loop_delay_s'] * 1e6:.1f} us; 52 mi = {b['total_km']:.3f} km, {b['total_loss_db']:.2f} dB; "
              f"pair coincidence transmissivity {b['pair_coincidence_transmissivity']:.3e}; "
              f"PLOB loop {b['plob_loop']:.3e}, total {b['plob_total']:.3e}; "
              f"Argonne-Fermilab 59 km {b['argonne_fermilab_loss_db']:.1f} dB")
