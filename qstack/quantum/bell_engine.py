"""The exact Bell-diagonal engine: pairs held as four Bell coefficients instead of 4×4 matrices.

A Bell-diagonal pair ``ρ = Σ_k λ_k |β_k⟩⟨β_k|`` (β = Φ⁺, Φ⁻, Ψ⁺, Ψ⁻, index ``2·x + z`` of the
Pauli ``X^x Z^z`` that makes β_k from Φ⁺ on one half) stays Bell-diagonal under every operation
of a plain repeater chain: Werner and Bell-diagonal link states, Pauli memory channels
(depolarising; dephasing, i.e. T1/T2 with ``t1 = inf``), Bell-state measurements with Pauli
(depolarising) gate noise and readout flips, Pauli corrections and the Werner twirl. The engine
keeps such pairs as a :class:`~qstack.quantum.core.Group` whose ``bell`` holds ``λ`` (see
:func:`~qstack.quantum.core.adopt_bell`) and acts on the four numbers:

* memory decay: ``λ'_k = Σ_σ p_σ λ_{k⊕σ}`` with the channel's Pauli weights
  (:func:`qstack.quantum.kernels.bell_pauli_channel`);
* swap: the 16 products ``λ_i μ_j`` through maps read off the density-matrix swap maps, so both
  engines run the same circuit and consume the same random draws; the maps are compiled once per
  gate-noise model into straight-line Python over their nonzero entries (on four numbers numpy's
  per-call cost would be most of the work, so the coefficients are a tuple of floats);
* twirl: ``λ_Φ⁺`` kept, the rest shared equally.

Anything else — a general gate, a measurement in a non-Bell basis, a purification half, amplitude
damping, a user reading the group's ``dm`` — builds the exact 4×4 density matrix first and goes
on from there (lazy materialisation), so results agree with the density-matrix engine to
rounding and users still see ``qutip.Qobj``.

A run chooses the engine with ``[simulation] engine``: ``"auto"`` (default) uses Bell
coefficients when every model of the scenario declares it keeps pairs Bell-diagonal
(:attr:`~qstack.physical.memory.MemoryNoise.keeps_bell_diagonal`,
:attr:`~qstack.quantum.noise.GateNoise.keeps_bell_diagonal`, and each link's heralded states,
checked), ``"density_matrix"`` never does, ``"bell_diagonal"`` insists and is refused naming the
model that breaks the family.

>>> from qstack.physical.memory import T1T2Noise
>>> from qstack.quantum.noise import GateNoise
>>> family_breakers({"r": T1T2Noise(t1=1.0, t2=1.0)}, {"r": GateNoise()}, {})
["memory noise of node 'r' (T1 = 1 s, T2 = 1 s) does not keep pairs Bell-diagonal"]
>>> resolve_engine("auto", [])
'bell_diagonal'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .core import bell_form

__all__ = ["ENGINES", "EngineError", "family_breakers", "resolve_engine"]

#: the values of ``[simulation] engine``
ENGINES: tuple[str, ...] = ("auto", "density_matrix", "bell_diagonal")


class EngineError(ValueError):
    """``engine = "bell_diagonal"`` was asked for a scenario with a model outside the family."""


def _describe(model: Any) -> str:
    describe = getattr(model, "describe", None)
    return describe() if callable(describe) else type(model).__name__


def family_breakers(memory_noise: Mapping[str, Any], gate_noise: Mapping[str, Any],
                    link_states: Mapping[str, Iterable[np.ndarray]]) -> list[str]:
    """One line per model that does not keep pairs Bell-diagonal: memory noise and gate noise by
    node (their declared ``keeps_bell_diagonal``) and links whose heralded 4×4 states are not
    Bell-diagonal (checked to :data:`qstack.quantum.core.BELL_TOLERANCE`).

    >>> from qstack.quantum.states import werner
    >>> family_breakers({}, {}, {"a-b": [werner(0.9).full()], "b-c": [np.diag([1, 0, 0, 0]).astype(complex)]})
    ["link 'b-c': a heralded state is not Bell-diagonal"]
    """
    out = []
    for node, noise in memory_noise.items():
        if not getattr(noise, "keeps_bell_diagonal", False) and not getattr(noise, "ideal", False):
            out.append(f"memory noise of node {node!r} ({_describe(noise)}) does not keep pairs Bell-diagonal")
    for node, noise in gate_noise.items():
        if noise is not None and not getattr(noise, "keeps_bell_diagonal", False):
            out.append(f"gate noise of node {node!r} ({type(noise).__name__}) does not keep pairs Bell-diagonal")
    for link, states in link_states.items():
        if any(bell_form(np.asarray(s)) is None for s in states):
            out.append(f"link {link!r}: a heralded state is not Bell-diagonal")
    return out


def resolve_engine(requested: str, breakers: list[str]) -> str:
    """The engine a run uses: ``"bell_diagonal"`` or ``"density_matrix"``.

    ``"auto"`` picks Bell coefficients when nothing breaks the family; ``"bell_diagonal"`` with
    a breaker raises :class:`EngineError` naming it.

    >>> resolve_engine("auto", ["memory noise of node 'r' (T1 = 1 s) does not keep pairs Bell-diagonal"])
    'density_matrix'
    >>> try:
    ...     resolve_engine("bell_diagonal", ["link 'a-b': a heralded state is not Bell-diagonal"])
    ... except EngineError as e:
    ...     print(str(e)[:70])
    simulation.engine = 'bell_diagonal' is refused: link 'a-b': a heralded
    """
    if requested not in ENGINES:
        raise EngineError(f"simulation.engine must be one of {', '.join(map(repr, ENGINES))}, got {requested!r}")
    if requested == "density_matrix":
        return requested
    if breakers:
        if requested == "bell_diagonal":
            raise EngineError("simulation.engine = 'bell_diagonal' is refused: " + "; ".join(breakers)
                              + " (use 'auto' or 'density_matrix')")
        return "density_matrix"
    return "bell_diagonal"
