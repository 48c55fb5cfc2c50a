"""examples/real/plob_beating_chain: a two-link memory repeater against the PLOB bound.

qstack's network simulation of the scenario (2 × 100 km, double click, t2 = 10 s, one memory
per link end, every device number a stated assumption) checked against the slotted-model
closed forms (rate 1/E[T], E[T] = (3 − 2p)/(p(2 − p)); fidelity (1 + E[x^Δ])/2 under pure
dephasing) within 4 standard errors, and the README's claims: above PLOB at 200 km by more
than 4 standard errors, below it for t2 = 1 s (threshold 2.23 s) and at 60 km and 440 km
(window 140.7–388.1 km). Plus the precision of plob_bound/tgw_bound at 1000 km (200 dB), where
−log2(1 − η) evaluated naively is 0.
"""

from __future__ import annotations

import math

import pytest

from qstack.physical.fibre import Fibre
from qstack.qkd.entropy import plob_bound, tgw_bound

EXAMPLE = "plob_beating_chain"


def _within(sim: float, exact: float, se: float, k: float = 4.0) -> bool:
    return abs(sim - exact) <= k * se


def test_ideal_memory_rate_matches_the_slotted_two_segment_waiting_time(figures):
    """t2 = inf: pairs per channel use 1/E[T] with E[T] = (3 − 2p)/(p(2 − p)) slots
    (Shchukin, Rozpędek & Wehner 2019), p the double-click success per attempt; fidelity 1."""
    sim, exact = figures["ideal_memory"], figures["ideal_analytic"]
    assert sim["pairs"] > 1500
    assert _within(sim["rate_per_use"], exact["rate_per_use"], sim["rate_se"])
    assert sim["fidelity"] == pytest.approx(1.0, rel=0.0, abs=1e-12)


def test_delivered_fidelity_matches_the_dephasing_closed_form_at_every_coherence_time(figures):
    """F̄ = (1 + E[x^Δ])/2, x = e^{−2τ/T2}, Δ = |G₁ − G₂| the earlier pair's wait in slots:
    both its qubits dephase while the other link retries."""
    for t2, sim in figures["t2_points"].items():
        exact = figures["t2_analytic"][t2]
        assert _within(sim["fidelity"], exact["fidelity"], sim["fidelity_se"]), t2
        assert _within(sim["rate_per_use"], exact["rate_per_use"], sim["rate_se"]), t2


def test_chain_beats_plob_at_200_km_with_ten_second_memories(figures):
    """README: yield 4.1e-4 per channel use against PLOB 1.44e-4 (40 dB): above by > 4 SE,
    and within 4 SE of the analytic yield (ratio to PLOB 2.76 analytic)."""
    sim, exact = figures["sim"], figures["analytic"]
    assert exact["plob"] == pytest.approx(-math.log2(1 - 1e-4), rel=1e-12, abs=0.0)
    assert sim["yield_per_use"] - 4 * sim["yield_se"] > exact["plob"]
    assert _within(sim["yield_per_use"], exact["yield_per_use"], sim["yield_se"])
    assert 2.0 < sim["yield_per_use"] / exact["plob"] < 3.5


def test_below_the_coherence_threshold_the_chain_no_longer_beats_plob(figures):
    """README: at 200 km the analytic yield meets PLOB at t2 = 2.23 s; simulated, t2 = 1 s is
    below PLOB and t2 = 3 s above it, each by > 4 SE."""
    assert figures["t2_threshold_s"] == pytest.approx(2.23, abs=0.01)
    low, high = figures["t2_points"][1.0], figures["t2_points"][3.0]
    assert low["yield_per_use"] + 4 * low["yield_se"] < low["plob"]
    assert high["yield_per_use"] - 4 * high["yield_se"] > high["plob"]


def test_the_chain_beats_plob_only_inside_a_distance_window(run, figures):
    """README: with t2 = 10 s the analytic yield beats PLOB from 140.7 to 388.1 km; simulated,
    60 km (emission × detector losses and the double click's η² per link cost more than the
    repeater gains) and 440 km (waits ≫ t2, F̄ → 1/2) are below PLOB, 200 km and 320 km above,
    each by > 4 SE and each within 4 SE of the analytic yield."""
    low, high = figures["distance_window_km"]
    assert (round(low, 1), round(high, 1)) == (140.7, 388.1)
    raw = run.base()
    for edge in (low, high):
        a = run.analytic(run.variant(raw, link_km=edge / 2))
        assert a["yield_per_use"] == pytest.approx(a["plob"], rel=1e-8, abs=0.0)
    for km, sim in figures["distance_points"].items():
        exact = figures["distance_analytic"][km]
        assert _within(sim["yield_per_use"], exact["yield_per_use"], sim["yield_se"]), km
        if low < km < high:
            assert sim["yield_per_use"] - 4 * sim["yield_se"] > sim["plob"], km
        else:
            assert sim["yield_per_use"] + 4 * sim["yield_se"] < sim["plob"], km


def test_same_scenario_and_seed_give_identical_runs(run):
    raw = run.variant(run.base(), link_km=160.0)
    assert run.simulate(raw, pairs=300) == run.simulate(raw, pairs=300)


def test_plob_and_tgw_keep_full_precision_over_1000_km_of_fibre():
    """1000 km at 0.2 dB/km is 200 dB, η = 1e-20: 1 − η rounds to 1, so −log2(1 − η) computed
    naively is exactly 0. With log1p: PLOB = η/ln 2 · (1 + η/2 + …) and TGW = 2η/ln 2 ·
    (1 + η²/3 + …), both to 1e-12 relative; at 1002 km / 156.5 dB (the TF-QKD record's loss)
    likewise."""
    eta = Fibre(1000e3, 0.2).transmissivity
    assert eta == pytest.approx(1e-20, rel=1e-12, abs=0.0)
    assert -math.log2(1.0 - eta) == 0.0  # the cancellation log1p avoids
    assert plob_bound(eta) == pytest.approx(eta / math.log(2) * (1 + eta / 2), rel=1e-12, abs=0.0)
    assert tgw_bound(eta) == pytest.approx(2 * eta / math.log(2) * (1 + eta * eta / 3), rel=1e-12, abs=0.0)
    assert tgw_bound(eta) / plob_bound(eta) == pytest.approx(2.0, rel=1e-12, abs=0.0)
    eta_record = 10 ** (-15.65)
    assert plob_bound(eta_record) == pytest.approx(eta_record / math.log(2) * (1 + eta_record / 2), rel=1e-12, abs=0.0)
    assert plob_bound(eta_record) == pytest.approx(3.2298e-16, rel=1e-4, abs=0.0)
