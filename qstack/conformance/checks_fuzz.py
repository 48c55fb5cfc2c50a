"""Robustness contracts of the sans-I/O layer protocols: no message sequence crashes them.

A layer protocol faces a network it does not control: peers that are buggy, out of date or
hostile send it any sequence of valid, out-of-order, mistimed, truncated and corrupted messages.
Its contract is to turn every bad input into a *counted rejection*
(``ProtocolStack.rejected``) and never to raise. These checks drive one node's protocol through
:mod:`qstack.testing` (a :class:`~qstack.testing.FakeRuntime` with a
:class:`~qstack.testing.FakeLinkLayer` for the network layer) or a two-node network on the
simulation clock (the link layer, whose heralding needs a station), with random sequences of
actions drawn by hypothesis (fixed seed, bounded examples):

* a valid message of the layer (node, link and flow names drawn mostly from the real ones, so
  that messages reach deep into the protocol), from a neighbour, a station or a stranger;
* random bytes, or a valid message with one byte flipped (each refused by the parser must be
  counted as a rejection);
* moving the clock (timers fire), service calls from the layer above (``create``/``stop``,
  path setups), and — for the network layer — link pairs heralded by hand.

hypothesis is a test dependency: without it the checks report ``skipped: hypothesis not
installed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qstack.conformance import (  # noqa: F401  (theirs first)
    checks_network,
    checks_physical,
    checks_theory,
    checks_transport,
)
from qstack.conformance.framework import CheckResult, Context, Target, check
from qstack.conformance.runs import Observed, chain

__all__ = ["FUZZ_EXAMPLES", "FUZZ_STEPS", "fuzz", "Crash"]

#: examples (action sequences) per fuzz check, and the longest sequence
FUZZ_EXAMPLES, FUZZ_STEPS = 200, 16


class Crash(Exception):
    """An action made the protocol raise (or left a refused input uncounted)."""


def _rejections(stack: Any) -> int:
    return sum(stack.rejected.values())


def _deliver(stack: Any, src: str, payload: bytes) -> None:
    """Feed ``payload`` from ``src`` to ``stack``; a parser refusal must be counted."""
    from qstack.proto import MalformedMessage, decode

    try:
        decode(payload)
        parses = True
    except MalformedMessage:
        parses = False
    before = _rejections(stack)
    try:
        stack.receive_bytes(src, payload)
    except Exception as exc:  # noqa: BLE001 - what the check looks for
        raise Crash(f"{type(exc).__name__}: {exc}") from exc
    if not parses and _rejections(stack) == before:
        raise Crash("a message the parser refuses was not counted as a rejection")


def _guard(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        fn(*args, **kwargs)
    except Crash:
        raise
    except Exception as exc:  # noqa: BLE001 - what the check looks for
        raise Crash(f"{what}: {type(exc).__name__}: {exc}") from exc


def _fidelity(st: Any) -> Any:
    """Fidelities: the boundary and usual values, and any float in [0, 1]."""
    return st.one_of(st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.99, 1.0]), st.floats(0.0, 1.0))


def _strategies(st: Any, nodes: list[str], links: list[str], kinds: list[type]) -> Any:
    """Valid messages of ``kinds`` (after tests/proto/proto_strategies.py), their names drawn
    mostly from ``nodes``/``links`` and their ids from a few small values."""
    from qstack.proto import (
        Basis,
        CreateAck,
        CreateErr,
        CreateOk,
        CreateRequest,
        CutoffSpec,
        EndToEndConfirm,
        Expire,
        ExpireNotice,
        Herald,
        LinkError,
        LinkPairId,
        PathSetup,
        PathSetupAck,
        PathTeardown,
        PurificationScope,
        PurificationSpec,
        PurifyOutcome,
        RequestType,
        SwapRecord,
        Track,
    )

    uint32 = st.integers(0, 2**32 - 1)
    uint64 = st.integers(0, 2**64 - 1)
    small = st.one_of(st.integers(0, 3), uint64)
    int32 = st.integers(-(2**31), 2**31 - 1)
    fidelity = _fidelity(st)
    seconds = st.one_of(st.floats(0.0, 0.01), st.floats(0.0, 1e9))
    bell = st.integers(0, 3)
    other = st.text(min_size=1, max_size=8)
    name = st.one_of(st.sampled_from(nodes), other)
    link = st.one_of(st.sampled_from(links), other)
    text = st.text(max_size=16)
    basis = st.sampled_from(Basis.values())
    errors = st.sampled_from([e for e in LinkError.values() if e != LinkError.LINK_ERROR_UNSPECIFIED])
    pair = st.builds(LinkPairId, link=link, seq=small)
    two_pairs = st.tuples(pair, pair).filter(lambda ps: (ps[0].link, ps[0].seq) != (ps[1].link, ps[1].seq))
    two_nodes = st.lists(name, min_size=2, max_size=2, unique=True)
    route = st.one_of(st.just(list(nodes)), st.just(list(reversed(nodes))),
                      st.lists(name, min_size=2, max_size=5, unique=True))
    decay = st.one_of(st.just([]), st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3))

    def policy(kind: str) -> Any:  # a registered plug-in name mostly, else any text (refused by the parser)
        from qstack.conformance.framework import _import_registries
        from qstack.registry import REGISTRIES

        _import_registries()
        return st.one_of(st.sampled_from(sorted(REGISTRIES[kind].names())), st.just(""), text)

    purification_spec = st.builds(PurificationSpec, policy=policy("purification"),
                                  scope=st.sampled_from(PurificationScope.values()),
                                  target_fidelity=fidelity, max_rounds=st.one_of(st.integers(0, 4), uint32))
    cutoff_spec = st.builds(CutoffSpec, policy=policy("cutoff"), time=seconds, slots=uint32,
                            min_fidelity=fidelity, max_time=seconds)
    by_type = {
        CreateRequest: two_nodes.flatmap(lambda n: st.builds(
            CreateRequest, request_id=small, origin=st.just(n[0]), remote_node=st.just(n[1]),
            type=st.sampled_from(RequestType.values()), number=st.integers(1, 2**32 - 1), min_fidelity=fidelity,
            max_time=seconds, purpose_id=st.one_of(st.integers(0, 3), uint32), priority=int32, basis=basis)),
        CreateAck: st.one_of(st.builds(CreateAck, request_id=small, accepted=st.just(True)),
                             st.builds(CreateAck, request_id=small, accepted=st.just(False), error=errors)),
        CreateOk: st.builds(CreateOk, request_id=small, pair=pair, bell_index=bell, goodness=fidelity,
                            creation_time=seconds, outcome=st.integers(0, 1), basis=basis),
        CreateErr: st.builds(CreateErr, request_id=small, error=errors, detail=text),
        Herald: st.builds(Herald, pair=pair, bell_index=bell, attempts=st.integers(1, 2**64 - 1),
                          emission_time=seconds),
        Expire: st.builds(Expire, pair=pair, reason=text),
        PathSetup: route.flatmap(lambda r: st.builds(
            PathSetup, flow_id=small, source=st.just(r[0]), destination=st.just(r[-1]), route=st.just(r),
            min_fidelity=fidelity, link_min_fidelity=fidelity, num_pairs=uint32, deadline=seconds,
            swapping=policy("swapping"), purification=st.one_of(st.none(), purification_spec),
            cutoff=cutoff_spec)),
        PathSetupAck: st.builds(PathSetupAck, flow_id=small, accepted=st.booleans(), reason=text),
        PathTeardown: st.builds(PathTeardown, flow_id=small, reason=text),
        Track: st.builds(Track, flow_id=small, head_pair=pair, via_pair=pair, frame=bell, swaps=uint32,
                         created=seconds, decay=decay),
        EndToEndConfirm: st.builds(EndToEndConfirm, flow_id=small, head_pair=pair, tail_pair=pair, frame=bell,
                                   seq=small),
        SwapRecord: two_pairs.flatmap(lambda ps: st.builds(
            SwapRecord, flow_id=small, left=st.just(ps[0]), right=st.just(ps[1]), outcome=bell, decay=decay)),
        PurifyOutcome: two_pairs.flatmap(lambda ps: st.builds(
            PurifyOutcome, flow_id=small, keep=st.just(ps[0]), sacrifice=st.just(ps[1]), round=uint32,
            outcome=bell, protocol=other)),
        ExpireNotice: st.builds(ExpireNotice, flow_id=small, pair=pair, reason=text),
    }
    return st.one_of(*(by_type[k] for k in kinds))


def _wire_actions(st: Any, sources: list[str], messages: Any) -> list[Any]:
    """Message actions: a valid message, random bytes, a valid message with one byte flipped."""
    src = st.one_of(st.sampled_from(sources), st.text(min_size=1, max_size=6))
    return [
        st.tuples(st.just("msg"), src, messages),
        st.tuples(st.just("bytes"), src, st.binary(max_size=64)),
        st.tuples(st.just("flip"), src, messages, st.integers(0, 2**16), st.integers(1, 255)),
        st.tuples(st.just("advance"), st.one_of(st.floats(0.0, 2e-3), st.floats(0.0, 1.0))),
    ]


def _apply_wire(action: tuple[Any, ...], stack: Any) -> bool:
    """Apply a message action to ``stack``; False if ``action`` is not one."""
    from qstack.proto import encode

    kind = action[0]
    if kind == "msg":
        _deliver(stack, action[1], encode(action[2], check=False))
    elif kind == "bytes":
        _deliver(stack, action[1], bytes(action[2]))
    elif kind == "flip":
        wire = bytearray(encode(action[2], check=False))
        if wire:
            wire[action[3] % len(wire)] ^= action[4]
        _deliver(stack, action[1], bytes(wire))
    else:
        return False
    return True


def fuzz(make: Callable[[], Any], actions: Any, apply: Callable[[Any, tuple[Any, ...]], None], *,
         examples: int = FUZZ_EXAMPLES, steps: int = FUZZ_STEPS, seed: int = 0,
         explicit: Sequence[Sequence[tuple[Any, ...]]] = ()) -> CheckResult:
    """Run the ``explicit`` sequences (a deterministic sweep of the cases every implementation
    must survive, e.g. a pair in each Bell state), then ``examples`` random sequences (up to
    ``steps`` long) of ``actions`` on fresh harnesses ``make()``, each action applied by
    ``apply(harness, action)``, which raises :class:`Crash` on a finding. hypothesis shrinks a
    failing sequence; the result names the smallest one found."""
    for seq in explicit:
        harness = make()
        for i, action in enumerate(seq):
            try:
                apply(harness, action)
            except Crash as exc:
                shown = "; ".join(_describe(a) for a in list(seq)[: i + 1][-4:])
                return CheckResult(False, 1, 0, tolerance=0, detail=f"crash after {i + 1} action(s): {exc} "
                                   f"(last actions: {shown})")
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hseed
        from hypothesis import strategies as st
    except ImportError:
        return CheckResult.skipped("hypothesis not installed")

    found: list[tuple[list[Any], str]] = []
    counts = {"runs": 0, "actions": 0}

    @hseed(seed)
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
              report_multiple_bugs=False)
    @given(st.lists(actions, max_size=steps))
    def run(seq: list[Any]) -> None:
        harness = make()
        counts["runs"] += 1
        for i, action in enumerate(seq):
            counts["actions"] += 1
            try:
                apply(harness, action)
            except Crash as exc:
                found.append((seq[: i + 1], str(exc)))
                raise

    try:
        run()
    except Crash:
        seq, why = found[-1]
        shown = "; ".join(_describe(a) for a in seq[-4:])
        return CheckResult(False, 1, 0, tolerance=0, detail=f"crash after {len(seq)} action(s): {why} "
                           f"(last actions: {shown})")
    return CheckResult(True, 0, 0, tolerance=0, detail=f"{counts['runs']} sequences, {counts['actions']} actions, "
                       "no crash")


def _describe(action: tuple[Any, ...]) -> str:
    kind = action[0]
    if kind == "to":
        return f"to end {action[1]}: {_describe(action[2])}"
    if kind in ("msg", "flip"):
        return f"{kind} {type(action[2]).__name__} from {action[1]!r}"
    if kind == "bytes":
        return f"{len(action[2])} random bytes from {action[1]!r}"
    return " ".join(str(x) for x in action)[:80]


# ---------------------------------------------------------------------------------------------- network layer

_NET_NODES, _NET_LINKS = ["a", "r", "b"], ["a-r", "r-b"]


class _NetHarness:
    """A repeater ``r`` between ``a`` and ``b``: its network layer (the target's swap policy) on a
    fake runtime over a fake link layer the actions herald pairs from."""

    def __init__(self, spec: Any) -> None:
        from qstack.network.protocol import NetworkLayer
        from qstack.testing import FakeLinkLayer, FakeRuntime, chain_topology

        self.rt = FakeRuntime("r", positions=4)
        self.link = FakeLinkLayer(self.rt, {"a": "a-r", "b": "r-b"})
        self.net = NetworkLayer(self.rt, self.link, chain_topology(_NET_NODES), policies={"swapping": spec})
        self.rt.stack.add(self.net)


def _net_actions(st: Any) -> Any:
    from qstack.proto import (
        EndToEndConfirm,
        Expire,
        ExpireNotice,
        PathSetup,
        PathSetupAck,
        PathTeardown,
        PurifyOutcome,
        SwapRecord,
        Track,
    )

    kinds = [PathSetup, PathSetupAck, PathTeardown, Track, EndToEndConfirm, SwapRecord, PurifyOutcome, Expire,
             ExpireNotice]
    messages = _strategies(st, _NET_NODES, _NET_LINKS, kinds)
    return st.one_of(
        *_wire_actions(st, _NET_NODES, messages),
        st.tuples(st.just("setup"), st.integers(1, 2)),
        st.tuples(st.just("herald"), st.sampled_from(["a", "b"]), st.integers(1, 2), st.integers(0, 3)),
        st.tuples(st.just("herald"), st.sampled_from(["a", "b"]), st.integers(1, 2), st.integers(0, 3)),
    )


def _net_apply(h: _NetHarness, action: tuple[Any, ...]) -> None:
    from qstack.proto import PathSetup, PathSetupAck, encode

    if _apply_wire(action, h.rt.stack):
        return
    kind = action[0]
    if kind == "advance":
        _guard("advancing the clock", h.rt.advance, action[1])
    elif kind == "setup":  # a well-formed flow a → b through r: PATH SETUP from a, its ACK from b
        fid = action[1]
        # the policies a PATH SETUP names are those this repeater's layer would announce itself
        swapping, cutoff, purification = h.net._policy_specs()  # noqa: SLF001 - the layer's own announcement
        _deliver(h.rt.stack, "a", encode(PathSetup(flow_id=fid, source="a", destination="b", route=_NET_NODES,
                                                   swapping=swapping, cutoff=cutoff, purification=purification)))
        _deliver(h.rt.stack, "b", encode(PathSetupAck(flow_id=fid, accepted=True)))
    elif kind == "herald":  # a link pair for a purpose the network layer accepts, while a position is free
        _, peer, purpose, bell = action
        if h.rt.memory.free_positions and h.net.accepts(peer, purpose):
            _guard(f"a pair heralded with {peer} (purpose {purpose}, Bell index {bell})",
                   h.link.herald, peer, purpose_id=purpose, bell_index=bell)


@check("swapping.never_crashes", "swapping", f"""No message sequence crashes the network layer: a
       repeater's NetworkLayer running the policy (driven sans-I/O through qstack.testing) is fed
       {FUZZ_EXAMPLES} random sequences of up to {FUZZ_STEPS} actions — valid network messages, random
       bytes, corrupted messages, path setups, heralded link pairs, clock moves (hypothesis, fixed
       seed) — and never raises; every input the parser refuses is a counted rejection.""")
def _net_never_crashes(target: Target, ctx: Context) -> CheckResult:
    try:
        from hypothesis import strategies as st
    except ImportError:
        return CheckResult.skipped("hypothesis not installed")
    spec = target.spec
    sweep = [[("setup", 1), ("herald", "a", 1, bell), ("herald", "b", 1, bell)] for bell in range(4)]
    return fuzz(lambda: _NetHarness(spec), _net_actions(st), _net_apply, seed=ctx.seed, explicit=sweep)


# ---------------------------------------------------------------------------------------------- link layer

class _LinkHarness:
    """A two-node link (the target's scheme) on the simulation clock; both ends' upper layer a
    collector that accepts every purpose and frees every pair."""

    def __init__(self, scenario: Any) -> None:
        from qstack.conformance.runs import _LinkCollector
        from qstack.network.network import QuantumNetwork

        self.net = QuantumNetwork(scenario)
        self.obs = Observed(self.net)
        spec = scenario.links[0]
        self.ends = (spec.a, spec.b)
        for node in self.ends:
            self.net.link_layers[node].upper = _LinkCollector(node, self.net.link_layers[node], self.obs)
        self.sources = [spec.a, spec.b, *(s.rt.node for s in self.net.stations.values())]


def _link_actions(st: Any, nodes: list[str], links: list[str]) -> Any:
    from qstack.proto import CreateAck, CreateErr, CreateOk, CreateRequest, Expire, Herald

    messages = _strategies(st, nodes, links, [CreateRequest, CreateAck, CreateOk, CreateErr, Herald, Expire])
    sources = [*nodes, f"station:{links[0]}"]
    wire = [st.tuples(st.just("to"), st.integers(0, 1), a) for a in _wire_actions(st, sources, messages)]
    return st.one_of(
        *wire,
        st.tuples(st.just("create"), st.integers(0, 1), st.one_of(st.integers(1, 5), st.just(2**32 - 1)),
                  _fidelity(st), st.one_of(st.just(float("inf")), st.floats(1e-6, 1.0)), st.integers(0, 2)),
        st.tuples(st.just("stop"), st.integers(0, 1), st.integers(0, 2)),
    )


def _link_apply(h: _LinkHarness, action: tuple[Any, ...]) -> None:
    from qstack.link.service import LinkCreate

    kind = action[0]
    if kind == "to":
        node = h.ends[action[1]]
        inner = action[2]
        if inner[0] == "advance":
            sim = h.net.sim
            _guard("advancing the clock", sim.run, sim.now + inner[1])
        else:
            _apply_wire(inner, h.net.runtimes[node].stack)
    elif kind == "create":
        _, side, number, fmin, max_time, purpose = action
        node, peer = h.ends[side], h.ends[1 - side]
        req = LinkCreate(peer, number=number, min_fidelity=fmin, max_time=max_time, purpose_id=purpose)
        _guard(f"create({req})", h.net.link_layers[node].create, req)
    elif kind == "stop":
        node, peer = h.ends[action[1]], h.ends[1 - action[1]]
        _guard("stop", h.net.link_layers[node].stop, peer, action[2])


@check("link_scheme.never_crashes", "link_scheme", f"""No message sequence crashes the link layer: the two
       LinkLayers of a 10 km link running the scheme are fed {FUZZ_EXAMPLES} random sequences of up to
       {FUZZ_STEPS} actions — valid link messages (from the peer, the station or a stranger), random
       bytes, corrupted messages, create/stop calls, clock moves (hypothesis, fixed seed) — and never
       raise; every input the parser refuses is a counted rejection.""")
def _link_never_crashes(target: Target, ctx: Context) -> CheckResult:
    try:
        from hypothesis import strategies as st
    except ImportError:
        return CheckResult.skipped("hypothesis not installed")
    sc = chain(2, "10 km", seed=ctx.seed, duration=1.0, link={"scheme": target.scenario_spec()}, raw_fidelity=1.0)
    spec = sc.links[0]
    actions = _link_actions(st, [spec.a, spec.b], [f"{spec.a}-{spec.b}"])
    # the boundaries every scheme must survive, run first whatever hypothesis draws: a request at
    # each end with F_min 0, just below 1 and exactly 1 (the unreachable floor), finite or no max_time
    sweep = [[("create", side, 1, fmin, max_time, 0)] for side in (0, 1) for fmin in (0.0, 1.0 - 1e-12, 1.0)
             for max_time in (float("inf"), 1e-3)]
    return fuzz(lambda: _LinkHarness(sc), actions, _link_apply, seed=ctx.seed, explicit=sweep)


# ---------------------------------------------------------------------------------------------- transport

#: the transport harness: node "a" of a two-node session (alice on a, bob on b), session 5
_TR_NODES, _TR_ROLES, _TR_SESSION = ["a", "b"], {"alice": "a", "bob": "b"}, 5


class _TransportHarness:
    """Node ``a``'s transport layer (the target's factory) above a real network layer on a fake
    runtime over a fake link layer: the session's roles are ``alice`` (here) and ``bob`` (on b)."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        from qstack.network.protocol import NetworkLayer
        from qstack.testing import FakeLinkLayer, FakeRuntime, chain_topology

        self.rt = FakeRuntime("a", positions=4)
        link = FakeLinkLayer(self.rt, {"b": "a-b"})
        self.net = NetworkLayer(self.rt, link, chain_topology(_TR_NODES), role="end")
        self.rt.stack.add(self.net)
        self.tr = factory(self.rt, self.net, _TR_SESSION, dict(_TR_ROLES))
        self.net.upper = self.tr
        self.rt.stack.add(self.tr)


def _transport_actions(st: Any) -> Any:
    from qstack.proto import AppMessage, TeleportRecord
    from qstack.proto.qstack.v1 import app_pb2

    session = st.one_of(st.just(_TR_SESSION), st.integers(0, 2**64 - 1))
    role = st.one_of(st.sampled_from(sorted(_TR_ROLES)), st.text(max_size=6))
    messages = st.one_of(
        st.builds(AppMessage, session=session, from_role=role, to_role=role, payload=st.binary(max_size=16)),
        st.builds(TeleportRecord, session=session, from_role=role, to_role=role,
                  transfer_id=st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 1)), outcome=st.integers(0, 3)),
    )
    purpose = st.one_of(
        st.builds(lambda *a: app_pb2.EprPurpose(session=a[0], creator_role=a[1], receiver_role=a[2], measure=a[3],
                                                basis=a[4], number=a[5]).SerializeToString(),
                  session, role, role, st.booleans(), st.sampled_from(["", "Z", "X", "Y", "W"]),
                  st.integers(0, 2**32 - 1)),
        st.binary(max_size=24))
    flow = st.tuples(st.just("flow"), st.integers(0, 3), st.sampled_from([("a", "b"), ("b", "a")]),
                     st.sampled_from(["keep", "measure", ""]), purpose, st.sampled_from(["head", "tail"]),
                     st.integers(0, 4))
    from_bob = st.one_of(  # frames of the session's own peer, so that they reach deep into the layer
        st.builds(AppMessage, session=st.just(_TR_SESSION), from_role=st.just("bob"), to_role=st.just("alice"),
                  payload=st.binary(max_size=16)),
        st.builds(TeleportRecord, session=st.just(_TR_SESSION), from_role=st.just("bob"), to_role=st.just("alice"),
                  transfer_id=st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 1)), outcome=st.integers(0, 3)))
    return st.one_of(
        *_wire_actions(st, _TR_NODES, messages),
        st.tuples(st.just("msg"), st.just("b"), from_bob),
        flow,
        st.tuples(st.just("failed"), st.integers(0, 3), st.sampled_from(["EPR socket mismatch: x", "timeout", ""])),
        st.tuples(st.just("expect"), role, role, st.booleans(), st.integers(1, 4)),
        st.tuples(st.just("drain")),
    )


