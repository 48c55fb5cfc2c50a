"""Authenticated classical channels on the simulation kernel (qstack.sim.ClassicalChannel.secure).

A secured channel seals every payload in a frame (sequence number, HMAC-SHA256 tag) and the
receiver opens it; what fails is dropped and counted per reason at the receiving node. Carried
objects keep the sequence numbers in step and are counted with the frame's 24 bytes, so byte
counts agree between the two wires.
"""

from __future__ import annotations

import pytest

from qstack.runtime.auth import SEQ_BYTES, TAG_BYTES
from qstack.sim import Node, Simulation, connect

KEY = bytes(range(32))


def pair(delay: float = 0.1):
    sim = Simulation(seed=0)
    a, b = Node(sim, "a"), Node(sim, "b")
    ab, ba = connect(a, b, delay)
    for ch in (ab, ba):
        ch.secure(KEY)
    got: list = []
    b.on_message(lambda src, data: got.append((sim.now, src, data)))
    b.on_object(lambda src, obj: got.append((sim.now, src, obj)))
    return sim, a, b, ab, got


def test_a_secured_channel_delivers_payloads_and_counts_frame_bytes():
    sim, a, b, ab, got = pair()
    a.send("b", b"hello")
    a.send("b", b"again")
    sim.run()
    assert got == [(0.1, "a", b"hello"), (0.1, "a", b"again")]
    frame = 5 + SEQ_BYTES + TAG_BYTES
    assert (ab.bytes_sent, a.stats.bytes_sent, b.stats.bytes_received) == (2 * frame, 2 * frame, 2 * frame)
    assert b.refused == {} and ab.opener.accepted == 2


def test_recorded_frames_replayed_or_reordered_and_forgeries_are_refused_and_counted():
    sim, a, b, ab, got = pair()
    frames: list[bytes] = []
    ab.tap(frames.append)
    for i in range(3):
        a.send("b", bytes([i]))
    sim.run()
    ab.inject(frames[0])                                   # replay of a delivered frame
    ab.inject(frames[2][:-1] + bytes([frames[2][-1] ^ 1]))  # a flipped tag bit
    ab.inject(frames[1][:10])                              # shorter than a header and a tag
    sim.run()
    a.send("b", b"next")
    sim.run()
    assert [data for _, _, data in got] == [b"\x00", b"\x01", b"\x02", b"next"]
    assert b.refused == {"auth_replayed": 1, "auth_forged": 1, "auth_truncated": 1}
    assert b.stats.messages_received == 4  # refused frames are not delivered
    assert a.stats.messages_sent == 4       # injected ones were not sent by a


def recorded_frames(*payloads: bytes) -> list[bytes]:
    """The frames a secured a->b channel with :data:`KEY` carries for ``payloads`` (another run)."""
    sim = Simulation(seed=0)
    x, y = Node(sim, "a"), Node(sim, "b")
    xy, _ = connect(x, y, 0.1)
    xy.secure(KEY)
    frames: list[bytes] = []
    xy.tap(frames.append)
    for payload in payloads:
        x.send("b", payload)
    return frames


def test_a_frame_ahead_of_a_missing_one_is_refused_as_reordered():
    """Frame 1 arriving while frame 0 is still missing is refused; frame 0 is then accepted."""
    sim, a, b, ab, got = pair()
    first, second = recorded_frames(b"first", b"second")
    ab.inject(second)
    ab.inject(first, delay=0.2)
    sim.run()
    assert [data for _, _, data in got] == [b"first"]
    assert b.refused == {"auth_reordered": 1}


def test_carried_objects_take_sequence_numbers_so_a_replay_of_their_frame_is_refused():
    """On the objects wire no tag is computed, but sequence numbers advance as on the bytes wire:
    a frame of the same position in the sequence (recorded elsewhere with the same key) is a replay."""
    sim, a, b, ab, got = pair()
    ab.carry({"m": 1}, size=10)
    sim.run()
    assert got == [(0.1, "a", {"m": 1})] and ab.bytes_sent == 10 + SEQ_BYTES + TAG_BYTES
    assert (ab.sealer.next_send, ab.opener.next_receive) == (1, 1)
    ab.inject(recorded_frames(b"payload")[0])  # frame 0 of the sequence, sealed elsewhere with the key
    sim.run()
    assert b.refused == {"auth_replayed": 1} and len(got) == 1


def test_an_unsecured_channel_delivers_whatever_is_injected():
    sim = Simulation(seed=0)
    a, b = Node(sim, "a"), Node(sim, "b")
    ab, _ = connect(a, b, 0.5)
    got: list = []
    b.on_message(lambda src, data: got.append((src, data)))
    ab.inject(b"anything")
    sim.run()
    assert got == [("a", b"anything")] and b.refused == {}


def test_a_channel_is_secured_once_before_its_first_message():
    sim = Simulation(seed=0)
    a, b = Node(sim, "a"), Node(sim, "b")
    ab, ba = connect(a, b, 0.5)
    a.send("b", b"x")
    with pytest.raises(ValueError, match="secured once"):
        ab.secure(KEY)
    ba.secure(KEY)
    with pytest.raises(ValueError, match="secured once"):
        ba.secure(KEY)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        connect(Node(sim, "c"), Node(sim, "d"), 0.1)[0].secure(b"short")
    with pytest.raises(TypeError, match="frame must be bytes"):
        ab.inject("text")  # type: ignore[arg-type]
