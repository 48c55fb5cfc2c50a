"""BB84 sifting and QBER estimation by random sampling.

Sifting (Bennett & Brassard, Proc. IEEE ICCSSP, 175 (1984)): Alice and Bob announce their
bases and keep the rounds where the bases agree (and Bob's detector clicked). Basis
convention: 0 = Z (rectilinear, |0>/|1>), 1 = X (diagonal, |+>/|->); bit 0 is |0> or |+>.

Parameter estimation: Alice picks ``k`` of the ``N`` sifted positions uniformly at random
without replacement; both disclose those bits, and the fraction that differ, ``lambda``,
estimates the QBER. The confidence interval uses Serfling's inequality for sampling without
replacement (R. J. Serfling, Ann. Statist. 2, 39 (1974), Cor. 1.1): for values in [0, 1],

    P[lambda - lambda_tot >= t] <= exp(-2 k t^2 / (1 - (k - 1)/N)),

and the same for the lower tail, so ``lambda_tot`` (the QBER of all N sifted bits) lies in
``[lambda - t, lambda + t]`` with probability >= 1 - eps for
``t = sqrt((1 - (k - 1)/N) ln(2/eps) / (2k))``. Serfling's factor ``1 - (k-1)/N`` makes the
bound tighter than Hoeffding's ``exp(-2 k t^2)`` (which also holds without replacement,
Hoeffding 1963, Sec. 6) when the sample is a large part of the population. Since
``N lambda_tot = k lambda + (N - k) lambda_key``, the error rate of the unsampled key bits
obeys ``lambda_key <= lambda + N t / (N - k)`` on the same event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.qkd.bits import as_bits, check_same_length

__all__ = [
    "BASIS_X",
    "BASIS_Z",
    "QBEREstimate",
    "SiftedKey",
    "estimate_qber",
    "serfling_deviation",
    "sift_bb84",
    "sifted_indices",
]

BASIS_Z: int = 0
"""Rectilinear basis {|0>, |1>}."""

BASIS_X: int = 1
"""Diagonal basis {|+>, |->}."""


def sifted_indices(
    alice_bases: ArrayLike, bob_bases: ArrayLike, bob_detected: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Return the rounds where Alice's and Bob's bases agree (and Bob detected a photon).

    >>> sifted_indices([0, 1, 1, 0], [0, 0, 1, 0], bob_detected=[1, 1, 1, 0]).tolist()
    [0, 2]
    """
    a = as_bits("alice_bases", alice_bases)
    b = as_bits("bob_bases", bob_bases)
    check_same_length("alice_bases", a, "bob_bases", b)
    keep = a == b
    if bob_detected is not None:
        d = as_bits("bob_detected", bob_detected)
        check_same_length("alice_bases", a, "bob_detected", d)
        keep &= d.astype(bool)
    return np.flatnonzero(keep).astype(np.int64)


@dataclass(frozen=True)
class SiftedKey:
    """The sifted key: kept round ``indices`` and both parties' bits at those rounds."""

    indices: NDArray[np.int64] = field(repr=False)
    alice_key: NDArray[np.uint8] = field(repr=False)
    bob_key: NDArray[np.uint8] = field(repr=False)

    @property
    def length(self) -> int:
        """Number of sifted bits."""
        return int(self.indices.size)

    @property
    def qber(self) -> float:
        """The true error fraction of the sifted key (a simulation-side quantity)."""
        return float(np.count_nonzero(self.alice_key != self.bob_key) / self.length) if self.length else 0.0


def sift_bb84(
    alice_bits: ArrayLike,
    alice_bases: ArrayLike,
    bob_bases: ArrayLike,
    bob_results: ArrayLike,
    *,
    bob_detected: ArrayLike | None = None,
) -> SiftedKey:
    """Sift BB84 rounds: keep those with matching bases (and a detection on Bob's side).

    All arrays have one entry per round; bits and bases are 0/1 (bases: 0 = Z, 1 = X).
    Bob's result in a round without detection is ignored.

    >>> s = sift_bb84([1, 0, 1, 1], [0, 1, 1, 0], [0, 0, 1, 0], [1, 1, 0, 1])
    >>> s.indices.tolist(), s.alice_key.tolist(), s.bob_key.tolist()
    ([0, 2, 3], [1, 1, 1], [1, 0, 1])
    """
    bits = as_bits("alice_bits", alice_bits)
    results = as_bits("bob_results", bob_results)
    check_same_length("alice_bits", bits, "bob_results", results)
    check_same_length("alice_bits", bits, "alice_bases", as_bits("alice_bases", alice_bases))
    kept = sifted_indices(alice_bases, bob_bases, bob_detected)
    return SiftedKey(indices=kept, alice_key=bits[kept], bob_key=results[kept])


