"""The framework: results, target resolution, the report (table and JSON), the CLI and the
pytest plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qstack.conformance import (
    CHECKS,
    CheckResult,
    ConformanceError,
    Target,
    checks_for,
    detect_layer,
    resolve,
    run_conformance,
)
from qstack.conformance.cli import main

HERE = Path(__file__).resolve().parent


def test_check_results():
    assert CheckResult.within(1.0, 1.0 + 5e-10).passed
    assert not CheckResult.within(1.0, 1.0 + 2e-9).passed
    assert not CheckResult.within(float("nan"), 1.0).passed
    assert CheckResult.statistical(10.0, 12.0, se=0.6).passed  # 3.3 SE
    assert not CheckResult.statistical(10.0, 13.0, se=0.6).passed  # 5 SE
    assert CheckResult.at_most(0.5, 0.5).passed and not CheckResult.at_least(0.4, 0.5).passed
    assert CheckResult.skipped("n/a").passed


def test_every_check_states_its_contract():
    for layer in CHECKS:
        for c in checks_for(layer):
            assert c.name.split(".")[0] in (layer, "reference") and len(c.statement) > 30
            assert c.kind in ("deterministic", "statistical")


def test_resolve_names_paths_json_and_factories():
    assert resolve("asap")[0].layer == "swapping"
    assert resolve("fewest_hops")[0].layer == "routing"
    assert resolve("double_click")[0].layer == "link_scheme"
    assert resolve("broken_plugins:LeakyAsap")[0].layer == "swapping"  # duck-typed: select()
    assert resolve("broken_plugins:StaleCutoff")[0].layer == "cutoff"  # needs parameters: judged by its methods
    assert resolve("broken_plugins:OptimisticT1T2")[0].layer == "memory_noise"
    t = resolve('{"name": "fixed", "time": 0.004}')[0]
    assert (t.layer, t.spec) == ("cutoff", {"name": "fixed", "time": 0.004})
    assert resolve("references")[0].layer == "references"
    with pytest.raises(ConformanceError, match="no plug-in layer"):
        resolve("no_such_policy")
    assert detect_layer(object()) is None


def test_a_name_in_two_layers_needs_the_layer(monkeypatch):
    from qstack.network.policies import CUTOFF, ROUTING

    monkeypatch.setitem(ROUTING._factories, "twin", lambda: None)
    monkeypatch.setitem(CUTOFF._factories, "twin", lambda: None)
    with pytest.raises(ConformanceError, match="several layers"):
        resolve("twin")
    assert resolve("twin", layer="routing")[0].layer == "routing"


def test_python_objects_are_targets_too():
    from qstack.network.policies import FewestHops

    assert run_conformance(Target("routing", FewestHops)).passed
    assert run_conformance(Target("routing", FewestHops())).passed


def test_report_table_and_json():
    report = run_conformance([Target("routing", "fewest_hops"), Target("routing", "broken_plugins:ShortcutRouting")])
    table = report.table()
    assert "routing.valid_paths" in table and "FAIL" in table and "pass" in table
    assert "2/4 checks passed" in table.splitlines()[-1]
    data = json.loads(report.to_json())
    assert data["passed"] is False and data["summary"] == {"targets": 2, "checks": 4, "failed": 2}
    (good, bad) = data["stages"]["network"]["routing"]
    assert good["passed"] and not bad["passed"] and bad["failed"] == ["routing.valid_paths", "routing.delivers"]
    row = bad["checks"][0]
    assert row["status"] == "FAIL" and row["measured"] == 16 and row["expected"] == 0 and row["tolerance"] == 0
    assert data["confidence"] == {"statistical_n_se": 4.0, "deterministic_tolerance": 1e-9}


def test_cli_exit_codes_and_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["fewest_hops", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["passed"] is True
    assert "routing.valid_paths" in capsys.readouterr().out
    assert main(["broken_plugins:ShortcutRouting", "--layer", "routing", "--quiet"]) == 1
    assert "FAILED: 2" in capsys.readouterr().out
    assert main(["no_such_policy"]) == 2
    assert "no plug-in layer" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["--list", "--layer", "cutoff"]) == 0
    assert "cutoff.no_stale_delivery" in capsys.readouterr().out


def test_cli_json_to_stdout(capsys):
    assert main(["{\"name\": \"fixed\", \"time\": 0.005}", "--quiet", "--json", "-"]) == 0
    text = capsys.readouterr().out
    assert json.loads(text[text.index("{"):])["stages"]["network"]["cutoff"][0]["passed"]


def _pytest(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "qstack.conformance.pytest_plugin", "-p",
                           "no:cacheprovider", "-p", "no:xdist", "-q", "--rootdir", str(tmp_path), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_pytest_plugin_passes_and_fails(tmp_path):
    ok = _pytest(tmp_path, "--qstack-conformance=fewest_hops", f"--qstack-conformance-json={tmp_path / 'r.json'}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "2 passed" in ok.stdout and "qstack conformance" in ok.stdout
    assert json.loads((tmp_path / "r.json").read_text())["passed"]
    bad = _pytest(tmp_path, "--qstack-conformance=broken_plugins:ShortcutRouting", "--qstack-conformance-layer=routing")
    assert bad.returncode == 1
    assert "routing.valid_paths failed for broken_plugins:ShortcutRouting: measured 16, expected 0" in bad.stdout
    usage = _pytest(tmp_path, "--qstack-conformance=no_such_policy")
    assert usage.returncode == 4 and "no plug-in layer" in usage.stderr
