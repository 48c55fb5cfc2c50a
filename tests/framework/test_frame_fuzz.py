"""Frames that reach a node: fuzzed messages never crash a live node, and on authenticated
channels nothing a third party puts on the wire changes a run.

Two layers of defence, tested separately on live networks (a swap-ASAP chain and a chain with link
purification, on the simulation kernel):

* **Message handling** (the node's protocol state machine, h11's rule: a message that does not
  fit is counted and dropped, never raised). Frames are fed to each node's
  :meth:`~qstack.runtime.ProtocolStack.receive_bytes` as if a key holder had sent them — replays
  of captured frames, semantic mutations of valid messages (one field changed: ids, names,
  enums, numbers), cross-type bodies (a message's bytes under another envelope field) and bit
  flips — drawn by hypothesis with a fixed seed: no exception escapes, and every frame the
  decoder refuses is counted.
* **Authentication** (:mod:`qstack.runtime.auth`, every channel keyed by the scenario's key file).
  Frames injected on the wires (:meth:`qstack.sim.ClassicalChannel.inject`) — genuine frames
  replayed after their delivery, bit-flipped, truncated, re-framed with a wrong tag, cross-type —
  are all refused and counted by reason, and the run's result is bit-identical to the run without
  them, on both wires. A forged ``PathTeardown`` cuts a flow short on an unauthenticated network
  (the attack of issue 14) and changes nothing on an authenticated one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from collections import Counter
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from qstack.network.network import QuantumNetwork
from qstack.network.runner import summarise
from qstack.proto import MalformedMessage, PathTeardown, decode, encode
from qstack.proto.codec import _ENVELOPE_PREFIX, VALIDATORS, _varint
from qstack.runtime.auth import SEQ_BYTES, TAG_BYTES
from qstack.runtime.sim import authenticated_pairs
from qstack.scenario import linear_chain, load_scenario
from qstack.sim.node import ClassicalChannel

DURATION = 0.03
#: figures that depend on the machine, or count what the injection itself adds
MACHINE = ("wall_seconds", "build_seconds", "pairs_per_wall_second")


def _purified(d: dict) -> dict:
    d["policies"]["purification"] = {"protocol": "dejmps", "scope": "link", "target_fidelity": 0.999,
                                     "max_rounds": 2}
    return d


SCENARIOS = {
    "swap-asap chain": lambda: linear_chain(3, seed=1, duration=DURATION),
    "link purification": lambda: _purified(linear_chain(3, seed=4, duration=DURATION, raw_fidelity=0.9)),
}


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> str:
    """A key file holding a fixed key for every pair of endpoints of the test chains (fixed so that
    a capture run and the attacked run share keys: a replayed frame carries a valid tag)."""
    pairs = authenticated_pairs(["n0", "n1", "n2"], [("n0", "n1"), ("n1", "n2")])
    keys = {f"{a}|{b}": hashlib.sha256(f"test key {a}|{b}".encode()).hexdigest() for a, b in pairs}
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    path.write_text(json.dumps(keys))
    return str(path)


def scenario(name: str, wire: str = "bytes", keys: str | None = None):
    d = copy.deepcopy(SCENARIOS[name]())
    d["simulation"]["wire"] = wire
    if keys is not None:
        d["security"] = {"keys": keys}
    return load_scenario(d)


def network(sc) -> QuantumNetwork:
    """The scenario's network with its requests scheduled (as :func:`build_network`)."""
    net = QuantumNetwork(sc)
    for spec in sc.requests:
        net.sim.call_at(spec.start, net.request, spec)
    return net


@contextmanager
def frames_arriving(out: list):
    """Record ``(time, src, dst, frame)`` for every frame that reaches a node over a secured channel."""
    original = ClassicalChannel._arrive_frame

    def arrive(self, frame):  # noqa: ANN001
        out.append((self._sim.now, self.src.name, self.dst.name, frame))
        original(self, frame)

    ClassicalChannel._arrive_frame = arrive
    try:
        yield out
    finally:
        ClassicalChannel._arrive_frame = original


_CAPTURES: dict[tuple[str, str | None], list] = {}


