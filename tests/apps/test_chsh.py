"""The CHSH game and device-independent QKD (qstack.apps.chsh), checked against theory.

* The measurement bases are right: on Φ⁺ the correlator of ``cos α Z + sin α X`` on both
  sides is ``cos(α − β)``, exactly; Alice's (0, π/2) and Bob's (±π/4) give S = 2√2.
* Werner pairs of fidelity F scale every correlator by ``w = (4F − 1)/3``: S = 2√2·w and the
  game is won with probability ½ + S/8 (cos²(π/8) for Φ⁺); the estimates fall within four
  standard errors, ``SE(S) = √(Σ (1 − E_xy²)/n_xy)`` and ``√(p(1 − p)/n)``.
* DI-QKD (Acín et al. 2007): with near-perfect pairs S > 2, the key rounds' error rate is
  ``2(1 − F)/3`` and the asymptotic rate is positive; an intercept-resend attacker on Bob's
  side makes the pairs separable (S = √2·w < 2) and the protocol aborts, although the key
  rounds show no extra errors and Eve holds Bob's whole key.
* Stages: the game and honest DI-QKD are stage-2 applications (measured pairs, per-side random
  settings); the attacked run keeps Bob's qubit for Eve (stage 3).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.apps import run_app
from qstack.apps.chsh import (
    ALICE_ANGLES,
    BOB_ANGLES,
    DIQKD,
    CHSHGame,
    chsh_win_probability,
    estimate_chsh,
    intercept_resend_chsh_value,
    werner_qber,
    xz_basis,
)
from qstack.qkd.entropy import TSIRELSON_BOUND, chsh_value_werner, di_qkd_rate
from qstack.quantum import bell_state, theory
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import Stage, StageError

ALICE_BOB = {"alice": "n0", "bob": "n2"}


def _chain(raw_fidelity: float, seed: int = 11):
    return load_scenario(linear_chain(3, seed=seed, raw_fidelity=raw_fidelity, t2="inf"))


def _chsh_se(correlators, counts) -> float:
    """Standard error of S for given true correlators and the rounds each input pair got."""
    return math.sqrt(sum((1 - correlators[x][y] ** 2) / counts[x][y] for x in (0, 1) for y in (0, 1)))


def _werner_correlators(w: float):
    c = w / math.sqrt(2)
    return ((c, c), (c, -c))


def test_xz_bases_give_phi_plus_correlator_cos_alpha_minus_beta():
    """⟨Φ⁺| A(α) ⊗ A(β) |Φ⁺⟩ = cos(α − β) for the projectors the apps measure with, to 1e-12,
    so Alice's and Bob's CHSH settings reach S = 2√2 exactly."""
    phi = bell_state("phi+").full().reshape(-1)

    def observable(angle):
        plus, minus = (k.full().reshape(-1) for k in xz_basis(angle))
        return np.outer(plus, plus.conj()) - np.outer(minus, minus.conj())

    def corr(alpha, beta):
        return float(np.real(np.vdot(phi, np.kron(observable(alpha), observable(beta)) @ phi)))

    for alpha in (0.0, 0.3, math.pi / 2):
        for beta in (-math.pi / 4, 0.1, math.pi / 4):
            assert corr(alpha, beta) == pytest.approx(math.cos(alpha - beta), abs=1e-12)
    s = sum(corr(ALICE_ANGLES[x], BOB_ANGLES[y]) * (-1 if x == y == 1 else 1) for x in (0, 1) for y in (0, 1))
    assert s == pytest.approx(TSIRELSON_BOUND, abs=1e-12)


@pytest.fixture(scope="module")
def werner_game():
    """2000 CHSH rounds over a 2-link chain of Werner links F = 0.95 (e2e F = werner_swap)."""
    f_e2e = theory.werner_swap_fidelity(0.95, 0.95)
    r = run_app(CHSHGame(2000), _chain(0.95), ALICE_BOB)
    return f_e2e, r.results["alice"], r.results["bob"]


def test_chsh_value_of_werner_pairs_is_2sqrt2_times_werner_parameter(werner_game):
    """S of end-to-end Werner pairs (F_e2e = 0.9033) is 2√2(4F − 1)/3 = 2.64 within 4 SE, with
    SE from the true correlators ±w/√2 and the actual round counts; the estimated SE agrees."""
    f, est, _ = werner_game
    w = (4 * f - 1) / 3
    se = _chsh_se(_werner_correlators(w), est.counts)
    assert abs(est.value - chsh_value_werner(f)) < 4 * se
    assert est.standard_error == pytest.approx(se, rel=0.05)
    assert est.value > 2  # the Bell inequality is violated
    for x in (0, 1):
        for y in (0, 1):
            sign = -1 if x == y == 1 else 1
            assert abs(est.correlators[x][y] - sign * w / math.sqrt(2)) < 4 * math.sqrt(
                (1 - w * w / 2) / est.counts[x][y])


def test_chsh_game_win_rate_is_one_half_plus_s_over_eight(werner_game):
    """The CHSH game on Werner pairs is won with probability ½ + S/8 = ½ + √2·w/4, within 4 SE;
    every round has uniformly random inputs (each of the four pairs ≈ n/4)."""
    f, est, (y, b) = werner_game
    p = chsh_win_probability(f)
    assert abs(est.win_rate - p) < 4 * math.sqrt(p * (1 - p) / est.rounds)
    for row in est.counts:
        for n_xy in row:
            assert abs(n_xy - est.rounds / 4) < 4 * math.sqrt(est.rounds * 3 / 16)
    assert len(y) == len(b) == est.rounds


def test_chsh_game_with_perfect_pairs_reaches_tsirelson_and_cos_squared_pi_over_eight():
    """Ideal links (F = 1): S = 2√2 and P(win) = cos²(π/8) ≈ 0.854 within 4 SE — above the
    classical ¾."""
    r = run_app(CHSHGame(1500), _chain(1.0, seed=5), ALICE_BOB)
    est = r.results["alice"]
    se = _chsh_se(_werner_correlators(1.0), est.counts)
    assert abs(est.value - TSIRELSON_BOUND) < 4 * se
    p = math.cos(math.pi / 8) ** 2
    assert chsh_win_probability(1.0) == pytest.approx(p, abs=1e-12)
    assert abs(est.win_rate - p) < 4 * math.sqrt(p * (1 - p) / est.rounds)
    assert est.win_rate > 0.75


def test_di_qkd_gives_a_positive_rate_for_near_perfect_pairs():
    """DI-QKD over two Werner links of F = 0.99 (F_e2e = 0.9801): S within 4 SE of 2√2·w, the
    sampled QBER within 4 SE of 2(1 − F)/3, no abort, and the asymptotic rate
    1 − h(Q) − h((1 + √((S/2)² − 1))/2) positive (≈ 0.72 at the true S, Q). Alice's and Bob's
    raw keys differ in a fraction 2(1 − F)/3 of their bits (within 4 SE)."""
    f = theory.werner_swap_fidelity(0.99, 0.99)
    w = (4 * f - 1) / 3
    r = run_app(DIQKD(1800), _chain(0.99, seed=3), ALICE_BOB)
    a, b = r.results["alice"], r.results["bob"]
    assert abs(a.chsh.value - chsh_value_werner(f)) < 4 * _chsh_se(_werner_correlators(w), a.chsh.counts)
    q = werner_qber(f)
    assert a.qber_rounds > 50 and b.qber_rounds == a.qber_rounds
    assert abs(a.qber - q) < 4 * math.sqrt(q * (1 - q) / a.qber_rounds)
    assert not a.aborted and not b.aborted
    assert a.rate > 0 and b.rate == a.rate
    assert a.rate == pytest.approx(di_qkd_rate(min(a.chsh.value, TSIRELSON_BOUND), a.qber), abs=1e-12)
    assert di_qkd_rate(chsh_value_werner(f), q) == pytest.approx(0.72, abs=0.01)
    assert a.key_rounds == b.key_rounds and len(a.raw_key) == len(b.raw_key) > 50
    n = len(a.raw_key)
    mismatch = np.mean(np.array(a.raw_key) != np.array(b.raw_key))
    assert abs(mismatch - q) < 4 * math.sqrt(q * (1 - q) / n) + 1 / n
    assert b.chsh.value == a.chsh.value  # Bob learns Alice's estimate


def test_intercept_resend_attack_makes_pairs_separable_and_di_qkd_aborts():
    """Eve measures Bob's half in Z and resends: over perfect links S = √2·w = √2 < 2 (within
    4 SE, SE from the true correlators 1/√2, 1/√2, 0, 0), so the protocol aborts with rate 0 —
    although the key rounds are error-free (QBER 0) and Eve's bits equal Bob's and Alice's key."""
    r = run_app(DIQKD(1500, batch=10, attack="intercept_resend"), _chain(1.0, seed=7), ALICE_BOB)
    a, b = r.results["alice"], r.results["bob"]
    c = 1 / math.sqrt(2)
    assert abs(a.chsh.value - intercept_resend_chsh_value(1.0)) < 4 * _chsh_se(((c, c), (0.0, 0.0)), a.chsh.counts)
    assert a.chsh.value < 2
    assert a.aborted and b.aborted and a.rate == b.rate == 0.0
    assert a.qber == 0.0
    assert b.eavesdropper_key == b.raw_key == a.raw_key and len(a.raw_key) > 50


