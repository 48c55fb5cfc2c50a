"""Repeater chains whose Bell-state measurements can fail.

A node's BSM (``[hardware.X] bsm_success_probability = a``, ``bsm_outcomes = "psi"``) heralds
a swap with probability ``a`` (a state-independent loss), and a linear-optics BSM only tells
Ψ⁺ and Ψ⁻ apart (Lütkenhaus, Calsamiglia & Suominen 1999), so on pairs whose inner qubits are
maximally mixed it succeeds with probability exactly ½. A failed swap consumes both pairs; the
repeater tells the far ends of both segments, which free their memories, and the links start
again. With a slotted attempt clock this is the model of Shchukin, Rozpędek & Wehner, PRA 100,
032322 (2019): for two segments with per-slot success p the links need M = max(G₁, G₂) slots
(E[M] = (3 − 2p)/(p(2 − p))), and a swap that succeeds with probability a is retried after a
fresh M, so the slots until the first successful swap have mean E[M]/a.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_network_helpers import chain

from qstack.network import build_network
from qstack.network.protocol import SwapEvent
from qstack.quantum import (
    LINEAR_OPTICS_BSM,
    BellMeasurement,
    create_qubits,
    heralded_swap,
    theory,
    werner,
)
from qstack.quantum.operations import swap_inner
from qstack.scenario import ScenarioError, linear_chain, load_scenario

IDEAL = {"t2": "inf", "detector_efficiency": 1.0}


@pytest.mark.parametrize("bsm", [{"bsm_success_probability": 0.5}, {"bsm_outcomes": "psi"}],
                         ids=["lossy-a-0.5", "linear-optics"])
def test_two_segment_waiting_time_with_swap_success_a_is_e_m_over_a(bsm):
    """N = 3, one position per link end, slotted clock, D ≪ c, p = 0.3 per slot: the slots until
    the first *successful* swap average E[M]/a = (3 − 2p)/(a·p(2 − p)) with a = ½ (a lossy BSM,
    or a linear-optics one on Ψ± link pairs), within 4 SE over 600 seeds; every swap is at a
    whole number of slots plus the herald delay 2d, and failed swaps occurred. A BSM that never
    fails (E[M] alone) is more than 8 SE away."""
    d_arm = 5e-7
    slots, failures = [], 0
    p = c = None
    for seed in range(600):
        events: list[SwapEvent] = []
        net = chain(3, seed=seed, memory_positions=1, attempt_rate=1e3, emission_efficiency=math.sqrt(0.6),
                    duration=1.0, link={"classical_delay_per_km": 1e-6, "length": "1 km"}, **IDEAL, **bsm)

        def seen(ev, net=net, events=events):
            events.append(ev)
            if ev.outcome >= 0:
                net.sim.stop()

        net.recorder.subscribe(SwapEvent, seen)
        net.sim.run(until=1.0)
        model = net.links["n0-n1"].base_model
        c, p = model.cycle_time, model.success_probability
        assert events and events[-1].outcome >= 0
        if "bsm_outcomes" in bsm:
            assert events[-1].outcome in (2, 3)
        failures += sum(ev.outcome < 0 for ev in events)
        s = events[-1].time - 2 * d_arm
        m = round(s / c)
        assert s == pytest.approx(m * c, abs=1e-12)
        slots.append(m)
    assert p == pytest.approx(0.3, abs=1e-12) and c == pytest.approx(1e-3, abs=1e-15)
    slots = np.array(slots)
    e_m = (3 - 2 * p) / (p * (2 - p))
    expected = e_m / 0.5
    se = slots.std(ddof=1) / math.sqrt(len(slots))
    assert abs(slots.mean() - expected) < 4 * se, (slots.mean(), expected, se)
    assert abs(e_m - expected) > 8 * se
    assert failures > 300  # about one failure per success


@pytest.mark.parametrize("swapping, n", [("asap", 3), ("asap", 5), ("nested", 5)])
def test_failed_swaps_leave_the_delivered_pairs_exactly_werner_swapped(swapping, n):
    """Werner links (F = 0.9, no decay): the state given a Ψ± outcome is the same as given any
    outcome, so every pair a linear-optics chain delivers has the fidelity of ideally swapped
    Werner pairs, (1 + 3·w^(N−1))/4 with w = (4F − 1)/3, to 1e-9; half the swaps fail (within
    4 SE), the failed ones are reported with outcome −1, and no node refuses a message while the
    failures' Expire messages free the far memories."""
    events: list[SwapEvent] = []
    d = linear_chain(n, seed=8, duration=0.3, swapping=swapping, raw_fidelity=0.9, bsm_outcomes="psi",
                     **IDEAL)
    net = build_network(load_scenario(d))
    net.recorder.subscribe(SwapEvent, events.append)
    net.sim.run(until=0.3)
    deliveries = net.flows[1].deliveries
    assert len(deliveries) > 20
    expected = theory.werner_swap_fidelity(*[0.9] * (n - 1))
    for dl in deliveries:
        assert dl.fidelity == pytest.approx(expected, abs=1e-9)
    outcomes = np.array([ev.outcome for ev in events])
    assert set(outcomes[outcomes >= 0]) <= {2, 3}
    fail = np.mean(outcomes < 0)
    assert abs(fail - 0.5) < 4 * math.sqrt(0.25 / len(outcomes))
    assert all(st.rejected == {} for st in (rt.stack for rt in net.runtimes.values()))


