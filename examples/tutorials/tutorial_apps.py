"""Tutorial: your own applications, one per stage, run from a scenario file.

An application subclasses ``qstack.apps.Application``: it declares the ``stage`` it needs, its
``roles`` (each an ``async def role(self, ctx)``), and how many memory qubits a role holds at
once (``qubits``). A scenario names it by path — ``[application] name = "tutorial_apps:RawKey"``
— so ``qstack run`` runs it (with this folder on ``PYTHONPATH``):

    PYTHONPATH=examples/tutorials qstack run examples/tutorials/stage2.toml
    PYTHONPATH=examples/tutorials qstack run examples/tutorials/stage3.toml

* ``RawKey`` (stage 2, entanglement distribution): both ends measure each pair at once in Z —
  nothing is stored. Outcomes are corrected to Φ⁺'s correlations, so a Werner pair of fidelity
  F disagrees with probability 2(1 − F)/3: the raw key's QBER.
* ``StoredParity`` (stage 3, quantum memory): both ends keep their halves, wait ``hold``
  seconds, then measure in X. Φ⁺ has ⟨XX⟩ = 1; after dephasing of both halves (T2) the parity
  agrees with probability (1 + e^{−2t/T2})/2 for a perfect pair. On a network whose memories
  cannot store entanglement, running it is refused before anything runs (exit code 3).
"""

from __future__ import annotations

from qstack.apps import Application
from qstack.stages import Stage


class RawKey(Application):
    name = "raw-key"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    def __init__(self, pairs: int = 200) -> None:
        self.pairs = pairs

    async def alice(self, ctx):
        bits = await ctx.epr_socket("bob").create_measure(self.pairs, basis="Z")
        ctx.send("bob", bytes(bits))
        return bits

    async def bob(self, ctx):
        bits = await ctx.epr_socket("alice").recv_measure(self.pairs)
        theirs = list(await ctx.recv("alice"))
        return {"qber": sum(a != b for a, b in zip(bits, theirs, strict=True)) / len(bits), "pairs": len(bits)}


class StoredParity(Application):
    name = "stored-parity"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")
    qubits = 1

    def __init__(self, pairs: int = 50, hold: float = 1e-3) -> None:
        self.pairs, self.hold = pairs, hold

    async def alice(self, ctx):
        sock, out = ctx.epr_socket("bob"), []
        for _ in range(self.pairs):
            (q,) = await sock.create_keep(1)
            await ctx.sleep(self.hold)
            out.append(ctx.measure(q, "X"))
        ctx.send("bob", bytes(out))
        return out

    async def bob(self, ctx):
        sock, out = ctx.epr_socket("alice"), []
        for _ in range(self.pairs):
            (q,) = await sock.recv_keep(1)
            await ctx.sleep(self.hold)
            out.append(ctx.measure(q, "X"))
        theirs = list(await ctx.recv("alice"))
        return {"agree": sum(a == b for a, b in zip(out, theirs, strict=True)) / len(out), "pairs": len(out)}
