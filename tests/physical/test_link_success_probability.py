"""The heralded link's success probability per attempt, and its pair rate, against theory.

A simulated two-node link (``linear_chain(2, L)``: station in the middle, 0.2 dB/km fibre,
emission efficiency 0.75, detector efficiency 0.8, dark-count probability ``p_dc`` per detector
per attempt) is run for thousands of heralds at a fixed seed; the station's counters give the
measured ``pairs_generated / attempts``.

**Analytic p, from the hardware parameters alone.** Each arm's photon reaches the station's
beam splitter with ``η = emission × 10^(−0.2 dB/km · (L/2)/10) × detector`` (each arm is half
the link). The heralding instrument's Kraus operators are diagonal in the emitters' ``|ab⟩``
basis (``|1⟩`` emits), so the probability of a herald depends only on the populations of
``|ab⟩``. Given ``|ab⟩``, no photon reaches the station with probability
``P₀(a, b) = (1 − η)^a (1 − η)^b``; two photons bunch (Hong–Ou–Mandel) and leave by one port, so
with at least one photon exactly one detector fires unless the other dark-counts, and with none
exactly one of the two dark-counts::

    f(a, b) = P(exactly one click | ab) = P₀·2p_dc(1 − p_dc) + (1 − P₀)(1 − p_dc)

* **single click** (emitters ``√(1−α)|0⟩ + √α|1⟩``): ``p = Σ_ab w_a w_b f(a, b)`` with
  ``w₁ = α``, ``w₀ = 1 − α``; at ``p_dc = 0`` this is ``2αη − α²η²``;
* **double click** (Barrett–Kok: emitters in ``|+⟩``, a click in each of two rounds with a π
  pulse between, which maps ``|ab⟩ → |āb̄⟩``): ``p = ¼ Σ_ab f(a, b) f(1−a, 1−b)
  = ½[f(0,0) f(1,1) + f(1,0) f(0,1)]``; at ``p_dc = 0`` this is ``η²/2`` — the ½ is the
  Bell-state measurement's: only the Ψ half of ``|+⟩|+⟩`` can herald.

**Counting attempts.** An attempt counts when its outcome is known at the station (its photons
arrived). Resolved attempts are independent Bernoulli(p) trials, so ``S − p·A`` (heralds minus
``p`` times attempts) is a martingale with increments of variance ``p(1−p)``: at any fixed stop
time ``|S − pA| < 4√(p(1−p)A)``, i.e. the measured ratio is within 4 binomial standard errors of
``p`` — however short the runs. (A counter that added a sequence's whole sampled length
``n ~ Geometric(p)`` when it started counted attempts past the end of the run without their
herald: ``K/p`` attempts too many for ``K`` position pairs, which put a sweep's pooled 3 ms runs
3.6 SE below ``η²/2``; the short-run test here catches that.)

**Rate.** With ``K`` position pairs and attempt cycle ``c = max(2d, 1/R)`` (``d`` the arm delay,
``R`` the attempt rate) each position pair is a renewal process with cycle
``T = a + (n − 1)c``: ``a`` the restart offset after a success, which on a two-node chain frees
the pair ``x = 2d + 2D`` after the emission (herald back to both ends ``2d``, TRACK and
confirmation ``2D``, ``D = 2d``), ``a = c·max(1, ⌈x/c⌉)`` on the slotted clock and
``max(x, c)`` on the free one (see tests/network/test_network_timing.py). So heralds come at
``K/E[T]`` per second, ``E[T] = a + (1/p − 1)c``, with count variance ``K·τ·Var T/E[T]³`` over
a window ``τ``, ``Var T = c²(1 − p)/p²``.
"""

from __future__ import annotations

import math

import pytest

from qstack.network import build_network
from qstack.scenario import linear_chain, load_scenario

EMISSION, DETECTOR, DB_PER_KM = 0.75, 0.8, 0.2  # linear_chain's default (STARLIGHT) hardware
ALPHA = 0.1  # single click's bright-state population, fixed on the link


def arm_eta(length: float) -> float:
    """Detection probability of one arm's photon: emission × fibre over half the link × detector."""
    return EMISSION * 10 ** (-DB_PER_KM * (length / 2 / 1e3) / 10) * DETECTOR


