"""``docs/scenario-schema.md`` is generated from the code's schema and kept current."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT / "tools" / "gen_scenario_docs.py"
DOC = ROOT / "docs" / "scenario-schema.md"


def test_the_checked_in_schema_page_is_current():
    done = subprocess.run([sys.executable, str(GEN), "--check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr + "\nregenerate with: python tools/gen_scenario_docs.py"


def test_every_key_of_every_table_is_documented_with_what_it_allows():
    from qstack import scenario as sc

    page = DOC.read_text(encoding="utf-8")
    specs = [sc.SimulationSpec, sc.HardwareSpec, sc.NodeSpec, sc.LinkSpec, sc.PolicySpec, sc.PurificationSpec,
             sc.RequestSpec]
    for cls in specs:
        assert f"qstack.scenario.{cls.__name__}" in page
        for f in dataclasses.fields(cls):
            if cls is sc.HardwareSpec and f.name == "name":
                continue  # a profile is named by its table, [hardware.<name>]
            allowed = cls._RULES[f.name].allowed.replace("|", "\\|").replace("<", "&lt;")
            assert f"| `{f.name}` |" in page and allowed in page, (cls.__name__, f.name)


def test_the_readme_points_to_the_schema_page():
    assert "docs/scenario-schema.md" in (ROOT / "README.md").read_text(encoding="utf-8")
