"""Stage 2: the CHSH game and device-independent QKD on measured end-to-end pairs.

The CHSH inequality (Clauser, Horne, Shimony & Holt, PRL 23, 880 (1969)) bounds the value
``S = E₀₀ + E₀₁ + E₁₀ − E₁₁`` of any local model by 2; quantum pairs reach Tsirelson's 2√2.
Observables are in the X–Z plane of the Bloch sphere, ``A(α) = cos α Z + sin α X`` (outcome
0 ↔ eigenvalue +1); on Φ⁺ their correlator is ``⟨A(α) ⊗ A(β)⟩ = cos(α − β)``. With Alice's
``A₀ = Z`` (α = 0), ``A₁ = X`` (π/2) and Bob's ``B₀ = (Z + X)/√2`` (π/4), ``B₁ = (Z − X)/√2``
(−π/4) every correlator has modulus 1/√2 and ``S = 2√2``. A Werner pair
``w Φ⁺ + (1 − w) 𝟙/4`` of fidelity ``F`` (``w = (4F − 1)/3``) scales every correlator by ``w``:
``S = 2√2 (4F − 1)/3``.

* **CHSH game** (:class:`CHSHGame`): inputs ``x, y`` uniform bits, the players win when
  ``a ⊕ b = x·y``. ``P(win) = ¼ Σ_xy (1 ± E_xy)/2 = ½ + S/8``: ``cos²(π/8) ≈ 0.854`` for Φ⁺,
  ``½ + √2 (4F − 1)/12`` for Werner pairs, at most ¾ for any local (separable) model.
* **Device-independent QKD** (:class:`DIQKD`), Acín, Brunner, Gisin, Massar, Pironio & Scarani,
  PRL 98, 230501 (2007) and Pironio et al., NJP 11, 045021 (2009): Alice measures ``A₀`` or
  ``A₁``, Bob ``B₀``, ``B₁`` or ``B₂ = A₀``, all uniformly at random. Rounds ``(A₀, B₂)`` make the
  raw key, whose error rate ``Q`` is estimated on a random sample; rounds with ``y ∈ {0, 1}``
  estimate ``S``. If ``S`` does not exceed the abort threshold (2 by default, the local bound)
  the protocol aborts; otherwise the asymptotic key rate against collective attacks is
  ``r = 1 − h(Q) − h((1 + √((S/2)² − 1))/2)`` (:func:`qstack.qkd.entropy.di_qkd_rate`).
  For Werner pairs ``Q = 2(1 − F)/3 = (1 − w)/2``.
* **Intercept-resend attack** (``attack="intercept_resend"``): Eve measures Bob's half in Z
  before Bob does and resends the basis state she saw. Bob's outcomes then come from a
  separable state: ``E(A₀, B(β)) = w cos β`` and ``E(A₁, ·) = 0``, so ``S = √2·w ≤ √2 < 2``
  and the protocol aborts — although the key rounds (Z on both sides) show the honest QBER
  ``(1 − w)/2`` (0 for perfect pairs) and Eve knows every key bit Bob has.

**Settings versus the state's optimum** (:func:`settings_gap`): the game's settings are optimal
for Φ⁺ and Werner pairs, not for every state. For a general two-qubit state the best CHSH value
over all settings is ``S_max = 2√(m₁ + m₂)`` (Horodecki, Horodecki & Horodecki, PLA 200, 340
(1995); :mod:`qstack.quantum.bell`), and :func:`settings_gap` reports the value at the given
settings beside it — Φ⁻, for instance, gives ``S = 0`` at the game's settings but
``S_max = 2√2``.

Standard errors: each correlator ``E_xy`` is a mean of ``n_xy`` values ±1, variance
``(1 − E_xy²)/n_xy``, so ``SE(S) = √(Σ_xy (1 − E_xy²)/n_xy)``; the win rate and QBER are
binomial proportions, ``SE = √(p(1 − p)/n)``.

**Stage.** Both protocols only *measure* each pair as soon as it arrives: stage 2
(entanglement distribution) in Wehner, Elkouss & Hanson, Science 362, eaam9288 (2018), Table 1.
They use the transport's measured pairs with per-side random bases
(``create_measure(n, bases=..., remote_bases=...)``, NetQASM's ``random_basis_local`` /
``random_basis_remote``): each side's *device* draws its setting uniformly from its own list of
X–Z-plane angles and reports ``(outcome, setting)``, so nothing is ever stored.

The intercept-resend attack is the exception: Eve must act on Bob's qubit before his device
measures it, which the measured-pair service does not expose, so an attacked run takes kept
pairs and measures them at once (``batch`` per request, settings from the role's random
stream) and declares stage 3 — a simulation device for Eve, not a need of Alice and Bob.

>>> from qstack.apps import run_app
>>> from qstack.scenario import linear_chain, load_scenario
>>> sc = load_scenario(linear_chain(2, seed=1, t2="inf"))
>>> r = run_app(CHSHGame(rounds=8), sc, {"alice": "n0", "bob": "n1"})
>>> r.results["alice"].rounds
8
>>> round(chsh_win_probability(1.0), 6)          # cos²(π/8)
0.853553
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import qutip

from qstack.qkd.entropy import TSIRELSON_BOUND, chsh_value_werner, di_qkd_rate
from qstack.quantum import gates
from qstack.quantum.bell import CHSHSettings, chsh_value, max_chsh_value
from qstack.stages import Stage
from qstack.transport.sockets import AppQubit

from .runtime import Application, RoleContext

__all__ = [
    "ALICE_ANGLES",
    "BOB_ANGLES",
    "CHSHEstimate",
    "CHSHGame",
    "CHSHGap",
    "DIQKD",
    "DIQKDResult",
    "INTERCEPT_RESEND",
    "chsh_win_probability",
    "estimate_chsh",
    "intercept_resend_chsh_value",
    "measure_xz",
    "settings_gap",
    "werner_qber",
    "xz_basis",
]

ALICE_ANGLES: tuple[float, float] = (0.0, math.pi / 2)
"""Alice's observables ``A₀ = Z``, ``A₁ = X`` as angles from Z in the X–Z plane."""

