"""The intercept–resend eavesdropper on BB84, as statistics a simulation can be checked against.

Eve intercepts a fraction ``f`` of the pulses, measures each in a random basis (Z or X with
probability 1/2) and resends the state she found (Bennett & Brassard 1984; Gisin, Ribordy,
Tittel & Zbinden, Rev. Mod. Phys. 74, 145 (2002), Sec. VI.A). On a sifted bit (Alice's and
Bob's bases agree): with probability 1/2 Eve chose the same basis, resends the right state and
learns the bit; with probability 1/2 she chose the other basis and Bob's result is random,
wrong half of the time. Hence

* the QBER she causes is ``f/4`` (25 % under full interception);
* she knows ``f/2`` of the sifted bits exactly (and nothing about the rest);
* with an independent channel error ``e`` applied after her resend (a binary symmetric
  channel in series), the total QBER is ``f/4 (1 - e) + e (1 - f/4) = e + f (1 - 2e)/4``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.physical.units import check_range
from qstack.qkd.bits import as_bits, check_same_length

__all__ = [
    "INTERCEPT_RESEND_QBER",
    "eve_information_intercept_resend",
    "interception_fraction_for_qber",
    "intercept_resend_bb84",
    "intercept_resend_qber",
]

INTERCEPT_RESEND_QBER: float = 0.25
"""QBER of BB84 under full intercept–resend in random bases."""


def intercept_resend_qber(interception_fraction: float, channel_qber: float = 0.0) -> float:
    """Return the expected sifted QBER e + f (1 - 2e)/4 under intercept–resend of a fraction f.

    ``interception_fraction`` f in [0, 1]; ``channel_qber`` e in [0, 0.5] is the error the
    channel adds after Eve.

    >>> intercept_resend_qber(1.0)
    0.25
    >>> intercept_resend_qber(0.4, channel_qber=0.02)
    0.116
    """
    f = check_range("interception_fraction", interception_fraction, low=0.0, high=1.0)
    e = check_range("channel_qber", channel_qber, low=0.0, high=0.5)
    return e + f * (1.0 - 2.0 * e) / 4.0


def interception_fraction_for_qber(qber: float, channel_qber: float = 0.0) -> float:
    """Return the interception fraction f that explains ``qber`` over the channel error: 4(Q - e)/(1 - 2e).

    ``qber`` must lie in [e, e + (1 - 2e)/4], the range intercept–resend can produce.

    >>> interception_fraction_for_qber(0.11)
    0.44
    """
    e = check_range("channel_qber", channel_qber, low=0.0, high=0.5, high_inclusive=False)
    q = check_range("qber", qber, low=e, high=intercept_resend_qber(1.0, e))
    return 4.0 * (q - e) / (1.0 - 2.0 * e)


def eve_information_intercept_resend(interception_fraction: float) -> float:
    """Return the expected fraction f/2 of sifted bits Eve learns exactly by intercept–resend.

    >>> eve_information_intercept_resend(1.0)
    0.5
    """
    f = check_range("interception_fraction", interception_fraction, low=0.0, high=1.0)
    return f / 2.0


def intercept_resend_bb84(
    alice_bits: ArrayLike,
    alice_bases: ArrayLike,
    bob_bases: ArrayLike,
    interception_fraction: float,
    rng: np.random.Generator,
) -> NDArray[np.uint8]:
    """Sample Bob's BB84 results with Eve intercepting a fraction of the pulses (noiseless channel).

    Per pulse: Eve intercepts with probability ``interception_fraction``, measures in a random
    basis and resends; a measurement in a basis other than the state's gives a uniformly
    random bit. Returns Bob's results, one per pulse (all arrays of equal length, bases
    0 = Z, 1 = X).

    >>> rng = np.random.default_rng(11)
    >>> n = 40_000
    >>> bits, a_bases, b_bases = (rng.integers(0, 2, n, dtype=np.uint8) for _ in range(3))
    >>> bob = intercept_resend_bb84(bits, a_bases, b_bases, 1.0, rng)
    >>> sifted = a_bases == b_bases
    >>> abs(float(np.mean(bob[sifted] != bits[sifted])) - 0.25) < 0.015
    True
    """
    bits = as_bits("alice_bits", alice_bits)
    a_bases = as_bits("alice_bases", alice_bases)
    b_bases = as_bits("bob_bases", bob_bases)
    check_same_length("alice_bits", bits, "alice_bases", a_bases)
    check_same_length("alice_bits", bits, "bob_bases", b_bases)
    f = check_range("interception_fraction", interception_fraction, low=0.0, high=1.0)
    n = bits.size
    intercepted = rng.random(n) < f
    eve_bases = rng.integers(0, 2, n, dtype=np.uint8)
    eve_random = rng.integers(0, 2, n, dtype=np.uint8)
    eve_result = np.where(eve_bases == a_bases, bits, eve_random)
    # the state arriving at Bob: Alice's (bit, basis), or Eve's (result, basis) when intercepted
    state_bits = np.where(intercepted, eve_result, bits)
    state_bases = np.where(intercepted, eve_bases, a_bases)
    bob_random = rng.integers(0, 2, n, dtype=np.uint8)
    return np.where(state_bases == b_bases, state_bits, bob_random).astype(np.uint8)
