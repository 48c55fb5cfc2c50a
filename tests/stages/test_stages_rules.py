"""network_stage: the rules that turn a scenario's hardware and topology into a stage.

Every rule is applied per pair of end nodes, and the network reaches the lowest pair's stage
("a stage is reached only when its functionality is available between every pair of end
nodes"). Memories are judged against k classical round trips (the paper's k·C·t criterion).
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qstack_stages_helpers import LINK_RTT, network, timed_chain, with_profiles

from qstack.scenario import linear_chain, load_scenario
from qstack.stages import DEFAULT_K, Stage, StageCriteria, StageReport, network_stage

# ---------------------------------------------------------------------------------------------
# The SeQUeNCe-like chain and its variants


def test_sequence_like_chain_reaches_quantum_memory():
    """Stage 3: with T2 = 1.3 s, memories far outlive k·t_comm ≈ 10 × 192 µs on 10 km links; the
    starlight profile's 10 positions are below the 17-qubit logical qubit, so not stage 4."""
    report = network_stage(linear_chain(3, "10 km"))
    assert isinstance(report, StageReport)
    assert report.stage is Stage.QUANTUM_MEMORY
    assert report.per_pair == {("n0", "n2"): Stage.QUANTUM_MEMORY}
    assert report.round_trips[("n0", "n2")] == pytest.approx(4 * 10e3 * 1.44 / 299_792_458.0)
    assert report.k == DEFAULT_K == 10
    assert any("17" in line and "n0" in line for line in report.missing)


def test_short_lived_end_memories_reach_entanglement_distribution_only():
    """Stage 3 needs end-node memories of at least k·t_comm; end nodes with T2 = 1 µs get stage 2
    and `missing` names both end nodes, their T2 and the round trip between them."""
    scenario = with_profiles(linear_chain(3, "10 km"), end={"t2": "1 us"})
    report = network_stage(scenario)
    assert report.stage is Stage.ENTANGLEMENT_DISTRIBUTION
    text = "\n".join(report.missing)
    assert "end node n0" in text and "end node n2" in text
    assert "1 µs (t2)" in text
    assert "192 µs" in text  # one classical round trip n0–n2
    assert "1.92 ms" in text  # k × t_comm
    assert all(line.startswith("storage of entanglement between") for line in report.missing)


def test_repeater_without_useful_memory_cannot_swap_so_distant_ends_get_stage_0():
    """Stage 2 over several hops needs intermediate nodes that keep a qubit k link round trips;
    with repeater T2 = 1 µs no swap works, the ends share no direct link, so not even stage 1
    (prepare-and-measure across several hops needs swapping): stage 0."""
    scenario = with_profiles(linear_chain(3, "10 km"), repeater={"t2": "1 us"})
    report = network_stage(scenario)
    assert report.stage is Stage.TRUSTED_REPEATER
    (reason,) = report.missing
    assert reason.startswith("end-to-end prepare-and-measure between n0 and n2")
    assert "no direct link" in reason and "repeater n1 keeps a qubit 1 µs (t2)" in reason
    assert "10 × 96.1 µs = 961 µs" in reason


def test_direct_heralded_link_gives_entanglement_distribution_without_memory():
    """Stage 2 needs no end-node memory (the paper: "The end nodes require no quantum memory for
    this stage"): a direct heralded link delivers pairs that are measured at once. Stage 1 holds
    too (stages are cumulative); stage 3 does not, for lack of memory."""
    report = network_stage(linear_chain(2, "10 km", t2="1 us"))
    assert report.stage is Stage.ENTANGLEMENT_DISTRIBUTION
    assert report.missing[0].startswith("storage of entanglement between n0 and n1")


def test_direct_link_that_cannot_entangle_still_allows_prepare_and_measure():
    """Stage 1 on a direct link only needs photons to get through; with raw fidelity 0.5 the link
    heralds no entanglement (fidelity not above 1/2), so stage 1 but not stage 2."""
    report = network_stage(linear_chain(2, "10 km", raw_fidelity=0.5))
    assert report.stage is Stage.PREPARE_AND_MEASURE
    (reason,) = report.missing
    assert reason.startswith("end-to-end entanglement between n0 and n1")
    assert "fidelity 0.5 at best" in reason


