"""Encrypt real messages and files with a QKD key: one-time pad, or AES-GCM keyed by the key.

*One-time pad* (Vernam 1926; perfect secrecy, Shannon, Bell Syst. Tech. J. 28, 656 (1949)):
the ciphertext is the message XOR as many fresh key bits as it has bits. It is secure only if
every key bit is used once, so :class:`KeyStore` hands its key out in disjoint ranges through a
:class:`~qstack.qkd.KeyPool` (which refuses any reuse) and refuses to encrypt a message longer
than the unused key (:class:`InsufficientKeyError`, naming both sizes). The receiver's store
holds the same key; the ciphertext names the range used and the receiver takes exactly that
range from its own pool, so a replayed ciphertext is refused too.

*AES-256-GCM* (NIST SP 800-38D) keyed from 256 fresh key bits per message — what the Micius
intercontinental video call did with AES (Liao et al., PRL 120, 030501 (2018), which refreshed
AES-128 keys from the QKD key), trading information-theoretic for computational security but
spending only 256 bits per message. Available only when the ``cryptography`` package imports;
qstack does not depend on it (the ``crypto`` extra installs it). The nonce is fixed (zero): each
key encrypts one message only.

:class:`SecureMessage` is the whole chain as an application: BB84 between ``alice`` and
``bob`` (:mod:`qstack.apps.bb84`), then Alice sends ``text`` (or a file's bytes) encrypted with
the fresh key, authenticated by Wegman–Carter over the same link, and Bob decrypts it.

>>> rng = np.random.default_rng(7)
>>> key = rng.integers(0, 2, 256, dtype=np.uint8)
>>> alice, bob = KeyStore(key), KeyStore(key)
>>> ciphertext = alice.encrypt(b"meet at noon")
>>> bob.decrypt(ciphertext)
b'meet at noon'
>>> alice.remaining_bits
160
>>> alice.encrypt(b"x" * 21)  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
qstack.apps.secure_message.InsufficientKeyError: one-time pad: a 21-byte message needs 168 key bits,
but the key store has only 160 unused bits (20 bytes)
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.qkd.authentication import KeyPool, KeyPoolExhaustedError
from qstack.qkd.bits import as_bits
from qstack.stages import Stage

from .bb84 import BB84Result, OpticalLink, _settings, authenticated_link, bb84_session
from .runtime import Application, RoleContext

__all__ = [
    "AES_KEY_BITS",
    "Ciphertext",
    "InsufficientKeyError",
    "KeyStore",
    "MessageResult",
    "SecureMessage",
    "aes_gcm_available",
    "decrypt_file",
    "encrypt_file",
]

AES_KEY_BITS: int = 256
"""Key bits spent per AES-256-GCM message."""

_NONCE = bytes(12)
_MAGIC = b"QSK1"
_MODES = {"otp": 0, "aes-gcm": 1}


class InsufficientKeyError(ValueError):
    """The key store has fewer unused key bits than the message needs."""


def aes_gcm_available() -> bool:
    """Whether the optional ``cryptography`` package (AES-GCM) can be imported."""
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Ciphertext:
    """An encrypted message: ``mode`` (``"otp"`` or ``"aes-gcm"``), the key range
    ``[key_start, key_start + key_bits)`` it used, and the ``body``.

    :meth:`to_bytes`/:meth:`from_bytes` give the wire and file format
    (``b"QSK1"``, mode byte, key start and length as 64-bit big-endian, body).
    """

    mode: str
    key_start: int
    key_bits: int
    body: bytes = field(repr=False)

    def to_bytes(self) -> bytes:
        """The wire/file form."""
        return _MAGIC + bytes([_MODES[self.mode]]) + struct.pack(">QQ", self.key_start, self.key_bits) + self.body

    @classmethod
    def from_bytes(cls, data: bytes) -> Ciphertext:
        """Parse :meth:`to_bytes`' output (``ValueError`` if it is not one)."""
        if len(data) < 21 or data[:4] != _MAGIC:
            raise ValueError("not a qstack ciphertext (missing the QSK1 header)")
        modes = {v: k for k, v in _MODES.items()}
        if data[4] not in modes:
            raise ValueError(f"unknown ciphertext mode byte {data[4]}")
        start, bits = struct.unpack(">QQ", data[5:21])
        return cls(modes[data[4]], start, bits, bytes(data[21:]))


