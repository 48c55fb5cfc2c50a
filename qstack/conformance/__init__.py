"""The conformance suite: check a protocol implementation against its layer's contract and theory.

A protocol developer who writes a swap scheduler, a cut-off rule, a purification schedule, a
routing policy, a memory noise model or a link generation scheme asks: does it behave as a
correct implementation of its layer must? Each layer has executable contracts (:class:`Check`)
run through qstack's public API, judged against analytic references
(:mod:`qstack.conformance.references`) to 1e-9 where the answer is deterministic and within 4
standard errors (fixed seed) where it is statistical. Three ways to run it:

* ``qstack conformance pkg.module:Factory [--layer swapping] [--json report.json]``
  (:func:`qstack.conformance.cli.main`);
* ``pytest -p qstack.conformance.pytest_plugin --qstack-conformance=pkg.module:Factory``;
* from Python: ``run_conformance(resolve("pkg.module:Factory"))``.

>>> report = run_conformance(resolve("fewest_hops"))
>>> report.passed, [o.check.name for o in report.targets[0].outcomes]
(True, ['routing.valid_paths', 'routing.delivers'])
"""

from qstack.conformance import checks_fuzz, checks_service  # noqa: F401  (register their checks)
from qstack.conformance.framework import (
    CHECKS,
    LAYERS,
    N_SE,
    TOLERANCE,
    Check,
    CheckResult,
    ConformanceError,
    Context,
    Report,
    Target,
    TargetReport,
    check,
    checks_for,
    run_conformance,
)
from qstack.conformance.references import REFERENCES, Reference
from qstack.conformance.targets import builtin_targets, detect_layer, resolve, tutorial_targets

__all__ = [
    "CHECKS", "LAYERS", "N_SE", "TOLERANCE", "Check", "CheckResult", "ConformanceError", "Context", "Report",
    "Target", "TargetReport", "check", "checks_for", "run_conformance", "REFERENCES", "Reference",
    "builtin_targets", "detect_layer", "resolve", "tutorial_targets",
]
