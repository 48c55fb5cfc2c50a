"""Real-time runtime figures: messages/s and round-trip latency between two node processes over
the authenticated TCP transport, and the quantum-state service's lease operations per second.

    python bench/bench_realtime.py [--messages 20000] [--pings 500] [--leases 2000]

The peer is a second Python process (``--peer`` mode of this file) holding an
:class:`~qstack.runtime.realtime.transport.Endpoint` that echoes pings and counts messages; keys
come from the OS random source. Lease operations are timed in one process (StateMirror grant,
rebuild, return and caller check of a node holding one Bell pair half), the service's work per lease.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import trio

from qstack.proto.qstack.v1 import realtime_pb2
from qstack.runtime.auth import PairKeys
from qstack.runtime.realtime.transport import Endpoint


def _keys(path: str) -> PairKeys:
    return PairKeys.from_file(path)


async def _peer(keys_path: str, port_file: str) -> None:
    keys = _keys(keys_path)
    endpoint: Endpoint

    async def deliver(peer: str, d: realtime_pb2.Datagram) -> None:
        if d.envelope[:1] == b"p":  # a ping: echo it
            endpoint.send(peer, realtime_pb2.Datagram(src="b", envelope=d.envelope))
        elif d.envelope[:1] == b"e":  # the last of a burst: say so
            endpoint.send(peer, realtime_pb2.Datagram(src="b", envelope=b"done"))

    endpoint = Endpoint("b", keys, deliver, accept={"a"})
    async with trio.open_nursery() as nursery:
        port = await nursery.start(endpoint.serve, 0)
        with open(port_file + ".tmp", "w") as fh:
            fh.write(str(port))
        os.replace(port_file + ".tmp", port_file)


async def _drive(keys: PairKeys, port: int, messages: int, pings: int) -> dict[str, float]:
    send, receive = trio.open_memory_channel[bytes](1 << 16)

    async def deliver(peer: str, d: realtime_pb2.Datagram) -> None:
        await send.send(d.envelope)

    a = Endpoint("a", keys, deliver, addresses={"b": ("127.0.0.1", port)})
    out: dict[str, float] = {}
    async with trio.open_nursery() as nursery:
        await nursery.start(a.serve, 0)
        while not a.peer("b").connected:
            await trio.sleep(0.01)
        rtts = []
        for i in range(pings):
            t0 = time.perf_counter()
            a.send("b", realtime_pb2.Datagram(src="a", envelope=b"p" + i.to_bytes(4, "big")))
            await receive.receive()
            rtts.append(time.perf_counter() - t0)
        out["rtt_median_us"] = float(np.median(rtts) * 1e6)
        out["rtt_p99_us"] = float(np.percentile(rtts, 99) * 1e6)
        payload = b"m" + bytes(63)
        t0 = time.perf_counter()
        for _ in range(messages - 1):
            a.send("b", realtime_pb2.Datagram(src="a", envelope=payload))
        a.send("b", realtime_pb2.Datagram(src="a", envelope=b"e"))
        while (await receive.receive()) != b"done":
            pass
        out["messages_per_second"] = messages / (time.perf_counter() - t0)
        nursery.cancel_scope.cancel()
    return out


def _lease_ops(n: int) -> float:
    from qstack.quantum.core import adopt_state
    from qstack.runtime.realtime.state import StateMirror

    service = StateMirror("qserve", prefix="s")
    qa, qb = adopt_state(np.eye(4, dtype=complex) / 4)
    service.register(qa, owner="n0")
    service.register(qb, owner="n1")
    node = StateMirror("n0")
    t0 = time.perf_counter()
    for lease in range(n):
        grant = realtime_pb2.StateLease.FromString(service.grant_for("n0", lease).SerializeToString())
        node.apply_grant(grant)
        back = realtime_pb2.StateLease.FromString(node.export_return(lease).SerializeToString())
        service.accept_return("n0", back)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--pings", type=int, default=500)
    ap.add_argument("--leases", type=int, default=2000)
    ap.add_argument("--peer", nargs=2, metavar=("KEYS", "PORT_FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer:
        trio.run(_peer, *args.peer)
        return
    tmp = tempfile.mkdtemp(prefix="qstack-bench-")
    keys_path, port_file = os.path.join(tmp, "keys.json"), os.path.join(tmp, "port")
    with open(keys_path, "w") as fh:
        json.dump({"a|b": PairKeys.generate(["a", "b"]).key("a", "b").hex()}, fh)
    peer = subprocess.Popen([sys.executable, __file__, "--peer", keys_path, port_file])
    try:
        while not os.path.exists(port_file):
            time.sleep(0.05)
        port = int(open(port_file).read())
        out = trio.run(_drive, _keys(keys_path), port, args.messages, args.pings)
    finally:
        peer.terminate()
        peer.wait(timeout=5)
    out["lease_operations_per_second"] = _lease_ops(args.leases)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
