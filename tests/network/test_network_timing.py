"""Timing of the link and network protocols against renewal theory and order statistics.

The protocol on one link (``qstack.link.protocol``, ``qstack.physical.station`` and
``qstack.network.protocol``), with arm delay ``d`` (node ↔ station), classical node ↔ node
delay ``D`` and attempt cycle ``c = max(2d, 1/attempt_rate)``: a position pair attempts when
both its positions are free; the successful attempt (the n-th, n ~ Geometric(p)) emits at
``e``; the station heralds ``d`` later and the herald reaches both ends after another ``d``. On
a 2-node chain the head then sends a TRACK (arrives at the tail after ``D``); the tail delivers
and frees its position, and its EndToEndConfirm reaches the head ``D`` later, which frees its
position: the pair is free ``x = 2d + 2D`` after ``e``. Its memories may not emit again before
``e + c`` (no memory attempts faster than its attempt rate), so the next first attempt is

* slotted clock (default; emissions on the grid ``k·c``, as in the slotted repeater-chain
  models): at ``e + c·max(1, ⌈x/c⌉)``;
* free clock: at ``e + max(x, c)``.

So one cycle of a position pair lasts ``T = a + (n−1)c`` with ``a`` the restart offset above,
and the K position pairs are K independent renewal processes (``E[T] = a + (1/p − 1)c``,
``Var T = c²(1 − p)/p²``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_network_helpers import ARM, HOP, chain

from qstack.network.protocol import SwapEvent
from qstack.network.runner import run_scenario
from qstack.scenario import linear_chain, load_scenario


def _cycle(net) -> tuple[float, float]:
    model = net.links["n0-n1"].base_model
    return model.cycle_time, model.success_probability


def _restart(clock: str, x: float, c: float) -> float:
    """Time from a successful emission to the position pair's next first attempt."""
    return c * max(1, math.ceil(x / c - 1e-9)) if clock == "slotted" else max(x, c)


@pytest.mark.parametrize("clock", ["slotted", "free"])
def test_single_position_pair_cycle_is_the_restart_offset_plus_whole_attempt_cycles(clock):
    """K = 1: delivery k happens at e_k + 2d + D (e_k its emission time). Here x = 2d + 2D = 1.2c,
    so the next first attempt is 2c after e_k slotted and 1.2c free: the gap between
    consecutive deliveries minus that offset is a whole number (n−1 ≥ 0) of attempt cycles c,
    every value 0, 1, 2, … occurs, and the mean of n − 1 is (1 − p)/p. Slotted, every emission
    lies on the grid k·c; free, the first attempt starts when the CreateAck reaches the head,
    after PathSetup, PathSetupAck, CreateRequest and CreateAck (4D)."""
    net = chain(2, seed=3, memory_positions=1, t2="inf", attempt_rate=2e3, duration=0.3,
                link={"attempt_clock": clock})
    net.sim.run(until=0.3)
    c, p = _cycle(net)
    assert c == pytest.approx(5e-4, abs=1e-15) and c > 2 * ARM
    x = 2 * ARM + 2 * HOP
    offset = _restart(clock, x, c)
    assert offset == pytest.approx(2 * c if clock == "slotted" else 1.2 * c, abs=1e-15)
    times = np.array([d.time for d in net.flows[1].deliveries])
    assert len(times) > 50
    slots = (np.diff(times) - offset) / c
    np.testing.assert_allclose(slots, np.round(slots), atol=1e-6)
    assert slots.min() == pytest.approx(0, abs=1e-6)
    emissions = (times - 2 * ARM - HOP) / c
    if clock == "slotted":
        np.testing.assert_allclose(emissions, np.round(emissions), atol=1e-6)
    else:
        first = emissions[0] - 4 * HOP / c
        assert first == pytest.approx(round(first), abs=1e-6) and first > -1e-6
    # Geometric slots: the mean of n − 1 is (1 − p)/p, within 4 SE (SE = √(1−p)/p/√m).
    m = len(slots)
    assert abs(slots.mean() - (1 - p) / p) < 4 * math.sqrt(1 - p) / p / math.sqrt(m)


@pytest.mark.parametrize("clock", ["slotted", "free"])
def test_single_link_rate_is_k_over_mean_renewal_cycle(clock):
    """K position pairs, long run: deliveries per second → K/E[T] with
    E[T] = a + (1/p − 1)c (renewal theorem; a the restart offset of the module docstring). The
    count of K independent renewal processes over a window τ has variance ≈ K·τ·Var(T)/E[T]³
    with Var(T) = c²(1−p)/p²; the measured count must lie within 4 of these standard errors.
    Here x = 2d + 2D = 2.4c, so a = 3c slotted and 2.4c free, and the other clock's rate is more
    than 6 SE away. Counting only after a warm-up of 0.2 s removes the start-up transient."""
    k, duration, warm = 3, 6.0, 0.2
    # 2 km at 2e-4 s/km: d = 2e-4 s, D = 4e-4 s, c = max(2d, 1/2 kHz) = 5e-4 s.
    net = chain(2, seed=17, memory_positions=k, t2="inf", attempt_rate=2e3, duration=duration,
                link={"classical_delay_per_km": 2e-4, "attempt_clock": clock})
    d_arm, d_hop = 2e-4, 4e-4
    assert net.links["n0-n1"].delay_a == pytest.approx(d_arm, abs=1e-15)
    net.sim.run(until=duration)
    c, p = _cycle(net)
    assert c == pytest.approx(5e-4, abs=1e-15)

    def rate(which: str) -> float:
        return k * tau / (_restart(which, 2 * d_arm + 2 * d_hop, c) + (1 / p - 1) * c)

    tau = duration - warm
    mean_t = _restart(clock, 2 * d_arm + 2 * d_hop, c) + (1 / p - 1) * c
    var_t = c * c * (1 - p) / p**2
    expected = rate(clock)
    se = math.sqrt(k * tau * var_t / mean_t**3)
    count = sum(1 for d in net.flows[1].deliveries if d.time > warm)
    assert abs(count - expected) < 4 * se, (count, expected, se)
    assert abs(rate("free" if clock == "slotted" else "slotted") - expected) > 6 * se


