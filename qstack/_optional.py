"""Optional dependencies: imported when a feature needs them, with an install hint when absent.

``pip install qstack-qnet`` installs what every simulation needs; the sweep runner (Dask) and the
plots (matplotlib) are extras, so a user who never sweeps or plots does not install them::

    pip install 'qstack-qnet[sweep]'    # dask + distributed
    pip install 'qstack-qnet[plot]'     # matplotlib

>>> require("math", "sweep").__name__
'math'
>>> require("no_such_module_xyz", "plot")
Traceback (most recent call last):
...
qstack._optional.MissingExtra: this needs the 'no_such_module_xyz' package: pip install 'qstack-qnet[plot]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtra", "require"]


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtra` naming the ``extra`` that installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there but one of its own imports failed: show the real error
        raise MissingExtra(f"this needs the {top!r} package: pip install 'qstack-qnet[{extra}]'") from None
