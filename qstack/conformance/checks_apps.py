"""Contracts of applications: QKD keys and blind computation, judged from what the roles return.

The target is an :class:`qstack.apps.Application` class (a registered name such as ``"bb84"``,
a ``"pkg.module:Class"`` path, or a table ``{"name": …, <parameters>}``). The checks run it
with :func:`qstack.apps.run_app` and look only at its public results — the keys both roles
output, whether they aborted, what the server of a blind computation saw — never at its
internals. A check that does not apply to the application (a key check on a blind
computation) is skipped.

* QKD (roles ``alice`` and ``bob`` returning a ``key``, or a ``raw_key`` for DI-QKD):
  ``application.qkd_keys_agree`` (both ends output the same, non-empty key on an honest link),
  ``application.qkd_key_never_reused`` (two sessions' keys are independent: they agree on half
  their bits, within 4 standard errors), ``application.qkd_aborts_under_attack`` (full
  intercept–resend (Gisin et al., RMP 74, 145 (2002)) or, for a device-independent protocol, a
  failed Bell test: both ends abort and output no key).
* Blind computation (roles ``client`` and ``server``, the server returning what it saw):
  ``application.blind_reveals_nothing`` — every angle the server is told is uniform over the
  eight multiples of π/4 and its outcomes are uniform bits, whatever the computation
  (Broadbent, Fitzsimons & Kashefi, FOCS 2009, Theorem 2).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from qstack.conformance.framework import N_SE, CheckResult, Context, Target, check

#: the honest QKD scenarios: a 10 km fibre to detectors of efficiency 0.5 for prepare-and-measure
#: protocols (stage ≤ 1); a 2-node chain of 2 km, raw fidelity 0.99, for entanglement-based ones
QKD_LENGTH, QKD_DETECTOR, QKD_RAW = "10 km", 0.5, 0.99
#: the failed Bell test: Werner links of F = 0.6, so S = 2√2(4F − 1)/3 ≈ 1.32 < 2
BELL_FAIL_RAW = 0.6
#: the blind computations compared, and how many times each is run
BLIND_PROGRAMS = ((math.pi / 4, math.pi / 4), (math.pi / 2, 3 * math.pi / 4))
BLIND_RUNS = 400


def _cls(target: Target) -> Any:
    f = target.factory()
    return getattr(f, "func", f)


def _qkd_run(target: Target, seed: int, raw: float = QKD_RAW, **extra: Any) -> Any:
    """Run the QKD app (``extra`` parameters on top of the target's) on its honest scenario."""
    from qstack.apps import run_app
    from qstack.scenario import linear_chain, load_scenario
    from qstack.stages import Stage

    app = target.factory()(**extra)
    if max(app.stage_of(r) for r in app.roles) <= Stage.PREPARE_AND_MEASURE:
        from qstack.apps.bb84 import example_link

        return run_app(app, load_scenario(example_link(length=QKD_LENGTH, seed=seed, detector_efficiency=QKD_DETECTOR)),
                       {"alice": "alice", "bob": "bob"}).results
    sc = load_scenario(linear_chain(2, "2 km", seed=seed, duration="100 s", t1="inf", t2="inf", raw_fidelity=raw))
    return run_app(app, sc, {"alice": "n0", "bob": "n1"}).results


def _is_qkd(target: Target) -> bool:
    """A QKD application: roles alice and bob, and it says so (``qkd = True``) or is named so."""
    cls = _cls(target)
    label = f"{getattr(cls, 'name', '')} {cls.__name__}".lower()
    return set(getattr(cls, "roles", ())) >= {"alice", "bob"} and (
        bool(getattr(cls, "qkd", False)) or any(w in label for w in ("qkd", "bb84", "bbm92")))


def _key(result: Any) -> np.ndarray | None:
    for name in ("key", "raw_key"):
        k = getattr(result, name, None)
        if k is not None:
            return np.asarray(k, dtype=np.uint8).ravel()
    return None


def _aborted(result: Any) -> bool:
    return bool(getattr(result, "aborted", False))


@check("application.qkd_keys_agree", "application", f"""QKD keys agree at both ends: on an honest link
       (a {QKD_LENGTH} fibre to detectors of efficiency {QKD_DETECTOR} for prepare-and-measure
       protocols; Werner links of F = {QKD_RAW} for
       entanglement-based ones) neither role aborts, both output a non-empty key, and the two keys are
       identical bit for bit. Skipped for applications that are not QKD, and for protocols that leave
       error correction to the caller (a raw_key only).""")
def _keys_agree(target: Target, ctx: Context) -> CheckResult:
    if not _is_qkd(target):
        return CheckResult.skipped("not a QKD application")
    res = _qkd_run(target, ctx.seed)
    a, b = res["alice"], res["bob"]
    if getattr(a, "key", None) is None:
        return CheckResult.skipped("the protocol outputs a raw key (error correction left to the caller)")
    if _aborted(a) or _aborted(b):
        return CheckResult(False, detail=f"aborted on an honest link: {getattr(a, 'abort', None)}")
    ka, kb = _key(a), _key(b)
    differ = int(np.count_nonzero(ka != kb)) if len(ka) == len(kb) else max(len(ka), len(kb))
    if len(ka) == 0:
        return CheckResult(False, 0, 1, tolerance=0, detail="empty key on an honest link")
    return CheckResult(differ == 0, differ, 0, tolerance=0,
                       detail=f"{len(ka)}-bit keys, {differ} bits differ" + ("" if len(ka) == len(kb) else
                                                                              f" (lengths {len(ka)}, {len(kb)})"))


@check("application.qkd_key_never_reused", "application", """QKD keys are never reused: two sessions
       (seeds s and s + 1, fresh application objects) give independent keys — on their common length n
       the fraction of equal bits is within 4 standard errors (SE = 1/(2√n)) of 1/2, at each role; a
       key handed out again, or a key derived from the last, lands far from 1/2 (fixed seed).""",
       kind="statistical")
def _never_reused(target: Target, ctx: Context) -> CheckResult:
    if not _is_qkd(target):
        return CheckResult.skipped("not a QKD application")
    one, two = _qkd_run(target, ctx.seed), _qkd_run(target, ctx.seed + 1)
    worst: CheckResult | None = None
    for role in ("alice", "bob"):
        k1, k2 = _key(one[role]), _key(two[role])
        n = min(len(k1), len(k2))
        if n == 0:
            return CheckResult(False, detail=f"{role}: no key in one of the sessions")
        same = float(np.mean(k1[:n] == k2[:n]))
        r = CheckResult.statistical(same, 0.5, 0.5 / math.sqrt(n), N_SE,
                                    detail=f"{role}: {n} bits compared across two sessions, fraction equal")
        if worst is None or abs(r.measured - 0.5) / r.se > abs(worst.measured - 0.5) / worst.se:  # type: ignore[operator]
            worst = r
    return worst  # type: ignore[return-value]


def _attack_params(cls: Any) -> dict[str, Any] | None:
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return None
    if "attack" in params:
        return {"attack": "intercept_resend"}
    if "eavesdropper" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return {"eavesdropper": 1.0}
    return None


@check("application.qkd_aborts_under_attack", "application", f"""QKD aborts when it must: under a full
       intercept–resend attack (eavesdropper = 1, or attack = "intercept_resend"), and for a
       device-independent protocol also on a failed Bell test (Werner links of F = {BELL_FAIL_RAW}, so
       S = 2√2(4F − 1)/3 ≈ {2 * math.sqrt(2) * (4 * BELL_FAIL_RAW - 1) / 3:.3f} < 2), both roles abort and
       output no key.""", source="Gisin et al., RMP 74, 145 (2002); Acín et al., PRL 98, 230501 (2007)")
def _aborts(target: Target, ctx: Context) -> CheckResult:
    if not _is_qkd(target):
        return CheckResult.skipped("not a QKD application")
    cls = _cls(target)
    params = _attack_params(cls)
    runs = []
    if params is not None:
        runs.append((", ".join(f"{k} = {v!r}" for k, v in params.items()), _qkd_run(target, ctx.seed, **params)))
    if "attack" in (params or {}):
        runs.append((f"Bell test on F = {BELL_FAIL_RAW} links", _qkd_run(target, ctx.seed, raw=BELL_FAIL_RAW)))
    if not runs:
        return CheckResult.skipped("the application takes no eavesdropper/attack parameter")
    problems = []
    for label, res in runs:
        for role in ("alice", "bob"):
            r = res[role]
            usable = getattr(r, "key", None)
            if not _aborted(r) or (usable is not None and len(usable)):
                problems.append(f"{label}: {role} did not abort" if not _aborted(r) else
                                f"{label}: {role} aborted but output {len(usable)} key bits")
    return CheckResult(not problems, len(problems), 0, tolerance=0,
                       detail="; ".join(problems[:2]) or "; ".join(f"{label}: both aborted" for label, _ in runs))


@check("application.blind_reveals_nothing", "application", f"""A blind computation reveals nothing the
       protocol hides: for two different computations (angles {', '.join(
           '(' + ', '.join(f'{p / math.pi:g}π' for p in prog) + ')' for prog in BLIND_PROGRAMS)}) run
       {BLIND_RUNS} times each, every angle δ the server is told is uniform over the eight multiples of
       π/4 — each count within 4 standard errors of n/8, SE = √(n·(1/8)(7/8)), per qubit — and every
       outcome it returns is a uniform bit (within 4 SE of n/2), so its view does not depend on the
       computation (fixed seed). Skipped for applications without client and server roles.""",
       kind="statistical", source="Broadbent, Fitzsimons & Kashefi, FOCS 2009")
def _blind(target: Target, ctx: Context) -> CheckResult:
    from qstack.apps import run_app
    from qstack.scenario import linear_chain, load_scenario

    cls = _cls(target)
    if set(getattr(cls, "roles", ())) != {"client", "server"}:
        return CheckResult.skipped("not a blind computation (roles client and server)")
    worst: CheckResult | None = None
    for k, program in enumerate(BLIND_PROGRAMS):
        sc = load_scenario(linear_chain(2, "2 km", seed=ctx.seed + k, duration="1000 s", t1="inf", t2="inf"))
        view = run_app(target.factory()(phis=program, runs=BLIND_RUNS), sc,
                       {"client": "n0", "server": "n1"}).results["server"]
        deltas = np.asarray(view.deltas, dtype=float)
        outcomes = np.asarray(view.outcomes, dtype=float)
        n = deltas.shape[0]
        se8, se2 = math.sqrt(n * (1 / 8) * (7 / 8)), math.sqrt(n * 0.25)
        for i in range(deltas.shape[1]):
            steps = np.round(deltas[:, i]).astype(int) % 8
            off_grid = float(np.max(np.abs(deltas[:, i] - np.round(deltas[:, i]))))
            if off_grid > 1e-9:
                return CheckResult(False, off_grid, 0.0, detail=f"program {k}, qubit {i}: an angle off the π/4 grid")
            counts = np.bincount(steps, minlength=8)
            j = int(np.argmax(np.abs(counts - n / 8)))
            for r in (CheckResult.statistical(float(counts[j]), n / 8, se8, N_SE,
                                              detail=f"program {k}, qubit {i}: count of δ = {j}·π/4 of {n}"),
                      CheckResult.statistical(float(outcomes[:, i].sum()), n / 2, se2, N_SE,
                                              detail=f"program {k}, qubit {i}: outcomes 1 of {n}")):
                if worst is None or abs(r.measured - r.expected) / r.se > \
                        abs(worst.measured - worst.expected) / worst.se:  # type: ignore[operator]
                    worst = r
    return worst  # type: ignore[return-value]
