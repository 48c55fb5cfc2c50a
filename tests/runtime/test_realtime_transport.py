"""The authenticated TCP transport between processes (two endpoints on loopback, real sockets).

Contracts: delivery is ordered and exactly-once per peer, also across a forced reconnect
(unacknowledged frames are retransmitted, duplicates dropped by sequence number); garbage,
truncated, oversized, replayed and forged frames are refused and counted, never delivered; a peer
that restarted (new incarnation) is reported with the frames it never acknowledged as lost; a
recorded handshake replayed to either side never verifies (challenge-response over fresh nonces),
and a frame recorded under an earlier incarnation never verifies after a restart.
"""

from __future__ import annotations

import trio

from qstack.proto.qstack.v1 import realtime_pb2
from qstack.runtime.auth import FrameAuth, PairKeys
from qstack.runtime.realtime.transport import (
    CONFIRM,
    DATA,
    DEFAULT_MAX_FRAME,
    HELLO,
    WELCOME,
    Endpoint,
    _Reader,
    encode_frame,
    handshake_tag,
    stream_key,
)

KEYS = PairKeys.from_mapping({"a|b": "11" * 32})


def _pair(received):
    async def deliver(peer, d):
        received.append((peer, d.envelope))
    b = Endpoint("b", KEYS, deliver, accept={"a"})
    return b


async def _start(nursery, b, a_deliver=None):
    port = await nursery.start(b.serve, 0)

    async def ignore(peer, d):
        pass
    a = Endpoint("a", KEYS, a_deliver or ignore, addresses={"b": ("127.0.0.1", port)})
    await nursery.start(a.serve, 0)
    return a, port


async def _until(cond, limit=10.0):
    with trio.fail_after(limit):
        while not cond():
            await trio.sleep(0.005)


def test_ordered_exactly_once_across_a_forced_reconnect():
    received = []

    async def main():
        async with trio.open_nursery() as nursery:
            b = _pair(received)
            a, _ = await _start(nursery, b)
            link = a.peer("b")
            for i in range(100):
                a.send("b", realtime_pb2.Datagram(src="a", envelope=i.to_bytes(4, "big")))
            await _until(lambda: len(received) >= 30)
            await link._conn.stream.aclose()  # break the connection mid-stream
            for i in range(100, 200):
                a.send("b", realtime_pb2.Datagram(src="a", envelope=i.to_bytes(4, "big")))
            await _until(lambda: len(received) >= 200 and not link.unacked)
            await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
        return a, b

    a, b = trio.run(main)
    assert [int.from_bytes(p, "big") for _, p in received] == list(range(200))
    assert a.peer("b").reconnects >= 1 and b.rejected.get("replayed", 0) == 0


class _RawClient:
    """A client that knows the pair key of 'a' and 'b' and speaks raw frames: it runs the
    challenge-response handshake as incarnation ``inc`` and records every byte it sends."""

    def __init__(self, inc=7):
        self.inc = inc
        self.sent = b""

    async def send(self, data):
        self.sent += data
        await self.stream.send_all(data)

    async def connect(self, port, replay=None):
        self.stream = await trio.open_tcp_stream("127.0.0.1", port)
        self.reader = _Reader(self.stream, DEFAULT_MAX_FRAME)
        if replay is not None:  # send a recorded handshake verbatim
            await self.stream.send_all(replay)
            return self
        nonce = bytes(range(16))
        await self.send(encode_frame(HELLO, b"\x01a" + nonce + self.inc.to_bytes(8, "big")))
        kind, body = await self.reader.frame()
        assert kind == WELCOME and body[:2] == b"\x01b"
        self.welcome = encode_frame(WELCOME, body)
        nonce_b, inc_b = body[2:18], int.from_bytes(body[18:26], "big")
        received = int.from_bytes(body[26:34], "big")
        key = KEYS.key("a", "b")
        assert body[34:] == handshake_tag(key, WELCOME, "b", "a", nonce, nonce_b, self.inc, inc_b, received)
        tag = handshake_tag(key, CONFIRM, "a", "b", nonce, nonce_b, self.inc, inc_b, 0)
        await self.send(encode_frame(CONFIRM, (0).to_bytes(8, "big") + tag))
        self.tx = FrameAuth(stream_key(key, "a", "b", self.inc, inc_b), "a", "b")
        return self