def captured(name: str, keys: str | None = None) -> list:
    """The frames of a bytes-wire run of scenario ``name`` (cached)."""
    key = (name, keys)
    if key not in _CAPTURES:
        sc = scenario(name, "bytes", keys)
        net = network(sc)
        with frames_arriving([]) as out:
            net.sim.run(until=sc.simulation.duration)
        _CAPTURES[key] = out
    return _CAPTURES[key]


def result(net: QuantumNetwork) -> dict:
    """The run's summary without the machine-dependent figures."""
    out = summarise(net, 0.0)
    return {k: v for k, v in out.items() if k not in MACHINE}


# ---------------------------------------------------------------------------------------------- mutations

_BODIES = list(VALIDATORS)
_STRINGS = ["", "n0", "n1", "n2", "n0-n1", "n1-n2", "zz", "asap", "nested", "dejmps", "station:n0-n1"]
_UINTS = [0, 1, 2, 3, 4, 7, 1 << 20, (1 << 32) - 1]
_DOUBLES = [0.0, 1e-3, 0.5, 1.0, 2.0, -1.0, float("nan"), float("inf")]


def _value(field, rng: random.Random):  # noqa: ANN001 - a protobuf FieldDescriptor
    t = field.type
    if t == field.TYPE_STRING:
        return rng.choice(_STRINGS)
    if t in (field.TYPE_UINT64, field.TYPE_UINT32):
        return rng.choice(_UINTS)
    if t == field.TYPE_INT32:
        return rng.randrange(-5, 5)
    if t == field.TYPE_DOUBLE:
        return rng.choice(_DOUBLES)
    if t == field.TYPE_BOOL:
        return rng.random() < 0.5
    if t == field.TYPE_ENUM:
        return rng.randrange(8)  # known values and unknown ones
    if t == field.TYPE_BYTES:
        return rng.randbytes(rng.randrange(6))
    return None


def semantic(payload: bytes, rng: random.Random) -> bytes:
    """``payload``'s message with one field (or one field of a sub-message) set to another value."""
    message = decode(payload)
    field = rng.choice(message.DESCRIPTOR.fields)
    if field.is_repeated:
        values = getattr(message, field.name)
        if field.type == field.TYPE_STRING:
            items = list(values)
            rng.shuffle(items)
            del values[:]
            values.extend(items + [rng.choice(_STRINGS)] * rng.randrange(2))
        elif field.message_type is None:
            del values[:]
            values.extend(rng.uniform(-1.5, 1.5) for _ in range(rng.choice([0, 2, 3])))
    elif field.message_type is not None:
        sub = getattr(message, field.name)
        inner = rng.choice(sub.DESCRIPTOR.fields)
        if not inner.is_repeated and inner.message_type is None:
            setattr(sub, inner.name, _value(inner, rng))
    else:
        setattr(message, field.name, _value(field, rng))
    return encode(message, check=False)


def cross_type(payload: bytes, rng: random.Random) -> bytes:
    """``payload``'s body bytes under another (or the same) envelope body field."""
    body = decode(payload).SerializeToString()
    cls = rng.choice(_BODIES)
    return _ENVELOPE_PREFIX[cls.DESCRIPTOR.full_name] + _varint(len(body)) + body


def bit_flips(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


MUTATIONS = ("replay", "semantic", "cross-type", "bit flips", "stranger")


def mutated(kind: str, payload: bytes, rng: random.Random) -> bytes:
    if kind in ("replay", "stranger"):
        return payload
    if kind == "semantic":
        return semantic(payload, rng)
    if kind == "cross-type":
        return cross_type(payload, rng)
    return bit_flips(payload, rng)


# ---------------------------------------------------------------------------------------------- handlers

FRAMES_PER_RUN = 84
RUNS = 24  # 24 runs x 84 frames = 2,016 frames fed to live nodes


@settings(max_examples=RUNS, derandomize=True, deadline=None, database=None, phases=(Phase.generate,),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(name=st.sampled_from(sorted(SCENARIOS)), wire=st.sampled_from(["objects", "bytes"]),
       frames=st.lists(st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 2**31), st.floats(0.0, 1.0)),
                       min_size=FRAMES_PER_RUN, max_size=FRAMES_PER_RUN))
