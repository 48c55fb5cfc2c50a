"""Authenticated frames (qstack.runtime.auth): only the pair's key makes a frame, each frame is
accepted once, in order, in its own direction."""

from __future__ import annotations

import json

import pytest

from qstack.runtime.auth import KEY_BYTES, TAG_BYTES, AuthError, FrameAuth, PairKeys

KEY = bytes(range(KEY_BYTES))


def _pair() -> tuple[FrameAuth, FrameAuth]:
    return FrameAuth(KEY, "a", "b"), FrameAuth(KEY, "a", "b")


def test_frames_are_accepted_exactly_once_in_order():
    """A receiver takes sequence numbers 0, 1, 2, … once each; the payload comes back unchanged."""
    tx, rx = _pair()
    frames = [tx.seal(bytes([i]) * i) for i in range(5)]
    assert [rx.open(f) for f in frames] == [bytes([i]) * i for i in range(5)]
    assert rx.accepted == 5 and rx.rejected == {}


@pytest.mark.parametrize("position", [0, 8, -1])
def test_any_flipped_bit_makes_a_forgery(position):
    """HMAC binds sequence number, payload and tag: one flipped bit anywhere fails the tag."""
    tx, rx = _pair()
    frame = bytearray(tx.seal(b"payload"))
    frame[position] ^= 0x01
    with pytest.raises(AuthError) as err:
        rx.open(bytes(frame))
    assert err.value.reason == "forged" and rx.rejected == {"forged": 1} and rx.next_receive == 0


def test_a_frame_made_without_the_key_is_forged():
    """A sender with another key (an attacker who knows the format and the seed, not the key) fails."""
    _, rx = _pair()
    evil = FrameAuth(bytes(KEY_BYTES), "a", "b")
    with pytest.raises(AuthError, match="forged"):
        rx.open(evil.seal(b"teardown"))


def test_replayed_and_reordered_frames_are_refused_and_counted():
    """A second copy of an accepted frame is a replay; a frame that skips ahead is out of order."""
    tx, rx = _pair()
    f0, f1, f2 = (tx.seal(b"x") for _ in range(3))
    rx.open(f0)
    with pytest.raises(AuthError, match="replayed"):
        rx.open(f0)
    with pytest.raises(AuthError, match="reordered"):
        rx.open(f2)
    assert rx.open(f1) == b"x" and rx.open(f2) == b"x"
    assert rx.rejected == {"replayed": 1, "reordered": 1}


def test_a_frame_reflected_to_its_sender_is_forged():
    """The tag binds the direction: a->b frames do not verify as b->a frames."""
    tx = FrameAuth(KEY, "a", "b")
    back = FrameAuth(KEY, "b", "a")
    with pytest.raises(AuthError, match="forged"):
        back.open(tx.seal(b"x"))


@pytest.mark.parametrize("frame", [b"", b"\x00" * (8 + TAG_BYTES - 1), "text"])
def test_truncated_or_non_bytes_frames_are_refused(frame):
    _, rx = _pair()
    with pytest.raises(AuthError, match="truncated"):
        rx.open(frame)


def test_pair_keys_from_file_are_symmetric_and_missing_pairs_name_both_nodes(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"alice|bob": "ab" * KEY_BYTES}))
    keys = PairKeys.from_file(path)
    assert keys.key("bob", "alice") == bytes([0xAB]) * KEY_BYTES
    with pytest.raises(KeyError, match="'alice' and 'carol'"):
        keys.key("alice", "carol")
    assert "ab" not in repr(keys)


@pytest.mark.parametrize(("content", "message"), [
    ("{", "not JSON"),
    ("[1]", "must hold an object"),
    ('{"a|b": "zz"}', "hexadecimal"),
    ('{"a|b": "abcd"}', "at least 32 bytes"),
    ('{"a": "' + "00" * 32 + '"}', "'a|b'"),
    ('{"a|a": "' + "00" * 32 + '"}', "twice"),
])
def test_malformed_key_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        PairKeys.from_file(path)


def test_generated_keys_do_not_depend_on_any_seed():
    """Keys come from the OS random source: two generations differ (2^-256 chance otherwise)."""
    assert PairKeys.generate("ab").key("a", "b") != PairKeys.generate("ab").key("a", "b")
