"""The CHSH game and device-independent QKD (qstack.apps.chsh), checked against theory.

* The measurement bases are right: on Φ⁺ the correlator of ``cos α Z + sin α X`` on both
  sides is ``cos(α − β)``, exactly; Alice's (0, π/2) and Bob's (±π/4) give S = 2√2.
* Werner pairs of fidelity F scale every correlator by ``w = (4F − 1)/3``: S = 2√2·w and the
  game is won with probability ½ + S/8 (cos²(π/8) for Φ⁺); the estimates fall within four
  standard errors, ``SE(S) = √(Σ (1 − E_xy²)/n_xy)`` and ``√(p(1 − p)/n)``.
* DI-QKD (Acín et al. 2007): with near-perfect pairs S > 2, the key rounds' error rate is
  ``2(1 − F)/3``, the Bell test passes at ε = 1e-6 and the finite-statistics rate (at the
  confidence bounds S_L, Q_U) is positive and below the asymptotic one; an intercept-resend
  attacker on Bob's side makes the pairs separable (S = √2·w < 2) and the protocol aborts,
  although the key rounds show no extra errors and Eve holds Bob's whole key.
* The Bell test is a one-sided Chernoff bound: a local strategy (S = 2, Eve knows the key)
  passes with probability ≤ ε — exactly, from the binomial law of its wins, and over seeded
  runs of the application — where the old point estimate passed about half the time.
* Every message that decides the key or the verdict is authenticated: a forged verdict, a man in
  the middle rewriting Bob's revealed outcomes, and a replayed message are refused, counted, and
  end both roles with the same reason; security parameters outside their range are refused.
* Stages: the game and honest DI-QKD are stage-2 applications (measured pairs, per-side random
  settings); the attacked run keeps Bob's qubit for Eve (stage 3).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.apps import make_application, run_app
from qstack.apps.bb84 import _Reader, _Writer
from qstack.apps.chsh import (
    ALICE_ANGLES,
    BOB_ANGLES,
    DIQKD,
    LOCAL_HIDDEN_VARIABLE,
    LOCAL_STRATEGIES,
    CHSHGame,
    _read_estimate,
    _write_estimate,
    chsh_win_probability,
    estimate_chsh,
    intercept_resend_chsh_value,
    werner_qber,
    xz_basis,
)
from qstack.apps.runtime import RoleContext
from qstack.qkd import MessageRejected
from qstack.qkd.device_independent import chsh_bell_test, di_qkd_finite_rate
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


def test_di_qkd_gives_a_positive_finite_rate_for_near_perfect_pairs():
    """DI-QKD, 6000 rounds over one Werner link of F = 0.99: S within 4 SE of 2√2·w, the sampled
    QBER within 4 SE of 2(1 − F)/3; the Bell test passes at ε = 1e-6 (S_L = 8 w_L − 4 > 2, w_L the
    Chernoff bound of the observed wins); the rate is the finite-statistics one,
    1 − h(Q_U) − h((1 + √((S_L/2)² − 1))/2), positive and below the asymptotic rate at the
    true S, Q (≈ 0.84). Alice's and Bob's raw keys differ in a fraction 2(1 − F)/3 (4 SE)."""
    f = 0.99
    w = (4 * f - 1) / 3
    r = run_app(DIQKD(6000), load_scenario(linear_chain(2, seed=3, raw_fidelity=f, t2="inf")), ONE_LINK)
    a, b = r.results["alice"], r.results["bob"]
    assert abs(a.chsh.value - chsh_value_werner(f)) < 4 * _chsh_se(_werner_correlators(w), a.chsh.counts)
    q = werner_qber(f)
    assert a.qber_rounds > 300 and b.qber_rounds == a.qber_rounds
    assert abs(a.qber - q) < 4 * math.sqrt(q * (1 - q) / a.qber_rounds)
    assert not a.aborted and not b.aborted and a.abort is None and b.abort is None
    test = a.bell_test
    assert test.passed and test.epsilon == 1e-6 and test.rounds == sum(map(sum, a.chsh.counts))
    assert test.win_rate == pytest.approx(a.chsh.win_rate, abs=1e-12)
    assert test.chsh_lower == pytest.approx(8 * test.win_lower - 4, abs=1e-12) and 2 < test.chsh_lower < a.chsh.value
    errors = round(a.qber * a.qber_rounds)
    finite = di_qkd_finite_rate(test.chsh_lower, errors, a.qber_rounds, 1e-6)
    assert a.rate == pytest.approx(finite.rate, abs=1e-12) and a.qber_upper == finite.qber_upper > a.qber
    assert 0 < a.rate < di_qkd_rate(chsh_value_werner(f), q) and b.rate == a.rate
    assert b.bell_test == test
    assert di_qkd_rate(chsh_value_werner(f), q) == pytest.approx(0.84, abs=0.01)
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
    assert a.abort.stage == b.abort.stage == "bell test" and str(a.abort) == str(b.abort)
    assert b.abort.announced_by == "alice"
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


# --------------------------------------------------------------------------- Bell test at a stated ε

ONE_LINK = {"alice": "n0", "bob": "n1"}


def _one_link(seed: int, raw_fidelity: float = 0.99):
    return load_scenario(linear_chain(2, seed=seed, raw_fidelity=raw_fidelity, t2="inf"))


def test_the_local_strategies_win_three_quarters_and_give_s_equal_two():
    """The 8 deterministic strategies winning 3 of the 4 input pairs; drawn uniformly, each input
    pair is lost with probability ¼, so E_xy = ±½ and S = 2 exactly (the local bound)."""
    assert len(LOCAL_STRATEGIES) == 8
    correlators = {}
    for x in (0, 1):
        for y in (0, 1):
            wins = [(s[x] ^ s[2 + y]) == (x & y) for s in LOCAL_STRATEGIES]
            assert sum(wins) == 6
            correlators[x, y] = np.mean([1 - 2 * (s[x] ^ s[2 + y]) for s in LOCAL_STRATEGIES])
    s_value = correlators[0, 0] + correlators[0, 1] + correlators[1, 0] - correlators[1, 1]
    assert s_value == pytest.approx(2.0, abs=1e-12)


@pytest.mark.parametrize("epsilon", [1e-1, 1e-3, 1e-6])
def test_a_local_strategy_passes_the_chernoff_bell_test_with_probability_at_most_epsilon(epsilon):
    """A local strategy's wins in m test rounds are at most Binomial(m, ¾) (i.i.d. here). The test
    passes iff S_L > 2, and the exact probability of that, P(K ≥ k*) from the binomial law, is
    ≤ ε for m up to 4000 — while the point estimate S > 2 passes about half the time."""
    from scipy.stats import binom

    checked = 0
    for m in list(range(1, 120, 7)) + list(range(120, 4001, 211)):
        if not chsh_bell_test(m, m, epsilon).passed:
            continue  # too few rounds to pass at all
        low, high = 0, m  # the smallest passing number of wins k*, by bisection (passing is monotone in k)
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (low, mid) if chsh_bell_test(mid, m, epsilon).passed else (mid, high)
        k_star = high
        assert not chsh_bell_test(k_star - 1, m, epsilon).passed
        assert chsh_bell_test(min(m, k_star + 1), m, epsilon).passed
        assert binom.sf(k_star - 1, m, 0.75) <= epsilon  # P(K >= k*) for the best local strategy
        checked += 1
    assert checked >= 15
    point = binom.sf(3000 * 3 // 4, 3000, 0.75)  # P(wins > 3m/4): the old test's pass rate
    assert 0.45 < point < 0.5


def test_local_devices_pass_the_di_qkd_bell_test_at_most_epsilon_of_the_time():
    """30 seeded runs with local devices (S = 2 in expectation, QBER 0, Eve knows every key bit):
    the observed win rates average ¾ within 4 SE, but the Bell test at ε = 0.05 passes in at most
    30 ε + 4 √(30 ε (1 − ε)) runs — the point estimate S > 2 would pass about half of them."""
    epsilon, runs = 0.05, 30
    passes, rates, wins, rounds = 0, [], 0, 0
    for seed in range(runs):
        r = run_app(DIQKD(200, attack=LOCAL_HIDDEN_VARIABLE, epsilon_bell=epsilon), _one_link(seed), ONE_LINK)
        a, b = r.results["alice"], r.results["bob"]
        passes += a.bell_test.passed
        wins, rounds = wins + a.bell_test.wins, rounds + a.bell_test.rounds
        rates.append(a.rate)
        assert a.qber == 0.0 and b.eavesdropper_key == b.raw_key == a.raw_key
        assert a.aborted == b.aborted and str(a.abort) == str(b.abort)
    assert abs(wins / rounds - 0.75) < 4 * math.sqrt(0.75 * 0.25 / rounds)
    assert passes <= runs * epsilon + 4 * math.sqrt(runs * epsilon * (1 - epsilon))
    assert sum(rate > 0 for rate in rates) <= passes


@pytest.mark.parametrize(("params", "message"), [
    ({"abort_below": 1.9}, r"abort_below must be in \[2, 2√2 = 2\.828427\).*got 1\.9"),
    ({"abort_below": 3.0}, r"abort_below must be in \[2, 2√2"),
    ({"epsilon_bell": 0.0}, r"epsilon_bell must be in \(0, 1\), got 0\.0"),
    ({"epsilon_bell": 1.0}, r"epsilon_bell must be in \(0, 1\)"),
    ({"epsilon_qber": -1e-3}, r"epsilon_qber must be in \(0, 1\)"),
    ({"auth_key": {"hex": "ab" * 64}}, r"auth_key: the key has 512 bits \(64 bytes\) but the messages to "
                                      r"authenticate need at least 1024 bits"),
    ({"auth_key_bits": 512}, r"auth_key_bits must be a multiple of 8 and >= 1024"),
    ({"attack": "photon_number_splitting"}, r"attack must be None, 'intercept_resend' or 'local_hidden_variable'"),
])
def test_di_qkd_security_parameters_outside_their_range_are_refused_at_load(params, message):
    """abort_below below the local bound 2 would let a classical device pass; ε outside (0, 1)
    states no confidence; a pre-shared key shorter than 2 × 4 tags × 128 bits cannot authenticate
    the run. Each is refused when the application is built, naming the field and the bound."""
    with pytest.raises(ValueError, match=message):
        DIQKD(**params)
    with pytest.raises(ValueError, match=message):
        make_application("di-qkd", params, None)


# --------------------------------------------------------------------------- authenticated public discussion


def _frame(wire: bytes) -> tuple[int, str, bytes]:
    n = int.from_bytes(wire[1:3], "big")
    return wire[0], wire[3:3 + n].decode(), wire[3 + n:]


def _reframe(kind: int, label: str, body: bytes) -> bytes:
    name = label.encode()
    return bytes([kind]) + len(name).to_bytes(2, "big") + name + body


def _intercept(monkeypatch, label: str, rewrite) -> None:
    """Eve on the classical channel: rewrite the payload of message ``label`` (its tag kept)."""
    original = RoleContext.send

    def mitm(self, to_role, payload):
        kind, got, body = _frame(payload)
        if got == label:
            payload = _reframe(kind, got, body[:16] + rewrite(body[16:]))
        return original(self, to_role, payload)

    monkeypatch.setattr(RoleContext, "send", mitm)


def _accepting_verdict(payload: bytes) -> bytes:
    """Alice's verdict rewritten to 'accepted, rate 0.5' (the statistics kept)."""
    r = _Reader(payload)
    estimate, q, q_se, q_n, _rate, q_up = _read_estimate(r), r.f64(), r.f64(), r.u64(), r.f64(), r.f64()
    wins, n, _w_low = r.u64(), r.u64(), r.f64()
    w = _write_estimate(_Writer(), estimate).f64(q).f64(q_se).u64(q_n).f64(0.5).f64(q_up)
    return w.u64(wins).u64(n).f64(0.99).u64(0).done()