def test_no_frame_a_peer_sends_makes_a_live_node_raise(name, wire, frames):
    """Replays, one-field mutations, cross-type bodies and bit flips of the frames of a real run,
    fed to the receiving node's stack during a run (as a key holder would send them): nothing
    raises out of a node, and every frame the decoder refuses is counted in ``rejected``."""
    caps = captured(name)
    sc = scenario(name, wire)
    net = network(sc)
    nodes = sorted(net.runtimes)
    crashes: list[str] = []
    uncounted: list[str] = []

    def feed(kind: str, src: str, dst: str, data: bytes) -> None:
        stack = net.runtimes[dst].stack
        try:
            decode(data)
            parses = True
        except MalformedMessage:
            parses = False
        before = sum(stack.rejected.values())
        try:
            stack.receive_bytes(src, data)
        except Exception as exc:  # noqa: BLE001 - what the test looks for
            crashes.append(f"{kind} {src}->{dst}: {type(exc).__name__}: {exc}")
            return
        if not parses and sum(stack.rejected.values()) == before:
            uncounted.append(f"{kind} {src}->{dst}")

    for kind, n, when in frames:
        _, src, dst, frame = caps[n % len(caps)]
        if dst not in net.runtimes:
            continue
        rng = random.Random(n)
        data = mutated(kind, frame[SEQ_BYTES:-TAG_BYTES], rng)
        if kind == "stranger":  # the same message from another endpoint than its sender
            src = rng.choice([*nodes, *(f"station:{link}" for link in net.stations)])
        net.sim.call_at(when * DURATION, feed, kind, src, dst, data)
    net.sim.run(until=DURATION)  # an exception from a timer or a later message would escape here
    assert crashes == []
    assert uncounted == []


# ---------------------------------------------------------------------------------------------- authentication

INJECTED = 1000  # per run; x 2 scenarios (x 2 wires) = 2,000+ frames injected on the wires
ATTACKS = ("replayed", "bit flips", "truncated", "wrong tag", "cross-type")


def attacks(caps: list, seed: int) -> list[tuple[float, str, str, bytes, str]]:
    """``INJECTED`` frames an attacker makes from the recorded ones: ``(time, src, dst, frame,
    expected refusal)``, each injected after the frame it is made from was delivered."""
    rng = random.Random(seed)
    out = []
    for i in range(INJECTED):
        t, src, dst, frame = caps[rng.randrange(len(caps))]
        when = t + rng.uniform(1e-9, DURATION - t)
        attack = ATTACKS[i % len(ATTACKS)]
        if attack == "replayed":
            data, reason = frame, "auth_replayed"
        elif attack == "bit flips":
            data, reason = bit_flips(frame, rng), "auth_forged"
        elif attack == "truncated":
            data, reason = frame[:rng.randrange(SEQ_BYTES + TAG_BYTES)], "auth_truncated"
        elif attack == "wrong tag":  # the next sequence number, any payload, a guessed tag
            seq = int.from_bytes(frame[:SEQ_BYTES], "big") + rng.randrange(1, 50)
            data = seq.to_bytes(SEQ_BYTES, "big") + frame[SEQ_BYTES:-TAG_BYTES] + rng.randbytes(TAG_BYTES)
            reason = "auth_forged"
        else:  # a valid message of another type in the frame: the tag no longer matches
            data = frame[:SEQ_BYTES] + cross_type(frame[SEQ_BYTES:-TAG_BYTES], rng) + frame[-TAG_BYTES:]
            reason = "auth_forged"
        if data == frame:  # a mutation that changed nothing (a bit flipped back, the same body type)
            reason = "auth_replayed"
        out.append((when, src, dst, data, reason))
    return out


def inject_all(net: QuantumNetwork, frames: list) -> None:
    endpoints = {**{n: rt.classical for n, rt in net.runtimes.items()},
                 **{s.rt.node: s.rt.classical for s in net.stations.values()}}

    def inject(src: str, dst: str, data: bytes) -> None:
        endpoints[src].channel(dst).inject(data, delay=0.0)

    for when, src, dst, data, _ in frames:
        net.sim.call_at(when, inject, src, dst, data)


