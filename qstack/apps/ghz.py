"""Stage 3: GHZ states over a star of Bell pairs, and quantum secret sharing on them.

**Fusion at a centre.** The centre shares a Φ⁺ pair ``(c_i, l_i)`` with each of ``n`` leaves
(:meth:`EPRSocket.create_keep`). It applies ``CNOT(c_1 → c_i)`` for ``i ≥ 2`` and measures each
``c_i`` in Z, outcome ``m_i = c_1 ⊕ l_i``, and tells leaf ``i`` to apply ``X^{m_i}``; then
``l_i = c_1`` in every branch and ``c_1, l_1, …, l_n`` hold ``(|0…0⟩ + |1…1⟩)/√2`` — an
``(n + 1)``-qubit GHZ state (Greenberger, Horne & Zeilinger 1989). With ``include_centre=False``
the centre also measures ``c_1`` in X (outcome ``m``) and leaf 1 applies ``Z^m``, leaving an
``n``-qubit GHZ state on the leaves alone. This is the standard "fusion" of Bell pairs at a
hub (cf. the GHZ-distribution protocols of e.g. de Bone, Ouyang, Goodenough & Elkouss,
IEEE TQE 1, 1 (2020)); it costs ``n`` pairs, one classical message per leaf and one round.

**Werner links.** A Werner pair of fidelity ``F`` is Φ⁺ with a Pauli error on the leaf's half:
none with probability ``F``, each of X, Y, Z with ``e = (1 − F)/3``. The fusion acts on the
centre's qubits only and the corrections are Paulis, so the errors pass through to the
output: ``ρ = Σ p(P) P|GHZ⟩⟨GHZ|P`` and ``F_GHZ = Σ p(P) |⟨GHZ|P|GHZ⟩|²``. With the centre's
(error-free) qubit in the state, ``⟨GHZ|P|GHZ⟩`` vanishes if any leaf error flips a bit (X or
Y) and equals ``(1 + (−1)^{#Z})/2`` otherwise, so only an even number of Z errors and no flips
survive:

    ``F_GHZ = [(F + e)ⁿ + (F − e)ⁿ] / 2 = [((2F + 1)/3)ⁿ + wⁿ] / 2``,  ``w = (4F − 1)/3``,

for ``n`` leaves (``n = 1`` gives ``F``). On the leaves alone ``X^{⊗n}`` also stabilises GHZ,
so errors that flip *every* leaf (each X or Y) with an even number of Y's survive too, adding
``[(2e)ⁿ + 0ⁿ]/2 = (2e)ⁿ/2`` (:func:`ghz_fidelity_werner`).

**Quantum secret sharing** (Hillery, Bužek & Berthiaume, PRA 59, 1829 (1999)): the dealer
(centre) and the players (leaves) share the ``(n + 1)``-qubit GHZ state and each measures X or
Y at random. ``X^{⊗·}Y^{⊗k}`` with ``k`` even stabilises GHZ with eigenvalue ``(−1)^{k/2}``, so
in the rounds with an even number of Y's (half of them) the dealer's bit is
``a = b_1 ⊕ … ⊕ b_n ⊕ (k/2 mod 2)``: the players together know it, any proper subset of
them nothing. Each leaf's Pauli error anticommutes with the X or Y it measures with
probability ``2e``, so with Werner links the shared bit is wrong with probability
``(1 − wⁿ)/2`` (:func:`secret_sharing_error_rate`).

Roles: ``"centre"`` and ``"leaf1"`` … ``"leafN"`` (all on nodes of role ``"end"``; the centre
stores its halves, so the star needs stage 3 at every end node); :func:`star_scenario` builds
such a network.

>>> from qstack.apps import run_app
>>> from qstack.scenario import load_scenario
>>> sc = load_scenario(star_scenario(3, seed=1, raw_fidelity=0.9))
>>> r = run_app(GHZ(3), sc, {"centre": "hub", "leaf1": "l1", "leaf2": "l2", "leaf3": "l3"})
>>> round(ghz_fidelity([r.results[k] for k in ("centre", "leaf1", "leaf2", "leaf3")]), 9)
0.732
>>> round(ghz_fidelity_werner(0.9, 3), 9)
0.732
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qstack.quantum import gates
from qstack.quantum._qutip import qutip as _qutip
from qstack.quantum.core import state_of
from qstack.quantum.states import fidelity
from qstack.scenario import STARLIGHT_HARDWARE, load_scenario
from qstack.stages import Stage
from qstack.transport.sockets import AppQubit

from .runtime import Application, RoleContext

if TYPE_CHECKING:
    import qutip

__all__ = [
    "GHZ",
    "SecretSharing",
    "SecretSharingResult",
    "ghz_fidelity",
    "ghz_fidelity_werner",
    "ghz_state",
    "secret_sharing_error_rate",
    "star_scenario",
]


def star_scenario(leaves: int = 3, link_length: float | str = "10 km", *, seed: int = 1,
                  centre: str = "hub", **hardware: Any) -> dict[str, Any]:
    """A scenario dict: node ``centre`` joined by one link to each of ``l1 … l{leaves}``.

    Every node has role ``"end"`` and the ``"default"`` profile, :data:`STARLIGHT_HARDWARE`
    with ideal memories (``t2 = inf``) updated by ``hardware``. One placeholder request
    (``centre → l1``, one pair) satisfies the loader; :func:`run_app` does not run it.

    >>> [link["b"] for link in star_scenario(2)["links"]]
    ['l1', 'l2']
    """
    if not (isinstance(leaves, int) and leaves >= 1):
        raise ValueError(f"leaves must be an int >= 1, got {leaves!r}")
    names = [f"l{i}" for i in range(1, leaves + 1)]
    scenario = {
        "simulation": {"seed": seed, "name": f"star of {leaves} around {centre}"},
        "hardware": {"default": {**STARLIGHT_HARDWARE, "t2": "inf", **hardware}},
        "nodes": [{"name": centre, "role": "end"}] + [{"name": n, "role": "end"} for n in names],
        "links": [{"a": centre, "b": n, "length": link_length, "station_position": 0.5} for n in names],
        "policies": {"routing": "shortest_path", "swapping": "asap"},
        "requests": [{"source": centre, "destination": names[0], "pairs": 1}],
    }
    load_scenario(scenario)
    return scenario


def ghz_state(n: int) -> qutip.Qobj:
    """``(|0…0⟩ + |1…1⟩)/√2`` on ``n`` qubits.

    >>> ghz_state(2).full().real.ravel().round(6).tolist()
    [0.707107, 0.0, 0.0, 0.707107]
    """
    v = np.zeros((2**n, 1), dtype=complex)
    v[0, 0] = v[-1, 0] = 1 / np.sqrt(2)
    return _qutip().Qobj(v, dims=[[2] * n, [1] * n])


def ghz_fidelity(qubits: Sequence[AppQubit | None]) -> float:
    """Fidelity of the joint state of ``qubits`` (``None`` entries skipped) to GHZ — an
    observation by the experimenter, not something the nodes could do."""
    qs = [q.touch() for q in qubits if q is not None]
    return fidelity(state_of(qs), ghz_state(len(qs)))


def ghz_fidelity_werner(fidelity_: float, leaves: int, include_centre: bool = True) -> float:
    """GHZ fidelity after fusing ``leaves`` Werner pairs of fidelity ``F`` at a centre:
    ``[((2F + 1)/3)ⁿ + ((4F − 1)/3)ⁿ]/2``, plus ``(2(1 − F)/3)ⁿ/2`` when the centre's qubit is
    measured out (module docstring).

    >>> ghz_fidelity_werner(1.0, 5), ghz_fidelity_werner(0.8, 1)
    (1.0, 0.8)
    >>> round(ghz_fidelity_werner(0.7, 1, include_centre=False), 12)   # |+⟩ survives X: F + e
    0.8
    """
    f = ((2 * fidelity_ + 1) / 3) ** leaves + ((4 * fidelity_ - 1) / 3) ** leaves
    if not include_centre:
        f += (2 * (1 - fidelity_) / 3) ** leaves
    return f / 2


def secret_sharing_error_rate(fidelity_: float, leaves: int) -> float:
    """Probability that the players' combined bit differs from the dealer's (HBB99 on a
    fused GHZ state over ``leaves`` Werner links of fidelity ``F``): ``(1 − wⁿ)/2``.

    >>> secret_sharing_error_rate(1.0, 2)
    0.0
    """
    return (1 - ((4 * fidelity_ - 1) / 3) ** leaves) / 2


class _Star(Application):
    """Roles ``centre`` and ``leaf1 … leafN`` (set per instance)."""

    def __init__(self, leaves: int, min_fidelity: float):
        if not (isinstance(leaves, int) and leaves >= 1):
            raise ValueError(f"leaves must be an int >= 1, got {leaves!r}")
        self.leaves = leaves
        self.min_fidelity = min_fidelity
        self.leaf_roles = tuple(f"leaf{i}" for i in range(1, leaves + 1))
        self.roles = ("centre", *self.leaf_roles)  # type: ignore[misc]
        self.qubits = {"centre": leaves, **dict.fromkeys(self.leaf_roles, 1)}  # the centre holds one half per leaf
        for i, role in enumerate(self.leaf_roles):
            setattr(self, role, functools.partial(self.leaf, i))

    async def _fuse_centre(self, ctx: RoleContext, include_centre: bool) -> AppQubit | None:
        """Centre's side of the fusion: returns its GHZ qubit (None when measured out)."""
        halves = [(await ctx.epr_socket(leaf).create_keep(1, self.min_fidelity))[0] for leaf in self.leaf_roles]
        corrections = [0] * self.leaves  # bit 0: X, bit 1: Z
        for i in range(1, self.leaves):
            ctx.apply(gates.CNOT, halves[0], halves[i])
            corrections[i] = ctx.measure(halves[i], "Z")
        keep: AppQubit | None = halves[0]
        if not include_centre:
            corrections[0] |= 2 * ctx.measure(halves[0], "X")
            keep = None
        for leaf, c in zip(self.leaf_roles, corrections, strict=True):
            ctx.send(leaf, bytes([c]))
        return keep

    async def _fuse_leaf(self, ctx: RoleContext) -> AppQubit:
        """A leaf's side of the fusion: its half, corrected into the GHZ state."""
        (q,) = await ctx.epr_socket("centre").recv_keep(1)
        (c,) = await ctx.recv("centre")
        if c & 1:
            ctx.apply(gates.X, q)
        if c & 2:
            ctx.apply(gates.Z, q)
        return q

    async def leaf(self, index: int, ctx: RoleContext) -> Any:  # pragma: no cover - overridden
        raise TypeError(f"{type(self).__name__} must define what a leaf does with its GHZ qubit (leaf())")


