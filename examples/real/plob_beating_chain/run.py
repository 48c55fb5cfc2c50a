"""A two-link memory repeater against the repeaterless PLOB bound, per channel use.

Loads ``scenario.toml`` (alice — repeater — bob, 2 × 100 km, double-click heralding, one
memory per link end; every device number a stated ASSUMPTION, cited there), runs it with
qstack's own network simulation (:func:`qstack.network.run_scenario`) and compares what it
delivers per channel use with the PLOB bound ``−log2(1 − η)`` of the whole 200 km fibre
(:func:`qstack.qkd.entropy.plob_bound`). Then it varies the memory coherence time ``t2`` and the
link length to show where the chain stops beating the bound.

What is counted:

* **channel uses**: each link sends one mode per attempt cycle ``τ = max(1/attempt_rate,
  herald round trip)`` per memory position, so a run of simulated time ``T`` uses each link
  ``T/τ`` times (an upper bound on the attempts actually made: a link holding a pair waits,
  which only makes the comparison harder for the repeater);
* **yield per channel use**: delivered pairs per use × ``1 − h(F̄)``. With pure dephasing
  (``t1 = inf``, no gate noise, no dark counts) every delivered pair is the announced Bell state
  with probability ``F`` and its phase-flipped partner otherwise, so the average pair is the
  rank-2 Bell-diagonal state ``(F̄, 1 − F̄, 0, 0)``: its hashing yield ``1 − h(F̄)`` (Bennett et
  al., PRA 54, 3824 (1996); Devetak & Winter, Proc. R. Soc. A 461, 207 (2005)) is achievable
  distillable entanglement, and the same number is the BBM92 secret fraction ``1 − h(e_X) −
  h(e_Z)`` with ``e_Z = 0``, ``e_X = 1 − F̄``. PLOB bounds both per channel use.

The analytic model it is checked against (slotted links; Shchukin, Rozpędek & Wehner, PRA 100,
032322 (2019); :func:`qstack.network.analysis.two_segment_waiting_time`): each link heralds
with ``p`` per slot (:class:`qstack.physical.heralding.HeraldingModel`), so the chain delivers
one pair per ``E[T] = (3 − 2p)/(p(2 − p))`` slots; the earlier pair waits ``Δ = |G₁ − G₂|``
slots, ``P(Δ = 0) = p/(2 − p)``, ``P(Δ = k) = 2p q^k/(2 − p)``, and dephases on both its qubits,
so ``F̄ = (1 + E[x^Δ])/2`` with ``x = e^{−2τ/T2}``, ``E[x^Δ] = p (1 + 2qx/(1 − qx))/(2 − p)``
(fixed herald and message latencies, < 1 ms against seconds of T2, neglected).

Run: ``python examples/real/plob_beating_chain/run.py`` (about 5 s).
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

from scipy.optimize import brentq

from qstack.network import run_scenario
from qstack.network.analysis import two_segment_waiting_time
from qstack.physical.detectors import Detector
from qstack.physical.fibre import Fibre
from qstack.physical.heralding import HeraldingModel
from qstack.qkd.entropy import binary_entropy, plob_bound, tgw_bound
from qstack.scenario import load_scenario

HERE = Path(__file__).resolve().parent

#: memory coherence times (s) simulated at the scenario's 200 km (besides its own 10 s)
T2_GRID = (1.0, 3.0, 100.0)
#: total Alice–Bob distances (km) simulated at the scenario's t2 (besides its own 200 km)
DISTANCE_GRID = (60.0, 320.0, 440.0)
#: end-to-end pairs each simulated point aims at (sets its simulated duration)
TARGET_PAIRS = 2000


def base() -> dict[str, Any]:
    """The scenario as a dict (``scenario.toml``)."""
    with open(HERE / "scenario.toml", "rb") as fh:
        return tomllib.load(fh)


def variant(raw: dict[str, Any], *, link_km: float | None = None, t2: float | None = None) -> dict[str, Any]:
    """``raw`` with every link ``link_km`` long and/or the memories' ``t2`` (s) changed."""
    out = copy.deepcopy(raw)
    if link_km is not None:
        for link in out["links"]:
            link["length"] = f"{link_km:.12g} km"
    if t2 is not None:
        out["hardware"]["default"]["t2"] = "inf" if math.isinf(t2) else f"{t2:.12g} s"
    return out


