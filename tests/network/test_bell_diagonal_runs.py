"""Whole runs on the exact Bell-diagonal engine against the density-matrix engine.

Contract (issue 13): a run whose link states, memories and gates all keep pairs Bell-diagonal
gives, on the same seed, the *same* pairs — same times, same Bell frames, same links — with the
same fidelities to 1e-12 whether the pair states are held as four Bell coefficients or as 4×4
density matrices; the random draws are consumed identically. ``engine = "auto"`` picks Bell
coefficients exactly when every model declares it keeps the family, falls back to density
matrices otherwise (amplitude damping, T1 < inf), and ``"bell_diagonal"`` is refused naming the
model that breaks it. The summary reports the engine that ran.
"""

from __future__ import annotations

import math

import pytest

from qstack.network.runner import run_scenario
from qstack.quantum.bell_engine import EngineError
from qstack.scenario import ScenarioError, linear_chain, load_scenario


def _run(d: dict, engine: str) -> dict:
    d = {**d, "simulation": {**d["simulation"], "engine": engine}}
    return run_scenario(load_scenario(d), record=True)


def _assert_same_run(d: dict) -> dict:
    dm = _run(d, "density_matrix")
    bd = _run(d, "bell_diagonal")
    assert dm["engine"] == "density_matrix" and bd["engine"] == "bell_diagonal"
    assert dm["delivered_pairs"] == bd["delivered_pairs"] > 0
    assert dm["events"] == bd["events"] and dm["link_pairs_generated"] == bd["link_pairs_generated"]
    for a, b in zip(dm["records"], bd["records"], strict=True):
        for key in a:
            if key == "fidelity":
                assert abs(a[key] - b[key]) <= 1e-12, (a, b)
            else:
                assert a[key] == b[key], (key, a, b)  # same pair, same time, same frame: same draws
    assert abs(dm["fidelity_mean"] - bd["fidelity_mean"]) <= 1e-12
    return bd


@pytest.mark.parametrize("swapping", ["asap", "nested"])
@pytest.mark.parametrize("nodes", [3, 5, 9])
def test_dephasing_chain_gives_the_same_pairs_and_fidelities_on_both_engines(nodes, swapping):
    """Werner links (raw fidelity 0.97), pure-dephasing memories (T2 = 50 ms, T1 = inf) and
    depolarising gates with readout flips: every pair agrees, fidelity to 1e-12."""
    duration = {3: 0.05, 5: 0.05, 9: 0.05}[nodes]
    d = linear_chain(nodes, seed=3, duration=duration, swapping=swapping, raw_fidelity=0.97, t2="50 ms",
                     two_qubit_depolarizing=0.01, single_qubit_depolarizing=0.005, readout_error=0.01)
    out = _assert_same_run(d)
    assert out["fidelity_mean"] < 0.97  # the noise really acted


def test_depolarising_memories_with_cutoff_give_the_same_run():
    """Depolarising memories (1 s) and a cut-off: the expiries (same times on both engines) and
    every delivered pair agree."""
    d = linear_chain(5, seed=11, duration=0.05, swapping="asap", cutoff="2 ms", t2="inf",
                     depolarizing_time="20 ms", readout_error=0.02)
    _assert_same_run(d)


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
def test_link_purification_gives_the_same_run(protocol):
    """Purification halves leave the family between the two sides, so the engine builds those
    groups' density matrices; the run is still the density-matrix run, pair for pair."""
    d = linear_chain(3, seed=5, duration=0.03, raw_fidelity=0.9, t2="0.5 s")
    d["policies"]["purification"] = {"protocol": protocol, "scope": "link", "target_fidelity": 0.99,
                                     "max_rounds": 1}
    _assert_same_run(d)


def test_auto_picks_bell_coefficients_for_the_default_chain_and_the_default_is_auto():
    """The starlight profile (T1 = inf, T2 = 1.3 s, no gate noise, ideal double-click links)
    keeps the family: ``auto`` (the default) runs on Bell coefficients."""
    d = linear_chain(3, seed=1, duration=0.01)
    assert run_scenario(load_scenario(d))["engine"] == "bell_diagonal"


def test_amplitude_damping_falls_back_to_density_matrices_and_bell_diagonal_is_refused():
    """T1 < inf is amplitude damping, which leaves the Bell-diagonal family: ``auto`` runs on
    density matrices (the same run as asking for them) and ``bell_diagonal`` is refused naming
    the node's memory model."""
    d = linear_chain(3, seed=2, duration=0.01, t1="1 s", t2="0.5 s")
    auto = _run(d, "auto")
    dm = _run(d, "density_matrix")
    assert auto["engine"] == "density_matrix"
    assert auto["records"] == dm["records"]
    with pytest.raises(EngineError, match=r"memory noise of node 'n0' \(T1 = 1 s, T2 = 0.5 s\)"):
        _run(d, "bell_diagonal")


def test_a_single_click_link_is_not_bell_diagonal_so_auto_falls_back():
    """A single-click pair has a |11⟩ admixture (bright-state population α): not Bell-diagonal."""
    d = linear_chain(3, seed=2, duration=0.01, link={"scheme": "single_click"})
    assert _run(d, "auto")["engine"] == "density_matrix"
    with pytest.raises(EngineError, match="a heralded state is not Bell-diagonal"):
        _run(d, "bell_diagonal")


def test_an_unknown_engine_is_refused_at_load_naming_the_field():
    d = linear_chain(3, seed=2, duration=0.01)
    d["simulation"]["engine"] = "fast"
    with pytest.raises(ScenarioError, match="engine"):
        load_scenario(d)


def test_fidelity_of_an_ideal_dephasing_free_chain_is_exact():
    """With ideal links, memories and gates every delivered pair is exactly its Bell state on the
    Bell-diagonal engine (fidelity 1 to 1e-12)."""
    d = linear_chain(5, seed=4, duration=0.01, t2="inf")
    out = _run(d, "bell_diagonal")
    assert out["delivered_pairs"] > 0
    assert all(math.isclose(r["fidelity"], 1.0, abs_tol=1e-12) for r in out["records"])
