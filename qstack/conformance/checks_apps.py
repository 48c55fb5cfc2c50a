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
* QKD rates: ``application.qkd_statistics_match_theory`` (BB84's gains and QBERs per intensity
  class against :func:`qstack.apps.bb84.expected_gain_qber`, BBM92's coincidences and QBER
  against :func:`qstack.apps.bb84.bbm92_expected_statistics`, within 4 SE) and
  ``application.qkd_key_rate_formula`` (the reported key length or DI-QKD rate equals the
  finite-key formula at the run's own reported statistics, 1e-9).
* Stages (every application): ``application.stage_enforced`` (run below its declared stage, it is
  refused up front with a StageError naming both stages) and
  ``application.declared_stage_covers_use`` (the declared stage covers the transport services each
  role uses: prepared photons 1, pairs measured at once 2, kept pairs 3).
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
from qstack.conformance.runs import chain

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


def _honest(target: Target, ctx: Context) -> Any:
    """The honest run at the context's seed (``_qkd_run``), shared by the checks of one target."""
    return ctx.memo(("qkd-honest", ctx.seed), lambda: _qkd_run(target, ctx.seed))


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
    res = _honest(target, ctx)
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
    one, two = _honest(target, ctx), _qkd_run(target, ctx.seed + 1)
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


# ---------------------------------------------------------------------------------------------- stages

#: a network for each stage below the one an application declares (``linear_chain`` keyword
#: arguments, number of nodes): stage 0 — a repeater whose 1 µs memory cannot wait for the next
#: link, so no end-to-end entanglement and no direct link; stage 1 — one direct link carrying
#: photons whose Werner pairs (F = 0.5) are not entangled; stage 2 — one entangling link, end
#: memories (T2 = 1 µs) useless over the round trip; stage 3 — the same with ideal memories
LOWER_NETWORKS: dict[int, tuple[int, dict[str, Any]]] = {
    0: (3, {"t2": "1 us"}),
    1: (2, {"raw_fidelity": 0.5}),
    2: (2, {"t2": "1 us"}),
    3: (2, {}),
}


def _declared(app: Any, role: str) -> Any:
    """The stage ``role`` declares (the application's ``role_stages`` over its ``stage``), read
    from the declaration itself — not from ``stage_of``, which the runtime asks."""
    from qstack.stages import Stage

    return Stage(dict(getattr(app, "role_stages", {}) or {}).get(role, app.stage))


def _assignment(roles: Any, nodes: int) -> dict[str, str]:
    """Roles alternately on the two end nodes of an ``nodes``-node chain."""
    return {r: ("n0" if i % 2 == 0 else f"n{nodes - 1}") for i, r in enumerate(roles)}


def _positions(app: Any) -> int:
    return max(4, *(app.qubits_of(r) for r in app.roles))


@check("application.stage_enforced", "application", """The stage an application declares is enforced:
       for each stage s ≥ 1 its roles declare, the application is run with run_app on a network whose
       hardware reaches a lower stage (s − 1, at most 3: a chain whose repeater's 1 µs memory cannot swap
       → 0; one link of unentangled F = 0.5 pairs → 1; one entangling link with 1 µs end memories → 2;
       ideal memories → 3; qstack.stages.network_stage) and must be refused before anything runs with a
       qstack.stages.StageError whose needed stage is the declared stage of the refused role, whose
       reached stage is the one the network reaches (refused up front from the network's hardware,
       not mid-run), and whose message names both ("needs stage N", "reaches stage M") — never a run
       that returns results. Stage-0 declarations (every connected network reaches
       them) are skipped.""")
def _stage_enforced(target: Target, ctx: Context) -> CheckResult:
    from qstack.apps import run_app
    from qstack.stages import StageError, network_stage

    app = target.factory()()
    declared = {r: _declared(app, r) for r in app.roles}
    needs = sorted({int(s) for s in declared.values() if int(s) >= 1})
    if not needs:
        return CheckResult.skipped("every role declares stage 0, which every connected network reaches")
    problems, shown = [], []
    for need in needs:
        nodes, hardware = LOWER_NETWORKS[min(need - 1, 3)]
        sc = chain(nodes, "2 km", seed=ctx.seed, duration=1.0, memory_positions=_positions(app), **hardware)
        reached = network_stage(sc).stage
        roles = _assignment(app.roles, nodes)
        try:
            run_app(target.factory()(), sc, roles)
        except StageError as err:
            text = str(err)
            want = declared.get(err.role) if err.role is not None else None
            if want is None or int(err.needed) != int(want) or int(err.needed) < need:
                problems.append(f"stage-{int(reached)} network: StageError for role {err.role!r} needs "
                                f"{int(err.needed)}, but that role declares {want}")
            elif int(err.reached) != int(reached):
                problems.append(f"stage-{int(reached)} network: StageError says stage {int(err.reached)} is reached "
                                "(not refused up front by the network's stage: raised mid-run?)")
            elif f"needs stage {int(err.needed)}" not in text or f"reaches stage {int(err.reached)}" not in text:
                problems.append(f"stage-{int(reached)} network: the message does not name both stages: {text[:100]}")
            else:
                shown.append(f"declared {need} on a stage-{int(reached)} network: StageError (role {err.role!r})")
            continue
        problems.append(f"declared stage {need}, ran on a network reaching stage {int(reached)} and returned "
                        "results (a silent answer below its stage)")
    return CheckResult(not problems, len(problems), 0, tolerance=0, detail="; ".join(problems[:2] or shown))


#: what using each transport service needs (Wehner, Elkouss & Hanson, Science 362 (2018)): a photon
#: prepared and sent as it is heralded (send_prepared) — stage 1; pairs measured at once
#: (create_measure / recv_measure) — end-to-end entanglement, stage 2; pairs kept (create_keep /
#: recv_keep, send_qubit / recv_qubit) — storage of entanglement, stage 3
USE_STAGES = {"prepare": 1, "measure": 2, "keep": 3}


def _recording_transport(used: dict[str, tuple[int, str]]) -> Any:
    """The default transport, noting per role the most demanding service the role asked for."""
    from qstack.transport.sockets import TransportLayer

    def note(role: str, kind: str) -> None:
        if USE_STAGES[kind] > used.get(role, (0, ""))[0]:
            used[role] = (USE_STAGES[kind], kind)

    class Recording(TransportLayer):
        def request_pairs(self, creator: str, receiver: str, number: int, min_fidelity: float, basis: str | None,
                          bases: Any = None, creator_at_once: bool = False) -> int:
            note(creator, "prepare" if creator_at_once else "keep" if basis is None and bases is None else "measure")
            return super().request_pairs(creator, receiver, number, min_fidelity, basis, bases, creator_at_once)

        def expect(self, creator: str, receiver: str, measure: bool, number: int) -> None:
            note(receiver, "measure" if measure else "keep")
            super().expect(creator, receiver, measure, number)

    return Recording


@check("application.declared_stage_covers_use", "application", """An application declares at least
       the stage of what it uses: run on a network reaching stage 3 (2 km link, raw F = 0.99, ideal
       memories; the stage check of run_app off, so the declaration alone is judged) through a
       transport that notes which services each role asks for, a role that sends prepared photons
       (send_prepared) must declare stage ≥ 1, one that takes pairs measured at once
       (create_measure / recv_measure: end-to-end entanglement) ≥ 2, and one that keeps pairs
       (create_keep / recv_keep, send_qubit / recv_qubit: storage of entanglement) ≥ 3; a StageError
       the runtime raises mid-run (a role keeping a qubit below stage 3) fails too. An application
       that models its quantum channel itself (BB84 draws its photons with numpy) uses no transport
       service, so only its classical messages are seen.""", source="Wehner, Elkouss & Hanson, Science 362, "
       "eaam9288 (2018)")
def _stage_covers_use(target: Target, ctx: Context) -> CheckResult:
    from qstack.apps import run_app
    from qstack.stages import StageError

    probe = target.factory()()
    extra: dict[str, Any] = {}
    if set(probe.roles) == {"client", "server"}:
        extra = {"phis": BLIND_PROGRAMS[0], "runs": 4}
    app = target.factory()(**extra)
    used: dict[str, tuple[int, str]] = {}
    sc = chain(2, "2 km", seed=ctx.seed, duration=100.0, raw_fidelity=QKD_RAW, memory_positions=_positions(app))
    try:
        run_app(app, sc, _assignment(app.roles, 2), check_stage=False, transport=_recording_transport(used))
    except StageError as err:
        return CheckResult(False, int(err.needed), int(err.reached), tolerance=0,
                           detail=f"refused mid-run by the runtime: {str(err)[:160]}")
    problems = [f"role {r!r} declares stage {int(_declared(app, r))} but uses {kind} pairs (stage {s})"
                for r, (s, kind) in sorted(used.items()) if r in app.roles and s > int(_declared(app, r))]
    seen = ", ".join(f"{r}: {kind} (stage {s})" for r, (s, kind) in sorted(used.items())) or "no quantum service"
    return CheckResult(not problems, len(problems), 0, tolerance=0, detail="; ".join(problems[:2]) or
                       f"declared {', '.join(f'{r} {int(_declared(app, r))}' for r in app.roles)}; used {seen}")


# ---------------------------------------------------------------------------------------------- rates

def _optical(target: Target, seed: int) -> tuple[Any, Any]:
    """The honest prepare-and-measure scenario of ``_qkd_run`` and its link from alice to bob."""
    from qstack.apps.bb84 import example_link
    from qstack.scenario import load_scenario

    sc = load_scenario(example_link(length=QKD_LENGTH, seed=seed, detector_efficiency=QKD_DETECTOR))
    return sc, sc.link("alice", "bob")


def _bb84_statistics(target: Target, ctx: Context, app: Any, result: Any) -> list[CheckResult]:
    from qstack.apps.bb84 import expected_gain_qber
    from qstack.physical.fibre import Fibre

    s, stats = app.settings, result.statistics
    sc, spec = _optical(target, ctx.seed)
    hw_a, hw_b = sc.hardware_of("alice"), sc.hardware_of("bob")
    eta = Fibre(spec.length, spec.attenuation, spec.refractive_index).transmissivity * hw_b.detector_efficiency
    y0 = hw_b.dark_count_probability
    out = []
    single = s.source == "single_photon"
    means = [s.source_efficiency if s.source_efficiency is not None else hw_a.emission_efficiency] if single else \
        [s.mu, s.nu, 0.0]
    disclosed = (stats.sample_size, stats.sifted[1], stats.sifted[2])
    for c, (name, mu) in enumerate(zip(("signal", "decoy", "vacuum"), means, strict=False)):
        if stats.pulses[c] == 0:
            continue
        q, e = expected_gain_qber(mu, eta, y0, s.misalignment, s.eavesdropper, single_photon=single)
        out.append(CheckResult.statistical(stats.gains[c], q, math.sqrt(q * (1 - q) / stats.pulses[c]),
                                           detail=f"{name} gain Q of {stats.pulses[c]} pulses"))
        if disclosed[c]:
            out.append(CheckResult.statistical(stats.error_rates[c], e, math.sqrt(e * (1 - e) / disclosed[c]),
                                               detail=f"{name} QBER of {disclosed[c]} disclosed bits"))
    return out


def _bbm92_statistics(target: Target, ctx: Context, app: Any, result: Any) -> list[CheckResult]:
    from qstack.apps.bb84 import bbm92_expected_statistics
    from qstack.physical.fibre import Fibre

    s, stats = app.settings, result.statistics
    sc, spec = _optical(target, ctx.seed)
    pos = spec.station_position if spec.a == "alice" else 1.0 - spec.station_position
    arms = (pos, 1.0 - pos)
    eta = [Fibre(spec.length * f, spec.attenuation, spec.refractive_index).transmissivity
           * sc.hardware_of(n).detector_efficiency for f, n in zip(arms, ("alice", "bob"), strict=True)]
    dark = [sc.hardware_of(n).dark_count_probability for n in ("alice", "bob")]
    p, e = bbm92_expected_statistics(app.mean_pair_number, *eta, *dark, s.misalignment, eavesdropper=s.eavesdropper)
    return [CheckResult.statistical(result.detections / result.pulses, p, math.sqrt(p * (1 - p) / result.pulses),
                                    detail=f"coincidence probability of {result.pulses} pulses"),
            CheckResult.statistical(stats.qber, e, math.sqrt(e * (1 - e) / stats.sample_size),
                                    detail=f"QBER of {stats.sample_size} disclosed bits")]


def _worst(results: list[CheckResult]) -> CheckResult:
    return max(results, key=lambda r: abs(r.measured - r.expected) / r.se if r.se else 0.0)  # type: ignore[operator]


@check("application.qkd_statistics_match_theory", "application", f"""QKD channel statistics match the
       model's formulas: on the honest prepare-and-measure link ({QKD_LENGTH}, detectors of efficiency
       {QKD_DETECTOR}, dark counts 1e-6 per window), BB84's gain and QBER of every intensity class
       (signal, decoy, vacuum) equal qstack.apps.bb84.expected_gain_qber — Q = s + Y0(1 − s),
       E·Q = e′s + Y0(1 − s)/2, s = 1 − e^(−ημ) (Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005)) — and BBM92's
       coincidence probability and QBER equal bbm92_expected_statistics (thermal SPDC pairs, dark
       counts), each within 4 binomial standard errors (the worst is shown). Skipped for results
       that are neither (protocol "bb84" / "bbm92").""", kind="statistical",
       source="Ma, Qi, Zhao & Lo, PRA 72, 012326 (2005); Ma, Fung & Lo, PRA 76, 012307 (2007)")
def _qkd_statistics(target: Target, ctx: Context) -> CheckResult:
    if not _is_qkd(target):
        return CheckResult.skipped("not a QKD application")
    app = target.factory()()
    if max(app.stage_of(r) for r in app.roles) > 1:
        return CheckResult.skipped("not a prepare-and-measure protocol on an optical link")
    a = _honest(target, ctx)["alice"]
    protocol = getattr(a, "protocol", None)
    if protocol not in ("bb84", "bbm92") or getattr(a, "statistics", None) is None:
        return CheckResult.skipped(f"no channel formula for protocol {protocol!r}")
    rows = (_bb84_statistics if protocol == "bb84" else _bbm92_statistics)(target, ctx, app, a)
    return _worst(rows)


@check("application.qkd_key_rate_formula", "application", f"""Reported key rates are the formulas at the
       run's own reported statistics (1e-9): BB84 with decoys — key_length = decoy_key_length(n, k_decoy,
       μ, Q_μ, (Y1^L, e1^U), leak_EC, ε_sec, ε_cor) (GLLP with Tomamichel's finite-size term), the decoy
       bounds recomputed from the reported gains and error rates (decoy_single_photon_bounds, Ma et al.
       2005); single photons and BBM92 — key_length = finite_key_length(n, k, λ, leak_EC, ε_sec, ε_cor)
       (Tomamichel et al., Nat. Commun. 3, 634 (2012)); DI-QKD — rate =
       di_qkd_finite_rate(S_L, errors, n_Q, ε_Q) = 1 − h(Q_U) − h((1 + √((S_L/2)² − 1))/2) at the
       reported Bell-test bound S_L and the Chernoff bound Q_U of the revealed key rounds (Acín et al.,
       PRL 98, 230501 (2007); Pironio et al., NJP 11, 045021 (2009)), and 0 when aborted. A rate at the
       observed S and Q (asymptotic) or any inflated rate is rejected. The honest runs of the other
       QKD checks ({QKD_LENGTH} / Werner F = {QKD_RAW}) are used; both roles are checked.""",
       source="Gottesman et al., QIC 4, 325 (2004); Tomamichel et al. (2012); Pironio et al. (2009)")
def _key_rate_formula(target: Target, ctx: Context) -> CheckResult:
    if not _is_qkd(target):
        return CheckResult.skipped("not a QKD application")
    app = target.factory()()
    res = _honest(target, ctx)
    rows = []
    for role in ("alice", "bob"):
        r = res[role]
        if hasattr(r, "bell_test") and hasattr(r, "qber_upper"):
            rows.append(_di_rate(app, role, r))
        elif getattr(r, "protocol", None) in ("bb84", "bbm92"):
            rows.append(_finite_key(app, role, r))
        else:
            return CheckResult.skipped(f"no key-rate formula for {type(r).__name__}")
    failed = [r for r in rows if not r.passed]
    return failed[0] if failed else max(rows, key=lambda r: abs(r.measured - r.expected))  # type: ignore[operator]


def _di_rate(app: Any, role: str, r: Any) -> CheckResult:
    from qstack.qkd.device_independent import di_qkd_finite_rate

    test = r.bell_test
    if test is None or r.qber_rounds == 0:
        return CheckResult.within(r.rate, 0.0, detail=f"{role}: no Bell test or no revealed key round: rate 0")
    errors = round(r.qber * r.qber_rounds)
    finite = di_qkd_finite_rate(test.chsh_lower, errors, r.qber_rounds, app.epsilon_qber)
    if abs(r.qber_upper - finite.qber_upper) > 1e-9:
        return CheckResult.within(r.qber_upper, finite.qber_upper,
                                  detail=f"{role}: Q_U of {errors} errors in {r.qber_rounds} revealed key rounds")
    expected = 0.0 if r.aborted else finite.rate
    return CheckResult.within(r.rate, expected, detail=f"{role}: rate at S_L = {test.chsh_lower:.6g}, Q_U = "
                              f"{finite.qber_upper:.6g}" + (" (aborted: 0)" if r.aborted else ""))


def _finite_key(app: Any, role: str, r: Any) -> CheckResult:
    from qstack.apps.bb84 import decoy_key_length
    from qstack.qkd.finite_key import DecoyBounds, decoy_single_photon_bounds, finite_key_length

    s, stats = app.settings, r.statistics
    if r.aborted:
        return CheckResult.within(r.key_length, 0, detail=f"{role}: aborted ({str(r.abort)[:60]}): no key")
    n = stats.sifted[0] - stats.sample_size
    if s.source == "decoy":
        q_mu, q_nu, y0 = stats.gains
        try:
            bounds = decoy_single_photon_bounds(s.mu, s.nu, q_mu, min(stats.qber, 1.0), q_nu, stats.error_rates[1], y0)
        except ValueError:
            bounds = DecoyBounds((0.0, 0.5))
        expected = decoy_key_length(n, stats.sifted[1], s.mu, q_mu, tuple(bounds), r.leaked_bits, s.eps_sec, s.eps_cor)
        what = "decoy_key_length"
    else:
        expected = finite_key_length(n, max(1, stats.sample_size), stats.qber, r.leaked_bits, s.eps_sec, s.eps_cor)
        what = "finite_key_length"
    return CheckResult.within(r.key_length, expected, detail=f"{role}: key length vs {what} of n = {n} bits, "
                              f"leak {r.leaked_bits}")