class GHZ(_Star):
    """Share a GHZ state between the centre and ``leaves`` leaves (or the leaves alone).

    Each role returns its qubit (an :class:`AppQubit`, left unmeasured for
    :func:`ghz_fidelity`); the centre returns ``None`` when ``include_centre`` is False.
    """

    name = "ghz"
    stage = Stage.QUANTUM_MEMORY

    def summary(self, results: Mapping[str, Any]) -> dict[str, Any]:
        """The GHZ fidelity of the qubits the roles hold at the end."""
        return {"ghz_fidelity": ghz_fidelity([results[r] for r in self.roles])}

    def __init__(self, leaves: int = 3, *, include_centre: bool = True, min_fidelity: float = 0.0):
        super().__init__(leaves, min_fidelity)
        self.include_centre = include_centre

    async def centre(self, ctx: RoleContext) -> AppQubit | None:
        return await self._fuse_centre(ctx, self.include_centre)

    async def leaf(self, index: int, ctx: RoleContext) -> AppQubit:
        return await self._fuse_leaf(ctx)


@dataclass(frozen=True)
class SecretSharingResult:
    """One role's view after :class:`SecretSharing`: ``bases`` (0 = X, 1 = Y) and ``bits`` of
    every round, the indices of the ``valid`` rounds (even number of Y's) and this role's
    ``share`` on them — for the dealer the secret itself, for a player its share, corrected so
    that the players' shares XOR to the dealer's bits in the absence of noise."""

    bases: list[int]
    bits: list[int]
    valid: list[int]
    share: list[int]