def test_intercept_resend_on_werner_pairs_gives_sqrt2_times_w():
    """The attacked CHSH value on Werner pairs is √2·w (E(A₀, B(β)) = w cos β, E(A₁, ·) = 0):
    over links of F = 0.9 (F_e2e = 0.8133, w = 0.751) within 4 SE of 1.062; aborts."""
    f = theory.werner_swap_fidelity(0.9, 0.9)
    w = (4 * f - 1) / 3
    r = run_app(DIQKD(1200, batch=10, attack="intercept_resend"), _chain(0.9, seed=2), ALICE_BOB)
    a = r.results["alice"]
    c = w / math.sqrt(2)
    assert abs(a.chsh.value - math.sqrt(2) * w) < 4 * _chsh_se(((c, c), (0.0, 0.0)), a.chsh.counts)
    assert a.aborted and a.rate == 0.0


def test_estimate_chsh_flags_missing_input_pairs_and_rejects_ragged_rounds():
    """S needs all four input combinations (else NaN with infinite SE, and DI-QKD aborts);
    each round needs x, y, a and b."""
    e = estimate_chsh([0, 0, 1], [0, 1, 0], [0, 0, 0], [0, 0, 0])
    assert math.isnan(e.value) and e.standard_error == math.inf and e.counts[1][1] == 0
    with pytest.raises(ValueError, match="one entry per round"):
        estimate_chsh([0, 1], [0], [0], [0])


