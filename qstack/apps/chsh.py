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
  are the Bell test. The test is not a point estimate: the one-sided Chernoff lower bound
  ``S_L = 8 w_L − 4`` on the CHSH winning probability at ``epsilon_bell``
  (:func:`qstack.qkd.device_independent.chsh_bell_test`) must exceed the abort threshold (2 by
  default, the local bound), so devices running any local strategy pass with probability
  ≤ ``epsilon_bell``. The rate is the collective-attack rate
  ``r = 1 − h(Q) − h((1 + √((S/2)² − 1))/2)`` (:func:`qstack.qkd.entropy.di_qkd_rate`) at the
  bounds ``S_L`` and ``Q_U`` (:func:`qstack.qkd.device_independent.di_qkd_finite_rate`); a run
  without a positive rate aborts too. For Werner pairs ``Q = 2(1 − F)/3 = (1 − w)/2``.
* **Authenticated public discussion**: every message that decides the key or the verdict —
  inputs, sample, revealed outcomes, verdict, Bob's reply — carries a Wegman–Carter tag over a
  pre-shared key that never comes from the seed (:mod:`qstack.apps.bb84`); a forged, altered or
  replayed message aborts the role that refuses it, which tells the other.
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from qstack.qkd.authentication import KEY_BITS_PER_TAG, PresharedKey, load_preshared_key
from qstack.qkd.device_independent import (
    FINITE_KEY_BOUNDS,
    BellTest,
    DIQKDFiniteKey,
    chsh_bell_test,
    di_qkd_finite_key,
    di_qkd_finite_rate,
)
from qstack.qkd.entropy import TSIRELSON_BOUND, chsh_value_werner
from qstack.qkd.pipeline import MessageRejected, QKDAbort
from qstack.quantum import gates
from qstack.quantum._qutip import qutip as _qutip
from qstack.quantum.bell import CHSHSettings, chsh_value, max_chsh_value
from qstack.stages import Stage
from qstack.transport.sockets import AppQubit

from .bb84 import AuthenticatedLink, ProtocolError, _Reader, _session_state, _Writer, authenticated_link
from .runtime import Application, RoleContext

if TYPE_CHECKING:
    import qutip

