"""Quantum state across processes: the state service's lease and the ownership check.

The quantum state core (:mod:`qstack.quantum.core`) keeps qubits in *groups* sharing one density
matrix; protocol objects act on a node's qubits through it directly, synchronously. To run those
protocol objects unchanged in separate processes, the quantum-state service lends the state out:
a node process holds a **lease** while its dispatcher runs a batch of callbacks (see
:class:`~qstack.runtime.realtime.kernel.RealtimeKernel`), so quantum operations are serialised
across the network exactly as the simulation kernel serialises them in one process.

* Qubits that take part in shared state have ids ``"<owner node>/<counter>"``.
* The grant carries every group that holds one of the caller's qubits (density matrices as raw
  complex128: bit-exact); :class:`StateMirror` rebuilds them in place in the node's own
  ``Qubit`` objects (protocol objects hold references to them), so the state core and every
  protocol work on ordinary local objects during the batch.
* The return carries the groups as the batch left them and the qubits that died.

**The caller check** (:meth:`StateMirror.check_return`): a node may change only groups that held
one of its own qubits, may create only qubits it owns, may measure or discard only its own
qubits, and may not drop another node's qubit from a group. A return that breaks any of these is
refused whole (nothing applied) and counted.

A node's qubits that live only in its own groups never leave the node.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from qstack.proto.qstack.v1 import realtime_pb2
from qstack.quantum.core import Group, Qubit

__all__ = ["StateMirror", "StateRefused", "owner_of"]


class StateRefused(ValueError):
    """A node returned quantum state it may not have produced (it touched another node's qubits)."""


def owner_of(qid: str) -> str:
    """The node owning qubit ``qid``.

    >>> owner_of("n0/s17")
    'n0'
    """
    return qid.rsplit("/", 1)[0]


def _dm_bytes(dm: np.ndarray) -> bytes:
    return np.ascontiguousarray(dm, dtype="<c16").tobytes()


def _dm_from(data: bytes, n: int) -> np.ndarray:
    dim = 1 << n
    if len(data) != 16 * dim * dim:
        raise StateRefused(f"a group of {n} qubits needs {16 * dim * dim} bytes of density matrix, got {len(data)}")
    return np.frombuffer(data, dtype="<c16").reshape(dim, dim).astype(complex)


class StateMirror:
    """The qubits of one process that take part in shared state, by id (``node``: this process's
    node name, or the service's; ``prefix`` distinguishes ids it creates)."""

    def __init__(self, node: str, prefix: str = "n") -> None:
        self.node = node
        self.qubits: dict[str, Qubit] = {}
        self.ids: dict[int, str] = {}
        self._counter = itertools.count()
        self._prefix = prefix

    def register(self, q: Qubit, owner: str | None = None) -> str:
        """Give ``q`` an id owned by ``owner`` (default this node), or return the one it has."""
        qid = self.ids.get(id(q))
        if qid is None:
            qid = f"{owner or self.node}/{self._prefix}{next(self._counter)}"
            self.qubits[qid] = q
            self.ids[id(q)] = qid
        return qid

    def qubit(self, qid: str) -> Qubit:
        """The local handle of ``qid`` (made, alone in ``|0⟩``, when first seen)."""
        q = self.qubits.get(qid)
        if q is None:
            q = self.qubits[qid] = Qubit(qid)
            self.ids[id(q)] = qid
        return q

    def _forget(self, qid: str) -> None:
        q = self.qubits.pop(qid, None)
        if q is not None:
            self.ids.pop(id(q), None)

    # ------------------------------------------------------------------ export / apply

    def groups_of(self, qubits: Iterable[Qubit]) -> list[Group]:
        """The distinct live groups of ``qubits``."""
        seen: dict[int, Group] = {}
        for q in qubits:
            g = q.group
            if g is not None:
                seen.setdefault(id(g), g)
        return list(seen.values())

    def export(self, lease: int, groups: Iterable[Group], dead: Iterable[str] = ()) -> realtime_pb2.StateLease:
        """A ``StateLease`` with ``groups`` (their new members get ids owned by this node)."""
        msg = realtime_pb2.StateLease(lease=lease, dead=list(dead))
        for g in groups:
            msg.groups.add(qubits=[self.register(q) for q in g.qubits], dm=_dm_bytes(g.dm))
        return msg

    def export_return(self, lease: int) -> realtime_pb2.StateLease:
        """What a node sends back after a batch: every group of its registered qubits, and the
        registered qubits that died."""
        dead = [qid for qid, q in self.qubits.items() if q.group is None]
        msg = self.export(lease, self.groups_of(q for q in self.qubits.values() if q.group is not None), dead)
        for qid in dead:
            self._forget(qid)
        return msg

    def apply(self, msg: realtime_pb2.StateLease) -> None:
        """Rebuild the groups of ``msg`` in this process's qubit handles; qubits named dead die."""
        for group in msg.groups:
            qubits = [self.qubit(qid) for qid in group.qubits]
            g = Group(_dm_from(group.dm, len(qubits)), qubits)
            for q in qubits:
                q.group = g
                q.fate = None
        for qid in msg.dead:
            q = self.qubits.get(qid)
            if q is not None and q.group is not None:
                q._kill("measured or discarded at its node")  # noqa: SLF001 - the state core's own way to end a qubit
            self._forget(qid)

    def apply_grant(self, msg: realtime_pb2.StateLease) -> None:
        """(Node) take the lease's state; registered qubits it does not name are no longer shared
        with this node (another node's) or are gone at the service (this node's: they die)."""
        self.apply(msg)
        named = {qid for group in msg.groups for qid in group.qubits}
        for qid in [i for i in self.qubits if i not in named]:
            q = self.qubits[qid]
            if owner_of(qid) == self.node and q.group is not None:
                q._kill("lost at the state service")  # noqa: SLF001
            self._forget(qid)

    def grant_for(self, caller: str, lease: int) -> realtime_pb2.StateLease:
        """(Service) the groups holding one of ``caller``'s qubits."""
        mine = [q for qid, q in self.qubits.items() if q.group is not None and owner_of(qid) == caller]
        return self.export(lease, self.groups_of(mine))

    def check_return(self, caller: str, msg: realtime_pb2.StateLease) -> None:
        """(Service) refuse, before anything changes, a return that touches others' qubits."""
        old: dict[int, Group] = {}
        mentioned: set[str] = set()
        new_members: set[str] = set()
        for group in msg.groups:
            _dm_from(group.dm, len(group.qubits))
            if len(set(group.qubits)) != len(group.qubits):
                raise StateRefused(f"node {caller!r} returned a group naming a qubit twice")
            for qid in group.qubits:
                if qid in new_members:
                    raise StateRefused(f"node {caller!r} returned qubit {qid!r} in two groups")
                new_members.add(qid)
        for qid in msg.dead:
            if owner_of(qid) != caller:
                raise StateRefused(f"node {caller!r} may measure or discard only its own qubits, not {qid!r} "
                                   f"of {owner_of(qid)!r}")
        for qid in (*new_members, *msg.dead):
            mentioned.add(qid)
            q = self.qubits.get(qid)
            if q is None or q.group is None:
                if owner_of(qid) != caller:
                    raise StateRefused(f"node {caller!r} returned qubit {qid!r} of {owner_of(qid)!r}, which the "
                                       "service does not hold alive")
                continue
            old.setdefault(id(q.group), q.group)
        for g in old.values():
            ids = [self.ids[id(q)] for q in g.qubits]
            if not any(owner_of(i) == caller for i in ids):
                # untouched groups may come back unchanged; anything else is another node's state
                same = next((grp for grp in msg.groups if list(grp.qubits) == ids), None)
                if same is None or same.dm != _dm_bytes(g.dm):
                    raise StateRefused(f"node {caller!r} may operate only on its own qubits: it changed the "
                                       f"group {ids} of {sorted({owner_of(i) for i in ids})}")
            for i in ids:
                if owner_of(i) != caller and i not in new_members:
                    raise StateRefused(f"node {caller!r} dropped qubit {i!r} of {owner_of(i)!r}")

    def accept_return(self, caller: str, msg: realtime_pb2.StateLease) -> None:
        """(Service) check, then apply a node's return."""
        self.check_return(caller, msg)
        self.apply(msg)

    def discard_node(self, node: str) -> int:
        """(Service) a node restarted: trace its qubits out (their partners stay); how many."""
        from qstack.quantum.core import discard

        lost = 0
        for qid in [i for i in self.qubits if owner_of(i) == node]:
            q = self.qubits[qid]
            if q.group is not None:
                discard(q)
                lost += 1
            self._forget(qid)
        return lost

