"""Tests for qstack.qkd.pipeline: distil_key from sifted keys to equal secret keys, or abort."""

from __future__ import annotations

import numpy as np
import pytest

from qstack.qkd.authentication import KEY_BITS_PER_TAG, KeyPool, KeyPoolExhaustedError
from qstack.qkd.finite_key import finite_key_length
from qstack.qkd.intercept_resend import intercept_resend_bb84
from qstack.qkd.pipeline import QKDAbort, distil_key
from qstack.qkd.sifting import sift_bb84


def _pair(seed: int, n: int, q: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    alice = rng.integers(0, 2, n, dtype=np.uint8)
    return alice, alice ^ (rng.random(n) < q).astype(np.uint8)


def _pool(seed: int = 99, bits: int = 8192) -> KeyPool:
    return KeyPool(np.random.default_rng(seed).integers(0, 2, bits, dtype=np.uint8))


@pytest.mark.parametrize("q", [0.0, 0.01, 0.03, 0.05])
def test_keys_agree_and_length_is_the_finite_key_bound(q: float) -> None:
    """Both parties end with the same key, of exactly the Tomamichel et al. length for the observed data."""
    alice, bob = _pair(1, 60_000, q)
    result = distil_key(alice, bob, np.random.default_rng(2), key_pool=_pool())
    assert np.array_equal(result.alice_key, result.bob_key)
    assert result.alice_key.size == result.final_length > 0
    assert result.final_length == finite_key_length(
        result.reconciled_length, result.sample_size, result.qber, result.leaked_bits, 1e-10, 1e-12
    )
    assert result.sample_size + result.reconciled_length == 60_000
    assert abs(result.qber - q) < 0.02
    assert result.leaked_bits == result.cascade.leaked_bits


def test_final_key_looks_uniform() -> None:
    """Privacy amplification output: bit frequency 1/2 within 4 SE."""
    alice, bob = _pair(3, 60_000, 0.02)
    key = distil_key(alice, bob, np.random.default_rng(4), key_pool=_pool()).alice_key
    assert abs(key.mean() - 0.5) < 4 * np.sqrt(0.25 / key.size)


def test_high_qber_aborts_with_qber_and_threshold_in_message() -> None:
    """Q = 30 % is far above the 11 % limit: QKDAbort naming the estimate and the threshold."""
    alice, bob = _pair(5, 20_000, 0.30)
    with pytest.raises(QKDAbort, match=r"estimated QBER 0\.\d+ exceeds the threshold 0\.1100") as info:
        distil_key(alice, bob, np.random.default_rng(6), key_pool=_pool())
    assert info.value.stage == "parameter estimation"
    assert 0.27 < info.value.qber < 0.33


def test_full_intercept_resend_aborts() -> None:
    """Eve intercepting every pulse causes 25 % QBER on the sifted key: the protocol aborts."""
    rng = np.random.default_rng(7)
    n = 40_000
    bits, a_bases, b_bases = (rng.integers(0, 2, n, dtype=np.uint8) for _ in range(3))
    bob_results = intercept_resend_bb84(bits, a_bases, b_bases, 1.0, rng)
    sifted = sift_bb84(bits, a_bases, b_bases, bob_results)
    with pytest.raises(QKDAbort, match="exceeds the threshold") as info:
        distil_key(sifted.alice_key, sifted.bob_key, rng, key_pool=_pool())
    assert info.value.qber == pytest.approx(0.25, abs=0.03)


def test_small_key_aborts_on_finite_key_length() -> None:
    """A few thousand bits at 3 % QBER pass the threshold but give no finite key: QKDAbort."""
    alice, bob = _pair(8, 3_000, 0.03)
    with pytest.raises(QKDAbort, match=r"finite-key length <= 0") as info:
        distil_key(alice, bob, np.random.default_rng(9), key_pool=_pool())
    assert info.value.threshold == pytest.approx(0.110028, abs=1e-6)


def test_different_seed_gives_different_key_same_seed_same_key() -> None:
    """The key is a deterministic function of inputs and seed; another seed hashes differently."""
    alice, bob = _pair(10, 50_000, 0.02)
    r1 = distil_key(alice, bob, np.random.default_rng(11), key_pool=_pool())
    r2 = distil_key(alice, bob, np.random.default_rng(11), key_pool=_pool())
    r3 = distil_key(alice, bob, np.random.default_rng(12), key_pool=_pool())
    assert np.array_equal(r1.alice_key, r2.alice_key)
    n = min(r1.final_length, r3.final_length)
    assert not np.array_equal(r1.alice_key[:n], r3.alice_key[:n])


def test_authentication_key_is_never_reused() -> None:
    """Every message has its own 128-bit slice, across two runs on one pool; the count adds up."""
    pool = _pool(bits=4096)
    alice, bob = _pair(13, 40_000, 0.02)
    r1 = distil_key(alice, bob, np.random.default_rng(14), key_pool=pool)
    r2 = distil_key(alice, bob, np.random.default_rng(15), key_pool=pool)
    messages = r1.messages + r2.messages
    starts = sorted(m.key_start for m in messages)
    assert all(b - a >= KEY_BITS_PER_TAG for a, b in zip(starts, starts[1:], strict=False))
    assert r1.auth_bits_used == KEY_BITS_PER_TAG * len(r1.messages) == 13 * 128
    assert pool.used == r1.auth_bits_used + r2.auth_bits_used
    labels = [m.label for m in r1.messages]
    assert labels[0] == "estimation/sample" and labels[-1] == "amplification/seed"
    assert sum(label.startswith("cascade/") for label in labels) == 8


def test_exhausted_pool_stops_the_protocol() -> None:
    """Without enough authentication key the protocol cannot run: KeyPoolExhaustedError."""
    alice, bob = _pair(16, 20_000, 0.02)
    with pytest.raises(KeyPoolExhaustedError):
        distil_key(alice, bob, np.random.default_rng(17), key_pool=_pool(bits=500))


def test_pipeline_validation() -> None:
    """Mismatched lengths and out-of-range parameters are ValueErrors naming the argument."""
    alice, bob = _pair(18, 1_000, 0.02)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="alice_sifted and bob_sifted must have the same length"):
        distil_key(alice, bob[:-1], rng, key_pool=_pool())
    with pytest.raises(ValueError, match=r"sample_fraction must be in \(0, 1\)"):
        distil_key(alice, bob, rng, key_pool=_pool(), sample_fraction=1.2)
    with pytest.raises(ValueError, match=r"qber_threshold must be in \(0, 0.5\]"):
        distil_key(alice, bob, rng, key_pool=_pool(), qber_threshold=0.7)


def test_an_abort_survives_pickling_with_its_reason():
    """A node process reports its role's abort to `qstack up` pickled: type, message, stage,
    QBER, threshold and the subclass's own fields come back unchanged."""
    import pickle

    from qstack.qkd.pipeline import MessageRejected, QKDAbort

    abort = QKDAbort("QBER above threshold", stage="estimation", qber=0.2, threshold=0.11, announced_by="bob")
    back = pickle.loads(pickle.dumps(abort))
    assert type(back) is QKDAbort and str(back) == "QBER above threshold"
    assert (back.stage, back.qber, back.threshold, back.announced_by) == ("estimation", 0.2, 0.11, "bob")
    rejected = pickle.loads(pickle.dumps(MessageRejected("bad tag", reason="tag", label="verdict")))
    assert type(rejected) is MessageRejected and (rejected.reason, rejected.label, rejected.stage) == (
        "tag", "verdict", "authentication")