def test_a_lossy_bsm_keeps_the_chain_running_at_a_lower_rate():
    """Over a longer run a chain with a = 0.5 delivers as many pairs in the second half of the run
    as in the first (within 4 SE: memories freed after failures are reused, no position leaks),
    and fewer than the same chain with a = 1."""
    def deliveries(**kw):
        net = build_network(load_scenario(linear_chain(4, seed=3, duration=1.0, **IDEAL, **kw)))
        net.sim.run(until=1.0)
        return np.array([dl.time for dl in net.flows[1].deliveries])

    lossy, perfect = deliveries(bsm_success_probability=0.5), deliveries()
    assert 0 < len(lossy) < len(perfect)
    first, second = (lossy < 0.5).sum(), (lossy >= 0.5).sum()
    assert first > 10 and second > 10
    assert abs(first - second) < 4 * math.sqrt(len(lossy))


def test_heralded_swap_with_a_perfect_bsm_is_swap_inner_on_the_same_stream():
    """No loss and all outcomes: the same outcome and no extra random draw, so runs without a
    lossy BSM are unchanged."""
    for seed in range(50):
        a, b = create_qubits(2, werner(0.9))
        c, d = create_qubits(2, werner(0.8))
        r1 = np.random.default_rng(seed)
        k1 = heralded_swap(b, c, r1, bsm=BellMeasurement())
        a, b = create_qubits(2, werner(0.9))
        c, d = create_qubits(2, werner(0.8))
        r2 = np.random.default_rng(seed)
        k2 = swap_inner(b, c, r2)
        assert k1 == k2 and r1.random() == r2.random()


def test_linear_optics_bsm_succeeds_with_probability_one_half_on_werner_pairs():
    """Inner qubits maximally mixed: each Bell outcome has probability ¼, and the linear-optics
    BSM heralds only Ψ⁺ and Ψ⁻ — success ½ within 4 SE over 4000 swaps; with an extra loss
    a = 0.6 the success is 0.3."""
    rng = np.random.default_rng(5)
    for bsm, expected in ((LINEAR_OPTICS_BSM, 0.5), (BellMeasurement(0.6, (2, 3)), 0.3)):
        ok = []
        for _ in range(4000):
            _a, b = create_qubits(2, werner(0.85))
            c, _d = create_qubits(2, werner(0.95))
            k = heralded_swap(b, c, rng, bsm=bsm)
            assert k is None or k in (2, 3)
            ok.append(k is not None)
        assert abs(np.mean(ok) - expected) < 4 * math.sqrt(expected * (1 - expected) / 4000)


@pytest.mark.parametrize("kwargs, match", [
    ({"success_probability": 0.0}, r"success_probability must be in \(0, 1\], got 0.0"),
    ({"success_probability": 1.2}, r"success_probability must be in \(0, 1\], got 1.2"),
    ({"outcomes": (0, 4)}, r"outcomes must be distinct Bell indices in 0..3"),
    ({"outcomes": ()}, r"outcomes must be distinct Bell indices"),
])
def test_an_impossible_bell_measurement_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BellMeasurement(**kwargs)


@pytest.mark.parametrize("key, value, fragment", [
    ("bsm_success_probability", 0.0, "hardware.default.bsm_success_probability"),
    ("bsm_success_probability", 1.5, "hardware.default.bsm_success_probability"),
    ("bsm_outcomes", "phi", "hardware.default.bsm_outcomes"),
])
def test_a_bad_bsm_in_a_scenario_names_the_field(key, value, fragment):
    d = linear_chain(3)
    d["hardware"]["default"][key] = value
    with pytest.raises(ScenarioError, match=fragment):
        load_scenario(d)
