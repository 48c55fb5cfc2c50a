"""Running statistics of a run's delivered pairs, in constant memory and exact.

A run of 10⁸ pairs cannot keep one record per pair; its summary (count, mean and standard
deviation of the fidelity, mean age, …) is accumulated pair by pair instead. :class:`RunningStats`
does it **exactly**: every finite double is a dyadic rational ``m · 2^e`` with ``e ≥ −1074``, so
``Σ x · 2^1074`` and ``Σ x² · 2^2148`` are integers, which Python keeps without rounding (about
2,200 bits whatever the number of values). The mean and the sample variance are rounded once,
when read: the mean is the correctly rounded ``Σx / n``, the variance the correctly rounded
``(n Σx² − (Σx)²) / (n (n − 1))``. So the figures do not depend on the order of the values, two
accumulators merge exactly (a run's total is the merge of its flows'), and they agree with a
two-pass computation over the kept values (``numpy.mean``, ``numpy.std(ddof=1)``) to the last
bits of those: numpy's pairwise sums carry a rounding error of a few ulp, these carry none.
(Welford's update would be constant-memory too, but rounds at every value.)

>>> s = RunningStats()
>>> for x in (0.1, 0.2, 0.3):
...     s.add(x)
>>> s.count, s.mean, round(s.std(), 15)
(3, 0.2, 0.1)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["RunningStats"]

_BITS = 1074  # 2^-1074 is the smallest positive double: x · 2^1074 is an integer for every finite x


class RunningStats:
    """Count, exact mean and sample variance of a stream of floats (see the module docstring).

    ``add(x)`` takes one value; NaN values are counted apart (:attr:`nan_count`) and left out of
    the moments; an infinite value is refused (``ValueError``). ``values`` seeds the accumulator.

    >>> s = RunningStats([1.0, 2.0, float("nan")])
    >>> s.count, s.nan_count, s.mean, s.variance()
    (2, 1, 1.5, 0.5)
    """

    __slots__ = ("count", "nan_count", "_s1", "_s2")

    def __init__(self, values: Iterable[float] = ()) -> None:
        #: number of (non-NaN) values added
        self.count = 0
        #: number of NaN values seen (not part of the moments)
        self.nan_count = 0
        self._s1 = 0  # Σ x · 2^1074, exact
        self._s2 = 0  # Σ x² · 2^2148, exact
        for x in values:
            self.add(x)

    def add(self, x: float) -> None:
        """Add the value ``x`` (a float; NaN is counted in :attr:`nan_count` only)."""
        try:
            num, den = float(x).as_integer_ratio()
        except ValueError:  # NaN
            self.nan_count += 1
            return
        except OverflowError:
            raise ValueError(f"RunningStats.add(): x must be finite (or NaN), got {x!r}") from None
        shift = _BITS - (den.bit_length() - 1)  # den is 2^k with k <= 1074
        self.count += 1
        self._s1 += num << shift
        self._s2 += (num * num) << (2 * shift)

    def merge(self, other: RunningStats) -> RunningStats:
        """Add every value ``other`` holds (exactly, as if added one by one); returns self."""
        if not isinstance(other, RunningStats):
            raise TypeError(f"RunningStats.merge(): other must be a RunningStats, got {type(other).__name__}")
        self.count += other.count
        self.nan_count += other.nan_count
        self._s1 += other._s1
        self._s2 += other._s2
        return self

    @property
    def mean(self) -> float | None:
        """The mean of the values, correctly rounded (None when there are none)."""
        if self.count == 0:
            return None
        return self._s1 / (self.count << _BITS)

    def _variance_ratio(self, ddof: int, name: str) -> tuple[int, int] | None:
        """The sample variance as an exact fraction ``(numerator, denominator)``."""
        if isinstance(ddof, bool) or not isinstance(ddof, int) or ddof < 0:
            raise ValueError(f"RunningStats.{name}(): ddof must be an int >= 0, got {ddof!r}")
        n = self.count
        if n <= ddof:
            return None
        # n Σx² − (Σx)² = n Σ (x − mean)², exactly, in units of 2^-2148
        return n * self._s2 - self._s1 * self._s1, (n * (n - ddof)) << (2 * _BITS)

    def variance(self, ddof: int = 1) -> float | None:
        """``Σ (x − mean)² / (n − ddof)``, correctly rounded (None when ``n <= ddof``)."""
        ratio = self._variance_ratio(ddof, "variance")
        return None if ratio is None else ratio[0] / ratio[1]

    def std(self, ddof: int = 1) -> float | None:
        """``√(Σ (x − mean)² / (n − ddof))``, correctly rounded from the exact variance (None when
        ``n <= ddof``)."""
        ratio = self._variance_ratio(ddof, "std")
        return None if ratio is None else _sqrt_ratio(*ratio)

    def __repr__(self) -> str:
        return f"RunningStats(count={self.count}, mean={self.mean!r}, nan_count={self.nan_count})"


def _sqrt_ratio(num: int, den: int) -> float:
    """``√(num / den)`` correctly rounded, for integers ``num >= 0``, ``den > 0``.

    ``r = ⌊√(num · 4^s / den)⌋`` with at least 55 significant bits; when the root is inexact its
    lowest bit is set (a sticky bit below the rounding bit), so converting ``r`` to a float —
    which rounds half to even — rounds the exact root correctly; ``2^-s`` is then exact.

    >>> _sqrt_ratio(1, 4), _sqrt_ratio(2, 1) == 2 ** 0.5, _sqrt_ratio(0, 7)
    (0.5, True, 0.0)
    """
    if num <= 0:
        return 0.0
    s = max(0, (56 * 2 - (num.bit_length() - den.bit_length())) // 2 + 1)
    q, rem = divmod(num << (2 * s), den)
    r = math.isqrt(q)
    if rem or r * r != q:
        r |= 1
    return math.ldexp(float(r), -s)