@pytest.mark.parametrize("wire", ["objects", "bytes"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_frames_injected_on_authenticated_wires_are_all_refused_and_change_nothing(name, wire, key_file):
    """1,000 frames made from a recording of the run — replays after delivery, bit flips,
    truncations, guessed tags, other message types in a genuine frame — are refused, each counted
    under its reason at the node it was sent to, and every other figure of the run (pairs,
    fidelities, per-node messages and bytes) is bit-identical to the run without them; only the
    simulator's event count grows, by two per injected frame (the attacker's timer, its arrival)."""
    caps = captured(name, key_file)
    frames = attacks(caps, seed=sum(map(ord, name + wire)))
    reference = network(scenario(name, wire, key_file))
    reference.sim.run(until=DURATION)
    attacked = network(scenario(name, wire, key_file))
    inject_all(attacked, frames)
    attacked.sim.run(until=DURATION)

    expected = Counter((dst, reason) for _, _, dst, _, reason in frames)
    refused = Counter({(n, r): c for n, rt in attacked.runtimes.items() for r, c in rt.stack.rejected.items()})
    assert refused == expected
    assert all(rt.stack.rejected == {} for rt in reference.runtimes.values())
    ref, att = result(reference), result(attacked)
    assert att.pop("events") == ref.pop("events") + 2 * INJECTED  # the attacker's timer, the frame's arrival
    for summary in (ref, att):
        for counters in summary["messages"].values():
            counters.pop("rejected")
    assert ref["delivered_pairs"] > 0
    assert att == ref


@pytest.mark.parametrize("wire", ["objects", "bytes"])
def test_a_forged_path_teardown_cuts_a_flow_only_without_authentication(wire, key_file, monkeypatch):
    """One PathTeardown for the running flow, put on the wire from the head to the repeater a third
    into the run: on an unauthenticated network the repeater believes it and tears the flow down
    (far fewer pairs; only the TRACKs still in flight to it are refused afterwards, as messages for
    a flow it no longer has); with the channels keyed it is refused as
    forged, counted once at the repeater, and the run is bit-identical to the run without it."""
    teardown = encode(PathTeardown(flow_id=1, reason="forged"))

    def run(secured: bool, attack: bool) -> QuantumNetwork:
        with monkeypatch.context() as m:
            if not secured:
                m.setattr(QuantumNetwork, "_secure", lambda self, channels: None)
            net = network(scenario("swap-asap chain", wire, key_file))
        if attack:  # the bare message on an open wire; on a keyed one framed with a guessed tag
            data = teardown if not secured else (7).to_bytes(SEQ_BYTES, "big") + teardown + bytes(TAG_BYTES)
            net.sim.call_at(DURATION / 3, lambda: net.runtimes["n0"].classical.channel("n1").inject(data))
        net.sim.run(until=DURATION)
        return net

    clean = result(run(secured=True, attack=False))
    open_wire, forged = run(secured=False, attack=True), run(secured=True, attack=True)
    cut = result(open_wire)
    assert cut["delivered_pairs"] < 0.5 * clean["delivered_pairs"]
    assert 1 not in open_wire.network_layers["n1"].flows  # it believed the teardown: no refusal of it
    assert not any(reason.startswith("auth_") for rt in open_wire.runtimes.values() for reason in rt.stack.rejected)
    assert forged.runtimes["n1"].stack.rejected == {"auth_forged": 1}
    assert sum(sum(rt.stack.rejected.values()) for rt in forged.runtimes.values()) == 1
    kept = result(forged)
    assert kept.pop("events") == clean.pop("events") + 2
    kept["messages"]["n1"]["rejected"] -= 1
    assert kept == clean


def test_a_run_is_the_same_with_a_key_file_or_fresh_os_random_keys(key_file):
    """Tags never influence an outcome: the keys (a file, or fresh OS-random ones per run, never
    derived from the seed) leave the whole run unchanged, bytes counted included."""
    with_file = network(scenario("swap-asap chain", "bytes", key_file))
    fresh = network(scenario("swap-asap chain", "bytes"))
    assert fresh.keys.source == "os-random" and with_file.keys.source == key_file
    assert fresh.keys.key("n0", "n1") != with_file.keys.key("n0", "n1")
    for net in (with_file, fresh):
        net.sim.run(until=DURATION)
    assert result(with_file) == result(fresh)
