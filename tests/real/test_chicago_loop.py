"""examples/real/chicago_loop: the Argonne–UChicago 52-mile loop's fibre link budget.

Only the lengths are published (two connected 26-mile loops, 52 miles; a 59 km Fermilab–Argonne
fibre pair), so the example's figures are the fibre model's closed forms at an assumed
attenuation, checked here to 1e-12: 26 mi = 41.842944 km (1 mi = 1609.344 m), η = 10^{−αL/10},
delay L·n/c, a coincidence of a pair sent round the two loops needs both photons (η²), and the
PLOB bound −log2(1 − η).
"""

from __future__ import annotations

import math

import pytest

from qstack.physical.units import SPEED_OF_LIGHT

EXAMPLE = "chicago_loop"


def _close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-12, abs=0.0)


def test_published_lengths_convert_exactly(run):
    """Two 26-mile loops are the published 52 miles: 83.685888 km."""
    b = run.compute()["assumed"]
    assert run.INPUTS["loops"] * run.INPUTS["loop_miles"] == run.PUBLISHED["total_miles"]
    assert _close(b["loop_km"], 41.842944)
    assert _close(b["total_km"], 83.685888)


@pytest.mark.parametrize("which, alpha", [("assumed", 0.2), ("pessimistic", 0.3)])
def test_loop_budget_is_the_fibre_closed_form(run, which, alpha):
    """At α dB/km: loss αL, η = 10^{−αL/10}, pair coincidences η_loop², delay L·1.44/c,
    PLOB −log2(1 − η) — 8.37 dB per loop and 16.74 dB for the 52 miles at 0.2 dB/km."""
    b = run.compute()[which]
    loop_km = 26 * 1.609344
    assert b["attenuation_db_per_km"] == alpha
    assert _close(b["loop_loss_db"], alpha * loop_km)
    assert _close(b["total_loss_db"], 2 * alpha * loop_km)
    assert _close(b["loop_transmissivity"], 10 ** (-alpha * loop_km / 10))
    assert _close(b["pair_coincidence_transmissivity"], 10 ** (-2 * alpha * loop_km / 10))
    assert _close(b["pair_coincidence_transmissivity"], b["total_transmissivity"])
    assert _close(b["loop_delay_s"], loop_km * 1e3 * 1.44 / SPEED_OF_LIGHT)
    assert _close(b["plob_loop"], -math.log2(1 - 10 ** (-alpha * loop_km / 10)))
    assert _close(b["plob_total"], -math.log2(1 - 10 ** (-2 * alpha * loop_km / 10)))
    assert _close(b["argonne_fermilab_loss_db"], alpha * 59.0)


def test_readme_rounded_figures(run):
    """The README table's rounded values at 0.2 dB/km."""
    b = run.compute()["assumed"]
    assert (round(b["loop_loss_db"], 2), round(b["total_loss_db"], 2)) == (8.37, 16.74)
    assert round(b["loop_delay_s"] * 1e6, 1) == 201.0
    assert round(b["pair_coincidence_transmissivity"], 4) == 0.0212
