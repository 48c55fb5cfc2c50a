"""Applications declare the stage they need; a network that falls short refuses them with a
StageError naming the app (and role), both stages and the missing capability."""

from __future__ import annotations

import pytest
from qstack_stages_helpers import network, with_profiles

from qstack.scenario import linear_chain
from qstack.stages import (
    AppRequirements,
    Stage,
    StageError,
    StageRequirement,
    declare,
    network_stage,
    require,
)


@pytest.fixture(scope="module")
def stage2_chain():
    """A 3-node chain whose end nodes keep a qubit 1 µs: stage 2, named 'chain'."""
    return network_stage(with_profiles(linear_chain(3, "10 km", name="chain"), end={"t2": "1 us"}))


def test_stage_error_names_app_role_both_stages_and_missing_capability(stage2_chain):
    """The message says: app and role, the stage needed with its capability, the network and the
    stage it reaches, and what is missing with nodes and numbers (the k·C·t criterion)."""
    with pytest.raises(StageError) as info:
        require("teleport", Stage.QUANTUM_MEMORY, stage2_chain, role="bob", nodes=["n2", "n0"])
    err = info.value
    message = str(err)
    assert message.startswith(
        "app 'teleport' (role 'bob') needs stage 3 (quantum memory: storage of entanglement) "
        "but network 'chain' reaches stage 2 (entanglement distribution) between n2 and n0; missing: "
        "storage of entanglement between n2 and n0 — end node n2 keeps a qubit 1 µs (t2) but one classical "
        "round trip between them takes 192 µs"
    )
    assert "(k·C·t criterion)" in message
    assert "end node n0" not in message  # a role counts only its own node's memory
    assert (err.app, err.role, err.needed, err.reached) == ("teleport", "bob", Stage.QUANTUM_MEMORY,
                                                           Stage.ENTANGLEMENT_DISTRIBUTION)
    assert err.network == "chain" and err.nodes == ("n2", "n0")
    assert isinstance(err, RuntimeError)


def test_require_passes_at_or_below_the_reached_stage(stage2_chain):
    """require() is silent when the network reaches the stage needed (or more)."""
    for stage in (Stage.TRUSTED_REPEATER, Stage.PREPARE_AND_MEASURE, Stage.ENTANGLEMENT_DISTRIBUTION):
        assert require("bbm92", stage, stage2_chain) is None
        assert require("bbm92", int(stage), stage2_chain, nodes=["n0", "n2"]) is None


def test_network_level_refusal_lists_every_missing_end_node(stage2_chain):
    """Without nodes, every pair of end nodes counts: both end nodes' memories are named."""
    with pytest.raises(StageError, match=r"^app 'ghz' needs stage 3 .* but network 'chain' reaches stage 2 "
                       r"\(entanglement distribution\); missing: .*end node n0 .*end node n2"):
        require("ghz", "quantum memory", stage2_chain)


def test_refusal_from_far_below_names_the_first_missing_capability():
    """A stage-0 network asked for stage 3: the message starts with the first missing capability
    (prepare-and-measure, whose reason says why entanglement fails) and adds the memory reasons."""
    report = network_stage(with_profiles(linear_chain(3, "10 km"), repeater={"t2": "1 us"}, end={"t2": "1 us"}))
    with pytest.raises(StageError) as info:
        require("teleport", 3, report)
    assert info.value.reached is Stage.TRUSTED_REPEATER
    first, *rest = info.value.missing
    assert first.startswith("end-to-end prepare-and-measure between n0 and n2")
    assert any(line.startswith("storage of entanglement") for line in rest)
    assert not any(line.startswith("end-to-end entanglement") for line in rest)  # already inside `first`


