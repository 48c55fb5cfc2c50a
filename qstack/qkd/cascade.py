"""The Cascade error-correction (information-reconciliation) protocol.

Brassard & Salvail, "Secret-key reconciliation by public discussion", EUROCRYPT '93,
LNCS 765, 410 (1994). Bob corrects his key towards Alice's by asking for the parities of
blocks of her key; every parity Alice discloses is one bit leaked to Eve and is counted.

The protocol as implemented here (the original Cascade):

* pass ``i`` (``i = 1 .. passes``, 4 by default) shuffles the key with a fresh public random
  permutation (pass 1 included, which removes burst errors) and cuts it into blocks of
  ``k_i = k_1 2^(i-1)`` bits, with ``k_1 = ceil(0.73 / Q)`` (Brassard–Salvail's choice);
* Alice discloses every block parity of the pass; on a block whose parity disagrees with
  Bob's, BINARY halves the block, asking Alice for the parity of the first half, until one
  error is located and flipped (``ceil(log2 k)`` parities);
* the cascading effect (back-tracking): flipping a bit toggles the parity agreement of the
  block containing it in every earlier pass; those blocks now hold an odd number of errors
  and are corrected in turn, smallest block first, until every block of every pass so far
  agrees.

Leak accounting: ``leaked_bits`` counts every parity of Alice's key that crosses the channel
(block parities and BINARY parities); a parity of a range already disclosed is not counted
again (Bob remembers it). The efficiency is ``f = leaked / (n h(Q))`` with ``Q`` the QBER
passed in, ``f = 1`` being the Shannon limit (Slepian–Wolf). Our measured values (f ~ 1.13–1.18
at n = 10^4 for Q = 1–8 %, ~1.09–1.17 at n = 10^5) are listed in ``tests/qkd/test_qkd_cascade.py``;
Martinez-Mateo, Pacher, Peev, Ciurana & Martin, "Demystifying the information reconciliation
protocol Cascade", Quantum Inf. Comput. 15, 453 (2015) (arXiv:1407.3257), analyse this protocol
and its later variants in detail.

Afterwards the keys are compared by a universal₂ (Toeplitz) hash of
``ceil(log2(1/eps_cor))`` bits (Tomamichel et al., Nat. Commun. 3, 634 (2012)): ``corrected``
is the outcome of that check, as the two parties would see it, not an oracle comparison.
The hash bits are reported as ``verification_bits`` and are not part of ``leaked_bits``
(the finite-key formula charges them separately, as log2(2/eps_cor)).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.physical.units import check_range
from qstack.qkd.bits import as_bits, check_same_length
from qstack.qkd.entropy import binary_entropy
from qstack.qkd.privacy import random_toeplitz_seed, toeplitz_hash, verification_tag_length

__all__ = [
    "BLOCK_SIZE_FACTOR",
    "CascadePass",
    "CascadeResult",
    "ParityOracle",
    "cascade",
    "cascade_block_size",
]

BLOCK_SIZE_FACTOR: float = 0.73
"""Brassard–Salvail's first-pass block size k1 = 0.73 / Q."""


def cascade_block_size(qber: float, key_length: int) -> int:
    """Return the first-pass block size k1 = ceil(0.73 / Q), capped at the key length.

    ``qber`` in [0, 0.5]; Q = 0 gives one block holding the whole key.

    >>> cascade_block_size(0.05, 10_000)
    15
    >>> cascade_block_size(0.0, 1000)
    1000
    """
    q = check_range("qber", qber, low=0.0, high=0.5)
    if key_length < 1:
        raise ValueError(f"key_length must be >= 1, got {key_length}")
    if q == 0.0:
        return key_length
    return max(1, min(key_length, math.ceil(BLOCK_SIZE_FACTOR / q)))