def test_link_without_photons_gives_stage_0_and_a_note():
    """Stage 0 is the floor, but a trusted relay needs QKD on the links: without photons (emission
    efficiency 0) the report notes that even key relay is impossible."""
    report = network_stage(linear_chain(2, "10 km", emission_efficiency=0.0))
    assert report.stage is Stage.TRUSTED_REPEATER
    assert any("carry photons" in note for note in report.notes)
    assert "carries no photons" in report.missing[0]


def test_single_click_link_with_free_alpha_entangles():
    """A single-click link without a fixed alpha entangles: the link layer picks a small enough
    bright-state population for fidelity above 1/2."""
    report = network_stage(linear_chain(3, "10 km", link={"scheme": "single_click"}, dark_count_probability=1e-4))
    assert report.stage is Stage.QUANTUM_MEMORY


def test_single_click_link_with_too_bright_alpha_does_not_entangle():
    """With alpha fixed at 0.9 the single-click pair is mostly |11⟩: fidelity below 1/2, so the
    chain's repeater has nothing to swap and the distant ends fall to stage 0."""
    report = network_stage(linear_chain(3, "10 km", link={"scheme": "single_click", "alpha": 0.9}))
    assert report.stage is Stage.TRUSTED_REPEATER
    assert "heralds pairs of fidelity" in report.missing[0]


# ---------------------------------------------------------------------------------------------
# Every pair of end nodes


def test_three_end_nodes_reach_the_lowest_pair_stage():
    """The network stage is the lowest over every pair of end nodes: a–b and b–c are direct links
    (stage 2: b's 1 µs memory rules out stage 3), but a–c must swap at b, which it cannot, and
    a and c share no link: stage 0 for that pair and so for the network."""
    scenario = network(
        {"a": "end", "b": "end", "c": "end"},
        [("a", "b"), ("b", "c")],
        hardware={"short": {"t2": "1 us"}},
        node_hardware={"b": "short"},
    )
    report = network_stage(scenario)
    assert report.per_pair == {
        ("a", "b"): Stage.ENTANGLEMENT_DISTRIBUTION,
        ("a", "c"): Stage.TRUSTED_REPEATER,
        ("b", "c"): Stage.ENTANGLEMENT_DISTRIBUTION,
    }
    assert report.stage is Stage.TRUSTED_REPEATER
    (reason,) = report.missing
    assert "between a and c" in reason and "end node b keeps a qubit 1 µs" in reason


def test_adding_the_missing_link_lifts_the_pair():
    """Closing the triangle with a direct a–c link gives that pair entanglement without swapping:
    every pair is then at stage 2."""
    scenario = network(
        {"a": "end", "b": "end", "c": "end"},
        [("a", "b"), ("b", "c"), ("a", "c")],
        hardware={"short": {"t2": "1 us"}},
        node_hardware={"b": "short"},
    )
    report = network_stage(scenario)
    assert report.per_pair[("a", "b")] is report.per_pair[("b", "c")] is Stage.ENTANGLEMENT_DISTRIBUTION
    assert report.per_pair[("a", "c")] >= Stage.ENTANGLEMENT_DISTRIBUTION  # a and c have good memories
    assert report.stage is Stage.ENTANGLEMENT_DISTRIBUTION


def test_one_poor_end_node_lowers_only_its_pairs():
    """In a star of three end nodes around a repeater, only the pairs with the end node whose
    memory is too short lose stage 3; the network reaches stage 2 and `missing` names that node."""
    scenario = network(
        {"r": "repeater", "a": "end", "b": "end", "c": "end"},
        [("r", "a"), ("r", "b"), ("r", "c")],
        hardware={"short": {"t2": "10 us"}},
        node_hardware={"c": "short"},
    )
    report = network_stage(scenario)
    assert report.per_pair[("a", "b")] is Stage.QUANTUM_MEMORY
    assert report.per_pair[("a", "c")] is Stage.ENTANGLEMENT_DISTRIBUTION
    assert report.per_pair[("b", "c")] is Stage.ENTANGLEMENT_DISTRIBUTION
    assert report.stage is Stage.ENTANGLEMENT_DISTRIBUTION
    assert {line.split(" — ")[1].split(" keeps")[0] for line in report.missing} == {"end node c"}
    assert report.for_node("a") is Stage.QUANTUM_MEMORY  # a's own memory is fine with every peer
    assert report.between("c", "a") is Stage.ENTANGLEMENT_DISTRIBUTION


