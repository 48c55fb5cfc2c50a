"""Decoy-state BB84 and BBM92 (stage 1), checked against the channel model and key-rate theory.

* Gains and error rates: with eta = T eta_d (fibre transmissivity times detector efficiency), a
  class of intensity mu has gain Q = 1 - (1 - Y0) e^{-eta mu} and QBER
  E = (e_d s + Y0 (1 - s)/2) / Q, s = 1 - e^{-eta mu} (Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005),
  with the Y0 s cross term kept); every measured value lies within 4 binomial standard errors,
  with both samplers (every pulse drawn, or only the pulses whose photons arrive).
* Key length: the finite-key decoy GLLP length is reproduced exactly from the published
  statistics; without the finite-size terms it equals n/Q_mu times ``decoy_state_rate`` (q = 1,
  Cascade's measured f) to 1e-9; the ratio finite/asymptotic grows towards 1 with the number of
  pulses; the measured asymptotic rate agrees with ``decoy_state_rate`` at the model's
  statistics within 4 (delta-method) standard errors and lies below the infinite-decoy rate.
* Single photons: Tomamichel's finite-key length exactly; at the Shannon limit the secret
  fraction is the Shor–Preskill 1 - 2h(Q).
* Intercept–resend of a fraction f: QBER = e_d + f (1 - 2e_d)/4 (plus the dark-count share),
  within 4 SE; above the 11 % threshold both roles abort with QKDAbort and no key.
* Identical keys at both ends, deterministic per seed; every classical message authenticated,
  the pre-shared key never reused (asked of the pools). The key comes from a source the scenario
  names (a key file, inline hex) or is fresh from the OS CSPRNG — never from the seed: a forger
  who knows the seed, a tampered message and a replayed one are refused, counted, and the
  refusing role announces the abort, so both roles end with the same reason.
* Security parameters outside their secure range (qber_threshold above 11 %, a key too short for
  the run's tags) are refused when the application is built, naming the bound.
* BBM92: coincidence probability and QBER from multi-pair emissions and dark counts agree with
  the model's exact sums within 4 SE.
"""

from __future__ import annotations

import functools
import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from qstack.apps import APPLICATIONS, run_app
from qstack.apps.bb84 import (
    BB84,
    BBM92,
    CLASS_NAMES,
    QBER_THRESHOLD,
    bbm92_expected_statistics,
    decoy_key_length,
    example_link,
    expected_gain_qber,
)
from qstack.apps.runtime import RoleContext
from qstack.physical.fibre import Fibre
from qstack.qkd import (
    KeyReuseError,
    MessageRejected,
    QKDAbort,
    bb84_asymptotic_rate,
    bb84_qber_threshold,
    binary_entropy,
    decoy_state_rate,
    finite_key_length,
    ideal_decoy_rate,
    intercept_resend_qber,
    wegman_carter_tag,
)
from qstack.scenario import load_scenario
from qstack.stages import StageError

STAGE1 = Path(__file__).resolve().parents[2] / "stages" / "stage1"
LENGTH = 25e3
ETA_D = 0.2
Y0 = 1e-5
E_D = 0.015
ETA = Fibre(LENGTH).transmissivity * ETA_D
ROLES = {"alice": "alice", "bob": "bob"}


def _scenario(seed: int = 5, **kw):
    return load_scenario(example_link(LENGTH, seed=seed, detector_efficiency=ETA_D, dark_count_probability=Y0, **kw))


@functools.cache
def _run(pulses: int, seed: int = 5, **params):
    r = run_app(BB84(pulses=pulses, misalignment=E_D, **params), _scenario(seed), ROLES)
    return r.results["alice"], r.results["bob"]


def _within(measured: float, expected: float, se: float, k: float = 4.0) -> None:
    assert abs(measured - expected) <= k * se, f"{measured} vs {expected} ± {k}×{se}"


# --------------------------------------------------------------------------- channel statistics


