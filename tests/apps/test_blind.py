"""Universal blind quantum computing (BFK09) on a linear cluster, checked against theory.

* Correctness: the client's decoded outputs follow the direct computation's distribution,
  ``P(0) = |⟨+_{φ_m}| J(−φ_{m−1}) ⋯ J(−φ_1)|+⟩|²`` (0.75, 1 and 0.75 for the angle sets
  used), within 4 standard errors ``√(p(1 − p)/n)``; a deterministic computation gives 0 always.
* Noise: over Werner links each qubit arrives with a Z error with probability (1 − w)/2, which
  runs the computation with φ_i + π: the output follows the flip-averaged probability.
* Blindness: every angle δ the server sees is uniform on the eight multiples of π/4 and its
  distribution does not depend on the computation (χ² tests), and every outcome the server
  returns is a fair coin even when the output is deterministic.
* Stages: the client needs stage 1, the server stage 3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from qstack.apps import run_app
from qstack.apps.blind import BlindComputation, blind_output_probability, direct_output_probability
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import Stage, StageError

P4 = math.pi / 4
ROLES = {"client": "n0", "server": "n1"}


def _scenario(raw_fidelity: float = 1.0, seed: int = 1, nodes: int = 2):
    return load_scenario(linear_chain(nodes, seed=seed, raw_fidelity=raw_fidelity, t2="inf"))


def test_direct_computation_probabilities_by_hand():
    """|⟨+_φ₂|H·diag(1, e^{−iφ₁})|+⟩|²: 3/4 at (π/4, π/4), 1 at (π/2, π/2), ½ when φ₁ = 0;
    a one-qubit computation measures |+⟩ itself: cos²(φ/2)."""
    assert direct_output_probability([P4, P4]) == pytest.approx(0.75, abs=1e-12)
    assert direct_output_probability([2 * P4, 2 * P4]) == pytest.approx(1.0, abs=1e-12)
    assert direct_output_probability([0.0, 0.7]) == pytest.approx(0.5, abs=1e-12)
    assert direct_output_probability([0.7]) == pytest.approx(math.cos(0.35) ** 2, abs=1e-12)


@pytest.mark.parametrize("phis, p0", [
    ([P4, P4], 0.75),
    ([P4, 3 * P4, 2 * P4], 0.75),
    ([3 * P4, P4, 0.0, 5 * P4], math.sin(math.pi / 8) ** 2),
])
def test_blind_output_distribution_equals_the_direct_computation(phis, p0):
    """2-, 3- and 4-qubit linear clusters over a 2-link chain with ideal links: P(output 0)
    equals the direct computation's (0.75, 0.75, 0.146) within 4 SE over 250 runs."""
    assert direct_output_probability(phis) == pytest.approx(p0, abs=1e-12)
    n = 250
    r = run_app(BlindComputation(phis, runs=n), _scenario(nodes=3), {"client": "n0", "server": "n2"})
    est = np.mean(np.array(r.results["client"]) == 0)
    assert abs(est - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)


def test_a_deterministic_blind_computation_always_returns_its_answer():
    """(π/2, π/2) gives output 0 with probability 1: every one of 150 runs returns 0, while the
    server's returned outcome for that qubit is a fair coin (b = s ⊕ r)."""
    n = 150
    r = run_app(BlindComputation([2 * P4, 2 * P4], runs=n), _scenario(seed=3), ROLES)
    assert r.results["client"] == [0] * n
    b_last = np.array([o[-1] for o in r.results["server"].outcomes])
    assert abs(b_last.mean() - 0.5) < 4 * math.sqrt(0.25 / n)


def test_blind_output_over_werner_links_follows_the_z_flip_model():
    """Werner link of F = 0.85: each teleported |+_θ⟩ is depolarised, i.e. Z-flipped with
    q = (1 − w)/2 = 0.1, so P(0) = Σ_flips q^k (1−q)^{m−k} P_direct(φ + flips·π)
    = (1−q)² + q² = 0.82 for (π/2, π/2) — within 4 SE over 300 runs."""
    f = 0.85
    w = (4 * f - 1) / 3
    q = (1 - w) / 2
    p0 = blind_output_probability([2 * P4, 2 * P4], q)
    assert p0 == pytest.approx((1 - q) ** 2 + q**2, abs=1e-12)
    assert q == pytest.approx(2 * (1 - f) / 3, abs=1e-12)
    n = 300
    r = run_app(BlindComputation([2 * P4, 2 * P4], runs=n), _scenario(f, seed=5), ROLES)
    est = np.mean(np.array(r.results["client"]) == 0)
    assert abs(est - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)


@pytest.mark.slow
def test_the_server_sees_uniform_angles_independent_of_the_computation():
    """Blindness (BFK09 Thm 2): for two computations, (π/4, 3π/4) and (π/2, 0), the δ's the
    server receives for each qubit are uniform on {kπ/4} (χ² goodness of fit, p > 0.001) and
    identically distributed across the computations (χ² homogeneity, p > 0.001); 400 runs each."""
    n = 400
    views = []
    for phis, seed in (([P4, 3 * P4], 21), ([2 * P4, 0.0], 22)):
        r = run_app(BlindComputation(phis, runs=n), _scenario(seed=seed), ROLES)
        views.append(np.array(r.results["server"].deltas, dtype=int))
    for view in views:
        for position in range(2):
            counts = np.bincount(view[:, position], minlength=8)
            assert counts.sum() == n
            assert stats.chisquare(counts).pvalue > 1e-3
    for position in range(2):
        table = np.array([np.bincount(v[:, position], minlength=8) for v in views])
        assert stats.chi2_contingency(table).pvalue > 1e-3


def test_blind_roles_declare_client_stage_one_and_server_stage_three():
    """role_stages: client stage 1 (prepare and measure), server stage 3 (quantum memory). A
    server on a node whose memory lasts 1 ns is refused before anything runs."""
    app = BlindComputation()
    assert app.stage_of("client") == Stage.PREPARE_AND_MEASURE
    assert app.stage_of("server") == Stage.QUANTUM_MEMORY
    d = linear_chain(2, seed=1, t2="inf")
    d["hardware"]["poor"] = {**d["hardware"]["default"], "t2": "1 ns", "t1": "1 s"}
    d["nodes"][0]["hardware"] = "poor"
    with pytest.raises(StageError, match="server"):
        run_app(app, load_scenario(d), {"client": "n1", "server": "n0"})


def test_a_client_without_memory_computes_blindly():
    """A stage-1 client on a node whose memory lasts 1 ns should still get the deterministic
    answer of (π/2, π/2) — it would with a photonic client that sends its qubits directly."""
    d = linear_chain(2, seed=1, t2="inf")
    d["hardware"]["poor"] = {**d["hardware"]["default"], "t2": "1 ns", "t1": "1 s"}
    d["nodes"][0]["hardware"] = "poor"
    r = run_app(BlindComputation([2 * P4, 2 * P4], runs=40), load_scenario(d), ROLES)
    assert r.results["client"] == [0] * 40
