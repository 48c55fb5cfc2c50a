"""Information-theoretic authentication of the classical channel (Wegman–Carter).

QKD needs an authenticated classical channel; without one Eve can sit in the middle. We use
the Wegman–Carter construction (Wegman & Carter, J. Comput. Syst. Sci. 22, 265 (1981)):
tag = ``H_k(m) XOR s`` where ``H_k`` is an almost-XOR-universal hash and ``s`` a one-time pad.

Hash: polynomial evaluation over GF(2^64) = GF(2)[x] / (x^64 + x^4 + x^3 + x + 1) (the
pentanomial is irreducible; a test checks it with Rabin's test). The message (bytes) is cut
into 64-bit big-endian blocks ``m_1 .. m_{L-1}`` (the last one zero-padded) followed by a block
holding the byte length, and ``H_k(m) = sum_i m_i k^(L - i + 1)`` (Horner's rule). Two different
messages of at most ``L`` blocks give a nonzero difference polynomial of degree <= L, which
has at most L roots, so ``P_k[H_k(m) XOR H_k(m') = c] <= L / 2^64``: the family is
``L/2^64``-almost XOR universal (den Boer 1993; Bierbrauer et al. 1994; the GHASH idea).

Key use: every tag consumes a *fresh* 128-bit slice of the shared key pool, 64 bits for the
hash key ``k`` and 64 for the pad ``s``; nothing is ever reused (reusing ``k`` with fresh pads
is also secure, Wegman–Carter 1981, but fresh keys keep the statement simple). Against a
substitution attack the forging probability is then at most ``L / 2^64`` per message of at
most ``L`` blocks, and ``2^-64`` for impersonation; a forger who sees many tagged messages
does no better, because each uses independent key.

:class:`KeyPool` hands out disjoint slices of the pre-shared key and raises when it runs out
or when a slice is asked for twice; :class:`AuthenticatedChannel` tags, verifies and counts.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.qkd.bits import as_bits

__all__ = [
    "GF64_MODULUS",
    "KEY_BITS_PER_TAG",
    "TAG_BITS",
    "AuthenticatedChannel",
    "AuthenticatedMessage",
    "AuthenticationError",
    "KeyPool",
    "KeyPoolError",
    "KeyPoolExhaustedError",
    "KeyReuseError",
    "KeySlice",
    "PresharedKey",
    "fresh_key",
    "forging_probability_bound",
    "gf64_multiply",
    "load_preshared_key",
    "message_blocks",
    "polynomial_hash",
    "wegman_carter_tag",
    "wegman_carter_verify",
]

TAG_BITS: int = 64
"""Length of a tag in bits."""

KEY_BITS_PER_TAG: int = 128
"""Key consumed per tag: 64 bits of hash key plus a 64-bit one-time pad."""

GF64_MODULUS: int = (1 << 64) | 0b11011
"""x^64 + x^4 + x^3 + x + 1, an irreducible pentanomial defining GF(2^64)."""

_MASK64 = (1 << 64) - 1


class AuthenticationError(Exception):
    """A received message's tag does not verify, or its key slice was already used."""


class KeyPoolError(RuntimeError):
    """Base class of key-pool misuse."""


class KeyPoolExhaustedError(KeyPoolError):
    """The pool has fewer unused bits than requested."""


class KeyReuseError(KeyPoolError):
    """A slice overlapping one already handed out was requested."""


def gf64_multiply(a: int, b: int) -> int:
    """Multiply two elements of GF(2^64) (64-bit integers as polynomials over GF(2)).

    Carry-less shift-and-add, reducing by :data:`GF64_MODULUS` on every overflow.

    >>> gf64_multiply(0b10, 0b11)   # x (x + 1) = x^2 + x
    6
    >>> gf64_multiply(1 << 63, 2) == 0b11011   # x^64 = x^4 + x^3 + x + 1
    True
    """
    for name, value in (("a", a), ("b", b)):
        if not 0 <= value <= _MASK64:
            raise ValueError(f"{name} must be in [0, 2^64 - 1], got {value}")
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a <<= 1
        if a >> 64:
            a ^= GF64_MODULUS
    return result


def _multiplication_tables(k: int) -> NDArray[np.uint64]:
    """Tables T[j, byte] = (byte x^(8j)) k in GF(2^64), for multiplying by a fixed k."""
    powers = [k]
    for _ in range(63):
        a = powers[-1] << 1
        if a >> 64:
            a ^= GF64_MODULUS
        powers.append(a)
    tables = np.zeros((8, 256), dtype=np.uint64)
    for j in range(8):
        row = [0] * 256
        for byte in range(1, 256):
            low = byte & -byte
            row[byte] = row[byte ^ low] ^ powers[8 * j + low.bit_length() - 1]
        tables[j] = row
    return tables


