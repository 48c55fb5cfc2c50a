"""One build step that ``pyproject.toml`` cannot declare; all other metadata lives there.

The wheel carries copies of the repository's ``examples/`` and ``stages/`` scenario folders as
package data, ``qstack/data/examples`` and ``qstack/data/stages``, so that ``qstack examples
DEST`` can copy them out after a ``pip install`` (see :mod:`qstack.bundled`, which ships the
same kinds of file). An editable install reads them from the clone instead.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FOLDERS = ("examples", "stages")  # = qstack.bundled.FOLDERS
SUFFIXES = {".toml", ".md", ".py"}  # = qstack.bundled.SUFFIXES


class BuildPyWithScenarios(build_py):
    """``build_py``, then the scenario folders copied into ``<build>/qstack/data/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for name in FOLDERS:
            for source in sorted((ROOT / name).rglob("*")):
                if source.is_file() and source.suffix in SUFFIXES and "__pycache__" not in source.parts:
                    target = Path(self.build_lib, "qstack", "data", source.relative_to(ROOT))
                    self.mkpath(str(target.parent))
                    self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithScenarios})