def serfling_deviation(population_size: int, sample_size: int, eps: float) -> float:
    """Return t with P[|lambda - lambda_tot| >= t] <= eps for a sample of k out of N (Serfling).

    ``t = sqrt((1 - (k - 1)/N) ln(2/eps) / (2k))``; ``1 <= k <= N``, ``eps`` in (0, 1).

    >>> round(serfling_deviation(10_000, 1000, 1e-10), 4)
    0.1033
    >>> serfling_deviation(100, 101, 0.1)
    Traceback (most recent call last):
    ...
    ValueError: sample_size must be in [1, 100], got 101
    """
    if population_size < 1:
        raise ValueError(f"population_size must be >= 1, got {population_size}")
    if not 1 <= sample_size <= population_size:
        raise ValueError(f"sample_size must be in [1, {population_size}], got {sample_size}")
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}")
    finite_population = 1.0 - (sample_size - 1) / population_size
    return math.sqrt(finite_population * math.log(2.0 / eps) / (2.0 * sample_size))


@dataclass(frozen=True)
class QBEREstimate:
    """QBER estimated on a random sample, with Serfling confidence bounds.

    ``qber`` is the sample error fraction lambda; ``lower``/``upper`` bound the QBER of the
    whole sifted key and ``key_upper`` that of the unsampled (key) bits, all with
    probability >= 1 - ``eps``. ``sample_indices`` and ``key_indices`` partition the
    positions of the sifted key (both sorted).
    """

    qber: float
    errors: int
    sample_size: int
    population_size: int
    eps: float
    lower: float
    upper: float
    key_upper: float
    sample_indices: NDArray[np.int64] = field(repr=False)
    key_indices: NDArray[np.int64] = field(repr=False)


def estimate_qber(
    alice_key: ArrayLike,
    bob_key: ArrayLike,
    rng: np.random.Generator,
    *,
    sample_fraction: float | None = None,
    sample_size: int | None = None,
    eps: float = 1e-10,
) -> QBEREstimate:
    """Estimate the QBER on a uniformly random test subset drawn from ``rng``.

    Give either ``sample_fraction`` in (0, 1) or ``sample_size`` in [1, N - 1] (at least one
    key bit must remain). ``eps`` in (0, 1) is the failure probability of the interval.

    >>> rng = np.random.default_rng(5)
    >>> alice = rng.integers(0, 2, 10_000, dtype=np.uint8)
    >>> bob = alice ^ (rng.random(10_000) < 0.05).astype(np.uint8)
    >>> est = estimate_qber(alice, bob, rng, sample_fraction=0.2, eps=1e-6)
    >>> est.sample_size, est.lower < 0.05 < est.upper
    (2000, True)
    """
    a = as_bits("alice_key", alice_key)
    b = as_bits("bob_key", bob_key)
    n_total = check_same_length("alice_key", a, "bob_key", b)
    if n_total < 2:
        raise ValueError(f"alice_key must have at least 2 bits to sample and keep a key, got {n_total}")
    if (sample_fraction is None) == (sample_size is None):
        raise ValueError("give exactly one of sample_fraction and sample_size")
    if sample_fraction is not None:
        if not 0.0 < sample_fraction < 1.0:
            raise ValueError(f"sample_fraction must be in (0, 1), got {sample_fraction!r}")
        k = min(n_total - 1, max(1, round(sample_fraction * n_total)))
    else:
        assert sample_size is not None
        k = sample_size
        if not 1 <= k <= n_total - 1:
            raise ValueError(f"sample_size must be in [1, {n_total - 1}], got {k}")
    t = serfling_deviation(n_total, k, eps)
    chosen = np.sort(rng.choice(n_total, size=k, replace=False)).astype(np.int64)
    mask = np.zeros(n_total, dtype=bool)
    mask[chosen] = True
    errors = int(np.count_nonzero(a[chosen] != b[chosen]))
    lam = errors / k
    return QBEREstimate(
        qber=lam,
        errors=errors,
        sample_size=k,
        population_size=n_total,
        eps=eps,
        lower=max(0.0, lam - t),
        upper=min(1.0, lam + t),
        key_upper=min(1.0, lam + n_total * t / (n_total - k)),
        sample_indices=chosen,
        key_indices=np.flatnonzero(~mask).astype(np.int64),
    )