@pytest.mark.parametrize("sampling", ["pulse", "click"])
def test_gains_and_qbers_match_the_weak_coherent_channel_model(sampling):
    """1e7 pulses over 25 km (eta = 0.063): the gain of each class (signal 0.5, decoy 0.1,
    vacuum), the decoy QBER, the signal sample QBER and the QBER of all sifted signal bits lie
    within 4 SE of Q = 1 - (1 - Y0) e^{-eta mu}, E = (e_d s + Y0 (1 - s)/2)/Q; half the clicks
    survive sifting."""
    alice, bob = _run(10_000_000, sampling=sampling)
    stats = bob.statistics
    assert stats == alice.statistics and not alice.aborted
    for c, mu in enumerate((0.5, 0.1, 0.0)):
        q, e = expected_gain_qber(mu, ETA, Y0, E_D)
        n = stats.pulses[c]
        _within(stats.gains[c], q, math.sqrt(q * (1 - q) / n))
        _within(stats.sifted[c] / stats.detections[c], 0.5, math.sqrt(0.25 / stats.detections[c]))
        if c == 1:
            _within(stats.error_rates[c], e, math.sqrt(e * (1 - e) / stats.sifted[c]))
    q, e = expected_gain_qber(0.5, ETA, Y0, E_D)
    _within(stats.qber, e, math.sqrt(e * (1 - e) / stats.sample_size))
    sifted_errors = stats.sample_errors + bob.errors_corrected
    _within(sifted_errors / stats.sifted[0], e, math.sqrt(e * (1 - e) / stats.sifted[0]))
    assert sum(stats.pulses) == 10_000_000


def test_expected_statistics_reduce_to_ma_et_al_and_intercept_resend():
    """The sampler's exact model differs from Ma et al.'s only by the Y0 s cross terms, and its
    signal error is intercept_resend_qber(f, e_d) in series with misalignment."""
    from qstack.qkd import weak_coherent_statistics

    q, e = expected_gain_qber(0.5, ETA, Y0, E_D)
    q_ma, e_ma = weak_coherent_statistics(0.5, ETA, Y0, E_D)
    s = -math.expm1(-ETA * 0.5)
    assert q == pytest.approx(q_ma - Y0 * s, rel=1e-12)
    assert e * q == pytest.approx(e_ma * q_ma - Y0 * s / 2, rel=1e-12)
    _, e_eve = expected_gain_qber(0.5, ETA, 0.0, E_D, eavesdropper=0.4)
    assert e_eve == pytest.approx(intercept_resend_qber(0.4, E_D), abs=1e-12)


# --------------------------------------------------------------------------- key length


def _model_rate(stats, f):
    """Per-pulse decoy rate at the model's statistics and its delta-method SE at ``stats``' sizes."""
    mu, nu = 0.5, 0.1
    (q_mu, e_mu), (q_nu, e_nu), (y0, _) = (expected_gain_qber(x, ETA, Y0, E_D) for x in (mu, nu, 0.0))
    point = np.array([q_mu, e_mu, q_nu, e_nu, y0])
    se = np.array([math.sqrt(q_mu * (1 - q_mu) / stats.pulses[0]), math.sqrt(e_mu * (1 - e_mu) / stats.sample_size),
                   math.sqrt(q_nu * (1 - q_nu) / stats.pulses[1]), math.sqrt(e_nu * (1 - e_nu) / stats.sifted[1]),
                   math.sqrt(y0 / stats.pulses[2])])

    def rate(x):
        return decoy_state_rate(mu, nu, x[0], x[1], x[2], x[3], x[4], f)

    gradient = []
    for i in range(5):
        h = 1e-4 * point[i]
        up, down = point.copy(), point.copy()
        up[i] += h
        down[i] -= h
        gradient.append((rate(up) - rate(down)) / (2 * h))
    return rate(point), float(np.sqrt(np.sum((np.array(gradient) * se) ** 2)))