def _boxes(tr: Any) -> list[tuple[str, Any]]:
    """The mailboxes the transport hands the roles (classical inboxes, teleport outcomes)."""
    roles = sorted(_TR_ROLES)
    return ([("inbox", tr.inbox(to, frm)) for to in roles for frm in roles if to != frm]
            + [("teleports", tr.teleports(frm, to)) for to in roles for frm in roles if to != frm])


def _transport_apply(h: _TransportHarness, action: tuple[Any, ...]) -> None:
    from qstack.network.service import FlowInfo, NetFail
    from qstack.proto import AppMessage, MalformedMessage, decode, encode
    from qstack.runtime import ProtocolViolation

    kind = action[0]
    if kind == "msg":  # a parsed message is delivered to its role's mailbox exactly when it is this session's
        msg, src = action[2], action[1]
        try:
            decode(encode(msg, check=False))  # the codec's own validation (e.g. transfer ids count from 1)
            valid = True
        except MalformedMessage:
            valid = False
        ok = (valid and msg.session == _TR_SESSION and _TR_ROLES.get(msg.to_role) == "a"
              and _TR_ROLES.get(msg.from_role) == src)
        box = h.tr.inbox(msg.to_role, msg.from_role) if isinstance(msg, AppMessage) else \
            h.tr.teleports(msg.from_role, msg.to_role)
        before, rejected = len(box._items), _rejections(h.rt.stack)  # noqa: SLF001 - the mailbox's queue length
        _deliver(h.rt.stack, src, encode(msg, check=False))
        got = len(box._items) - before  # noqa: SLF001
        if ok and got != 1:
            raise Crash(f"a valid {type(msg).__name__} of this session from {src!r} was not handed to its role")
        if not ok and (got or _rejections(h.rt.stack) == rejected):
            raise Crash(f"{type(msg).__name__} (session {msg.session}, {msg.from_role!r} -> {msg.to_role!r}) from "
                        f"{src!r} was " + ("handed to a role" if got else "neither delivered nor counted as rejected"))
        return
    if _apply_wire(action, h.rt.stack):
        return
    if kind == "advance":
        _guard("advancing the clock", h.rt.advance, action[1])
    elif kind == "flow":  # the network layer announces a flow (its purpose bytes come from a remote PATH SETUP)
        _, fid, route, typ, purpose, end, pairs = action
        info = FlowInfo(fid, route, typ, "Z", purpose, pairs)
        try:
            h.tr.flow_started(info, end)
        except ProtocolViolation:
            pass  # refused: the network layer counts it as the PATH SETUP's rejection
        except Exception as exc:  # noqa: BLE001 - what the check looks for
            raise Crash(f"flow_started({info}): {type(exc).__name__}: {exc}") from exc
    elif kind == "failed":
        _guard("flow_failed", h.tr.flow_failed, NetFail(h.rt.now, "b", action[1], action[2]))
    elif kind == "expect":
        _guard("expect", h.tr.expect, action[1], action[2], action[3], action[4])
    elif kind == "drain":  # what reaches the roles: payload bytes, Bell outcomes 0–3
        for what, box in _boxes(h.tr):
            while True:
                try:
                    item = box.get_nowait()
                except LookupError:
                    break
                if what == "inbox" and not isinstance(item, bytes):
                    raise Crash(f"a role's inbox got {type(item).__name__}, not bytes")
                if what == "teleports" and not (isinstance(item, int) and 0 <= item <= 3):
                    raise Crash(f"a teleport outcome {item!r} outside the Bell indices 0-3 reached a role")


