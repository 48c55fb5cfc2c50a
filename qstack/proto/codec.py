"""Encoding, decoding and validation of qstack's classical messages.

Every message travels in one ``qstack.v1.Envelope`` (``protos/qstack/v1/envelope.proto``): a wire
version and a oneof body. :func:`encode` wraps a body and serialises it; :func:`decode` parses bytes
from the network and returns the body, or raises :class:`MalformedMessage` -- never another exception
type -- with a :class:`Rejection` reason a counter can tally.

Field constraints (fidelities in [0, 1], times finite and >= 0, Bell indices 0..3, enum values
the schema defines, node names present, simple routes, policy names a registry knows —
:meth:`qstack.registry.Registry.known` —, structured policy specs within their documented ranges)
are checked by one validator per message type, kept in the table
:data:`VALIDATORS` as h11 keeps its state machine in one table (``h11/_state.py``); a message
that breaks them is a protocol violation and is refused before any layer sees it. The message
semantics follow Dahlberg et al., SIGCOMM 2019 (link layer) and Kozlowski et al., CoNEXT 2020
(network layer).

>>> from qstack.proto import Herald, LinkPairId, decode, encode
>>> data = encode(Herald(pair=LinkPairId(link="A-B", seq=7), bell_index=1, attempts=12, emission_time=1e-3))
>>> decode(data).pair.seq
7
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NoReturn, TypeAlias

from google.protobuf.message import Message

from qstack.proto.qstack.v1.app_pb2 import AppMessage, TeleportRecord
from qstack.proto.qstack.v1.envelope_pb2 import Envelope
from qstack.proto.qstack.v1.link_pb2 import (
    Basis,
    CreateAck,
    CreateErr,
    CreateOk,
    CreateRequest,
    Expire,
    Herald,
    LinkError,
    RequestType,
)
from qstack.proto.qstack.v1.network_pb2 import (
    EndToEndConfirm,
    ExpireNotice,
    PathSetup,
    PathSetupAck,
    PathTeardown,
    PurificationScope,
    PurifyOutcome,
    SwapRecord,
    Track,
)

__all__ = [
    "Body",
    "MalformedMessage",
    "Rejection",
    "SUPPORTED_VERSIONS",
    "VALIDATORS",
    "WIRE_VERSION",
    "decode",
    "encode",
    "kind",
    "validate",
    "wire_size",
]

#: Any message that can be the body of an Envelope.
Body: TypeAlias = (
    CreateRequest | CreateAck | CreateOk | CreateErr | Herald | Expire
    | PathSetup | PathSetupAck | PathTeardown | Track | EndToEndConfirm | SwapRecord | PurifyOutcome | ExpireNotice
)

#: Wire version this side writes.
WIRE_VERSION = 1
#: Wire versions this side reads.
SUPPORTED_VERSIONS = frozenset({WIRE_VERSION})

_BODY_FIELDS = Envelope.DESCRIPTOR.oneofs_by_name["body"].fields
#: Envelope oneof field name by body message full name, e.g. ``"qstack.v1.Herald" -> "herald"``.
_BODY_FIELD: dict[str, str] = {field.message_type.full_name: field.name for field in _BODY_FIELDS}


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint encoding of a non-negative int."""
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


#: Serialised Envelope up to a body's length: ``version`` (field 1, varint) then the body field's
#: tag (wire type 2, length-delimited), by body message full name. See :func:`encode`.
_ENVELOPE_PREFIX: dict[str, bytes] = {
    field.message_type.full_name: b"\x08" + _varint(WIRE_VERSION) + _varint(field.number << 3 | 2)
    for field in _BODY_FIELDS
}


class Rejection(StrEnum):
    """Why received bytes were refused; the ``reason`` of a :class:`MalformedMessage`.

    >>> Rejection.UNPARSEABLE == "unparseable"
    True
    """

    #: The input is not bytes.
    NOT_BYTES = "not_bytes"
    #: The bytes are not a protobuf Envelope.
    UNPARSEABLE = "unparseable"
    #: The envelope carries no body (empty input, or a body kind this version does not know).
    NO_BODY = "no_body"
    #: The envelope's wire version is not one this side reads.
    BAD_VERSION = "bad_version"
    #: The body breaks a field constraint (a protocol violation).
    INVALID_FIELD = "invalid_field"