def test_a_forged_verdict_does_not_make_bob_keep_a_key_alice_aborted(monkeypatch):
    """Intercept-resend (Alice's Bell test fails, Eve knows the key): Eve rewrites Alice's verdict
    to 'accepted, rate 0.5'. Bob's tag check fails, so he keeps no key — he aborts, counts the
    refusal, and announces it; Alice had aborted on her test."""
    _intercept(monkeypatch, "verdict", _accepting_verdict)
    r = run_app(DIQKD(600, batch=10, attack="intercept_resend"), _one_link(7, 1.0), ONE_LINK)
    a, b = r.results["alice"], r.results["bob"]
    assert a.aborted and a.abort.stage == "bell test" and a.rate == 0.0
    assert b.aborted and b.rate == 0.0 and isinstance(b.abort, MessageRejected)
    assert b.abort.reason == "tag" and "message 'verdict'" in str(b.abort)
    assert b.rejected == {"tag": 1} and a.rejected == {}


def test_a_verdict_altered_on_an_honest_run_ends_both_roles_with_bobs_reason(monkeypatch):
    """Honest devices (Alice accepts): Eve flips one bit of the verdict. Bob refuses it and
    announces the abort; Alice, waiting for Bob's reply before she keeps a key, ends with the
    same reason."""
    _intercept(monkeypatch, "verdict", lambda body: body[:-1] + bytes([body[-1] ^ 1]))
    r = run_app(DIQKD(2000, epsilon_bell=1e-3, epsilon_qber=1e-3), _one_link(5), ONE_LINK)
    a, b = r.results["alice"], r.results["bob"]
    assert a.bell_test.passed  # Alice had accepted
    assert a.aborted and b.aborted and a.rate == b.rate == 0.0
    assert str(a.abort) == str(b.abort) and a.abort.stage == "authentication" and a.abort.announced_by == "bob"
    assert b.rejected == {"tag": 1}