class ParityOracle:
    """Alice's side of Cascade: answers parity questions about her key and counts the leak.

    Each pass registers its public permutation; a question names a pass and a range
    ``[lo, hi)`` of positions in that pass's shuffled order. Every answer is one bit leaked,
    except for a range already answered. ``transcript`` keeps (pass, lo, hi, parity) rows
    in the order they were disclosed, so the exchange can be authenticated.

    >>> oracle = ParityOracle(np.array([1, 0, 1, 1], dtype=np.uint8))
    >>> oracle.register_pass(np.arange(4))
    0
    >>> oracle.parity(0, 0, 3), oracle.parity(0, 0, 3), oracle.leaked_bits
    (0, 0, 1)
    """

    def __init__(self, key: ArrayLike) -> None:
        self._key = as_bits("key", key)
        self._prefix: list[NDArray[np.uint8]] = []
        self._answered: dict[tuple[int, int, int], int] = {}
        self.transcript: list[tuple[int, int, int, int]] = []

    @property
    def leaked_bits(self) -> int:
        """Number of distinct parities disclosed so far."""
        return len(self.transcript)

    def register_pass(self, permutation: NDArray[np.int64]) -> int:
        """Record the public permutation of a new pass; return the pass index."""
        if permutation.shape != self._key.shape:
            raise ValueError(f"permutation must have length {self._key.size}, got shape {permutation.shape}")
        shuffled = self._key[permutation]
        prefix = np.zeros(shuffled.size + 1, dtype=np.uint8)
        np.bitwise_xor.accumulate(shuffled, out=prefix[1:])
        self._prefix.append(prefix)
        return len(self._prefix) - 1

    def parity(self, pass_index: int, lo: int, hi: int) -> int:
        """Return the parity of Alice's shuffled key on positions [lo, hi) of a pass."""
        if not 0 <= pass_index < len(self._prefix):
            raise ValueError(f"pass_index must be in [0, {len(self._prefix) - 1}], got {pass_index}")
        if not 0 <= lo < hi <= self._key.size:
            raise ValueError(f"range must satisfy 0 <= lo < hi <= {self._key.size}, got [{lo}, {hi})")
        key = (pass_index, lo, hi)
        answer = self._answered.get(key)
        if answer is None:
            prefix = self._prefix[pass_index]
            answer = int(prefix[hi] ^ prefix[lo])
            self._answered[key] = answer
            self.transcript.append((pass_index, lo, hi, answer))
        return answer


@dataclass(frozen=True)
class CascadePass:
    """The public record of one Cascade pass: permutation, block size, disclosed parities.

    ``disclosures`` has one row (pass, lo, hi, parity) per parity disclosed while this pass
    ran, including BINARY runs in earlier passes' blocks triggered by the cascade effect.
    """

    block_size: int
    permutation: NDArray[np.int64] = field(repr=False)
    disclosures: NDArray[np.int64] = field(repr=False)


@dataclass(frozen=True)
class CascadeResult:
    """Outcome of :func:`cascade`.

    ``corrected_key`` is Bob's key after reconciliation; ``leaked_bits`` the number of parities
    of Alice's key disclosed; ``corrected`` whether the final hash check passed;
    ``errors_corrected`` how many bits Bob flipped; ``verification_bits`` the hash length;
    ``verification_seed`` and ``verification_hash`` what Alice sent for the check.
    """

    corrected_key: NDArray[np.uint8] = field(repr=False)
    leaked_bits: int
    qber: float
    corrected: bool
    errors_corrected: int
    verification_bits: int
    passes: tuple[CascadePass, ...] = field(repr=False)
    verification_seed: NDArray[np.uint8] = field(repr=False)
    verification_hash: NDArray[np.uint8] = field(repr=False)

    @property
    def key_length(self) -> int:
        """Length n of the reconciled key."""
        return int(self.corrected_key.size)

    @property
    def efficiency(self) -> float:
        """Reconciliation efficiency f = leaked / (n h(Q)); f = 1 is the Shannon limit."""
        ideal = self.key_length * binary_entropy(self.qber)
        if ideal == 0.0:
            return math.inf if self.leaked_bits else 1.0
        return self.leaked_bits / ideal


