"""Applications of every stage, and the runtime that runs an application's roles on a network.

See :mod:`qstack.apps.runtime` for the application API (``Application``, ``RoleContext``,
``run_app``) and :mod:`qstack.transport` for EPR sockets and teleportation.
"""

from .runtime import Application, AppResult, RoleContext, run_app

__all__ = ["AppResult", "Application", "RoleContext", "run_app"]
