"""Named random streams (qstack.sim.RandomStreams): independence, stability and sanity."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qstack.sim import RandomStreams, Simulation

REPO_ROOT = Path(__file__).resolve().parents[2]

# RandomStreams(2024).get("node-A", "memory").integers(2**62), recorded when the derivation
# was written. If this changes, every stored scenario result changes with it.
GOLDEN_NODE_A_MEMORY = 1043120732521066802


def draws(streams: RandomStreams, *names: str, n: int = 8) -> list[float]:
    return streams.get(*names).random(n).tolist()


def test_streams_do_not_depend_on_creation_order() -> None:
    """Creating A then B, or B then A, gives both streams the same draws."""
    first = RandomStreams(123)
    a1 = draws(first, "node-A", "memory")
    b1 = draws(first, "node-B", "memory")
    second = RandomStreams(123)
    b2 = draws(second, "node-B", "memory")
    a2 = draws(second, "node-A", "memory")
    assert a1 == a2
    assert b1 == b2


def test_adding_a_component_does_not_change_other_streams() -> None:
    """Draws from a stream are the same whether or not other streams were created and used."""
    alone = draws(RandomStreams(5), "node-A", "detector", n=100)
    busy = RandomStreams(5)
    busy.get("node-A", "source").random(1000)
    busy.get("node-Z", "detector").random(10)
    busy.get("node-A").random(3)
    assert draws(busy, "node-A", "detector", n=100) == alone


def test_streams_are_cached_per_name_path() -> None:
    """get() returns the same generator object for the same names, so its state advances."""
    streams = RandomStreams(0)
    rng = streams.get("x", "y")
    assert streams.get("x", "y") is rng
    first = rng.random()
    assert streams.get("x", "y").random() != first


def test_different_names_and_seeds_give_different_draws() -> None:
    """Different seeds, names or name paths give different streams."""
    base = draws(RandomStreams(1), "node-A", "memory")
    assert draws(RandomStreams(2), "node-A", "memory") != base
    assert draws(RandomStreams(1), "node-A", "memori") != base
    assert draws(RandomStreams(1), "node-Amemory") != base
    assert draws(RandomStreams(1), "node-A") != base
    assert draws(RandomStreams(1), "memory", "node-A") != base


def test_golden_draw_is_stable() -> None:
    """The derivation (BLAKE2b name keys into SeedSequence, PCG64) is pinned by a golden value."""
    value = int(RandomStreams(2024).get("node-A", "memory").integers(2**62))
    assert value == GOLDEN_NODE_A_MEMORY


def test_streams_are_identical_in_a_fresh_python_process_with_other_hash_seed() -> None:
    """Draws do not depend on Python's per-process hash salt (PYTHONHASHSEED)."""
    code = "from qstack.sim import RandomStreams;print(RandomStreams(77).get('node-A', 'memory').random(4).tolist())"
    outputs = set()
    for hash_seed in ("1", "987"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)},
        )
        outputs.add(result.stdout.strip())
    assert outputs == {str(draws(RandomStreams(77), "node-A", "memory", n=4))}


def test_uniform_mean_is_within_four_standard_errors() -> None:
    """The mean of 100k uniform draws is within 4 standard errors of 0.5 for several streams."""
    n = 100_000
    standard_error = math.sqrt(1 / 12 / n)
    streams = RandomStreams(99)
    for component in ("memory", "source", "detector"):
        mean = float(streams.get("node-A", component).random(n).mean())
        assert abs(mean - 0.5) < 4 * standard_error


def test_sibling_streams_are_uncorrelated() -> None:
    """Two streams of the same node show no correlation beyond 4/sqrt(n)."""
    n = 100_000
    streams = RandomStreams(3)
    x = streams.get("node-A", "memory").standard_normal(n)
    y = streams.get("node-A", "source").standard_normal(n)
    assert abs(float(np.corrcoef(x, y)[0, 1])) < 4 / math.sqrt(n)


def test_simulation_rng_delegates_to_its_streams() -> None:
    """sim.rng(*names) is the Simulation's RandomStreams.get and is seeded by the simulation seed."""
    sim = Simulation(seed=11)
    assert sim.rng("a", "b") is sim.streams.get("a", "b")
    assert sim.seed == 11
    assert Simulation(seed=11).rng("a", "b").random() == RandomStreams(11).get("a", "b").random()


@pytest.mark.parametrize("bad", [-1, 1.5, "7", None, True])
def test_seed_must_be_a_non_negative_int(bad: object) -> None:
    """Negative, float, str, None and bool seeds are refused with a clear message."""
    with pytest.raises((TypeError, ValueError), match="seed must be a non-negative int"):
        RandomStreams(bad)  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError), match="seed must be a non-negative int"):
        Simulation(seed=bad)  # type: ignore[arg-type]


def test_numpy_integer_seed_and_large_seed_are_accepted() -> None:
    """numpy integers and seeds above 2**64 are valid seeds."""
    assert RandomStreams(np.int64(4)).seed == 4
    RandomStreams(2**80).get("a").random()


def test_names_must_be_strings_and_at_least_one() -> None:
    """Stream names are non-empty tuples of str."""
    streams = RandomStreams(0)
    with pytest.raises(ValueError, match="at least one name"):
        streams.get()
    with pytest.raises(TypeError, match="must be str"):
        streams.get("node", 3)  # type: ignore[arg-type]
