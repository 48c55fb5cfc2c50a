"""Bit strings for the classical QKD post-processing: validation and small conversions.

Every key in :mod:`qstack.qkd` is a one-dimensional ``numpy.uint8`` array of 0s and 1s.
Functions here check that contract (naming the offending argument) and convert bit strings
to the bytes that the authentication code hashes. Randomness always comes from a
``numpy.random.Generator`` passed in, never from global state.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["as_bits", "bits_to_bytes", "check_same_length", "hamming_distance", "random_bits"]


def as_bits(name: str, bits: ArrayLike) -> NDArray[np.uint8]:
    """Return ``bits`` as a 1-D uint8 array of 0/1, or raise ValueError naming ``name``.

    Integer and boolean arrays (and lists of them) are accepted; any other value, a
    multi-dimensional array, or an entry outside {0, 1} is rejected.

    >>> as_bits("key", [1, 0, 1]).tolist()
    [1, 0, 1]
    >>> as_bits("key", [0, 2])
    Traceback (most recent call last):
    ...
    ValueError: key must contain only bits 0 and 1, got value 2 at index 1
    """
    array = np.asarray(bits)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional bit array, got shape {array.shape}")
    if array.size and array.dtype != np.bool_ and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be an integer (uint8) bit array, got dtype {array.dtype}")
    bad = np.flatnonzero((array != 0) & (array != 1))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{name} must contain only bits 0 and 1, got value {array[i].item()!r} at index {i}")
    return array.astype(np.uint8, copy=False)


def check_same_length(name_a: str, a: NDArray[np.uint8], name_b: str, b: NDArray[np.uint8]) -> int:
    """Return the common length of two arrays, or raise ValueError naming both.

    >>> check_same_length("alice", np.zeros(3, np.uint8), "bob", np.zeros(3, np.uint8))
    3
    >>> check_same_length("alice", np.zeros(3, np.uint8), "bob", np.zeros(2, np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: alice and bob must have the same length, got 3 and 2
    """
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}")
    return len(a)


def random_bits(rng: np.random.Generator, n: int) -> NDArray[np.uint8]:
    """Return ``n`` uniformly random bits drawn from ``rng``.

    >>> random_bits(np.random.default_rng(1), 8).tolist()
    [1, 1, 0, 0, 1, 1, 0, 1]
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return rng.integers(0, 2, size=n, dtype=np.uint8)


def hamming_distance(a: ArrayLike, b: ArrayLike) -> int:
    """Return the number of positions where two equal-length bit strings differ.

    >>> hamming_distance([0, 1, 1, 0], [1, 1, 0, 0])
    2
    """
    x = as_bits("a", a)
    y = as_bits("b", b)
    check_same_length("a", x, "b", y)
    return int(np.count_nonzero(x != y))


def bits_to_bytes(bits: ArrayLike) -> bytes:
    """Pack a bit string into bytes, big-endian within each byte, zero-padded at the end.

    The length is not encoded; callers that hash the result add it themselves.

    >>> bits_to_bytes([1, 0, 0, 0, 0, 0, 0, 1, 1])
    b'\\x81\\x80'
    """
    return np.packbits(as_bits("bits", bits)).tobytes()