def link_model(raw: dict[str, Any]) -> HeraldingModel:
    """The heralding model of the scenario's links (both alike): per-attempt success ``p`` and
    attempt cycle ``τ``, from the same hardware the simulation uses."""
    sc = load_scenario(raw)
    link = sc.links[0]
    hw = sc.hardware_of(link.a)
    half = link.length / 2
    return HeraldingModel.for_link(
        link.scheme, Fibre(half, link.attenuation, link.refractive_index),
        Fibre(half, link.attenuation, link.refractive_index),
        Detector(hw.detector_efficiency, hw.dark_count_probability),
        emission_efficiency=hw.emission_efficiency, attempt_period=1.0 / hw.attempt_rate)


def transmissivity(raw: dict[str, Any]) -> float:
    """End-to-end fibre transmissivity ``10^(−Σ α L / 10)`` (fibre only: what PLOB is about)."""
    sc = load_scenario(raw)
    loss_db = sum(link.attenuation * link.length / 1e3 for link in sc.links)
    return 10.0 ** (-loss_db / 10.0)


def _yield(rate_per_use: float, fidelity: float) -> float:
    return rate_per_use * max(0.0, 1.0 - float(binary_entropy(min(max(1.0 - fidelity, 0.0), 0.5))))


def analytic(raw: dict[str, Any]) -> dict[str, float]:
    """The slotted-model prediction (module docstring) for ``raw``."""
    m = link_model(raw)
    p, tau = m.success_probability, m.cycle_time
    t2 = load_scenario(raw).hardware_of("alice").t2
    rate = 1.0 / two_segment_waiting_time(p)
    q = 1.0 - p
    x = 0.0 if t2 == 0 else math.exp(-2.0 * tau / t2)
    mean_x_delta = p * (1.0 + 2.0 * q * x / (1.0 - q * x)) / (2.0 - p)
    fidelity = 0.5 * (1.0 + mean_x_delta)
    eta = transmissivity(raw)
    return {"p": p, "cycle": tau, "rate_per_use": rate, "fidelity": fidelity,
            "yield_per_use": _yield(rate, fidelity), "plob": plob_bound(eta), "tgw": tgw_bound(eta),
            "transmissivity": eta}


def simulate(raw: dict[str, Any], pairs: int = TARGET_PAIRS) -> dict[str, float]:
    """Run ``raw`` with qstack's network simulation for about ``pairs`` end-to-end pairs and
    return per-channel-use figures with their standard errors.

    The rate's standard error is the Poisson one, ``sqrt(N)/uses``: delivery is a renewal
    process whose cycle (the later of two geometric times) has a squared coefficient of
    variation below 5/9, so this over-states the error. The yield's error adds the fidelity's
    (delta method, ``d(1 − h(F))/dF = log2(F/(1 − F))``)."""
    pred = analytic(raw)
    run = copy.deepcopy(raw)
    run["simulation"]["duration"] = f"{pairs * pred['cycle'] / pred['rate_per_use']:.12g} s"
    out = run_scenario(load_scenario(run))
    sc = load_scenario(run)
    positions = min(sc.link_memory_positions(sc.links[0]))
    uses = out["simulated_time"] * positions / pred["cycle"]
    n = out["delivered_pairs"]
    rate = n / uses
    rate_se = math.sqrt(n) / uses
    f = float(out["fidelity_mean"]) if n else math.nan
    f_se = float(out["fidelity_stderr"] or 0.0) if n > 1 else math.nan
    y = _yield(rate, f)
    slope = math.log2(f / (1.0 - f)) if 0.5 < f < 1.0 else 0.0
    y_se = math.hypot(rate_se * (y / rate if rate else 0.0), rate * slope * f_se) if n else math.nan
    return {"pairs": float(n), "uses": uses, "rate_per_use": rate, "rate_se": rate_se,
            "fidelity": f, "fidelity_se": f_se, "yield_per_use": y, "yield_se": y_se,
            "plob": pred["plob"], "simulated_time": float(out["simulated_time"])}


def coherence_threshold(raw: dict[str, Any]) -> float:
    """The memory ``t2`` (s) below which the analytic yield falls under PLOB at ``raw``'s
    distance (Brent's method on ``log t2``)."""

    def margin(log_t2: float) -> float:
        a = analytic(variant(raw, t2=math.exp(log_t2)))
        return math.log(a["yield_per_use"] / a["plob"]) if a["yield_per_use"] > 0 else -50.0

    return math.exp(brentq(margin, math.log(1e-3), math.log(1e5), xtol=1e-10))


