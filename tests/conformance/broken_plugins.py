"""Small, deliberately broken plug-ins the conformance suite must reject — each for one reason —
and one legitimate but unusual policy it must accept.

Each broken class documents its fault; ``tests/conformance/test_broken.py`` names the check that
must fail for it.
"""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np
import qutip

from qstack.apps.bb84 import BB84
from qstack.apps.blind import BlindComputation, send_prepared_qubit
from qstack.apps.chsh import DIQKD
from qstack.apps.teleportation import Teleportation
from qstack.link.protocol import LinkLayer
from qstack.network.policies import Bbpssw, FixedCutoff, SwapAsap
from qstack.physical.heralding import HeraldingModel
from qstack.physical.memory import MemoryNoise, T1T2Noise
from qstack.qkd.entropy import di_qkd_rate
from qstack.quantum import gates, kernels
from qstack.quantum.core import operate
from qstack.quantum.operations import CORRECTIONS
from qstack.stages import Stage
from qstack.transport.sockets import TransportLayer

# ---------------------------------------------------------------------------------------------- swapping


class FrameCorrectingAsap(SwapAsap):
    """Legitimate: before swapping, physically correct each pair towards the tail to Φ⁺ with a local
    Pauli and announce frame 0 for it (the swap then only adds its own outcome). Different from
    the built-in, and correct — the suite must accept it. (Applied to the stored qubit directly:
    the conformance chain's memories are ideal, so nothing is pending on it.)"""

    name = "frame_correcting_asap"

    def correction(self, pair):
        return CORRECTIONS[pair.frame]

    def select(self, view):
        chosen = super().select(view)
        for _, down in chosen:
            if down.frame:
                operate([down.qubit], self.correction(down))
                down.frame = 0
        return chosen


class ForgetfulFrameAsap(FrameCorrectingAsap):
    """Broken: in a rare branch — a Ψ⁻ herald on every fourth pair of a link — it applies X but
    forgets the Z of the correction, yet still announces frame 0. The pair ends in Φ⁻ while the
    frame says Φ⁺."""

    name = "forgetful_frame_asap"

    def correction(self, pair):
        if pair.frame == 3 and pair.seq % 4 == 3:
            return CORRECTIONS[2]  # X only: the Z is forgotten
        return CORRECTIONS[pair.frame]


class LeakyAsap(SwapAsap):
    """Broken: drops pairs older than ``max_age`` from its queues without ``view.discard`` — the
    memory position is never released (and the neighbour never told)."""

    name = "leaky_asap"

    def __init__(self, max_age: float = 4e-4) -> None:
        self.max_age = max_age

    def select(self, view):
        for side in (view.up, view.down):
            for p in [p for p in side if view.now - p.created > self.max_age]:
                side.remove(p)  # should be view.discard(p)
        return super().select(view)


class UnseededAsap(SwapAsap):
    """Broken: defers swaps at random from Python's global, unseeded ``random`` — runs with one
    seed no longer give the same records."""

    name = "unseeded_asap"

    def select(self, view):
        if random.random() < 0.5:
            return []
        return super().select(view)


# ---------------------------------------------------------------------------------------------- purification


class TwirlSkippingBbpssw(Bbpssw):
    """Broken: announces BBPSSW (its name) but runs the circuit without the bilateral twirl. On
    Werner inputs the first round agrees; from the second round (non-Werner inputs) it does not."""

    name = "bbpssw"
    protocol = "dejmps"  # the circuit actually run: no twirl


# ---------------------------------------------------------------------------------------------- cut-off


class StaleCutoff(FixedCutoff):
    """Broken: announces a fixed ``time`` but never limits a pair (age_limit is infinite)."""

    name = "fixed"

    def age_limit(self, estimate):
        return math.inf


# ---------------------------------------------------------------------------------------------- memory noise


class OptimisticT1T2(T1T2Noise):
    """Broken: ``ptm_diagonal`` claims coherences decay with 2·T2 while ``apply`` uses T2."""

    name = "optimistic_t1t2"

    def ptm_diagonal(self, t):
        c = math.exp(-t * self.rate2 / 2)
        return (c, c, math.exp(-t * self.rate1))


