"""Contracts of the hardware plug-ins: memory noise models and link generation schemes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qstack.conformance.framework import N_SE, TOLERANCE, CheckResult, Context, Target, check
from qstack.conformance.runs import Observed, all_occupied, chain, observe_link

# ---------------------------------------------------------------------------------------------- memory noise

_PAULIS = (np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]], dtype=complex),
           np.diag([1.0, -1.0]).astype(complex))


def _times(model: Any) -> list[float]:
    tau = model.coherence_time()
    if not (isinstance(tau, int | float) and math.isfinite(tau) and tau > 0):
        tau = 1.0
    return [0.0, 1e-3 * tau, 0.1 * tau, 0.5 * tau, tau, 2.0 * tau, 5.0 * tau]


def _embed(rho1: np.ndarray, pos: int, n: int) -> np.ndarray:
    """``rho1`` on qubit ``pos`` of ``n``, the others in |0⟩."""
    zero = np.diag([1.0, 0.0]).astype(complex)
    out = np.array([[1.0 + 0j]])
    for i in range(n):
        out = np.kron(out, rho1 if i == pos else zero)
    return out


def _reduce(rho: np.ndarray, pos: int, n: int) -> np.ndarray:
    t = rho.reshape([2] * (2 * n))
    keep = list(range(n))
    for i in reversed(range(n)):
        if i != pos:
            t = np.trace(t, axis1=i, axis2=i + len(keep))
            keep.pop()
    return t.reshape(2, 2)


def _ptm_from_apply(model: Any, t: float, pos: int = 0, n: int = 1) -> tuple[float, float, float]:
    """``R_ii = Tr[σ_i E(σ_i)]/2`` from the channel, with ``E(σ_i) = E(ρ₊) − E(ρ₋)``, ``ρ± = (I ± σ_i)/2``."""
    out = []
    for s in _PAULIS:
        plus, minus = (np.eye(2) + s) / 2, (np.eye(2) - s) / 2
        ep = _reduce(np.asarray(model.apply(_embed(plus, pos, n), pos, n, t)), pos, n)
        em = _reduce(np.asarray(model.apply(_embed(minus, pos, n), pos, n, t)), pos, n)
        out.append(float(np.real(np.trace(s @ (ep - em)))) / 2)
    return out[0], out[1], out[2]


@check("memory_noise.identity_at_zero", "memory_noise", """Storage for no time changes nothing:
       ptm_diagonal(0) = (1, 1, 1) and apply(ρ, pos, n, 0) = ρ, to 1e-9.""")
def _identity(target: Target, ctx: Context) -> CheckResult:
    model = target.create()
    lam = np.array(model.ptm_diagonal(0.0), dtype=float)
    rng = np.random.default_rng(ctx.seed)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    err = max(float(np.max(np.abs(lam - 1.0))), float(np.max(np.abs(model.apply(rho.copy(), 1, 2, 0.0) - rho))))
    return CheckResult.within(err, 0.0, detail=f"ptm_diagonal(0) = {lam.tolist()}")


@check("memory_noise.ptm_matches_apply", "memory_noise", """ptm_diagonal(t) tells the truth about the
       channel: R_ii = Tr[σ_i E_t(σ_i)]/2 computed from apply() equals ptm_diagonal(t)_i for i = x, y, z,
       on a lone qubit and on qubit 1 of 2, at t = 0 … 5 coherence times, to 1e-9.""")
def _ptm(target: Target, ctx: Context) -> CheckResult:
    model = target.create()
    worst, at = 0.0, ""
    for t in _times(model):
        claimed = np.array(model.ptm_diagonal(t), dtype=float)
        for pos, n in ((0, 1), (1, 2)):
            real = np.array(_ptm_from_apply(model, t, pos, n))
            err = float(np.max(np.abs(real - claimed)))
            if err > worst:
                worst, at = err, f"t = {t:.4g} s: apply gives {np.round(real, 9).tolist()}, " \
                                 f"ptm_diagonal says {np.round(claimed, 9).tolist()}"
    return CheckResult.within(worst, 0.0, detail=at or "agree at every time")


@check("memory_noise.monotone", "memory_noise", """Storage only loses information: |λ_x|, |λ_y|, |λ_z|
       of ptm_diagonal(t) never increase with t (60 times up to 5 coherence times; 1e-9 slack).""")
def _monotone(target: Target, ctx: Context) -> CheckResult:
    model = target.create()
    top = _times(model)[-1]
    prev = np.abs(np.array(model.ptm_diagonal(0.0), dtype=float))
    worst, at = 0.0, ""
    for t in np.linspace(0.0, top, 60)[1:]:
        cur = np.abs(np.array(model.ptm_diagonal(float(t)), dtype=float))
        rise = float(np.max(cur - prev))
        if rise > worst:
            worst, at = rise, f"rises by {rise:.3g} at t = {t:.4g} s"
        prev = cur
    return CheckResult.at_most(worst, 0.0, detail=at or "non-increasing")


@check("memory_noise.semigroup", "memory_noise", """Channels compose, as lazy decoherence needs:
       E(t₂)∘E(t₁) = E(t₁ + t₂) on a random two-qubit state, to 1e-9.""")
def _semigroup(target: Target, ctx: Context) -> CheckResult:
    model = target.create()
    rng = np.random.default_rng(ctx.seed)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    ts = _times(model)
    t1, t2 = ts[3], ts[2]
    two = model.apply(model.apply(rho.copy(), 0, 2, t1), 0, 2, t2)
    one = model.apply(rho.copy(), 0, 2, t1 + t2)
    return CheckResult.within(float(np.max(np.abs(two - one))), 0.0, detail=f"t1 = {t1:.4g} s, t2 = {t2:.4g} s")


@check("memory_noise.expected_fidelity", "memory_noise", """expected_fidelity(t) is what a stored Bell pair
       shows: one half of Φ⁺ stored t seconds in a QuantumMemory with the model has
       ⟨Φ⁺|ρ|Φ⁺⟩ = expected_fidelity(t) (= Tr(PTM)/4), to 1e-9.""",
       source="Horodecki, Horodecki & Horodecki, PRA 60, 1888 (1999)")
def _expected_fidelity(target: Target, ctx: Context) -> CheckResult:
    from qstack.physical.memory import QuantumMemory
    from qstack.quantum import bell_state, create_qubits, fidelity, state_of

    model = target.create()
    worst, at = 0.0, ""
    for t in _times(model):
        mem = QuantumMemory("conformance", 1, noise=model)
        qa, qb = create_qubits(2, bell_state("phi+"))
        pos = mem.store(qa, 0.0)
        q = mem.pop(pos, t)
        f = float(fidelity(state_of([q, qb]), bell_state("phi+")))
        e = float(model.expected_fidelity(t))
        if abs(f - e) > worst:
            worst, at = abs(f - e), f"t = {t:.4g} s: stored pair {f:.9f}, expected_fidelity {e:.9f}"
    return CheckResult.within(worst, 0.0, detail=at or "agree at every time")


# ---------------------------------------------------------------------------------------------- link schemes

#: requested minimum fidelities the link checks try
LINK_FIDELITIES = (0.0, 0.8, 0.9, 0.99)
LINK_DURATION = 0.1


def _link_hw(target: Target) -> tuple[Any, Any]:
    sc = chain(2, "10 km", seed=1, duration=LINK_DURATION, link={"scheme": target.scenario_spec()}, raw_fidelity=1.0)
    hw, _, _ = sc.link_hardware(sc.links[0])
    return sc, hw


def _link_run(target: Target, ctx: Context, min_fidelity: float) -> Observed:
    def make() -> Observed:
        sc = chain(2, "10 km", seed=ctx.seed, duration=LINK_DURATION, link={"scheme": target.scenario_spec()},
                   raw_fidelity=1.0)
        return observe_link(sc, min_fidelity, until=LINK_DURATION)

    return ctx.memo(("link", min_fidelity), make)


@check("link_scheme.min_fidelity_met", "link_scheme", """Every OK pair meets the requested minimum
       fidelity, measured from the heralded state (not the goodness field): for requests of F_min = 0, 0.8,
       0.9, 0.99 on a 10 km link, ⟨β_k|ρ|β_k⟩ ≥ F_min − 1e-9 for every LinkOK (β_k its announced Bell
       state); where the scheme has no model for F_min, no pair is made and the request fails with
       UNSUPPORTED at once (t = 0). The link layers are driven directly (LinkCreate at one end, a
       collector above both).""")
def _min_fidelity(target: Target, ctx: Context) -> CheckResult:
    scheme = target.create()
    _, hw = _link_hw(target)
    worst, detail, n = math.inf, "", 0
    for fmin in LINK_FIDELITIES:
        obs = _link_run(target, ctx, fmin)
        model = scheme.model(hw, fmin)
        if model is None:
            unsupported = [t for e, t in zip(obs.link_errors, obs.link_error_times, strict=True)
                           if e.error_name == "UNSUPPORTED" and t == 0.0]
            if obs.heralds or not unsupported:
                return CheckResult(False, len(obs.heralds), 0, detail=f"F_min {fmin}: no model, yet "
                                   f"{len(obs.heralds)} heralds and {len(unsupported)} UNSUPPORTED errors")
            continue
        for h in obs.heralds:
            if h.coeffs is None:
                continue
            n += 1
            margin = float(h.coeffs[h.bell_index]) - fmin
            if margin < worst:
                worst, detail = margin, f"F_min {fmin}: pair {h.link}#{h.seq} has F = {h.coeffs[h.bell_index]:.9f}"
    if n == 0:
        return CheckResult.skipped("no request could be served") if worst == math.inf else CheckResult(False)
    return CheckResult.at_least(worst, 0.0, detail=f"{n} pairs; smallest F − F_min: {detail}")


@check("link_scheme.ends_agree", "link_scheme", """Both ends agree on each pair: every pair id is
       indicated (LinkOK) exactly once at each end, with the same Bell state, purpose and creation time.""")
def _ends_agree(target: Target, ctx: Context) -> CheckResult:
    problems, n = [], 0
    for fmin in LINK_FIDELITIES:
        obs = _link_run(target, ctx, fmin)
        by_id: dict[Any, list[Any]] = {}
        for h in obs.heralds:
            by_id.setdefault((h.link, h.seq), []).append(h)
        for key, hs in by_id.items():
            n += 1
            nodes = sorted(h.node for h in hs)
            if len(hs) != 2 or nodes[0] == nodes[1]:
                problems.append(f"{key}: indicated at {nodes}")
            elif len({(h.bell_index, h.purpose_id, h.created) for h in hs}) != 1:
                problems.append(f"{key}: ends disagree")
    # a pair still in flight at the end of the run is not a disagreement: runs stop their flows and settle
    return CheckResult(not problems, len(problems), 0, tolerance=0, detail="; ".join(problems[:3]) or f"{n} pairs")


@check("link_scheme.positions_released", "link_scheme", """No memory position is leaked: after each
       request is stopped and the link settled (every OK pair freed by the layer above), every position
       at both ends is free.""")
def _link_positions(target: Target, ctx: Context) -> CheckResult:
    n, detail = 0, ""
    for fmin in LINK_FIDELITIES:
        occ = all_occupied(_link_run(target, ctx, fmin).net)
        n += sum(len(v) for v in occ.values())
        if occ and not detail:
            detail = f"F_min {fmin}: occupied " + ", ".join(f"{k}: {v}" for k, v in occ.items())
    return CheckResult(n == 0, n, 0, tolerance=0, detail=detail or "all positions free")


@check("link_scheme.model_consistent", "link_scheme", """The model the scheme returns describes its own
       heralds: success_probability = Σ tr(unnormalised heralded states) and fidelity = the
       herald-weighted fidelity of those states to their Bell states (raw-fidelity channel applied),
       to 1e-9, for each F_min it serves.""")
def _model_consistent(target: Target, ctx: Context) -> CheckResult:
    from qstack.conformance.runs import bell_coefficients_of
    from qstack.physical.station import depolarised

    scheme = target.create()
    _, hw = _link_hw(target)
    worst, detail, n = 0.0, "", 0
    for fmin in LINK_FIDELITIES:
        model = scheme.model(hw, fmin)
        if model is None:
            continue
        n += 1
        outs = model.outcomes()
        probs = [float(np.real(np.trace(np.asarray(s)))) for _, s in outs]
        f_states = sum(float(bell_coefficients_of(np.asarray(s) / p)[b]) * p
                       for (b, s), p in zip(outs, probs, strict=True) if p > 0) / sum(probs)
        f_claim = depolarised(float(model.fidelity), hw.raw_w)
        f_real = depolarised(f_states, hw.raw_w)
        for err, what in ((abs(sum(probs) - model.success_probability),
                           f"p {model.success_probability:.9g} vs Σ tr {sum(probs):.9g}"),
                          (abs(f_claim - f_real), f"fidelity {f_claim:.9g} vs heralded states {f_real:.9g}")):
            if err > worst:
                worst, detail = err, f"F_min {fmin}: {what}"
    if n == 0:
        return CheckResult.skipped("the scheme serves none of the requests")
    return CheckResult.within(worst, 0.0, detail=detail or f"{n} models consistent")


@check("link_scheme.success_rate", "link_scheme", """Pairs come at the model's rate: the mean number of
       attempts per heralded pair is within 4 standard errors of 1/p (p = success_probability, SE =
       √((1−p)/p²/n), n pairs), counted after the request is stopped and the link settled (fixed seed).""",
       kind="statistical")
def _success_rate(target: Target, ctx: Context) -> CheckResult:
    scheme = target.create()
    _, hw = _link_hw(target)
    fmin = next((f for f in LINK_FIDELITIES if scheme.model(hw, f) is not None), None)
    if fmin is None:
        return CheckResult.skipped("the scheme serves none of the requests")
    p = scheme.model(hw, fmin).success_probability
    obs = _link_run(target, ctx, fmin)
    link = next(iter(obs.net.links.values()))
    n, attempts = link.pairs_generated, link.attempts
    if n == 0:
        return CheckResult(False, 0, 1 / p, detail="no pair heralded")
    se = math.sqrt((1 - p) / p**2 / n)
    return CheckResult.statistical(attempts / n, 1 / p, se, N_SE, detail=f"{n} pairs, {attempts} attempts, "
                                   f"F_min {fmin}; per attempt p = {p:.6g}, cycle {hw.cycle_time:.4g} s")


_ = TOLERANCE
