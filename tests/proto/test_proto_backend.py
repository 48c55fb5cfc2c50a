"""qstack.proto never runs silently on protobuf's pure-Python backend."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import qstack.proto

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("QSTACK_ALLOW_SLOW_PROTOBUF",)}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", textwrap.dedent(code)],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )


def test_this_environment_uses_a_fast_backend():
    assert qstack.proto.BACKEND != "python"


def test_pure_python_backend_is_refused():
    result = run_python("import qstack.proto", PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION="python")
    assert result.returncode != 0
    assert "RuntimeError" in result.stderr
    assert "pure-Python backend" in result.stderr
    assert "QSTACK_ALLOW_SLOW_PROTOBUF=1" in result.stderr  # says how to proceed
    assert "upb" in result.stderr  # and how to fix


def test_pure_python_backend_warns_when_allowed_and_still_refuses_garbage():
    code = """
        import random
        import qstack.proto as p
        assert p.BACKEND == "python", p.BACKEND
        message = p.Track(flow_id=1, head_pair=p.LinkPairId(link="A-B", seq=1),
                          via_pair=p.LinkPairId(link="B-C", seq=2), frame=3, created=0.5)
        wire = p.encode(message)
        assert p.decode(wire) == message
        rng = random.Random(1)
        samples = [wire[:i] for i in range(len(wire))]
        samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(40))) for _ in range(2000)]
        for data in samples:
            try:
                p.decode(data)
            except p.MalformedMessage:
                pass
        print("ok", len(wire))
    """
    result = run_python(code, PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION="python", QSTACK_ALLOW_SLOW_PROTOBUF="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert "RuntimeWarning" in result.stderr and "pure-Python backend" in result.stderr


def test_allow_flag_must_be_exactly_one():
    result = run_python(
        "import qstack.proto", PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION="python", QSTACK_ALLOW_SLOW_PROTOBUF="yes"
    )
    assert result.returncode != 0 and "RuntimeError" in result.stderr
