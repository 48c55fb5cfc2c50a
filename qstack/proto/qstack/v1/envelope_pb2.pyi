from . import app_pb2 as _app_pb2
from . import link_pb2 as _link_pb2
from . import network_pb2 as _network_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("version", "create_request", "create_ack", "create_ok", "create_err", "herald", "expire", "path_setup", "path_setup_ack", "path_teardown", "track", "end_to_end_confirm", "swap_record", "purify_outcome", "expire_notice", "teleport_record", "app_message")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    CREATE_ACK_FIELD_NUMBER: _ClassVar[int]
    CREATE_OK_FIELD_NUMBER: _ClassVar[int]
    CREATE_ERR_FIELD_NUMBER: _ClassVar[int]
    HERALD_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_FIELD_NUMBER: _ClassVar[int]
    PATH_SETUP_FIELD_NUMBER: _ClassVar[int]
    PATH_SETUP_ACK_FIELD_NUMBER: _ClassVar[int]
    PATH_TEARDOWN_FIELD_NUMBER: _ClassVar[int]
    TRACK_FIELD_NUMBER: _ClassVar[int]
    END_TO_END_CONFIRM_FIELD_NUMBER: _ClassVar[int]
    SWAP_RECORD_FIELD_NUMBER: _ClassVar[int]
    PURIFY_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_NOTICE_FIELD_NUMBER: _ClassVar[int]
    TELEPORT_RECORD_FIELD_NUMBER: _ClassVar[int]
    APP_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    version: int
    create_request: _link_pb2.CreateRequest
    create_ack: _link_pb2.CreateAck
    create_ok: _link_pb2.CreateOk
    create_err: _link_pb2.CreateErr
    herald: _link_pb2.Herald
    expire: _link_pb2.Expire
    path_setup: _network_pb2.PathSetup
    path_setup_ack: _network_pb2.PathSetupAck
    path_teardown: _network_pb2.PathTeardown
    track: _network_pb2.Track
    end_to_end_confirm: _network_pb2.EndToEndConfirm
    swap_record: _network_pb2.SwapRecord
    purify_outcome: _network_pb2.PurifyOutcome
    expire_notice: _network_pb2.ExpireNotice
    teleport_record: _app_pb2.TeleportRecord
    app_message: _app_pb2.AppMessage
    def __init__(self, version: _Optional[int] = ..., create_request: _Optional[_Union[_link_pb2.CreateRequest, _Mapping]] = ..., create_ack: _Optional[_Union[_link_pb2.CreateAck, _Mapping]] = ..., create_ok: _Optional[_Union[_link_pb2.CreateOk, _Mapping]] = ..., create_err: _Optional[_Union[_link_pb2.CreateErr, _Mapping]] = ..., herald: _Optional[_Union[_link_pb2.Herald, _Mapping]] = ..., expire: _Optional[_Union[_link_pb2.Expire, _Mapping]] = ..., path_setup: _Optional[_Union[_network_pb2.PathSetup, _Mapping]] = ..., path_setup_ack: _Optional[_Union[_network_pb2.PathSetupAck, _Mapping]] = ..., path_teardown: _Optional[_Union[_network_pb2.PathTeardown, _Mapping]] = ..., track: _Optional[_Union[_network_pb2.Track, _Mapping]] = ..., end_to_end_confirm: _Optional[_Union[_network_pb2.EndToEndConfirm, _Mapping]] = ..., swap_record: _Optional[_Union[_network_pb2.SwapRecord, _Mapping]] = ..., purify_outcome: _Optional[_Union[_network_pb2.PurifyOutcome, _Mapping]] = ..., expire_notice: _Optional[_Union[_network_pb2.ExpireNotice, _Mapping]] = ..., teleport_record: _Optional[_Union[_app_pb2.TeleportRecord, _Mapping]] = ..., app_message: _Optional[_Union[_app_pb2.AppMessage, _Mapping]] = ...) -> None: ...
