"""``qstack stages`` judges a network by the plug-ins it will run, not by built-in assumptions.

* A link's generation scheme is asked for its model, so a user's scheme sets whether the link
  entangles. ``FixedAlpha(α)`` (the tutorial's single click at a fixed bright-state population)
  heralds Ψ± with fidelity ``F = (1 − α)/(1 − αη/2)`` (η per arm, no dark counts): α = 0.1 gives
  F ≈ 0.93 (the chain reaches stage 3); α = 0.9 gives F < 1/2, nothing to swap (stage 0).
* A node's gate model is asked for its error figures (:meth:`GateNoise.error_probabilities`):
  a user's model that dephases each touched qubit with probability q has entanglement fidelity
  ``1 − q`` per one-qubit gate and ``(1 − q)²`` per two-qubit gate, i.e. the depolarising
  ``p = (1 − F_e)/(1 − 1/d²)``: ``4q/3`` and ``16(1 − (1 − q)²)/15``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qstack.network import build_network
from qstack.quantum.noise import GATE_NOISE, GateNoise, depolarizing
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import Stage, network_stage

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "tutorials"))
import link_scheme  # noqa: E402, F401  (registers "fixed_alpha")

_Z = np.diag([1.0, -1.0]).astype(complex)


def fixed_alpha_fidelity(alpha: float, eta: float) -> float:
    return (1 - alpha) / (1 - alpha * eta / 2)


def chain(alpha: float, **kw):
    return linear_chain(3, "10 km", raw_fidelity=1.0, link={"scheme": {"name": "fixed_alpha", "alpha": alpha}}, **kw)


def test_a_users_link_scheme_that_entangles_gives_the_memory_stage():
    assert network_stage(chain(0.1)).stage is Stage.QUANTUM_MEMORY


def test_a_users_link_scheme_below_one_half_leaves_the_ends_at_stage_0_with_its_fidelity():
    sc = load_scenario(chain(0.9))
    hw, _, _ = sc.link_hardware(sc.links[0])
    report = network_stage(sc)
    assert report.stage is Stage.TRUSTED_REPEATER
    expected = fixed_alpha_fidelity(0.9, hw.eta_a)
    assert expected < 0.5
    assert f"heralds pairs of fidelity {expected:.3g} at best" in report.missing[0]


def test_a_links_base_model_is_its_own_schemes_model():
    """``net.links[name].base_model`` is what the scheme builds with no fidelity demand."""
    sc = load_scenario(chain(0.1))
    net = build_network(sc)
    hw, _, _ = sc.link_hardware(sc.links[0])
    model = net.links["n0-n1"].base_model
    assert model.alpha == 0.1
    assert model.fidelity == pytest.approx(fixed_alpha_fidelity(0.1, hw.eta_a), abs=1e-9)


@dataclass(frozen=True, slots=True)
class DephasingGates(GateNoise):
    q: float = 0.0

    @property
    def is_ideal(self) -> bool:
        return self.q == 0 and self.readout_error == 0

    def after_gate(self, dm, positions, n):
        for k in positions:
            z = np.kron(np.kron(np.eye(2**k), _Z), np.eye(2 ** (n - k - 1)))
            dm = (1 - self.q) * dm + self.q * (z @ dm @ z)
        return dm


@dataclass(frozen=True, slots=True)
class DepolarizingAgain(GateNoise):
    """The built-in depolarising channel, rewritten as a user would: its figures come back."""

    def after_gate(self, dm, positions, n):
        from qstack.quantum.kernels import apply_superop

        p = self.single_qubit_depolarizing if len(positions) == 1 else self.two_qubit_depolarizing
        return apply_superop(dm, depolarizing(p, len(positions)).superop, list(positions), n) if p else dm


GATE_NOISE.add("dephasing_gates_stage", DephasingGates)


@pytest.mark.parametrize("q", [0.0, 1e-3, 0.05])
def test_error_figures_of_a_users_gate_model_are_its_depolarising_equivalents(q):
    e = DephasingGates(q=q, readout_error=0.01).error_probabilities()
    assert e["single_qubit_depolarizing"] == pytest.approx(4 * q / 3, abs=1e-12)
    assert e["two_qubit_depolarizing"] == pytest.approx(16 * (1 - (1 - q) ** 2) / 15, abs=1e-12)
    assert e["readout_error"] == 0.01


def test_the_measured_figures_of_a_depolarising_channel_are_its_p():
    e = DepolarizingAgain(single_qubit_depolarizing=0.003, two_qubit_depolarizing=0.02).error_probabilities()
    assert e["single_qubit_depolarizing"] == pytest.approx(0.003, abs=1e-12)
    assert e["two_qubit_depolarizing"] == pytest.approx(0.02, abs=1e-12)


def test_stage_4_reads_a_users_gate_model():
    """A 20-position processor could hold a logical qubit; with q = 0.05 dephasing gates its
    two-qubit error 16(1 − 0.95²)/15 ≈ 0.104 is far above the fault-tolerance threshold."""
    kw = dict(memory_positions=20, t2="10 s")
    clean = network_stage(linear_chain(3, "10 km", **kw))
    noisy = network_stage(linear_chain(3, "10 km", gate_model={"name": "dephasing_gates_stage", "q": 0.05}, **kw))
    assert clean.stage >= Stage.FEW_QUBIT_FAULT_TOLERANT
    assert noisy.stage is Stage.QUANTUM_MEMORY
    assert any(f"two_qubit_depolarizing {16 * (1 - 0.95**2) / 15:g}" in m for m in noisy.missing)

