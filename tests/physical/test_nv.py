"""NV-centre nodes (qstack.physical.nv): per-attempt nuclear dephasing, single-click links with
visibility and double excitation, and the sequential protocol at a middle node with one
communication qubit — each against its analytic result."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.physical.heralding import HeraldingModel
from qstack.physical.memory import MEMORY_NOISE, QuantumMemory
from qstack.physical.nv import (
    NodeOperations,
    NuclearSpinDephasing,
    NVHeraldingModel,
    NVSingleClick,
    SequentialChain,
    n_1e_from_dephasing_probability,
    nuclear_dephasing_probability,
    nv_single_click_fidelity,
    teleport_average_fidelity,
    truncated_geometric_mean_power,
)
from qstack.physical.station import LINK_SCHEMES, LinkHardware
from qstack.quantum import bell_state, create_qubits, fidelity, state_of
from qstack.quantum.states import BELL_KETS_NP

PLUS = np.full((2, 2), 0.5, dtype=complex)


# -- nuclear memory ------------------------------------------------------------------------


@pytest.mark.parametrize("n_1e", [1.0, 50.0, 1800.0, 1e5])
@pytest.mark.parametrize("attempts", [0, 1, 7, 1800, 10_000])
def test_per_attempt_dephasing_probability_gives_exp_minus_n_over_n1e(n_1e, attempts):
    """(1 − 2p)^N = exp(−N/N_1/e) with p = (1 − e^{−1/N_1/e})/2, to 1e-9."""
    p = nuclear_dephasing_probability(n_1e)
    assert (1 - 2 * p) ** attempts == pytest.approx(math.exp(-attempts / n_1e), rel=1e-9, abs=1e-300)
    assert n_1e_from_dephasing_probability(p) == pytest.approx(n_1e, rel=1e-9)


def test_attempts_compose_as_independent_z_flips_with_probability_p():
    """N attempts of 'Z with probability p' leave ⟨X⟩ = (1 − 2p)^N: the channel built attempt
    by attempt equals apply_attempts(N) to 1e-12."""
    m = NuclearSpinDephasing(n_1e=37.0, attempt_duration=1e-6)
    z = np.diag([1.0, -1.0])
    rho = PLUS.copy()
    for _ in range(25):
        rho = (1 - m.p) * rho + m.p * (z @ rho @ z)
    direct = m.apply_attempts(PLUS, 0, 1, 25)
    assert np.allclose(rho, direct, atol=1e-12)
    assert 2 * direct[0, 1].real == pytest.approx((1 - 2 * m.p) ** 25, rel=1e-12)


def test_nuclear_memory_over_time_is_a_semigroup_at_the_attempt_rate():
    """In time, the memory decays as exp(−t/(τ N_1/e) − t/T2); E(t1)∘E(t2) = E(t1 + t2)."""
    m = NuclearSpinDephasing(n_1e=500, attempt_duration="10 us", t2="2 s")
    t1, t2 = 3.3e-3, 1.7e-3
    rho = np.kron(PLUS, PLUS)
    assert np.allclose(m.apply(m.apply(rho, 0, 2, t1), 0, 2, t2), m.apply(rho, 0, 2, t1 + t2), atol=1e-14)
    expected = math.exp(-(t1 + t2) / (10e-6 * 500) - (t1 + t2) / 2.0)
    assert m.ptm_diagonal(t1 + t2) == pytest.approx((expected, expected, 1.0), rel=1e-12)
    assert m.coherence_time() == pytest.approx(1 / (1 / 5e-3 + 1 / 2.0), rel=1e-12)
    assert m.keeps_bell_diagonal


def test_nuclear_memory_from_a_scenario_table_decoheres_a_stored_bell_pair():
    """memory_noise = { name = "nv_nuclear", ... } in QuantumMemory: Φ⁺ with one half stored for
    N attempts' time has fidelity (1 + e^{−N/N_1/e})/2."""
    noise = MEMORY_NOISE.create({"name": "nv_nuclear", "n_1e": 1800, "attempt_duration": "5.5 us"})
    mem = QuantumMemory("bob", 1, noise=noise)
    a, b = create_qubits(2, bell_state("phi+"))
    pos = mem.store(a, now=0.0)
    q = mem.pop(pos, now=900 * 5.5e-6)
    assert fidelity(state_of([q, b]), bell_state("phi+")) == pytest.approx((1 + math.exp(-0.5)) / 2, rel=1e-9)


