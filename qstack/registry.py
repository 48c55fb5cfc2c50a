"""Plug-in registries: every policy and model of the stack is chosen by name.

A :class:`Registry` maps names to factories (classes or functions). Built-ins register through
the same decorator as user code; a scenario selects one by name with parameters, and Python code
may pass a factory or a ready object instead:

* ``"asap"`` — a registered name, created with no parameters;
* ``{ name = "threshold", min_fidelity = 0.93 }`` — a name and keyword parameters;
* ``"mypkg.policies:OnlyFresh"`` — a ``module:attribute`` path, imported on demand;
* an object that already implements the policy (used as it is).

Installed packages add names through entry points: group ``qstack.policies`` with entry names
``"<registry>.<name>"`` (e.g. ``swapping.only_fresh = "mypkg.policies:OnlyFresh"``), and group
``qstack.apps`` for applications.

>>> colours = Registry("colour", "colour policy")
>>> @colours.register("plain")
... class Plain:
...     def __init__(self, shade: int = 0):
...         self.shade = shade
>>> colours.create({"name": "plain", "shade": 3}).shade
3
>>> colours.create("plian")
Traceback (most recent call last):
...
qstack.registry.PluginError: unknown colour policy 'plian' (did you mean "plain"?); known: plain
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "PluginError", "PluginSpec", "load_object", "plugin_spec", "REGISTRIES", "spec_name"]

T = TypeVar("T")

#: every registry by its name (``routing``, ``swapping``, ``purification``, ``cutoff``,
#: ``link_scheme``, ``memory_noise``, ``gate_noise``, ``app``)
REGISTRIES: dict[str, Registry[Any]] = {}


class PluginError(ValueError):
    """A plug-in that cannot be found, imported or built; the message names what and why."""


def load_object(path: str) -> Any:
    """Import ``"package.module:Attribute"`` (or ``"package.module.Attribute"``).

    >>> load_object("math:pi") > 3
    True
    """
    if not isinstance(path, str) or not path:
        raise PluginError(f"a plug-in path must be 'module:Name', got {path!r}")
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.rpartition(".")
    if not module or not attr:
        raise PluginError(f"a plug-in path must be 'module:Name', got {path!r}")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise PluginError(f"cannot import module {module!r} of plug-in {path!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"module {module!r} has no attribute {attr!r} (plug-in {path!r})") from None
    return obj


def spec_name(spec: Any) -> str:
    """The name a spec selects: the string, a mapping's ``name``, or an object's ``name``.

    >>> spec_name({"name": "nested"}), spec_name("asap")
    ('nested', 'asap')
    """
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        return str(spec.get("name", ""))
    return str(getattr(spec, "name", type(spec).__name__))


class Registry(Generic[T]):
    """Named factories of one kind of plug-in (see the module docstring)."""

    def __init__(self, kind: str, what: str, check: Callable[[Any], str | None] | None = None) -> None:
        self.kind = kind
        self.what = what
        self._check = check
        self._factories: dict[str, Callable[..., T]] = {}
        self._entry_points_loaded = False
        self._in_use: set[str] = set()  # names of plug-in objects built or accepted here
        REGISTRIES[kind] = self

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator: register ``factory`` (a class or function returning the plug-in) as ``name``."""
        if not isinstance(name, str) or not name:
            raise PluginError(f"a {self.what} name must be a non-empty str, got {name!r}")

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return deco

    def add(self, name: str, factory: Callable[..., T]) -> None:
        """Register ``factory`` as ``name`` (the non-decorator form)."""
        self.register(name)(factory)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        from importlib.metadata import entry_points

        group = "qstack.apps" if self.kind == "app" else "qstack.policies"
        for ep in entry_points(group=group):
            kind, _, name = ep.name.rpartition(".")
            if self.kind == "app" and not kind:
                kind, name = "app", ep.name
            if kind == self.kind and name not in self._factories:
                self._factories[name] = _lazy(ep)

    def names(self) -> list[str]:
        """Registered names, sorted (entry points included)."""
        self._load_entry_points()
        return sorted(self._factories)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def known(self, name: str) -> bool:
        """Whether ``name`` names a plug-in of this kind: registered (entry points included), or
        the ``name`` of a plug-in object this registry built or accepted (a policy passed from
        Python as an object, or loaded from ``"module:Name"``). What a decoder checks a policy
        name in a received message against.

        >>> r = Registry("shade", "shade policy")
        >>> class Dark:
        ...     name = "dark"
        >>> r.known("dark")
        False
        >>> _ = r.create(Dark()); r.known("dark")
        True
        """
        if name in self._in_use:
            return True
        self._load_entry_points()
        return name in self._factories

    def get(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name`` (or imported from ``"module:Name"``)."""
        self._load_entry_points()
        factory = self._factories.get(name)
        if factory is not None:
            return _resolve(factory)
        if ":" in name:
            return load_object(name)
        close = difflib.get_close_matches(name, self._factories, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        known = ", ".join(sorted(self._factories)) or "none"
        raise PluginError(f"unknown {self.what} {name!r}{hint}; known: {known}")

    def create(self, spec: Any, **context: Any) -> T:
        """Build the plug-in a spec selects (a name, a mapping with ``name`` and parameters, a
        factory, or a ready object). ``context`` keywords are passed to factories that accept
        them (e.g. ``scenario``)."""
        if isinstance(spec, str):
            name, params = spec, {}
        elif isinstance(spec, Mapping):
            params = dict(spec)
            name = params.pop("name", None)
            if not isinstance(name, str):
                raise PluginError(f"a {self.what} table needs a 'name' (one of {', '.join(self.names())})")
        elif isinstance(spec, type):
            return self._finish(_call(spec, {}, context, self.what, spec.__name__))
        else:
            return self._finish(spec)
        factory = self.get(name)
        return self._finish(_call(factory, params, context, self.what, name))

    def _finish(self, obj: Any) -> T:
        if self._check is not None:
            problem = self._check(obj)
            if problem:
                raise PluginError(f"{self.what} {spec_name(obj)!r}: {problem}")
        self._in_use.add(spec_name(obj))
        return obj

    def __repr__(self) -> str:
        return f"<Registry {self.kind}: {', '.join(self.names())}>"


class _lazy:
    __slots__ = ("ep",)

    def __init__(self, ep: Any) -> None:
        self.ep = ep


def _resolve(factory: Any) -> Any:
    if isinstance(factory, _lazy):
        try:
            return factory.ep.load()
        except Exception as exc:  # an installed package's broken entry point
            raise PluginError(f"entry point {factory.ep.name!r} ({factory.ep.value}) failed to load: {exc}") from exc
    return factory


_SIGNATURES: dict[Any, tuple[tuple[str, ...], bool] | None] = {}


def _parameters(factory: Callable[..., Any]) -> tuple[tuple[str, ...], bool] | None:
    """``(parameter names, takes **kwargs)`` of ``factory``, or None if it has no signature;
    cached, since ``inspect.signature`` costs more than building most plug-ins."""
    try:
        return _SIGNATURES[factory]
    except KeyError:
        pass
    except TypeError:  # an unhashable callable
        return _signature(factory)
    found = _SIGNATURES[factory] = _signature(factory)
    return found


def _signature(factory: Callable[..., Any]) -> tuple[tuple[str, ...], bool] | None:
    import inspect

    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return None
    return tuple(sig.parameters), any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def _call(factory: Callable[..., Any], params: dict[str, Any], context: dict[str, Any], what: str, name: str) -> Any:
    sig = _parameters(factory)
    kwargs = dict(params)
    if sig is not None:
        names, takes_any = sig
        for key, value in context.items():
            if key in names or takes_any:
                kwargs.setdefault(key, value)
        unknown = [k for k in params if k not in names and not takes_any]
        if unknown:
            allowed = [p for p in names if p not in context and p != "self"]
            takes = ", ".join(allowed) or "none"
            raise PluginError(f"{what} {name!r} has no parameter {unknown[0]!r}; it takes {takes}")
    try:
        return factory(**kwargs)
    except PluginError:
        raise
    except (TypeError, ValueError) as exc:
        raise PluginError(f"{what} {name!r}: {exc}") from exc


class PluginSpec(Mapping[str, Any]):
    """An immutable, hashable ``{name = ..., <parameters>}`` table (what a scenario holds).

    >>> s = PluginSpec("threshold", min_fidelity=0.93)
    >>> dict(s), s.name, s == PluginSpec("threshold", min_fidelity=0.93)
    ({'name': 'threshold', 'min_fidelity': 0.93}, 'threshold', True)
    """

    __slots__ = ("name", "params")

    def __init__(self, name: str, **params: Any) -> None:
        self.name = name
        self.params = tuple(sorted(params.items()))

    def __getitem__(self, key: str) -> Any:
        if key == "name":
            return self.name
        for k, v in self.params:
            if k == key:
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield "name"
        for k, _ in self.params:
            yield k

    def __len__(self) -> int:
        return 1 + len(self.params)

    def __hash__(self) -> int:
        return hash((self.name, tuple((k, repr(v)) for k, v in self.params)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self) == dict(other)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params)
        return f"PluginSpec({self.name!r}{', ' + inner if inner else ''})"


def plugin_spec(kind: str, value: Any) -> str | PluginSpec:
    """Check a scenario value that selects a ``kind`` plug-in (a name, or a table with ``name``)
    by building it once; return it as a hashable spec. Raises :class:`PluginError`."""
    _import_builtins()
    registry = REGISTRIES[kind]
    if isinstance(value, str):
        registry.create(value)
        return value
    if isinstance(value, Mapping):
        params = dict(value)
        name = params.pop("name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"a {registry.what} table needs a 'name' (one of {', '.join(registry.names())})")
        registry.create(value)
        return PluginSpec(name, **params)
    raise PluginError(f"must be a {registry.what} name or a table with a name, got {value!r}")


def _import_builtins() -> None:
    """Import the modules whose built-ins register themselves."""
    import qstack.network.policies  # noqa: F401
    import qstack.physical.memory  # noqa: F401
    import qstack.physical.station  # noqa: F401
    import qstack.quantum.noise  # noqa: F401