def test_decoy_key_length_is_gllp_and_tends_to_the_asymptotic_decoy_rate():
    """The key length is floor(n1 (1 - h(e1 + delta)) - leak - log2(2/(eps^2 eps_cor))) exactly;
    its asymptotic form is n/Q_mu x decoy_state_rate(q = 1) (Lo–Ma–Chen / GLLP) to 1e-9; the
    finite/asymptotic ratio grows with the number of pulses (2e6 -> 2e7); the measured per-pulse
    asymptotic rate matches p_signal (1 - sample fraction) decoy_state_rate at the model within
    4 SE, below the infinite-decoy limit."""
    ratios = []
    for pulses in (2_000_000, 20_000_000):
        alice, bob = _run(pulses, sampling="click")
        stats = alice.statistics
        n = stats.sifted[0] - stats.sample_size
        q_mu, q_nu, y0 = stats.gains
        length = decoy_key_length(n, stats.sifted[1], 0.5, q_mu, stats.decoy, alice.leaked_bits, 1e-10, 1e-12)
        assert alice.key_length == bob.key_length == length > 0
        f = alice.reconciliation_efficiency
        assert f == pytest.approx(alice.leaked_bits / (n * binary_entropy(stats.qber)), rel=1e-12) and 1.0 < f < 1.5
        per_gain = decoy_state_rate(0.5, 0.1, q_mu, stats.qber, q_nu, stats.error_rates[1], y0, f, q=1.0)
        assert alice.asymptotic_key_length == pytest.approx(n / q_mu * per_gain, rel=1e-9)
        ratios.append(alice.key_length / alice.asymptotic_key_length)
    assert 0 < ratios[0] < ratios[1] < 1 and ratios[1] > 0.5
    keep = 1 - stats.sample_size / stats.sifted[0]
    model, se = _model_rate(stats, f)
    p_signal = BB84().settings.p_signal
    _within(alice.asymptotic_rate, p_signal * keep * model, p_signal * keep * se)
    (q_mu, e_mu) = expected_gain_qber(0.5, ETA, Y0, E_D)
    assert model < ideal_decoy_rate(0.5, ETA, Y0, E_D, f)


def test_single_photon_key_is_tomamichel_and_tends_to_shor_preskill():
    """A single-photon source (emission efficiency 1): gain eta + Y0 (1 - eta), QBER within 4 SE;
    the key length is Tomamichel et al.'s finite-key length exactly, and at the Shannon-limit
    leak the asymptotic secret fraction is bb84_asymptotic_rate = 1 - 2h(Q)."""
    alice, bob = _run(3_000_000, source="single_photon")
    stats = alice.statistics
    q, e = expected_gain_qber(1.0, ETA, Y0, E_D, single_photon=True)
    _within(stats.gains[0], q, math.sqrt(q * (1 - q) / stats.pulses[0]))
    _within(stats.qber, e, math.sqrt(e * (1 - e) / stats.sample_size))
    n = stats.sifted[0] - stats.sample_size
    assert alice.key_length == finite_key_length(n, stats.sample_size, stats.qber, alice.leaked_bits, 1e-10, 1e-12)
    assert np.array_equal(alice.key, bob.key) and alice.key_length > 10_000
    shannon = (alice.asymptotic_key_length + alice.leaked_bits - n * binary_entropy(stats.qber)) / n
    assert shannon == pytest.approx(bb84_asymptotic_rate(stats.qber), abs=1e-9)


# --------------------------------------------------------------------------- eavesdropping


@pytest.mark.parametrize("fraction", [0.2, 0.6])
def test_intercept_resend_raises_the_qber_by_a_quarter_of_the_fraction(fraction):
    """Eve intercepts a fraction f: the sample QBER is (e' s + Y0 (1 - s)/2)/Q with
    e' = e_d + f (1 - 2e_d)/4, within 4 SE; at f = 0.6 (QBER ~16 %) it exceeds the 11 % Shor–
    Preskill threshold and both roles abort at parameter estimation with no key."""
    alice, bob = _run(4_000_000, eavesdropper=fraction)
    _, e = expected_gain_qber(0.5, ETA, Y0, E_D, eavesdropper=fraction)
    assert e == pytest.approx(intercept_resend_qber(fraction, E_D), abs=2e-4)
    _within(alice.qber, e, math.sqrt(e * (1 - e) / alice.statistics.sample_size))
    assert QBER_THRESHOLD == pytest.approx(bb84_qber_threshold()) == pytest.approx(0.110028, abs=1e-6)
    assert alice.aborted == bob.aborted and np.array_equal(alice.key, bob.key)
    if fraction == 0.6:
        for result in (alice, bob):
            assert isinstance(result.abort, QKDAbort) and result.abort.stage == "parameter estimation"
            assert result.abort.qber > QBER_THRESHOLD and "exceeds the threshold" in str(result.abort)
            assert result.key.size == 0 and result.key_length == 0
    else:
        assert alice.qber < QBER_THRESHOLD
        honest, _ = _run(4_000_000)
        assert alice.statistics.decoy.e1_upper > honest.statistics.decoy.e1_upper + 0.02


