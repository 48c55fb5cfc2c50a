"""Timing of the link and network protocols against renewal theory and order statistics.

The protocol on one link (``qstack.link.protocol``, ``qstack.physical.station`` and
``qstack.network.protocol``), with arm delay
``d`` (node ↔ station), classical node ↔ node delay ``D`` and attempt cycle
``c = max(2d, 1/attempt_rate)``: a position pair starts attempting when both its positions are
free; the successful attempt (the n-th, n ~ Geometric(p)) emits at ``t0 + (n−1)c``; the station
heralds ``d`` later and the herald reaches both ends after another ``d``. On a 2-node chain
the head then sends a TRACK (arrives at the tail after ``D``); the tail delivers and frees its
position, and its EndToEndConfirm reaches the head ``D`` later, which frees its position; the
position pair restarts at once. So one cycle of a position pair lasts
``T = (n−1)c + 2d + 2D`` and the K position pairs are K independent renewal processes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_network_helpers import ARM, HOP, chain

from qstack.network.protocol import SwapEvent


def _cycle(net) -> tuple[float, float]:
    model = net.links["n0-n1"].base_model
    return model.cycle_time, model.success_probability


def test_single_position_pair_cycle_is_emission_slots_plus_two_heralds_and_two_messages():
    """K = 1: delivery k happens at e_k + 2d + D (e_k its emission time), the position pair
    restarts at e_k + 2d + 2D, so the gap between consecutive deliveries minus (2d + 2D) is a
    whole number (n−1 ≥ 0) of attempt cycles c, and every value 0, 1, 2, … occurs. The first
    attempt starts when the CreateAck reaches the head, after PathSetup, PathSetupAck,
    CreateRequest and CreateAck (4D), so the first delivery is at 4D + (n−1)c + 2d + D."""
    net = chain(2, seed=3, memory_positions=1, t2="inf", attempt_rate=2e3, duration=0.3)
    net.sim.run(until=0.3)
    c, p = _cycle(net)
    assert c == pytest.approx(5e-4, abs=1e-15) and c > 2 * ARM
    times = np.array([d.time for d in net.flows[1].deliveries])
    assert len(times) > 50
    slots = (np.diff(times) - 2 * ARM - 2 * HOP) / c
    np.testing.assert_allclose(slots, np.round(slots), atol=1e-6)
    assert slots.min() == pytest.approx(0, abs=1e-6)
    first = (times[0] - 4 * HOP - 2 * ARM - HOP) / c
    assert first == pytest.approx(round(first), abs=1e-6) and first > -1e-6
    # Geometric slots: the mean of n − 1 is (1 − p)/p, within 4 SE (SE = √(1−p)/p/√m).
    m = len(slots)
    assert abs(slots.mean() - (1 - p) / p) < 4 * math.sqrt(1 - p) / p / math.sqrt(m)


def test_single_link_rate_is_k_over_mean_renewal_cycle():
    """K position pairs, long run: deliveries per second → K/E[T] with
    E[T] = (1/p − 1)c + 2d + 2D (renewal theorem). The count of K independent renewal
    processes over a window τ has variance ≈ K·τ·Var(T)/E[T]³ with Var(T) = c²(1−p)/p²;
    the measured count must lie within 4 of these standard errors. Counting only after a
    warm-up of 0.2 s removes the start-up transient (set-up handshake, synchronised first
    attempts)."""
    k, duration, warm = 3, 6.0, 0.2
    # 2 km at 2.5e-4 s/km: d = 2.5e-4 s, D = 5e-4 s, c = max(2d, 1/2 kHz) = 5e-4 s.
    net = chain(
        2,
        seed=17,
        memory_positions=k,
        t2="inf",
        attempt_rate=2e3,
        duration=duration,
        link={"classical_delay_per_km": 2.5e-4},
    )
    d_arm, d_hop = 2.5e-4, 5e-4
    assert net.links["n0-n1"].delay_a == pytest.approx(d_arm, abs=1e-15)
    net.sim.run(until=duration)
    c, p = _cycle(net)
    assert c == pytest.approx(5e-4, abs=1e-15)
    mean_t = (1 / p - 1) * c + 2 * d_arm + 2 * d_hop
    var_t = c * c * (1 - p) / p**2
    tau = duration - warm
    expected = k * tau / mean_t
    se = math.sqrt(k * tau * var_t / mean_t**3)
    count = sum(1 for d in net.flows[1].deliveries if d.time > warm)
    assert abs(count - expected) < 4 * se, (count, expected, se)
    # The test can tell: dropping one classical delay D from the cycle is > 10 SE away.
    assert abs(k * tau / (mean_t - d_hop) - expected) > 10 * se


def test_two_segment_swap_asap_waits_for_the_slower_link(monkeypatch):
    """N = 3, one position per link end, swap-ASAP: the repeater swaps as soon as it holds a
    pair from each link, i.e. 2d after the later of the two emissions. Link n1–n2 starts
    attempting at 5D and link n0–n1 at 6D (the CreateAcks of the set-up), both with cycle c
    and success probability p, so the swap happens at s = max(6D + (G₁−1)c, 5D + (G₂−1)c) + 2d
    with G₁, G₂ ~ Geometric(p). With D ≪ c the number of slots M = max(G₁, G₂) is read off s
    exactly, and its mean is (3 − 2p)/(p(2 − p)) (REFERENCES.md: two-segment waiting time).
    Checked over 600 seeds within 4 SE."""
    swaps: list[float] = []
    # 1 km at 1e-6 s/km: d = 5e-7 s, D = 1e-6 s; attempt rate 1 kHz: c = 1 ms ≫ 6D.
    # Double click, no loss in fibre, η = emission efficiency ≈ 0.7746: p = η²/2 = 0.3.
    d_arm, d_hop = 5e-7, 1e-6
    slots = []
    p = c = None
    for seed in range(600):
        swaps.clear()
        net = chain(
            3,
            seed=seed,
            memory_positions=1,
            t2="inf",
            attempt_rate=1e3,
            detector_efficiency=1.0,
            emission_efficiency=math.sqrt(0.6),
            duration=1.0,
            link={"classical_delay_per_km": 1e-6, "length": "1 km"},
        )
        net.recorder.subscribe(SwapEvent, lambda ev, net=net: (swaps.append(ev.time), net.sim.stop()))
        net.sim.run(until=1.0)
        c, p = _cycle(net)
        assert len(swaps) == 1
        s = swaps[0] - 2 * d_arm
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
