"""The conformance framework: checks, targets, the runner and its report.

A :class:`Check` states one contract of a plug-in layer (``statement``) and tests it on a
:class:`Target` (the implementation under test: a registry spec of that layer), returning a
:class:`CheckResult` with the measured and the expected number. Deterministic checks compare to
a tolerance (:data:`TOLERANCE`, 1e-9); statistical ones run with a fixed seed and pass within
:data:`N_SE` (4) standard errors. Checks register per layer in :data:`CHECKS`;
:func:`run_conformance` runs those of a target's layer and returns a :class:`Report`, printed as
a plain-text table (:meth:`Report.table`) or written as JSON (:meth:`Report.to_json`).

>>> t = Target("swapping", "asap")
>>> t.label, t.layer
('asap', 'swapping')
>>> r = CheckResult.within(0.5, 0.5 + 1e-12)
>>> r.passed, r.tolerance
(True, 1e-09)
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TOLERANCE", "N_SE", "LAYERS", "STAGES", "Check", "CheckResult", "Target", "Context", "CHECKS", "check",
    "checks_for", "run_conformance", "Report", "TargetReport", "CheckOutcome", "ConformanceError",
]

#: tolerance of deterministic checks
TOLERANCE = 1e-9
#: confidence of statistical checks, in standard errors
N_SE = 4.0

#: the layers a target can belong to, with the stack level (stage of the report) of each
LAYERS: dict[str, str] = {
    "swapping": "network",
    "cutoff": "network",
    "purification": "network",
    "routing": "network",
    "link_scheme": "link",
    "link_protocol": "link",
    "memory_noise": "physical",
    "transport": "transport",
    "application": "application",
    "references": "theory",
}
#: report order of the stages
STAGES: tuple[str, ...] = ("theory", "physical", "link", "network", "transport", "application")

#: layers whose implementation is a class or factory the check builds itself (no registry)
_FACTORY_LAYERS = frozenset({"link_protocol", "transport", "application"})

#: the registry (``qstack.registry.REGISTRIES``) behind each plug-in layer
_REGISTRY_OF = {"swapping": "swapping", "cutoff": "cutoff", "purification": "purification", "routing": "routing",
                "link_scheme": "link_scheme", "memory_noise": "memory_noise"}


class ConformanceError(ValueError):
    """A target that cannot be resolved or built (the message says why)."""


@dataclass(frozen=True)
class CheckResult:
    """What a check found: ``passed``, the ``measured`` and ``expected`` numbers, the
    ``tolerance`` (deterministic checks) or ``n_se`` (statistical checks: ``measured`` within
    ``n_se`` standard errors ``se`` of ``expected``), and a human ``detail``."""

    passed: bool
    measured: float | None = None
    expected: float | None = None
    tolerance: float | None = None
    n_se: float | None = None
    se: float | None = None
    detail: str = ""

    @classmethod
    def within(cls, measured: float, expected: float, tolerance: float = TOLERANCE, detail: str = "") -> CheckResult:
        """Deterministic: ``|measured − expected| <= tolerance``."""
        ok = bool(abs(measured - expected) <= tolerance) if math.isfinite(measured) or measured == expected else False
        return cls(ok, float(measured), float(expected), tolerance=tolerance, detail=detail)

    @classmethod
    def at_most(cls, measured: float, expected: float, tolerance: float = TOLERANCE, detail: str = "") -> CheckResult:
        """Deterministic bound: ``measured <= expected + tolerance``."""
        return cls(bool(measured <= expected + tolerance), float(measured), float(expected), tolerance=tolerance,
                   detail=detail)

    @classmethod
    def at_least(cls, measured: float, expected: float, tolerance: float = TOLERANCE, detail: str = "") -> CheckResult:
        """Deterministic bound: ``measured >= expected − tolerance``."""
        return cls(bool(measured >= expected - tolerance), float(measured), float(expected), tolerance=tolerance,
                   detail=detail)

    @classmethod
    def statistical(cls, measured: float, expected: float, se: float, n_se: float = N_SE,
                    detail: str = "") -> CheckResult:
        """Statistical: ``|measured − expected| <= n_se · se``."""
        ok = bool(abs(measured - expected) <= n_se * se) if se > 0 else bool(abs(measured - expected) <= TOLERANCE)
        return cls(ok, float(measured), float(expected), n_se=n_se, se=float(se), detail=detail)

    @classmethod
    def skipped(cls, detail: str) -> CheckResult:
        """Not applicable to this target (counts as passed, marked ``skip`` in the report)."""
        return cls(True, None, None, detail="skipped: " + detail)


@dataclass(frozen=True)
class Target:
    """An implementation under test: a plug-in ``spec`` of ``layer`` — a registered name, a
    ``"pkg.module:Class"`` path, a table ``{"name": …, <parameters>}``, a factory or a ready
    object (what the layer's registry accepts). ``label`` names it in the report."""

    layer: str
    spec: Any
    label: str = ""

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ConformanceError(f"unknown layer {self.layer!r}; layers: {', '.join(LAYERS)}")
        if not self.label:
            object.__setattr__(self, "label", _label(self.spec))

    @property
    def stage(self) -> str:
        return LAYERS[self.layer]

    def create(self) -> Any:
        """A fresh instance of the implementation: through its layer's registry for the plug-in
        layers; an :class:`~qstack.apps.Application` built with the spec's parameters for
        ``application``; the parameter-bound factory (:meth:`factory`) for ``link_protocol``
        and ``transport``, whose instances are built per node by the network."""
        if self.layer in _FACTORY_LAYERS:
            made = self.factory()
            return made() if self.layer == "application" else made
        from qstack.registry import REGISTRIES

        _import_registries()
        return REGISTRIES[_REGISTRY_OF[self.layer]].create(self.spec)

    def factory(self) -> Callable[..., Any]:
        """For the layers built per node or per run (``link_protocol``: ``factory(runtime)``;
        ``transport``: ``factory(runtime, network_layer, session, node_of)``; ``application``:
        ``factory()``): the class or factory the spec names — a ``"pkg.module:Name"`` path (or
        for applications a registered name), a table ``{"name": …, <parameters>}`` or the
        object itself — with the table's parameters bound."""
        if self.layer not in _FACTORY_LAYERS:
            raise ConformanceError(f"layer {self.layer!r} builds its plug-ins through its registry; use create()")
        spec, params = self.spec, {}
        if isinstance(spec, Mapping):
            params = {k: v for k, v in spec.items() if k != "name"}
            spec = spec.get("name")
        if isinstance(spec, str):
            if self.layer == "application" and ":" not in spec:
                from qstack.apps import application_class

                obj: Any = application_class(spec)
            else:
                from qstack.registry import PluginError, load_object

                try:
                    obj = load_object(spec)
                except PluginError as exc:
                    raise ConformanceError(str(exc)) from None
        else:
            obj = spec
        if not callable(obj):
            raise ConformanceError(f"{self.label}: a {self.layer} target must be a class or factory, got {obj!r}")
        return functools.partial(obj, **params) if params else obj

    def scenario_spec(self) -> Any:
        """The spec as a scenario table may carry it (a name, path or table); a Python factory
        or object is registered under a private name first."""
        spec = self.spec
        if isinstance(spec, str | Mapping):
            return spec
        from qstack.registry import REGISTRIES

        _import_registries()
        name = f"_conformance_{id(spec):x}"
        reg = REGISTRIES[_REGISTRY_OF[self.layer]]
        if name not in reg:
            reg.add(name, spec if isinstance(spec, type) else (lambda obj=spec: obj))
        return name


def _label(spec: Any) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, Mapping):
        params = ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "name")
        return f"{spec.get('name', '?')}({params})"
    if isinstance(spec, type):
        return f"{spec.__module__}:{spec.__qualname__}"
    return f"{type(spec).__module__}:{type(spec).__qualname__}"


