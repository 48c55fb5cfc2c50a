"""Tests for qstack.qkd.authentication: GF(2^64) arithmetic, Wegman–Carter tags, the key pool."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from qstack.qkd.authentication import (
    GF64_MODULUS,
    KEY_BITS_PER_TAG,
    AuthenticatedChannel,
    AuthenticationError,
    KeyPool,
    KeyPoolExhaustedError,
    KeyReuseError,
    forging_probability_bound,
    gf64_multiply,
    message_blocks,
    polynomial_hash,
    wegman_carter_tag,
    wegman_carter_verify,
)


def _poly_mod(a: int, m: int) -> int:
    while a.bit_length() >= m.bit_length():
        a ^= m << (a.bit_length() - m.bit_length())
    return a


def _poly_mulmod(a: int, b: int, m: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        b >>= 1
        a = _poly_mod(a << 1, m)
    return result


def _poly_gcd(a: int, b: int) -> int:
    while b:
        a, b = b, _poly_mod(a, b)
    return a


def test_modulus_is_irreducible_by_rabins_test() -> None:
    """Rabin: f of degree 64 is irreducible iff x^(2^64) ≡ x (mod f) and gcd(x^(2^32) - x, f) = 1."""
    x = 0b10
    power = x
    for i in range(1, 65):
        power = _poly_mulmod(power, power, GF64_MODULUS)  # x^(2^i)
        if i == 32:
            assert _poly_gcd(GF64_MODULUS, power ^ x) == 1
    assert power == x


def test_field_axioms_on_random_elements() -> None:
    """Multiplication is commutative, associative, distributive over XOR, with identity 1."""
    rng = np.random.default_rng(0)
    for a, b, c in rng.integers(0, 2**63, (50, 3), dtype=np.int64).tolist():
        a, b, c = a * 2 + 1, b * 2, c  # use the top bit too
        assert gf64_multiply(a, b) == gf64_multiply(b, a)
        assert gf64_multiply(gf64_multiply(a, b), c) == gf64_multiply(a, gf64_multiply(b, c))
        assert gf64_multiply(a, b ^ c) == gf64_multiply(a, b) ^ gf64_multiply(a, c)
        assert gf64_multiply(a, 1) == a


def test_nonzero_elements_have_inverses() -> None:
    """In a field a^(2^64 - 1) = 1 for a ≠ 0 (square-and-multiply)."""
    a = 0x0123456789ABCDEF
    result, base, e = 1, a, 2**64 - 1
    while e:
        if e & 1:
            result = gf64_multiply(result, base)
        base = gf64_multiply(base, base)
        e >>= 1
    assert result == 1


def test_lane_parallel_hash_equals_plain_horner() -> None:
    """The interleaved-lane numpy hash equals plain Horner acc = (acc ⊕ m_i)·k with shift-and-add products."""
    rng = np.random.default_rng(1)
    for length in (0, 1, 7, 8, 9, 64, 100, 999, 5_000):
        message = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
        key = int(rng.integers(0, 2**63)) * 2 + 1
        acc = 0
        for block in message_blocks(message):
            acc = gf64_multiply(acc ^ block, key)
        assert polynomial_hash(message, key) == acc


def test_message_encoding_is_injective_on_trailing_zeros() -> None:
    """b'a' and b'a\\x00' pad to the same data block; the length block tells them apart."""
    assert message_blocks(b"a")[0] == message_blocks(b"a\x00")[0]
    assert message_blocks(b"a") != message_blocks(b"a\x00")


def _key(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, KEY_BITS_PER_TAG, dtype=np.uint8)


def test_tag_verifies_and_every_single_bit_tampering_is_detected() -> None:
    """Flipping any one message bit, truncating or extending changes the tag (forgery ≤ L/2^64)."""
    key = _key(2)
    message = b"cascade pass 2: parities 0110101"
    tag = wegman_carter_tag(message, key)
    assert wegman_carter_verify(message, tag, key)
    raw = bytearray(message)
    for bit in range(8 * len(raw)):
        tampered = bytearray(raw)
        tampered[bit // 8] ^= 1 << (bit % 8)
        assert not wegman_carter_verify(bytes(tampered), tag, key)
    assert not wegman_carter_verify(message[:-1], tag, key)
    assert not wegman_carter_verify(message + b"\x00", tag, key)
    assert not wegman_carter_verify(message, tag ^ 1, key)
    assert not wegman_carter_verify(message, tag, _key(3))


def test_pad_makes_tags_uniform() -> None:
    """The one-time pad: the tag of a fixed message over random keys has unbiased bits."""
    rng = np.random.default_rng(4)
    tags = [wegman_carter_tag(b"fixed", rng.integers(0, 2, 128, dtype=np.uint8)) for _ in range(500)]
    bits = np.array([[(t >> i) & 1 for i in range(64)] for t in tags])
    assert abs(bits.mean() - 0.5) < 4 * np.sqrt(0.25 / bits.size)


def test_forging_bound() -> None:
    """ε ≤ L / 2^64 with L = ceil(bytes/8) + 1 blocks: 1 KiB gives 129 / 2^64 ~ 7e-18."""
    assert forging_probability_bound(0) == 1 / 2**64
    assert forging_probability_bound(1024) == 129 / 2**64
    assert forging_probability_bound(1024) < 1e-17


def test_tag_needs_128_key_bits() -> None:
    """Hash key and pad are 64 bits each: other lengths are rejected."""
    with pytest.raises(ValueError, match="key_bits must have 128 bits"):
        wegman_carter_tag(b"x", np.zeros(64, np.uint8))


def test_key_pool_hands_out_disjoint_slices_until_exhausted() -> None:
    """Slices never overlap; asking past the end raises KeyPoolExhaustedError."""
    pool = KeyPool(np.random.default_rng(5).integers(0, 2, 300, dtype=np.uint8))
    slices = [pool.take(100, purpose=f"s{i}") for i in range(3)]
    assert [(s.start, s.stop) for s in slices] == [(0, 100), (100, 200), (200, 300)]
    assert pool.remaining == 0 and pool.used == 300
    with pytest.raises(KeyPoolExhaustedError, match="1 bits requested, 0 unused of 300"):
        pool.take(1)


def test_key_pool_refuses_a_slice_twice() -> None:
    """take_range on bits already handed out raises KeyReuseError, whole or partial overlap."""
    pool = KeyPool(np.zeros(256, np.uint8))
    pool.take_range(64, 128)
    with pytest.raises(KeyReuseError):
        pool.take_range(64, 128)
    with pytest.raises(KeyReuseError):
        pool.take_range(100, 200)
    first = pool.take(64)
    assert (first.start, first.stop) == (0, 64)
    nxt = pool.take(64)
    assert (nxt.start, nxt.stop) == (128, 192)  # skips the range taken explicitly


def test_key_pool_extend_and_validation() -> None:
    """Fresh key can be appended; bad requests are ValueErrors."""
    pool = KeyPool(np.zeros(10, np.uint8))
    pool.take(10)
    pool.extend(np.ones(20, np.uint8))
    assert pool.take(20).bits.tolist() == [1] * 20
    with pytest.raises(ValueError, match="n_bits must be >= 1"):
        pool.take(0)
    with pytest.raises(KeyPoolExhaustedError):
        pool.take_range(25, 40)


def test_channel_accepts_honest_messages_and_counts_key() -> None:
    """Each message consumes a fresh 128-bit slice; all slices are disjoint."""
    pool = KeyPool(np.random.default_rng(6).integers(0, 2, 1024, dtype=np.uint8))
    channel = AuthenticatedChannel(pool)
    for i in range(5):
        assert channel.receive(channel.send("alice", f"m{i}", bytes([i]) * 10)) == bytes([i]) * 10
    assert channel.key_bits_used == 5 * 128 == pool.used
    starts = [m.key_start for m in channel.messages]
    assert len(set(starts)) == 5 and all(abs(a - b) >= 128 for a in starts for b in starts if a != b)


def test_channel_detects_tampering_replay_and_fake_slices() -> None:
    """A changed payload or tag, a replayed message, or a tag under an unissued slice is rejected."""
    pool = KeyPool(np.random.default_rng(7).integers(0, 2, 1024, dtype=np.uint8))
    channel = AuthenticatedChannel(pool)
    message = channel.send("bob", "bases", b"ZXXZ")
    with pytest.raises(AuthenticationError, match="does not verify"):
        channel.receive(dataclasses.replace(message, payload=b"ZXXX"))
    with pytest.raises(AuthenticationError, match="does not verify"):
        channel.receive(dataclasses.replace(message, tag=message.tag ^ (1 << 40)))
    assert channel.receive(message) == b"ZXXZ"
    with pytest.raises(AuthenticationError, match="replayed"):
        channel.receive(message)
    with pytest.raises(AuthenticationError, match="no valid key slice"):
        channel.receive(dataclasses.replace(message, key_start=512))


# --------------------------------------------------------------------------- where the key comes from


def test_a_named_key_is_read_from_a_file_or_hex_bit_for_bit(tmp_path):
    """{file = path}: the file's bytes, most significant bit first; {hex = ...}: the same bytes
    written in hex (whitespace and _ ignored). Both give the same bits and say where they came from."""
    from qstack.qkd import load_preshared_key

    data = bytes(range(256))
    path = tmp_path / "k.bin"
    path.write_bytes(data)
    from_file = load_preshared_key({"file": str(path)})
    from_hex = load_preshared_key({"hex": " ".join(data.hex()[i:i + 8] for i in range(0, 512, 8))})
    assert np.array_equal(from_file.bits, np.unpackbits(np.frombuffer(data, dtype=np.uint8)))
    assert np.array_equal(from_file.bits, from_hex.bits) and len(from_file) == 2048
    assert from_file.source == f"file {path}" and from_hex.source == "hex"
    assert not from_file.bits.flags.writeable
    with pytest.raises(ValueError, match=r"auth_key: the key is empty"):
        load_preshared_key({"file": str(tmp_path / "empty")}) if (tmp_path / "empty").write_bytes(b"") == 0 else None
    with pytest.raises(ValueError, match=r"give exactly one of"):
        load_preshared_key({"file": str(path), "hex": "00"})
    with pytest.raises(TypeError, match=r"auth_key\.hex: must be a string"):
        load_preshared_key({"hex": 17})


def test_a_fresh_key_comes_from_the_os_not_from_any_seed():
    """Two fresh keys differ (2^-256 chance of equality) and are balanced within 4 SE; neither
    depends on numpy's or Python's global random state."""
    from qstack.qkd import fresh_key

    np.random.seed(0)
    one = fresh_key(4096)
    np.random.seed(0)
    two = fresh_key(4096)
    assert one.source == two.source == "fresh"
    assert not np.array_equal(one.bits[:256], two.bits[:256])
    assert abs(float(one.bits.mean()) - 0.5) < 4 * 0.5 / math.sqrt(4096)
    with pytest.raises(ValueError, match="multiple of 8"):
        fresh_key(100)
