"""qstack's own plug-ins and the tutorial plug-ins pass every check of their layer (what CI runs:
``qstack conformance --builtins --tutorials``)."""

from __future__ import annotations

import pytest

from qstack.conformance import LAYERS, builtin_targets, checks_for, run_conformance, tutorial_targets

TARGETS = builtin_targets() + tutorial_targets()


@pytest.mark.parametrize("target", TARGETS, ids=[f"{t.layer}:{t.label}" for t in TARGETS])
def test_passes_its_layer(target):
    report = run_conformance(target)
    (tr,) = report.targets
    assert tr.passed, report.table()
    assert len(tr.outcomes) == len(checks_for(target.layer)) >= 2


def test_every_layer_is_covered_by_the_builtins():
    assert {t.layer for t in builtin_targets()} == set(LAYERS)


def test_a_legitimate_unusual_swap_policy_passes():
    """Correcting frames physically before the swap is not what the built-in does, but it is
    correct: the suite judges the contract, not the implementation."""
    from qstack.conformance import Target

    report = run_conformance(Target("swapping", "broken_plugins:FrameCorrectingAsap"))
    assert report.passed, report.table()


def test_statistical_checks_state_their_confidence():
    double_click = next(t for t in builtin_targets() if t.label == "double_click")  # a statistical rate check
    report = run_conformance(double_click)
    stat = [o for o in report.targets[0].outcomes if o.check.kind == "statistical"]
    assert stat and all(o.result.n_se == 4.0 and o.result.se > 0 for o in stat)
    det = [o for o in report.targets[0].outcomes if o.check.kind == "deterministic"]
    assert det and all(o.result.tolerance is not None for o in det)


def test_new_layers_report_under_their_own_stage():
    """The link protocol, transport and application layers appear in the report (table and JSON)
    under the stages link, transport and application."""
    from qstack.conformance import Target

    report = run_conformance([Target("link_protocol", "qstack.link.protocol:LinkLayer"),
                              Target("application", "blind-computation")],
                             only=["link_protocol.requests_served_exactly", "application.blind_reveals_nothing"])
    data = report.as_dict()
    assert list(data["stages"]) == ["link", "application"]
    assert data["stages"]["link"]["link_protocol"][0]["checks"][0]["check"] == "link_protocol.requests_served_exactly"
    assert data["stages"]["application"]["application"][0]["passed"]
    assert "link_protocol.requests_served_exactly" in report.table()