def _multiply_by_constant(x: NDArray[np.uint64], tables: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Multiply every element of ``x`` by the constant whose tables are given (8 byte look-ups)."""
    result = tables[0][x & np.uint64(0xFF)]
    for j in range(1, 8):
        result ^= tables[j][(x >> np.uint64(8 * j)) & np.uint64(0xFF)]
    return result


def _multiply_arrays(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Element-wise GF(2^64) product of two uint64 arrays (shift-and-add over the 64 bits of b)."""
    a = a.copy()
    result = np.zeros_like(a)
    one, top, reduction = np.uint64(1), np.uint64(63), np.uint64(GF64_MODULUS & _MASK64)
    for bit in range(64):
        result ^= a * ((b >> np.uint64(bit)) & one)
        carry = (a >> top) & one
        a = (a << one) ^ (carry * reduction)
    return result


def _message_words(message: bytes) -> NDArray[np.uint64]:
    if not isinstance(message, (bytes, bytearray)):
        raise ValueError(f"message must be bytes, got {type(message).__name__}")
    padded = bytes(message) + b"\x00" * (-len(message) % 8)
    words = np.frombuffer(padded, dtype=">u8").astype(np.uint64)
    return np.append(words, np.uint64(len(message)))


def message_blocks(message: bytes) -> list[int]:
    """Split a message into 64-bit big-endian blocks, zero-padded, plus a final length block.

    The length block makes the encoding injective (messages differing only in trailing
    zero bytes get different blocks).

    >>> [hex(block) for block in message_blocks(b"ab")]
    ['0x6162000000000000', '0x2']
    """
    return [int(w) for w in _message_words(message)]


def polynomial_hash(message: bytes, key: int) -> int:
    """Return H_k(m) = sum_i m_i k^(L-i+1) over GF(2^64), with m_i the blocks of ``message``.

    ``key`` is a 64-bit integer. Evaluated with ``s`` interleaved Horner lanes so that numpy
    does the work: with leading zero blocks making ``L = s T`` and block ``i = t s + r``,
    ``H = sum_r k^(s - r) G_r`` where ``G_r`` is Horner's rule in ``K = k^s`` over lane ``r``.
    The result equals plain Horner ``acc = (acc XOR m_i) k`` (a test checks this).

    >>> polynomial_hash(b"", 5) == gf64_multiply(0, 5)   # one length block equal to 0
    True
    >>> polynomial_hash(b"ab", 1) == 0x6162000000000000 ^ 2   # k = 1: XOR of the blocks
    True
    """
    if not 0 <= key <= _MASK64:
        raise ValueError(f"key must be in [0, 2^64 - 1], got {key}")
    words = _message_words(message)
    lanes = max(1, min(1024, math.isqrt(words.size)))
    steps = -(-words.size // lanes)
    grid = np.zeros(lanes * steps, dtype=np.uint64)
    grid[grid.size - words.size :] = words  # leading zeros do not change H
    grid = grid.reshape(steps, lanes)
    powers = [key]  # k^1 .. k^lanes
    key_tables = _multiplication_tables(key)
    for _ in range(lanes - 1):
        powers.append(int(_multiply_by_constant(np.array([powers[-1]], dtype=np.uint64), key_tables)[0]))
    stride_tables = _multiplication_tables(powers[-1])  # K = k^lanes
    acc = np.zeros(lanes, dtype=np.uint64)
    for row in grid:
        acc = _multiply_by_constant(acc, stride_tables) ^ row
    weights = np.array(powers[::-1], dtype=np.uint64)  # lane r gets k^(lanes - r)
    return int(np.bitwise_xor.reduce(_multiply_arrays(acc, weights)))


def _key_words(key_bits: ArrayLike) -> tuple[int, int]:
    bits = as_bits("key_bits", key_bits)
    if bits.size != KEY_BITS_PER_TAG:
        raise ValueError(f"key_bits must have {KEY_BITS_PER_TAG} bits (hash key + pad), got {bits.size}")
    packed = np.packbits(bits).tobytes()
    return int.from_bytes(packed[:8], "big"), int.from_bytes(packed[8:], "big")


def wegman_carter_tag(message: bytes, key_bits: ArrayLike) -> int:
    """Return the 64-bit Wegman–Carter tag H_k(m) XOR s of ``message``.

    ``key_bits`` are 128 fresh key bits: the first 64 give the hash key k, the last 64 the
    one-time pad s. Use each key slice for one message only.

    >>> key = np.random.default_rng(3).integers(0, 2, 128, dtype=np.uint8)
    >>> tag = wegman_carter_tag(b"basis announcement", key)
    >>> wegman_carter_verify(b"basis announcement", tag, key)
    True
    >>> wegman_carter_verify(b"basis announcemenT", tag, key)
    False
    """
    k, s = _key_words(key_bits)
    return polynomial_hash(message, k) ^ s


def wegman_carter_verify(message: bytes, tag: int, key_bits: ArrayLike) -> bool:
    """Return whether ``tag`` is the Wegman–Carter tag of ``message`` under ``key_bits``.

    >>> wegman_carter_verify(b"", 0, np.zeros(128, dtype=np.uint8))
    True
    """
    if not 0 <= tag <= _MASK64:
        return False
    return wegman_carter_tag(message, key_bits) == tag


def forging_probability_bound(message_length_bytes: int) -> float:
    """Return L / 2^64, the substitution-forgery bound for messages of up to that many bytes.

    ``L = ceil(bytes / 8) + 1`` blocks (data blocks plus the length block).

    >>> forging_probability_bound(8) == 2 / 2**64
    True
    """
    if message_length_bytes < 0:
        raise ValueError(f"message_length_bytes must be >= 0, got {message_length_bytes}")
    blocks = math.ceil(message_length_bytes / 8) + 1
    return blocks / 2.0**64


@dataclass(frozen=True)
class KeySlice:
    """Bits ``[start, stop)`` of a key pool, handed out once, with the purpose recorded."""

    start: int
    stop: int
    bits: NDArray[np.uint8] = field(repr=False)
    purpose: str = ""

    def __len__(self) -> int:
        return self.stop - self.start


class KeyPool:
    """A pre-shared secret key consumed in disjoint slices, never twice.

    ``take(n)`` hands out the next ``n`` unused bits; ``take_range(start, stop)`` a named
    range. Either raises :class:`KeyPoolExhaustedError` when the pool has too few unused bits
    and :class:`KeyReuseError` when a requested bit was handed out before. ``extend`` appends
    fresh key (e.g. part of a distilled QKD key) for later rounds.

    >>> pool = KeyPool(np.random.default_rng(0).integers(0, 2, 256, dtype=np.uint8))
    >>> first = pool.take(128, purpose="tag 1")
    >>> (first.start, first.stop, pool.remaining)
    (0, 128, 128)
    >>> pool.take_range(0, 64)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    qstack.qkd.authentication.KeyReuseError: key bits [0, 64) overlap a slice already handed out
    """

    def __init__(self, bits: ArrayLike) -> None:
        self._bits = as_bits("bits", bits).copy()
        self._bits.flags.writeable = False
        self._used = np.zeros(self._bits.size, dtype=bool)
        self._cursor = 0
        self.log: list[tuple[int, int, str]] = []

    @property
    def size(self) -> int:
        """Total number of key bits ever put in the pool."""
        return int(self._bits.size)

    @property
    def used(self) -> int:
        """Number of bits handed out so far."""
        return int(np.count_nonzero(self._used))

    @property
    def remaining(self) -> int:
        """Number of bits never handed out."""
        return self.size - self.used

    def extend(self, bits: ArrayLike) -> None:
        """Append fresh key bits to the pool."""
        new = as_bits("bits", bits)
        self._bits = np.concatenate([self._bits, new])
        self._bits.flags.writeable = False
        self._used = np.concatenate([self._used, np.zeros(new.size, dtype=bool)])

    def take(self, n_bits: int, *, purpose: str = "") -> KeySlice:
        """Hand out the next ``n_bits`` (>= 1) unused bits."""
        if n_bits < 1:
            raise ValueError(f"n_bits must be >= 1, got {n_bits}")
        while self._cursor < self.size and self._used[self._cursor]:
            self._cursor += 1
        start = self._cursor
        if start + n_bits > self.size or np.any(self._used[start : start + n_bits]):
            free = np.flatnonzero(~self._used)
            # look for any later run of n_bits free bits
            runs = np.split(free, np.flatnonzero(np.diff(free) != 1) + 1) if free.size else []
            run = next((r for r in runs if r.size >= n_bits), None)
            if run is None:
                raise KeyPoolExhaustedError(
                    f"key pool exhausted: {n_bits} bits requested, {self.remaining} unused of {self.size}"
                )
            start = int(run[0])
        return self.take_range(start, start + n_bits, purpose=purpose)

    def take_range(self, start: int, stop: int, *, purpose: str = "") -> KeySlice:
        """Hand out bits ``[start, stop)``, which must lie in the pool and be unused."""
        if not 0 <= start < stop:
            raise ValueError(f"range must satisfy 0 <= start < stop, got [{start}, {stop})")
        if stop > self.size:
            raise KeyPoolExhaustedError(f"key bits [{start}, {stop}) requested beyond the pool size {self.size}")
        if np.any(self._used[start:stop]):
            raise KeyReuseError(f"key bits [{start}, {stop}) overlap a slice already handed out")
        self._used[start:stop] = True
        if start == self._cursor:
            self._cursor = stop
        self.log.append((start, stop, purpose))
        return KeySlice(start=start, stop=stop, bits=self._bits[start:stop], purpose=purpose)

    def peek(self, start: int, stop: int) -> NDArray[np.uint8]:
        """Return (read-only) bits of a slice already handed out: the other party's copy.

        Alice and Bob hold identical pools; in a simulation one pool object stands for both,
        and the receiver of a message reads the slice the sender took through this method.
        """
        if not 0 <= start < stop <= self.size:
            raise ValueError(f"range must satisfy 0 <= start < stop <= {self.size}, got [{start}, {stop})")
        if not np.all(self._used[start:stop]):
            raise KeyPoolError(f"key bits [{start}, {stop}) were not handed out to the sender")
        return self._bits[start:stop]


@dataclass(frozen=True)
class AuthenticatedMessage:
    """A classical message with its Wegman–Carter tag and the (public) key-slice position."""

    sender: str
    label: str
    payload: bytes = field(repr=False)
    key_start: int
    tag: int = field(repr=False)


class AuthenticatedChannel:
    """The authenticated classical channel between Alice and Bob over a shared key pool.

    ``send`` takes a fresh 128-bit slice and tags the payload; ``receive`` verifies the tag
    with the receiver's copy of that slice and refuses a slice it has already accepted
    (a replay). ``key_bits_used`` counts key spent on tags; ``messages`` lists what was sent.

    >>> pool = KeyPool(np.random.default_rng(0).integers(0, 2, 512, dtype=np.uint8))
    >>> channel = AuthenticatedChannel(pool)
    >>> message = channel.send("alice", "sample", b"positions 3 7 9")
    >>> channel.receive(message)
    b'positions 3 7 9'
    >>> channel.key_bits_used
    128
    """

    def __init__(self, pool: KeyPool) -> None:
        self.pool = pool
        self.messages: list[AuthenticatedMessage] = []
        self._accepted: set[int] = set()

    @property
    def key_bits_used(self) -> int:
        """Key bits consumed by tags on this channel."""
        return KEY_BITS_PER_TAG * len(self.messages)

    def send(self, sender: str, label: str, payload: bytes) -> AuthenticatedMessage:
        """Tag ``payload`` with a fresh key slice and return the message to transmit."""
        key = self.pool.take(KEY_BITS_PER_TAG, purpose=f"{sender}:{label}")
        message = AuthenticatedMessage(
            sender=sender,
            label=label,
            payload=bytes(payload),
            key_start=key.start,
            tag=wegman_carter_tag(bytes(payload), key.bits),
        )
        self.messages.append(message)
        return message

    def receive(self, message: AuthenticatedMessage) -> bytes:
        """Verify ``message`` and return its payload, or raise :class:`AuthenticationError`."""
        start = message.key_start
        if start in self._accepted:
            raise AuthenticationError(f"key slice at {start} already used: replayed message {message.label!r}")
        try:
            key = self.pool.peek(start, start + KEY_BITS_PER_TAG)
        except (KeyPoolError, ValueError) as error:
            raise AuthenticationError(f"message {message.label!r} names no valid key slice: {error}") from None
        if not wegman_carter_verify(message.payload, message.tag, key):
            raise AuthenticationError(f"tag of message {message.label!r} from {message.sender} does not verify")
        self._accepted.add(start)
        return message.payload


# ============================================================================ where the key comes from


@dataclass(frozen=True)
class PresharedKey:
    """The pre-shared authentication key of a pair of parties, and where it came from.

    ``bits`` (uint8, read-only) and ``source``: ``"file <path>"``, ``"hex"`` (given inline) or
    ``"fresh"`` (:func:`fresh_key`). Built by :func:`load_preshared_key` from a scenario's
    ``auth_key`` table. The key must be known to the two parties only: it is *never* derived
    from a simulation seed or random stream, since anyone who knows the seed could then forge
    every tag.
    """

    bits: NDArray[np.uint8] = field(repr=False, compare=False)
    source: str

    def __len__(self) -> int:
        return int(self.bits.size)


def _key_from_bytes(data: bytes, source: str) -> PresharedKey:
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).astype(np.uint8)
    bits.flags.writeable = False
    return PresharedKey(bits, source)


def load_preshared_key(spec: Mapping[str, object], *, name: str = "auth_key", min_bits: int = 0) -> PresharedKey:
    """Read the pre-shared key a scenario names: ``{file = "path"}`` or ``{hex = "..."}``.

    ``file``: the key is the file's bytes, every bit used (e.g. ``head -c 512 /dev/urandom >
    alice-bob.key``, or a key distilled by an earlier QKD run and saved with
    :func:`numpy.packbits`); a relative path is relative to the working directory. ``hex``: the
    key written out in hexadecimal (whitespace and ``_`` ignored). Both parties must hold the
    same file. ``min_bits`` is what the caller's messages need: a shorter key is refused.
    Errors name the field (``name``, ``name.file``, ``name.hex``) and what is allowed:
    ``TypeError`` for a value of the wrong type, ``ValueError`` otherwise.

    >>> key = load_preshared_key({"hex": "00ff"})
    >>> len(key), key.source, key.bits[:9].tolist()
    (16, 'hex', [0, 0, 0, 0, 0, 0, 0, 0, 1])
    >>> load_preshared_key({"hex": "00ff"}, min_bits=256)  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: auth_key: the key has 16 bits (2 bytes) but the messages to authenticate need
    at least 256 bits (32 bytes)
    >>> load_preshared_key({"seed": 3})
    Traceback (most recent call last):
    ...
    ValueError: auth_key: unknown key source 'seed'; give exactly one of file = "path" or hex = "..."
    """
    if not isinstance(spec, Mapping):
        raise TypeError(f'{name}: must be a table like {{file = "path"}} or {{hex = "..."}}, got '
                        f"{type(spec).__name__}")
    unknown = sorted(str(k) for k in spec if k not in ("file", "hex"))
    if unknown:
        raise ValueError(f"{name}: unknown key source {unknown[0]!r}; give exactly one of "
                         'file = "path" or hex = "..."')
    if len(spec) != 1:
        raise ValueError(f'{name}: give exactly one of file = "path" or hex = "...", got {len(spec)} entries')
    (kind, value), = spec.items()
    if kind == "file":
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name}.file: must be a path string, got {type(value).__name__}")
        try:
            with open(value, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise ValueError(f"{name}.file: cannot read the key file {os.fspath(value)!r}: "
                             f"{error.strerror or error}") from None
        key = _key_from_bytes(data, f"file {os.fspath(value)}")
    else:
        if not isinstance(value, str):
            raise TypeError(f"{name}.hex: must be a string of hexadecimal digits, got {type(value).__name__}")
        text = "".join(value.split()).replace("_", "")
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"{name}.hex: not an even number of hexadecimal digits (0-9, a-f)") from None
        key = _key_from_bytes(data, "hex")
    if len(key) == 0:
        raise ValueError(f"{name}: the key is empty")
    if len(key) < min_bits:
        raise ValueError(f"{name}: the key has {len(key)} bits ({len(key) // 8} bytes) but the messages to "
                         f"authenticate need at least {min_bits} bits ({-(-min_bits // 8)} bytes)")
    return key


def fresh_key(n_bits: int) -> PresharedKey:
    """A fresh ``n_bits``-bit key from the operating system's CSPRNG (:mod:`secrets`), ``source="fresh"``.

    Stands for a key the two parties shared out of band before the run, unknown to everyone
    else — including anyone who knows the simulation's seed. It is not reproducible: a run with
    it sends different tags each time (and nothing else differs, since no result depends on a
    tag's value).

    >>> k = fresh_key(256)
    >>> len(k), k.source
    (256, 'fresh')
    """
    if isinstance(n_bits, bool) or not isinstance(n_bits, int) or n_bits < 8 or n_bits % 8:
        raise ValueError(f"n_bits must be a positive multiple of 8, got {n_bits!r}")
    return _key_from_bytes(secrets.token_bytes(n_bits // 8), "fresh")
