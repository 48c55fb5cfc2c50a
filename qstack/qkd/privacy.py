"""Privacy amplification by Toeplitz-matrix universal hashing.

Privacy amplification compresses the reconciled key ``x`` (n bits) to ``y = T x`` over GF(2)
(m bits), where ``T`` is a random m x n Toeplitz matrix. By the (quantum) leftover hash lemma
(Bennett, Brassard, Crépeau & Maurer, IEEE Trans. Inf. Theory 41, 1915 (1995); Renner,
PhD thesis, ETH Zurich (2005)) any universal₂ family extracts a key that is close to uniform
and independent of Eve whenever ``m`` stays below the smooth min-entropy of ``x`` given Eve's
information. Random Toeplitz matrices form a universal₂ family (Krawczyk, CRYPTO '94; Mansour,
Nisan & Tiwari, STOC '90): for every ``x != x'``, ``P_T[T x = T x'] = 2^-m``, and the matrix
is fixed by a seed of only ``n + m - 1`` bits.

Convention: ``T[i, j] = seed[i - j + n - 1]`` (the first row read right to left, then the
first column), so ``(T x)_i = sum_j seed[i - j + n - 1] x_j``, the entry ``i + n - 1`` of the
full linear convolution ``seed * x``. We compute that convolution with a real FFT in
``O((n + m) log(n + m))`` and reduce it modulo 2; the integer sums are at most ``n``, far
inside float64's exact range, and the rounding error is checked on every call.

The same hash serves to verify error correction (Tomamichel et al., Nat. Commun. 3, 634
(2012), Table I: Alice sends a ``ceil(log2(1/eps_cor))``-bit universal hash of her key).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.qkd.bits import as_bits, random_bits

__all__ = [
    "random_toeplitz_seed",
    "toeplitz_hash",
    "toeplitz_matrix",
    "toeplitz_seed_length",
    "verification_tag_length",
]


def toeplitz_seed_length(input_length: int, output_length: int) -> int:
    """Return the seed length n + m - 1 of an m x n Toeplitz matrix (n, m >= 1).

    >>> toeplitz_seed_length(100, 40)
    139
    """
    if input_length < 1:
        raise ValueError(f"input_length must be >= 1, got {input_length}")
    if output_length < 1:
        raise ValueError(f"output_length must be >= 1, got {output_length}")
    return input_length + output_length - 1


def random_toeplitz_seed(rng: np.random.Generator, input_length: int, output_length: int) -> NDArray[np.uint8]:
    """Draw a uniformly random Toeplitz seed of n + m - 1 bits from ``rng``.

    >>> random_toeplitz_seed(np.random.default_rng(0), 4, 2).size
    5
    """
    return random_bits(rng, toeplitz_seed_length(input_length, output_length))


def _check_seed(seed: ArrayLike, input_length: int, output_length: int) -> NDArray[np.uint8]:
    bits = as_bits("seed", seed)
    expected = toeplitz_seed_length(input_length, output_length)
    if bits.size != expected:
        raise ValueError(
            f"seed must have n + m - 1 = {expected} bits for n = {input_length}, m = {output_length}, got {bits.size}"
        )
    return bits


def toeplitz_matrix(seed: ArrayLike, input_length: int, output_length: int) -> NDArray[np.uint8]:
    """Return the explicit m x n Toeplitz matrix T[i, j] = seed[i - j + n - 1] (for small n).

    >>> toeplitz_matrix([1, 0, 1, 1], 3, 2).tolist()
    [[1, 0, 1], [1, 1, 0]]
    """
    s = _check_seed(seed, input_length, output_length)
    i = np.arange(output_length)[:, None]
    j = np.arange(input_length)[None, :]
    return s[i - j + input_length - 1]


def toeplitz_hash(bits: ArrayLike, seed: ArrayLike, output_length: int) -> NDArray[np.uint8]:
    """Return T x over GF(2), the Toeplitz hash of ``bits`` (n bits) to ``output_length`` bits.

    ``seed`` has n + m - 1 bits and fixes T as in :func:`toeplitz_matrix`; the product is
    computed by FFT convolution, so n = 10^5 takes milliseconds. ``output_length`` must be in
    [1, n] (privacy amplification never lengthens a key).

    >>> x = np.array([1, 1, 0], dtype=np.uint8)
    >>> seed = np.array([1, 0, 1, 1], dtype=np.uint8)
    >>> toeplitz_hash(x, seed, 2).tolist()
    [1, 0]
    >>> (toeplitz_matrix(seed, 3, 2) @ x % 2).tolist()
    [1, 0]
    """
    x = as_bits("bits", bits)
    n = x.size
    if n < 1:
        raise ValueError("bits must contain at least 1 bit, got 0")
    if not 1 <= output_length <= n:
        raise ValueError(f"output_length must be in [1, {n}] for a {n}-bit input, got {output_length}")
    s = _check_seed(seed, n, output_length)
    import scipy.fft  # imported on first use, not with the module

    full = s.size + n - 1
    size = scipy.fft.next_fast_len(full, real=True)
    spectrum = scipy.fft.rfft(s.astype(np.float64), size) * scipy.fft.rfft(x.astype(np.float64), size)
    window = scipy.fft.irfft(spectrum, size)[n - 1 : n - 1 + output_length]
    counts = np.rint(window)
    if counts.size and float(np.max(np.abs(window - counts))) > 0.25:
        raise RuntimeError("FFT rounding error too large for an exact GF(2) Toeplitz product")
    return (counts.astype(np.int64) & 1).astype(np.uint8)


def verification_tag_length(eps_cor: float) -> int:
    """Return ceil(log2(1/eps_cor)), the hash length that makes a key eps_cor-correct.

    A universal₂ hash of that many bits lets two different keys pass the equality check
    with probability at most eps_cor (Tomamichel et al. 2012, Table I). ``eps_cor`` in (0, 1).

    >>> verification_tag_length(1e-12)
    40
    """
    if not 0.0 < eps_cor < 1.0:
        raise ValueError(f"eps_cor must be in (0, 1), got {eps_cor!r}")
    return max(1, math.ceil(math.log2(1.0 / eps_cor)))
