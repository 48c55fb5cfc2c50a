"""The robustness and service checks (checks_fuzz.py, checks_service.py): the built-ins pass them,
and small deliberately broken implementations defined here are rejected, each for the right reason."""

from __future__ import annotations

import sys

import pytest

from qstack.conformance import Target, builtin_targets, checks_for, run_conformance
from qstack.network.policies import SwapAsap

NEW = {
    "swapping": ["swapping.never_crashes", "swapping.concurrent_flows_isolated"],
    "link_scheme": ["link_scheme.never_crashes", "link_scheme.timeout_at_max_time"],
}
BUILTINS = [t for t in builtin_targets() if t.layer in NEW]


def _single_click():
    from qstack.physical.station import LINK_SCHEMES

    return LINK_SCHEMES.create("single_click")


# ---------------------------------------------------------------------------------------------- broken plug-ins


class CrashingOnPsiMinusAsap(SwapAsap):
    """Broken: swap-ASAP that raises when it is offered a pair heralded as Ψ⁻ (an unhandled frame)."""

    name = "crashing_on_psi_minus_asap"

    def select(self, view):
        if any(p.frame == 3 for p in (*view.up, *view.down)):
            raise KeyError("frame 3")
        return super().select(view)


class FirstFlowOnlyAsap(SwapAsap):
    """Broken: swap-ASAP that serves only the first flow it sees at each node (fine alone, starves
    any concurrent flow)."""

    name = "first_flow_only_asap"

    def __init__(self) -> None:
        super().__init__()
        self._first = None

    def select(self, view):
        if self._first is None:
            self._first = id(view.up)
        if id(view.up) != self._first:
            return []
        return super().select(view)


class DividingByOneMinusF:
    """Broken: single click that divides by (1 − F_min), crashing on a request for F_min = 1."""

    name = "dividing_single_click"

    def __init__(self) -> None:
        self._real = _single_click()

    def model(self, hw, min_fidelity):
        _ = 1.0 / (1.0 - min_fidelity)
        return self._real.model(hw, min_fidelity)


class _FastClaims:
    """A heralding model that claims attempts a million times shorter than they are."""

    def __init__(self, real):
        self._real = real

    @property
    def mean_attempt_time(self):
        return getattr(self._real, "mean_attempt_time", self._real.cycle_time) * 1e-6

    def __getattr__(self, name):
        return getattr(self._real, name)


class FastClaimingSingleClick:
    """Broken: single click whose model claims attempts 10⁶× shorter than they are, so the link
    layer accepts requests that cannot be served in time (they time out instead of NO_TIME)."""

    name = "fast_claiming_single_click"

    def __init__(self) -> None:
        self._real = _single_click()

    def model(self, hw, min_fidelity):
        m = self._real.model(hw, min_fidelity)
        return None if m is None else _FastClaims(m)


# ---------------------------------------------------------------------------------------------- tests


def test_the_new_checks_are_registered():
    for layer, names in NEW.items():
        assert set(names) <= {c.name for c in checks_for(layer)}


@pytest.mark.parametrize("target", BUILTINS, ids=[f"{t.layer}:{t.label}" for t in BUILTINS])
def test_builtins_pass_the_new_checks(target):
    report = run_conformance(target, only=NEW[target.layer])
    (tr,) = report.targets
    assert [o.check.name for o in tr.outcomes] == NEW[target.layer]
    assert tr.passed, report.table()
    assert not any(o.result.detail.startswith("skipped") for o in tr.outcomes), report.table()


CASES = [
    # (layer, spec, the check that must fail, what its detail must say, checks that must still pass)
    ("swapping", CrashingOnPsiMinusAsap, "swapping.never_crashes", ["crash", "KeyError", "Bell index 3"],
     []),
    ("swapping", FirstFlowOnlyAsap, "swapping.concurrent_flows_isolated", ["delivered no pair"],
     ["swapping.never_crashes", "swapping.announced_bell_state", "swapping.unique_delivery"]),
    ("link_scheme", DividingByOneMinusF, "link_scheme.never_crashes", ["crash", "ZeroDivisionError"],
     ["link_scheme.timeout_at_max_time"]),
    ("link_scheme", FastClaimingSingleClick, "link_scheme.timeout_at_max_time", ["expected ERR NO_TIME", "TIMEOUT"],
     ["link_scheme.never_crashes"]),
]


@pytest.mark.parametrize("layer, spec, fails, says, passes", CASES, ids=[c[1].__name__ for c in CASES])
def test_broken_rejected_for_the_right_reason(layer, spec, fails, says, passes):
    report = run_conformance(Target(layer, spec), only=[fails, *passes])
    (tr,) = report.targets
    assert tr.failed() == [fails], report.table()
    detail = tr.result(fails).detail
    for words in says:
        assert words in detail, detail


def test_fuzz_is_deterministic():
    a = run_conformance(Target("swapping", CrashingOnPsiMinusAsap), only=["swapping.never_crashes"])
    b = run_conformance(Target("swapping", CrashingOnPsiMinusAsap), only=["swapping.never_crashes"])
    assert a.targets[0].result("swapping.never_crashes") == b.targets[0].result("swapping.never_crashes")


def test_fuzz_checks_skip_without_hypothesis(monkeypatch):
    for mod in [m for m in sys.modules if m == "hypothesis" or m.startswith("hypothesis.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    for layer, spec in (("swapping", "asap"), ("link_scheme", "single_click")):
        report = run_conformance(Target(layer, spec), only=[f"{layer}.never_crashes"])
        r = report.targets[0].result(f"{layer}.never_crashes")
        assert r.passed and r.detail == "skipped: hypothesis not installed"