def test_garbage_truncated_oversized_replayed_and_forged_frames_are_refused_and_counted():
    received = []

    async def main():
        async with trio.open_nursery() as nursery:
            b = _pair(received)
            port = await nursery.start(b.serve, 0)
            # an oversized length: refused before its body is read, connection dropped
            s = await trio.open_tcp_stream("127.0.0.1", port)
            await s.send_all((1 << 30).to_bytes(4, "big"))
            await _until(lambda: b.rejected.get("oversized") == 1)
            # garbage: not a hello
            s = await trio.open_tcp_stream("127.0.0.1", port)
            await s.send_all(encode_frame(9, b"nonsense"))
            await _until(lambda: b.rejected.get("garbage") == 1)
            # a handshake whose CONFIRM has a wrong tag
            s = await trio.open_tcp_stream("127.0.0.1", port)
            await s.send_all(encode_frame(HELLO, b"\x01a" + bytes(16) + bytes(8)))
            await _Reader(s, DEFAULT_MAX_FRAME).frame()
            await s.send_all(encode_frame(CONFIRM, bytes(8) + bytes(16)))
            await _until(lambda: b.rejected.get("bad hello") == 1)
            # authenticated session: one good frame, its replay, a forged and a truncated one
            client = await _RawClient().connect(port)
            s, tx = client.stream, client.tx
            good = tx.seal(realtime_pb2.Datagram(src="a", envelope=b"ok").SerializeToString())
            forged = bytearray(tx.seal(realtime_pb2.Datagram(src="a", envelope=b"evil").SerializeToString()))
            forged[10] ^= 1
            await s.send_all(encode_frame(DATA, good) + encode_frame(DATA, good) + encode_frame(DATA, bytes(forged))
                             + encode_frame(DATA, b"short"))
            await _until(lambda: sum(b.rejected.values()) >= 6)
            nursery.cancel_scope.cancel()
        return b

    b = trio.run(main)
    assert received == [("a", b"ok")]  # only the authentic frame, once
    assert b.rejected == {"oversized": 1, "garbage": 1, "bad hello": 1, "replayed": 1, "forged": 1, "truncated": 1}


def test_a_restarted_peer_is_reported_with_what_it_never_acknowledged():
    received = []

    async def main():
        async with trio.open_nursery() as outer:
            b = _pair(received)
            port = await outer.start(b.serve, 0)

            async def ignore(peer, d):
                pass
            async with trio.open_nursery() as first:
                a1 = Endpoint("a", KEYS, ignore, addresses={"b": ("127.0.0.1", port)})
                await first.start(a1.serve, 0)
                await _until(lambda: b.peer("a").connected)
                first.cancel_scope.cancel()  # node a dies
            await _until(lambda: not b.peer("a").connected)
            for i in range(5):  # b sends to a while it is down: unacknowledged
                b.send("a", realtime_pb2.Datagram(src="b", envelope=bytes([i])))
            got = []

            async def keep(peer, d):
                got.append(d.envelope)
            a2 = Endpoint("a", KEYS, keep, addresses={"b": ("127.0.0.1", port)})  # a new incarnation
            await outer.start(a2.serve, 0)
            await _until(lambda: b.peer("a").lost == 5)
            b.send("a", realtime_pb2.Datagram(src="b", envelope=b"after"))
            await _until(lambda: got == [b"after"])
            outer.cancel_scope.cancel()
        return b

    b = trio.run(main)
    assert b.peer("a").lost == 5


def test_a_replayed_handshake_never_verifies_and_leaves_the_pair_alone():
    """Challenge-response: each side's tag covers the other's fresh nonce, so a recorded
    HELLO+CONFIRM (to the acceptor) or WELCOME (to a dialer) is refused as a bad hello, and the
    live connection, the peer's incarnation and the sequence state stay as they were. A DATA frame
    recorded under an earlier incarnation (sequence number 0) does not verify after a restart:
    frame keys are bound to both incarnations."""
    received = []

    async def main():
        async with trio.open_nursery() as nursery:
            b = _pair(received)
            port = await nursery.start(b.serve, 0)
            first = await _RawClient(inc=7).connect(port)
            recorded = first.tx.seal(realtime_pb2.Datagram(src="a", envelope=b"one").SerializeToString())
            await first.stream.send_all(encode_frame(DATA, recorded))
            await _until(lambda: len(received) == 1)
            live = b.peer("a")._conn
            # the acceptor: a replay of the recorded handshake bytes
            await _RawClient().connect(port, replay=first.sent)
            await _until(lambda: b.rejected.get("bad hello") == 1)
            link = b.peer("a")
            assert link._conn is live and link.incarnation == 7 and link.restarts == 0 and link.reconnects == 0
            await first.stream.send_all(encode_frame(DATA, first.tx.seal(
                realtime_pb2.Datagram(src="a", envelope=b"two").SerializeToString())))
            await _until(lambda: len(received) == 2)  # the live session goes on
            # a dialer: a fake acceptor answers every HELLO with the WELCOME recorded above
            async def fake_acceptor(stream):
                await _Reader(stream, DEFAULT_MAX_FRAME).frame()
                await stream.send_all(first.welcome)
                await trio.sleep(1)
            fake = (await nursery.start(trio.serve_tcp, fake_acceptor, 0))[0].socket.getsockname()[1]

            async def ignore(peer, d):
                pass
            a = Endpoint("a", KEYS, ignore, addresses={"b": ("127.0.0.1", fake)})
            await nursery.start(a.serve, 0)
            await _until(lambda: a.rejected.get("bad hello", 0) >= 1)
            assert a.peer("b").incarnation is None and not a.peer("b").connected
            # a restarted 'a' (incarnation 8): the frame recorded under incarnation 7 is refused
            second = await _RawClient(inc=8).connect(port)
            await _until(lambda: b.peer("a").restarts == 1)
            await second.stream.send_all(encode_frame(DATA, recorded))
            await _until(lambda: b.rejected.get("forged") == 1)
            await second.stream.send_all(encode_frame(DATA, second.tx.seal(
                realtime_pb2.Datagram(src="a", envelope=b"three").SerializeToString())))
            await _until(lambda: len(received) == 3)
            nursery.cancel_scope.cancel()
        return b

    b = trio.run(main)
    assert [p for _, p in received] == [b"one", b"two", b"three"]
    assert b.rejected == {"bad hello": 1, "forged": 1}
