from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RequestType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREATE_KEEP: _ClassVar[RequestType]
    CREATE_MEASURE: _ClassVar[RequestType]

class LinkError(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINK_ERROR_UNSPECIFIED: _ClassVar[LinkError]
    UNSUPPORTED: _ClassVar[LinkError]
    NO_TIME: _ClassVar[LinkError]
    NO_RESOURCES: _ClassVar[LinkError]
    TIMEOUT: _ClassVar[LinkError]
    REJECTED: _ClassVar[LinkError]
    EXPIRED: _ClassVar[LinkError]

class Basis(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Z: _ClassVar[Basis]
    X: _ClassVar[Basis]
    Y: _ClassVar[Basis]
CREATE_KEEP: RequestType
CREATE_MEASURE: RequestType
LINK_ERROR_UNSPECIFIED: LinkError
UNSUPPORTED: LinkError
NO_TIME: LinkError
NO_RESOURCES: LinkError
TIMEOUT: LinkError
REJECTED: LinkError
EXPIRED: LinkError
Z: Basis
X: Basis
Y: Basis

class LinkPairId(_message.Message):
    __slots__ = ("link", "seq")
    LINK_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    link: str
    seq: int
    def __init__(self, link: _Optional[str] = ..., seq: _Optional[int] = ...) -> None: ...

class CreateRequest(_message.Message):
    __slots__ = ("request_id", "origin", "remote_node", "type", "number", "min_fidelity", "max_time", "purpose_id", "priority", "basis")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    REMOTE_NODE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    MIN_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    MAX_TIME_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    origin: str
    remote_node: str
    type: RequestType
    number: int
    min_fidelity: float
    max_time: float
    purpose_id: int
    priority: int
    basis: Basis
    def __init__(self, request_id: _Optional[int] = ..., origin: _Optional[str] = ..., remote_node: _Optional[str] = ..., type: _Optional[_Union[RequestType, str]] = ..., number: _Optional[int] = ..., min_fidelity: _Optional[float] = ..., max_time: _Optional[float] = ..., purpose_id: _Optional[int] = ..., priority: _Optional[int] = ..., basis: _Optional[_Union[Basis, str]] = ...) -> None: ...

class CreateAck(_message.Message):
    __slots__ = ("request_id", "accepted", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    accepted: bool
    error: LinkError
    def __init__(self, request_id: _Optional[int] = ..., accepted: _Optional[bool] = ..., error: _Optional[_Union[LinkError, str]] = ...) -> None: ...

class CreateOk(_message.Message):
    __slots__ = ("request_id", "pair", "bell_index", "goodness", "creation_time", "outcome", "basis")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAIR_FIELD_NUMBER: _ClassVar[int]
    BELL_INDEX_FIELD_NUMBER: _ClassVar[int]
    GOODNESS_FIELD_NUMBER: _ClassVar[int]
    CREATION_TIME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    pair: LinkPairId
    bell_index: int
    goodness: float
    creation_time: float
    outcome: int
    basis: Basis
    def __init__(self, request_id: _Optional[int] = ..., pair: _Optional[_Union[LinkPairId, _Mapping]] = ..., bell_index: _Optional[int] = ..., goodness: _Optional[float] = ..., creation_time: _Optional[float] = ..., outcome: _Optional[int] = ..., basis: _Optional[_Union[Basis, str]] = ...) -> None: ...

class CreateErr(_message.Message):
    __slots__ = ("request_id", "error", "detail", "origin")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    error: LinkError
    detail: str
    origin: str
    def __init__(self, request_id: _Optional[int] = ..., error: _Optional[_Union[LinkError, str]] = ..., detail: _Optional[str] = ..., origin: _Optional[str] = ...) -> None: ...

class Herald(_message.Message):
    __slots__ = ("pair", "bell_index", "attempts", "emission_time", "request_id")
    PAIR_FIELD_NUMBER: _ClassVar[int]
    BELL_INDEX_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    EMISSION_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    pair: LinkPairId
    bell_index: int
    attempts: int
    emission_time: float
    request_id: int
    def __init__(self, pair: _Optional[_Union[LinkPairId, _Mapping]] = ..., bell_index: _Optional[int] = ..., attempts: _Optional[int] = ..., emission_time: _Optional[float] = ..., request_id: _Optional[int] = ...) -> None: ...

class Expire(_message.Message):
    __slots__ = ("pair", "reason")
    PAIR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    pair: LinkPairId
    reason: str
    def __init__(self, pair: _Optional[_Union[LinkPairId, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
