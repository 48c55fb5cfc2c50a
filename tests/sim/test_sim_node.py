"""Nodes and classical channels in qstack.sim: timing, order, counting and errors."""

from __future__ import annotations

import math

import pytest

from qstack.sim import ClassicalChannel, Node, NodeStats, Simulation, Timeout, connect


def pair(delay: float = 0.1) -> tuple[Simulation, Node, Node]:
    sim = Simulation(seed=0)
    a, b = Node(sim, "A"), Node(sim, "B")
    connect(a, b, delay)
    return sim, a, b


def test_delivery_time_is_send_time_plus_delay_exactly() -> None:
    """A message sent at t arrives at exactly t + delay (float addition, no rounding drift)."""
    delay = 0.0123456789
    sim, a, b = pair(delay)
    arrivals: list[tuple[float, float]] = []
    send_times = [0.0, 0.1, 1 / 3, 2.5e-7]

    def handler(src: str, payload: bytes) -> None:
        arrivals.append((float.fromhex(payload.decode()), sim.now))

    b.on_message(handler)
    for t in send_times:
        sim.call_at(t, lambda: a.send("B", sim.now.hex().encode()))
    sim.run()
    assert sorted(arrivals) == [(t, t + delay) for t in sorted(send_times)]


def test_messages_on_one_channel_arrive_in_fifo_order() -> None:
    """Many messages sent at the same and at different times arrive in send order."""
    sim, a, b = pair(0.05)
    received: list[bytes] = []
    b.on_message(lambda src, payload: received.append(payload))
    payloads = [str(i).encode() for i in range(50)]

    def burst(chunk: list[bytes]) -> None:
        for p in chunk:
            a.send("B", p)

    sim.call_at(0.0, burst, payloads[:20])
    sim.call_at(0.0, burst, payloads[20:30])
    sim.call_at(0.01, burst, payloads[30:])
    sim.run()
    assert received == payloads


def test_messages_go_to_inbox_without_handler_and_receive_returns_src_and_payload() -> None:
    """Without a handler, receive() yields (src, payload) in arrival order at the arrival time."""
    sim, a, b = pair(0.2)

    async def reader() -> list[tuple[str, bytes, float]]:
        out = []
        for _ in range(2):
            src, payload = await b.receive()
            out.append((src, payload, sim.now))
        return out

    p = sim.spawn(reader())
    a.send("B", b"one")
    sim.call_at(1.0, a.send, "B", b"two")
    sim.run()
    assert p.result() == [("A", b"one", 0.2), ("A", b"two", 1.2)]


def test_receive_timeout() -> None:
    """receive(timeout) raises Timeout when nothing arrives in time."""
    sim, a, b = pair(1.0)

    async def reader() -> float:
        with pytest.raises(Timeout):
            await b.receive(timeout=0.5)
        return sim.now

    p = sim.spawn(reader())
    a.send("B", b"late")
    sim.run()
    assert p.result() == 0.5
    assert len(b.inbox) == 1


def test_handler_can_be_removed_to_fall_back_to_inbox() -> None:
    """on_message(None) restores delivery into the inbox; on_message returns its argument."""
    sim, a, b = pair(0.0)
    got: list[bytes] = []
    assert b.on_message(lambda s, p: got.append(p)) is not None
    a.send("B", b"h")
    sim.run()
    assert b.on_message(None) is None
    a.send("B", b"i")
    sim.run()
    assert got == [b"h"]
    assert b.inbox.get_nowait() == ("A", b"i")


def test_message_and_byte_counters_per_channel_and_node() -> None:
    """Channels count messages and bytes sent; nodes count sent and received."""
    sim, a, b = pair(0.01)
    b.on_message(lambda s, p: None)
    a.on_message(lambda s, p: None)
    a.send("B", b"12345")
    a.send("B", b"")
    b.send("A", b"xyz")
    sim.run()
    ab, ba = a.channel("B"), b.channel("A")
    assert (ab.messages_sent, ab.bytes_sent) == (2, 5)
    assert (ba.messages_sent, ba.bytes_sent) == (1, 3)
    assert a.stats == NodeStats(messages_sent=2, bytes_sent=5, messages_received=1, bytes_received=3)
    assert b.stats == NodeStats(messages_sent=1, bytes_sent=3, messages_received=2, bytes_received=5)