class MalformedMessage(ValueError):
    """Received bytes, or a message, that qstack refuses; ``reason`` says which check failed.

    >>> err = MalformedMessage(Rejection.NO_BODY, "envelope has no body")
    >>> err.reason, str(err)
    (<Rejection.NO_BODY: 'no_body'>, 'envelope has no body')
    >>> isinstance(err, ValueError)
    True
    """

    def __init__(self, reason: Rejection, detail: str) -> None:
        super().__init__(detail)
        self.reason = Rejection(reason)
        self.detail = detail

    def __reduce__(self) -> tuple[type[MalformedMessage], tuple[Rejection, str]]:
        return type(self), (self.reason, self.detail)


# --------------------------------------------------------------------------------------------
# Field checks. Each raises MalformedMessage(INVALID_FIELD) naming the message and field.
# --------------------------------------------------------------------------------------------

_INF = math.inf


def _fail(message: Message, field: str, why: str) -> NoReturn:
    raise MalformedMessage(Rejection.INVALID_FIELD, f"{type(message).__name__}.{field} {why}")


def _fidelity(message: Message, field: str) -> None:
    value = getattr(message, field)
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        _fail(message, field, f"must be a fidelity in [0, 1], got {value!r}")


def _time(message: Message, field: str) -> None:
    value = getattr(message, field)
    if not 0.0 <= value < math.inf:  # also refuses NaN
        _fail(message, field, f"must be a time in seconds, finite and >= 0, got {value!r}")


def _bell_index(message: Message, field: str) -> None:
    value = getattr(message, field)
    if value > 3:
        _fail(message, field, f"must be a Bell index in 0..3 (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got {value}")


def _node(message: Message, field: str) -> None:
    if not getattr(message, field):
        _fail(message, field, "must name a node, got an empty string")


def _pair(message: Message, field: str) -> None:
    if not message.HasField(field):
        _fail(message, field, "is missing (a LinkPairId is required)")
    if not getattr(message, field).link:
        _fail(message, f"{field}.link", "must name a link, got an empty string")


def _distinct_pairs(message: Message, first: str, second: str) -> None:
    if getattr(message, first) == getattr(message, second):
        _fail(message, second, f"must differ from {first}: a pair cannot be used twice")


def _enum(message: Message, field: str, enum: Any) -> None:
    value = getattr(message, field)
    if value not in enum.values():
        _fail(message, field, f"must be a {enum.DESCRIPTOR.name} ({', '.join(enum.keys())}), got {value}")


#: the module whose import registers the network policies (imported on the first check of a
#: policy name in a process that has not loaded the network layer yet)
_POLICY_MODULE = "qstack.network.policies"


def _plugin(message: Message, field: str, name: str, kind: str) -> None:
    """``name`` must name a plug-in of registry ``kind`` (:meth:`qstack.registry.Registry.known`)."""
    from qstack.registry import REGISTRIES

    registry = REGISTRIES.get(kind)
    if registry is None:
        import importlib

        importlib.import_module(_POLICY_MODULE)
        registry = REGISTRIES[kind]
    if not name:
        _fail(message, field, f"must name a {registry.what}, got an empty string")
    if not registry.known(name):
        _fail(message, field, f"must name a registered {registry.what}, got {name[:64]!r}")


def _finite(message: Message, field: str, value: float, low: float, why: str) -> None:
    if not low <= value < math.inf:  # also refuses NaN
        _fail(message, field, f"{why}, got {value!r}")


# --------------------------------------------------------------------------------------------
# One validator per message type.
# --------------------------------------------------------------------------------------------

def _validate_create_request(m: CreateRequest) -> None:
    _node(m, "origin")
    _node(m, "remote_node")
    if m.origin == m.remote_node:
        _fail(m, "remote_node", f"must differ from origin {m.origin!r}: a link joins two nodes")
    _enum(m, "type", RequestType)
    if m.number < 1:
        _fail(m, "number", "must be >= 1 pair")
    _fidelity(m, "min_fidelity")
    _time(m, "max_time")
    _enum(m, "basis", Basis)


def _validate_create_ack(m: CreateAck) -> None:
    _enum(m, "error", LinkError)
    if m.accepted and m.error != LinkError.LINK_ERROR_UNSPECIFIED:
        _fail(m, "error", f"must be LINK_ERROR_UNSPECIFIED when accepted, got {LinkError.Name(m.error)}")
    if not m.accepted and m.error == LinkError.LINK_ERROR_UNSPECIFIED:
        _fail(m, "error", "must give a reason when the request is not accepted")


def _validate_create_ok(m: CreateOk) -> None:
    _pair(m, "pair")
    _bell_index(m, "bell_index")
    _fidelity(m, "goodness")
    _time(m, "creation_time")
    if m.outcome > 1:
        _fail(m, "outcome", f"must be a one-qubit measurement outcome 0 or 1, got {m.outcome}")
    _enum(m, "basis", Basis)