# --------------------------------------------------------------------------- keys and authentication


def test_keys_are_identical_at_both_ends_and_deterministic_per_seed():
    """Both roles hold the same key; the same seed gives the same key, another seed another."""
    a1, b1 = _run(2_000_000, seed=11)
    a2, b2 = run_app(BB84(pulses=2_000_000, misalignment=E_D), _scenario(11), ROLES).results.values()
    a3, _ = _run(2_000_000, seed=12)
    assert np.array_equal(a1.key, b1.key) and a1.key_length > 0
    assert np.array_equal(a1.key, a2.key) and np.array_equal(b1.key, b2.key)
    assert not np.array_equal(a1.key[:1000], a3.key[:1000])
    assert abs(float(np.mean(a1.key)) - 0.5) < 4 * math.sqrt(0.25 / a1.key_length)


def test_authentication_key_is_consumed_in_disjoint_slices_and_never_reused():
    """Every tagged message took a fresh 128-bit slice; the sender's and receiver's copies of each
    direction's pool handed out the same slices in the same order, none overlapping; asking a
    pool for a used slice again is refused (KeyReuseError)."""
    alice, bob = _run(2_000_000, seed=11)
    a_send, a_receive = alice.auth_pools
    b_send, b_receive = bob.auth_pools
    for sender, receiver, result in ((a_send, b_receive, alice), (b_send, a_receive, bob)):
        slices = [(start, stop) for start, stop, _ in sender.log]
        assert slices == [(start, stop) for start, stop, _ in receiver.log]
        assert all(stop - start == 128 for start, stop in slices)
        assert all(s1[1] <= s2[0] for s1, s2 in zip(slices, slices[1:], strict=False))
        assert sender.used == receiver.used == 128 * len(slices) == result.auth_bits_used
        start, stop = slices[0]
        with pytest.raises(KeyReuseError):
            receiver.take_range(start, stop)
    # sifting, estimation, 4 Cascade batch tags, verification, amplification seed / confirmation
    assert len(a_send.log) == 2 + 4 + 1 + 1 and len(b_send.log) == 2 + 4 + 1 + 1
    assert alice.auth_key_source == bob.auth_key_source == "fresh"
    assert alice.rejected == bob.rejected == {}


def _frame(wire: bytes) -> tuple[int, str, bytes]:
    """(kind, label, body) of an AuthenticatedLink frame."""
    (n,) = struct.unpack(">H", wire[1:3])
    return wire[0], wire[3:3 + n].decode(), wire[3 + n:]


def _reframe(kind: int, label: str, body: bytes) -> bytes:
    name = label.encode()
    return bytes([kind]) + struct.pack(">H", len(name)) + name + body


def _assert_same_abort(alice, bob, refuser: str, reason: str, label: str) -> None:
    """Both roles aborted with the same message and stage; the refusing role counted the
    refusal and announced it, the other ended on that announcement; no key anywhere."""
    other = bob if refuser == "alice" else alice
    me = alice if refuser == "alice" else bob
    assert alice.aborted and bob.aborted and alice.key_length == bob.key_length == 0
    assert str(alice.abort) == str(bob.abort) and alice.abort.stage == bob.abort.stage == "authentication"
    assert f"message {label!r}" in str(me.abort)
    assert isinstance(me.abort, MessageRejected) and me.abort.reason == reason and me.abort.announced_by is None
    assert other.abort.announced_by == refuser
    assert me.rejected == {reason: 1} and other.rejected == {}


@pytest.mark.parametrize(("label", "refused", "refuser"), [("estimation/sample", "estimation/sample", "bob"),
                                                          ("cascade/0/parities", "cascade/0/authentication", "bob"),
                                                          ("amplification/seed", "amplification/seed", "bob"),
                                                          ("estimation/reply", "estimation/reply", "alice")])