def test_end_nodes_without_any_connection_get_stage_0_and_a_note():
    """Two disconnected links: pairs across them have no path at all (stage 0, noted)."""
    scenario = network(
        {"a": "end", "b": "end", "c": "end", "d": "end"},
        [("a", "b"), ("c", "d")],
    )
    report = network_stage(scenario)
    assert report.per_pair[("a", "b")] is Stage.QUANTUM_MEMORY
    assert report.per_pair[("a", "c")] is Stage.TRUSTED_REPEATER
    assert math.isinf(report.round_trips[("a", "c")])
    assert any(note.startswith("a and c are not joined") for note in report.notes)
    assert any("no chain of links joins them" in line for line in report.missing)


# ---------------------------------------------------------------------------------------------
# The k·C·t boundary


@pytest.mark.parametrize(
    ("t2", "expected"),
    [
        (1.001e-3, Stage.QUANTUM_MEMORY),  # just above k·t_comm = 10 × 100 µs
        (1.0e-3, Stage.QUANTUM_MEMORY),  # exactly k·t_comm counts as useful
        (0.999e-3, Stage.ENTANGLEMENT_DISTRIBUTION),  # just below
    ],
)
def test_end_memory_boundary_is_k_round_trips(t2, expected):
    """Stage 3 needs end-node coherence ≥ k·t_comm: on a 10 km link with a 100 µs round trip and
    k = 10 the boundary is 1 ms."""
    report = network_stage(timed_chain(2, t2=t2))
    assert report.round_trips[("n0", "n1")] == pytest.approx(LINK_RTT)
    assert report.stage is expected


@pytest.mark.parametrize(("k", "expected"), [(4.9, Stage.QUANTUM_MEMORY), (5.1, Stage.ENTANGLEMENT_DISTRIBUTION)])
def test_k_is_a_parameter(k, expected):
    """The factor k is exposed: with T2 = 0.5 ms and a 100 µs round trip, k = 4.9 passes and
    k = 5.1 fails (the same through `k=` and through StageCriteria)."""
    scenario = timed_chain(2, t2="0.5 ms")
    assert network_stage(scenario, k=k).stage is expected
    assert network_stage(scenario, criteria=StageCriteria(k=k)).stage is expected


def test_depolarizing_time_counts_as_coherence_time():
    """A depolarising memory is judged by its depolarizing_time, and the message says so."""
    below = network_stage(timed_chain(2, t2="inf", depolarizing_time="0.9 ms"))
    above = network_stage(timed_chain(2, t2="inf", depolarizing_time="1.1 ms"))
    assert below.stage is Stage.ENTANGLEMENT_DISTRIBUTION
    assert "(depolarizing_time)" in below.missing[0]
    assert above.stage is Stage.QUANTUM_MEMORY


@pytest.mark.parametrize(("t2", "expected"), [(1.01e-3, Stage.QUANTUM_MEMORY), (0.99e-3, Stage.TRUSTED_REPEATER)])
def test_repeater_memory_boundary_is_k_link_round_trips(t2, expected):
    """A repeater can swap when it keeps a qubit ≥ k × the slowest link round trip on the path
    (10 × 100 µs here); just below, the distant end nodes fall to stage 0."""
    scenario = with_profiles(timed_chain(3), repeater={"t2": t2})
    assert network_stage(scenario).stage is expected