@pytest.mark.parametrize("clock", ["slotted", "free"])
def test_a_memory_never_attempts_faster_than_its_attempt_rate(clock):
    """A zero-length link whose attempts succeed with p = η²/2 = 1/2 (double click, perfect
    emission and detectors) at 1 attempt per second, one position pair: heralds, TRACK and
    Confirm take no time, so the pair is free at its emission instant; it may emit again only
    one cycle later, so deliveries form a renewal process with E[T] = c/p = 2 s and
    Var T = c²(1 − p)/p² = 2 s² — the physical ceiling p·R = 0.5 pairs/s. Restarting at once
    (the attempt clock ignored) would give ~1 pair/s, more than 10 SE away."""
    duration = 800.0
    d = linear_chain(2, link_length=0.0, seed=4, duration=duration, memory_positions=1, attempt_rate="1 Hz",
                     emission_efficiency=1.0, detector_efficiency=1.0, t2="inf", link={"attempt_clock": clock})
    r = run_scenario(load_scenario(d))
    p, c = 0.5, 1.0
    mean_t, var_t = c / p, c * c * (1 - p) / p**2
    expected = duration / mean_t
    se = math.sqrt(duration * var_t / mean_t**3)
    assert abs(r["delivered_pairs"] - expected) < 4 * se, (r["delivered_pairs"], expected, se)
    assert abs(duration / c - expected) > 10 * se  # one pair per attempt slot: the bug's figure


@pytest.mark.parametrize("clock", ["slotted", "free"])
def test_two_segment_swap_asap_waits_for_the_slower_link(clock):
    """N = 3, one position per link end, swap-ASAP: the repeater swaps as soon as it holds a
    pair from each link, i.e. 2d after the later of the two emissions. Link n1–n2 can start
    attempting at 5D and link n0–n1 at 6D (the CreateAcks of the set-up), both with cycle c and
    success probability p. Slotted, both first attempt in slot 1 (t = c, as 6D < c), so the swap
    happens at s = M·c + 2d with M = max(G₁, G₂), G ~ Geometric(p) — the slotted two-segment
    waiting time, mean (3 − 2p)/(p(2 − p)) (REFERENCES.md). Free, they start at once:
    s = max(6D + (G₁−1)c, 5D + (G₂−1)c) + 2d, and with D ≪ c, M is read off s. Over 600 seeds
    within 4 SE."""
    swaps: list[float] = []
    # 1 km at 1e-6 s/km: d = 5e-7 s, D = 1e-6 s; attempt rate 1 kHz: c = 1 ms ≫ 6D.
    # Double click, no loss in fibre, η = emission efficiency ≈ 0.7746: p = η²/2 = 0.3.
    d_arm, d_hop = 5e-7, 1e-6
    slots = []
    p = c = None
    for seed in range(600):
        swaps.clear()
        net = chain(3, seed=seed, memory_positions=1, t2="inf", attempt_rate=1e3, detector_efficiency=1.0,
                    emission_efficiency=math.sqrt(0.6), duration=1.0,
                    link={"classical_delay_per_km": 1e-6, "length": "1 km", "attempt_clock": clock})
        net.recorder.subscribe(SwapEvent, lambda ev, net=net: (swaps.append(ev.time), net.sim.stop()))
        net.sim.run(until=1.0)
        c, p = _cycle(net)
        assert len(swaps) == 1
        s = swaps[0] - 2 * d_arm
        if clock == "slotted":
            m = round(s / c)
            assert s == pytest.approx(m * c, abs=1e-12)
        else:
            m = round(s / c) + 1
            offset = s - (m - 1) * c
            assert offset == pytest.approx(5 * d_hop, abs=1e-12) or offset == pytest.approx(6 * d_hop, abs=1e-12)
        slots.append(m)
    assert p == pytest.approx(0.3, abs=1e-12) and c == pytest.approx(1e-3, abs=1e-15)
    slots = np.array(slots)
    expected = (3 - 2 * p) / (p * (2 - p))
    se = slots.std(ddof=1) / math.sqrt(len(slots))
    assert abs(slots.mean() - expected) < 4 * se, (slots.mean(), expected, se)
    # Discriminating: a single link's mean 1/p is many SE away.
    assert abs(1 / p - expected) > 8 * se
