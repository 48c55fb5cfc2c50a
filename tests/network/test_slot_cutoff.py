"""Memory cut-offs counted in attempt slots reproduce the slotted repeater-chain model.

Two segments (N = 3), one position per link end, the slotted attempt clock (emissions on the
grid k·c), heralds and messages far shorter than a slot, per-slot success p = 0.3: a pair stored
at the repeater waits at most t* more attempts of the other link (``cutoff = { name = "slots",
slots = t* }``), a swap succeeds with probability a. The slots until the first successful swap
then have the mean of the Markov chain of Brand, Coopmans & Elkouss (IEEE JSAC 38, 619 (2020)),
:func:`qstack.network.analysis.two_segment_waiting_time` — which reduces to 1/(a p²) for t* = 0
and (3 − 2p)/(a p(2 − p)) without a cut-off (Shchukin, Rozpędek & Wehner 2019).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_network_helpers import chain

from qstack.network import CUTOFF
from qstack.network.analysis import two_segment_waiting_time
from qstack.network.protocol import SwapEvent

P = 0.3
D_ARM = 5e-7


def _first_success_slots(seed: int, slots: int, a: float) -> int:
    events: list[SwapEvent] = []
    extra = {} if a == 1.0 else {"bsm_success_probability": a}
    net = chain(3, seed=seed, memory_positions=1, attempt_rate=1e3, emission_efficiency=math.sqrt(0.6),
                detector_efficiency=1.0, t2="inf", duration=2.0, cutoff={"name": "slots", "slots": slots},
                link={"classical_delay_per_km": 1e-6, "length": "1 km"}, **extra)

    def seen(ev):
        events.append(ev)
        if ev.outcome >= 0:
            net.sim.stop()

    net.recorder.subscribe(SwapEvent, seen)
    net.sim.run(until=2.0)
    model = net.links["n0-n1"].base_model
    assert model.success_probability == pytest.approx(P, abs=1e-12) and model.cycle_time == pytest.approx(1e-3)
    s = events[-1].time - 2 * D_ARM
    m = round(s / 1e-3)
    assert events[-1].outcome >= 0 and s == pytest.approx(m * 1e-3, abs=1e-12)
    return m


@pytest.mark.parametrize("slots, a", [(0, 1.0), (1, 1.0), (3, 1.0), (2, 0.5)])
def test_slots_until_the_first_swap_match_the_slotted_markov_chain(slots, a):
    """Over 500 seeds the mean number of slots to the first successful swap equals
    ``two_segment_waiting_time(p, t*, a)`` within 4 SE, and the same chain without a cut-off
    gives a different mean (the cut-off is felt)."""
    m = np.array([_first_success_slots(seed, slots, a) for seed in range(500)])
    expected = two_segment_waiting_time(P, slots, a)
    se = m.std(ddof=1) / math.sqrt(len(m))
    assert abs(m.mean() - expected) < 4 * se, (m.mean(), expected, se)
    assert abs(two_segment_waiting_time(P, None, a) - expected) > 2 * se


def test_the_markov_chain_reduces_to_the_known_limits():
    """t* = 0: only pairs heralded in the same slot are swapped, 1/(a p²); t* → ∞: the cut-off
    never fires, (3 − 2p)/(a p(2 − p)); a longer cut-off never waits longer."""
    for p, a in ((0.3, 1.0), (0.1, 0.5), (0.8, 0.9)):
        assert two_segment_waiting_time(p, 0, a) == pytest.approx(1 / (a * p * p), rel=1e-12)
        assert two_segment_waiting_time(p, 2000, a) == pytest.approx((3 - 2 * p) / (a * p * (2 - p)), rel=1e-9)
        times = [two_segment_waiting_time(p, t, a) for t in range(8)]
        assert all(x >= y for x, y in zip(times, times[1:], strict=False))


def test_a_slot_cutoff_needs_a_whole_number_of_slots():
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="slots must be an integer >= 0"):
            CUTOFF.create({"name": "slots", "slots": bad})