def test_a_tampered_message_is_refused_and_both_roles_abort_with_the_same_reason(monkeypatch, label, refused,
                                                                                refuser):
    """Flipping one bit of a message in transit makes the receiver's tag check fail: at once for a
    tagged message, at the end of the pass for a Cascade message (delayed authentication), before
    any key bit is output. The refusing role announces the abort (authenticated) and the other
    ends with the same reason — also when the refused message is Alice's last, the amplification
    seed: she waits for Bob's confirmation before she outputs a key."""
    original = RoleContext.send

    def tamper(self, to_role, payload):
        if _frame(payload)[1] == label:
            payload = payload[:-1] + bytes([payload[-1] ^ 1])
        return original(self, to_role, payload)

    monkeypatch.setattr(RoleContext, "send", tamper)
    r = run_app(BB84(pulses=2_000_000, misalignment=E_D), _scenario(3), ROLES)
    _assert_same_abort(r.results["alice"], r.results["bob"], refuser, "tag", refused)


def test_knowing_the_seed_does_not_let_eve_forge_a_tag(monkeypatch):
    """The old pre-shared key was drawn from the simulation stream ("preshared-authentication-key",
    "alice", "bob"): anyone with the scenario's seed could compute every tag. Eve does exactly that —
    she rewrites Alice's estimation sample (claims zero errors) and re-tags it with the slice that
    stream would give — and Bob refuses it: the key is no longer derived from the seed."""
    original = RoleContext.send

    def forge(self, to_role, payload):
        kind, label, body = _frame(payload)
        if label == "estimation/sample":
            start = struct.unpack(">Q", body[:8])[0]
            seeded = self.sim.rng("preshared-authentication-key", "alice", "bob").integers(0, 2, 8192, dtype=np.uint8)
            forward = seeded[:4096]  # the alice -> bob half, as the seed-derived key was split
            forged = body[16:-1] + bytes([body[-1] ^ 1])
            name = label.encode()
            bound = struct.pack(">H", len(name)) + name + struct.pack(">Q", len(forged)) + forged
            tag = wegman_carter_tag(bound, forward[start:start + 128])
            payload = _reframe(kind, label, struct.pack(">QQ", start, tag) + forged)
        return original(self, to_role, payload)

    monkeypatch.setattr(RoleContext, "send", forge)
    r = run_app(BB84(pulses=2_000_000, misalignment=E_D), _scenario(3), ROLES)
    _assert_same_abort(r.results["alice"], r.results["bob"], "bob", "tag", "estimation/sample")


def test_a_replayed_message_is_refused_because_its_key_slice_was_used(monkeypatch):
    """Eve records Alice's first message (the sifting announcement, validly tagged) and later
    delivers it again in place of the estimation sample, relabelled: its key slice was already
    taken from Bob's pool, so Bob refuses it as a replay and both roles abort."""
    original = RoleContext.send
    recorded: dict[str, bytes] = {}

    def replay(self, to_role, payload):
        kind, label, body = _frame(payload)
        if label == "sifting/announcement":
            recorded["body"] = body
        elif label == "estimation/sample":
            payload = _reframe(kind, label, recorded["body"])
        return original(self, to_role, payload)

    monkeypatch.setattr(RoleContext, "send", replay)
    r = run_app(BB84(pulses=2_000_000, misalignment=E_D), _scenario(3), ROLES)
    _assert_same_abort(r.results["alice"], r.results["bob"], "bob", "replay", "estimation/sample")


