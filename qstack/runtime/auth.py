"""Authenticated classical frames: a pre-shared key per pair of nodes, HMAC-SHA256 and sequence numbers.

Every classical message between two nodes travels in a *frame* that only the holders of the pair's
key can make, in the order it was sent, exactly once::

    frame = seq (8 bytes, big-endian) ‖ payload ‖ tag (16 bytes)
    tag   = HMAC-SHA256(key, "qstack-frame/1" ‖ src ‖ 0x00 ‖ dst ‖ 0x00 ‖ seq ‖ payload)[:16]

The tag binds the direction (``src`` → ``dst``), so a frame cannot be reflected back to its sender,
and the sequence number, so a recorded frame cannot be replayed. A receiver accepts exactly the next
sequence number of its direction: a frame with a smaller one is a replay (or a retransmission
already delivered — dropped either way, so delivery stays exactly-once), a larger one is out of
order (dropped; a reliable transport retransmits it in turn). A 128-bit truncated HMAC-SHA256 is
the standard MAC construction (RFC 2104, truncation per RFC 4868 §2.6 / NIST SP 800-107).

Keys come from a :class:`PairKeys` source the scenario names — a key file, or explicit hex keys —
or, when none is named, from the operating system's random source (:func:`secrets.token_bytes`),
**never** from the simulation's seeded streams: knowing a run's seed must not let anyone forge a
frame. Tags never influence a protocol's outcome, so a run stays bit-identical for a seed either way.

>>> keys = PairKeys.from_mapping({("alice", "bob"): "00" * 32})
>>> tx = FrameAuth(keys.key("alice", "bob"), "alice", "bob")
>>> rx = FrameAuth(keys.key("bob", "alice"), "alice", "bob")
>>> frame = tx.seal(b"hello")
>>> rx.open(frame)
b'hello'
>>> rx.open(frame)                       # the same frame again is a replay
Traceback (most recent call last):
...
qstack.runtime.auth.AuthError: replayed frame alice->bob: sequence number 0, expected 1
>>> rx.rejected
{'replayed': 1}
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = ["AuthError", "AuthRejection", "FrameAuth", "PairKeys", "KEY_BYTES", "TAG_BYTES", "SEQ_BYTES"]

#: bytes of a pair's key (256 bits)
KEY_BYTES = 32
#: bytes of a frame's tag (HMAC-SHA256 truncated to 128 bits)
TAG_BYTES = 16
#: bytes of a frame's sequence number
SEQ_BYTES = 8
_LABEL = b"qstack-frame/1"
_MAX_SEQ = (1 << (8 * SEQ_BYTES)) - 1


class AuthRejection(StrEnum):
    """Why a frame was refused (the ``reason`` of an :class:`AuthError`, and the counters' keys)."""

    #: shorter than a sequence number and a tag, or not bytes
    TRUNCATED = "truncated"
    #: the tag does not match: made without the key, altered, or sent in the other direction
    FORGED = "forged"
    #: a sequence number already accepted (a replay, or a duplicate retransmission)
    REPLAYED = "replayed"
    #: a sequence number beyond the next one (a frame in between is missing)
    REORDERED = "reordered"


class AuthError(ValueError):
    """A frame that fails authentication; ``reason`` is an :class:`AuthRejection`."""

    def __init__(self, reason: AuthRejection, detail: str) -> None:
        super().__init__(detail)
        self.reason = AuthRejection(reason)
        self.detail = detail

    def __reduce__(self) -> tuple[type[AuthError], tuple[AuthRejection, str]]:
        return type(self), (self.reason, self.detail)


def _pair(a: str, b: str) -> tuple[str, str]:
    for name, value in (("first node", a), ("second node", b)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"PairKeys: {name} must be a non-empty node name, got {value!r}")
    if a == b:
        raise ValueError(f"PairKeys: a key is shared by two different nodes, got {a!r} twice")
    return (a, b) if a <= b else (b, a)


def _key_bytes(value: Any, where: str) -> bytes:
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value)
        except ValueError:
            raise ValueError(f"{where}: a key must be hexadecimal, got {value[:16]!r}…") from None
    if not isinstance(value, bytes | bytearray):
        raise TypeError(f"{where}: a key must be bytes or a hex string, got {type(value).__name__}")
    if len(value) < KEY_BYTES:
        raise ValueError(f"{where}: a key must have at least {KEY_BYTES} bytes ({2 * KEY_BYTES} hex digits), "
                         f"got {len(value)}")
    return bytes(value)