def test_per_role_requirements_client_stage_1_ok_server_stage_3_refused(stage2_chain):
    """Blind computing: the client only prepares and measures (stage 1), the server stores
    entanglement (stage 3). On a stage-2 network the client is served and the server refused."""
    blind = declare("blind computing", Stage.QUANTUM_MEMORY,
                    roles={"client": Stage.PREPARE_AND_MEASURE, "server": Stage.QUANTUM_MEMORY})
    require("blind computing", blind.stage_of("client"), stage2_chain, role="client", nodes=["n0", "n2"])
    with pytest.raises(StageError, match=r"^app 'blind computing' \(role 'server'\) needs stage 3 .*"
                       r"missing: storage of entanglement between n2 and n0 — end node n2"):
        blind.check(stage2_chain, {"client": "n0", "server": "n2"})


def test_roles_count_only_their_own_node():
    """Per role, only the role's node's memory counts: a client with a 1 µs memory and a server with
    a 1.3 s memory run blind computing, although the network as a whole is only stage 2."""
    scenario = network({"client": "end", "server": "end"}, [("client", "server")],
                       hardware={"short": {"t2": "1 us"}}, node_hardware={"client": "short"})
    report = network_stage(scenario)
    assert report.stage is Stage.ENTANGLEMENT_DISTRIBUTION
    assert report.per_end[("server", "client")] is Stage.QUANTUM_MEMORY
    blind = declare("blind", 3, roles={"client": 1, "server": 3})
    blind.check(report, {"client": "client", "server": "server"})
    with pytest.raises(StageError, match="role 'server'"):
        blind.check(report, {"client": "server", "server": "client"})
    with pytest.raises(StageError, match=r"^app 'blind' needs stage 3"):
        blind.check(report)  # no assignment: the whole network must reach stage 3


def test_app_requirements_check_qubits_and_peers():
    """An app's qubits are checked at each assigned node; too few distinct nodes for its peers is a
    mistake in the call (ValueError), too few end nodes in the network a StageError."""
    report = network_stage(linear_chain(2, memory_positions=1, name="pair"))
    teleport = declare("teleport", "quantum memory", qubits=2)
    with pytest.raises(StageError, match=r"^app 'teleport' \(role 'alice'\) needs 2 qubits at end node n0 "
                       r"but it has 1"):
        teleport.check(report, {"alice": "n0", "bob": "n1"})
    ghz = declare("ghz", 3, peers=2)
    with pytest.raises(ValueError, match="needs 3 distinct end nodes"):
        ghz.check(report, {"a": "n0", "b": "n1"})
    with pytest.raises(StageError, match=r"^app 'ghz' needs 3 end nodes but network 'pair' has 2"):
        ghz.check(report)
    declare("qkd", 1).check(report)
    declare("qkd", 1).check(report, {"alice": "n1", "bob": "n0"})


def test_app_requirements_are_validated():
    """Roles may not need more than the app's stage; roles must be assigned; nodes must be end nodes;
    peers and qubits are integers >= 1; stages are parsed."""
    with pytest.raises(ValueError, match="above the app's stage"):
        declare("x", 1, roles={"server": 3})
    with pytest.raises(ValueError, match="qubits must be an integer >= 1"):
        declare("x", 1, qubits=0)
    with pytest.raises(ValueError, match="peers must be an integer >= 1"):
        AppRequirements("x", Stage.PREPARE_AND_MEASURE, peers=0)
    with pytest.raises(ValueError, match="not a stage"):
        declare("x", 7)
    report = network_stage(linear_chain(3))
    blind = declare("blind", 3, roles={"client": 1, "server": 3})
    with pytest.raises(ValueError, match="no node assigned to role"):
        blind.check(report, {"client": "n0"})
    with pytest.raises(ValueError, match="'n1' is not an end node"):
        blind.check(report, {"client": "n0", "server": "n1"})
    assert StageRequirement is AppRequirements
    assert declare("x", "2").stage is Stage.ENTANGLEMENT_DISTRIBUTION
    assert hash(blind) == hash(declare("blind", 3, roles={"server": 3, "client": 1}))
    assert dict(blind.roles) == {"client": Stage.PREPARE_AND_MEASURE, "server": Stage.QUANTUM_MEMORY}
