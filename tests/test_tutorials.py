"""The tutorials in examples/tutorials run, and what they show is the theory.

Each tutorial is a user's plug-in written through the public registries; here each is run as
the newcomer would (its script, its scenario file through ``qstack run``, its sans-I/O test
through pytest) and its numbers are checked against the closed forms its docstring teaches.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "examples" / "tutorials"


@pytest.fixture(autouse=True)
def _tutorials_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(TUTORIALS))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TUTORIALS), str(ROOT), env.get("PYTHONPATH", "")])
    return env


@pytest.mark.parametrize("script", [pytest.param("swap_policy.py", marks=pytest.mark.slow), "link_scheme.py",
                                    "memory_noise.py"])
def test_each_tutorial_script_runs_and_prints(script):
    done = subprocess.run([sys.executable, str(TUTORIALS / script)], capture_output=True, text=True, env=_env(),
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_own_swap_policy_never_swaps_a_pair_older_than_its_limit_and_beats_asap_on_fidelity():
    """FreshFirst (max_age = 1 ms) on a 3-node chain with T2 = 5 ms memories: every link pair it
    swaps waited at most 1 ms (swap-ASAP lets some wait ~4 ms), and since a Ψ pair stored t in
    both halves keeps F = (1 + e^{−2t/T2})/2, the delivered pairs are better on average."""
    import swap_policy

    out = swap_policy.compare(1e-3)
    assert out["fresh_first"]["max_link_wait"] <= 1e-3 + 1e-12 < out["asap"]["max_link_wait"]
    assert out["fresh_first"]["fidelity"] > out["asap"]["fidelity"] + 0.02
    assert out["fresh_first"]["pairs"] > 0.5 * out["asap"]["pairs"]


def test_own_link_scheme_heralds_the_single_click_fidelity_and_costs_one_over_p_attempts():
    """Single click at fixed α: every delivered pair (ideal memories) has exactly
    F = (1 − α)/(1 − αη/2) (to 1e-9); attempts per pair are geometric with mean 1/p, so over K
    pairs the mean is within 4σ, σ = √((1 − p)/K)/p, plus the at most one unfinished sequence
    per memory position counted at the end."""
    import link_scheme

    alpha = 0.1
    model, hw, rows, attempts, pairs = link_scheme.run(alpha, duration="0.4 s")
    eta = hw.eta_a
    assert hw.eta_b == pytest.approx(eta)
    assert model.fidelity == pytest.approx((1 - alpha) / (1 - alpha * eta / 2), abs=1e-12)
    assert len(rows) > 500 and all(r["fidelity"] == pytest.approx(model.fidelity, abs=1e-9) for r in rows)
    p = model.success_probability
    sigma = math.sqrt((1 - p) / pairs) / p
    inflight = 10 * (1 / p) / pairs  # default 10 positions per link end, each possibly mid-sequence
    assert abs(attempts / pairs - 1 / p) < 4 * sigma + inflight


def test_own_memory_noise_sets_the_stage_and_the_fidelity_of_stored_pairs():
    """PauliRates memories: a stored Bell pair keeps its state only if both halves got the same
    Pauli, F(t) = Σ p_σ(t)² — each delivered pair's measured fidelity equals it at the pair's age
    (to 1e-9); the stage derivation uses the model's coherence time: a memory that dephases in
    microseconds cannot hold entanglement over a 2 km link's round trip (stage 2, not 3)."""
    from dataclasses import replace

    import memory_noise

    from qstack.network import run_scenario
    from qstack.stages import Stage, network_stage

    sc = memory_noise.scenario()
    model = sc.hardware[0].memory_model()
    assert isinstance(model, memory_noise.PauliRates)
    rows = run_scenario(sc, record=True)["records"]
    assert len(rows) > 10
    for r in rows:
        assert r["fidelity"] == pytest.approx(memory_noise.expected_fidelity(model, r["age"]), abs=1e-9)
    assert network_stage(sc).stage == Stage.QUANTUM_MEMORY
    fast = replace(sc, hardware=tuple(replace(h, memory_noise={"name": "pauli_rates", "rz": 1e6})
                                      for h in sc.hardware))
    assert fast.hardware[0].memory_model().coherence_time() == pytest.approx(5e-7)
    assert network_stage(fast).stage == Stage.ENTANGLEMENT_DISTRIBUTION


@pytest.mark.slow
def test_sans_io_tutorial_tests_pass():
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(TUTORIALS)],
                          capture_output=True, text=True, env=_env(), cwd=TUTORIALS, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def _qstack_run(toml: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qstack.cli", "run", str(toml), "--json", *extra],
                          capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=300)


@pytest.mark.slow
def test_stage_two_app_from_toml_gives_the_werner_qber():
    """RawKey measures pairs at once in Z; a Werner pair of fidelity F = 0.94 disagrees in Z
    with probability 2(1 − F)/3 = 0.04 (dephasing in memory does not touch Z correlations):
    the QBER of 400 pairs is within 4 binomial standard errors."""
    done = _qstack_run(TUTORIALS / "stage2.toml")
    assert done.returncode == 0, done.stderr
    bob = json.loads(done.stdout)["results"]["bob"]
    q, n = 2 * (1 - 0.94) / 3, bob["pairs"]
    assert n == 400 and abs(bob["qber"] - q) < 4 * math.sqrt(q * (1 - q) / n)


@pytest.mark.slow
def test_stage_three_app_from_toml_runs_and_is_refused_on_a_network_without_memory(tmp_path):
    """StoredParity keeps halves 2 ms before measuring in X: perfect heralded pairs in T2 = 10 ms
    memories agree well above chance; the same app on memories that dephase in 1 µs — below
    what storing entanglement over the link needs — is refused before running, exit 3, with a
    message naming the stage."""
    done = _qstack_run(TUTORIALS / "stage3.toml")
    assert done.returncode == 0, done.stderr
    bob = json.loads(done.stdout)["results"]["bob"]
    assert bob["pairs"] == 200 and 0.7 < bob["agree"] <= 1.0
    weak = tmp_path / "stage3_weak.toml"
    weak.write_text((TUTORIALS / "stage3.toml").read_text().replace('t2 = "10 ms"', 't2 = "1 us"'))
    refused = _qstack_run(weak)
    assert refused.returncode == 3 and "stage 3" in refused.stderr and "quantum memory" in refused.stderr