class PairKeys:
    """The pre-shared key of each pair of nodes (symmetric: ``key(a, b) == key(b, a)``).

    Build it from a key file (:meth:`from_file`), from explicit keys (:meth:`from_mapping`), or
    fresh from the OS random source for a set of nodes (:meth:`generate`). A pair with no key is an
    error naming both nodes, never a silent default.

    >>> keys = PairKeys.generate(["a", "b", "c"])
    >>> keys.key("a", "b") == keys.key("b", "a") != keys.key("a", "c")
    True
    >>> PairKeys.from_mapping({}).key("a", "b")
    Traceback (most recent call last):
    ...
    KeyError: "no pre-shared key for the pair of nodes 'a' and 'b'"
    """

    __slots__ = ("_keys", "source")

    def __init__(self, keys: Mapping[tuple[str, str], bytes], source: str) -> None:
        self._keys: dict[tuple[str, str], bytes] = {}
        for (a, b), key in keys.items():
            pair = _pair(a, b)
            if pair in self._keys:
                raise ValueError(f"PairKeys: two keys for the pair {pair[0]!r}, {pair[1]!r}")
            self._keys[pair] = _key_bytes(key, f"PairKeys: key of {pair[0]!r}, {pair[1]!r}")
        self.source: str = source
        """Where the keys came from (a file path, ``"explicit"`` or ``"os-random"``)."""

    @classmethod
    def from_mapping(cls, keys: Mapping[Any, Any], source: str = "explicit") -> PairKeys:
        """Keys given as ``{(a, b): key}`` or ``{"a|b": key}``; a key is bytes or hex."""
        pairs: dict[tuple[str, str], bytes] = {}
        for name, key in keys.items():
            if isinstance(name, str):
                parts = name.split("|")
                if len(parts) != 2:
                    raise ValueError(f"PairKeys: a pair is written 'a|b', got {name!r}")
                name = tuple(parts)
            if not isinstance(name, tuple) or len(name) != 2:
                raise TypeError(f"PairKeys: a pair is a (node, node) tuple or 'a|b', got {name!r}")
            pairs[name] = key
        return cls(pairs, source)

    @classmethod
    def from_file(cls, path: str | Path) -> PairKeys:
        """Read a JSON key file ``{"alice|bob": "<64 hex digits>", ...}``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"key file {str(path)!r}: cannot be read ({exc.strerror or exc})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"key file {str(path)!r}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"key file {str(path)!r}: must hold an object {{\"a|b\": hex key}}, "
                             f"got {type(data).__name__}")
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def generate(cls, nodes: Iterable[str]) -> PairKeys:
        """A fresh key for every pair of ``nodes`` from :func:`secrets.token_bytes` (not the seed)."""
        names = sorted(set(nodes))
        keys = {(a, b): secrets.token_bytes(KEY_BYTES) for i, a in enumerate(names) for b in names[i + 1:]}
        return cls(keys, "os-random")

    def key(self, a: str, b: str) -> bytes:
        """The key shared by nodes ``a`` and ``b``."""
        try:
            return self._keys[_pair(a, b)]
        except KeyError:
            raise KeyError(f"no pre-shared key for the pair of nodes {a!r} and {b!r}") from None

    def __contains__(self, pair: object) -> bool:
        return isinstance(pair, tuple) and len(pair) == 2 and _pair(*pair) in self._keys

    def __repr__(self) -> str:  # never prints a key
        return f"<PairKeys {len(self._keys)} pairs from {self.source}>"


class FrameAuth:
    """One direction ``src`` → ``dst`` of an authenticated channel: :meth:`seal` on the sender,
    :meth:`open` on the receiver (each side holds its own instance with the pair's key).

    ``rejected`` counts refused frames by :class:`AuthRejection` value; ``accepted`` counts the
    frames :meth:`open` returned.
    """

    __slots__ = ("_key", "_prefix", "src", "dst", "next_send", "next_receive", "accepted", "rejected")

    def __init__(self, key: bytes, src: str, dst: str) -> None:
        self._key = _key_bytes(key, f"FrameAuth({src!r}->{dst!r}): key")
        if src == dst:
            raise ValueError(f"FrameAuth: src and dst must differ, got {src!r} twice")
        self._prefix = _LABEL + src.encode() + b"\x00" + dst.encode() + b"\x00"
        self.src = src
        self.dst = dst
        self.next_send = 0
        """Sequence number of the next frame :meth:`seal` makes."""
        self.next_receive = 0
        """Sequence number :meth:`open` accepts next."""
        self.accepted = 0
        self.rejected: dict[str, int] = {}

    def _tag(self, head: bytes, payload: bytes) -> bytes:
        return hmac.digest(self._key, self._prefix + head + payload, "sha256")[:TAG_BYTES]

    def seal(self, payload: bytes) -> bytes:
        """The frame carrying ``payload`` with the next sequence number."""
        seq = self.next_send
        if seq > _MAX_SEQ:
            raise OverflowError(f"FrameAuth({self.src!r}->{self.dst!r}): sequence numbers exhausted; re-key")
        self.next_send = seq + 1
        head = seq.to_bytes(SEQ_BYTES, "big")
        return head + payload + self._tag(head, payload)

    def peek_seq(self, frame: bytes) -> int:
        """The sequence number a frame claims (unauthenticated: for acknowledgements only)."""
        if not isinstance(frame, bytes | bytearray) or len(frame) < SEQ_BYTES + TAG_BYTES:
            raise self._refuse(AuthRejection.TRUNCATED, "frame shorter than a sequence number and a tag")
        return int.from_bytes(frame[:SEQ_BYTES], "big")

    def open(self, frame: bytes) -> bytes:
        """Verify ``frame`` and return its payload, or raise :class:`AuthError` (and count it)."""
        seq = self.peek_seq(frame)
        head = bytes(frame[:SEQ_BYTES])
        payload = bytes(frame[SEQ_BYTES:-TAG_BYTES])
        if not hmac.compare_digest(self._tag(head, payload), bytes(frame[-TAG_BYTES:])):
            raise self._refuse(AuthRejection.FORGED, "tag does not match")
        expected = self.next_receive
        if seq < expected:
            raise self._refuse(AuthRejection.REPLAYED, f"sequence number {seq}, expected {expected}")
        if seq > expected:
            raise self._refuse(AuthRejection.REORDERED, f"sequence number {seq}, expected {expected}")
        self.next_receive = seq + 1
        self.accepted += 1
        return payload

    def _refuse(self, reason: AuthRejection, detail: str) -> AuthError:
        self.rejected[reason.value] = self.rejected.get(reason.value, 0) + 1
        return AuthError(reason, f"{reason.value} frame {self.src}->{self.dst}: {detail}")

    def __repr__(self) -> str:
        return f"<FrameAuth {self.src}->{self.dst} sent={self.next_send} accepted={self.accepted}>"
