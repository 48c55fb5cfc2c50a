"""The scenario files in examples/: each loads, round-trips and describes the network it claims."""

from __future__ import annotations

import heapq
from collections import deque
from pathlib import Path

import pytest

from qstack.scenario import Scenario, linear_chain, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = ["chain_3_nodes.toml", "chain_9_nodes.toml", "mesh_two_flows.toml", "two_node_link.toml"]
ALL = sorted(p.name for p in EXAMPLES.glob("*.toml"))


def test_the_expected_examples_exist() -> None:
    assert set(EXPECTED) <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_every_example_loads_and_round_trips(name: str) -> None:
    path = EXAMPLES / name
    s = load_scenario(path)
    assert load_scenario(s.to_dict()) == s
    header = path.read_text(encoding="utf-8").splitlines()[:5]
    assert all(line.startswith("#") for line in header), "each example starts with a comment explaining it"


@pytest.mark.parametrize("name", EXPECTED)
def test_examples_use_the_starlight_like_parameters(name: str) -> None:
    """The SeQUeNCe-comparable examples share the starlight hardware (platform-specific examples
    such as the Delft network document their own parameters)."""
    s = load_scenario(EXAMPLES / name)
    for link in s.links:
        assert (link.length, link.attenuation, link.station_position, link.scheme) == (
            10_000.0,
            0.2,
            0.5,
            "double_click",
        )
        assert s.station_detector(link) == (0.8, 0.0)
    for hw in s.hardware:
        assert (hw.attempt_rate, hw.emission_efficiency, hw.t2, hw.memory_positions) == (2000.0, 0.75, 1.3, 10)
    assert s.policies.cutoff == 1.3
    assert s.simulation.duration == 0.2 or all(r.pairs for r in s.requests)


@pytest.mark.parametrize(("name", "n", "swapping"), [("chain_3_nodes", 3, "asap"), ("chain_9_nodes", 9, "nested")])
def test_chain_examples_equal_linear_chain(name: str, n: int, swapping: str) -> None:
    from_file = load_scenario(EXAMPLES / f"{name}.toml")
    built = linear_chain(
        n,
        cutoff="1.3 s",
        swapping=swapping,
        name=from_file.simulation.name,
        link={"classical_delay_per_km": "5 us"},
    )
    assert from_file == load_scenario(built)


def test_two_node_link_asks_for_pairs_without_a_time_limit() -> None:
    s = load_scenario(EXAMPLES / "two_node_link.toml")
    assert s.simulation.duration is None and s.requests[0].pairs == 100
    assert [n.role for n in s.nodes] == ["end", "end"]


def _shortest_paths(s: Scenario, source: str, target: str, *, by_length: bool) -> list[list[str]]:
    """All shortest paths, by hop count or by fibre length (Dijkstra keeping every predecessor)."""
    graph = s.link_graph()
    dist = {source: 0.0}
    parents: dict[str, list[str]] = {source: []}
    heap = [(0.0, source)]
    while heap:
        d, node = heapq.heappop(heap)
        if d > dist[node]:
            continue
        for neighbour, link in graph[node].items():
            nd = d + (link.length if by_length else 1.0)
            if neighbour not in dist or nd < dist[neighbour] - 1e-9:
                dist[neighbour], parents[neighbour] = nd, [node]
                heapq.heappush(heap, (nd, neighbour))
            elif abs(nd - dist[neighbour]) <= 1e-9:
                parents[neighbour].append(node)
    paths, queue = [], deque([[target]])
    while queue:
        path = queue.popleft()
        if path[0] == source:
            paths.append(path)
        for parent in parents[path[0]]:
            queue.append([parent, *path])
    return paths


@pytest.mark.parametrize("by_length", [False, True])
def test_mesh_flows_share_a_repeater_on_their_unique_shortest_paths(by_length: bool) -> None:
    s = load_scenario(EXAMPLES / "mesh_two_flows.toml")
    assert 5 <= len(s.nodes) <= 8 and len(s.requests) == 2
    routes = [_shortest_paths(s, r.source, r.destination, by_length=by_length) for r in s.requests]
    assert all(len(paths) == 1 for paths in routes)
    first, second = routes[0][0], routes[1][0]
    shared = set(first[1:-1]) & set(second[1:-1])
    assert shared and all(s.node(name).role == "repeater" for name in shared)
    trunk = s.link("r1", "r2")
    assert s.link_memory_positions(trunk) == (20, 20)