def test_a_named_key_file_or_hex_key_is_the_preshared_key_and_results_do_not_depend_on_it(tmp_path):
    """auth_key = {file = ...} or {hex = ...}: both roles' pools hold exactly that key, split in
    halves per direction (alice -> bob first), and the run's key and statistics are bit-identical
    to a run with a fresh CSPRNG key (no result depends on a tag's value)."""
    key = np.random.default_rng(99).integers(0, 256, 512, dtype=np.uint8).tobytes()
    path = tmp_path / "alice-bob.key"
    path.write_bytes(key)
    fresh_a, fresh_b = _run(2_000_000, seed=11)
    bits = np.unpackbits(np.frombuffer(key, dtype=np.uint8))
    for spec, source in (({"file": str(path)}, f"file {path}"), ({"hex": key.hex()}, "hex")):
        r = run_app(BB84(pulses=2_000_000, misalignment=E_D, auth_key=spec), _scenario(11), ROLES)
        alice, bob = r.results["alice"], r.results["bob"]
        assert alice.auth_key_source == bob.auth_key_source == source
        a_send, a_receive = alice.auth_pools
        assert np.array_equal(a_send.peek(0, 128), bits[:128])
        assert np.array_equal(a_receive.peek(0, 128), bits[2048:2048 + 128])
        assert np.array_equal(alice.key, fresh_a.key) and np.array_equal(bob.key, fresh_b.key)
        assert alice.statistics == fresh_a.statistics and alice.messages == fresh_a.messages


def test_a_fresh_key_changes_the_tags_between_runs_but_not_the_results(monkeypatch):
    """Without auth_key each run draws its key from the OS CSPRNG: two runs with the same seed
    send different tags and give bit-identical keys."""
    original = RoleContext.send
    tags: list[bytes] = []

    def capture(self, to_role, payload):
        kind, label, body = _frame(payload)
        if label == "sifting/detections":
            tags.append(body[8:16])
        return original(self, to_role, payload)

    monkeypatch.setattr(RoleContext, "send", capture)
    runs = [run_app(BB84(pulses=2_000_000, misalignment=E_D), _scenario(11), ROLES).results for _ in range(2)]
    assert len(tags) == 2 and tags[0] != tags[1]
    assert np.array_equal(runs[0]["alice"].key, runs[1]["alice"].key) and runs[0]["alice"].key_length > 0


@pytest.mark.parametrize(("params", "message"), [
    ({"qber_threshold": 0.2}, r"qber_threshold must be in \(0, 0\.110028\].*no key is secure.*got 0\.2"),
    ({"qber_threshold": 0.0}, r"qber_threshold must be in \(0, 0\.110028\]"),
    ({"auth_key": {"hex": "ab" * 100}}, r"auth_key: the key has 800 bits \(100 bytes\) but the messages to "
                                       r"authenticate need at least 2304 bits \(288 bytes\)"),
    ({"auth_key": {"hex": "ab" * 400}, "cascade_passes": 10}, r"need at least 3840 bits"),
    ({"auth_key": {"file": "/no/such/key"}}, r"auth_key\.file: cannot read the key file '/no/such/key'"),
    ({"auth_key": {"hex": "xyz"}}, r"auth_key\.hex: not an even number of hexadecimal digits"),
    ({"auth_key": {"seed": 1}}, r"auth_key: unknown key source 'seed'"),
    ({"auth_key": "key.bin"}, r"auth_key: must be a table like"),
    ({"auth_key": {"hex": "ab" * 400}, "auth_key_bits": 8192}, r"give one of them, not both"),
    ({"auth_key_bits": 1024}, r"auth_key_bits must be a multiple of 8 and >= 2304"),
])
def test_security_parameters_outside_their_secure_range_are_refused_at_load(params, message):
    """A QBER threshold above the Shor–Preskill 11 % (no key is secure there) and a pre-shared key
    too short for the run's tags (2 × 128 × (passes + 5) bits) are refused when the application
    is built — through make_application too, naming the field and the bound."""
    from qstack.apps import make_application

    with pytest.raises((ValueError, TypeError), match=message):
        BB84(**params)
    with pytest.raises(ValueError, match=message):
        make_application("bb84", params, None)


