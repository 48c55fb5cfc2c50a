"""Fixtures of the real-system tests: a test module names its folder of ``examples/real`` in
``EXAMPLE``; ``run`` is that folder's ``run.py`` loaded as a module, ``figures`` its
``compute()`` (once per module)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "real"


def load_example(name: str) -> ModuleType:
    """``examples/real/<name>/run.py`` as a fresh module."""
    spec = importlib.util.spec_from_file_location(f"{name}_run", EXAMPLES / name / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest) -> ModuleType:
    return load_example(request.module.EXAMPLE)


@pytest.fixture(scope="module")
def figures(run: ModuleType) -> dict:
    return run.compute()
