"""Entanglement pumping in the network layer, against the closed forms of :mod:`qstack.quantum.theory`.

Entanglement pumping (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999); Dür & Briegel, Rep. Prog.
Phys. 70, 1381 (2007)) purifies one kept pair again and again with fresh pairs ``c0``:
``c₀ = c0``, ``cₖ = P(cₖ₋₁, c0)``. The two built-in variants differ in the step ``P``:

* ``"dejmps_pumping"`` (alias ``"pumping"``): a DEJMPS round (Deutsch et al., PRL 77, 2818
  (1996)), ``theory.dejmps_two(c, c0)``; the kept pair stays Bell-diagonal, not Werner;
* ``"bbpssw_pumping"``: both pairs are twirled to Werner form, then BBPSSW (Bennett et al.,
  PRL 76, 722 (1996)); on fidelities ``F' = (F·F0 + e·e0)/(F·F0 + F·e0 + e·F0 + 5e·e0)``,
  ``e = (1−F)/3``.

Unlike recurrence, pumping's fidelity tends to a fixed point below one when F0 < 1. As in
``test_network_purification``, links herald Werner pairs of raw fidelity F = 0.9 and memories do
not decay, so every delivered fidelity is deterministic. A pair's level counts its pumping
steps: ``max_rounds = k`` (with a target above the fixed point, never reached) delivers ``cₖ``,
made from k + 1 link pairs.
"""

from __future__ import annotations

import numpy as np
import pytest

from qstack.network.runner import run_scenario
from qstack.quantum import theory
from qstack.scenario import linear_chain, load_scenario

F_RAW = 0.9
E_RAW = (1 - F_RAW) / 3
WERNER = [F_RAW, E_RAW, E_RAW, E_RAW]
VARIANTS = {"dejmps_pumping": "dejmps", "bbpssw_pumping": "bbpssw"}
WALL_KEYS = ("build_seconds", "wall_seconds", "pairs_per_wall_second")  # host timing, not results


def _pumped_chain(nodes: int, protocol: str, rounds: int, record: bool = False) -> dict:
    d = linear_chain(nodes, seed=5, duration=0.05, raw_fidelity=F_RAW, t2="inf")
    d["policies"]["purification"] = {"protocol": protocol, "scope": "link", "target_fidelity": 0.9999,
                                     "max_rounds": rounds}
    return run_scenario(load_scenario(d), record=record)


def _werner(f0: float) -> list[float]:
    e = (1 - f0) / 3
    return [f0, e, e, e]


# ---------------------------------------------------------------------------------------------- network = theory

@pytest.mark.parametrize("rounds", [1, 2, 3, 4])
@pytest.mark.parametrize("protocol", list(VARIANTS))
def test_k_pumping_rounds_on_a_link_follow_the_k_fold_pumping_map(protocol, rounds):
    """After k pumping steps on one link every delivered pair has Φ⁺ fidelity ``cₖ[0]`` with
    ``cₖ = P(cₖ₋₁, c0)``, ``c₀`` the link's Werner pair (``theory.pumping_rounds``; Dür & Briegel,
    Rep. Prog. Phys. 70, 1381 (2007)), to 1e-9."""
    r = _pumped_chain(2, protocol, rounds)
    expected = theory.pumping_rounds(WERNER, rounds, VARIANTS[protocol])[0]
    assert r["delivered_pairs"] > 5
    assert r["fidelity_mean"] == pytest.approx(expected, abs=1e-9)
    assert r["fidelity_std"] < 1e-9
    assert all(v["rejected"] == 0 for v in r["messages"].values())


@pytest.mark.parametrize("protocol", list(VARIANTS))
def test_pumped_links_then_a_swap_follow_the_bell_diagonal_swap(protocol):
    """Pumping each link of a three-node chain twice, then swapping: the Pauli labels add, so
    the delivered fidelity is ``bell_diagonal_swap(c₂, c₂)[0]``."""
    r = _pumped_chain(3, protocol, 2)
    c2 = theory.pumping_rounds(WERNER, 2, VARIANTS[protocol])
    assert r["delivered_pairs"] > 5
    assert r["fidelity_mean"] == pytest.approx(theory.bell_diagonal_swap(c2, c2)[0], abs=1e-9)