BOB_ANGLES: tuple[float, float, float] = (math.pi / 4, -math.pi / 4, 0.0)
"""Bob's ``B₀ = (Z + X)/√2``, ``B₁ = (Z − X)/√2`` and (DI-QKD only) ``B₂ = A₀ = Z``."""

INTERCEPT_RESEND = "intercept_resend"
"""The ``attack`` name of :class:`DIQKD`'s intercept-resend eavesdropper on Bob's side."""


def xz_basis(angle: float) -> list[qutip.Qobj]:
    """Eigenbasis of ``cos α Z + sin α X``: ``[|+_α⟩, |−_α⟩]`` with
    ``|+_α⟩ = cos(α/2)|0⟩ + sin(α/2)|1⟩`` (outcome 0, eigenvalue +1).

    >>> [round(float(v), 6) for v in xz_basis(math.pi / 2)[0].full().real.ravel()]
    [0.707107, 0.707107]
    """
    c, s = math.cos(angle / 2), math.sin(angle / 2)
    return [qutip.Qobj(np.array([[c], [s]])), qutip.Qobj(np.array([[-s], [c]]))]


def measure_xz(ctx: RoleContext, q: AppQubit, angle: float) -> int:
    """Measure ``q`` in the eigenbasis of ``A(angle)`` (node's readout noise); frees it.

    Angles 0 and π/2 use the named bases Z and X (the same projectors as :func:`xz_basis`).
    """
    if angle == 0.0:
        return ctx.measure(q, "Z")
    if angle == math.pi / 2:
        return ctx.measure(q, "X")
    return ctx.measure(q, xz_basis(angle))


def chsh_win_probability(fidelity: float) -> float:
    """Win probability ``½ + S/8`` of the CHSH game with Werner pairs of ``fidelity``.

    >>> chsh_win_probability(0.25)
    0.5
    """
    return 0.5 + chsh_value_werner(fidelity) / 8.0