@pytest.mark.parametrize("make, field", [
    (lambda: NuclearSpinDephasing(n_1e=0, attempt_duration=1e-6), "n_1e"),
    (lambda: NuclearSpinDephasing(n_1e=10, attempt_duration=-1), "attempt_duration"),
    (lambda: NuclearSpinDephasing(n_1e=10, attempt_duration="5 km"), "attempt_duration"),
    (lambda: NVHeraldingModel(1e-3, 1e-3, visibility=1.5), "visibility"),
    (lambda: NVHeraldingModel(1e-3, 1e-3, double_excitation=1.0), "double_excitation"),
    (lambda: NVHeraldingModel(1e-3, 1e-3, alpha=0.0), "alpha"),
    (lambda: NodeOperations(readout_fidelity_0=1.2), "readout_fidelity_0"),
])
def test_bad_input_is_refused_naming_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_bad_chain_timeout_is_refused():
    link = NVHeraldingModel(0.5, 0.5, alpha=0.1, cycle_time=1e-6)
    with pytest.raises(ValueError, match="timeout"):
        SequentialChain(link, link, NuclearSpinDephasing(10, 1e-6), timeout=0)


# -- single-click links --------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.3])
@pytest.mark.parametrize("eta", [1e-4, 0.2, 0.9])
@pytest.mark.parametrize("v, p2, sigma", [(1.0, 0.0, 0.0), (0.9, 0.04, 0.26), (0.5, 0.2, 1.0)])
def test_heralded_fidelity_and_probability_match_the_derivation(alpha, eta, v, p2, sigma):
    """Symmetric arms, no dark counts: p = 2αη − α²η² and
    F = (1 − α)(1 + √V(1 − p_2ph)e^{−σ²/2})/(2 − αη), to 1e-12."""
    m = NVHeraldingModel(eta, eta, 0.0, alpha, sigma, 1e-6, v, p2)
    assert m.success_probability == pytest.approx(2 * alpha * eta - (alpha * eta) ** 2, rel=1e-12)
    assert m.fidelity == pytest.approx(nv_single_click_fidelity(alpha, eta, v, p2, sigma), rel=1e-12)


def test_perfect_photons_reduce_to_the_plain_single_click_model():
    """V = 1, no double excitation: the same states as HeraldingModel("single_click"), dark counts included."""
    m = NVHeraldingModel(0.3, 0.2, 1e-3, 0.1, 0.2, 1e-6)
    base = HeraldingModel("single_click", 0.3, 0.2, 1e-3, 0.1, 0.2, 1e-6)
    for (k, s), (kb, sb) in zip(m.outcomes(), base.outcomes(), strict=True):
        assert k == kb and np.allclose(s, sb, atol=1e-15)
    assert m.fidelity == pytest.approx(base.fidelity, rel=1e-12)


def test_rate_is_two_alpha_eta_per_attempt_at_small_alpha_eta():
    """rate = p/τ with p = 2αη(1 − αη/2): within a relative αη/2 of 2αη/τ."""
    alpha, eta, tau = 0.05, 4e-4, 5.5e-6
    m = NVHeraldingModel(eta, eta, 0.0, alpha, 0.0, tau)
    assert m.rate == pytest.approx(2 * alpha * eta / tau * (1 - alpha * eta / 2), rel=1e-12)


