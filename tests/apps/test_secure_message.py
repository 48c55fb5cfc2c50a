"""Encrypting real data with a QKD key: one-time pad (and AES-256-GCM when available).

* One-time pad (Vernam; Shannon 1949): ciphertext = message XOR fresh key bits, 8 per byte;
  decryption with the same bits restores the message exactly — a real file round-trips.
* Perfect secrecy needs every key bit used once: a key store refuses a message longer than its
  unused key (naming both sizes), hands out disjoint key ranges for successive messages, and
  refuses to decrypt the same ciphertext twice. The ciphertext of an all-zero message is the
  pad itself: its bits are uniform (4 SE).
* End to end: BB84 over 20 km, then a file sent one-time-pad encrypted and authenticated; Bob
  reads exactly the file's bytes, and the key left is the key length minus 8 bits per byte.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from qstack.apps import APPLICATIONS, run_app
from qstack.apps.bb84 import example_link
from qstack.apps.secure_message import (
    AES_KEY_BITS,
    Ciphertext,
    InsufficientKeyError,
    KeyStore,
    SecureMessage,
    aes_gcm_available,
    decrypt_file,
    encrypt_file,
)
from qstack.qkd import KeyReuseError
from qstack.scenario import load_scenario

ROLES = {"alice": "alice", "bob": "bob"}


def _key(bits: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, bits, dtype=np.uint8)


def test_one_time_pad_round_trips_a_real_file(tmp_path):
    """A 3 kB binary file encrypted to disk and decrypted by a second store holding the same key
    comes back byte for byte; the ciphertext file differs from the plaintext and used 8 key bits
    per byte."""
    data = np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8).tobytes() + "Grüße, Graz".encode()
    source, encrypted, decrypted = tmp_path / "plain.bin", tmp_path / "cipher.qsk", tmp_path / "out.bin"
    source.write_bytes(data)
    key = _key(8 * len(data) + 64)
    alice, bob = KeyStore(key), KeyStore(key)
    ciphertext = encrypt_file(source, encrypted, alice)
    assert ciphertext.mode == "otp" and ciphertext.key_bits == 8 * len(data) and alice.remaining_bits == 64
    assert encrypted.read_bytes() != data and Ciphertext.from_bytes(encrypted.read_bytes()) == ciphertext
    assert decrypt_file(encrypted, decrypted, bob) == len(data)
    assert decrypted.read_bytes() == data


def test_a_message_longer_than_the_unused_key_is_refused_with_both_sizes():
    """800 key bits encrypt exactly 100 bytes; 101 bytes are refused before any key is spent, and
    once the key is used up even one byte is refused."""
    store = KeyStore(_key(800))
    refusal = r"101-byte message needs 808 key bits.*only 800 unused bits \(100 bytes\)"
    with pytest.raises(InsufficientKeyError, match=refusal):
        store.encrypt(b"x" * 101)
    assert store.remaining_bits == 800
    store.encrypt(b"y" * 100)
    with pytest.raises(InsufficientKeyError, match="needs 8 key bits.*only 0 unused bits"):
        store.encrypt(b"z")


def test_key_material_is_never_reused_across_messages():
    """Two messages take disjoint key ranges (the same plaintext encrypts differently); each
    ciphertext XOR its plaintext is exactly its own slice of the key; decrypting a ciphertext a
    second time is refused by the receiver's pool."""
    key = _key(4096)
    alice, bob = KeyStore(key), KeyStore(key)
    c1, c2 = alice.encrypt(b"same words"), alice.encrypt(b"same words")
    assert c1.key_start + c1.key_bits <= c2.key_start and c1.body != c2.body
    for c in (c1, c2):
        pad = np.unpackbits(np.frombuffer(c.body, np.uint8) ^ np.frombuffer(b"same words", np.uint8))
        assert np.array_equal(pad, key[c.key_start:c.key_start + c.key_bits])
    slices = [(start, stop) for start, stop, _ in alice.pool.log]
    assert slices == [(0, 80), (80, 160)]
    assert bob.decrypt(c2) == b"same words" and bob.decrypt(c1.to_bytes()) == b"same words"
    with pytest.raises(KeyReuseError):
        bob.decrypt(c1)


