"""Tests for qstack.qkd.intercept_resend: Eve's QBER is 25 % times the interception fraction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.qkd.entropy import bb84_qber_threshold
from qstack.qkd.intercept_resend import (
    INTERCEPT_RESEND_QBER,
    eve_information_intercept_resend,
    intercept_resend_bb84,
    intercept_resend_qber,
    interception_fraction_for_qber,
)


def test_expected_qber_is_a_quarter_of_the_fraction() -> None:
    """Wrong basis half the time, then a random bit: QBER = f/4; 25 % at f = 1."""
    assert INTERCEPT_RESEND_QBER == 0.25
    for f in (0.0, 0.2, 0.5, 1.0):
        assert intercept_resend_qber(f) == pytest.approx(f / 4)


def test_qber_with_channel_noise_is_a_bsc_composition() -> None:
    """Eve's errors (rate f/4) then channel errors (rate e): Q = q(1-e) + e(1-q)."""
    f, e = 0.6, 0.03
    q = f / 4
    assert intercept_resend_qber(f, e) == pytest.approx(q * (1 - e) + e * (1 - q), rel=1e-14)
    assert interception_fraction_for_qber(intercept_resend_qber(f, e), e) == pytest.approx(f)


def test_fraction_that_reaches_the_bb84_threshold() -> None:
    """Eve may intercept at most 4 × 11.0 % = 44 % of pulses before BB84 aborts (noiseless channel)."""
    assert interception_fraction_for_qber(bb84_qber_threshold()) == pytest.approx(0.440111, abs=1e-6)


def test_eve_knows_half_of_the_intercepted_sifted_bits() -> None:
    """Right basis with probability 1/2: Eve learns f/2 of the sifted key."""
    assert eve_information_intercept_resend(0.5) == 0.25


@pytest.mark.parametrize("f", [0.0, 0.3, 1.0])
def test_sampled_qber_matches_theory_within_4_se(f: float) -> None:
    """The per-pulse sampler reproduces f/4 on the sifted rounds within 4 standard errors."""
    rng = np.random.default_rng(int(10 * f) + 1)
    n = 200_000
    bits, a_bases, b_bases = (rng.integers(0, 2, n, dtype=np.uint8) for _ in range(3))
    bob = intercept_resend_bb84(bits, a_bases, b_bases, f, rng)
    sifted = a_bases == b_bases
    errors = float(np.mean(bob[sifted] != bits[sifted]))
    p = f / 4
    assert abs(errors - p) <= 4 * math.sqrt(max(p * (1 - p), 1e-12) / int(sifted.sum())) + 1e-12
    # unsifted rounds are uncorrelated with Alice: error 1/2
    assert abs(float(np.mean(bob[~sifted] != bits[~sifted])) - 0.5) < 4 * math.sqrt(0.25 / int((~sifted).sum()))


def test_validation() -> None:
    """Fractions outside [0, 1] and QBERs intercept–resend cannot produce are rejected."""
    with pytest.raises(ValueError, match=r"interception_fraction must be in \[0, 1\]"):
        intercept_resend_qber(1.5)
    with pytest.raises(ValueError, match=r"qber must be in \[0, 0.25\], got 0.3"):
        interception_fraction_for_qber(0.3)
    with pytest.raises(ValueError, match="same length"):
        intercept_resend_bb84(
            np.zeros(3, np.uint8), np.zeros(3, np.uint8), np.zeros(2, np.uint8), 0.5, np.random.default_rng(0)
        )
