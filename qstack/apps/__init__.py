"""Applications of every stage, and the runtime that runs an application's roles on a network.

See :mod:`qstack.apps.runtime` for the application API (``Application``, ``RoleContext``,
``run_app``) and :mod:`qstack.transport` for EPR sockets and teleportation. Applications
register under their ``name`` in :data:`APPLICATIONS` so scenario files can name them
(``[application] name = "teleportation"``).
"""

from __future__ import annotations

from typing import Any

from qstack.registry import PluginError, Registry, _lazy, load_object

from .runtime import Application, AppResult, RoleContext, run_app

__all__ = ["APPLICATIONS", "APPS", "AppResult", "Application", "RoleContext", "application_class", "run_app"]

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


class _Path:
    """A ``"module:Class"`` registered lazily (imported on first use, like an entry point)."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def load(self) -> Any:
        return load_object(self.value)


#: The application registry: the built-ins above, ``qstack.apps`` entry points of installed
#: packages, and any ``"package.module:Class"`` path.
APPS: Registry[Any] = Registry("app", "application")
for _name, _target in APPLICATIONS.items():
    APPS.add(_name, _lazy(_Path(_name, _target)))  # type: ignore[arg-type]


def application_class(name: str) -> Any:
    """The application class ``name`` selects: a registered name, an entry point of group
    ``qstack.apps``, or ``"package.module:Class"`` (ValueError listing the known names).

    >>> application_class("teleportation").stage.title
    'quantum memory'
    >>> application_class("qstack.apps.teleportation:Teleportation").name
    'teleportation'
    """
    if name in APPLICATIONS and name not in APPS:  # added to the dict after import
        APPS.add(name, _lazy(_Path(name, APPLICATIONS[name])))  # type: ignore[arg-type]
    try:
        cls = APPS.get(name)
    except PluginError as exc:
        raise ValueError(str(exc).replace("known:", "registered:")) from None
    if not (isinstance(cls, type) and issubclass(cls, Application)):
        raise ValueError(f"application {name!r} is {cls!r}, not a subclass of qstack.apps.Application")
    return cls