def test_slowest_link_on_the_path_sets_the_repeater_requirement():
    """With links of 10 km and 20 km (round trips 100 µs and 200 µs) the repeater needs
    k × 200 µs = 2 ms: 1.5 ms is enough for the short link alone but not for the path."""
    base = timed_chain(3)
    base["links"][1]["length"] = "20 km"
    short = network_stage(with_profiles(base, repeater={"t2": "1.5 ms"}))
    long = network_stage(with_profiles(base, repeater={"t2": "2.5 ms"}))
    assert short.stage is Stage.TRUSTED_REPEATER
    assert "10 × 200 µs = 2 ms" in short.missing[0]
    assert long.stage is Stage.QUANTUM_MEMORY


@settings(max_examples=40, deadline=None)
@given(t2=st.floats(min_value=1e-6, max_value=1.0), k=st.floats(min_value=0.5, max_value=100.0))
def test_memory_rule_matches_the_formula(t2, k):
    """Property: on a direct link the network reaches stage 3 exactly when t2 ≥ k·t_comm
    (up to rounding), otherwise stage 2."""
    report = network_stage(timed_chain(2, t2=t2), k=k)
    need = k * LINK_RTT
    if abs(t2 - need) > 1e-9 * need:
        assert (report.stage is Stage.QUANTUM_MEMORY) == (t2 > need)
    assert report.stage >= Stage.ENTANGLEMENT_DISTRIBUTION


# ---------------------------------------------------------------------------------------------
# Fault tolerance and quantum computing (modelled thresholds)


def test_few_qubit_fault_tolerant_needs_a_logical_qubit_and_low_error():
    """Stage 4 (a model): ≥ 17 qubits at each end node (one distance-3 surface-code logical qubit)
    and gate/readout errors ≤ 1e-3."""
    good = network_stage(linear_chain(3, memory_positions=20, two_qubit_depolarizing=1e-4))
    noisy = network_stage(linear_chain(3, memory_positions=20, readout_error=2e-3))
    assert good.stage is Stage.FEW_QUBIT_FAULT_TOLERANT
    assert noisy.stage is Stage.QUANTUM_MEMORY
    assert "readout_error 0.002 > 0.001" in noisy.missing[0]


def test_quantum_computing_needs_fifty_logical_qubits_and_lower_error():
    """Stage 5 (a model): ≥ 50 × 17 = 850 qubits per end node and errors ≤ 1e-4."""
    assert network_stage(linear_chain(3, memory_positions=1000, two_qubit_depolarizing=1e-5)).stage is (
        Stage.QUANTUM_COMPUTING
    )
    almost = network_stage(linear_chain(3, memory_positions=1000, two_qubit_depolarizing=5e-4))
    assert almost.stage is Stage.FEW_QUBIT_FAULT_TOLERANT
    assert "two_qubit_depolarizing 0.0005 > 0.0001" in almost.missing[0]
    assert network_stage(linear_chain(3, memory_positions=1000)).missing == ()


def test_qubits_count_the_positions_of_every_link_at_the_node():
    """An end node's qubits are the memory positions its links reserve there, summed: 9 per link
    end on two links gives 18 ≥ 17."""
    scenario = network({"a": "end", "b": "end", "c": "end"}, [("a", "b"), ("b", "c"), ("a", "c")],
                       hardware={"default": {"memory_positions": 9}})
    report = network_stage(scenario)
    assert report.qubits == {"a": 18, "b": 18, "c": 18}
    assert report.stage is Stage.FEW_QUBIT_FAULT_TOLERANT


# ---------------------------------------------------------------------------------------------
# Inputs and explanation


def test_accepts_dicts_and_scenarios_and_explains():
    """network_stage takes a Scenario or a dict; explain() says the stage, why, each pair and
    what the next stage misses."""
    scenario = with_profiles(linear_chain(3, "10 km", name="chain"), end={"t2": "1 us"})
    assert network_stage(scenario) == network_stage(load_scenario(scenario))
    text = network_stage(scenario).explain()
    assert text.startswith("network 'chain' reaches stage 2 (entanglement distribution) — the paper's stage 3")
    assert "n0 and n2: stage 2 (entanglement distribution), classical round trip 192 µs" in text
    assert "next: stage 3 (quantum memory) adds storage of entanglement, teleportation; missing:" in text
    assert "  - storage of entanglement between n0 and n2" in text