def exactly_one_click(a: int, b: int, eta: float, p_dark: float) -> float:
    """``f(a, b)`` of the module docstring: one round heralds for emitters in ``|ab⟩``."""
    none_arrive = (1 - eta) ** a * (1 - eta) ** b
    return none_arrive * 2 * p_dark * (1 - p_dark) + (1 - none_arrive) * (1 - p_dark)


def analytic_p(scheme: str, eta: float, p_dark: float, alpha: float = ALPHA) -> float:
    """Per-attempt success probability of ``scheme`` (module docstring), symmetric arms."""
    f = exactly_one_click
    if scheme == "double_click":
        return 0.5 * (f(0, 0, eta, p_dark) * f(1, 1, eta, p_dark) + f(1, 0, eta, p_dark) * f(0, 1, eta, p_dark))
    w = (1 - alpha, alpha)
    return sum(w[a] * w[b] * f(a, b, eta, p_dark) for a in (0, 1) for b in (0, 1))


def link_run(scheme: str, length: float, *, p_dark: float = 0.0, clock: str = "slotted", rate: str = "100 kHz",
             positions: int = 10, duration: float, seed: int):
    """A built (not yet run) two-node network over one link of ``length`` metres, and its link."""
    link = {"scheme": scheme, "attempt_clock": clock}
    if scheme == "single_click":
        link["alpha"] = ALPHA
    net = build_network(load_scenario(linear_chain(
        2, length, seed=seed, duration=duration, t2="inf", attempt_rate=rate, memory_positions=positions,
        dark_count_probability=p_dark, link=link)))
    return net, net.links["n0-n1"]


def test_analytic_p_reduces_to_the_textbook_forms_without_dark_counts():
    """At p_dc = 0 the click-counting formula is η²/2 (double click) and 2αη − α²η² (single
    click), to 1e-15. Dark counts herald lost photons, so on a lossy link p rises with p_dc; on
    a lossless one every photon arrives, a dark count in the other detector spoils a herald and
    only the emitters' dark |00⟩ branch gains: double click p = ½(1 − p_dc)²(1 + 2p_dc) (the
    |00⟩/|11⟩ half heralds by a dark count in one round), below ½ at second order; single click
    p = (2α − α²)(1 − p_dc) + (1 − α)²·2p_dc(1 − p_dc)."""
    for eta in (1.0, 0.5, 0.0378):
        assert analytic_p("double_click", eta, 0.0) == pytest.approx(eta**2 / 2, abs=1e-15)
        assert analytic_p("single_click", eta, 0.0) == pytest.approx(2 * ALPHA * eta - (ALPHA * eta) ** 2,
                                                                      abs=1e-15)
    for scheme in ("double_click", "single_click"):
        for eta in (0.5, 0.0378):
            assert analytic_p(scheme, eta, 1e-3) > analytic_p(scheme, eta, 0.0)
    pd = 1e-3
    assert analytic_p("double_click", 1.0, pd) == pytest.approx(0.5 * (1 - pd) ** 2 * (1 + 2 * pd), abs=1e-15)
    assert analytic_p("double_click", 1.0, pd) < 0.5
    assert analytic_p("single_click", 1.0, pd) == pytest.approx(
        (2 * ALPHA - ALPHA**2) * (1 - pd) + (1 - ALPHA) ** 2 * 2 * pd * (1 - pd), abs=1e-15)


# Lengths and dark counts: 20 km without dark counts (the textbook forms), 50 km with
# p_dc = 5e-3, where the dark-count terms shift p by more than 8 standard errors.
CASES = [
    ("double_click", 20e3, 0.0, 0.6),
    ("double_click", 50e3, 5e-3, 4.2),
    ("single_click", 20e3, 0.0, 0.5),
    ("single_click", 50e3, 5e-3, 1.9),
]


@pytest.mark.parametrize(("scheme", "length", "p_dark", "duration"), CASES,
                         ids=[f"{s}-{int(length / 1e3)}km" for s, length, _, _ in CASES])
