"""Tests for qstack.qkd.sifting: BB84 sifting and QBER sampling with Serfling bounds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.qkd.sifting import BASIS_X, BASIS_Z, estimate_qber, serfling_deviation, sift_bb84, sifted_indices


def test_sifting_keeps_matching_bases_and_detections() -> None:
    """Only rounds with a_i = b_i and a detection survive; Bob's bits there are his results."""
    alice_bits = np.array([0, 1, 1, 0, 1, 0], dtype=np.uint8)
    alice_bases = np.array([BASIS_Z, BASIS_X, BASIS_X, BASIS_Z, BASIS_Z, BASIS_X], dtype=np.uint8)
    bob_bases = np.array([BASIS_Z, BASIS_Z, BASIS_X, BASIS_Z, BASIS_Z, BASIS_X], dtype=np.uint8)
    bob_results = np.array([0, 0, 1, 1, 1, 0], dtype=np.uint8)
    detected = np.array([1, 1, 1, 1, 0, 1], dtype=np.uint8)
    sifted = sift_bb84(alice_bits, alice_bases, bob_bases, bob_results, bob_detected=detected)
    assert sifted.indices.tolist() == [0, 2, 3, 5]
    assert sifted.alice_key.tolist() == [0, 1, 0, 0]
    assert sifted.bob_key.tolist() == [0, 1, 1, 0]
    assert sifted.qber == 0.25


def test_sifting_keeps_half_of_random_bases() -> None:
    """With independent uniform bases, P(a = b) = 1/2: the sifted fraction is 1/2 within 4 SE."""
    rng = np.random.default_rng(0)
    n = 100_000
    kept = sifted_indices(rng.integers(0, 2, n, dtype=np.uint8), rng.integers(0, 2, n, dtype=np.uint8)).size
    assert abs(kept / n - 0.5) < 4 * math.sqrt(0.25 / n)


def test_sifting_validates_inputs() -> None:
    """Mismatched lengths and non-bits are rejected with the argument named."""
    with pytest.raises(ValueError, match="alice_bases and bob_bases must have the same length"):
        sifted_indices(np.zeros(3, np.uint8), np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="bob_bases must contain only bits"):
        sifted_indices(np.zeros(2, np.uint8), np.array([0, 3]))


def test_serfling_deviation_formula_and_monotonicity() -> None:
    """t = sqrt((1 - (k-1)/N) ln(2/ε)/(2k)) shrinks with k and is below Hoeffding's sqrt(ln(2/ε)/(2k))."""
    n_pop, eps = 100_000, 1e-9
    t = [serfling_deviation(n_pop, k, eps) for k in (100, 1_000, 10_000, 50_000)]
    assert all(a > b for a, b in zip(t, t[1:], strict=False))
    k = 50_000
    hoeffding = math.sqrt(math.log(2 / eps) / (2 * k))
    assert t[-1] == pytest.approx(hoeffding * math.sqrt(1 - (k - 1) / n_pop), rel=1e-12)
    assert t[-1] < hoeffding


def test_estimate_partitions_positions_and_counts_errors() -> None:
    """Sample and key positions partition the sifted key; the estimate is the sample error rate."""
    rng = np.random.default_rng(3)
    alice = rng.integers(0, 2, 5_000, dtype=np.uint8)
    bob = alice ^ (rng.random(5_000) < 0.04).astype(np.uint8)
    est = estimate_qber(alice, bob, rng, sample_size=800)
    assert est.sample_size == 800 and est.key_indices.size == 4_200
    assert np.array_equal(np.sort(np.concatenate([est.sample_indices, est.key_indices])), np.arange(5_000))
    s = est.sample_indices
    assert est.errors == int(np.count_nonzero(alice[s] != bob[s]))
    assert est.qber == est.errors / 800
    assert est.lower <= est.qber <= est.upper <= est.key_upper


def test_confidence_interval_covers_true_qber() -> None:
    """With ε = 1e-3 the Serfling interval holds the whole-key QBER in (essentially) every run."""
    rng = np.random.default_rng(4)
    misses = 0
    for _ in range(200):
        alice = rng.integers(0, 2, 4_000, dtype=np.uint8)
        bob = alice ^ (rng.random(4_000) < 0.05).astype(np.uint8)
        true = float(np.mean(alice != bob))
        est = estimate_qber(alice, bob, rng, sample_fraction=0.1, eps=1e-3)
        misses += not est.lower <= true <= est.upper
    assert misses == 0


def test_estimate_is_deterministic_given_seed() -> None:
    """Same generator seed, same sample."""
    alice = np.random.default_rng(9).integers(0, 2, 1_000, dtype=np.uint8)
    bob = alice.copy()
    bob[::7] ^= 1
    a = estimate_qber(alice, bob, np.random.default_rng(1), sample_fraction=0.3)
    b = estimate_qber(alice, bob, np.random.default_rng(1), sample_fraction=0.3)
    assert np.array_equal(a.sample_indices, b.sample_indices) and a.qber == b.qber


def test_estimate_rejects_bad_sample_sizes() -> None:
    """The sample must leave a key: k in [1, N - 1]; fraction in (0, 1); exactly one given."""
    alice = np.zeros(10, np.uint8)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"sample_size must be in \[1, 9\], got 10"):
        estimate_qber(alice, alice, rng, sample_size=10)
    with pytest.raises(ValueError, match=r"sample_fraction must be in \(0, 1\)"):
        estimate_qber(alice, alice, rng, sample_fraction=1.0)
    with pytest.raises(ValueError, match="exactly one"):
        estimate_qber(alice, alice, rng)
    with pytest.raises(ValueError, match="same length"):
        estimate_qber(alice, alice[:5], rng, sample_size=2)
