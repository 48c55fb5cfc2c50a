from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Datagram(_message.Message):
    __slots__ = ("src", "envelope", "state_request", "state_grant", "state_return", "station_call", "pair_notice", "refusal")
    SRC_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    STATE_GRANT_FIELD_NUMBER: _ClassVar[int]
    STATE_RETURN_FIELD_NUMBER: _ClassVar[int]
    STATION_CALL_FIELD_NUMBER: _ClassVar[int]
    PAIR_NOTICE_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    src: str
    envelope: bytes
    state_request: StateRequest
    state_grant: StateLease
    state_return: StateLease
    station_call: StationCall
    pair_notice: PairNotice
    refusal: Refusal
    def __init__(self, src: _Optional[str] = ..., envelope: _Optional[bytes] = ..., state_request: _Optional[_Union[StateRequest, _Mapping]] = ..., state_grant: _Optional[_Union[StateLease, _Mapping]] = ..., state_return: _Optional[_Union[StateLease, _Mapping]] = ..., station_call: _Optional[_Union[StationCall, _Mapping]] = ..., pair_notice: _Optional[_Union[PairNotice, _Mapping]] = ..., refusal: _Optional[_Union[Refusal, _Mapping]] = ...) -> None: ...

class StateRequest(_message.Message):
    __slots__ = ("lease",)
    LEASE_FIELD_NUMBER: _ClassVar[int]
    lease: int
    def __init__(self, lease: _Optional[int] = ...) -> None: ...

class StateLease(_message.Message):
    __slots__ = ("lease", "groups", "dead")
    LEASE_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    DEAD_FIELD_NUMBER: _ClassVar[int]
    lease: int
    groups: _containers.RepeatedCompositeFieldContainer[QubitGroup]
    dead: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, lease: _Optional[int] = ..., groups: _Optional[_Iterable[_Union[QubitGroup, _Mapping]]] = ..., dead: _Optional[_Iterable[str]] = ...) -> None: ...

class QubitGroup(_message.Message):
    __slots__ = ("qubits", "dm")
    QUBITS_FIELD_NUMBER: _ClassVar[int]
    DM_FIELD_NUMBER: _ClassVar[int]
    qubits: _containers.RepeatedScalarFieldContainer[str]
    dm: bytes
    def __init__(self, qubits: _Optional[_Iterable[str]] = ..., dm: _Optional[bytes] = ...) -> None: ...

class StationCall(_message.Message):
    __slots__ = ("link", "end", "index", "request_id", "min_fidelity", "withdraw")
    LINK_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    WITHDRAW_FIELD_NUMBER: _ClassVar[int]
    link: str
    end: int
    index: int
    request_id: int
    min_fidelity: float
    withdraw: bool
    def __init__(self, link: _Optional[str] = ..., end: _Optional[int] = ..., index: _Optional[int] = ..., request_id: _Optional[int] = ..., min_fidelity: _Optional[float] = ..., withdraw: _Optional[bool] = ...) -> None: ...

class PairNotice(_message.Message):
    __slots__ = ("link", "seq", "qubit", "index")
    LINK_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    QUBIT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    link: str
    seq: int
    qubit: str
    index: int
    def __init__(self, link: _Optional[str] = ..., seq: _Optional[int] = ..., qubit: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class Refusal(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...
