"""Every dependency ``pyproject.toml`` declares is imported by the library (a declared
dependency that nothing imports is a defect: it costs every user an install for nothing), and
the optional ``records`` extra is imported where records are written."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: distribution name -> the top-level module it installs, where they differ
MODULE_OF = {"protobuf": "google.protobuf"}


def _imports() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "qstack").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "require"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                found.add(node.args[0].value)  # qstack._optional.require("dask", "sweep")
    return found


def _declared(key: str | None = None) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] if key is None else project["optional-dependencies"][key]
    return [re.match(r"[A-Za-z0-9_.-]+", s).group(0).lower() for s in specs]  # type: ignore[union-attr]


def _imported(dist: str, imports: set[str]) -> bool:
    module = MODULE_OF.get(dist, dist.replace("-", "_"))
    return any(m == module or m.startswith(module + ".") for m in imports)


def test_every_declared_dependency_is_imported_by_qstack():
    imports = _imports()
    unused = [d for d in _declared() + _declared("records") + _declared("sweep") + _declared("plot")
              if not _imported(d, imports)]
    assert unused == [], f"declared in pyproject.toml but imported nowhere in qstack/: {unused}"


def test_a_missing_extra_is_named_with_its_install_command(monkeypatch, capsys, tmp_path):
    """``qstack sweep`` without dask installed says which extra to install, in one line, exit 2."""
    import sys

    from qstack.cli import main

    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # what an absent package looks like to import
    scenario = ROOT / "qstack" / "data" / "default_chain.toml"
    code = main(["sweep", str(scenario), "--param", "links.length=10km,20km", "--runs", "1",
                 "--workers", "1", "-o", str(tmp_path / "t.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "pip install 'qstack-qnet[sweep]'" in err and "Traceback" not in err