def werner_qber(fidelity: float) -> float:
    """Error rate of Z–Z (or X–X) outcomes on a Werner pair: ``2(1 − F)/3``.

    >>> werner_qber(1.0)
    0.0
    """
    return 2.0 * (1.0 - fidelity) / 3.0


def intercept_resend_chsh_value(fidelity: float) -> float:
    """CHSH value after Eve measures Bob's half of a Werner pair in Z and resends: ``√2·w``.

    >>> round(intercept_resend_chsh_value(1.0), 12) == round(math.sqrt(2), 12)
    True
    """
    w = (4.0 * fidelity - 1.0) / 3.0
    return math.sqrt(2.0) * w


class CHSHGap(NamedTuple):
    """A state's CHSH ``value`` at some settings and its ``optimum`` ``S_max`` over all settings.

    >>> CHSHGap(2.0, 2.5).gap
    0.5
    """

    value: float
    optimum: float

    @property
    def gap(self) -> float:
        """``optimum − value``: how much CHSH value the settings leave unused (≥ 0)."""
        return self.optimum - self.value


def settings_gap(state: qutip.Qobj | np.ndarray,
                 settings: CHSHSettings | tuple[Sequence[float], Sequence[float]] | None = None) -> CHSHGap:
    """CHSH value of ``state`` at ``settings`` and the state's best ``S_max = 2√(m₁ + m₂)``.

    ``settings`` is a :class:`~qstack.quantum.bell.CHSHSettings`, a pair ``(alice_angles,
    bob_angles)`` of X–Z-plane angles as in :func:`xz_basis` (two each), or ``None`` for this
    game's ``ALICE_ANGLES`` and ``BOB_ANGLES[:2]``. ``S`` is ``E₀₀ + E₀₁ + E₁₀ − E₁₁`` as in
    :func:`estimate_chsh`; ``S_max`` is Horodecki, Horodecki & Horodecki, PLA 200, 340 (1995)
    (:func:`qstack.quantum.bell.max_chsh_value`; the settings reaching it:
    :func:`qstack.quantum.bell.optimal_chsh_settings`). ``state`` is a 4×4 density matrix; an
    invalid one raises ``ValueError``.

    >>> from qstack.quantum.states import bell_state, werner
    >>> g = settings_gap(werner(0.9))                      # the game's settings are optimal here
    >>> abs(g.gap) < 1e-12
    True
    >>> [round(x, 6) for x in settings_gap(bell_state("phi-"))]   # ... but useless for Φ⁻
    [0.0, 2.828427]
    """
    if settings is None:
        settings = CHSHSettings.from_xz_angles(ALICE_ANGLES, BOB_ANGLES[:2])
    elif not isinstance(settings, CHSHSettings):
        alice, bob = settings
        settings = CHSHSettings.from_xz_angles(alice, bob)
    return CHSHGap(chsh_value(state, settings), max_chsh_value(state))


@dataclass(frozen=True)
class CHSHEstimate:
    """CHSH statistics of a set of rounds (inputs ``x``, ``y`` ∈ {0, 1}).

    ``correlators[x][y]`` is ``E_xy`` (mean of ``(−1)^{a⊕b}``), ``counts[x][y]`` its number of
    rounds; ``value`` is ``S = E₀₀ + E₀₁ + E₁₀ − E₁₁`` with ``standard_error``
    ``√(Σ (1 − E_xy²)/n_xy)``; ``win_rate`` is the fraction with ``a ⊕ b = x·y``.
    """

    value: float
    standard_error: float
    correlators: tuple[tuple[float, float], tuple[float, float]]
    counts: tuple[tuple[int, int], tuple[int, int]]
    win_rate: float
    win_rate_standard_error: float
    rounds: int


