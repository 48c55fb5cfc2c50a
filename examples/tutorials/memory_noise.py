"""Tutorial: your own memory noise model.

A stored qubit decays by its hardware profile's memory noise model
(`qstack.physical.memory.MEMORY_NOISE`). A model subclasses ``MemoryNoise`` and gives the
channel itself (``apply``: qubit ``pos`` of an ``n``-qubit density matrix after ``dt`` seconds;
channels must compose, E(t₁)∘E(t₂) = E(t₁+t₂), since decoherence is applied lazily), the
diagonal of its Pauli transfer matrix (``ptm_diagonal``) and ``coherence_time()``. From those the
stage derivation (``qstack stages``: coherence time against k × the communication time) and the
network's fidelity estimates work for your model as for the built-ins.

``PauliRates`` flips a stored qubit by X, Y, Z at independent rates r_x, r_y, r_z (1/s): its
transfer matrix is diagonal with λ_x = e^{−2(r_y+r_z)t}, λ_y = e^{−2(r_x+r_z)t},
λ_z = e^{−2(r_x+r_y)t}. Both halves of a Bell pair stored t seconds in such memories keep the
pair's Bell state only when both got the same Pauli, so F(t) = p_I² + p_X² + p_Y² + p_Z² with
(p_I, p_X, p_Y, p_Z) the channel's Pauli weights at t.

Run: ``python examples/tutorials/memory_noise.py`` — prints the stage the network reaches,
and for the first delivered pairs their age, measured fidelity and F(age).
"""

from __future__ import annotations

import math

import numpy as np

from qstack.network import run_scenario
from qstack.physical.memory import MEMORY_NOISE, MemoryNoise
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import network_stage

_PAULI = (np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0]))


@MEMORY_NOISE.register("pauli_rates")
class PauliRates(MemoryNoise):
    """Independent X, Y, Z flips at rates ``rx``, ``ry``, ``rz`` per second."""

    name = "pauli_rates"

    def __init__(self, rx: float = 0.0, ry: float = 0.0, rz: float = 10.0) -> None:
        if min(rx, ry, rz) < 0 or rx + ry + rz == 0:
            raise ValueError(f"rates must be >= 0 with one > 0, got rx={rx}, ry={ry}, rz={rz}")
        self.rx, self.ry, self.rz = rx, ry, rz

    def ptm_diagonal(self, t: float) -> tuple[float, float, float]:
        return (math.exp(-2 * (self.ry + self.rz) * t), math.exp(-2 * (self.rx + self.rz) * t),
                math.exp(-2 * (self.rx + self.ry) * t))

    def apply(self, dm: np.ndarray, pos: int, n: int, dt: float) -> np.ndarray:
        out = np.zeros_like(dm)
        for p, sigma in zip(self.pauli_weights(dt), _PAULI, strict=True):
            if p:
                op = np.kron(np.kron(np.eye(2**pos), sigma), np.eye(2 ** (n - pos - 1)))
                out += p * (op @ dm @ op.conj().T)
        return out

    def coherence_time(self) -> float:
        return 1.0 / (2 * max(self.rx + self.ry, self.ry + self.rz, self.rx + self.rz))


def scenario():
    return load_scenario(linear_chain(2, "2 km", seed=5, duration="20 ms", raw_fidelity=1.0,
                                      memory_noise={"name": "pauli_rates", "rx": 2.0, "rz": 20.0},
                                      link={"attenuation": 0.0, "classical_delay_per_km": 1e-4}))


def expected_fidelity(model: PauliRates, age: float) -> float:
    return sum(p * p for p in model.pauli_weights(age))


if __name__ == "__main__":
    sc = scenario()
    model = sc.hardware[0].memory_model()
    print(f"{model.name}: coherence time {model.coherence_time() * 1e3:.2f} ms; "
          f"network stage {int(network_stage(sc).stage)} ({network_stage(sc).stage.title})")
    rows = run_scenario(sc, record=True)["records"]
    for r in rows[:5]:
        f_theory = expected_fidelity(model, r["age"])
        print(f"age {r['age'] * 1e6:7.1f} us  F measured {r['fidelity']:.9f}  F(age) {f_theory:.9f}")