def _import_registries() -> None:
    import qstack.network.policies  # noqa: F401  (registers the policy registries)
    import qstack.physical.memory  # noqa: F401
    import qstack.physical.station  # noqa: F401


class Context:
    """Per-target memo shared by the checks of one run (a scenario run several checks read)."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]


@dataclass(frozen=True)
class Check:
    """One executable contract: ``name``, its ``layer`` and ``stage``, the ``statement`` it
    asserts, its ``kind`` (``"deterministic"`` or ``"statistical"``) and ``fn(target, ctx)``."""

    name: str
    layer: str
    statement: str
    fn: Callable[[Target, Context], CheckResult]
    kind: str = "deterministic"
    source: str = ""

    @property
    def stage(self) -> str:
        return LAYERS[self.layer]

    def run(self, target: Target, ctx: Context | None = None) -> CheckResult:
        """Run the check; an exception raised by the implementation is a failed check."""
        try:
            return self.fn(target, ctx if ctx is not None else Context())
        except Exception as exc:  # noqa: BLE001 - a crash of the implementation is a finding
            return CheckResult(False, detail=f"error: {type(exc).__name__}: {exc}")


#: checks by layer, in registration order
CHECKS: dict[str, list[Check]] = {layer: [] for layer in LAYERS}


CheckFn = Callable[[Target, Context], CheckResult]


def check(name: str, layer: str, statement: str, kind: str = "deterministic",
          source: str = "") -> Callable[[CheckFn], CheckFn]:
    """Decorator: register ``fn(target, ctx) -> CheckResult`` as check ``name`` of ``layer``."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    if kind not in ("deterministic", "statistical"):
        raise ValueError(f"kind must be 'deterministic' or 'statistical', got {kind!r}")

    def deco(fn: CheckFn) -> CheckFn:
        if any(c.name == name for c in CHECKS[layer]):
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[layer].append(Check(name, layer, " ".join(statement.split()), fn, kind, source))
        return fn

    return deco