def estimate_chsh(x: Sequence[int], y: Sequence[int], a: Sequence[int], b: Sequence[int]) -> CHSHEstimate:
    """Estimate S, its standard error and the CHSH-game win rate from rounds ``(x, y, a, b)``.

    An input combination that never occurred makes its ``E_xy`` and ``S`` NaN and the
    standard error infinite (a protocol must then abort).

    >>> e = estimate_chsh([0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 0, 0], [0, 0, 0, 1])
    >>> e.value, e.win_rate
    (4.0, 1.0)
    """
    xs, ys, aa, bb = (np.asarray(v, dtype=int) for v in (x, y, a, b))
    if not (len(xs) == len(ys) == len(aa) == len(bb)):
        raise ValueError(f"x, y, a, b must have one entry per round, got lengths {len(xs)}, {len(ys)}, "
                         f"{len(aa)}, {len(bb)}")
    signs = 1 - 2 * (aa ^ bb)
    corr = [[0.0, 0.0], [0.0, 0.0]]
    counts = [[0, 0], [0, 0]]
    var = 0.0
    for i in (0, 1):
        for j in (0, 1):
            sel = (xs == i) & (ys == j)
            n = int(sel.sum())
            e = float(signs[sel].mean()) if n else math.nan
            corr[i][j], counts[i][j] = e, n
            var += (1.0 - e * e) / n if n else math.inf
    s = corr[0][0] + corr[0][1] + corr[1][0] - corr[1][1]
    wins = ((aa ^ bb) == (xs & ys)).astype(float)
    p = float(wins.mean()) if len(wins) else math.nan
    return CHSHEstimate(s, math.sqrt(var), (tuple(corr[0]), tuple(corr[1])),  # type: ignore[arg-type]
                        (tuple(counts[0]), tuple(counts[1])), p,  # type: ignore[arg-type]
                        math.sqrt(p * (1 - p) / len(xs)) if len(xs) else math.inf, len(xs))


async def _measured_rounds(ctx: RoleContext, peer: str, creator: bool, rounds: int, local: Sequence[float],
                           remote: Sequence[float], *, attack: str | None = None, batch: int = 1,
                           min_fidelity: float = 0.0) -> tuple[list[int], list[int], list[int]]:
    """``rounds`` pairs, each measured at once at an angle drawn uniformly from ``local`` (this
    side) and ``remote`` (the peer): returns this side's settings, outcomes and Eve's bits.

    Honest runs use measured pairs (stage 2; the devices draw the settings). With ``attack``
    the pairs are kept, ``batch`` per request, and measured at once by the role (settings from
    ``ctx.rng``) after Eve, on the receiver's side, measured in Z and resent.
    """
    sock = ctx.epr_socket(peer)
    if attack is None:
        if creator:
            res = await sock.create_measure(rounds, min_fidelity=min_fidelity, bases=tuple(local),
                                            remote_bases=tuple(remote))
        else:
            res = await sock.recv_measure(rounds)
        return [int(k) for _, k in res], [int(m) for m, _ in res], []
    inputs: list[int] = []
    outcomes: list[int] = []
    eve: list[int] = []
    left = rounds
    while left:
        k = min(batch, left)
        qubits = await (sock.create_keep(k, min_fidelity) if creator else sock.recv_keep(k))
        for q in qubits:
            choice = int(ctx.rng.integers(len(local)))
            if attack == INTERCEPT_RESEND and not creator:
                m = ctx.measure(q, "Z")  # Eve intercepts Bob's photon in Z ...
                eve.append(m)
                q = ctx.qubit()  # ... and resends the basis state she saw
                if m:
                    ctx.apply(gates.X, q)
            inputs.append(choice)
            outcomes.append(measure_xz(ctx, q, local[choice]))
        left -= k
    return inputs, outcomes, eve


def _check_rounds(rounds: int, batch: int) -> None:
    if not (isinstance(rounds, int) and rounds >= 1):
        raise ValueError(f"rounds must be an int >= 1, got {rounds!r}")
    if not (isinstance(batch, int) and batch >= 1):
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")


