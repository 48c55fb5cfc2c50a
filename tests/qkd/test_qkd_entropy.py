"""Tests for qstack.qkd.entropy: binary entropy, asymptotic key rates, CHSH, DI-QKD, PLOB/TGW."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.qkd.entropy import (
    TSIRELSON_BOUND,
    bb84_asymptotic_rate,
    bb84_qber_threshold,
    bbm92_asymptotic_rate,
    binary_entropy,
    chsh_value_werner,
    di_qkd_rate,
    h,
    plob_bound,
    tgw_bound,
)

probabilities = st.floats(min_value=0.0, max_value=1.0)


def test_binary_entropy_known_values() -> None:
    """h(0) = h(1) = 0, h(1/2) = 1, h(1/4) = 2 - (3/4) log2 3, h(0.11) ~ 0.4999."""
    assert h(0.0) == 0.0 and h(1.0) == 0.0
    assert h(0.5) == 1.0
    assert h(0.25) == pytest.approx(2.0 - 0.75 * math.log2(3.0), abs=1e-15)
    assert h(0.11) == pytest.approx(0.4999, abs=5e-5)


@given(probabilities)
def test_binary_entropy_symmetric_and_bounded(p: float) -> None:
    """h(p) = h(1 - p) and 0 <= h(p) <= 1 on [0, 1]."""
    assert binary_entropy(p) == pytest.approx(binary_entropy(1.0 - p), abs=1e-12)
    assert 0.0 <= binary_entropy(p) <= 1.0


def test_binary_entropy_array_matches_scalar() -> None:
    """The array form is the scalar form element-wise."""
    ps = np.linspace(0.0, 1.0, 11)
    assert binary_entropy(ps) == pytest.approx([binary_entropy(float(p)) for p in ps], abs=1e-15)


@pytest.mark.parametrize("bad", [-0.1, 1.1, math.nan])
def test_binary_entropy_rejects_non_probabilities(bad: float) -> None:
    """Outside [0, 1] there is no probability: ValueError naming p and the range."""
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        binary_entropy(bad)


def test_bb84_threshold_is_where_h_equals_one_half() -> None:
    """Shor–Preskill: 1 - 2h(Q) = 0 at h(Q) = 1/2, Q = 0.110028 (to 6 digits)."""
    q_star = bb84_qber_threshold()
    assert q_star == pytest.approx(0.110028, abs=5e-7)
    assert binary_entropy(q_star) == pytest.approx(0.5, abs=1e-12)
    assert bb84_asymptotic_rate(q_star - 1e-4) > 0.0
    assert bb84_asymptotic_rate(q_star + 1e-4) == 0.0


def test_threshold_literal_is_the_computed_shor_preskill_root_bit_for_bit() -> None:
    """The defaults of ``distil_key`` and the BB84 app use a literal of the h(Q) = 1/2 root (so they
    need no scipy.optimize at import); it is exactly what ``bb84_qber_threshold()`` computes, so the
    abort decision is unchanged to the last bit."""
    from qstack.apps.bb84 import QBER_THRESHOLD
    from qstack.qkd.entropy import _BB84_QBER_THRESHOLD
    from qstack.qkd.pipeline import DEFAULT_QBER_THRESHOLD

    assert _BB84_QBER_THRESHOLD == bb84_qber_threshold() == DEFAULT_QBER_THRESHOLD == QBER_THRESHOLD
    assert abs(binary_entropy(_BB84_QBER_THRESHOLD) - 0.5) < 1e-15


def test_bb84_rate_values() -> None:
    """1 - 2h(Q): 1 at Q = 0, 1 - 2h(0.05) at 5 %, zero at 11 % and above (clipped)."""
    assert bb84_asymptotic_rate(0.0) == 1.0
    assert bb84_asymptotic_rate(0.05) == pytest.approx(1.0 - 2.0 * binary_entropy(0.05))
    assert bb84_asymptotic_rate(0.11) == pytest.approx(0.0, abs=1e-3)
    assert bb84_asymptotic_rate(0.25) == 0.0


def test_bbm92_rate_equals_bb84() -> None:
    """BBM92 is entanglement-based BB84: the same 1 - 2h(Q)."""
    for q in (0.0, 0.02, 0.08, 0.2):
        assert bbm92_asymptotic_rate(q) == bb84_asymptotic_rate(q)


def test_bb84_rate_rejects_qber_above_half() -> None:
    """A QBER above 1/2 is not meaningful (flip Bob's bits): ValueError with the range."""
    with pytest.raises(ValueError, match=r"qber must be in \[0, 0.5\], got 0.6"):
        bb84_asymptotic_rate(0.6)


def test_chsh_werner_values() -> None:
    """S = 2√2 (4F - 1)/3: Tsirelson 2√2 at F = 1, 0 at F = 1/4, 2 at F = (3/√2 + 1)/4."""
    assert chsh_value_werner(1.0) == pytest.approx(2.0 * math.sqrt(2.0), abs=1e-15)
    assert chsh_value_werner(0.25) == 0.0
    assert chsh_value_werner((3.0 / math.sqrt(2.0) + 1.0) / 4.0) == pytest.approx(2.0, abs=1e-12)
    assert chsh_value_werner(0.5) == pytest.approx(2.0 * math.sqrt(2.0) / 3.0)


def test_di_qkd_rate_limits() -> None:
    """r = 1 - h(Q) - h((1 + √((S/2)² - 1))/2): 0 at S = 2; 1 - h(Q) at S = 2√2; 1 at (2√2, 0)."""
    assert di_qkd_rate(2.0, 0.0) == 0.0
    assert di_qkd_rate(1.5, 0.0) == 0.0
    assert di_qkd_rate(TSIRELSON_BOUND, 0.0) == 1.0
    for q in (0.01, 0.05):
        assert di_qkd_rate(TSIRELSON_BOUND, q) == pytest.approx(1.0 - binary_entropy(q), abs=1e-12)


def test_di_qkd_rate_werner_threshold() -> None:
    """Werner pairs (Q = 2(1 - F)/3): key rate positive at F = 0.98, zero near the noise limit.

    The DI rate with Q = (1 - p)/2 and S = 2√2 p vanishes at Q ~ 7.1 % (Pironio et al. 2009).
    """

    def rate(f: float) -> float:
        return di_qkd_rate(chsh_value_werner(f), 2.0 * (1.0 - f) / 3.0)

    assert rate(0.98) > 0.5
    assert rate(0.88) == 0.0
    fs = np.linspace(0.85, 1.0, 3001)
    q_at_cutoff = 2.0 * (1.0 - fs[np.argmax([rate(f) > 0 for f in fs])]) / 3.0
    assert q_at_cutoff == pytest.approx(0.071, abs=0.001)


def test_di_qkd_rejects_chsh_above_tsirelson() -> None:
    """No quantum state exceeds 2√2: ValueError naming chsh."""
    with pytest.raises(ValueError, match="chsh must be in"):
        di_qkd_rate(2.9, 0.0)


def test_plob_values() -> None:
    """PLOB -log2(1 - η): 1 bit at η = 1/2, log2(10/9) at 0.1, ~1.44 η at low η, ∞ at η = 1."""
    assert plob_bound(0.5) == 1.0
    assert plob_bound(0.1) == pytest.approx(math.log2(10.0 / 9.0), rel=1e-14)
    assert plob_bound(1e-6) == pytest.approx(1e-6 / math.log(2.0), rel=1e-5)
    assert plob_bound(0.0) == 0.0
    assert plob_bound(1.0) == math.inf


def test_plob_at_100_km_of_fibre() -> None:
    """100 km at 0.2 dB/km: η = 1e-2, PLOB = -log2(0.99) = 0.0145 bits per use."""
    assert plob_bound(10 ** (-0.2 * 100 / 10)) == pytest.approx(0.014500, abs=1e-6)


def test_tgw_is_twice_plob_at_low_transmissivity() -> None:
    """TGW log2((1+η)/(1-η)) ~ 2η/ln2 = 2 × PLOB as η → 0, and always above PLOB."""
    assert tgw_bound(1e-6) / plob_bound(1e-6) == pytest.approx(2.0, rel=1e-5)
    for eta in (0.01, 0.3, 0.9):
        assert tgw_bound(eta) > plob_bound(eta)
    assert tgw_bound(0.5) == pytest.approx(math.log2(3.0), rel=1e-14)


def test_bounds_reject_bad_transmissivity() -> None:
    """η is a probability: ValueError naming transmissivity."""
    with pytest.raises(ValueError, match=r"transmissivity must be in \[0, 1\]"):
        plob_bound(1.2)
    with pytest.raises(ValueError, match=r"transmissivity must be in \[0, 1\]"):
        tgw_bound(-0.1)


@pytest.mark.parametrize("eta", [1e-6, 1e-10, 1e-14, 1e-18, 1e-25])
def test_plob_and_tgw_keep_full_precision_at_high_loss(eta):
    """At 60–250 dB the bounds are their series: PLOB −log₂(1 − η) = (η + η²/2 + η³/3 + …)/ln 2
    (Pirandola et al. 2017) and TGW log₂((1 + η)/(1 − η)) = 2(η + η³/3 + …)/ln 2 (Takeoka, Guha &
    Wilde 2014); computed with log1p they agree to 1e-12 relative (log2(1 − η) loses all digits
    once η < 1e-16)."""
    from qstack.qkd.entropy import plob_bound, tgw_bound

    plob = (eta + eta**2 / 2 + eta**3 / 3) / math.log(2)
    tgw = 2 * (eta + eta**3 / 3) / math.log(2)
    assert plob_bound(eta) == pytest.approx(plob, rel=1e-12)
    assert tgw_bound(eta) == pytest.approx(tgw, rel=1e-12)
