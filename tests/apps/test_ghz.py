"""GHZ states fused from Bell pairs at a star's centre, and HBB99 secret sharing on them.

* Ideal links: the fusion (CNOTs from the centre's first half, Z measurements, X corrections at
  the leaves) leaves an exact GHZ state on the centre and n leaves, or on the leaves alone
  after an X measurement of the centre's qubit and a Z correction — fidelity 1 to 1e-9.
* Werner links of fidelity F: Pauli errors on the leaves' halves pass through the fusion, so
  F_GHZ = [((2F + 1)/3)ⁿ + wⁿ]/2 with the centre, plus (2(1 − F)/3)ⁿ/2 without it
  (X on every leaf stabilises the leaves' GHZ) — to 1e-9.
* Secret sharing: valid rounds (even number of Y's) are half of them; there the players' XOR
  (with the sign (−1)^{k/2}) is the dealer's bit — always with ideal links, wrong with
  probability (1 − wⁿ)/2 with Werner links — while one player's share alone is a coin flip.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.apps import run_app
from qstack.apps.ghz import (
    GHZ,
    SecretSharing,
    ghz_fidelity,
    ghz_fidelity_werner,
    secret_sharing_error_rate,
    star_scenario,
)
from qstack.scenario import load_scenario


def _run(app, leaves: int, raw_fidelity: float = 1.0, seed: int = 1):
    sc = load_scenario(star_scenario(leaves, seed=seed, raw_fidelity=raw_fidelity))
    assignment = {"centre": "hub", **{f"leaf{i}": f"l{i}" for i in range(1, leaves + 1)}}
    return run_app(app, sc, assignment), assignment


@pytest.mark.parametrize("leaves", [1, 2, 3, 4])
@pytest.mark.parametrize("include_centre", [True, False])
def test_fusion_of_perfect_bell_pairs_is_an_exact_ghz_state(leaves, include_centre):
    """Ideal links: the (n + 1)-qubit (or n-qubit) state after fusion is GHZ, fidelity 1."""
    r, roles = _run(GHZ(leaves, include_centre=include_centre), leaves)
    qubits = [r.results[role] for role in roles]
    assert (qubits[0] is None) == (not include_centre)
    assert ghz_fidelity(qubits) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("raw_fidelity", [0.9, 0.75])
@pytest.mark.parametrize("leaves", [2, 3])
@pytest.mark.parametrize("include_centre", [True, False])
def test_ghz_fidelity_over_werner_links_matches_the_pauli_error_formula(raw_fidelity, leaves, include_centre):
    """Werner links of F (0.9, 0.75): F_GHZ = [((2F+1)/3)ⁿ + wⁿ]/2 (+ (2(1−F)/3)ⁿ/2 without the
    centre's qubit), exactly (1e-9)."""
    r, roles = _run(GHZ(leaves, include_centre=include_centre), leaves, raw_fidelity)
    f = ghz_fidelity([r.results[role] for role in roles])
    assert f == pytest.approx(ghz_fidelity_werner(raw_fidelity, leaves, include_centre), abs=1e-9)


def test_ghz_werner_formula_reduces_to_the_pair_fidelity_for_one_leaf():
    """n = 1 with the centre's qubit is the Bell pair itself: F_GHZ = F; the four-leaf value at
    F = 0.9 is (0.9333⁴ + 0.8667⁴)/2."""
    assert ghz_fidelity_werner(0.83, 1) == pytest.approx(0.83, abs=1e-12)
    assert ghz_fidelity_werner(0.9, 4) == pytest.approx(((2.8 / 3) ** 4 + (2.6 / 3) ** 4) / 2, abs=1e-12)


def _shares(r, roles):
    dealer = r.results["centre"]
    players = [r.results[role] for role in list(roles)[1:]]
    return dealer, players


def test_secret_sharing_with_perfect_ghz_states_reconstructs_every_dealer_bit():
    """HBB99, dealer + 2 players, ideal links: half of the rounds are valid (within 4 SE), all
    parties agree which, and in every valid round the players' shares XOR to the dealer's bit;
    a single player's share matches the dealer's bit only half the time (within 4 SE)."""
    n = 300
    r, roles = _run(SecretSharing(n, 2), 2, seed=4)
    dealer, players = _shares(r, roles)
    assert all(p.valid == dealer.valid for p in players)
    v = len(dealer.valid)
    assert abs(v / n - 0.5) < 4 * math.sqrt(0.25 / n)
    combined = np.bitwise_xor.reduce([p.share for p in players], axis=0)
    assert combined.tolist() == dealer.share
    for p in players:
        alone = np.mean(np.array(p.share) == np.array(dealer.share))
        assert abs(alone - 0.5) < 4 * math.sqrt(0.25 / v)


def test_secret_sharing_with_three_players_needs_all_three():
    """Dealer + 3 players (4-qubit GHZ), ideal links: the XOR of all three shares is the secret
    in every valid round; any two players' XOR matches it only half the time."""
    r, roles = _run(SecretSharing(200, 3), 3, seed=6)
    dealer, players = _shares(r, roles)
    shares = np.array([p.share for p in players])
    assert np.bitwise_xor.reduce(shares, axis=0).tolist() == dealer.share
    v = len(dealer.valid)
    pair = np.mean((shares[0] ^ shares[1]) == np.array(dealer.share))
    assert abs(pair - 0.5) < 4 * math.sqrt(0.25 / v)


def test_secret_sharing_error_rate_over_werner_links_is_one_minus_w_to_the_n_over_two():
    """Werner links of F = 0.95 to two players: each leaf's error anticommutes with its X or Y
    with probability 2(1 − F)/3, so the shared bit is wrong with probability (1 − w²)/2 ≈ 0.064
    — within 4 SE over the valid rounds."""
    r, roles = _run(SecretSharing(600, 2), 2, raw_fidelity=0.95, seed=8)
    dealer, players = _shares(r, roles)
    combined = np.bitwise_xor.reduce([p.share for p in players], axis=0)
    errors = np.mean(combined != np.array(dealer.share))
    q = secret_sharing_error_rate(0.95, 2)
    assert q == pytest.approx((1 - ((4 * 0.95 - 1) / 3) ** 2) / 2, abs=1e-12)
    assert abs(errors - q) < 4 * math.sqrt(q * (1 - q) / len(dealer.valid))


def test_star_scenario_puts_every_node_at_stage_three():
    """The star's centre and leaves are all end nodes with ideal memories: stage 3."""
    from qstack.stages import Stage, network_stage

    assert network_stage(star_scenario(3)).stage >= Stage.QUANTUM_MEMORY
    with pytest.raises(ValueError, match="leaves"):
        star_scenario(0)