class CHSHGame(Application):
    """Play ``rounds`` CHSH games on measured end-to-end pairs between ``alice`` and ``bob``.

    Each side's device draws its input (``A₀ = Z, A₁ = X``; ``B₀, B₁ = (Z ± X)/√2``) and
    measures at once. At the end Bob sends his inputs and outcomes to Alice, who returns a
    :class:`CHSHEstimate`; Bob returns ``(inputs, outcomes)``.
    """

    name = "chsh-game"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    def __init__(self, rounds: int = 100, *, min_fidelity: float = 0.0):
        _check_rounds(rounds, 1)
        self.rounds, self.min_fidelity = rounds, min_fidelity

    async def alice(self, ctx: RoleContext) -> CHSHEstimate:
        x, a, _ = await _measured_rounds(ctx, "bob", True, self.rounds, ALICE_ANGLES, BOB_ANGLES[:2],
                                         min_fidelity=self.min_fidelity)
        payload = await ctx.recv("bob")
        n = self.rounds
        y, b = list(payload[:n]), list(payload[n:])
        return estimate_chsh(x, y, a, b)

    async def bob(self, ctx: RoleContext) -> tuple[list[int], list[int]]:
        y, b, _ = await _measured_rounds(ctx, "alice", False, self.rounds, BOB_ANGLES[:2], ALICE_ANGLES)
        ctx.send("alice", bytes(y) + bytes(b))
        return y, b


@dataclass(frozen=True)
class DIQKDResult:
    """One side's result of :class:`DIQKD` (Bob's statistics are the ones Alice announced).

    ``chsh`` (S from the rounds with ``y ∈ {0, 1}``), ``qber`` and ``qber_standard_error``
    (estimated on the ``qber_rounds`` revealed key rounds), ``rate`` (asymptotic secret bits per raw
    key bit, 0 when aborted), ``aborted``, ``raw_key`` (this side's bits of the unrevealed key
    rounds — returned for inspection even when the run aborted, when it must not be used),
    ``key_rounds`` (their round indices), and ``eavesdropper_key`` (Eve's bits on those rounds
    under an attack — the experimenter's view, known to neither Alice nor Bob).
    """

    chsh: CHSHEstimate
    qber: float
    qber_standard_error: float
    qber_rounds: int
    rate: float
    aborted: bool
    raw_key: list[int]
    key_rounds: list[int]
    eavesdropper_key: list[int] | None = None


def _pack(e: CHSHEstimate, q: float, q_se: float, q_n: int, rate: float, aborted: bool) -> bytes:
    c, n = e.correlators, e.counts
    values = [e.value, e.standard_error, *c[0], *c[1], *n[0], *n[1], e.win_rate, e.win_rate_standard_error,
              e.rounds, q, q_se, q_n, rate, float(aborted)]
    return np.array(values, dtype=np.float64).tobytes()


def _unpack(payload: bytes) -> tuple[CHSHEstimate, float, float, int, float, bool]:
    v = np.frombuffer(payload, dtype=np.float64).tolist()
    counts = ((int(v[6]), int(v[7])), (int(v[8]), int(v[9])))
    e = CHSHEstimate(v[0], v[1], ((v[2], v[3]), (v[4], v[5])), counts, v[10], v[11], int(v[12]))
    return e, v[13], v[14], int(v[15]), v[16], bool(v[17])