def checks_for(layer: str) -> list[Check]:
    """The registered checks of ``layer`` (importing the built-in check modules first)."""
    from qstack.conformance import (  # noqa: F401
        checks_apps,
        checks_expiry,
        checks_link,
        checks_network,
        checks_physical,
        checks_theory,
        checks_transport,
    )

    if layer not in CHECKS:
        raise ConformanceError(f"unknown layer {layer!r}; layers: {', '.join(LAYERS)}")
    return list(CHECKS[layer])


@dataclass(frozen=True)
class CheckOutcome:
    """A check's result on one target, for the report."""

    check: Check
    result: CheckResult
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "check": self.check.name, "stage": self.check.stage, "layer": self.check.layer,
            "kind": self.check.kind, "statement": self.check.statement,
            "status": _status(r), "passed": r.passed, "measured": _num(r.measured), "expected": _num(r.expected),
            "tolerance": r.tolerance, "n_se": r.n_se, "se": _num(r.se), "detail": r.detail,
            "source": self.check.source, "seconds": round(self.seconds, 4),
        }


def _num(x: float | None) -> float | str | None:
    if x is None:
        return None
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _status(r: CheckResult) -> str:
    if r.detail.startswith("skipped"):
        return "skip"
    return "pass" if r.passed else "FAIL"


@dataclass
class TargetReport:
    """Every check of one target's layer."""

    target: Target
    outcomes: list[CheckOutcome] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(o.result.passed for o in self.outcomes)

    def failed(self) -> list[str]:
        """Names of the failed checks."""
        return [o.check.name for o in self.outcomes if not o.result.passed]

    def result(self, name: str) -> CheckResult:
        for o in self.outcomes:
            if o.check.name == name:
                return o.result
        raise KeyError(name)


@dataclass
class Report:
    """The outcome of a conformance run: one :class:`TargetReport` per target."""

    targets: list[TargetReport] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.targets)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: per stage, per layer, per target, per check (status, measured, expected)."""
        stages: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for t in self.targets:
            entry = {"target": t.target.label, "passed": t.passed, "failed": t.failed(),
                     "checks": [o.as_dict() for o in t.outcomes]}
            stages.setdefault(t.target.stage, {}).setdefault(t.target.layer, []).append(entry)
        n = sum(len(t.outcomes) for t in self.targets)
        bad = sum(len(t.failed()) for t in self.targets)
        return {
            "passed": self.passed,
            "confidence": {"statistical_n_se": N_SE, "deterministic_tolerance": TOLERANCE},
            "summary": {"targets": len(self.targets), "checks": n, "failed": bad},
            "stages": {s: stages[s] for s in STAGES if s in stages},
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    def table(self) -> str:
        """A plain-text table: stage, layer, target, check, status, measured, expected, bound."""
        rows = [("stage", "layer", "target", "check", "status", "measured", "expected", "bound", "detail")]
        for t in sorted(self.targets, key=lambda t: (STAGES.index(t.target.stage), t.target.layer)):
            for o in t.outcomes:
                r = o.result
                bound = (f"±{r.n_se:g} SE ({r.se:.3g})" if r.n_se is not None and r.se is not None
                         else f"tol {r.tolerance:g}" if r.tolerance is not None else "")
                rows.append((t.target.stage, t.target.layer, _short(t.target.label, 28), o.check.name, _status(r),
                             _fmt(r.measured), _fmt(r.expected), bound, _short(r.detail, 60)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        n = sum(len(t.outcomes) for t in self.targets)
        bad = sum(len(t.failed()) for t in self.targets)
        lines.append("")
        lines.append(f"{n - bad}/{n} checks passed on {len(self.targets)} target(s)"
                     f" (statistical: {N_SE:g} standard errors, fixed seed; deterministic: tolerance {TOLERANCE:g})"
                     + ("" if not bad else f"; FAILED: {bad}"))
        return "\n".join(lines)


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return str(x)
    if x == int(x) and abs(x) < 1e12:
        return str(int(x))
    return f"{x:.10g}"


def _short(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def run_conformance(targets: Target | Iterable[Target], *, seed: int = 7, only: Sequence[str] | None = None,
                    progress: Callable[[Target, Check, CheckResult], Any] | None = None) -> Report:
    """Run every check of each target's layer (or the checks named in ``only``); returns the
    :class:`Report`. ``seed`` seeds every scenario a check runs (statistical checks are
    deterministic given it)."""
    if isinstance(targets, Target):
        targets = [targets]
    report = Report()
    for target in targets:
        ctx = Context(seed)
        tr = TargetReport(target)
        for c in checks_for(target.layer):
            if only is not None and c.name not in only:
                continue
            t0 = time.perf_counter()
            result = c.run(target, ctx)
            tr.outcomes.append(CheckOutcome(c, result, time.perf_counter() - t0))
            if progress is not None:
                progress(target, c, result)
        report.targets.append(tr)
    return report
