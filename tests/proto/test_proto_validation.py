"""Protocol violations are refused by the validators, at the sender (encode) and the receiver (decode)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from proto_strategies import create_ok, herald, path_setup, track

from qstack.proto import (
    CreateAck,
    CreateErr,
    CreateOk,
    CreateRequest,
    CutoffSpec,
    EndToEndConfirm,
    Envelope,
    Expire,
    ExpireNotice,
    Herald,
    LinkError,
    LinkPairId,
    MalformedMessage,
    PathSetup,
    PathSetupAck,
    PurificationScope,
    PurificationSpec,
    PurifyOutcome,
    Rejection,
    SwapRecord,
    Track,
    decode,
    encode,
    kind,
    validate,
)

AB = LinkPairId(link="A-B", seq=1)
BC = LinkPairId(link="B-C", seq=1)


def raw(message) -> bytes:
    """A version-1 envelope around ``message`` serialised without validation (what a faulty peer sends)."""
    envelope = Envelope(version=1)
    getattr(envelope, kind(message)).CopyFrom(message)
    return envelope.SerializeToString()


def request(**fields):
    base = dict(request_id=1, origin="A", remote_node="B", number=1, min_fidelity=0.9, max_time=1.0)
    return CreateRequest(**{**base, **fields})


def setup(**fields):
    base = dict(flow_id=1, source="A", destination="C", route=["A", "B", "C"], min_fidelity=0.8,
                link_min_fidelity=0.9, deadline=1.0, swapping="asap", cutoff=CutoffSpec(policy="fixed", time=0.1))
    return PathSetup(**{**base, **fields})


def purification(**fields):
    base = dict(policy="dejmps", scope=PurificationScope.PURIFY_LINK, target_fidelity=0.95, max_rounds=3)
    return PurificationSpec(**{**base, **fields})


VIOLATIONS = {
    # fidelities in [0, 1]
    "request fidelity > 1": (request(min_fidelity=1.5), "min_fidelity"),
    "request fidelity < 0": (request(min_fidelity=-0.1), "min_fidelity"),
    "request fidelity NaN": (request(min_fidelity=math.nan), "min_fidelity"),
    "ok goodness > 1": (CreateOk(pair=AB, goodness=2.0), "goodness"),
    "setup link fidelity": (setup(link_min_fidelity=1.01), "link_min_fidelity"),
    "setup fidelity": (setup(min_fidelity=-1.0), "min_fidelity"),
    # times finite and non-negative
    "request max_time < 0": (request(max_time=-1.0), "max_time"),
    "request max_time inf": (request(max_time=math.inf), "max_time"),
    "ok creation_time < 0": (CreateOk(pair=AB, creation_time=-1e-9), "creation_time"),
    "herald emission NaN": (Herald(pair=AB, attempts=1, emission_time=math.nan), "emission_time"),
    "track created < 0": (Track(head_pair=AB, via_pair=BC, created=-2.0), "created"),
    "setup deadline < 0": (setup(deadline=-1.0), "deadline"),
    "setup cutoff < 0": (setup(cutoff=CutoffSpec(policy="fixed", time=-0.5)), "cutoff.time"),
    "setup cutoff inf": (setup(cutoff=CutoffSpec(policy="fixed", time=math.inf)), "cutoff.time"),
    "setup cutoff max_time NaN": (setup(cutoff=CutoffSpec(policy="fidelity", max_time=math.nan)), "cutoff.max_time"),
    # Bell indices, frames and outcomes in 0..3
    "ok bell_index": (CreateOk(pair=AB, bell_index=4), "bell_index"),
    "ok outcome not a bit": (CreateOk(pair=AB, outcome=2), "outcome"),
    "herald bell_index": (Herald(pair=AB, bell_index=7, attempts=1), "bell_index"),
    "track frame": (Track(head_pair=AB, via_pair=BC, frame=4), "frame"),
    "confirm frame": (EndToEndConfirm(head_pair=AB, tail_pair=BC, frame=2**32 - 1), "frame"),
    "swap outcome": (SwapRecord(left=AB, right=BC, outcome=5), "outcome"),
    "purify outcome": (PurifyOutcome(keep=AB, sacrifice=BC, outcome=4, protocol="dejmps"), "outcome"),
    # node names and pairs present
    "request no origin": (request(origin=""), "origin"),
    "request no remote": (request(remote_node=""), "remote_node"),
    "request to itself": (request(remote_node="A"), "remote_node"),
    "setup no source": (setup(source="", route=["", "B", "C"]), "source"),
    "setup no destination": (setup(destination=""), "destination"),
    "herald without pair": (Herald(attempts=1), "pair"),
    "herald pair without link": (Herald(pair=LinkPairId(seq=3), attempts=1), "pair.link"),
    "expire without pair": (Expire(reason="cutoff"), "pair"),
    "notice without pair": (ExpireNotice(flow_id=1), "pair"),
    "track without via": (Track(head_pair=AB), "via_pair"),
    "confirm without tail": (EndToEndConfirm(head_pair=AB), "tail_pair"),
    "swap same pair twice": (SwapRecord(left=AB, right=AB), "right"),
    "purify same pair twice": (PurifyOutcome(keep=AB, sacrifice=AB, protocol="dejmps"), "sacrifice"),
    "purify no protocol": (PurifyOutcome(keep=AB, sacrifice=BC), "protocol"),
    # routes: >= 2 distinct nodes, from source to destination
    "route of one node": (setup(destination="A", route=["A"]), "route"),
    "empty route": (setup(route=[]), "route"),
    "route with a loop": (setup(route=["A", "B", "A", "C"]), "route"),
    "route with empty name": (setup(route=["A", "", "C"]), "route"),
    "route from elsewhere": (setup(route=["B", "C"]), "route"),
    "route to elsewhere": (setup(route=["A", "B"]), "route"),
    # counts and enums
    "request zero pairs": (request(number=0), "number"),
    "request unknown type": (request(type=7), "type"),
    "request unknown basis": (request(basis=3), "basis"),
    "herald zero attempts": (Herald(pair=AB, attempts=0), "attempts"),
    "ack accepted with error": (CreateAck(accepted=True, error=LinkError.NO_TIME), "error"),
    "ack refused without error": (CreateAck(accepted=False), "error"),
    "ack unknown error": (CreateAck(accepted=False, error=99), "error"),
    "err without error": (CreateErr(detail="?"), "error"),
    "setup ack refused without reason": (PathSetupAck(accepted=False), "reason"),
    "setup ack accepted with a reason": (PathSetupAck(accepted=True, reason="but"), "reason"),
    "setup unknown type": (setup(type=9), "type"),
    "setup unknown basis": (setup(basis=3), "basis"),
    # policy names a registry knows; specs as fields within their documented ranges
    "setup unregistered swapping": (setup(swapping="swap-asap"), "swapping"),
    "setup no swapping": (setup(swapping=""), "swapping"),
    "setup unregistered cutoff": (setup(cutoff=CutoffSpec(policy="sometimes")), "cutoff.policy"),
    "setup cutoff without a name": (setup(cutoff=CutoffSpec(time=0.5)), "cutoff.policy"),
    "setup cutoff fidelity > 1": (setup(cutoff=CutoffSpec(policy="fidelity", min_fidelity=1.5)), "cutoff.min_fidelity"),
    "setup unregistered purification": (setup(purification=purification(policy="dejmsp")), "purification.policy"),
    "setup purification unknown scope": (setup(purification=purification(scope=5)), "purification.scope"),
    "setup purification target <= 1/2": (setup(purification=purification(target_fidelity=0.5)),
                                         "purification.target_fidelity"),
    "setup purification target NaN": (setup(purification=purification(target_fidelity=math.nan)),
                                      "purification.target_fidelity"),
    "setup purification zero rounds": (setup(purification=purification(max_rounds=0)), "purification.max_rounds"),
    "purify unregistered protocol": (PurifyOutcome(keep=AB, sacrifice=BC, protocol="magic"), "protocol"),
}


def test_a_valid_path_setup_with_every_policy_spec_passes():
    """The base messages of the table are valid: each violation above breaks one field only."""
    for message in (setup(), setup(purification=purification()),
                    setup(cutoff=CutoffSpec(policy="slots", slots=2)), request()):
        validate(message)
        assert decode(encode(message)) == message


@pytest.mark.parametrize(("message", "field"), VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_violation_refused_at_sender_and_receiver(message, field):
    expected = f"{type(message).__name__}.{field} "
    with pytest.raises(MalformedMessage, match=expected.replace(".", r"\.")) as info:
        validate(message)
    assert info.value.reason is Rejection.INVALID_FIELD
    with pytest.raises(MalformedMessage, match=expected.replace(".", r"\.")):
        encode(message)
    with pytest.raises(MalformedMessage, match=expected.replace(".", r"\.")) as info:
        decode(raw(message))
    assert info.value.reason is Rejection.INVALID_FIELD


@given(create_ok | herald, st.integers(4, 2**32 - 1))
def test_any_out_of_range_bell_index_is_refused(message, index):
    message.bell_index = index
    with pytest.raises(MalformedMessage):
        decode(raw(message))


@given(track, st.integers(4, 2**32 - 1))
def test_any_out_of_range_frame_is_refused(message, frame):
    message.frame = frame
    with pytest.raises(MalformedMessage):
        decode(raw(message))


@given(path_setup, st.floats(allow_nan=True).filter(lambda x: not 0.0 <= x <= 1.0))
def test_any_fidelity_outside_unit_interval_is_refused(message, value):
    message.min_fidelity = value
    with pytest.raises(MalformedMessage):
        decode(raw(message))


def test_boundaries_are_allowed():
    """Fidelities 0 and 1, a zero max_time, Bell index 3 and a one-hop route are in range: they
    validate and survive the wire unchanged."""
    for message in (request(min_fidelity=0.0, max_time=0.0), request(min_fidelity=1.0),
                    CreateOk(pair=AB, bell_index=3, goodness=1.0, outcome=1),
                    setup(source="A", destination="B", route=["A", "B"])):
        assert validate(message) is None
        assert decode(raw(message)) == message


def test_validate_rejects_non_bodies():
    with pytest.raises(TypeError):
        validate(LinkPairId(link="A-B"))