class GaussianDephasing(MemoryNoise):
    """Broken for lazy decoherence: quasi-static noise, coherence e^{−(t/T)²}. Its transfer matrix
    is stated truthfully, but the channels do not compose (E(t₁)∘E(t₂) ≠ E(t₁+t₂))."""

    name = "gaussian_dephasing"

    def __init__(self, time: float = 0.1) -> None:
        self.time = time

    def _c(self, t):
        return math.exp(-((t / self.time) ** 2))

    def apply(self, dm, pos, n, dt):
        return kernels.apply_amplitude_phase_damping(np.asarray(dm, dtype=complex), pos, n, 0.0, self._c(dt))

    def ptm_diagonal(self, t):
        return (self._c(t), self._c(t), 1.0)

    def coherence_time(self):
        return self.time


# ---------------------------------------------------------------------------------------------- link scheme


class _Claims:
    """A heralding model that reports ``fidelity`` instead of its own."""

    def __init__(self, real, fidelity):
        self._real, self.fidelity = real, fidelity

    def __getattr__(self, name):
        return getattr(self._real, name)


class OverclaimingSingleClick:
    """Broken: single click at a fixed α = 0.3 (true F ≈ 0.72) that reports F = 0.99, so it
    accepts requests it cannot serve and its pairs' goodness lies."""

    name = "overclaiming_single_click"

    def __init__(self, alpha: float = 0.3) -> None:
        self.alpha = alpha

    def model(self, hw, min_fidelity):
        real = HeraldingModel("single_click", hw.eta_a, hw.eta_b, hw.p_dark, self.alpha, hw.phase_std, hw.cycle_time)
        claimed = _Claims(real, 0.99)
        return claimed if claimed.fidelity >= min_fidelity else None


# ---------------------------------------------------------------------------------------------- routing


class ShortcutRouting:
    """Broken: routes straight from source to destination, whether or not they are linked."""

    name = "shortcut"

    def route(self, topology, request):
        return [request.source, request.destination]


# ---------------------------------------------------------------------------------------------- link protocol


class PriorityBlindLinkLayer(LinkLayer):
    """Broken: its first end hands each free position pair to the requests in turn (round robin
    over all of them), ignoring their priorities."""

    def _next_request(self, end):
        if not end.requests:
            return None
        end.rr += 1
        return end.requests[end.rr % len(end.requests)]


class SilentDiscardAsap(SwapAsap):
    """Broken: turns down every fifth link pair (``seq % 5 == 4``) by discarding its own qubit and
    freeing its own position (through the link layer), but never tells the node holding the
    other half — that node keeps a worthless qubit (``view.discard`` would have sent EXPIRE)."""

    name = "silent_discard_asap"

    def select(self, view):
        from qstack.quantum.core import discard

        for side in (view.up, view.down):
            for p in [p for p in side if p.seq % 5 == 4]:
                side.remove(p)
                discard(p.qubit)
                view._net.link.release(p.link, p.position)  # noqa: SLF001 - deliberately bypasses discard
        return super().select(view)


# ---------------------------------------------------------------------------------------------- transport


class ForgetfulTransport(TransportLayer):
    """Broken: when the tail corrects a pair heralded in Ψ⁻ (frame 3) to Φ⁺ it applies only the X
    of the correction — the Z is cancelled before the built-in correction runs — so those pairs
    are delivered as Φ⁻ while the socket promises Φ⁺."""

    def deliver(self, d):
        if d.end == "tail" and d.frame == 3 and d.qubit.alive:
            operate([d.qubit], qutip.sigmaz())
        super().deliver(d)


class MismatchBlindTransport(TransportLayer):
    """Broken: never compares the receiver's ``recv_*`` with the creator's ``create_*`` (the flow's
    purpose is not checked at the tail), so a mismatch hangs or hands out the wrong pairs."""

    def flow_started(self, flow, end):
        return None


class FloorIgnoringTransport(TransportLayer):
    """Broken: drops the ``min_fidelity`` floor of ``create_keep`` (asks the network for any pair)."""

    def request_pairs(self, creator, receiver, number, min_fidelity, basis, bases=None, creator_at_once=False):
        return super().request_pairs(creator, receiver, number, 0.0, basis, bases, creator_at_once)