def test_measured_success_probability_per_attempt_equals_the_schemes_analytic_p_within_4_se(
        scheme, length, p_dark, duration):
    """Thousands of heralds on one link: the link model's p equals the analytic p of the
    hardware (module docstring) to 1e-12, and the station's heralds per attempt equal it within
    4 binomial SE, √(p(1−p)/A). The expectation that leaves out the dark-count terms
    (η²/2, resp. 2αη − α²η²) is more than 4 SE off where p_dc > 0."""
    net, link = link_run(scheme, length, p_dark=p_dark, duration=duration, seed=5)
    eta = arm_eta(length)
    hw = link.end.hardware
    assert hw.eta_a == pytest.approx(eta, rel=1e-12) and hw.eta_b == pytest.approx(eta, rel=1e-12)
    assert hw.p_dark == p_dark
    p = analytic_p(scheme, eta, p_dark)
    assert link.base_model.success_probability == pytest.approx(p, rel=1e-12)
    net.sim.run(until=duration)
    pairs, attempts = link.pairs_generated, link.attempts
    assert pairs >= 3000 and attempts > pairs
    se = math.sqrt(p * (1 - p) / attempts)
    assert abs(pairs / attempts - p) < 4 * se, (pairs, attempts, pairs / attempts, p, se)
    if p_dark:
        assert abs(pairs / attempts - analytic_p(scheme, eta, 0.0)) > 4 * se


def test_short_runs_pool_to_p_because_only_resolved_attempts_count():
    """The sweep's regime: many runs of a few attempt cycles each (2 ms, 4 position pairs,
    double click over 20 km, p = η²/2 ≈ 0.072). Pooled heralds S and attempts A satisfy
    |S − pA| < 4√(p(1−p)A) (the martingale of the module docstring). A counter that counted each
    sampled sequence whole at its start would add about K/p ≈ 56 attempts per run — with ~60
    resolved attempts per run, half the ratio, ~10 SE here. No run counts more attempts than its
    position pairs had cycles whose photons reached the station by the end of the run."""
    p = analytic_p("double_click", arm_eta(20e3), 0.0)
    heralds = attempts = 0
    for seed in range(60):
        net, link = link_run("double_click", 20e3, positions=4, duration=2e-3, seed=seed)
        net.sim.run(until=2e-3)
        c, d = link.base_model.cycle_time, link.delay_a
        assert link.attempts <= 4 * (math.floor((2e-3 - d) / c) + 1)
        heralds += link.pairs_generated
        attempts += link.attempts
    assert attempts > 2000
    assert abs(heralds - p * attempts) < 4 * math.sqrt(p * (1 - p) * attempts), (heralds, attempts, p)


def _restart(clock: str, x: float, c: float) -> float:
    """Time from a successful emission to its position pair's next first attempt."""
    return c * max(1, math.ceil(x / c - 1e-9)) if clock == "slotted" else max(x, c)


@pytest.mark.parametrize("clock", ["slotted", "free"])
@pytest.mark.parametrize("scheme", ["double_click", "single_click"])
def test_pair_rate_per_second_is_the_renewal_rate_of_the_clock(scheme, clock):
    """20 km, 5 kHz attempts, 10 position pairs: c = 1/R = 200 µs > 2d ≈ 96 µs and
    x = 6d ≈ 1.44c, so the restart offset is a = 2c slotted and a = x free. Heralds counted after
    a 0.1 s warm-up come at K/E[T] per second, E[T] = a + (1/p − 1)c with the scheme's analytic
    p, within 4 SE of the renewal count (module docstring)."""
    warm, duration, k = 0.1, 1.2 if scheme == "double_click" else 0.9, 10
    net, link = link_run(scheme, 20e3, clock=clock, rate="5 kHz", positions=k, duration=duration, seed=9)
    d = link.delay_a
    c = link.base_model.cycle_time
    assert c == pytest.approx(max(2 * d, 1 / 5e3), rel=1e-12) and c == 2e-4
    p = analytic_p(scheme, arm_eta(20e3), 0.0)
    a = _restart(clock, 2 * d + 2 * (2 * d), c)
    assert a == pytest.approx(2 * c if clock == "slotted" else 6 * d, rel=1e-12)
    net.sim.run(until=warm)
    before = link.pairs_generated
    net.sim.run(until=duration)
    count = link.pairs_generated - before
    tau = duration - warm
    mean_t, var_t = a + (1 / p - 1) * c, c * c * (1 - p) / p**2
    expected = k * tau / mean_t
    se = math.sqrt(k * tau * var_t / mean_t**3)
    assert count > 1000
    assert abs(count - expected) < 4 * se, (count, expected, se)
