"""The Stage enum: order, paper numbering, capabilities, examples, parsing."""

from __future__ import annotations

import pytest

from qstack.stages import Stage


def test_stages_are_ordered_0_to_5_like_the_paper_1_to_6():
    """qstack indexes the six stages 0–5; the paper counts them 1–6 (paper_number = value + 1)."""
    assert [int(s) for s in Stage] == [0, 1, 2, 3, 4, 5]
    assert [s.paper_number for s in Stage] == [1, 2, 3, 4, 5, 6]
    assert Stage.TRUSTED_REPEATER < Stage.PREPARE_AND_MEASURE < Stage.ENTANGLEMENT_DISTRIBUTION
    assert Stage.ENTANGLEMENT_DISTRIBUTION < Stage.QUANTUM_MEMORY < Stage.FEW_QUBIT_FAULT_TOLERANT
    assert Stage.FEW_QUBIT_FAULT_TOLERANT < Stage.QUANTUM_COMPUTING
    assert max(Stage) is Stage.QUANTUM_COMPUTING


def test_each_stage_has_a_title_capabilities_it_adds_and_examples():
    """Every stage names what it adds (distinct capabilities) and Table 1's example applications."""
    seen: set[str] = set()
    for stage in Stage:
        assert stage.title and stage.examples and stage.capabilities
        assert stage.capability == stage.capabilities[0]
        assert not seen & set(stage.capabilities), "a capability is added by one stage only"
        seen |= set(stage.capabilities)
    assert Stage.TRUSTED_REPEATER.capabilities == ("key from a trusted provider",)
    assert Stage.PREPARE_AND_MEASURE.capabilities == ("end-to-end prepare-and-measure",)
    assert Stage.ENTANGLEMENT_DISTRIBUTION.capabilities == ("end-to-end entanglement",)
    assert Stage.QUANTUM_MEMORY.capabilities == ("storage of entanglement", "teleportation")
    assert Stage.FEW_QUBIT_FAULT_TOLERANT.capabilities == ("few-qubit fault-tolerant operations",)
    assert Stage.QUANTUM_COMPUTING.capabilities == ("universal quantum computation",)
    assert "blind quantum computing" in Stage.QUANTUM_MEMORY.examples
    assert "quantum key distribution" in Stage.PREPARE_AND_MEASURE.examples
    assert Stage.QUANTUM_MEMORY.describe() == "stage 3 (quantum memory)"


@pytest.mark.parametrize(
    "text",
    [3, "3", " 3 ", "QUANTUM_MEMORY", "quantum memory", "Quantum-Memory", "quantum_memory", Stage.QUANTUM_MEMORY],
)
def test_parse_accepts_index_name_and_title(text):
    """Stage.parse reads qstack's index, the member name or the title, ignoring case and separators."""
    assert Stage.parse(text) is Stage.QUANTUM_MEMORY


def test_parse_reads_every_title_and_name():
    """Every stage round-trips through its title, its name and its index."""
    for stage in Stage:
        assert Stage.parse(stage.title) is stage
        assert Stage.parse(stage.name) is stage
        assert Stage.parse(int(stage)) is stage
    assert Stage.parse("few qubit fault tolerant") is Stage.FEW_QUBIT_FAULT_TOLERANT
    assert Stage.parse("prepare-and-measure") is Stage.PREPARE_AND_MEASURE


@pytest.mark.parametrize("bad", [6, -1, "6", "quantum", "stage 3", True, None, 2.0, ""])
def test_parse_refuses_anything_else_with_a_clear_error(bad):
    """Out-of-range indices (the paper's 6 included), unknown names, bools and floats are refused,
    and the message lists the accepted forms."""
    with pytest.raises(ValueError, match=r"not a stage: .*stages are 0-5 .*paper counts 1-6.*quantum memory"):
        Stage.parse(bad)