def _validate_create_err(m: CreateErr) -> None:
    _enum(m, "error", LinkError)
    if m.error == LinkError.LINK_ERROR_UNSPECIFIED:
        _fail(m, "error", "must say what failed, got LINK_ERROR_UNSPECIFIED")


def _validate_herald(m: Herald) -> None:
    if m.HasField("pair") and m.pair.link and m.bell_index <= 3 and m.attempts >= 1 and 0.0 <= m.emission_time < _INF:
        return  # the common, valid case, checked in one expression; the checks below explain
    _pair(m, "pair")
    _bell_index(m, "bell_index")
    if m.attempts < 1:
        _fail(m, "attempts", "must be >= 1: a herald reports a successful attempt")
    _time(m, "emission_time")


def _validate_expire(m: Expire) -> None:
    _pair(m, "pair")


def _validate_path_setup(m: PathSetup) -> None:
    _node(m, "source")
    _node(m, "destination")
    route = list(m.route)
    if len(route) < 2:
        _fail(m, "route", f"must list at least 2 nodes, got {route}")
    if not all(route):
        _fail(m, "route", f"must not contain empty node names, got {route}")
    if len(set(route)) != len(route):
        _fail(m, "route", f"must not visit a node twice, got {route}")
    if route[0] != m.source or route[-1] != m.destination:
        _fail(m, "route", f"must run from source {m.source!r} to destination {m.destination!r}, got {route}")
    _fidelity(m, "min_fidelity")
    _fidelity(m, "link_min_fidelity")
    _fidelity(m, "fidelity_floor")
    _time(m, "deadline")
    _enum(m, "type", RequestType)
    _enum(m, "basis", Basis)
    _plugin(m, "swapping", m.swapping, "swapping")
    if m.HasField("purification"):
        p = m.purification
        _plugin(m, "purification.policy", p.policy, "purification")
        if p.scope not in PurificationScope.values():
            _fail(m, "purification.scope", f"must be a PurificationScope "
                                           f"({', '.join(PurificationScope.keys())}), got {p.scope}")
        if not 0.5 < p.target_fidelity <= 1.0:  # also refuses NaN
            _fail(m, "purification.target_fidelity", f"must be a fidelity in (0.5, 1], got {p.target_fidelity!r}")
        if p.max_rounds < 1:
            _fail(m, "purification.max_rounds", f"must be >= 1 round, got {p.max_rounds}")
    if m.HasField("cutoff"):
        c = m.cutoff
        _plugin(m, "cutoff.policy", c.policy, "cutoff")
        _finite(m, "cutoff.time", c.time, 0.0, "must be a time in seconds, finite and >= 0")
        _finite(m, "cutoff.max_time", c.max_time, 0.0, "must be a time in seconds, finite and >= 0")
        if not 0.0 <= c.min_fidelity <= 1.0:
            _fail(m, "cutoff.min_fidelity", f"must be a fidelity in [0, 1], got {c.min_fidelity!r}")


def _validate_path_setup_ack(m: PathSetupAck) -> None:
    if not m.accepted and not m.reason:
        _fail(m, "reason", "must say why the flow was refused")
    if m.accepted and m.reason:
        _fail(m, "reason", "must be empty when the flow is accepted")


def _validate_path_teardown(m: PathTeardown) -> None:
    pass  # any flow id and reason


def _validate_track(m: Track) -> None:
    if (m.HasField("head_pair") and m.head_pair.link and m.HasField("via_pair") and m.via_pair.link
            and m.frame <= 3 and 0.0 <= m.created < _INF and not m.decay):
        return
    _pair(m, "head_pair")
    _pair(m, "via_pair")
    _bell_index(m, "frame")
    _time(m, "created")
    _decay(m, "Track")


def _decay(m: Any, kind: str) -> None:
    decay = m.decay
    if decay and (len(decay) != 3 or not all(-1.0 <= x <= 1.0 for x in decay)):
        raise MalformedMessage(Rejection.INVALID_FIELD, f"{kind}.decay must be empty or 3 numbers in [-1, 1] "
                                                        f"(a PTM diagonal), got {list(decay)}")


def _validate_end_to_end_confirm(m: EndToEndConfirm) -> None:
    if m.HasField("head_pair") and m.head_pair.link and m.HasField("tail_pair") and m.tail_pair.link and m.frame <= 3:
        return
    _pair(m, "head_pair")
    _pair(m, "tail_pair")
    _bell_index(m, "frame")