class SecretSharing(_Star):
    """HBB99 quantum secret sharing: the centre deals, the ``leaves`` players share.

    ``rounds`` GHZ states over the centre and the leaves; everyone measures X or Y (uniform,
    own random stream) at once. The players announce their bases to the dealer, who announces
    the valid rounds (even number of Y's) and, to player 1, the sign ``(k/2 mod 2)`` of each
    valid round, which player 1 folds into its share. Every role returns a
    :class:`SecretSharingResult`.
    """

    name = "secret-sharing"
    stage = Stage.QUANTUM_MEMORY

    def __init__(self, rounds: int = 50, leaves: int = 2, *, min_fidelity: float = 0.0):
        super().__init__(leaves, min_fidelity)
        if not (isinstance(rounds, int) and rounds >= 1):
            raise ValueError(f"rounds must be an int >= 1, got {rounds!r}")
        self.rounds = rounds

    async def _rounds(self, ctx: RoleContext, qubit: Any) -> tuple[list[int], list[int]]:
        bases, bits = [], []
        for _ in range(self.rounds):
            q = await qubit()
            basis = int(ctx.rng.integers(2))
            bases.append(basis)
            bits.append(ctx.measure(q, "XY"[basis]))
        return bases, bits

    async def centre(self, ctx: RoleContext) -> SecretSharingResult:
        bases, bits = await self._rounds(ctx, lambda: self._fuse_centre(ctx, True))
        player_bases = [list(await ctx.recv(leaf)) for leaf in self.leaf_roles]
        ys = [bases[i] + sum(p[i] for p in player_bases) for i in range(self.rounds)]
        valid = [i for i in range(self.rounds) if ys[i] % 2 == 0]
        signs = [(ys[i] // 2) % 2 for i in valid]
        mask = bytes(int(ys[i] % 2 == 0) for i in range(self.rounds))
        for j, leaf in enumerate(self.leaf_roles):
            ctx.send(leaf, mask + (bytes(signs) if j == 0 else b""))
        return SecretSharingResult(bases, bits, valid, [bits[i] for i in valid])

    async def leaf(self, index: int, ctx: RoleContext) -> SecretSharingResult:
        bases, bits = await self._rounds(ctx, lambda: self._fuse_leaf(ctx))
        ctx.send("centre", bytes(bases))
        payload = await ctx.recv("centre")
        valid = [i for i in range(self.rounds) if payload[i]]
        share = [bits[i] for i in valid]
        if index == 0:
            share = [s ^ sign for s, sign in zip(share, payload[self.rounds:], strict=True)]
        return SecretSharingResult(bases, bits, valid, share)
