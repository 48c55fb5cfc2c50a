"""qutip, imported on first use: the state core computes on numpy and builds a ``qutip.Qobj`` only
at its surface (a state handed back to a user, a gate constant, a Kraus operator as ``Qobj``).

Importing qutip costs ~0.3 s (it pulls in scipy's sparse, linalg and integrate and setuptools), more
than a whole default ``qstack run`` simulates in, so no module of :mod:`qstack.quantum` imports it at
module level; ``tests/test_startup_imports.py`` checks that the default run never imports it.

``is_qobj(x)`` needs no import: an object can only be a ``Qobj`` once qutip has been imported.

>>> import numpy as np
>>> is_qobj(np.eye(2))
False
>>> is_qobj(qutip().qeye(2))
True
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

__all__ = ["is_qobj", "qutip"]


def qutip() -> ModuleType:
    """The ``qutip`` module (imported on the first call)."""
    import qutip as module

    return module


def is_qobj(x: Any) -> bool:
    """Whether ``x`` is a ``qutip.Qobj``, without importing qutip when nothing has."""
    qobj = getattr(sys.modules.get("qutip"), "Qobj", None)
    return qobj is not None and isinstance(x, qobj)
