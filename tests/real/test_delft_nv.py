"""examples/real/delft_nv_network: Delft's three-node NV network (Pompili et al., Science 372,
259 (2021); Hermans et al., Nature 605, 663 (2022)) from its scenario.

The sequential protocol at Bob (link with Alice, store in the 13C memory, link with Charlie
while the memory dephases per attempt, timeout 1000 attempts) gives the headline figures
within the tolerances the README states: the teleported-state fidelity within 0.035 of
0.702(11) (about 3 of its standard errors) and above the classical 2/3; the GHZ fidelity
within 0.10 of 0.538(18) (qstack is higher: see the README's explained difference). The
seeded Monte Carlo of single runs agrees with the exact figures within 4 standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest

EXAMPLE = "delft_nv_network"


def test_teleported_state_fidelity_matches_hermans_2022_within_0_035(run, figures):
    """Hermans 2022: 0.702(11); the README's tolerance 0.035 is ~3 standard errors."""
    assert abs(figures["teleportation_fidelity"] - run.PUBLISHED["teleportation_fidelity"]) <= 0.035
    assert figures["teleportation_fidelity"] > 2 / 3  # beats the classical (measure-and-prepare) bound


def test_ghz_fidelity_matches_pompili_2021_within_0_10(run, figures):
    """Pompili 2021: 0.538(18); qstack lies above it by less than the README's 0.10, and
    above the genuine-multipartite-entanglement witness 1/2 as the experiment did."""
    assert abs(figures["ghz_fidelity"] - run.PUBLISHED["ghz_fidelity"]) <= 0.10
    assert figures["ghz_fidelity"] > 0.5


@pytest.mark.parametrize("key", ["ghz_fidelity", "teleportation_fidelity"])
def test_monte_carlo_runs_agree_with_the_exact_figures(figures, key):
    assert abs(figures[f"{key}_mc"] - figures[key]) <= 4 * figures[f"{key}_mc_se"]


def test_bob_memory_keeps_the_per_attempt_coherence_of_n1e_1800(figures):
    """Mean memory coherence over the second link's attempts, E[e^{-N/1800} | N <= 1000],
    for the link's success probability p: the closed form of the truncated geometric law."""
    from qstack.physical.nv import truncated_geometric_mean_power

    p = figures["link_success_probability"]
    lam = np.exp(-1 / 1800) * np.exp(-5.5e-6 / 1.0)  # per attempt: N_1/e = 1800, nuclear T2 = 1 s
    assert figures["memory_coherence_mean"] == pytest.approx(truncated_geometric_mean_power(p, lam, 1000), rel=1e-6)


def test_same_scenario_and_seed_give_identical_runs(run):
    c = run.chain()
    a = c.sample(20, np.random.default_rng(5), "ghz")
    b = c.sample(20, np.random.default_rng(5), "ghz")
    assert a.fidelities.tobytes() == b.fidelities.tobytes() and a.times.tobytes() == b.times.tobytes()
