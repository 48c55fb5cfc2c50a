"""Gate noise as a plug-in: a user's model replaces the depolarising one everywhere gates act.

``DephasingGates(p)`` dephases every qubit a gate touched, ρ → (1 − p)ρ + pZρZ. In a Bell
measurement (CNOT b→c, H on b, measure both in Z) only the Z error on b after the CNOT matters:
the H turns it into an X that flips b's bit, so the reported Bell index is wrong in its phase
bit with probability p, and the swapped pair has fidelity exactly 1 − p to the announced state
(a Z on c commutes with its Z measurement; a Z on b after the H does too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from qstack.network import run_scenario
from qstack.quantum import bell_state, create_qubits, fidelity, state_of
from qstack.quantum.core import bell_state_measurement, operate
from qstack.quantum.noise import GATE_NOISE, GateNoise
from qstack.quantum.operations import CORRECTIONS, entanglement_swap
from qstack.scenario import ScenarioError, linear_chain, load_scenario

_Z = np.diag([1.0, -1.0]).astype(complex)


@dataclass(frozen=True, slots=True)
class DephasingGates(GateNoise):
    p: float = 0.0

    @property
    def is_ideal(self) -> bool:
        return self.p == 0 and self.readout_error == 0

    def after_gate(self, dm, positions, n):
        for q in positions:
            z = np.kron(np.kron(np.eye(2**q), _Z), np.eye(2 ** (n - q - 1)))
            dm = (1 - self.p) * dm + self.p * (z @ dm @ z)
        return dm


GATE_NOISE.add("dephasing_gates", DephasingGates)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3])
def test_swap_with_dephasing_gates_has_fidelity_one_minus_p_on_the_fast_path(p):
    rng = np.random.default_rng(1)
    for _ in range(8):
        a, b = create_qubits(2, bell_state("phi+"))
        c, d = create_qubits(2, bell_state("phi+"))
        entanglement_swap(a, b, c, d, rng, DephasingGates(p=p))
        assert fidelity(state_of([a, d]), bell_state("phi+")) == pytest.approx(1 - p, abs=1e-12)


@pytest.mark.parametrize("p", [0.05, 0.3])
def test_the_gate_by_gate_circuit_gives_the_same_one_minus_p(p):
    """The Bell measurement as a circuit (operate → the model's after_gate after each gate)."""
    rng = np.random.default_rng(2)
    for _ in range(8):
        a, b = create_qubits(2, bell_state("phi+"))
        c, d = create_qubits(2, bell_state("phi+"))
        operate([a, d], np.eye(4))  # a, b, c, d in one group: the general circuit path
        k = bell_state_measurement(b, c, rng, DephasingGates(p=p))
        if k:
            operate([d], CORRECTIONS[k])
        assert fidelity(state_of([a, d]), bell_state("phi+")) == pytest.approx(1 - p, abs=1e-12)


def test_a_scenario_selects_the_gate_model_and_every_swapped_pair_has_fidelity_one_minus_p():
    """3-node chain, perfect heralded pairs and memories, ``gate_model = { name =
    "dephasing_gates", p = 0.1 }``: each delivered pair went through one swap at n1, so its
    fidelity is 0.9 exactly; giving both a gate_model and the depolarising numbers is refused."""
    d = linear_chain(3, "2 km", seed=1, duration="10 ms", t2="inf", raw_fidelity=1.0,
                     gate_model={"name": "dephasing_gates", "p": 0.1})
    out = run_scenario(load_scenario(d), record=True)
    assert len(out["records"]) > 5
    assert all(r["fidelity"] == pytest.approx(0.9, abs=1e-9) for r in out["records"])
    d["hardware"]["default"]["two_qubit_depolarizing"] = 0.01
    with pytest.raises(ScenarioError, match="gate_model: must be left out when two_qubit_depolarizing is set"):
        load_scenario(d)
    d["hardware"]["default"].pop("two_qubit_depolarizing")
    d["hardware"]["default"]["gate_model"] = {"name": "dephasing_gatez"}
    with pytest.raises(ScenarioError, match='did you mean "dephasing_gates"'):
        load_scenario(d)
