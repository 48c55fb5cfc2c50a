"""``qstack run --json`` has one documented, versioned output contract (schema ``qstack.run/1``,
``docs/schema/run-output.schema.json``): both shapes — a scenario's requests (``kind =
"network"``) and an application (``kind = "application"``) — validate against it for every
example and stage file, and undefined numbers are ``null`` (strict JSON: no NaN or Infinity)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qstack.cli import main

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "run-output.schema.json").read_text(encoding="utf-8"))
FILES = sorted(ROOT.glob("examples/*.toml")) + sorted(ROOT.glob("stages/stage*/*.toml"))
SLOW = {"beijing_shanghai.toml", "micius_relay.toml"}


def _strict(text: str):
    def refuse(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", [pytest.param(f, marks=pytest.mark.slow) if f.name in SLOW else f for f in FILES],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_output_follows_the_schema(path, capsys):
    status = main(["run", str(path), "--json"])
    assert status in (0, 1)  # 1: a requested flow failed, still a complete report
    out = _strict(capsys.readouterr().out)
    jsonschema.validate(out, SCHEMA)
    assert out["schema"] == "qstack.run/1"
    assert out["kind"] == ("application" if "application" in out else "network")


def test_the_default_run_follows_the_schema(capsys):
    assert main(["run", "--json"]) == 0
    jsonschema.validate(_strict(capsys.readouterr().out), SCHEMA)


def test_undefined_numbers_are_null_not_nan():
    """A NaN (e.g. a QBER with no sifted bits) or an infinity is written as null."""
    from qstack.cli import _dump_run

    text = _dump_run("application", {"application": "x", "roles": {}, "results": {"a": float("nan")},
                                     "summary": {"rate": float("inf"), "v": [1.0, float("-inf")]}, "messages": {},
                                     "seed": 1, "simulated_time": 0.0, "wall_seconds": 0.0})
    out = _strict(text)
    assert out["results"]["a"] is None and out["summary"] == {"rate": None, "v": [1.0, None]}
    jsonschema.validate(out, SCHEMA)