# ---------------------------------------------------------------------------------------------- applications


class KeyReusingBB84(BB84):
    """Broken: keeps the first key each role distilled and hands it out again in every later
    session (both ends agree — on a key already used)."""

    name = "key_reusing_bb84"
    _first: dict = {}

    async def _reuse(self, role, result):
        if result.aborted:
            return result
        first = KeyReusingBB84._first.setdefault(role, result.key)
        return dataclasses.replace(result, key=first, key_length=len(first))

    async def alice(self, ctx):
        return await self._reuse("alice", await super().alice(ctx))

    async def bob(self, ctx):
        return await self._reuse("bob", await super().bob(ctx))


class AngleLeakingBlind(BlindComputation):
    """Broken: the client prepares every qubit as |+⟩ (θ = 0, no one-time pad on the angle), so
    the server is told δ = (−1)^{s_x} φ + s_z π + r π — which reveals φ up to a sign and π."""

    name = "angle_leaking_blind"

    async def client(self, ctx):
        outputs = []
        for _ in range(self.runs):
            for _theta in self.phis:
                q = ctx.qubit()
                ctx.apply(gates.H, q)
                await send_prepared_qubit(ctx, q, "server", self.min_fidelity)
            s = []
            for i, phi in enumerate(self.phis):
                sx = s[i - 1] if i >= 1 else 0
                sz = s[i - 2] if i >= 2 else 0
                r = int(ctx.rng.integers(2))
                ctx.send("server", self._encode((-1) ** sx * phi + sz * math.pi + r * math.pi))
                (b,) = await ctx.recv("server")
                s.append(b ^ r)
            outputs.append(s[-1])
        return outputs


class UnderDeclaredTeleport(Teleportation):
    """Broken: teleports (keeps a pair half and the state: storage of entanglement, stage 3) but
    declares stage 1 (prepare and measure), so run_app would admit it on a network without
    useful memories."""

    name = "under_declared_teleport"
    stage = Stage.PREPARE_AND_MEASURE


class UnderDeclaredDIQKD(DIQKD):
    """Broken: takes pairs measured at once (create_measure: end-to-end entanglement, stage 2) but
    declares stage 1. The runtime has no mid-run guard for measured pairs, so only the comparison
    of the declaration with what the roles use catches it."""

    name = "under_declared_di_qkd"
    stage = Stage.PREPARE_AND_MEASURE


class StageHidingTeleport(Teleportation):
    """Broken: declares stage 3 but answers the runtime's ``stage_of`` with stage 0, so run_app's
    up-front check lets it start on a network without useful memories; it is stopped only mid-run,
    when it first keeps a qubit."""

    name = "stage_hiding_teleport"

    def stage_of(self, role):
        return Stage.TRUSTED_REPEATER


class AsymptoticRateDIQKD(DIQKD):
    """Broken: reports the asymptotic secret fraction at the observed S and Q,
    1 − h(Q) − h((1 + √((S/2)² − 1))/2), instead of the finite-statistics rate at the confidence
    bounds S_L and Q_U — an inflated rate."""

    name = "asymptotic_rate_di_qkd"

    def _result(self, ctx, link, chsh, q, q_se, q_n, test, rate, q_up, abort, raw_key, kept, eve):
        if abort is None and rate > 0.0:
            rate = di_qkd_rate(min(chsh.value, 2 * math.sqrt(2)), q)
        return super()._result(ctx, link, chsh, q, q_se, q_n, test, rate, q_up, abort, raw_key, kept, eve)


# ---------------------------------------------------------------------------------------------- transport (fuzz)


class TransferIndexingTransport(TransportLayer):
    """Broken: files each teleport outcome in a table of 64 slots indexed by its transfer id, so a
    well-formed TeleportRecord from the peer with a larger transfer id raises IndexError inside the
    protocol. Teleporting up to 63 states works."""

    def _on_teleport(self, src, msg):
        super()._on_teleport(src, msg)
        slots = self.__dict__.setdefault("_slots", [None] * 64)
        slots[msg.transfer_id] = msg.outcome