def _validate_swap_record(m: SwapRecord) -> None:
    _pair(m, "left")
    _pair(m, "right")
    _distinct_pairs(m, "left", "right")
    _bell_index(m, "outcome")
    _time(m, "created")
    _decay(m, "SwapRecord")


def _validate_purify_outcome(m: PurifyOutcome) -> None:
    _pair(m, "keep")
    _pair(m, "sacrifice")
    _distinct_pairs(m, "keep", "sacrifice")
    _bell_index(m, "outcome")
    _plugin(m, "protocol", m.protocol, "purification")


def _validate_expire_notice(m: ExpireNotice) -> None:
    _pair(m, "pair")


def _validate_teleport_record(m: TeleportRecord) -> None:
    _node(m, "from_role")
    _node(m, "to_role")
    _bell_index(m, "outcome")
    if m.transfer_id < 1:
        _fail(m, "transfer_id", f"must be >= 1, got {m.transfer_id}")


def _validate_app_message(m: AppMessage) -> None:
    _node(m, "from_role")
    _node(m, "to_role")


#: The validation table: body message type -> validator (raises MalformedMessage or returns None).
#: Every Envelope body type has an entry (checked by the tests).
VALIDATORS: Mapping[type[Message], Callable[[Any], None]] = MappingProxyType({
    # link layer (Dahlberg et al. 2019)
    CreateRequest: _validate_create_request,
    CreateAck: _validate_create_ack,
    CreateOk: _validate_create_ok,
    CreateErr: _validate_create_err,
    Herald: _validate_herald,
    Expire: _validate_expire,
    # network layer (Kozlowski et al. 2020)
    PathSetup: _validate_path_setup,
    PathSetupAck: _validate_path_setup_ack,
    PathTeardown: _validate_path_teardown,
    Track: _validate_track,
    EndToEndConfirm: _validate_end_to_end_confirm,
    SwapRecord: _validate_swap_record,
    PurifyOutcome: _validate_purify_outcome,
    ExpireNotice: _validate_expire_notice,
    # transport layer and applications
    TeleportRecord: _validate_teleport_record,
    AppMessage: _validate_app_message,
})

#: The envelope prefixes written by :func:`encode`, to their body class (decode's fast path).
_PREFIX_CLASS: dict[bytes, type[Message]] = {
    _ENVELOPE_PREFIX[cls.DESCRIPTOR.full_name]: cls for cls in VALIDATORS
}
#: The same keyed by a message's first four bytes (a 4-byte prefix, or a 3-byte one and any
#: length byte), to ``(class, prefix length)``: one lookup per message.
_PREFIX4_CLASS: dict[bytes, tuple[type[Message], int]] = {}
for _prefix, _cls in _PREFIX_CLASS.items():
    if len(_prefix) == 4:
        _PREFIX4_CLASS[_prefix] = (_cls, 4)
    else:
        for _b in range(0x80):
            _PREFIX4_CLASS.setdefault(_prefix + bytes((_b,)), (_cls, len(_prefix)))


#: body class -> (length of its envelope prefix, its validator), for :func:`wire_size`.
_CLASS_PREFIX: dict[type[Message], tuple[int, Callable[[Any], None]]] = {
    cls: (len(_ENVELOPE_PREFIX[cls.DESCRIPTOR.full_name]), check) for cls, check in VALIDATORS.items()
}


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def kind(message: Body) -> str:
    """The Envelope field name of a body message, e.g. ``"herald"``; raises TypeError for non-bodies.

    >>> from qstack.proto import Track
    >>> kind(Track())
    'track'
    """
    try:
        return _BODY_FIELD[message.DESCRIPTOR.full_name]
    except (AttributeError, KeyError):
        raise TypeError(f"{type(message).__name__} is not a qstack Envelope body") from None


def validate(message: Body) -> None:
    """Check a body message's field constraints; raise :class:`MalformedMessage` if it breaks one.

    >>> from qstack.proto import CreateRequest
    >>> validate(CreateRequest(origin="A", remote_node="B", number=1, min_fidelity=0.9))
    >>> validate(CreateRequest(origin="A", remote_node="B", number=0))
    Traceback (most recent call last):
      ...
    qstack.proto.codec.MalformedMessage: CreateRequest.number must be >= 1 pair
    """
    validator = VALIDATORS.get(type(message))
    if validator is None:
        raise TypeError(f"{type(message).__name__} is not a qstack Envelope body")
    validator(message)


