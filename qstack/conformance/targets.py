"""Finding the implementation under test: target strings, duck-typed layers, the built-ins.

A target is named by a registered plug-in name (``"asap"``; ``--layer`` says which registry when
the name is in several), a ``"pkg.module:Factory"`` path, or a JSON table
(``'{"name": "fixed", "time": 0.005}'``). A factory may also be a :class:`Target`, a list of
them, or a zero-argument function returning one or a list (to test several configurations).

>>> [t.label for t in resolve("asap")]
['asap']
>>> resolve("qstack.network.policies:FixedCutoff", layer="cutoff")[0].layer
'cutoff'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from qstack.conformance.framework import _REGISTRY_OF, LAYERS, ConformanceError, Target, _import_registries

__all__ = ["resolve", "detect_layer", "builtin_targets", "tutorial_targets"]


def detect_layer(obj: Any) -> str | None:
    """The plug-in layer an object implements, by its methods (None: none recognised)."""
    declared = getattr(obj, "conformance_layer", None)
    if isinstance(declared, str) and declared in LAYERS:
        return declared

    def has(*names: str) -> bool:
        return all(callable(getattr(obj, n, None)) for n in names)

    from qstack.apps.runtime import Application
    from qstack.link.protocol import LinkLayer
    from qstack.transport.sockets import TransportLayer

    cls = obj if isinstance(obj, type) else type(obj)  # layers built per node or per run: judged by the class
    for base, layer in ((Application, "application"), (LinkLayer, "link_protocol"), (TransportLayer, "transport")):
        if issubclass(cls, base):
            return layer
    if has("apply", "ptm_diagonal"):
        return "memory_noise"
    if has("model"):
        return "link_scheme"
    if has("age_limit"):
        return "cutoff"
    if has("ready", "select"):
        return "purification"
    if has("select"):
        return "swapping"
    if has("route"):
        return "routing"
    return None


def _as_targets(obj: Any, label: str) -> list[Target] | None:
    if isinstance(obj, Target):
        return [obj]
    if isinstance(obj, list | tuple) and obj and all(isinstance(t, Target) for t in obj):
        return list(obj)
    return None


def resolve(name: str, layer: str | None = None) -> list[Target]:
    """The targets ``name`` selects (see the module docstring)."""
    from qstack.registry import REGISTRIES, PluginError, load_object

    _import_registries()
    if layer is not None and layer not in LAYERS:
        raise ConformanceError(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
    if layer == "references" or name in ("references", "qstack.references"):
        return [Target("references", "qstack", "analytic references")]
    text = name.strip()
    if text.startswith("{"):
        try:
            spec: Any = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConformanceError(f"target {name!r} is not valid JSON: {exc}") from None
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise ConformanceError("a JSON target needs a 'name'")
        inner = resolve(spec["name"], layer)
        return [Target(t.layer, dict(spec), "") for t in inner[:1]]
    if ":" in text:
        try:
            obj = load_object(text)
        except PluginError as exc:
            raise ConformanceError(str(exc)) from None
        found = _as_targets(obj, text)
        if found is None and callable(obj) and not isinstance(obj, type) and layer is None:
            try:
                made = obj()
            except TypeError:
                made = None
            found = _as_targets(made, text)
            if found is None and made is not None:
                kind = detect_layer(made)
                if kind is not None:
                    return [Target(kind, text, text)]
        if found is not None:
            return [t for t in found if layer is None or t.layer == layer]
        kind = layer
        if kind is None:
            probe = obj
            if isinstance(obj, type):
                try:
                    probe = obj()
                except TypeError:
                    probe = obj  # needs parameters: judge the class by its methods
            kind = detect_layer(probe)
        if kind is None:
            raise ConformanceError(f"cannot tell which layer {text!r} implements; give --layer "
                                   f"({', '.join(_REGISTRY_OF)})")
        return [Target(kind, text, text)]
    from qstack.apps import APPLICATIONS

    if layer == "application" or (layer is None and text in APPLICATIONS):
        return [Target("application", text, text)]
    if layer in ("link_protocol", "transport"):
        raise ConformanceError(f"a {layer} target is a 'pkg.module:Factory' path, got {text!r}")
    layers = [layer] if layer is not None else [k for k in _REGISTRY_OF if text in REGISTRIES[_REGISTRY_OF[k]]]
    if not layers:
        raise ConformanceError(f"no plug-in layer has a {text!r}; give a registered name, 'pkg.module:Factory' or "
                               "a JSON table")
    if len(layers) > 1:
        raise ConformanceError(f"{text!r} is registered in several layers ({', '.join(layers)}); give --layer")
    if text not in REGISTRIES[_REGISTRY_OF[layers[0]]]:
        raise ConformanceError(f"layer {layers[0]!r} has no {text!r}; known: "
                               f"{', '.join(REGISTRIES[_REGISTRY_OF[layers[0]]].names())}")
    return [Target(layers[0], text, text)]


def builtin_targets() -> list[Target]:
    """qstack's own implementations, with the parameters the suite runs them at (what CI runs)."""
    return [
        Target("references", "qstack", "analytic references"),
        Target("swapping", "asap"),
        Target("swapping", "nested"),
        Target("swapping", {"name": "threshold", "min_fidelity": 0.85}),
        Target("cutoff", "none"),
        Target("cutoff", {"name": "fixed", "time": 0.005}),
        Target("cutoff", {"name": "fidelity", "min_fidelity": 0.85}),
        Target("cutoff", {"name": "slots", "slots": 4}),
        Target("purification", {"name": "dejmps", "target_fidelity": 0.9999, "max_rounds": 2}),
        Target("purification", {"name": "bbpssw", "target_fidelity": 0.9999, "max_rounds": 2}),
        Target("purification", {"name": "dejmps_pumping", "target_fidelity": 0.9999, "max_rounds": 3}),
        Target("purification", {"name": "bbpssw_pumping", "target_fidelity": 0.9999, "max_rounds": 3}),
        Target("purification", {"name": "dejmps", "target_fidelity": 0.9999, "max_rounds": 2,
                                "scope": "end_to_end"}),
        Target("routing", "shortest_path"),
        Target("routing", "fewest_hops"),
        Target("memory_noise", {"name": "t1t2", "t1": 2.0, "t2": 1.0}),
        Target("memory_noise", {"name": "t1t2", "t2": 0.5}),
        Target("memory_noise", {"name": "depolarizing", "time": 0.5}),
        Target("link_scheme", "single_click"),
        Target("link_scheme", "double_click"),
        Target("link_protocol", "qstack.link.protocol:LinkLayer"),
        Target("transport", "qstack.transport.sockets:TransportLayer"),
        Target("application", {"name": "bb84", "pulses": 1_000_000}),
        Target("application", {"name": "bbm92", "pulses": 4_000_000, "mean_pair_number": 0.02}),
        Target("application", {"name": "di-qkd", "rounds": 2000, "epsilon_bell": 1e-3, "epsilon_qber": 1e-3}),
        Target("application", "blind-computation"),
    ]


def tutorial_targets() -> list[Target]:
    """The tutorial plug-ins of ``examples/tutorials`` (their modules must be importable)."""
    return [
        Target("swapping", {"name": "swap_policy:FreshFirst", "max_age": 1e-3}),
        Target("memory_noise", {"name": "memory_noise:PauliRates", "rx": 2.0, "rz": 20.0}),
        Target("link_scheme", {"name": "link_scheme:FixedAlpha", "alpha": 0.1}),
    ]