class KeyStore:
    """A QKD key for encryption, each bit used at most once.

    ``key`` is a bit array (both parties build a store from their equal keys). Encryption takes
    the next unused bits; decryption takes the range the ciphertext names; either way the bits
    are consumed (:class:`~qstack.qkd.KeyPool`: a second use raises
    :class:`~qstack.qkd.KeyReuseError`).
    """

    def __init__(self, key: ArrayLike) -> None:
        self.pool = KeyPool(as_bits("key", key))

    @property
    def size_bits(self) -> int:
        """Key bits the store was given."""
        return self.pool.size

    @property
    def remaining_bits(self) -> int:
        """Key bits never used."""
        return self.pool.remaining

    @property
    def remaining_bytes(self) -> int:
        """Whole bytes of one-time pad left."""
        return self.remaining_bits // 8

    def _take(self, n_bits: int, what: str, purpose: str) -> tuple[int, NDArray[np.uint8]]:
        if n_bits > self.remaining_bits:
            raise InsufficientKeyError(
                f"{what} needs {n_bits} key bits, but the key store has only {self.remaining_bits} unused bits "
                f"({self.remaining_bytes} bytes)")
        try:
            piece = self.pool.take(n_bits, purpose=purpose)
        except KeyPoolExhaustedError as error:  # enough bits, but not contiguous
            raise InsufficientKeyError(f"{what} needs {n_bits} contiguous unused key bits: {error}") from None
        return piece.start, np.asarray(piece.bits)

    def encrypt(self, message: bytes, mode: str = "otp") -> Ciphertext:
        """Encrypt ``message`` with fresh key: one-time pad (8 bits per byte) or AES-256-GCM (256 bits)."""
        message = bytes(message)
        if mode == "otp":
            if not message:
                return Ciphertext("otp", 0, 0, b"")
            start, bits = self._take(8 * len(message), f"one-time pad: a {len(message)}-byte message", "otp")
            pad = np.packbits(bits).tobytes()
            body = (np.frombuffer(message, np.uint8) ^ np.frombuffer(pad, np.uint8)).tobytes()
            return Ciphertext("otp", start, bits.size, body)
        if mode == "aes-gcm":
            aes = _aesgcm()
            start, bits = self._take(AES_KEY_BITS, f"AES-256-GCM encryption of a {len(message)}-byte message", "aes")
            body = aes(np.packbits(bits).tobytes()).encrypt(_NONCE, message, None)
            return Ciphertext("aes-gcm", start, AES_KEY_BITS, body)
        raise ValueError(f'mode must be "otp" or "aes-gcm", got {mode!r}')

    def decrypt(self, ciphertext: Ciphertext | bytes) -> bytes:
        """Decrypt with the key range the ciphertext names (consumed; reuse is refused)."""
        if isinstance(ciphertext, (bytes, bytearray)):
            ciphertext = Ciphertext.from_bytes(bytes(ciphertext))
        if ciphertext.key_bits == 0:
            return b""
        piece = self.pool.take_range(ciphertext.key_start, ciphertext.key_start + ciphertext.key_bits,
                                     purpose=f"decrypt {ciphertext.mode}")
        key = np.packbits(np.asarray(piece.bits)).tobytes()
        if ciphertext.mode == "otp":
            if 8 * len(ciphertext.body) != ciphertext.key_bits:
                raise ValueError(f"one-time-pad ciphertext of {len(ciphertext.body)} bytes names "
                                 f"{ciphertext.key_bits} key bits")
            return (np.frombuffer(ciphertext.body, np.uint8) ^ np.frombuffer(key, np.uint8)).tobytes()
        return _aesgcm()(key).decrypt(_NONCE, ciphertext.body, None)


