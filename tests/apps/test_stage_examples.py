"""Every scenario in ``stages/`` runs: a newcomer can walk from stage 0 to 5 with ``qstack run``.

For each file: it loads, the network reaches the stage its application declares (so the run is
not refused), and ``qstack run FILE --json`` finishes with every role's result. The physics of
each application is tested in its own test module; here the examples themselves must work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qstack.apps import application_class
from qstack.cli import main
from qstack.scenario import load_scenario
from qstack.stages import network_stage

STAGES = Path(__file__).resolve().parents[2] / "stages"
FILES = sorted(STAGES.glob("stage*/*.toml"))
#: the files whose run takes more than ~3 s (marked slow: python -m pytest -m "not slow" skips them)
SLOW = {"stage0/beijing_shanghai.toml", "stage0/micius_relay.toml", "stage1/bb84_link.toml"}


def test_every_stage_folder_has_a_runnable_example():
    """Stages 0–5 each have at least one scenario file."""
    folders = {f.parent.name for f in FILES}
    assert folders >= {f"stage{i}" for i in range(6)}, sorted(folders)


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if f"{p.parent.name}/{p.name}" in SLOW
                                  else p for p in FILES], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stage_example_runs_on_a_network_of_its_stage(path, capsys):
    """The network of the file reaches the application's declared stage, and the run ends with
    a result for every role."""
    scenario = load_scenario(path)
    assert scenario.application is not None
    app_cls = application_class(scenario.application.name)
    app = app_cls(**scenario.application.params)
    report = network_stage(scenario)
    assert report.stage >= min(app.stage_of(r) for r in app.roles)
    assert main(["run", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["results"]) == set(scenario.application.roles)
