"""Classical BB84 post-processing: from sifted keys to a secret key, with every message authenticated.

Stages (the protocol of Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634 (2012),
Table I, with Cascade for error correction):

1. **Parameter estimation** — Alice picks a random sample of the sifted positions; both
   disclose their bits there (two messages). The sample error rate ``lambda`` is the QBER
   estimate; the protocol aborts (:class:`QKDAbort`) when it exceeds ``qber_threshold``, or
   when even Shannon-limit error correction would leave no finite-key length.
2. **Error correction** — Cascade (:mod:`qstack.qkd.cascade`) on the unsampled bits, with
   ``k1 = 0.73 / lambda`` (``lambda = 0`` is replaced by ``1/k``, one error in the sample).
3. **Verification** — Alice sends a Toeplitz hash of ``ceil(log2 1/eps_cor)`` bits and its seed;
   a mismatch aborts.
4. **Privacy amplification** — both hash to ``l`` bits with a random Toeplitz matrix, ``l`` the
   finite-key length of :func:`qstack.qkd.finite_key.finite_key_length` with the observed
   ``lambda`` as ``Q_tol``, ``k`` the sample size and ``leak_EC`` Cascade's disclosed parities;
   ``l <= 0`` aborts.

Authentication: every classical message goes through an
:class:`~qstack.qkd.authentication.AuthenticatedChannel` over ``key_pool`` and consumes a fresh
128-bit slice. Cascade's interactive parity exchange is authenticated per pass: Alice's
permutation and disclosed parities in one message, Bob's questions in another, tagged when
the pass ends (delayed authentication: any tampering within a pass is caught before a key
bit is output). Messages: 2 (estimation) + 2 per Cascade pass + 2 (verification) + 1
(amplification seed) = 13 with 4 passes, 1664 key bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.physical.units import check_range
from qstack.qkd.authentication import AuthenticatedChannel, AuthenticatedMessage, KeyPool
from qstack.qkd.bits import as_bits, bits_to_bytes, check_same_length
from qstack.qkd.cascade import CascadeResult, cascade
from qstack.qkd.entropy import _BB84_QBER_THRESHOLD, binary_entropy
from qstack.qkd.finite_key import finite_key_length
from qstack.qkd.privacy import random_toeplitz_seed, toeplitz_hash
from qstack.qkd.sifting import QBEREstimate, estimate_qber

__all__ = ["KeyResult", "MessageRejected", "QKDAbort", "distil_key"]

DEFAULT_QBER_THRESHOLD: float = _BB84_QBER_THRESHOLD  # == bb84_qber_threshold()
"""Abort above the BB84 asymptotic limit h(Q) = 1/2, Q ~ 11.0 %."""


class QKDAbort(Exception):
    """The protocol aborted; ``stage``, ``qber`` and ``threshold`` say where and why.

    ``announced_by`` names the peer role whose authenticated abort announcement ended this
    role (None when this role decided the abort itself).
    """

    def __init__(self, message: str, *, stage: str, qber: float, threshold: float,
                 announced_by: str | None = None) -> None:
        super().__init__(message)
        self.stage = stage
        self.qber = qber
        self.threshold = threshold
        self.announced_by = announced_by

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only fields: rebuild from the message and the attributes (this class and its
        # subclasses), so an abort survives pickling — e.g. in a node process's report
        return _restore_abort, (type(self), str(self), dict(self.__dict__))


def _restore_abort(cls: type[QKDAbort], message: str, state: dict[str, Any]) -> QKDAbort:
    """Rebuild a pickled :class:`QKDAbort` (see ``QKDAbort.__reduce__``)."""
    abort = cls.__new__(cls)
    Exception.__init__(abort, message)
    abort.__dict__.update(state)
    return abort


class MessageRejected(QKDAbort):
    """A received classical message was refused — its tag does not verify (forged or altered),
    its key slice was used before (replayed), or it is not the protocol step expected — so the
    protocol aborts (``stage = "authentication"``). ``reason`` is ``"tag"``, ``"replay"`` or
    ``"unexpected"``; ``label`` the step that was expected."""

    def __init__(self, message: str, *, reason: str, label: str, qber: float = math.nan,
                 threshold: float = math.nan) -> None:
        super().__init__(message, stage="authentication", qber=qber, threshold=threshold)
        self.reason = reason
        self.label = label


@dataclass(frozen=True)
class KeyResult:
    """A distilled key pair and the accounting of how it was obtained.

    ``qber`` is the sample estimate; ``leaked_bits`` the parities Cascade disclosed;
    ``final_length`` the key length ``l``; ``auth_bits_used`` the pool key spent on tags;
    ``sifted_length``, ``sample_size`` and ``reconciled_length`` the sizes at each stage.
    """

    alice_key: NDArray[np.uint8] = field(repr=False)
    bob_key: NDArray[np.uint8] = field(repr=False)
    qber: float
    leaked_bits: int
    final_length: int
    auth_bits_used: int
    sifted_length: int
    sample_size: int
    reconciled_length: int
    verification_bits: int
    estimate: QBEREstimate = field(repr=False)
    cascade: CascadeResult = field(repr=False)
    messages: tuple[AuthenticatedMessage, ...] = field(repr=False)

    @property
    def secret_fraction(self) -> float:
        """Final key bits per sifted bit."""
        return self.final_length / self.sifted_length


def _int_bytes(values: ArrayLike) -> bytes:
    return np.asarray(values, dtype=">u8").tobytes()


def _exchange(channel: AuthenticatedChannel, sender: str, label: str, payload: bytes) -> bytes:
    """Send ``payload`` over the authenticated channel and return it as verified by the receiver."""
    return channel.receive(channel.send(sender, label, payload))


def distil_key(
    alice_sifted: ArrayLike,
    bob_sifted: ArrayLike,
    rng: np.random.Generator,
    *,
    key_pool: KeyPool,
    sample_fraction: float = 0.2,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-12,
    qber_threshold: float = DEFAULT_QBER_THRESHOLD,
    cascade_passes: int = 4,
) -> KeyResult:
    """Turn sifted BB84 keys into identical secret keys, or raise :class:`QKDAbort`.

    ``alice_sifted``/``bob_sifted``: equal-length sifted bit arrays (at least 2 bits);
    ``rng``: all protocol randomness (sample, permutations, hash seeds); ``key_pool``: the
    pre-shared key spent on authentication tags; ``sample_fraction`` in (0, 1);
    ``eps_sec``/``eps_cor`` in (0, 1); ``qber_threshold`` in (0, 0.5].

    >>> rng = np.random.default_rng(2024)
    >>> alice = rng.integers(0, 2, 40_000, dtype=np.uint8)
    >>> bob = alice ^ (rng.random(40_000) < 0.02).astype(np.uint8)
    >>> pool = KeyPool(rng.integers(0, 2, 4096, dtype=np.uint8))
    >>> result = distil_key(alice, bob, rng, key_pool=pool)
    >>> bool(np.array_equal(result.alice_key, result.bob_key)), result.final_length > 10_000
    (True, True)
    >>> result.auth_bits_used, pool.used
    (1664, 1664)
    """
    a = as_bits("alice_sifted", alice_sifted)
    b = as_bits("bob_sifted", bob_sifted)
    n_sifted = check_same_length("alice_sifted", a, "bob_sifted", b)
    if n_sifted < 2:
        raise ValueError(f"alice_sifted must have at least 2 bits, got {n_sifted}")
    check_range("sample_fraction", sample_fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    check_range("eps_sec", eps_sec, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    check_range("eps_cor", eps_cor, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    threshold = check_range("qber_threshold", qber_threshold, low=0.0, high=0.5, low_inclusive=False)
    if not isinstance(key_pool, KeyPool):
        raise ValueError(f"key_pool must be a KeyPool, got {type(key_pool).__name__}")
    channel = AuthenticatedChannel(key_pool)

    # 1. parameter estimation
    estimate = estimate_qber(a, b, rng, sample_fraction=sample_fraction, eps=eps_sec)
    positions = estimate.sample_indices
    _exchange(channel, "alice", "estimation/sample", _int_bytes(positions) + bits_to_bytes(a[positions]))
    _exchange(channel, "bob", "estimation/bob-bits", bits_to_bytes(b[positions]))
    lam, k = estimate.qber, estimate.sample_size
    if lam > threshold:
        raise QKDAbort(
            f"estimated QBER {lam:.4f} exceeds the threshold {threshold:.4f} "
            f"({estimate.errors} errors in a sample of {k})",
            stage="parameter estimation",
            qber=lam,
            threshold=threshold,
        )
    key_positions = estimate.key_indices
    n = int(key_positions.size)
    if n < 2 or finite_key_length(n, k, lam, n * binary_entropy(lam), eps_sec, eps_cor) <= 0:
        raise QKDAbort(
            f"no secret key possible at estimated QBER {lam:.4f} (threshold {threshold:.4f}): finite-key length "
            f"<= 0 even with Shannon-limit error correction for n = {n} key bits and k = {k} sample bits",
            stage="parameter estimation",
            qber=lam,
            threshold=threshold,
        )

    # 2. error correction
    alice_raw, bob_raw = a[key_positions], b[key_positions]
    cascade_qber = lam if lam > 0.0 else 1.0 / k
    reconciled = cascade(alice_raw, bob_raw, cascade_qber, rng, passes=cascade_passes, eps_cor=eps_cor)
    for index, record in enumerate(reconciled.passes):
        rows = record.disclosures
        _exchange(channel, "bob", f"cascade/pass-{index + 1}/questions", _int_bytes(rows[:, :3].ravel()))
        _exchange(
            channel,
            "alice",
            f"cascade/pass-{index + 1}/parities",
            _int_bytes(record.permutation) + bits_to_bytes(rows[:, 3].astype(np.uint8)),
        )

    # 3. verification
    _exchange(
        channel,
        "alice",
        "verification/hash",
        bits_to_bytes(reconciled.verification_seed) + bits_to_bytes(reconciled.verification_hash),
    )
    _exchange(channel, "bob", "verification/result", b"\x01" if reconciled.corrected else b"\x00")
    if not reconciled.corrected:
        raise QKDAbort(
            f"error-correction verification failed at estimated QBER {lam:.4f} (threshold {threshold:.4f}): "
            f"the {reconciled.verification_bits}-bit hashes differ",
            stage="verification",
            qber=lam,
            threshold=threshold,
        )

    # 4. privacy amplification
    length = finite_key_length(n, k, lam, reconciled.leaked_bits, eps_sec, eps_cor)
    if length <= 0:
        raise QKDAbort(
            f"finite-key length <= 0 at estimated QBER {lam:.4f} (threshold {threshold:.4f}): n = {n}, k = {k}, "
            f"leak_EC = {reconciled.leaked_bits}",
            stage="privacy amplification",
            qber=lam,
            threshold=threshold,
        )
    seed = random_toeplitz_seed(rng, n, length)
    _exchange(channel, "alice", "amplification/seed", _int_bytes([length]) + bits_to_bytes(seed))
    alice_key = toeplitz_hash(alice_raw, seed, length)
    bob_key = toeplitz_hash(reconciled.corrected_key, seed, length)

    return KeyResult(
        alice_key=alice_key,
        bob_key=bob_key,
        qber=lam,
        leaked_bits=reconciled.leaked_bits,
        final_length=length,
        auth_bits_used=channel.key_bits_used,
        sifted_length=n_sifted,
        sample_size=k,
        reconciled_length=n,
        verification_bits=reconciled.verification_bits,
        estimate=estimate,
        cascade=reconciled,
        messages=tuple(channel.messages),
    )
