"""The quantum-state service's caller check, and real processes against the simulation kernel.

Contracts: a node may change only groups holding one of its own qubits, may measure or discard
only its own qubits and may not drop another node's qubit — a return breaking this is refused
whole (nothing applied); a legitimate local measurement leaves the partner's conditional state.
Teleportation over a repeater run as real processes (`qstack up`) gives every state the
fidelity (2F + 1)/3 of the simulation kernel, to 1e-9 (ideal memories: the figure is exact).
"""

from __future__ import annotations

import numpy as np
import pytest

from qstack.quantum.core import adopt_state, measure
from qstack.quantum.states import BELL_KETS_NP
from qstack.runtime.realtime.state import StateMirror, StateRefused


def _service_with_pair():
    psi = BELL_KETS_NP[0]
    qa, qb = adopt_state(np.outer(psi, psi.conj()).astype(complex))
    service = StateMirror("qserve", prefix="s")
    ida, idb = service.register(qa, owner="n0"), service.register(qb, owner="n1")
    return service, ida, idb


def test_a_node_measuring_its_own_half_is_accepted_and_the_partner_collapses_to_match():
    service, ida, idb = _service_with_pair()
    node = StateMirror("n0")
    node.apply_grant(service.grant_for("n0", 1))
    outcome = measure(node.qubit(ida), "Z", np.random.default_rng(5))
    service.accept_return("n0", node.export_return(1))
    rho_b = service.qubits[idb].group.dm
    assert not service.qubits.get(ida) and abs(rho_b[outcome, outcome] - 1.0) < 1e-12  # Φ⁺: equal outcomes


def test_a_node_may_not_measure_another_nodes_qubit():
    service, ida, idb = _service_with_pair()
    node = StateMirror("n0")
    node.apply_grant(service.grant_for("n0", 1))
    measure(node.qubit(idb), "Z", np.random.default_rng(5))  # n1's qubit
    before = service.qubits[idb].group.dm.copy()
    with pytest.raises(StateRefused, match="only its own qubits"):
        service.accept_return("n0", node.export_return(1))
    np.testing.assert_array_equal(service.qubits[idb].group.dm, before)  # nothing applied


def test_a_node_may_not_change_a_group_of_other_nodes_qubits():
    from qstack.proto.qstack.v1 import realtime_pb2

    service, ida, idb = _service_with_pair()
    measure(service.qubits[ida], "Z", np.random.default_rng(1))  # n1's qubit now alone
    service.qubits.pop(ida)
    forged = realtime_pb2.StateLease(lease=1)
    forged.groups.add(qubits=[idb], dm=np.eye(2, dtype="<c16").tobytes())
    with pytest.raises(StateRefused, match="only on its own qubits"):
        service.accept_return("n0", forged)


@pytest.mark.slow
def test_teleportation_as_real_processes_matches_the_simulation_kernel(tmp_path):
    from qstack.apps import run_app
    from qstack.apps.teleportation import Teleportation
    from qstack.runtime.realtime.up import up
    from qstack.scenario import load_scenario

    path = "stages/stage3/teleport_chain.toml"
    scenario = load_scenario(path)
    spec = scenario.application
    sim = run_app(Teleportation(**spec.params), scenario, spec.roles)
    real = up(path, scale=0.01, timeout=90, workdir=str(tmp_path))
    assert real.complete and not real.failures, real.failures
    assert all(code == 0 for code in real.exit_codes.values()), real.exit_codes  # clean, bounded shutdown
    assert real.results["receiver"] == pytest.approx(sim.results["receiver"], abs=1e-9)
    assert real.results["receiver"][0] == pytest.approx(0.8755555555555556, abs=1e-9)  # (2F + 1)/3
