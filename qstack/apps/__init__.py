"""Applications of every stage, and the runtime that runs an application's roles on a network.

See :mod:`qstack.apps.runtime` for the application API (``Application``, ``RoleContext``,
``run_app``) and :mod:`qstack.transport` for EPR sockets and teleportation. Applications
register under their ``name`` in :data:`APPLICATIONS` so scenario files can name them
(``[application] name = "teleportation"``).
"""

from __future__ import annotations

import importlib
from typing import Any

from .runtime import Application, AppResult, RoleContext, run_app

__all__ = ["APPLICATIONS", "AppResult", "Application", "RoleContext", "application_class", "run_app"]

#: Registered applications: name -> "module:Class" (imported on first use).
APPLICATIONS: dict[str, str] = {
    "teleportation": "qstack.apps.teleportation:Teleportation",
    "chsh-game": "qstack.apps.chsh:CHSHGame",
    "di-qkd": "qstack.apps.chsh:DIQKD",
    "ghz": "qstack.apps.ghz:GHZ",
    "secret-sharing": "qstack.apps.ghz:SecretSharing",
    "blind-computation": "qstack.apps.blind:BlindComputation",
    "nonlocal-cnot": "qstack.apps.distributed:NonlocalCNOT",
    "distributed-deutsch-jozsa": "qstack.apps.distributed:DistributedDeutschJozsa",
    "distillation": "qstack.apps.distillation:Distillation",
    "bb84": "qstack.apps.bb84:BB84",
    "bbm92": "qstack.apps.bb84:BBM92",
    "trusted_relay": "qstack.apps.trusted_relay:TrustedRelay",
    "micius_relay": "qstack.apps.trusted_relay:MiciusRelay",
    "secure_message": "qstack.apps.secure_message:SecureMessage",
}


def application_class(name: str) -> Any:
    """The application class registered as ``name`` (ValueError listing the known names).

    >>> application_class("teleportation").stage.title
    'quantum memory'
    """
    target = APPLICATIONS.get(name)
    if target is None:
        raise ValueError(f"unknown application {name!r}; registered: {', '.join(sorted(APPLICATIONS))}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)