def test_the_variants_agree_on_the_first_step_and_differ_after():
    """For Werner inputs the first step (two fresh pairs) is the same BBPSSW/DEJMPS round; from
    the second step on DEJMPS pumping keeps the non-Werner kept pair and ends higher than BBPSSW
    pumping, which twirls it back to Werner form."""
    one = {p: _pumped_chain(2, p, 1)["fidelity_mean"] for p in VARIANTS}
    assert one["dejmps_pumping"] == pytest.approx(one["bbpssw_pumping"], abs=1e-12)
    three = {p: _pumped_chain(2, p, 3)["fidelity_mean"] for p in VARIANTS}
    assert three["dejmps_pumping"] > three["bbpssw_pumping"] + 1e-3


def test_pumping_is_an_alias_of_dejmps_pumping_with_bit_identical_results():
    """``"pumping"`` (the original name) builds the same DEJMPS pumping policy as
    ``"dejmps_pumping"``: the run summaries and every per-pair record are identical (host wall
    times aside)."""
    alias, canonical = (_pumped_chain(3, p, 3, record=True) for p in ("pumping", "dejmps_pumping"))
    assert canonical["delivered_pairs"] > 5
    for summary in (alias, canonical):
        for key in WALL_KEYS:
            del summary[key]
    assert alias == canonical


# ---------------------------------------------------------------------------------------------- the one-step maps

@pytest.mark.parametrize(("f", "f0"), [(0.9, 0.9), (0.95, 0.8), (0.7, 0.99), (0.6, 0.6)])
def test_bbpssw_pumping_step_is_bbpssw_on_twirled_pairs(f, f0):
    """The Werner closed form ``F' = (F·F0 + e·e0)/p``, ``p = F·F0 + F·e0 + e·F0 + 5e·e0``
    (Bennett et al., PRL 76, 722 (1996), for two different pairs) equals ``dejmps_two`` on twirled
    inputs, and ``bbpssw(F)`` when both pairs are equal."""
    f1, p = theory.bbpssw_pumping(f, f0)
    c, n = theory.dejmps_two(theory.twirled(_werner(f)), theory.twirled(_werner(f0)))
    assert (f1, p) == pytest.approx((c[0], n), abs=1e-14)
    if f == f0:
        assert (f1, p) == pytest.approx(theory.bbpssw(f), abs=1e-14)
    assert theory.dejmps_pumping(_werner(f), _werner(f0))[0][0] == pytest.approx(f1, abs=1e-14)


def test_bbpssw_pumping_rounds_iterate_the_werner_map():
    """``pumping_rounds(c0, k, "bbpssw")`` has the fidelity of k BBPSSW pumping steps."""
    f = F_RAW
    for k in range(1, 8):
        f = theory.bbpssw_pumping(f, F_RAW)[0]
        assert theory.pumping_rounds(WERNER, k, "bbpssw")[0] == pytest.approx(f, abs=1e-14)


# ---------------------------------------------------------------------------------------------- the fixed points

F0_GRID = [0.51, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]


@pytest.mark.parametrize("f0", F0_GRID)
def test_bbpssw_pumping_fixed_point_solves_the_quadratic_and_lies_in_f0_to_1(f0):
    """BBPSSW pumping's fixed point (Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007); Dür,
    Briegel, Cirac & Zoller, PRA 59, 169 (1999)) is the positive root of
    ``2(4F0−1)F² − 6(2F0−1)F − (1−F0) = 0``: it maps to itself, equals the iterated map's limit,
    and ``F0 < F* < 1`` for ``1/2 < F0 < 1`` (``q(F0) = 8(F0−1)(F0−½)(F0−¼) < 0 < q(1) = 3(1−F0)``)."""
    fp = theory.bbpssw_pumping_fixed_point(f0)
    assert 2 * (4 * f0 - 1) * fp**2 - 6 * (2 * f0 - 1) * fp - (1 - f0) == pytest.approx(0, abs=1e-14)
    assert theory.bbpssw_pumping(fp, f0)[0] == pytest.approx(fp, abs=1e-14)
    assert theory.pumping_fixed_point(_werner(f0), "bbpssw")[0] == pytest.approx(fp, abs=1e-12)
    assert f0 < fp < 1


