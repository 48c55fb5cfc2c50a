"""The committed generated code matches protos/ (``python tools/gen_protos.py --check``)."""

from __future__ import annotations

import doctest
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "tools" / "gen_protos.py"

needs_grpc_tools = pytest.mark.skipif(
    importlib.util.find_spec("grpc_tools") is None,
    reason="grpcio-tools is not installed (pip install grpcio-tools==1.85.1, part of the test extra)",
)


@needs_grpc_tools
def test_generated_code_is_up_to_date():
    result = subprocess.run([sys.executable, str(GEN), "--check"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout


@needs_grpc_tools
def test_check_reports_stale_files(tmp_path):
    spec = importlib.util.spec_from_file_location("gen_protos", GEN)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.write(tmp_path)
    assert gen.stale_files(tmp_path) == []
    (tmp_path / "qstack" / "v1" / "link_pb2.py").write_text("# edited by hand\n")
    (tmp_path / "qstack" / "v1" / "old_pb2.py").write_text("")
    (tmp_path / "qstack" / "v1" / "network_pb2.pyi").unlink()
    assert gen.stale_files(tmp_path) == [
        "qstack/v1/link_pb2.py (differs)",
        "qstack/v1/network_pb2.pyi (missing)",
        "qstack/v1/old_pb2.py (extra)",
    ]


@needs_grpc_tools
def test_gen_protos_doctests():
    spec = importlib.util.spec_from_file_location("gen_protos", GEN)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    result = doctest.testmod(gen)
    assert result.attempted > 0 and result.failed == 0