__all__ = [
    "ALICE_ANGLES",
    "BOB_ANGLES",
    "CHSHEstimate",
    "CHSHGame",
    "CHSHGap",
    "DIQKD",
    "DIQKDResult",
    "INTERCEPT_RESEND",
    "LOCAL_HIDDEN_VARIABLE",
    "LOCAL_STRATEGIES",
    "SPOT_CHECKING",
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

LOCAL_HIDDEN_VARIABLE = "local_hidden_variable"
"""The ``attack`` name of :class:`DIQKD`'s local devices: a classical strategy with ``S = 2``, known to Eve."""


def xz_basis(angle: float) -> list[qutip.Qobj]:
    """Eigenbasis of ``cos α Z + sin α X``: ``[|+_α⟩, |−_α⟩]`` with
    ``|+_α⟩ = cos(α/2)|0⟩ + sin(α/2)|1⟩`` (outcome 0, eigenvalue +1).

    >>> [round(float(v), 6) for v in xz_basis(math.pi / 2)[0].full().real.ravel()]
    [0.707107, 0.707107]
    """
    c, s = math.cos(angle / 2), math.sin(angle / 2)
    qobj = _qutip().Qobj
    return [qobj(np.array([[c], [s]])), qobj(np.array([[-s], [c]]))]


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
    (estimated on the ``qber_rounds`` revealed key rounds), ``rate`` (the finite-statistics secret
    fraction per raw key bit, :func:`qstack.qkd.device_independent.di_qkd_finite_rate`; 0 when
    aborted), ``aborted``, ``raw_key`` (this side's bits of the unrevealed key rounds — returned
    for inspection even when the run aborted, when it must not be used), ``key_rounds`` (their
    round indices), and ``eavesdropper_key`` (Eve's bits on those rounds under an attack — the
    experimenter's view, known to neither Alice nor Bob). ``bell_test`` is the
    :class:`~qstack.qkd.device_independent.BellTest` (wins, lower bound ``S_L`` at
    ``epsilon_bell``, verdict); ``qber_upper`` the bound ``Q_U`` in the rate; ``abort`` the
    :class:`~qstack.qkd.QKDAbort` (same message at both roles); ``rejected`` the messages this
    role refused, by reason; ``auth_key_source`` where the pre-shared key came from.
    ``protocol = "spot_checking"`` also fills ``finite_key`` (the
    :class:`~qstack.qkd.device_independent.DIQKDFiniteKey` at the run's statistics) and
    ``key_length`` (its length less the revealed sample, bits; ≤ 0: no key); ``rate`` is then
    ``max(key_length, 0)`` per kept raw key bit.
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
    bell_test: BellTest | None = None
    qber_upper: float = math.nan
    abort: QKDAbort | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    auth_key_source: str = ""
    finite_key: DIQKDFiniteKey | None = None
    key_length: float = math.nan


SPOT_CHECKING = "spot_checking"
"""The ``protocol`` name of :class:`DIQKD`'s biased-basis (spot-checking) protocol with a finite key."""


def _write_estimate(w: _Writer, e: CHSHEstimate) -> _Writer:
    c, n = e.correlators, e.counts
    for v in (e.value, e.standard_error, *c[0], *c[1], e.win_rate, e.win_rate_standard_error):
        w.f64(v)
    for k in (*n[0], *n[1], e.rounds):
        w.u64(k)
    return w


def _read_estimate(r: _Reader) -> CHSHEstimate:
    v = [r.f64() for _ in range(8)]
    k = [r.u64() for _ in range(5)]
    return CHSHEstimate(v[0], v[1], ((v[2], v[3]), (v[4], v[5])), ((k[0], k[1]), (k[2], k[3])), v[6], v[7], k[4])


def _text(r: _Reader) -> str:
    return r.small().tobytes().decode()


def _small(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def _local_strategies() -> tuple[tuple[int, int, int, int], ...]:
    """The 8 deterministic CHSH strategies ``(α₀, α₁, β₀, β₁)`` that win 3 of the 4 input pairs."""
    table = []
    for a0 in (0, 1):
        for a1 in (0, 1):
            for b0 in (0, 1):
                for b1 in (0, 1):
                    wins = sum((ax ^ by) == (x & y) for x, ax in enumerate((a0, a1)) for y, by in enumerate((b0, b1)))
                    if wins == 3:
                        table.append((a0, a1, b0, b1))
    return tuple(table)


LOCAL_STRATEGIES: tuple[tuple[int, int, int, int], ...] = _local_strategies()
"""Deterministic local strategies ``(α₀, α₁, β₀, β₁)`` with ``P(win) = ¾`` — :data:`LOCAL_HIDDEN_VARIABLE`
picks one uniformly per round, so each ``E_xy = ±½`` and ``S = 2`` exactly in expectation."""

_DI_QKD_TAGS = 4  # per direction at most: Bob's inputs, sample, outcomes, reply (Alice: inputs, verdict, abort)


class DIQKD(Application):
    """Device-independent QKD of Acín et al. (2007) between ``alice`` and ``bob``.

    ``rounds`` measured pairs; Alice's input ``x ∈ {0, 1}``, Bob's ``y ∈ {0, 1, 2}``, uniform.
    Public discussion, every message Wegman–Carter-authenticated
    (:class:`~qstack.apps.bb84.AuthenticatedLink`): Alice announces her inputs; Bob his inputs,
    which key rounds (``x = 0, y = 2``) he reveals (a random fraction ``qber_sample``), and his
    outcomes on the CHSH rounds (``y ≤ 1``) and on the revealed key rounds. Alice runs the Bell
    test (:func:`qstack.qkd.device_independent.chsh_bell_test`): the Chernoff lower bound on the
    CHSH winning probability at ``epsilon_bell`` gives ``S_L``, and the test passes only if
    ``S_L > abort_below`` (≥ 2, the local bound) — so devices following any local strategy pass
    with probability ≤ ``epsilon_bell``. The rate is the finite-statistics one at ``S_L`` and the
    upper bound on Q at ``epsilon_qber``; no positive rate aborts too. She announces her
    statistics and verdict; Bob answers (kept or aborted, authenticated), and Alice keeps a key
    only on his answer. A refused message (forged, altered, replayed) aborts the refusing role,
    which tells the other (authenticated), so both end with the same reason.

    ``attack``: ``"intercept_resend"`` puts Eve on Bob's side (module docstring; that run keeps
    pairs, ``batch`` per request, and needs stage 3); ``"local_hidden_variable"`` gives both
    devices a local strategy (:data:`LOCAL_STRATEGIES`, one drawn per round from a stream Eve
    shares with them, ignoring the photons; ``S = 2``, QBER 0, Eve knows every key bit).

    ``auth_key``: the pre-shared authentication key (``{file = "path"}`` or ``{hex = "..."}``,
    :func:`qstack.qkd.load_preshared_key`, at least 1024 bits), else a fresh ``auth_key_bits``
    key per run from the OS CSPRNG — never from the seed (see :mod:`qstack.apps.bb84`).
    Both roles return a :class:`DIQKDResult`. Error correction and privacy amplification (see
    :mod:`qstack.qkd`) are left to the caller: ``rate`` is the fraction of the raw key they would
    keep.

    ``protocol = "spot_checking"``: the biased-basis protocol of Arnon-Friedman et al. (2018) with
    a finite key against general attacks. Each round is a test round with probability
    ``test_probability`` γ (public flags from a stream both roles share: uniform CHSH inputs,
    ``x ∈ {0, 1}``, ``y ∈ {0, 1}``) and otherwise a key round (both measure Z, ``x = 0, y = 2``).
    Bob reveals his test outcomes and a ``qber_sample`` fraction of his key bits; Alice runs the
    Bell test as above and computes the key length
    :func:`qstack.qkd.device_independent.di_qkd_finite_key` at the run's own statistics
    (``S = 8·wins/tests − 4``, ``Q`` of the sample; ``noise`` p of noisy preprocessing, ``bound``
    ``"eat"`` or ``"eat_improved"`` (default), ``epsilons``, ``error_correction_efficiency``), less
    one bit per revealed key bit (the chain rule); a length ≤ 0 aborts.

    >>> DIQKD(1000, protocol="spot_checking", test_probability=0.2, noise=0.01).bound
    'eat_improved'
    """

    name = "di-qkd"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    def __init__(self, rounds: int = 6000, *, batch: int = 1, qber_sample: float = 0.5, abort_below: float = 2.0,
                 epsilon_bell: float = 1e-6, epsilon_qber: float = 1e-6, attack: str | None = None,
                 min_fidelity: float = 0.0, auth_key: Mapping[str, str] | None = None,
                 auth_key_bits: int | None = None, protocol: str = "uniform", test_probability: float = 0.05,
                 noise: float = 0.0, bound: str = "eat_improved", epsilons: Mapping[str, float] | None = None,
                 error_correction_efficiency: float = 1.0):
        _check_rounds(rounds, batch)
        if protocol not in ("uniform", SPOT_CHECKING):
            raise ValueError(f"protocol must be 'uniform' or {SPOT_CHECKING!r}, got {protocol!r}")
        if protocol == SPOT_CHECKING:
            self._check_spot_checking(test_probability, noise, bound, epsilons, error_correction_efficiency, attack)
        self.protocol = protocol
        self.test_probability, self.noise, self.bound = float(test_probability), float(noise), bound
        self.epsilons = dict(epsilons or {})
        self.error_correction_efficiency = float(error_correction_efficiency)
        if not (isinstance(qber_sample, (int, float)) and 0.0 < qber_sample < 1.0):
            raise ValueError(f"qber_sample must be in (0, 1), got {qber_sample!r}")
        if isinstance(abort_below, bool) or not isinstance(abort_below, (int, float)) or \
                not 2.0 <= abort_below < TSIRELSON_BOUND:
            raise ValueError(f"abort_below must be in [2, 2√2 = {TSIRELSON_BOUND:.6f}): below the local bound S = 2 "
                             f"a classical device could pass the Bell test, got {abort_below!r}")
        for label, eps in (("epsilon_bell", epsilon_bell), ("epsilon_qber", epsilon_qber)):
            if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0.0 < eps < 1.0:
                raise ValueError(f"{label} must be in (0, 1), got {eps!r}")
        if attack not in (None, INTERCEPT_RESEND, LOCAL_HIDDEN_VARIABLE):
            raise ValueError(f"attack must be None, {INTERCEPT_RESEND!r} or {LOCAL_HIDDEN_VARIABLE!r}, got {attack!r}")
        needed = 2 * KEY_BITS_PER_TAG * _DI_QKD_TAGS
        self.preshared_key: PresharedKey | None = None
        if auth_key is not None:
            if auth_key_bits is not None:
                raise ValueError("auth_key_bits sizes a fresh key; with auth_key the named key's own length is used: "
                                 "give one of them, not both")
            self.preshared_key = load_preshared_key(auth_key, min_bits=needed)
        elif auth_key_bits is not None and (isinstance(auth_key_bits, bool) or not isinstance(auth_key_bits, int)
                                            or auth_key_bits < needed or auth_key_bits % 8):
            raise ValueError(f"auth_key_bits must be a multiple of 8 and >= {needed} (128 bits per tag, "
                             f"{_DI_QKD_TAGS} tags per direction), got {auth_key_bits!r}")
        self.rounds, self.batch, self.qber_sample = rounds, batch, float(qber_sample)
        self.qubits = batch  # kept runs hold one batch of halves at once
        self.abort_below, self.attack, self.min_fidelity = float(abort_below), attack, min_fidelity
        self.epsilon_bell, self.epsilon_qber = float(epsilon_bell), float(epsilon_qber)
        self.auth_key_bits = needed * 2 if auth_key_bits is None else auth_key_bits
        if attack == INTERCEPT_RESEND:  # Eve touches Bob's qubit: kept pairs (module docstring)
            self.stage = Stage.QUANTUM_MEMORY  # type: ignore[misc]

    @staticmethod
    def _check_spot_checking(gamma: object, noise: object, bound: object, epsilons: object, f_ec: object,
                             attack: object) -> None:
        for label, value, low, high in (("test_probability", gamma, 0.0, 1.0), ("noise", noise, 0.0, 0.5)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    (low < value < high) if label == "test_probability" else (low <= value < high)):
                rng = "(0, 1)" if label == "test_probability" else "[0, 0.5)"
                raise ValueError(f"{label} must be in {rng}, got {value!r}")
        if bound not in FINITE_KEY_BOUNDS:
            raise ValueError(f"bound must be one of {', '.join(map(repr, FINITE_KEY_BOUNDS))}, got {bound!r}")
        if isinstance(f_ec, bool) or not isinstance(f_ec, (int, float)) or f_ec < 1.0:
            raise ValueError(f"error_correction_efficiency must be >= 1, got {f_ec!r}")
        if attack is not None:
            raise ValueError(f"protocol = {SPOT_CHECKING!r} runs honest devices only; attack must be None")
        if epsilons is not None:
            di_qkd_finite_key(1, 2.5, 0.0, test_probability=0.5, epsilons=dict(epsilons))  # validates names/ranges

    def _round_types(self, ctx: RoleContext) -> np.ndarray:
        """The public test-round flags ``T_i ~ Bernoulli(γ)``, one shared stream for both roles."""
        state = _session_state(ctx)
        key = ("di-qkd-spot-checking", self.rounds, self.test_probability)
        flags = state.get(key)
        if flags is None:  # drawn once per run, by whichever role comes first
            nodes = sorted(ctx.transport.node_of.values())
            flags = state[key] = ctx.sim.rng("di-qkd-spot-checking", *nodes).random(self.rounds) < self.test_probability
        return flags

    async def _spot_rounds(self, ctx: RoleContext, peer: str, creator: bool) -> tuple[np.ndarray, list[int], list[int]]:
        """Measure all rounds: test rounds at the CHSH settings (uniform inputs), key rounds in Z
        (``x = 0``, ``y = 2``). The devices are honest and their pairs i.i.d., so the rounds are
        measured grouped by kind (two requests: all test rounds, then all key rounds) and put back
        in round order; the order never enters the key length."""
        tests = self._round_types(ctx)
        local = ALICE_ANGLES if creator else BOB_ANGLES[:2]
        remote = BOB_ANGLES[:2] if creator else ALICE_ANGLES
        sock = ctx.epr_socket(peer)
        inputs = [0 if creator else 2] * self.rounds
        outcomes = [0] * self.rounds
        for is_test in (True, False):
            where = np.flatnonzero(tests == is_test)
            if not len(where):
                continue
            if creator:
                res = await (sock.create_measure(len(where), min_fidelity=self.min_fidelity, bases=local,
                                                 remote_bases=remote) if is_test else
                             sock.create_measure(len(where), min_fidelity=self.min_fidelity, bases=(0.0,),
                                                 remote_bases=(0.0,)))
            else:
                res = await sock.recv_measure(len(where))
            for i, (m, k) in zip(where, res, strict=True):
                outcomes[i] = int(m)
                if is_test:
                    inputs[i] = int(k)
        return tests, inputs, outcomes

    def _spot_key(self, wins: int, tests: int, errors: int, sampled: int, revealed: int) -> DIQKDFiniteKey:
        """The finite key at the run's statistics: ``S = 8 wins/tests − 4``, ``Q = errors/sampled``."""
        s = min(max(8.0 * wins / tests - 4.0, 0.0), TSIRELSON_BOUND) if tests else 0.0
        q = min(errors / sampled, 0.5) if sampled else 0.5
        return di_qkd_finite_key(self.rounds, s, q, test_probability=self.test_probability, noise=self.noise,
                                 bound=self.bound, epsilons=self.epsilons or None,
                                 error_correction_efficiency=self.error_correction_efficiency)

    async def _spot_alice(self, ctx: RoleContext) -> DIQKDResult:
        link = self._link(ctx, "bob")
        tests, x, a = await self._spot_rounds(ctx, "bob", True)
        test_rounds = [i for i in range(self.rounds) if tests[i]]
        key_rounds = [i for i in range(self.rounds) if not tests[i]]
        link.send("inputs/alice", bytes(x[i] for i in test_rounds))
        abort: QKDAbort | None = None
        try:
            y_t = list(await link.recv("inputs/bob"))
            sample = list(await link.recv("sample"))
            revealed = list(await link.recv("revealed"))
        except QKDAbort as error:
            return self._result(ctx, link, estimate_chsh([], [], [], []), math.nan, math.inf, 0, None, 0.0, math.nan,
                                error, [], [], None)
        if len(y_t) != len(test_rounds) or len(sample) != len(key_rounds):
            raise ProtocolError(f"Bob announced {len(y_t)} test inputs and {len(sample)} sample flags for "
                                f"{len(test_rounds)} test and {len(key_rounds)} key rounds")
        b_test, b_sample = revealed[:len(test_rounds)], revealed[len(test_rounds):]
        xt, at = [x[i] for i in test_rounds], [a[i] for i in test_rounds]
        chsh = estimate_chsh(xt, y_t, at, b_test)
        wins = int(sum((ai ^ bi) == (xi & yi) for xi, yi, ai, bi in zip(xt, y_t, at, b_test, strict=True)))
        test = chsh_bell_test(wins, len(test_rounds), self.epsilon_bell, self.abort_below)
        sampled = [i for i, f in zip(key_rounds, sample, strict=True) if f]
        errors = [a[i] ^ bit for i, bit in zip(sampled, b_sample, strict=True)]
        q_n = len(errors)
        q = float(np.mean(errors)) if errors else 0.0
        q_se = math.sqrt(q * (1 - q) / q_n) if errors else math.inf
        kept = [i for i, f in zip(key_rounds, sample, strict=True) if not f]
        finite = self._spot_key(wins, len(test_rounds), int(sum(errors)), q_n, q_n)
        key_length = finite.key_length - q_n
        if not test.passed:
            abort = QKDAbort(f"Bell test failed: S_L = {test.chsh_lower:.4f} <= {self.abort_below:.4f} at epsilon = "
                             f"{self.epsilon_bell:g} ({wins} wins in {test.rounds} test rounds); aborting, no key",
                             stage="bell test", qber=q, threshold=self.abort_below)
        elif key_length <= 0.0:
            abort = QKDAbort(f"no finite key at these statistics: {self.rounds} rounds, S = {finite.chsh:.4f}, "
                             f"Q = {finite.qber:.4f} give a key length of {key_length:.0f} bits ({self.bound}, "
                             f"gamma = {self.test_probability:g}); aborting, no key",
                             stage="key rate", qber=q, threshold=self.abort_below)
        rate = max(key_length, 0.0) / len(kept) if kept and abort is None else 0.0
        w = _write_estimate(_Writer(), chsh).f64(q).f64(q_se).u64(q_n).f64(rate).f64(key_length)
        w = w.u64(wins).u64(test.rounds).f64(test.win_lower).u64(int(abort is not None))
        if abort is not None:
            w = w.f64(abort.qber).f64(abort.threshold).small(_small(abort.stage)).small(_small(str(abort)))
        link.send("verdict", w.done())
        try:
            reply = await link.recv("confirmation")
            if reply != (b"\x00" if abort is not None else b"\x01"):
                raise ProtocolError(f"Bob's reply {reply!r} does not match the verdict")
        except QKDAbort as error:
            if isinstance(error, MessageRejected):
                link.announce_abort(error)
            abort = abort or error
        if abort is not None:
            rate = 0.0
        res = self._result(ctx, link, chsh, q, q_se, q_n, test, rate, math.nan, abort, [a[i] for i in kept], kept,
                           None)
        return _replace_result(res, finite_key=finite, key_length=key_length)

    async def _spot_bob(self, ctx: RoleContext) -> DIQKDResult:
        link = self._link(ctx, "alice")
        tests, y, b = await self._spot_rounds(ctx, "alice", False)
        test_rounds = [i for i in range(self.rounds) if tests[i]]
        key_rounds = [i for i in range(self.rounds) if not tests[i]]
        chsh, q, q_se, q_n, test, rate = estimate_chsh([], [], [], []), math.nan, math.inf, 0, None, 0.0
        kept: list[int] = []
        abort: QKDAbort | None = None
        finite: DIQKDFiniteKey | None = None
        key_length = math.nan
        try:
            x_t = list(await link.recv("inputs/alice"))
            if len(x_t) != len(test_rounds):
                raise ProtocolError(f"Alice announced {len(x_t)} inputs for {len(test_rounds)} test rounds")
            link.send("inputs/bob", bytes(y[i] for i in test_rounds))
            sample = [int(ctx.rng.random() < self.qber_sample) for _ in key_rounds]
            link.send("sample", bytes(sample))
            sampled = [i for i, f in zip(key_rounds, sample, strict=True) if f]
            link.send("revealed", bytes([b[i] for i in test_rounds] + [b[i] for i in sampled]))
            kept = [i for i, f in zip(key_rounds, sample, strict=True) if not f]
            r = _Reader(await link.recv("verdict"))
            chsh, q, q_se, q_n, rate, key_length = _read_estimate(r), r.f64(), r.f64(), r.u64(), r.f64(), r.f64()
            wins, test_n, w_low = r.u64(), r.u64(), r.f64()
            if test_n:
                s_low = 8.0 * w_low - 4.0
                test = BellTest(wins, test_n, wins / test_n, w_low, s_low, self.epsilon_bell, self.abort_below,
                                s_low > self.abort_below)
                finite = self._spot_key(wins, test_n, int(round(q * q_n)), q_n, q_n)
            if r.u64():
                qber, threshold, stage, text = r.f64(), r.f64(), _text(r), _text(r)
                abort = QKDAbort(text, stage=stage, qber=qber, threshold=threshold, announced_by="alice")
            r.end()
            link.send("confirmation", b"\x00" if abort is not None else b"\x01")
        except MessageRejected as error:
            link.announce_abort(error)
            abort = error
        except QKDAbort as error:
            abort = error
        if abort is not None:
            rate = 0.0
        res = self._result(ctx, link, chsh, q, q_se, q_n, test, rate, math.nan, abort, [b[i] for i in kept], kept,
                           None)
        return _replace_result(res, finite_key=finite, key_length=key_length)

    def summary(self, results: Mapping[str, object]) -> dict[str, object] | None:
        """The spot-checking run's figures (``qstack run`` prints them): S and its standard error,
        QBER, the finite key's length and the bound's terms; None for the uniform protocol."""
        alice = results.get("alice")
        if self.protocol != SPOT_CHECKING or not isinstance(alice, DIQKDResult):
            return None
        k = alice.finite_key
        return {
            "chsh": alice.chsh.value, "chsh_standard_error": alice.chsh.standard_error,
            "test_rounds": alice.chsh.rounds, "qber": alice.qber, "qber_standard_error": alice.qber_standard_error,
            "qber_rounds": alice.qber_rounds, "bound": self.bound, "test_probability": self.test_probability,
            "noise": self.noise, "key_length_bits": alice.key_length,
            "entropy_rate": k.entropy_rate if k else None, "eat_correction_bits": k.eat_correction if k else None,
            "aborted": alice.aborted, "abort": str(alice.abort) if alice.abort is not None else None,
        }

    def _rounds(self, x: Sequence[int], y: Sequence[int]) -> tuple[list[int], list[int]]:
        key = [i for i in range(self.rounds) if x[i] == 0 and y[i] == 2]
        test = [i for i in range(self.rounds) if y[i] <= 1]
        return key, test

    def _link(self, ctx: RoleContext, peer: str) -> AuthenticatedLink:
        return authenticated_link(ctx, peer, self.auth_key_bits, key=self.preshared_key)

    def _local_outcomes(self, ctx: RoleContext, inputs: Sequence[int], alice: bool) -> tuple[list[int], list[int]]:
        """Outcomes of the local strategy drawn for each round (shared by both devices and
        Eve), and Eve's copy of the key output ``α₀``."""
        state = _session_state(ctx)
        lam = state.get(("local-hidden-variable", self.rounds))
        if lam is None:
            nodes = sorted(ctx.transport.node_of.values())
            lam = ctx.sim.rng("local-hidden-variable", *nodes).integers(len(LOCAL_STRATEGIES), size=self.rounds)
            state[("local-hidden-variable", self.rounds)] = lam
        table = [LOCAL_STRATEGIES[int(k)] for k in lam]
        if alice:
            out = [s[x] for s, x in zip(table, inputs, strict=True)]
        else:  # Bob's key setting y = 2 outputs Alice's α₀
            out = [s[2 + y] if y < 2 else s[0] for s, y in zip(table, inputs, strict=True)]
        return out, [s[0] for s in table]

    async def alice(self, ctx: RoleContext) -> DIQKDResult:
        if self.protocol == SPOT_CHECKING:
            return await self._spot_alice(ctx)
        link = self._link(ctx, "bob")
        x, a, _ = await _measured_rounds(ctx, "bob", True, self.rounds, ALICE_ANGLES, BOB_ANGLES,
                                         attack=None if self.attack == LOCAL_HIDDEN_VARIABLE else self.attack,
                                         batch=self.batch, min_fidelity=self.min_fidelity)
        if self.attack == LOCAL_HIDDEN_VARIABLE:
            a, _ = self._local_outcomes(ctx, x, True)
        link.send("inputs/alice", bytes(x))
        abort: QKDAbort | None = None
        received: dict[str, bytes] = {}
        try:
            for label in ("inputs/bob", "sample", "revealed"):  # Bob sends all three before he waits
                try:
                    received[label] = await link.recv(label)
                except MessageRejected as error:
                    abort = abort or error
        except QKDAbort as error:  # Bob refused our inputs and said so: he has stopped
            return self._result(ctx, link, estimate_chsh([], [], [], []), math.nan, math.inf, 0, None, 0.0, math.nan,
                                error, [], [], None)
        chsh, q, q_se, q_n, test, rate, q_up = estimate_chsh([], [], [], []), math.nan, math.inf, 0, None, 0.0, math.nan
        kept: list[int] = []
        if abort is None:
            y, sample, revealed = (list(received[k]) for k in ("inputs/bob", "sample", "revealed"))
            key_rounds, test_rounds = self._rounds(x, y)
            if len(y) != self.rounds or len(sample) != len(key_rounds):
                raise ProtocolError(f"Bob announced {len(y)} inputs and {len(sample)} sample flags for "
                                    f"{self.rounds} rounds and {len(key_rounds)} key rounds")
            b_test, b_sample = revealed[:len(test_rounds)], revealed[len(test_rounds):]
            xt, yt, at = ([v[i] for i in test_rounds] for v in (x, y, a))
            chsh = estimate_chsh(xt, yt, at, b_test)
            wins = sum((ai ^ bi) == (xi & yi) for xi, yi, ai, bi in zip(xt, yt, at, b_test, strict=True))
            test = chsh_bell_test(int(wins), len(test_rounds), self.epsilon_bell, self.abort_below)
            sampled = [i for i, s in zip(key_rounds, sample, strict=True) if s]
            errors = [a[i] ^ bit for i, bit in zip(sampled, b_sample, strict=True)]
            q_n = len(errors)
            q = float(np.mean(errors)) if errors else 0.0
            q_se = math.sqrt(q * (1 - q) / q_n) if errors else math.inf
            kept = [i for i, s in zip(key_rounds, sample, strict=True) if not s]
            finite = di_qkd_finite_rate(test.chsh_lower, int(sum(errors)), q_n, self.epsilon_qber)
            q_up = finite.qber_upper
            if not test.passed:
                abort = QKDAbort(
                    f"Bell test failed: S_L = {test.chsh_lower:.4f} <= {self.abort_below:.4f} at epsilon = "
                    f"{self.epsilon_bell:g} ({test.wins} wins in {test.rounds} test rounds, observed S = "
                    f"{chsh.value:.4f}): the devices may be local or eavesdropped; aborting, no key",
                    stage="bell test", qber=q, threshold=self.abort_below)
            elif finite.rate <= 0.0:
                abort = QKDAbort(
                    f"no secret key at these statistics: rate 1 - h(Q_U) - h((1 + sqrt((S_L/2)^2 - 1))/2) <= 0 with "
                    f"S_L = {test.chsh_lower:.4f} (epsilon {self.epsilon_bell:g}) and Q_U = {q_up:.4f} from "
                    f"{int(sum(errors))} errors in {q_n} (epsilon {self.epsilon_qber:g}); aborting, no key",
                    stage="key rate", qber=q, threshold=self.abort_below)
            else:
                rate = finite.rate
        w = _write_estimate(_Writer(), chsh).f64(q).f64(q_se).u64(q_n).f64(rate).f64(q_up)
        w = w.u64(test.wins if test else 0).u64(test.rounds if test else 0).f64(test.win_lower if test else 0.0)
        w = w.u64(int(abort is not None))
        if abort is not None:
            w = w.f64(abort.qber).f64(abort.threshold).small(_small(abort.stage)).small(_small(str(abort)))
        link.send("verdict", w.done())
        try:
            reply = await link.recv("confirmation")
            if reply != (b"\x00" if abort is not None else b"\x01"):
                raise ProtocolError(f"Bob's reply {reply!r} does not match the verdict")
        except QKDAbort as error:  # Bob refused the verdict (announced), or his reply does not verify
            if isinstance(error, MessageRejected):
                link.announce_abort(error)
            abort = abort or error
        if abort is not None:
            rate = 0.0
        return self._result(ctx, link, chsh, q, q_se, q_n, test, rate, q_up, abort, [a[i] for i in kept], kept, None)

    async def bob(self, ctx: RoleContext) -> DIQKDResult:
        if self.protocol == SPOT_CHECKING:
            return await self._spot_bob(ctx)
        link = self._link(ctx, "alice")
        y, b, eve = await _measured_rounds(ctx, "alice", False, self.rounds, BOB_ANGLES, ALICE_ANGLES,
                                           attack=None if self.attack == LOCAL_HIDDEN_VARIABLE else self.attack,
                                           batch=self.batch)
        if self.attack == LOCAL_HIDDEN_VARIABLE:
            b, eve = self._local_outcomes(ctx, y, False)
        chsh, q, q_se, q_n, test, rate, q_up = estimate_chsh([], [], [], []), math.nan, math.inf, 0, None, 0.0, math.nan
        kept: list[int] = []
        abort: QKDAbort | None = None
        try:
            x = list(await link.recv("inputs/alice"))
            if len(x) != self.rounds:
                raise ProtocolError(f"Alice announced {len(x)} inputs for {self.rounds} rounds")
            link.send("inputs/bob", bytes(y))
            key_rounds, test_rounds = self._rounds(x, y)
            sample = [int(ctx.rng.random() < self.qber_sample) for _ in key_rounds]
            link.send("sample", bytes(sample))
            sampled = [i for i, s in zip(key_rounds, sample, strict=True) if s]
            link.send("revealed", bytes([b[i] for i in test_rounds] + [b[i] for i in sampled]))
            kept = [i for i, s in zip(key_rounds, sample, strict=True) if not s]
            r = _Reader(await link.recv("verdict"))
            chsh, q, q_se, q_n, rate, q_up = _read_estimate(r), r.f64(), r.f64(), r.u64(), r.f64(), r.f64()
            wins, test_n, w_low = r.u64(), r.u64(), r.f64()
            if test_n:
                s_low = 8.0 * w_low - 4.0
                test = BellTest(wins, test_n, wins / test_n, w_low, s_low, self.epsilon_bell, self.abort_below,
                                s_low > self.abort_below)
            if r.u64():
                qber, threshold, stage, text = r.f64(), r.f64(), _text(r), _text(r)
                abort = QKDAbort(text, stage=stage, qber=qber, threshold=threshold, announced_by="alice")
            r.end()
            link.send("confirmation", b"\x00" if abort is not None else b"\x01")
        except MessageRejected as error:  # only Bob knows: tell Alice, who waits for a message
            link.announce_abort(error)
            abort = error
        except QKDAbort as error:  # Alice announced an abort
            abort = error
        if abort is not None:
            rate = 0.0
        return self._result(ctx, link, chsh, q, q_se, q_n, test, rate, q_up, abort, [b[i] for i in kept], kept,
                            [eve[i] for i in kept] if self.attack else None)

    def _result(self, ctx: RoleContext, link: AuthenticatedLink, chsh: CHSHEstimate, q: float, q_se: float, q_n: int,
                test: BellTest | None, rate: float, q_up: float, abort: QKDAbort | None, raw_key: list[int],
                kept: list[int], eve: list[int] | None) -> DIQKDResult:
        return DIQKDResult(chsh, q, q_se, q_n, rate, abort is not None, raw_key, kept, eve, test, q_up, abort,
                           dict(link.rejected), link.key_source)


def _replace_result(result: DIQKDResult, **changes: object) -> DIQKDResult:
    from dataclasses import replace

    return replace(result, **changes)  # type: ignore[arg-type]