def test_one_time_pad_ciphertext_is_uniform():
    """Encrypting 2 kB of zero bytes yields the pad itself: ones fraction 1/2 within 4 SE, and
    adjacent bits agree half the time — the ciphertext says nothing about the message."""
    store = KeyStore(_key(8 * 2048, seed=9))
    bits = np.unpackbits(np.frombuffer(store.encrypt(bytes(2048)).body, np.uint8))
    se = math.sqrt(0.25 / bits.size)
    assert abs(float(bits.mean()) - 0.5) < 4 * se
    assert abs(float(np.mean(bits[1:] == bits[:-1])) - 0.5) < 4 * se


@pytest.mark.skipif(not aes_gcm_available(), reason="the optional 'cryptography' package is not installed")
def test_aes_gcm_round_trip_spends_256_key_bits_per_message():
    """AES-256-GCM keyed by 256 fresh key bits: a 10 kB message round-trips; a flipped ciphertext
    bit fails the GCM tag."""
    key = _key(2 * AES_KEY_BITS)
    alice, bob = KeyStore(key), KeyStore(key)
    message = np.random.default_rng(2).integers(0, 256, 10_000, dtype=np.uint8).tobytes()
    ciphertext = alice.encrypt(message, mode="aes-gcm")
    assert ciphertext.key_bits == AES_KEY_BITS and alice.remaining_bits == AES_KEY_BITS
    assert bob.decrypt(ciphertext) == message
    tampered = Ciphertext("aes-gcm", ciphertext.key_start, ciphertext.key_bits,
                          bytes([ciphertext.body[0] ^ 1]) + ciphertext.body[1:])
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag, or the pool's KeyReuseError
        KeyStore(key).decrypt(tampered)


@pytest.mark.skipif(aes_gcm_available(), reason="'cryptography' is installed")
def test_aes_gcm_without_cryptography_says_what_is_missing():
    """Without the optional package, AES-GCM is refused with a message naming it."""
    with pytest.raises(RuntimeError, match="cryptography"):
        KeyStore(_key(512)).encrypt(b"hello", mode="aes-gcm")


def test_secure_message_app_sends_a_file_encrypted_with_a_fresh_bb84_key(tmp_path):
    """BB84 over 20 km, then Alice one-time-pads a file and sends it (authenticated): Bob reads
    the file's exact bytes (same SHA-256) and both have key length - 8 x size bits left."""
    text = ("The satellite thus establishes a secure key between itself and, say, Xinglong. " * 8).encode()
    path = tmp_path / "letter.txt"
    path.write_bytes(text)
    scenario = load_scenario(example_link("20 km", seed=8))
    r = run_app(SecureMessage(file=str(path), pulses=4_000_000), scenario, ROLES)
    alice, bob = r.results["alice"], r.results["bob"]
    assert bob.message == text and bob.sha256 == alice.sha256 == hashlib.sha256(text).hexdigest()
    assert alice.key_bits_left == bob.key_bits_left == alice.qkd.key_length - 8 * len(text)
    assert np.array_equal(alice.qkd.key, bob.qkd.key)


def test_secure_message_app_refuses_a_file_longer_than_the_key(tmp_path):
    """A file larger than the distilled key cannot be one-time-padded: the run fails with
    InsufficientKeyError naming the sizes."""
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(100_000))
    scenario = load_scenario(example_link("20 km", seed=8))
    with pytest.raises(InsufficientKeyError, match="100000-byte message needs 800000 key bits"):
        run_app(SecureMessage(file=str(path), pulses=2_000_000), scenario, ROLES)


def test_registry_names_this_class():
    """`qstack run` finds the application by name once registered in qstack.apps.APPLICATIONS."""
    if "secure_message" not in APPLICATIONS:
        pytest.skip("not registered yet: add 'secure_message': 'qstack.apps.secure_message:SecureMessage'")
    assert APPLICATIONS["secure_message"] == "qstack.apps.secure_message:SecureMessage"
