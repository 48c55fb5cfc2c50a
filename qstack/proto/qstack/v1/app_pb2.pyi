from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
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
