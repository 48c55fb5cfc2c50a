"""pytest plugin: run the conformance suite as test items.

Enable it with ``-p qstack.conformance.pytest_plugin`` (or the ``pytest11`` entry point
``qstack_conformance``), then::

    pytest --qstack-conformance=pkg.module:Factory [--qstack-conformance-layer=swapping]

Each check of the target's layer becomes one test item,
``conformance[<target>]::<check name>``, failing with the measured and expected numbers; the
option may be given several times. ``--qstack-conformance-json=FILE`` writes the report as JSON
and the terminal summary shows the report table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qstack.conformance.framework import (
    LAYERS,
    Check,
    CheckOutcome,
    ConformanceError,
    Context,
    Report,
    Target,
    TargetReport,
    checks_for,
)

_REPORT = pytest.StashKey[Report]()


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("qstack-conformance", "qstack conformance suite")
    group.addoption("--qstack-conformance", action="append", default=[], metavar="TARGET",
                    help="check TARGET (a registered name, 'pkg.module:Factory' or a JSON table) against its "
                         "layer's contract; may be repeated")
    group.addoption("--qstack-conformance-layer", default=None, choices=list(LAYERS), metavar="LAYER",
                    help=f"the layer the targets implement (default: detected; one of {', '.join(LAYERS)})")
    group.addoption("--qstack-conformance-seed", type=int, default=7, metavar="N",
                    help="seed of every scenario the checks run (default 7)")
    group.addoption("--qstack-conformance-json", default=None, metavar="FILE", help="write the report as JSON")


class ConformanceFailure(AssertionError):
    """A conformance check failed (the message has the measured and expected numbers)."""


class ConformanceItem(pytest.Item):
    """One check on one target."""

    def __init__(self, *, target: Target, check: Check, ctx: Context, treport: TargetReport, **kw: Any) -> None:
        super().__init__(**kw)
        self.target, self.check, self.ctx, self.treport = target, check, ctx, treport
        self.add_marker("qstack_conformance")

    def runtest(self) -> None:
        import time

        t0 = time.perf_counter()
        result = self.check.run(self.target, self.ctx)
        self.treport.outcomes.append(CheckOutcome(self.check, result, time.perf_counter() - t0))
        if not result.passed:
            bound = (f"within {result.n_se:g} SE (SE = {result.se:.4g})" if result.n_se is not None
                     else f"tolerance {result.tolerance:g}" if result.tolerance is not None else "")
            raise ConformanceFailure(
                f"{self.check.name} failed for {self.target.label}: measured {result.measured!r}, expected "
                f"{result.expected!r} {bound}\n  contract: {self.check.statement}\n  {result.detail}")

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return Path(__file__), None, self.name


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "qstack_conformance: a qstack conformance check")
    config.stash[_REPORT] = Report()


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    specs = config.getoption("--qstack-conformance")
    if not specs:
        return
    from qstack.conformance.targets import resolve

    layer = config.getoption("--qstack-conformance-layer")
    seed = config.getoption("--qstack-conformance-seed")
    report = config.stash[_REPORT]
    for spec in specs:
        try:
            targets = resolve(spec, layer)
        except ConformanceError as exc:
            raise pytest.UsageError(f"--qstack-conformance={spec}: {exc}") from None
        for target in targets:
            ctx = Context(seed)
            treport = TargetReport(target)
            report.targets.append(treport)
            for c in checks_for(target.layer):
                items.append(ConformanceItem.from_parent(session, name=f"conformance[{target.label}]::{c.name}",
                                                         target=target, check=c, ctx=ctx, treport=treport))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    report = config.stash.get(_REPORT, None)
    if report is None or not report.targets:
        return
    terminalreporter.section("qstack conformance")
    for line in report.table().splitlines():
        terminalreporter.write_line(line)
    path = config.getoption("--qstack-conformance-json")
    if path:
        Path(path).write_text(report.to_json() + "\n")
        terminalreporter.write_line(f"report written to {path}")