def test_the_pulses_advance_simulated_time_and_bb84_needs_a_direct_link():
    """The run lasts at least pulses / rate plus the fibre delay. Without a direct link
    (alice - x - bob): memoryless nodes (stage 0 between alice and bob) are refused by the stage
    check before anything runs; a network that reaches stage 1 only through entanglement
    swapping is refused by BB84 itself, which models one fibre."""
    alice, bob = _run(2_000_000, seed=11)
    assert alice.duration == pytest.approx(2_000_000 / 100e6)
    assert bob.finished > alice.duration + Fibre(LENGTH).delay
    chain = example_link(LENGTH, seed=1)
    chain["nodes"].insert(1, {"name": "x", "role": "end"})
    chain["links"] = [{"a": "alice", "b": "x", "length": LENGTH}, {"a": "x", "b": "bob", "length": LENGTH}]
    with pytest.raises(ValueError, match="needs a direct link"):
        run_app(BB84(pulses=1000), load_scenario(chain), ROLES)
    chain["hardware"]["default"].update(t2="1 ns", raw_fidelity=0.5)
    with pytest.raises(StageError):
        run_app(BB84(pulses=1000), load_scenario(chain), ROLES)


# --------------------------------------------------------------------------- BBM92


@pytest.mark.parametrize("mean_pairs", [0.02, 0.2])
def test_bbm92_coincidences_and_qber_match_the_multi_pair_model(mean_pairs):
    """SPDC source mid-way on 10 km (each arm 5 km), detectors 0.5, Y0 = 1e-6: the coincidence
    probability and QBER (accidentals from multi-pair emissions and dark counts) agree with
    bbm92_expected_statistics within 4 SE; the QBER grows with the pair number as predicted."""
    scenario = load_scenario(example_link(10e3, seed=7, detector_efficiency=0.5, dark_count_probability=1e-6))
    r = run_app(BBM92(mean_pair_number=mean_pairs, pulses=4_000_000, misalignment=0.01), scenario, ROLES)
    alice, bob = r.results["alice"], r.results["bob"]
    eta = Fibre(5e3).transmissivity * 0.5
    p, e = bbm92_expected_statistics(mean_pairs, eta, eta, 1e-6, 1e-6, 0.01)
    stats = alice.statistics
    _within(alice.detections / alice.pulses, p, math.sqrt(p * (1 - p) / alice.pulses))
    _within(stats.sifted[0] / alice.detections, 0.5, math.sqrt(0.25 / alice.detections))
    if bob.aborted:
        _within(stats.qber, e, math.sqrt(e * (1 - e) / stats.sample_size))
    else:
        errors = stats.sample_errors + bob.errors_corrected
        _within(errors / stats.sifted[0], e, math.sqrt(e * (1 - e) / stats.sifted[0]))
        assert np.array_equal(alice.key, bob.key) and alice.key_length > 0
    low = bbm92_expected_statistics(0.02, eta, eta, 1e-6, 1e-6, 0.01)[1]
    high = bbm92_expected_statistics(0.2, eta, eta, 1e-6, 1e-6, 0.01)[1]
    assert 0.01 < low < high


def test_bbm92_model_error_under_intercept_resend_is_a_quarter_per_attacked_pair():
    """One pair at a time (mu -> 0): Eve attacking a fraction f of the photons to Bob, measuring
    in a random basis and resending, makes the sifted error e_d + f (1 - 2 e_d)/4 — 1/4 on the
    pairs she attacks (Gisin et al., RMP 74, 145 (2002), Sec. VI.A) — exactly (1e-9)."""
    for f, e_d in ((0.0, 0.0), (1.0, 0.0), (0.3, 0.0), (0.6, 0.02)):
        e = bbm92_expected_statistics(1e-12, 0.5, 0.4, 0.0, 0.0, e_d, eavesdropper=f)[1]
        assert e == pytest.approx(intercept_resend_qber(f, e_d), abs=1e-9)
        assert e == pytest.approx(e_d + f * (1 - 2 * e_d) / 4, abs=1e-9)
    with pytest.raises(ValueError, match="interception_fraction"):
        bbm92_expected_statistics(0.01, 0.5, 0.5, eavesdropper=1.5)