@check("transport.never_crashes", "transport", f"""No message sequence crashes the transport layer: node a's
       transport (roles alice here, bob on b, session {_TR_SESSION}) above a real network layer on a
       fake runtime is fed {FUZZ_EXAMPLES} random sequences of up to {FUZZ_STEPS} actions (hypothesis,
       fixed seed) — AppMessage and TeleportRecord frames (session, roles and transfer ids drawn mostly
       from the real ones, from a, b or a stranger), random bytes, corrupted frames, clock moves, flows
       announced by the network layer with any purpose bytes (a valid EprPurpose of this or another
       session, or garbage), flow failures, recv_* expectations — and never raises (a refused flow
       purpose may raise ProtocolViolation, which the network layer counts). Every frame is either
       handed to its role's mailbox — exactly when its session is this one, its receiving role runs
       here and its sending role runs on the node it came from — or counted as a rejection; what a
       role's mailbox holds is bytes (messages) or a Bell index 0–3 (teleport outcomes).""")
def _transport_never_crashes(target: Target, ctx: Context) -> CheckResult:
    try:
        from hypothesis import strategies as st
    except ImportError:
        return CheckResult.skipped("hypothesis not installed")
    from qstack.proto import AppMessage, TeleportRecord

    factory = target.factory()
    peer = {"session": _TR_SESSION, "from_role": "bob", "to_role": "alice"}
    sweep = [[("msg", "b", AppMessage(**peer, payload=b"x")), ("drain",)],
             *([("msg", "b", TeleportRecord(**peer, transfer_id=tid, outcome=k)), ("drain",)]
               for tid in (0, 1, 2**64 - 1) for k in range(4))]
    return fuzz(lambda: _TransportHarness(factory), _transport_actions(st), _transport_apply, seed=ctx.seed,
                explicit=sweep)
