"""Purification, measure-type flows and sequential Barrett–Kok timing in the network layer.

Links here herald perfect Ψ± pairs (double click, no dark counts) that the emitters' raw
fidelity F depolarises to Werner states (Bell coefficients ``(F, e, e, e)``, ``e = (1 − F)/3``),
and memories do not decay, so every delivered pair's fidelity is deterministic and follows the
closed forms of :mod:`qstack.quantum.theory`:

* a DEJMPS round on two Bell-diagonal pairs maps their coefficients by ``dejmps_two``;
* BBPSSW twirls both inputs to Werner form first (``twirled``), then the same map;
* pumping purifies the kept pair again and again with fresh link pairs;
* an ideal swap adds the Pauli labels: ``bell_diagonal_swap``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.network.runner import run_scenario
from qstack.physical.heralding import HeraldingModel
from qstack.quantum import theory
from qstack.scenario import linear_chain, load_scenario

F_RAW = 0.9
E_RAW = (1 - F_RAW) / 3
WERNER = [F_RAW, E_RAW, E_RAW, E_RAW]


def _purified_chain(nodes: int, protocol: str, scope: str, rounds: int, target: float = 0.9999, **kw) -> dict:
    d = linear_chain(nodes, seed=5, duration=0.05, raw_fidelity=F_RAW, t2="inf", **kw)
    d["policies"]["purification"] = {"protocol": protocol, "scope": scope, "target_fidelity": target,
                                     "max_rounds": rounds}
    return run_scenario(load_scenario(d))


def _one_round(protocol: str, c1, c2):
    if protocol == "bbpssw":
        c1, c2 = theory.twirled(c1), theory.twirled(c2)
    return theory.dejmps_two(c1, c2)[0]


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw", "pumping"])
def test_link_purification_then_swap_follows_the_bell_diagonal_maps(protocol):
    """One purification round per link, then a swap at the repeater: every delivered pair has
    Φ-fidelity ``bell_diagonal_swap(P(c, c), P(c, c))[0]`` with P the protocol's one-round map
    (for one round, pumping is a DEJMPS round of two fresh pairs)."""
    r = _purified_chain(3, protocol, "link", 1)
    purified = _one_round("dejmps" if protocol == "pumping" else protocol, WERNER, WERNER)
    expected = theory.bell_diagonal_swap(purified, purified)[0]
    assert r["delivered_pairs"] > 10
    assert r["fidelity_mean"] == pytest.approx(expected, abs=1e-9)
    assert r["fidelity_std"] < 1e-9
    assert all(v["rejected"] == 0 for v in r["messages"].values())


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
def test_end_to_end_purification_after_the_swap(protocol):
    """Purifying end to end instead: the swap first makes ``s = bell_diagonal_swap(c, c)``,
    then one round gives ``P(s, s)`` — a lower fidelity than purifying each link first
    (checked against the link-scope value, as the recurrence maps predict)."""
    r = _purified_chain(3, protocol, "end_to_end", 1)
    swapped = theory.bell_diagonal_swap(WERNER, WERNER)
    expected = _one_round(protocol, swapped, swapped)[0]
    assert r["delivered_pairs"] > 5
    assert r["fidelity_mean"] == pytest.approx(expected, abs=1e-9)
    link_first = theory.bell_diagonal_swap(*(2 * [_one_round(protocol, WERNER, WERNER)]))[0]
    assert expected < link_first


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw", "pumping"])
def test_two_rounds_on_a_single_link(protocol):
    """Two rounds on one link: recurrence squares the map (DEJMPS keeps the Bell-diagonal
    structure, BBPSSW re-twirls), pumping feeds a fresh pair to the kept one:
    ``dejmps_two(dejmps_two(c, c), c)`` — below the recurrence value (pumping's fixed point
    lies below 1)."""
    r = _purified_chain(2, protocol, "link", 2)
    if protocol == "pumping":
        expected = theory.dejmps_two(theory.dejmps_two(WERNER, WERNER)[0], WERNER)[0][0]
    else:
        once = _one_round(protocol, WERNER, WERNER)
        expected = _one_round(protocol, once, once)[0]
    assert r["delivered_pairs"] > 5
    assert r["fidelity_mean"] == pytest.approx(expected, abs=1e-9)


def test_target_fidelity_stops_purifying_early():
    """With a target below the one-round fidelity, each pair is purified exactly once even
    when more rounds are allowed."""
    once = _one_round("dejmps", WERNER, WERNER)[0]
    r = _purified_chain(2, "dejmps", "link", 3, target=once - 1e-6)
    assert r["fidelity_mean"] == pytest.approx(once, abs=1e-9)


@pytest.mark.parametrize("basis", ["Z", "X", "Y"])
def test_measure_flows_have_qber_two_thirds_of_the_infidelity(basis):
    """A CREATE_MEASURE flow measures both ends of each delivered Werner pair of fidelity F in
    one basis. Relative to the announced Bell state's correlations the outcomes disagree with
    probability ``2(1 − F)/3`` in every basis (the three error Bell states each flip two of the
    three Pauli correlations). Monte Carlo: within 4 standard errors. Each end measures its own
    qubit when it learns of the pair, so a pair whose confirmation is still on its way to the
    head when the run stops is measured at the tail only (at most the few in flight)."""
    d = linear_chain(3, seed=11, duration=0.3, raw_fidelity=F_RAW, t2="inf")
    d["requests"][0]["type"] = "measure"
    d["requests"][0]["basis"] = basis
    flow = run_scenario(load_scenario(d))["flows"][0]
    f_e2e = theory.werner_swap_fidelity(F_RAW, F_RAW)
    q = 2 * (1 - f_e2e) / 3
    n = flow["measured"]
    assert flow["delivered"] - 3 <= n <= flow["delivered"] and n > 200
    se = math.sqrt(q * (1 - q) / n)
    assert abs(flow["qber"] - q) < 4 * se


def test_sequential_barrett_kok_rounds_give_the_renewal_rate():
    """With sequential rounds (round 2 only after round 1 heralded; each round
    ``T = 1/attempt_rate + 2d``), a failed attempt lasts ``T`` or ``2T`` — the latter with
    probability ``q = (P₁ − p)/(1 − p)`` given failure, ``P₁`` the round-1 herald probability.
    A position pair's cycle is ``S + 2T``: ``S`` the failed attempts' total, then the successful
    attempt's two rounds; its memories are free again ``T + 2d + 2D`` after its first round
    (second round, herald, TRACK and Confirm), but may not start the next round 1 before
    ``2T`` (their attempt clock; here ``2d + 2D < T``). So a link with K position pairs
    delivers ``K/E[cycle]`` pairs per second (renewal theorem); the count's variance is
    ``K·t·Var/E³``. Monte Carlo over 3 s: within 4 standard errors, and restarting as soon as
    the memories are free (``S + T + 2d + 2D``, faster than the attempt rate allows) is more
    than 4 standard errors away."""
    k, t_sim = 10, 3.0
    d = linear_chain(2, seed=7, duration=t_sim, raw_fidelity=F_RAW, t2="inf",
                     link={"classical_delay_per_km": "5 us", "rounds": "sequential"})
    r = run_scenario(load_scenario(d))
    eta = 0.75 * 10 ** (-0.2 * 5 / 10) * 0.8
    model = HeraldingModel("double_click", eta, eta, round_period=1 / 2000 + 2 * 25e-6)
    p, p1 = model.success_probability, model.first_round_probability
    d_arm, d_link = 25e-6, 50e-6
    t_round = 1 / 2000 + 2 * d_arm
    q = (p1 - p) / (1 - p)
    fails_mean, fails_var = (1 - p) / p, (1 - p) / p**2
    x_mean, x_var = t_round * (1 + q), t_round**2 * q * (1 - q)
    mean = fails_mean * x_mean + 2 * t_round
    var = fails_mean * x_var + fails_var * x_mean**2
    expected = k * t_sim / mean
    se = math.sqrt(k * t_sim * var / mean**3)
    assert abs(r["delivered_pairs"] - expected) < 4 * se
    too_fast = k * t_sim / (fails_mean * x_mean + t_round + 2 * d_arm + 2 * d_link)
    assert abs(too_fast - expected) > 4 * se
    assert np.isclose(model.mean_attempt_time, t_round * (1 + p1))