def cascade(
    alice_key: ArrayLike,
    bob_key: ArrayLike,
    qber: float,
    rng: np.random.Generator,
    *,
    passes: int = 4,
    first_block_size: int | None = None,
    eps_cor: float = 1e-12,
) -> CascadeResult:
    """Reconcile Bob's key with Alice's by Cascade (Brassard & Salvail 1993).

    ``alice_key`` and ``bob_key`` are equal-length bit arrays (at least 2 bits); ``qber`` in
    [0, 0.5] is the estimated error rate that sets ``k1 = ceil(0.73/Q)`` unless
    ``first_block_size`` is given; ``passes`` >= 1. ``rng`` draws the public permutations and
    the verification-hash seed; Alice's key is only read through a :class:`ParityOracle`.

    >>> rng = np.random.default_rng(7)
    >>> alice = rng.integers(0, 2, 2000, dtype=np.uint8)
    >>> bob = alice ^ (rng.random(2000) < 0.03).astype(np.uint8)
    >>> result = cascade(alice, bob, 0.03, rng)
    >>> result.corrected, bool(np.array_equal(result.corrected_key, alice))
    (True, True)
    >>> 1.0 < result.efficiency < 1.5
    True
    """
    a = as_bits("alice_key", alice_key)
    b = as_bits("bob_key", bob_key).copy()
    n = check_same_length("alice_key", a, "bob_key", b)
    if n < 2:
        raise ValueError(f"alice_key must have at least 2 bits, got {n}")
    q = check_range("qber", qber, low=0.0, high=0.5)
    if passes < 1:
        raise ValueError(f"passes must be >= 1, got {passes}")
    if first_block_size is None:
        k1 = cascade_block_size(q, n)
    elif not 1 <= first_block_size <= n:
        raise ValueError(f"first_block_size must be in [1, {n}], got {first_block_size}")
    else:
        k1 = first_block_size
    tag_bits = min(verification_tag_length(eps_cor), n)

    original = b.copy()
    oracle = ParityOracle(a)
    block_sizes: list[int] = []
    permutations: list[NDArray[np.int64]] = []
    positions: list[NDArray[np.int64]] = []  # inverse permutations: index -> position
    bob_shuffled: list[NDArray[np.uint8]] = []
    odd: list[set[int]] = []  # blocks whose parity disagrees with Alice's
    heaps: list[list[int]] = []
    records: list[CascadePass] = []

    def toggle(pass_index: int, block: int) -> None:
        if block in odd[pass_index]:
            odd[pass_index].remove(block)
        else:
            odd[pass_index].add(block)
            heapq.heappush(heaps[pass_index], block)

    def binary(pass_index: int, lo: int, hi: int) -> int:
        shuffled = bob_shuffled[pass_index]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            alice_parity = oracle.parity(pass_index, lo, mid)
            bob_parity = int(np.count_nonzero(shuffled[lo:mid])) & 1
            if alice_parity != bob_parity:
                hi = mid
            else:
                lo = mid
        return lo

    for p in range(passes):
        k = min(k1 << p, n)
        permutation = rng.permutation(n)
        oracle.register_pass(permutation)
        inverse = np.empty(n, dtype=np.int64)
        inverse[permutation] = np.arange(n)
        block_sizes.append(k)
        permutations.append(permutation)
        positions.append(inverse)
        bob_shuffled.append(b[permutation])
        disclosed_before = oracle.leaked_bits

        starts = np.arange(0, n, k)
        alice_parities = np.array([oracle.parity(p, int(s), int(min(s + k, n))) for s in starts], dtype=np.uint8)
        bob_parities = (np.add.reduceat(bob_shuffled[p].astype(np.int64), starts) & 1).astype(np.uint8)
        mismatched = [int(i) for i in np.flatnonzero(alice_parities != bob_parities)]
        odd.append(set(mismatched))
        heaps.append(list(mismatched))
        heapq.heapify(heaps[p])

        while True:
            j = next((j for j in range(p + 1) if odd[j]), None)
            if j is None:
                break
            heap = heaps[j]
            block = heapq.heappop(heap)
            if block not in odd[j]:
                continue  # stale heap entry: the block was fixed meanwhile
            heapq.heappush(heap, block)  # toggle() below removes it from the odd set
            size = block_sizes[j]
            position = binary(j, block * size, min((block + 1) * size, n))
            index = int(permutations[j][position])
            b[index] ^= 1
            for r in range(p + 1):
                where = int(positions[r][index])
                bob_shuffled[r][where] ^= 1
                toggle(r, where // block_sizes[r])

        rows = np.array(oracle.transcript[disclosed_before:], dtype=np.int64).reshape(-1, 4)
        records.append(CascadePass(block_size=k, permutation=permutation, disclosures=rows))

    seed = random_toeplitz_seed(rng, n, tag_bits)
    alice_hash = toeplitz_hash(a, seed, tag_bits)
    corrected = bool(np.array_equal(alice_hash, toeplitz_hash(b, seed, tag_bits)))
    return CascadeResult(
        corrected_key=b,
        leaked_bits=oracle.leaked_bits,
        qber=q,
        corrected=corrected,
        errors_corrected=int(np.count_nonzero(b != original)),
        verification_bits=tag_bits,
        passes=tuple(records),
        verification_seed=seed,
        verification_hash=alice_hash,
    )
