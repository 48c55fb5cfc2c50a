"""The package stands on its own: its own distribution name, a LICENSE, project URLs, the
example scenarios inside the wheel, and the test extra's exact pin explained and consistent."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from qstack import bundled

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_distribution_name_is_not_the_unrelated_pypi_qstack_and_the_cli_keeps_its_name():
    from qstack.cli import DISTRIBUTION

    assert PROJECT["name"] == DISTRIBUTION == "qstack-qnet"
    assert PROJECT["scripts"] == {"qstack": "qstack.cli:main"}
    assert f"pip install {DISTRIBUTION}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_license_file_is_the_apache_2_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PROJECT["license"] == {"text": "Apache-2.0"}
    assert text.startswith("Copyright 2026 The qstack authors\n")
    for phrase in ("Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION",
                   "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"):
        assert phrase in text, phrase


def test_the_metadata_has_project_urls():
    assert {"Homepage", "Repository", "Issues"} <= set(PROJECT["urls"])


def test_the_test_extra_declares_what_the_tests_import():
    test_extra = [re.match(r"[A-Za-z0-9_.-]+", s).group(0).lower() for s in PROJECT["optional-dependencies"]["test"]]
    assert {"pytest", "pytest-xdist", "hypothesis", "cryptography", "pyarrow", "grpcio-tools"} <= set(test_extra)


def test_the_exact_grpcio_tools_pin_is_the_one_the_generated_code_is_made_with():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "tools" / "gen_protos.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert f"grpcio-tools=={gen.PINNED_GRPCIO_TOOLS}" in PROJECT["optional-dependencies"]["test"]


def test_setup_py_ships_what_qstack_bundled_looks_for():
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    values = {t.id: ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name) and t.id in ("FOLDERS", "SUFFIXES")}
    assert tuple(values["FOLDERS"]) == bundled.FOLDERS
    assert set(values["SUFFIXES"]) == set(bundled.SUFFIXES)


def test_the_wheel_carries_the_example_scenarios_and_the_license(tmp_path):
    """Build a wheel from a copy of the sources (so the work tree gets no build/ folder)."""
    setuptools = pytest.importorskip("setuptools")
    if tuple(int(x) for x in setuptools.__version__.split(".")[:2]) < (70, 1):
        pytest.importorskip("wheel")  # older setuptools builds wheels with the wheel package
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.py[cod]")
    for name in ("qstack", "examples", "stages"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path / "dist"
    code = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(out)], cwd=src, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheel = out / done.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert wheel.name.startswith("qstack_qnet-")
    assert "Name: qstack-qnet" in metadata and "Project-URL: Repository" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    shipped = {n.removeprefix("qstack/data/") for n in names if n.startswith("qstack/data/")}
    assert set(bundled.bundled_files()) <= shipped
    assert "qstack/__main__.py" in names and "qstack/bundled.py" in names