def distance_window(raw: dict[str, Any], step_km: float = 5.0, end_km: float = 800.0) -> tuple[float, float]:
    """Total Alice–Bob distances ``(L_low, L_high)`` (km) between which the analytic yield
    beats PLOB at ``raw``'s ``t2`` (scan in ``step_km``, refined by Brent's method)."""

    def margin(total_km: float) -> float:
        a = analytic(variant(raw, link_km=total_km / 2))
        return math.log(a["yield_per_use"] / a["plob"]) if a["yield_per_use"] > 0 else -50.0

    roots, prev_km, prev = [], step_km, margin(step_km)
    km = step_km
    while km < end_km and len(roots) < 2:
        km += step_km
        cur = margin(km)
        if (prev > 0) != (cur > 0):
            roots.append(brentq(margin, prev_km, km, xtol=1e-9))
        prev_km, prev = km, cur
    if len(roots) != 2:
        raise ValueError(f"the yield does not cross PLOB twice below {end_km} km: {roots}")
    return roots[0], roots[1]


def compute() -> dict[str, Any]:
    """The headline figures: the scenario's point simulated and predicted, the coherence
    threshold and the distance window (analytic) and simulated points on either side."""
    raw = base()
    sim = simulate(raw)
    pred = analytic(raw)
    ideal = simulate(variant(raw, t2=math.inf), pairs=TARGET_PAIRS)
    t2_base = load_scenario(raw).hardware_of("alice").t2
    km_base = sum(link.length for link in load_scenario(raw).links) / 1e3
    t2_points = {t2: simulate(variant(raw, t2=t2)) for t2 in T2_GRID}
    t2_points[t2_base] = sim
    d_points = {km: simulate(variant(raw, link_km=km / 2)) for km in DISTANCE_GRID}
    d_points[km_base] = sim
    low, high = distance_window(raw)
    return {
        "sim": sim, "analytic": pred, "ideal_memory": ideal, "ideal_analytic": analytic(variant(raw, t2=math.inf)),
        "t2_threshold_s": coherence_threshold(raw),
        "t2_points": dict(sorted(t2_points.items())),
        "t2_analytic": {t2: analytic(variant(raw, t2=t2)) for t2 in sorted(t2_points)},
        "distance_window_km": (low, high),
        "distance_points": dict(sorted(d_points.items())),
        "distance_analytic": {km: analytic(variant(raw, link_km=km / 2)) for km in sorted(d_points)},
    }


if __name__ == "__main__":
    fig = compute()
    s, a = fig["sim"], fig["analytic"]
    print(f"200 km, t2 = 10 s: yield {s['yield_per_use']:.3e} ± {s['yield_se']:.1e} per use "
          f"(analytic {a['yield_per_use']:.3e}); PLOB {a['plob']:.3e}, TGW {a['tgw']:.3e}; "
          f"ratio to PLOB {s['yield_per_use'] / a['plob']:.2f}")
    print(f"  pairs {s['pairs']:.0f}, F = {s['fidelity']:.4f} ± {s['fidelity_se']:.4f} (analytic {a['fidelity']:.4f}), "
          f"rate/use {s['rate_per_use']:.3e} (analytic {a['rate_per_use']:.3e})")
    print(f"coherence threshold at 200 km: t2 = {fig['t2_threshold_s']:.3f} s")
    for t2, pt in fig["t2_points"].items():
        an = fig["t2_analytic"][t2]
        print(f"  t2 = {t2:6g} s: yield {pt['yield_per_use']:.3e} ± {pt['yield_se']:.1e}"
              f" (analytic {an['yield_per_use']:.3e}), PLOB {pt['plob']:.3e},"
              f" F {pt['fidelity']:.4f} (analytic {an['fidelity']:.4f})")
    lo, hi = fig["distance_window_km"]
    print(f"beats PLOB (analytic, t2 = 10 s) from {lo:.1f} km to {hi:.1f} km")
    for km, pt in fig["distance_points"].items():
        an = fig["distance_analytic"][km]
        print(f"  {km:5g} km: yield {pt['yield_per_use']:.3e} ± {pt['yield_se']:.1e}"
              f" (analytic {an['yield_per_use']:.3e}), PLOB {pt['plob']:.3e},"
              f" ratio {pt['yield_per_use'] / pt['plob']:.2f}")