@pytest.mark.parametrize("f0", F0_GRID)
def test_dejmps_pumping_fixed_point_is_the_cubic_root_and_lies_in_f0_to_1(f0):
    """DEJMPS pumping's fixed point (Bell coefficients from the cubic root of
    ``theory.dejmps_pumping_fixed_point``, derived from ``dejmps_two``) maps to itself under one
    pumping step, equals the iterated limit, and ``F0 < A* < 1``: pumping never reaches one with
    noisy fresh pairs (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999))."""
    c = theory.dejmps_pumping_fixed_point(f0)
    assert c.sum() == pytest.approx(1, abs=1e-14) and (c > 0).all()
    assert theory.dejmps_pumping(c, _werner(f0))[0] == pytest.approx(c, abs=1e-13)
    assert theory.pumping_fixed_point(_werner(f0), "dejmps") == pytest.approx(c, abs=1e-12)
    assert f0 < c[0] < 1


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
@pytest.mark.parametrize("f0", [0.6, 0.8, 0.9])
def test_repeated_pumping_approaches_its_fixed_point_from_below(protocol, f0):
    """The pumped fidelity rises step by step towards the fixed point (never above it) and
    reaches it to 1e-12 within 200 steps."""
    fp = theory.pumping_fixed_point(_werner(f0), protocol)[0]
    fs = [theory.pumping_rounds(_werner(f0), k, protocol)[0] for k in range(200)]
    assert (np.diff(fs) >= -1e-15).all()
    assert max(fs) <= fp + 1e-12
    assert fs[1] < fp - 1e-4
    assert fs[-1] == pytest.approx(fp, abs=1e-12)


def test_bbpssw_pumping_fixed_point_is_below_dejmps_pumpings():
    """For Werner fresh pairs the twirl throws away the kept pair's Bell-diagonal structure that
    DEJMPS exploits, so BBPSSW pumping saturates lower: at F0 = 0.9, 0.9435 against 0.9602, at
    F0 = 0.8, 0.8704 against 0.9023 (checked over F0 in (1/2, 1))."""
    assert theory.bbpssw_pumping_fixed_point(0.9) == pytest.approx(0.943460157159295, abs=1e-12)
    assert theory.dejmps_pumping_fixed_point(0.9)[0] == pytest.approx(0.960173121704012, abs=1e-12)
    assert theory.bbpssw_pumping_fixed_point(0.8) == pytest.approx(0.870404162049646, abs=1e-12)
    assert theory.dejmps_pumping_fixed_point(0.8)[0] == pytest.approx(0.902339756686838, abs=1e-12)
    for f0 in np.linspace(0.505, 0.999, 50):
        assert theory.bbpssw_pumping_fixed_point(f0) < theory.dejmps_pumping_fixed_point(f0)[0]


def test_perfect_fresh_pairs_pump_to_one():
    """With perfect fresh pairs (F0 = 1) both fixed points are 1: the limit below one comes only
    from the fresh pairs' noise."""
    assert theory.bbpssw_pumping_fixed_point(1.0) == 1.0
    assert theory.dejmps_pumping_fixed_point(1.0).tolist() == [1.0, 0.0, 0.0, 0.0]
    assert theory.pumping_fixed_point([1.0, 0, 0, 0], "bbpssw")[0] == 1.0


def test_pumping_theory_rejects_bad_arguments():
    """Unknown protocols, negative round counts and fresh fidelities outside (1/2, 1] are errors."""
    with pytest.raises(ValueError, match="protocol"):
        theory.pumping_rounds(WERNER, 1, "pumping")
    with pytest.raises(ValueError, match="rounds"):
        theory.pumping_rounds(WERNER, -1)
    with pytest.raises(ValueError, match="f0"):
        theory.bbpssw_pumping_fixed_point(0.5)
    with pytest.raises(ValueError, match="f0"):
        theory.dejmps_pumping_fixed_point(1.1)
