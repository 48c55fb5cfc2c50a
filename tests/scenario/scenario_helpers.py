"""Shared helpers for the scenario-loader tests: a small valid scenario to break on purpose."""

from __future__ import annotations

from typing import Any

import pytest

from qstack.scenario import ScenarioError, load_scenario


def chain_dict() -> dict[str, Any]:
    """A valid three-node chain a — r1 — b, written the way a user would write it."""
    return {
        "simulation": {"seed": 1, "duration": "0.2 s", "name": "test chain"},
        "hardware": {
            "default": {
                "memory_positions": 10,
                "t1": "inf",
                "t2": "1.3 s",
                "emission_efficiency": 0.75,
                "attempt_rate": "2 kHz",
                "detector_efficiency": 0.8,
                "dark_count_probability": 0.0,
            }
        },
        "nodes": [
            {"name": "a", "role": "end"},
            {"name": "r1", "role": "repeater"},
            {"name": "b", "role": "end"},
        ],
        "links": [
            {"a": "a", "b": "r1", "length": "10 km"},
            {"a": "r1", "b": "b", "length": "10 km"},
        ],
        "policies": {"routing": "shortest_path", "swapping": "asap", "cutoff": "1.3 s"},
        "requests": [{"source": "a", "destination": "b"}],
    }


def errors_of(data: Any) -> list[str]:
    """The error lines load_scenario reports for ``data`` (fails if it loads)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    err = info.value
    assert str(err) == "\n".join(err.errors)  # a dict has no file header: one line per error
    return list(info.value.errors)


def error_at(data: Any, path: str) -> str:
    """The one error line for field ``path`` (fails if there is none or several)."""
    errors = errors_of(data)
    hits = [e for e in errors if e.startswith(f"{path}:")]
    assert len(hits) == 1, f"expected one error at {path!r}, got:\n" + "\n".join(errors)
    return hits[0]