def test_a_man_in_the_middle_rewriting_bobs_outcomes_is_refused(monkeypatch):
    """Intercept-resend plus a man in the middle who rewrites Bob's revealed outcomes (to fake a
    Bell violation): Alice's tag check fails, she aborts and her verdict announces why, so Bob
    ends with the same reason; no key, the refusal counted."""
    _intercept(monkeypatch, "revealed", lambda body: bytes(v ^ 1 for v in body))
    r = run_app(DIQKD(600, batch=10, attack="intercept_resend"), _one_link(7, 1.0), ONE_LINK)
    a, b = r.results["alice"], r.results["bob"]
    assert a.aborted and b.aborted and a.rate == b.rate == 0.0
    assert isinstance(a.abort, MessageRejected) and a.abort.reason == "tag" and "message 'revealed'" in str(a.abort)
    assert str(a.abort) == str(b.abort) and b.abort.announced_by == "alice"
    assert a.rejected == {"tag": 1} and b.rejected == {}


def test_a_replayed_di_qkd_message_is_refused(monkeypatch):
    """Eve delivers Bob's (validly tagged) input announcement again in place of his sample
    flags: its key slice was already used, so Alice refuses it as a replay and both abort."""
    original = RoleContext.send
    recorded: dict[str, bytes] = {}

    def replay(self, to_role, payload):
        kind, label, body = _frame(payload)
        if label == "inputs/bob":
            recorded["body"] = body
        elif label == "sample":
            payload = _reframe(kind, label, recorded["body"])
        return original(self, to_role, payload)

    monkeypatch.setattr(RoleContext, "send", replay)
    r = run_app(DIQKD(300), _one_link(2), ONE_LINK)
    a, b = r.results["alice"], r.results["bob"]
    assert a.aborted and b.aborted and a.abort.reason == "replay" and str(a.abort) == str(b.abort)
    assert a.rejected == {"replay": 1}


def test_di_qkd_is_deterministic_and_its_key_is_never_the_seeds():
    """Same seed, same results (raw keys, statistics, verdict), with a fresh CSPRNG key each
    run; a named hex key is used as given."""
    runs = [run_app(DIQKD(300), _one_link(9), ONE_LINK).results for _ in range(2)]
    named = run_app(DIQKD(300, auth_key={"hex": "5a" * 128}), _one_link(9), ONE_LINK).results
    for role in ("alice", "bob"):
        assert runs[0][role].raw_key == runs[1][role].raw_key == named[role].raw_key
        assert runs[0][role].chsh == runs[1][role].chsh == named[role].chsh
        assert runs[0][role].auth_key_source == "fresh" and named[role].auth_key_source == "hex"