def test_scheme_takes_the_largest_alpha_that_meets_the_fidelity():
    """Without a fixed α the scheme solves F(α) = target; an unreachable target gives None."""
    scheme = LINK_SCHEMES.create({"name": "nv_single_click", "visibility": 0.9, "double_excitation": 0.04})
    hw = LinkHardware(eta_a=4e-4, eta_b=4e-4, cycle_time=5.5e-6)
    m = scheme.model(hw, 0.85)
    assert m.fidelity == pytest.approx(0.85, abs=1e-9)
    assert NVHeraldingModel(4e-4, 4e-4, 0.0, m.alpha * 1.01, 0.0, 5.5e-6, 0.9, 0.04).fidelity < 0.85
    ceiling = (1 + math.sqrt(0.9) * 0.96) / 2  # α → 0
    assert scheme.model(hw, ceiling + 1e-3) is None
    fixed = NVSingleClick(0.9, 0.04).model(LinkHardware(4e-4, 4e-4, cycle_time=5.5e-6, alpha=0.05), 0.5)
    assert fixed.alpha == 0.05


# -- sequential generation ------------------------------------------------------------------


def test_truncated_geometric_mean_power_matches_the_sum():
    """E[λ^N | N ≤ T] in closed form equals Σ_n p(1−p)^{n−1} λ^n / (1 − (1−p)^T), to 1e-12."""
    for p, lam, t in [(0.01, 0.999, 1000), (3.5e-5, math.exp(-1 / 1800), 1000), (0.5, 0.3, 3)]:
        n = np.arange(1, t + 1)
        w = p * (1 - p) ** (n - 1)
        brute = float((w * lam**n).sum() / w.sum())
        assert truncated_geometric_mean_power(p, lam, t) == pytest.approx(brute, rel=1e-12)


def _ideal_link(cycle=1e-5):
    return NVHeraldingModel(0.5, 0.5, 0.0, 1e-12, 0.0, cycle)


def test_chain_memory_coherence_is_the_truncated_geometric_mean():
    link = _ideal_link()
    mem = NuclearSpinDephasing(n_1e=20, attempt_duration=1e-5)
    chain = SequentialChain(link, link, mem, timeout=40)
    lam = 1 - 2 * mem.p
    assert chain.mean_memory_coherence() == pytest.approx(
        truncated_geometric_mean_power(link.success_probability, lam, 40), rel=1e-12)


def test_perfect_links_give_ghz_swap_and_teleport_limited_by_the_memory_alone():
    """Perfect links and operations: GHZ and swapped-pair fidelity (1 + λ̄)/2, teleportation
    (2 + λ̄)/3, with λ̄ the mean memory coherence — to 1e-9."""
    link = _ideal_link()
    chain = SequentialChain(link, link, NuclearSpinDephasing(n_1e=15, attempt_duration=1e-5), timeout=30)
    lam = chain.mean_memory_coherence()
    assert chain.ghz_fidelity() == pytest.approx((1 + lam) / 2, abs=1e-9)
    assert chain.swap_fidelity() == pytest.approx((1 + lam) / 2, abs=1e-9)
    assert chain.teleportation_fidelity() == pytest.approx((2 + lam) / 3, abs=1e-9)


def test_a_flipped_parity_readout_gives_an_orthogonal_ghz_state():
    """Symmetric electron readout error ε at Bob: GHZ fidelity (1 − ε)(1 + λ̄)/2."""
    eps = 0.07
    link = _ideal_link()
    bob = NodeOperations(readout_fidelity_0=1 - eps, readout_fidelity_1=1 - eps)
    chain = SequentialChain(link, link, NuclearSpinDephasing(n_1e=15, attempt_duration=1e-5), 30, bob)
    assert chain.ghz_fidelity() == pytest.approx((1 - eps) * (1 + chain.mean_memory_coherence()) / 2, abs=1e-9)


def test_teleporting_with_a_werner_pair_gives_two_f_plus_one_over_three():
    """Perfect operations, Werner pair of fidelity F: average teleported fidelity (2F + 1)/3."""
    f = 0.8
    pair = f * np.outer(BELL_KETS_NP[0], BELL_KETS_NP[0]) + (1 - f) / 3 * sum(
        np.outer(BELL_KETS_NP[k], BELL_KETS_NP[k]) for k in (1, 2, 3))
    assert teleport_average_fidelity(pair, NodeOperations()) == pytest.approx((2 * f + 1) / 3, abs=1e-12)