def encode(message: Body, *, check: bool = True) -> bytes:
    """Wrap a body message in an Envelope (``version=1``) and serialise it.

    The message is validated first (unless ``check=False``, for senders whose messages the tests
    prove valid — receivers validate every message anyway), so a protocol violation fails at its
    sender with :class:`MalformedMessage`; a message that is not an Envelope body raises
    ``TypeError``.

    The bytes are those of ``Envelope(version=1, <kind>=message).SerializeToString()`` (the tests
    check this for every body type), written as the envelope's fixed prefix, the body's length and
    the body, which saves building and copying into an Envelope (about half the cost of encoding).

    >>> from qstack.proto import PathTeardown
    >>> encode(PathTeardown(flow_id=3, reason="done"))
    b'\\x08\\x01\\xb2\\x01\\x08\\x08\\x03\\x12\\x04done'
    """
    try:
        prefix = _ENVELOPE_PREFIX[message.DESCRIPTOR.full_name]
    except (AttributeError, KeyError):
        raise TypeError(f"{type(message).__name__} is not a qstack Envelope body") from None
    if check:
        validate(message)
    body = message.SerializeToString()
    size = len(body)
    return prefix + (bytes((size,)) if size < 0x80 else _varint(size)) + body


def wire_size(message: Body, *, check: bool = True) -> int:
    """``len(encode(message))`` without serialising: the bytes the message takes on the wire.

    The simulation runtime passes validated message objects between nodes instead of bytes
    (``wire="objects"``) and counts this size, so byte counts agree with the serialising mode.
    With ``check=True`` (default) the message is validated first, as :func:`encode` does.

    >>> from qstack.proto import PathTeardown
    >>> m = PathTeardown(flow_id=3, reason="done")
    >>> wire_size(m) == len(encode(m)) == 13
    True
    """
    found = _CLASS_PREFIX.get(message.__class__)
    if found is None:
        raise TypeError(f"{type(message).__name__} is not a qstack Envelope body")
    prefix_len, validator = found
    if check:
        validator(message)
    size = message.ByteSize()
    return prefix_len + (1 if size < 0x80 else len(_varint(size))) + size


def decode(data: bytes) -> Body:
    """Parse an Envelope from bytes and return its validated body message.

    Raises :class:`MalformedMessage` (and no other exception) when ``data`` is not bytes, does not
    parse, has no body, has an unknown wire version, or breaks a field constraint; its ``reason``
    is the :class:`Rejection`.

    >>> from qstack.proto import PathTeardown
    >>> decode(encode(PathTeardown(flow_id=3, reason="done"))).reason
    'done'
    >>> for data in (b"\\xff\\xff", b"", "text"):
    ...     try:
    ...         decode(data)
    ...     except MalformedMessage as err:
    ...         print(err.reason)
    unparseable
    no_body
    not_bytes
    """
    if data.__class__ is bytes:
        # Fast path for what encode() writes: version, one body tag, a one-byte length, the
        # body and nothing else — parse the body directly instead of building an Envelope (the
        # same message, and the same errors through the general path below when it fails).
        size = len(data)
        found = _PREFIX4_CLASS.get(data[:4])  # the prefix (3 or 4 bytes) and the length byte
        if found is not None:
            cls, cut = found
            if size > cut and size == cut + 1 + data[cut] and data[cut] < 0x80:
                try:
                    body = cls.FromString(data[cut + 1:])
                except Exception:  # noqa: BLE001 -- reported by the general path
                    body = None
                if body is not None:
                    VALIDATORS[cls](body)
                    return body
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedMessage(Rejection.NOT_BYTES, f"expected bytes, got {type(data).__name__}")
    if not data:
        raise MalformedMessage(Rejection.NO_BODY, "empty input: no envelope")
    try:
        envelope = Envelope.FromString(data)
    except Exception as exc:  # noqa: BLE001 -- untrusted input: any parser failure means "does not parse"
        raise MalformedMessage(Rejection.UNPARSEABLE, f"not a qstack Envelope ({len(data)} bytes): {exc}") from exc
    if envelope.version not in SUPPORTED_VERSIONS:
        raise MalformedMessage(
            Rejection.BAD_VERSION,
            f"unknown wire version {envelope.version}; this side reads {sorted(SUPPORTED_VERSIONS)}",
        )
    field = envelope.WhichOneof("body")
    if field is None:
        raise MalformedMessage(Rejection.NO_BODY, "envelope has no body (or one this version does not know)")
    body = getattr(envelope, field)
    VALIDATORS[type(body)](body)
    return body
