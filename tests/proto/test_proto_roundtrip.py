"""Every message type survives encode/decode; wire sizes are positive and counted."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from proto_strategies import BY_TYPE, any_body

from qstack.proto import (
    VALIDATORS,
    Envelope,
    Herald,
    LinkPairId,
    MalformedMessage,
    MessageCounter,
    Rejection,
    decode,
    encode,
    kind,
    wire_size,
)
from qstack.proto.qstack.v1 import envelope_pb2, link_pb2, network_pb2

BODY_FIELDS = Envelope.DESCRIPTOR.oneofs_by_name["body"].fields


def test_every_envelope_body_has_a_validator_and_a_strategy():
    body_names = {f.message_type.full_name for f in BODY_FIELDS}
    assert {cls.DESCRIPTOR.full_name for cls in VALIDATORS} == body_names
    assert {cls.DESCRIPTOR.full_name for cls in BY_TYPE} == body_names


def test_envelope_field_numbers_follow_the_layer_plan():
    """Body field numbers by layer: link 10–19, network 20–29, transport 30–39, apps 40–59."""
    assert {f.number for f in BODY_FIELDS} == set(range(10, 16)) | set(range(20, 28)) | {30, 40}


@pytest.mark.parametrize("cls", list(BY_TYPE), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_round_trip(cls, data):
    message = data.draw(BY_TYPE[cls])
    wire = encode(message)
    assert isinstance(wire, bytes) and len(wire) > 0
    back = decode(wire)
    assert type(back) is cls
    assert back == message
    assert encode(back) == wire


@given(messages=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), any_body), max_size=20))
def test_counter_counts_messages_and_wire_bytes(messages):
    sender, receiver = MessageCounter(), MessageCounter()
    total = 0
    for channel, message in messages:
        wire = sender.encode(channel, message)
        total += len(wire)
        assert receiver.decode(channel, wire) == message
    assert sender.total_bytes_sent == receiver.total_bytes_received == total
    assert sum(sender.messages_sent.values()) == sum(receiver.messages_received.values()) == len(messages)
    assert sender.messages_sent == receiver.messages_received
    assert all(size > 0 for size in sender.bytes_sent.values())
    assert receiver.total_rejected == 0


def test_counter_counts_rejections_by_channel_and_reason():
    counter = MessageCounter()
    for data in (b"", b"\xff", b"\x08\x02", "not bytes"):
        with pytest.raises(MalformedMessage):
            counter.decode("A", data)
    assert counter.rejected == {
        ("A", Rejection.NO_BODY): 1,
        ("A", Rejection.UNPARSEABLE): 1,
        ("A", Rejection.BAD_VERSION): 1,
        ("A", Rejection.NOT_BYTES): 1,
    }
    assert counter.total_rejected == 4 and counter.total_bytes_received == 0


def test_kind_names_the_envelope_field():
    assert [kind(cls()) for cls in BY_TYPE] == [f.name for f in BODY_FIELDS]
    with pytest.raises(TypeError):
        kind(LinkPairId())
    with pytest.raises(TypeError):
        encode(Envelope(version=1))
    with pytest.raises(TypeError):
        encode(b"raw bytes")


def test_wire_format_is_version_one_envelope():
    wire = encode(Herald(pair=LinkPairId(link="A-B", seq=1), bell_index=2, attempts=5, emission_time=0.5))
    envelope = Envelope.FromString(wire)
    assert envelope.version == 1 and envelope.WhichOneof("body") == "herald"


def test_generated_modules_import_under_the_package_and_pickle():
    assert link_pb2.__name__ == "qstack.proto.qstack.v1.link_pb2"
    for module in (link_pb2, network_pb2, envelope_pb2):
        assert module.DESCRIPTOR.name.startswith("qstack/v1/")
    assert Herald.__module__ == "qstack.proto.qstack.v1.link_pb2"
    herald = Herald(pair=LinkPairId(link="A-B", seq=3), bell_index=1, attempts=2)
    assert pickle.loads(pickle.dumps(herald)) == herald
    err = MalformedMessage(Rejection.NO_BODY, "x")
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.reason, str(again)) == (MalformedMessage, Rejection.NO_BODY, "x")


@given(any_body)
def test_encode_writes_exactly_the_envelope_protobuf_would(message):
    envelope = Envelope(version=1)
    getattr(envelope, kind(message)).CopyFrom(message)
    assert encode(message) == envelope.SerializeToString()


def test_long_bodies_use_multi_byte_lengths():
    from qstack.proto import PathSetup

    route = [f"node-{i:04d}" for i in range(100)]
    message = PathSetup(flow_id=1, source=route[0], destination=route[-1], route=route, swapping="asap")
    wire = encode(message)
    assert len(wire) > 1000
    assert decode(wire) == message
    envelope = Envelope(version=1, path_setup=message)
    assert wire == envelope.SerializeToString()


@given(any_body)
def test_wire_size_is_the_length_of_the_encoded_envelope(message):
    """What the simulation's objects wire counts per message is exactly what encoding writes."""
    assert wire_size(message) == len(encode(message))


def test_wire_size_refuses_a_message_that_is_not_an_envelope_body():
    with pytest.raises(TypeError, match="LinkPairId is not a qstack Envelope body"):
        wire_size(LinkPairId(link="a-b", seq=1))
