"""Closed forms of the slotted repeater-chain model, to check simulations against.

In the slotted model every link without a pair attempts once per slot and succeeds with
probability ``p``; a repeater swaps as soon as it holds a pair of each of its links, the swap
succeeding with probability ``a`` (a failure discards both pairs); a memory cut-off of ``t*``
slots discards a stored pair that the other link did not join within ``t*`` more attempts
(Shchukin, Rozpędek & Wehner, PRA 100, 032322 (2019); Brand, Coopmans & Elkouss, IEEE JSAC 38,
619 (2020)). qstack's links with ``attempt_clock = "slotted"`` and the ``"slots"`` cut-off
implement exactly this model when heralds and classical messages take less than half a slot.

>>> round(two_segment_waiting_time(0.3), 12)           # (3 − 2p)/(p(2 − p))
4.705882352941
>>> round(two_segment_waiting_time(0.3, cutoff_slots=0), 12)   # both in one slot: 1/p²
11.111111111111
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["two_segment_waiting_time"]


def two_segment_waiting_time(p: float, cutoff_slots: int | None = None, swap_success: float = 1.0) -> float:
    """Expected number of slots until the first successful swap of a two-segment chain.

    The states of the Markov chain at the start of a slot are "both links attempt" (``E₀``) and
    "one pair stored, the other link's ``j``-th attempt" (``E_j``, ``j = 1..t*``):

    * ``E₀ = 1 + p²(1 − a)E₀ + 2p(1 − p)E₁ + (1 − p)²E₀`` (with ``t* = 0``, ``E₁ → E₀``);
    * ``E_j = 1 + p(1 − a)E₀ + (1 − p)E_{j+1}``, and ``E_{t*+1} = E₀`` (the cut-off).

    Without a cut-off (``cutoff_slots=None``) it is ``(3 − 2p)/(a·p(2 − p))``: the slots for both
    links, ``E[max(G₁, G₂)]``, once per swap attempt.

    >>> round(two_segment_waiting_time(0.5, cutoff_slots=None, swap_success=0.5), 12)
    5.333333333333
    >>> two_segment_waiting_time(1.5)
    Traceback (most recent call last):
      ...
    ValueError: p must be in (0, 1], got 1.5
    """
    if not (isinstance(p, int | float) and 0.0 < p <= 1.0):
        raise ValueError(f"p must be in (0, 1], got {p!r}")
    a = swap_success
    if not (isinstance(a, int | float) and 0.0 < a <= 1.0):
        raise ValueError(f"swap_success must be in (0, 1], got {a!r}")
    if cutoff_slots is None:
        return (3.0 - 2.0 * p) / (a * p * (2.0 - p))
    if isinstance(cutoff_slots, bool) or not isinstance(cutoff_slots, int) or cutoff_slots < 0:
        raise ValueError(f"cutoff_slots must be an integer >= 0 or None, got {cutoff_slots!r}")
    t = cutoff_slots
    n = t + 1  # unknowns E_0 .. E_t
    m = np.zeros((n, n))
    rhs = np.ones(n)
    q = 1.0 - p
    m[0, 0] = 1.0 - p * p * (1.0 - a) - q * q
    if t == 0:
        m[0, 0] -= 2.0 * p * q
    else:
        m[0, 1] = -2.0 * p * q
    for j in range(1, n):
        m[j, j] = 1.0
        m[j, 0] -= p * (1.0 - a)
        if j < t:
            m[j, j + 1] -= q
        else:
            m[j, 0] -= q
    e = np.linalg.solve(m, rhs)
    out = float(e[0])
    if not math.isfinite(out):
        raise ArithmeticError("the waiting-time system is singular")
    return out