@pytest.mark.parametrize("fraction", [0.2, 1.0])
def test_bbm92_intercept_resend_on_bobs_arm_raises_the_qber_by_a_quarter_of_the_fraction(fraction):
    """Eve intercepts a fraction f of the photons travelling from the SPDC source to Bob,
    measures each in a random Z/X basis and resends the eigenstate (Alice's photon is projected
    with it). On a 1 km link (source mid-way, detectors of efficiency 1) with mu = 0.005, no dark
    counts and no misalignment the measured QBER is f/4
    within 4 SE (the multi-pair accidentals the exact model adds are under 1 SE) and matches
    bbm92_expected_statistics(…, eavesdropper = f) within 4 SE. At f = 1 (25 %) it exceeds the
    11 % threshold and both roles abort at parameter estimation with no key; at f = 0.2 both
    keep equal keys, and an honest run of the same seed has a lower QBER."""
    mu = 0.005
    scenario = load_scenario(example_link(1e3, seed=7, detector_efficiency=1.0, dark_count_probability=0.0))
    r = run_app(BBM92(mean_pair_number=mu, pulses=8_000_000, misalignment=0.0, eavesdropper=fraction), scenario,
                ROLES)
    alice, bob = r.results["alice"], r.results["bob"]
    eta = Fibre(500.0).transmissivity
    p, e = bbm92_expected_statistics(mu, eta, eta, 0.0, 0.0, 0.0, eavesdropper=fraction)
    stats = alice.statistics
    _within(alice.detections / alice.pulses, p, math.sqrt(p * (1 - p) / alice.pulses))
    if fraction == 1.0:
        measured, n = stats.qber, stats.sample_size
    else:
        measured, n = (stats.sample_errors + bob.errors_corrected) / stats.sifted[0], stats.sifted[0]
    se = math.sqrt(e * (1 - e) / n)
    assert abs(e - fraction / 4) < se
    _within(measured, e, se)
    _within(measured, fraction / 4, se)
    if fraction == 1.0:
        for result in (alice, bob):
            assert isinstance(result.abort, QKDAbort) and result.abort.stage == "parameter estimation"
            assert result.abort.qber > QBER_THRESHOLD and "exceeds the threshold" in str(result.abort)
            assert result.key.size == 0 and result.key_length == 0
    else:
        assert not alice.aborted and not bob.aborted
        assert np.array_equal(alice.key, bob.key) and alice.key_length > 0
        honest = run_app(BBM92(mean_pair_number=mu, pulses=8_000_000, misalignment=0.0), scenario,
                         ROLES).results["alice"]
        assert honest.qber < measured


# --------------------------------------------------------------------------- scenario files


@pytest.mark.parametrize("name", [pytest.param("bb84_link.toml", marks=pytest.mark.slow), "bb84_eavesdropper.toml",
                                  "bbm92_link.toml"])
def test_stage1_scenario_files_run_through_the_cli(name, monkeypatch, capsys):
    """Each stage-1 file loads with load_scenario and runs with `qstack run FILE --json` once its
    application is registered: bb84_link gives equal keys, bb84_eavesdropper aborts (QBER ~16 %)."""
    from qstack.cli import main

    monkeypatch.setitem(APPLICATIONS, "bb84", "qstack.apps.bb84:BB84")
    monkeypatch.setitem(APPLICATIONS, "bbm92", "qstack.apps.bb84:BBM92")
    scenario = load_scenario(STAGE1 / name)
    assert scenario.application is not None and scenario.application.name in ("bb84", "bbm92")
    assert main(["run", str(STAGE1 / name), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    alice, bob = out["results"]["alice"], out["results"]["bob"]
    if name == "bb84_eavesdropper.toml":
        assert "exceeds the threshold" in alice["abort"] and "exceeds the threshold" in bob["abort"]
        assert alice["key_length"] == 0
    else:
        assert alice["abort"] is None and bob["abort"] is None
        assert alice["key"] == bob["key"] and alice["key_length"] > 0


def test_registry_names_these_classes():
    """`qstack run` finds the applications by name once registered in qstack.apps.APPLICATIONS."""
    expected = {"bb84": "qstack.apps.bb84:BB84", "bbm92": "qstack.apps.bb84:BBM92"}
    missing = [name for name in expected if name not in APPLICATIONS]
    if missing:
        pytest.skip(f"not registered yet: add {', '.join(f'{n!r}: {expected[n]!r}' for n in missing)} to APPLICATIONS")
    assert all(APPLICATIONS[name] == target for name, target in expected.items())
    assert CLASS_NAMES == ("signal", "decoy", "vacuum")