def test_unknown_peer_error_names_known_peers() -> None:
    """Sending to a node without a channel raises KeyError listing the known peers."""
    sim = Simulation(seed=0)
    a, b, c = Node(sim, "A"), Node(sim, "B"), Node(sim, "C")
    connect(a, b, 0.1)
    connect(a, c, 0.1)
    with pytest.raises(KeyError, match=r"no channel to 'D'; known peers: 'B', 'C'"):
        a.send("D", b"?")
    assert a.peers == ("B", "C")


@pytest.mark.parametrize("bad", ["text", bytearray(b"x"), memoryview(b"x"), 5, None])
def test_non_bytes_payload_is_refused(bad: object) -> None:
    """Only bytes may be sent; anything else raises TypeError and counts nothing."""
    sim, a, b = pair()
    with pytest.raises(TypeError, match="payload must be bytes"):
        a.send("B", bad)  # type: ignore[arg-type]
    assert a.channel("B").messages_sent == 0
    assert a.stats.messages_sent == 0


@pytest.mark.parametrize("bad", [-1e-9, math.nan, math.inf])
def test_channel_delay_must_be_finite_and_non_negative(bad: float) -> None:
    """A negative, NaN or infinite delay is refused when the channel is built."""
    sim = Simulation(seed=0)
    a, b = Node(sim, "A"), Node(sim, "B")
    with pytest.raises(ValueError, match="delay must be finite and >= 0"):
        ClassicalChannel(sim, a, b, bad)
    with pytest.raises(ValueError, match="delay must be finite and >= 0"):
        connect(a, b, bad)
    assert a.peers == () and b.peers == ()


def test_channel_construction_errors() -> None:
    """Duplicate channels, self-loops, foreign nodes and duplicate node names are refused."""
    sim = Simulation(seed=0)
    a, b = Node(sim, "A"), Node(sim, "B")
    ClassicalChannel(sim, a, b, 0.1, name="fibre-AB")
    with pytest.raises(ValueError, match="already has a channel"):
        ClassicalChannel(sim, a, b, 0.1)
    with pytest.raises(ValueError, match="already has a channel"):
        connect(a, b, 0.1)
    assert b.peers == ()  # connect checked both directions before creating any
    with pytest.raises(ValueError, match="two different nodes"):
        ClassicalChannel(sim, a, a, 0.1)
    other = Simulation(seed=0)
    with pytest.raises(ValueError, match="belong"):
        ClassicalChannel(sim, a, Node(other, "C"), 0.1)
    with pytest.raises(ValueError, match="already has a node named 'A'"):
        Node(sim, "A")
    assert a.channel("B").name == "fibre-AB"
    assert sim.nodes == {"A": a, "B": b}


def test_connect_creates_one_channel_each_way() -> None:
    """connect() returns the forward and backward channels with the same delay."""
    sim = Simulation(seed=0)
    a, b = Node(sim, "A"), Node(sim, "B")
    ab, ba = connect(a, b, delay=2e-3)
    assert (ab.src, ab.dst, ba.src, ba.dst) == (a, b, b, a)
    assert ab.delay == ba.delay == 2e-3
    assert a.channel("B") is ab and b.channel("A") is ba


def test_node_rng_is_the_named_component_stream() -> None:
    """node.rng(component) is sim.rng(node.name, component)."""
    sim = Simulation(seed=8)
    a = Node(sim, "A")
    assert a.rng("memory") is sim.rng("A", "memory")
    assert a.rng("memory") is not a.rng("source")


def test_zero_delay_channel_delivers_at_send_time_after_sender_step() -> None:
    """With delay 0 the message arrives at the same instant, after the sending event finishes."""
    sim, a, b = pair(0.0)
    log: list[str] = []
    b.on_message(lambda src, payload: log.append(f"recv@{sim.now}"))

    def sender() -> None:
        a.send("B", b"x")
        log.append("sent")

    sim.call_at(1.0, sender)
    sim.run()
    assert log == ["sent", "recv@1.0"]
