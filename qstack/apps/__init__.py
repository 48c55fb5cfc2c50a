"""Applications of every stage, and the runtime that runs an application's roles on a network.

See :mod:`qstack.apps.runtime` for the application API (``Application``, ``RoleContext``,
``run_app``) and :mod:`qstack.transport` for EPR sockets and teleportation. Applications
register under their ``name`` in :data:`APPLICATIONS` so scenario files can name them
(``[application] name = "teleportation"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qstack.registry import PluginError, Registry, _lazy, load_object

from .runtime import Application, AppResult, RoleContext, run_app

__all__ = ["APPLICATIONS", "APPS", "AppResult", "Application", "RoleContext", "application_class", "make_application",
           "run_app"]

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
    if name not in APPS and ":" not in name:  # "trusted-relay" and "trusted_relay" name the same one
        for alias in (name.replace("-", "_"), name.replace("_", "-")):
            if alias in APPS:
                name = alias
                break
    try:
        cls = APPS.get(name)
    except PluginError as exc:
        raise ValueError(str(exc).replace("known:", "registered:")) from None
    if not (isinstance(cls, type) and issubclass(cls, Application)):
        raise ValueError(f"application {name!r} is {cls!r}, not a subclass of qstack.apps.Application")
    return cls



def make_application(name: str, params: Mapping[str, Any] | None = None,
                     roles: Mapping[str, str] | None = None) -> Application:
    """Build the application ``name`` with ``params``, checked like a scenario's other fields:
    errors name the field (``application.name``, ``application.params.<key>``,
    ``application.roles.<role>``), the value and what is allowed, as a ValueError.

    ``-`` and ``_`` in a name are interchangeable (``"trusted-relay"`` is ``"trusted_relay"``).

    >>> make_application("teleportation", {"states": [(0.0, 0.0)]}, {"sender": "n0", "receiver": "n1"}).name
    'teleportation'
    >>> make_application("teleportation", {"state": [(0.0, 0.0)]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    ValueError: application.params.state: 'teleportation' has no parameter 'state' (did you mean 'states'?); its ...
    >>> make_application("telportation")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    ValueError: application.name: unknown application 'telportation' (did you mean 'teleportation'?); registered: ...
    """
    import difflib
    import inspect

    try:
        cls = application_class(name)
    except ValueError:
        known = sorted(APPLICATIONS)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"application.name: unknown application {name!r}{hint}; registered: {', '.join(known)}") \
            from None
    params = dict(params or {})
    sig = inspect.signature(cls.__init__)
    accepted = [p.name for p in list(sig.parameters.values())[1:]
                if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    label = getattr(cls, "name", name)
    if not takes_any:
        for key in params:
            if key not in accepted:
                close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                allowed = ", ".join(accepted) if accepted else "none"
                raise ValueError(f"application.params.{key}: {label!r} has no parameter {key!r}{hint}; "
                                 f"its parameters: {allowed}")
    try:
        app = cls(**params)
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        shown = ", ".join(f"{k} = {v!r}" for k, v in params.items()) or "none"
        raise ValueError(f"application.params: invalid parameters for {label!r} ({shown}): {exc}") from None
    if roles is not None:  # an application's roles may depend on its parameters (e.g. GHZ parties)
        declared = list(app.roles)
        for role in roles:
            if role not in declared:
                raise ValueError(f"application.roles.{role}: {label!r} has no role {role!r}; its roles: "
                                 f"{', '.join(declared)}")
        missing = [r for r in declared if r not in roles]
        if missing:
            raise ValueError(f"application.roles: {label!r} needs a node for every role; missing: {', '.join(missing)}")
    return app
