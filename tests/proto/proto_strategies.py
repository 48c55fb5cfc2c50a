"""Hypothesis strategies for valid qstack protobuf messages (shared by the tests in this folder)."""

from __future__ import annotations

from hypothesis import strategies as st

from qstack.proto import (
    AppMessage,
    Basis,
    CreateAck,
    CreateErr,
    CreateOk,
    CreateRequest,
    CutoffSpec,
    EndToEndConfirm,
    Expire,
    ExpireNotice,
    Herald,
    LinkError,
    LinkPairId,
    PathSetup,
    PathSetupAck,
    PathTeardown,
    PurificationScope,
    PurificationSpec,
    PurifyOutcome,
    RequestType,
    SwapRecord,
    TeleportRecord,
    Track,
)

uint32 = st.integers(0, 2**32 - 1)
uint64 = st.integers(0, 2**64 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
fidelity = st.floats(0.0, 1.0)
seconds = st.floats(0.0, 1e9)
bell = st.integers(0, 3)
name = st.text(min_size=1, max_size=16)
text = st.text(max_size=32)
basis = st.sampled_from(Basis.values())
errors = st.sampled_from([e for e in LinkError.values() if e != LinkError.LINK_ERROR_UNSPECIFIED])

pair = st.builds(LinkPairId, link=name, seq=uint64)
two_nodes = st.lists(name, min_size=2, max_size=2, unique=True)
two_pairs = st.lists(st.tuples(name, uint64), min_size=2, max_size=2, unique=True).map(
    lambda ps: [LinkPairId(link=link, seq=seq) for link, seq in ps]
)

create_request = two_nodes.flatmap(
    lambda nodes: st.builds(
        CreateRequest, request_id=uint64, origin=st.just(nodes[0]), remote_node=st.just(nodes[1]),
        type=st.sampled_from(RequestType.values()), number=st.integers(1, 2**32 - 1), min_fidelity=fidelity,
        max_time=seconds, purpose_id=uint32, priority=int32, basis=basis,
    )
)
create_ack = st.one_of(
    st.builds(CreateAck, request_id=uint64, accepted=st.just(True)),
    st.builds(CreateAck, request_id=uint64, accepted=st.just(False), error=errors),
)
create_ok = st.builds(
    CreateOk, request_id=uint64, pair=pair, bell_index=bell, goodness=fidelity, creation_time=seconds,
    outcome=st.integers(0, 1), basis=basis,
)
create_err = st.builds(CreateErr, request_id=uint64, error=errors, detail=text)
herald = st.builds(Herald, pair=pair, bell_index=bell, attempts=st.integers(1, 2**64 - 1), emission_time=seconds)
expire = st.builds(Expire, pair=pair, reason=text)

route = st.lists(name, min_size=2, max_size=8, unique=True)
#: registered policy names (the decoder refuses others)
swapping_policy = st.sampled_from(["asap", "nested", "threshold"])
purification_spec = st.builds(
    PurificationSpec, policy=st.sampled_from(["dejmps", "bbpssw", "dejmps_pumping", "bbpssw_pumping", "pumping"]),
    scope=st.sampled_from(PurificationScope.values()), target_fidelity=st.floats(0.5, 1.0, exclude_min=True),
    max_rounds=st.integers(1, 2**32 - 1),
)
cutoff_spec = st.builds(
    CutoffSpec, policy=st.sampled_from(["none", "fixed", "fidelity", "slots"]), time=seconds, slots=uint32,
    min_fidelity=fidelity, max_time=seconds,
)
path_setup = route.flatmap(
    lambda r: st.builds(
        PathSetup, flow_id=uint64, source=st.just(r[0]), destination=st.just(r[-1]), route=st.just(r),
        min_fidelity=fidelity, link_min_fidelity=fidelity, num_pairs=uint32, deadline=seconds,
        swapping=swapping_policy, purification=st.none() | purification_spec, cutoff=st.none() | cutoff_spec,
        type=st.sampled_from(RequestType.values()), basis=basis, fidelity_floor=fidelity, priority=int32,
        purpose=st.binary(max_size=16),
    )
)
path_setup_ack = st.one_of(
    st.builds(PathSetupAck, flow_id=uint64, accepted=st.just(True)),
    st.builds(PathSetupAck, flow_id=uint64, accepted=st.just(False), reason=name),
)
path_teardown = st.builds(PathTeardown, flow_id=uint64, reason=text)
#: storage decay carried by TRACK and SwapRecord: none, or a PTM diagonal in [-1, 1]³
decay = st.one_of(st.just([]), st.lists(st.floats(-1.0, 1.0), min_size=3, max_size=3))
track = st.builds(Track, flow_id=uint64, head_pair=pair, via_pair=pair, frame=bell, swaps=uint32, created=seconds,
                  decay=decay)
end_to_end_confirm = st.builds(
    EndToEndConfirm, flow_id=uint64, head_pair=pair, tail_pair=pair, frame=bell, seq=uint64
)
swap_record = two_pairs.flatmap(
    lambda ps: st.builds(SwapRecord, flow_id=uint64, left=st.just(ps[0]), right=st.just(ps[1]), outcome=bell,
                         decay=decay)
)
purify_outcome = two_pairs.flatmap(
    lambda ps: st.builds(
        PurifyOutcome, flow_id=uint64, keep=st.just(ps[0]), sacrifice=st.just(ps[1]), round=uint32,
        outcome=bell, protocol=st.sampled_from(["dejmps", "bbpssw", "dejmps_pumping", "bbpssw_pumping"]),
    )
)
expire_notice = st.builds(ExpireNotice, flow_id=uint64, pair=pair, reason=text)
teleport_record = st.builds(TeleportRecord, session=uint64, from_role=name, to_role=name,
                            transfer_id=st.integers(1, 2**64 - 1), outcome=bell)
app_message = st.builds(AppMessage, session=uint64, from_role=name, to_role=name, payload=st.binary(max_size=64))

#: One strategy of valid messages per Envelope body type.
BY_TYPE = {
    CreateRequest: create_request,
    CreateAck: create_ack,
    CreateOk: create_ok,
    CreateErr: create_err,
    Herald: herald,
    Expire: expire,
    PathSetup: path_setup,
    PathSetupAck: path_setup_ack,
    PathTeardown: path_teardown,
    Track: track,
    EndToEndConfirm: end_to_end_confirm,
    SwapRecord: swap_record,
    PurifyOutcome: purify_outcome,
    ExpireNotice: expire_notice,
    TeleportRecord: teleport_record,
    AppMessage: app_message,
}

#: Any valid body message.
any_body = st.one_of(*BY_TYPE.values())
