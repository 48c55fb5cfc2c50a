"""Bad input is refused with MalformedMessage -- never any other exception type."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from proto_strategies import any_body

from qstack.proto import VALIDATORS, Envelope, MalformedMessage, PathTeardown, Rejection, decode, encode


def decode_or_refuse(data):
    """decode() must return a valid body or raise MalformedMessage; anything else fails the test."""
    try:
        message = decode(data)
    except MalformedMessage as err:
        assert isinstance(err.reason, Rejection) and str(err)
        return err
    assert type(message) in VALIDATORS
    return message


@given(st.binary(max_size=200))
def test_random_bytes(data):
    assert decode_or_refuse(data) is not None


@given(any_body, st.data())
def test_every_truncation_of_a_valid_message_is_refused(message, data):
    wire = encode(message)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(MalformedMessage):
        decode(wire[:cut])


@given(any_body, st.data())
def test_corrupted_valid_messages(message, data):
    wire = bytearray(encode(message))
    index = data.draw(st.integers(0, len(wire) - 1))
    wire[index] ^= data.draw(st.integers(1, 255))
    assert decode_or_refuse(bytes(wire)) is not None


@given(any_body, st.binary(min_size=1, max_size=20))
def test_valid_message_with_trailing_garbage(message, junk):
    assert decode_or_refuse(encode(message) + junk) is not None


def test_empty_bytes():
    with pytest.raises(MalformedMessage) as info:
        decode(b"")
    assert info.value.reason is Rejection.NO_BODY


@pytest.mark.parametrize("data", ["text", None, 42, [1, 2], PathTeardown()])
def test_non_bytes(data):
    with pytest.raises(MalformedMessage) as info:
        decode(data)
    assert info.value.reason is Rejection.NOT_BYTES


def test_bytearray_and_memoryview_are_accepted():
    wire = encode(PathTeardown(flow_id=9))
    assert decode(bytearray(wire)).flow_id == decode(memoryview(wire)).flow_id == 9


@pytest.mark.parametrize("version", [0, 2, 2**32 - 1])
def test_unknown_version(version):
    envelope = Envelope(version=version, path_teardown=PathTeardown(flow_id=1))
    with pytest.raises(MalformedMessage) as info:
        decode(envelope.SerializeToString())
    assert info.value.reason is Rejection.BAD_VERSION


def test_envelope_without_body():
    with pytest.raises(MalformedMessage) as info:
        decode(Envelope(version=1).SerializeToString())
    assert info.value.reason is Rejection.NO_BODY


def test_body_from_a_future_version_in_a_free_field_is_no_body():
    # field 35 (transport range, not yet defined), wire type 2, length 0: unknown to this version
    data = Envelope(version=1).SerializeToString() + bytes([(35 << 3 | 2) & 0x7F | 0x80, (35 << 3 | 2) >> 7, 0])
    with pytest.raises(MalformedMessage) as info:
        decode(data)
    assert info.value.reason is Rejection.NO_BODY


def test_unparseable():
    with pytest.raises(MalformedMessage) as info:
        decode(b"\x08")  # truncated varint
    assert info.value.reason is Rejection.UNPARSEABLE
    assert isinstance(info.value.__cause__, Exception)
