from . import link_pb2 as _link_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PurificationScope(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PURIFY_LINK: _ClassVar[PurificationScope]
    PURIFY_END_TO_END: _ClassVar[PurificationScope]
PURIFY_LINK: PurificationScope
PURIFY_END_TO_END: PurificationScope

class PurificationSpec(_message.Message):
    __slots__ = ("policy", "scope", "target_fidelity", "max_rounds")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    policy: str
    scope: PurificationScope
    target_fidelity: float
    max_rounds: int
    def __init__(self, policy: _Optional[str] = ..., scope: _Optional[_Union[PurificationScope, str]] = ..., target_fidelity: _Optional[float] = ..., max_rounds: _Optional[int] = ...) -> None: ...

class CutoffSpec(_message.Message):
    __slots__ = ("policy", "time", "slots", "min_fidelity", "max_time")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    MIN_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    MAX_TIME_FIELD_NUMBER: _ClassVar[int]
    policy: str
    time: float
    slots: int
    min_fidelity: float
    max_time: float
    def __init__(self, policy: _Optional[str] = ..., time: _Optional[float] = ..., slots: _Optional[int] = ..., min_fidelity: _Optional[float] = ..., max_time: _Optional[float] = ...) -> None: ...

class PathSetup(_message.Message):
    __slots__ = ("flow_id", "source", "destination", "route", "min_fidelity", "link_min_fidelity", "num_pairs", "deadline", "swapping", "type", "basis", "fidelity_floor", "purpose", "priority", "purification", "cutoff")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    MIN_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    LINK_MIN_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    NUM_PAIRS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    SWAPPING_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    FIDELITY_FLOOR_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PURIFICATION_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    source: str
    destination: str
    route: _containers.RepeatedScalarFieldContainer[str]
    min_fidelity: float
    link_min_fidelity: float
    num_pairs: int
    deadline: float
    swapping: str
    type: _link_pb2.RequestType
    basis: _link_pb2.Basis
    fidelity_floor: float
    purpose: bytes
    priority: int
    purification: PurificationSpec
    cutoff: CutoffSpec
    def __init__(self, flow_id: _Optional[int] = ..., source: _Optional[str] = ..., destination: _Optional[str] = ..., route: _Optional[_Iterable[str]] = ..., min_fidelity: _Optional[float] = ..., link_min_fidelity: _Optional[float] = ..., num_pairs: _Optional[int] = ..., deadline: _Optional[float] = ..., swapping: _Optional[str] = ..., type: _Optional[_Union[_link_pb2.RequestType, str]] = ..., basis: _Optional[_Union[_link_pb2.Basis, str]] = ..., fidelity_floor: _Optional[float] = ..., purpose: _Optional[bytes] = ..., priority: _Optional[int] = ..., purification: _Optional[_Union[PurificationSpec, _Mapping]] = ..., cutoff: _Optional[_Union[CutoffSpec, _Mapping]] = ...) -> None: ...

class PathSetupAck(_message.Message):
    __slots__ = ("flow_id", "accepted", "reason")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    accepted: bool
    reason: str
    def __init__(self, flow_id: _Optional[int] = ..., accepted: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class PathTeardown(_message.Message):
    __slots__ = ("flow_id", "reason")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    reason: str
    def __init__(self, flow_id: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Track(_message.Message):
    __slots__ = ("flow_id", "head_pair", "via_pair", "frame", "swaps", "created", "decay")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    HEAD_PAIR_FIELD_NUMBER: _ClassVar[int]
    VIA_PAIR_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SWAPS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DECAY_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    head_pair: _link_pb2.LinkPairId
    via_pair: _link_pb2.LinkPairId
    frame: int
    swaps: int
    created: float
    decay: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, flow_id: _Optional[int] = ..., head_pair: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., via_pair: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., frame: _Optional[int] = ..., swaps: _Optional[int] = ..., created: _Optional[float] = ..., decay: _Optional[_Iterable[float]] = ...) -> None: ...

class EndToEndConfirm(_message.Message):
    __slots__ = ("flow_id", "head_pair", "tail_pair", "frame", "seq")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    HEAD_PAIR_FIELD_NUMBER: _ClassVar[int]
    TAIL_PAIR_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    head_pair: _link_pb2.LinkPairId
    tail_pair: _link_pb2.LinkPairId
    frame: int
    seq: int
    def __init__(self, flow_id: _Optional[int] = ..., head_pair: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., tail_pair: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., frame: _Optional[int] = ..., seq: _Optional[int] = ...) -> None: ...

class SwapRecord(_message.Message):
    __slots__ = ("flow_id", "left", "right", "outcome", "created", "decay")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    RIGHT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DECAY_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    left: _link_pb2.LinkPairId
    right: _link_pb2.LinkPairId
    outcome: int
    created: float
    decay: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, flow_id: _Optional[int] = ..., left: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., right: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., outcome: _Optional[int] = ..., created: _Optional[float] = ..., decay: _Optional[_Iterable[float]] = ...) -> None: ...

class PurifyOutcome(_message.Message):
    __slots__ = ("flow_id", "keep", "sacrifice", "round", "outcome", "protocol")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    SACRIFICE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    keep: _link_pb2.LinkPairId
    sacrifice: _link_pb2.LinkPairId
    round: int
    outcome: int
    protocol: str
    def __init__(self, flow_id: _Optional[int] = ..., keep: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., sacrifice: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., round: _Optional[int] = ..., outcome: _Optional[int] = ..., protocol: _Optional[str] = ...) -> None: ...

class ExpireNotice(_message.Message):
    __slots__ = ("flow_id", "pair", "reason")
    FLOW_ID_FIELD_NUMBER: _ClassVar[int]
    PAIR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    flow_id: int
    pair: _link_pb2.LinkPairId
    reason: str
    def __init__(self, flow_id: _Optional[int] = ..., pair: _Optional[_Union[_link_pb2.LinkPairId, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...