def _noisy_chain():
    link = NVHeraldingModel(0.9, 0.9, 1e-3, 0.3, 0.2, 1e-5, 0.9, 0.05)
    mem = NuclearSpinDephasing(n_1e=10, attempt_duration=1e-5)
    ops = NodeOperations(0.95, 0.99, 0.98, 0.02, 0.01)
    return SequentialChain(link, link, mem, timeout=5, bob=ops, charlie=ops, waiting_a=mem)


@pytest.mark.parametrize("protocol, runs", [("ghz", 1500), ("swap", 1500), ("teleport", 400)])
def test_monte_carlo_runs_agree_with_the_exact_state_within_4_standard_errors(protocol, runs):
    chain = _noisy_chain()
    exact = {"ghz": chain.ghz_fidelity, "swap": chain.swap_fidelity,
             "teleport": chain.teleportation_fidelity}[protocol]()
    s = chain.sample(runs, np.random.default_rng(7), protocol)
    assert abs(s.mean_fidelity - exact) <= 4 * s.fidelity_standard_error


def test_monte_carlo_delivery_time_agrees_with_the_mean_time_formula():
    """Mean time per delivery (restarts at each timeout) within 4 standard errors of
    τ₁/(p₁q) + (1 − q)/q·Tτ₂ + E[N | N ≤ T]τ₂."""
    chain = _noisy_chain()
    s = chain.sample(1500, np.random.default_rng(11), "ghz")
    se = s.times.std(ddof=1) / math.sqrt(len(s.times))
    assert abs(s.times.mean() - chain.mean_time()) <= 4 * se


def test_same_seed_gives_bit_identical_runs():
    chain = _noisy_chain()
    a = chain.sample(50, np.random.default_rng(3), "swap")
    b = chain.sample(50, np.random.default_rng(3), "swap")
    assert a.fidelities.tobytes() == b.fidelities.tobytes() and a.times.tobytes() == b.times.tobytes()


SCENARIO = """
[simulation]
seed = 1
duration = "1 s"

[hardware.end]
memory_positions = 1
attempt_rate = "100 kHz"

[hardware.mid]
memory_positions = 1
attempt_rate = "100 kHz"
memory_noise = { name = "nv_nuclear", n_1e = 100, attempt_duration = "10 us" }

[[nodes]]
name = "a"
role = "end"
hardware = "end"

[[nodes]]
name = "b"
hardware = "mid"

[[nodes]]
name = "c"
role = "end"
hardware = "end"

[[links]]
a = "a"
b = "b"
length = "10 m"
scheme = { name = "nv_single_click", visibility = 0.81, double_excitation = 0.1 }
alpha = 0.1

[[links]]
a = "b"
b = "c"
length = "10 m"
scheme = { name = "nv_single_click", visibility = 0.81, double_excitation = 0.1 }
alpha = 0.2

[[requests]]
source = "a"
destination = "c"
pairs = 1
"""


def test_scenario_toml_selects_the_nv_link_scheme_and_memory(tmp_path):
    """A scenario names "nv_single_click" and "nv_nuclear"; the chain built from it has the
    links' α, visibility and double excitation and the middle node's memory."""
    from qstack.scenario import load_scenario

    path = tmp_path / "nv.toml"
    path.write_text(SCENARIO)
    chain = SequentialChain.from_scenario(load_scenario(path), "a", "b", "c", timeout=100)
    assert isinstance(chain.first, NVHeraldingModel) and isinstance(chain.memory, NuclearSpinDephasing)
    assert (chain.first.alpha, chain.second.alpha) == (0.1, 0.2)
    assert chain.first.coherence_factor == pytest.approx(0.9 * 0.9, rel=1e-12)
    assert chain.memory.n_1e == 100 and chain.memory.attempt_duration == pytest.approx(1e-5)
    eta = chain.first.eta_a
    assert chain.first.fidelity == pytest.approx(
        NVHeraldingModel(eta, eta, 0.0, 0.1, 0.0, 1e-5, 0.81, 0.1).fidelity, rel=1e-12)