def _memoryless_ends(seed: int = 1) -> dict:
    """A 2-link chain whose end nodes keep a qubit 1 ns (the repeater's memory is ideal)."""
    d = linear_chain(3, seed=seed, t2="inf")
    d["hardware"]["poor"] = {**d["hardware"]["default"], "t2": "1 ns", "t1": "1 s"}
    for node in d["nodes"]:
        if node["role"] == "end":
            node["hardware"] = "poor"
    return d


def test_chsh_apps_are_stage_two_but_the_attacked_run_keeps_qubits():
    """The CHSH game and honest DI-QKD only measure (stage 2): they run on a network whose end
    memories last 1 ns (stage 2). The attacked DI-QKD run keeps Bob's qubit for Eve, so it
    declares stage 3 and is refused there, naming the missing storage."""
    sc = load_scenario(_memoryless_ends())
    assert CHSHGame().stage_of("alice") == DIQKD().stage_of("bob") == Stage.ENTANGLEMENT_DISTRIBUTION
    run_app(CHSHGame(8), sc, ALICE_BOB)
    run_app(DIQKD(30), sc, ALICE_BOB)
    with pytest.raises(StageError, match="stage 3"):
        run_app(DIQKD(8, attack="intercept_resend"), sc, ALICE_BOB)


def test_chsh_on_a_stage_two_network_with_memoryless_ends_reaches_tsirelson():
    """Ideal links, end memories of 1 ns (a stage-2 network): the ends measure each photon at
    once, so the pairs' statistics should be those of Φ⁺ — S = 2√2 within 4 SE."""
    r = run_app(CHSHGame(1000), load_scenario(_memoryless_ends(seed=4)), ALICE_BOB)
    est = r.results["alice"]
    assert abs(est.value - TSIRELSON_BOUND) < 4 * _chsh_se(_werner_correlators(1.0), est.counts)