def _aesgcm() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        raise RuntimeError('mode "aes-gcm" needs the optional "cryptography" package, which is not installed '
                           "(pip install 'qstack-qnet[crypto]'); or use mode \"otp\"") from None
    return AESGCM


def encrypt_file(source: str | os.PathLike[str], destination: str | os.PathLike[str], store: KeyStore,
                 mode: str = "otp") -> Ciphertext:
    """Encrypt the file ``source`` into ``destination`` (:meth:`Ciphertext.to_bytes` format)."""
    ciphertext = store.encrypt(Path(source).read_bytes(), mode)
    Path(destination).write_bytes(ciphertext.to_bytes())
    return ciphertext


def decrypt_file(source: str | os.PathLike[str], destination: str | os.PathLike[str], store: KeyStore) -> int:
    """Decrypt the ciphertext file ``source`` into ``destination``; return the plaintext size."""
    plaintext = store.decrypt(Path(source).read_bytes())
    Path(destination).write_bytes(plaintext)
    return len(plaintext)


@dataclass(frozen=True)
class MessageResult:
    """One role's outcome of :class:`SecureMessage`: the QKD run (``qkd``), the plaintext sent
    or received (``message``), its SHA-256, the ciphertext size and the key bits left."""

    role: str
    qkd: BB84Result = field(repr=False)
    message: bytes = field(repr=False)
    sha256: str
    ciphertext_bytes: int
    key_bits_left: int


class SecureMessage(Application):
    """BB84 between ``alice`` and ``bob``, then ``alice`` sends a message encrypted with the key.

    ``text`` (a string, UTF-8) or ``file`` (a path read by Alice) is the message; ``mode``
    ``"otp"`` (default) or ``"aes-gcm"``; other keyword arguments are
    :class:`~qstack.apps.bb84.BB84Settings` fields. If the key is too short Alice raises
    :class:`InsufficientKeyError` (the run fails, naming the sizes).
    """

    name = "secure_message"
    stage = Stage.PREPARE_AND_MEASURE
    roles = ("alice", "bob")

    def __init__(self, text: str | None = None, file: str | None = None, mode: str = "otp", **params: Any) -> None:
        if (text is None) == (file is None):
            raise ValueError("give exactly one of text and file")
        if mode not in _MODES:
            raise ValueError(f'mode must be "otp" or "aes-gcm", got {mode!r}')
        self.text, self.file, self.mode = text, file, mode
        self.settings = _settings(params)

    def _message(self) -> bytes:
        return self.text.encode() if self.text is not None else Path(self.file).read_bytes()  # type: ignore[arg-type]

    def _link(self, ctx: RoleContext) -> OpticalLink:
        nodes = ctx.transport.node_of
        return OpticalLink.from_scenario(ctx.session.network.scenario, nodes["alice"], nodes["bob"], self.settings)

    async def alice(self, ctx: RoleContext) -> MessageResult:
        qkd = await bb84_session(ctx, "bob", "alice", self.settings, self._link(ctx))
        if qkd.aborted:
            raise qkd.abort  # type: ignore[misc]
        store = KeyStore(qkd.key)
        message = self._message()
        wire = store.encrypt(message, self.mode).to_bytes()
        authenticated_link(ctx, "bob", self.settings.auth_key_bits).send("message/ciphertext", wire)
        return MessageResult("alice", qkd, message, hashlib.sha256(message).hexdigest(), len(wire),
                             store.remaining_bits)

    async def bob(self, ctx: RoleContext) -> MessageResult:
        qkd = await bb84_session(ctx, "alice", "bob", self.settings, self._link(ctx))
        if qkd.aborted:
            raise qkd.abort  # type: ignore[misc]
        store = KeyStore(qkd.key)
        wire = await authenticated_link(ctx, "alice", self.settings.auth_key_bits).recv("message/ciphertext")
        message = store.decrypt(wire)
        return MessageResult("bob", qkd, message, hashlib.sha256(message).hexdigest(), len(wire), store.remaining_bits)
