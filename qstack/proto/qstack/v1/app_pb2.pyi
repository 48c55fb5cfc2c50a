from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TeleportRecord(_message.Message):
    __slots__ = ("session", "from_role", "to_role", "transfer_id", "outcome")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    FROM_ROLE_FIELD_NUMBER: _ClassVar[int]
    TO_ROLE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    session: int
    from_role: str
    to_role: str
    transfer_id: int
    outcome: int
    def __init__(self, session: _Optional[int] = ..., from_role: _Optional[str] = ..., to_role: _Optional[str] = ..., transfer_id: _Optional[int] = ..., outcome: _Optional[int] = ...) -> None: ...

class AppMessage(_message.Message):
    __slots__ = ("session", "from_role", "to_role", "payload")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    FROM_ROLE_FIELD_NUMBER: _ClassVar[int]
    TO_ROLE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    session: int
    from_role: str
    to_role: str
    payload: bytes
    def __init__(self, session: _Optional[int] = ..., from_role: _Optional[str] = ..., to_role: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class EprPurpose(_message.Message):
    __slots__ = ("session", "creator_role", "receiver_role", "measure", "basis", "creator_bases", "receiver_bases", "creator_at_once", "number")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_ROLE_FIELD_NUMBER: _ClassVar[int]
    MEASURE_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    CREATOR_BASES_FIELD_NUMBER: _ClassVar[int]
    RECEIVER_BASES_FIELD_NUMBER: _ClassVar[int]
    CREATOR_AT_ONCE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    session: int
    creator_role: str
    receiver_role: str
    measure: bool
    basis: str
    creator_bases: _containers.RepeatedScalarFieldContainer[str]
    receiver_bases: _containers.RepeatedScalarFieldContainer[str]
    creator_at_once: bool
    number: int
    def __init__(self, session: _Optional[int] = ..., creator_role: _Optional[str] = ..., receiver_role: _Optional[str] = ..., measure: _Optional[bool] = ..., basis: _Optional[str] = ..., creator_bases: _Optional[_Iterable[str]] = ..., receiver_bases: _Optional[_Iterable[str]] = ..., creator_at_once: _Optional[bool] = ..., number: _Optional[int] = ...) -> None: ...
