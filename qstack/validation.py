"""Parameter validation shared by every layer: :func:`check_range` names the field, the allowed
range and the given value (``"length must be >= 0 m, got -3.0"``), rejects NaN and infinities with
a ``ValueError`` and booleans and non-numbers with a ``TypeError``.

It lives here, below every package, so that the state core (:mod:`qstack.quantum`) and the
physical layer (:mod:`qstack.physical.units` re-exports it) report bad input the same way without
importing each other.
"""

from __future__ import annotations

import math
from numbers import Real

__all__ = ["check_range"]


def _format_bound(bound: float) -> str:
    if math.isinf(bound):
        return "inf" if bound > 0 else "-inf"
    return f"{bound:g}"


def check_range(
    name: str,
    value: object,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    unit: str = "",
) -> float:
    """Return ``value`` as a float if it lies in the given range, else raise ``ValueError``.

    The message names the field, the allowed range (with ``unit``) and the given value, the
    form every physical-layer constructor uses. NaN and infinities are always rejected
    (``ValueError``); booleans and non-numbers raise ``TypeError`` with the same message.

    >>> check_range("length", 3, low=0.0, unit="m")
    3.0
    >>> check_range("length", -3.0, low=0.0, unit="m")
    Traceback (most recent call last):
    ...
    ValueError: length must be >= 0 m, got -3.0
    >>> check_range("efficiency", 1.5, low=0.0, high=1.0)
    Traceback (most recent call last):
    ...
    ValueError: efficiency must be in [0, 1], got 1.5
    >>> check_range("angle", float("nan"), unit="rad")
    Traceback (most recent call last):
    ...
    ValueError: angle must be finite, got nan
    """
    suffix = f" {unit}" if unit else ""
    if math.isinf(low) and low < 0 and math.isinf(high) and high > 0:  # any finite number
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a finite real number{suffix and ' (' + unit + ')'}, got {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite, got {number!r}")
        return number
    if math.isinf(high) and high > 0:
        op = ">=" if low_inclusive else ">"
        allowed = f"{op} {_format_bound(low)}{suffix}"
    elif math.isinf(low) and low < 0:
        op = "<=" if high_inclusive else "<"
        allowed = f"{op} {_format_bound(high)}{suffix}"
    else:
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        allowed = f"in {left}{_format_bound(low)}, {_format_bound(high)}{right}{suffix}"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number {allowed}, got {value!r}")
    number = float(value)
    below = number < low or (number == low and not low_inclusive)
    above = number > high or (number == high and not high_inclusive)
    if not math.isfinite(number) or below or above:
        raise ValueError(f"{name} must be {allowed}, got {number!r}")
    return number