class DIQKD(Application):
    """Device-independent QKD of Acín et al. (2007) between ``alice`` and ``bob``.

    ``rounds`` measured pairs; Alice's input ``x ∈ {0, 1}``, Bob's ``y ∈ {0, 1, 2}``, uniform.
    Public discussion: both announce their inputs; Bob reveals his outcomes on the CHSH rounds
    (``y ≤ 1``) and on a random fraction ``qber_sample`` of the key rounds (``x = 0, y = 2``);
    Alice estimates S and Q, aborts when ``S ≤ abort_below`` and otherwise computes the rate,
    and announces her statistics and verdict. ``attack="intercept_resend"`` puts Eve on Bob's
    side (see the module docstring; that run keeps pairs, ``batch`` per request, and needs
    stage 3). Both roles return a :class:`DIQKDResult`. Error correction
    and privacy amplification (see :mod:`qstack.qkd`) are left to the caller: ``rate`` is the
    asymptotic fraction of the raw key they would keep.
    """

    name = "di-qkd"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    def __init__(self, rounds: int = 300, *, batch: int = 1, qber_sample: float = 0.5, abort_below: float = 2.0,
                 attack: str | None = None, min_fidelity: float = 0.0):
        _check_rounds(rounds, batch)
        if not 0.0 < qber_sample < 1.0:
            raise ValueError(f"qber_sample must be in (0, 1), got {qber_sample}")
        if attack not in (None, INTERCEPT_RESEND):
            raise ValueError(f"attack must be None or {INTERCEPT_RESEND!r}, got {attack!r}")
        self.rounds, self.batch, self.qber_sample = rounds, batch, qber_sample
        self.qubits = batch  # kept runs hold one batch of halves at once
        self.abort_below, self.attack, self.min_fidelity = abort_below, attack, min_fidelity
        if attack is not None:  # Eve touches Bob's qubit: kept pairs (module docstring)
            self.stage = Stage.QUANTUM_MEMORY  # type: ignore[misc]

    def _rounds(self, x: Sequence[int], y: Sequence[int]) -> tuple[list[int], list[int]]:
        key = [i for i in range(self.rounds) if x[i] == 0 and y[i] == 2]
        test = [i for i in range(self.rounds) if y[i] <= 1]
        return key, test

    async def alice(self, ctx: RoleContext) -> DIQKDResult:
        x, a, _ = await _measured_rounds(ctx, "bob", True, self.rounds, ALICE_ANGLES, BOB_ANGLES,
                                         attack=self.attack, batch=self.batch, min_fidelity=self.min_fidelity)
        ctx.send("bob", bytes(x))
        y = list(await ctx.recv("bob"))
        key_rounds, test_rounds = self._rounds(x, y)
        sample = list(await ctx.recv("bob"))  # one flag per key round: 1 = revealed
        revealed = list(await ctx.recv("bob"))  # Bob's outcomes: test rounds, then the sample
        b_test, b_sample = revealed[:len(test_rounds)], revealed[len(test_rounds):]
        chsh = estimate_chsh([x[i] for i in test_rounds], [y[i] for i in test_rounds],
                             [a[i] for i in test_rounds], b_test)
        sampled = [i for i, s in zip(key_rounds, sample, strict=True) if s]
        errors = [a[i] ^ bit for i, bit in zip(sampled, b_sample, strict=True)]
        q = float(np.mean(errors)) if errors else 0.0
        q_se = math.sqrt(q * (1 - q) / len(errors)) if errors else math.inf
        aborted = not chsh.value > self.abort_below  # NaN (too few rounds) aborts too
        rate = 0.0 if aborted else di_qkd_rate(min(chsh.value, TSIRELSON_BOUND), min(q, 0.5))
        ctx.send("bob", _pack(chsh, q, q_se, len(errors), rate, aborted))
        kept = [i for i, s in zip(key_rounds, sample, strict=True) if not s]
        return DIQKDResult(chsh, q, q_se, len(errors), rate, aborted, [a[i] for i in kept], kept)

    async def bob(self, ctx: RoleContext) -> DIQKDResult:
        y, b, eve = await _measured_rounds(ctx, "alice", False, self.rounds, BOB_ANGLES, ALICE_ANGLES,
                                           attack=self.attack, batch=self.batch)
        x = list(await ctx.recv("alice"))
        ctx.send("alice", bytes(y))
        key_rounds, test_rounds = self._rounds(x, y)
        sample = [int(ctx.rng.random() < self.qber_sample) for _ in key_rounds]
        ctx.send("alice", bytes(sample))
        sampled = [i for i, s in zip(key_rounds, sample, strict=True) if s]
        ctx.send("alice", bytes([b[i] for i in test_rounds] + [b[i] for i in sampled]))
        chsh, q, q_se, q_n, rate, aborted = _unpack(await ctx.recv("alice"))
        kept = [i for i, s in zip(key_rounds, sample, strict=True) if not s]
        return DIQKDResult(chsh, q, q_se, q_n, rate, aborted, [b[i] for i in kept], kept,
                           [eve[i] for i in kept] if self.attack else None)
