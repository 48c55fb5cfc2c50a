"""Delft's three-node NV network (Pompili et al., Science 372, 259 (2021); Hermans et al.,
Nature 605, 663 (2022)): GHZ state, entanglement swap and teleportation between non-neighbours.

Loads ``scenario.toml`` (the hardware and links, each number cited there), builds the
sequential protocol at Bob (:class:`qstack.physical.nv.SequentialChain`: link with Alice, move
it into Bob's ¹³C memory, link with Charlie while the memory dephases with every attempt, give
up after a timeout) with the protocol constants below, and computes the figures README.md
compares with the papers — exactly (density matrices, summed over the attempts), and as a
seeded Monte Carlo of single runs. ``compute()`` returns them for tests/real.

Run: ``python examples/real/delft_nv_network/run.py``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qstack.physical.nv import NodeOperations, SequentialChain
from qstack.scenario import load_scenario

HERE = Path(__file__).resolve().parent

#: attempts on the second link before Bob gives up and starts again. Hermans 2022 Fig. 3b:
#: "the chosen timeout of 1,000 entanglement attempts" (checked against the figure caption);
#: ASSUMPTION: the same timeout for the Pompili 2021 GHZ and swap runs.
TIMEOUT = 1000

#: Bob's operations. Electron readout F0 = 0.95, F1 = 0.995 (netsquid-nv 2019, from Humphreys
#: 2018); electron-carbon gate depolarising 0.02 (netsquid-nv 2019 ec_gate_depolar_prob, set
#: there to reproduce the 0.96 of Kalb et al. 2017 Fig. 2a); store = carbon initialisation
#: (0.997, netsquid-nv 2019: depolarising 0.006) + two electron-carbon gates of the swap
#: (2 × 0.02; ASSUMPTION: each counted as a single-qubit depolarising of the stored half);
#: memory readout 0.97 (ASSUMPTION: read through the electron, one gate + one readout).
BOB = NodeOperations(readout_fidelity_0=0.95, readout_fidelity_1=0.995, memory_readout_fidelity=0.97,
                     gate_depolarizing=0.02, store_depolarizing=0.046)

#: Charlie's operations for the teleportation (Hermans 2022): the same hardware numbers.
#: Hermans 2022 improved the memory readout with a basis-alternating repetitive readout (its
#: Fig. 3c-e); ASSUMPTION: 0.97 as for Bob, since the measured value could not be checked.
CHARLIE = BOB

#: Published headline figures (see README.md for what was and was not checked).
PUBLISHED = {
    "ghz_fidelity": 0.538,          # Pompili 2021, three-node GHZ state: 0.538(18)
    "teleportation_fidelity": 0.702,  # Hermans 2022 abstract/summary: 0.702(11)
}

MC_RUNS = 1500
SEED = 2021


def chain() -> SequentialChain:
    """The scenario's Alice - Bob - Charlie chain with the protocol constants above."""
    scenario = load_scenario(HERE / "scenario.toml")
    return SequentialChain.from_scenario(scenario, "alice", "bob", "charlie", TIMEOUT, BOB, CHARLIE)


def compute(mc_runs: int = MC_RUNS, seed: int = SEED) -> dict[str, float]:
    """The headline figures qstack computes (exact), with Monte Carlo estimates beside them."""
    c = chain()
    ghz_mc = c.sample(mc_runs, np.random.default_rng(seed), "ghz")
    tele_mc = c.sample(max(mc_runs // 3, 2), np.random.default_rng(seed + 1), "teleport")
    return {
        "link_ab_fidelity": c.first.fidelity,
        "link_bc_fidelity": c.second.fidelity,
        "link_ab_rate_hz": c.first.rate,
        "link_bc_rate_hz": c.second.rate,
        "link_success_probability": c.first.success_probability,
        "memory_coherence_mean": c.mean_memory_coherence(),
        "second_link_within_timeout": c.second_within_timeout,
        "ghz_fidelity": c.ghz_fidelity(),
        "ghz_fidelity_mc": ghz_mc.mean_fidelity,
        "ghz_fidelity_mc_se": ghz_mc.fidelity_standard_error,
        "swap_fidelity": c.swap_fidelity(),
        "teleportation_fidelity": c.teleportation_fidelity(),
        "teleportation_fidelity_mc": tele_mc.mean_fidelity,
        "teleportation_fidelity_mc_se": tele_mc.fidelity_standard_error,
        "delivery_rate_hz": c.rate,
        "delivery_rate_mc_hz": ghz_mc.rate,
    }


if __name__ == "__main__":
    for key, value in compute().items():
        published = PUBLISHED.get(key)
        print(f"{key:30s} {value:12.4g}" + (f"   published {published:g}" if published is not None else ""))
