"""The memory-noise plug-in contract (:class:`qstack.physical.memory.MemoryNoise`).

A model must give the channel (``apply``) and its Pauli transfer diagonal (``ptm_diagonal``);
one without either cannot be built. Its coherence time — what the stage criterion compares
with k classical round trips — defaults to the time at which ⟨X⟩ has decayed to 1/e: for
T1/T2 noise (``λx = e^{−t/T2}``) that is T2, and for a Pauli channel with flip rates
``r_y + r_z`` acting on X it is ``1 / (2 (r_y + r_z))`` (``λx = e^{−2(r_y + r_z)t}``).
"""

from __future__ import annotations

import math

import pytest

from qstack.physical.memory import MemoryNoise, T1T2Noise


class OnlyChannel(MemoryNoise):
    def apply(self, dm, pos, n, dt):
        return dm


class PauliFlips(MemoryNoise):
    """X, Y, Z flips at rates ``rx, ry, rz``: ``λx = e^{−2(ry + rz)t}`` and cyclically."""

    def __init__(self, rx: float, ry: float, rz: float) -> None:
        self.r = (rx, ry, rz)

    def apply(self, dm, pos, n, dt):
        return dm

    def ptm_diagonal(self, t):
        rx, ry, rz = self.r
        return (math.exp(-2 * (ry + rz) * t), math.exp(-2 * (rx + rz) * t), math.exp(-2 * (rx + ry) * t))


def test_a_model_without_its_transfer_diagonal_cannot_be_built():
    with pytest.raises(TypeError, match="ptm_diagonal"):
        OnlyChannel()


class T1T2WithoutCoherenceTime(T1T2Noise):
    coherence_time = MemoryNoise.coherence_time


@pytest.mark.parametrize(("t1", "t2"), [(1.0, 0.3), (math.inf, 2e-3), (5.0, 10.0)])
def test_default_coherence_time_of_t1t2_noise_is_t2(t1, t2):
    assert T1T2WithoutCoherenceTime(t1, t2).coherence_time() == pytest.approx(t2, rel=1e-9)


@pytest.mark.parametrize(("ry", "rz"), [(0.0, 10.0), (3.0, 1.0)])
def test_default_coherence_time_of_a_pauli_channel(ry, rz):
    assert PauliFlips(5.0, ry, rz).coherence_time() == pytest.approx(1 / (2 * (ry + rz)), rel=1e-9)


def test_a_model_whose_coherences_never_decay_has_infinite_coherence_time():
    assert PauliFlips(1.0, 0.0, 0.0).coherence_time() == math.inf
