"""Tests for qstack.qkd.privacy: Toeplitz hashing is a GF(2)-linear universal₂ family."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from qstack.qkd.privacy import (
    random_toeplitz_seed,
    toeplitz_hash,
    toeplitz_matrix,
    toeplitz_seed_length,
    verification_tag_length,
)


def test_matrix_is_toeplitz_and_fixed_by_seed() -> None:
    """T[i, j] depends on i - j only; first column and first row come from the seed."""
    rng = np.random.default_rng(0)
    n, m = 9, 5
    seed = random_toeplitz_seed(rng, n, m)
    t = toeplitz_matrix(seed, n, m)
    assert t.shape == (m, n)
    for i in range(1, m):
        for j in range(1, n):
            assert t[i, j] == t[i - 1, j - 1]
    assert t[:, 0].tolist() == seed[n - 1 :].tolist()
    assert t[0, ::-1].tolist() == seed[:n].tolist()


@pytest.mark.parametrize(("n", "m"), [(1, 1), (7, 3), (64, 64), (257, 100), (1000, 1)])
def test_fft_hash_equals_explicit_product(n: int, m: int) -> None:
    """The FFT convolution gives exactly T x mod 2."""
    rng = np.random.default_rng(n * 1000 + m)
    x = rng.integers(0, 2, n, dtype=np.uint8)
    seed = random_toeplitz_seed(rng, n, m)
    expected = (toeplitz_matrix(seed, n, m).astype(np.int64) @ x) % 2
    assert toeplitz_hash(x, seed, m).tolist() == expected.tolist()


def test_hash_is_linear_over_gf2() -> None:
    """T(x ⊕ y) = Tx ⊕ Ty, and T0 = 0."""
    rng = np.random.default_rng(1)
    n, m = 5_000, 1_200
    seed = random_toeplitz_seed(rng, n, m)
    x, y = rng.integers(0, 2, (2, n), dtype=np.uint8)
    assert np.array_equal(toeplitz_hash(x ^ y, seed, m), toeplitz_hash(x, seed, m) ^ toeplitz_hash(y, seed, m))
    assert not toeplitz_hash(np.zeros(n, np.uint8), seed, m).any()


def test_hash_is_deterministic() -> None:
    """Same input and seed, same output; seeds from equal generators are equal."""
    x = np.random.default_rng(2).integers(0, 2, 3_000, dtype=np.uint8)
    s1 = random_toeplitz_seed(np.random.default_rng(5), 3_000, 500)
    s2 = random_toeplitz_seed(np.random.default_rng(5), 3_000, 500)
    assert np.array_equal(s1, s2)
    assert np.array_equal(toeplitz_hash(x, s1, 500), toeplitz_hash(x, s2, 500))


@pytest.mark.parametrize("m", [1, 3, 5])
def test_collision_probability_is_two_to_minus_m(m: int) -> None:
    """Universal₂: for fixed x ≠ x', P_seed[Tx = Tx'] = 2^-m; measured within 4 SE over 20000 seeds."""
    rng = np.random.default_rng(100 + m)
    n, trials = 48, 20_000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    x_prime = x.copy()
    x_prime[[3, 17, 40]] ^= 1
    d = x ^ x_prime
    seeds = rng.integers(0, 2, (trials, n + m - 1), dtype=np.uint8)
    i = np.arange(m)[:, None]
    j = np.arange(n)[None, :]
    products = (seeds[:, i - j + n - 1].astype(np.int64) @ d) % 2  # T d for every seed
    collisions = int(np.count_nonzero(~products.any(axis=1)))
    p = 2.0**-m
    se = math.sqrt(p * (1 - p) / trials)
    assert abs(collisions / trials - p) < 4 * se
    # the FFT path agrees with the explicit one on a few of these seeds
    for s in seeds[:5]:
        assert np.array_equal(toeplitz_hash(x, s, m) ^ toeplitz_hash(x_prime, s, m), (toeplitz_matrix(s, n, m) @ d) % 2)


def test_output_bits_are_unbiased() -> None:
    """For x ≠ 0 each output bit is a uniform parity over random seeds: mean 1/2 within 4 SE."""
    rng = np.random.default_rng(7)
    n, m, trials = 200, 16, 2_000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    outputs = np.array([toeplitz_hash(x, random_toeplitz_seed(rng, n, m), m) for _ in range(trials)])
    assert abs(outputs.mean() - 0.5) < 4 * math.sqrt(0.25 / (trials * m))


def test_large_input_is_fast() -> None:
    """n = 10^5 → m = 5·10^4 in well under a second (FFT, not an n·m product)."""
    rng = np.random.default_rng(8)
    n, m = 100_000, 50_000
    x = rng.integers(0, 2, n, dtype=np.uint8)
    seed = random_toeplitz_seed(rng, n, m)
    start = time.perf_counter()
    y = toeplitz_hash(x, seed, m)
    assert time.perf_counter() - start < 1.0
    # spot-check three output bits against the definition
    for i in (0, 12_345, m - 1):
        assert y[i] == int(np.dot(seed[i - np.arange(n) + n - 1].astype(np.int64), x) % 2)


def test_validation_messages() -> None:
    """Seed length n + m - 1 and output length in [1, n] are enforced with the range in the message."""
    x = np.zeros(10, np.uint8)
    assert toeplitz_seed_length(10, 4) == 13
    with pytest.raises(ValueError, match=r"seed must have n \+ m - 1 = 13 bits"):
        toeplitz_hash(x, np.zeros(12, np.uint8), 4)
    with pytest.raises(ValueError, match=r"output_length must be in \[1, 10\]"):
        toeplitz_hash(x, np.zeros(20, np.uint8), 11)
    with pytest.raises(ValueError, match=r"eps_cor must be in \(0, 1\)"):
        verification_tag_length(0.0)
    assert verification_tag_length(2.0**-40) == 40
