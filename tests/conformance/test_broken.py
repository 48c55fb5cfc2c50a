"""Deliberately broken implementations (broken_plugins.py) are rejected, each for the right reason:
the check named here fails, and the checks that the fault does not touch still pass."""

from __future__ import annotations

import pytest

from qstack.conformance import Target, run_conformance

CASES = [
    # (layer, spec, the check that must fail, checks that must still pass)
    ("swapping", "broken_plugins:ForgetfulFrameAsap", "swapping.announced_bell_state",
     ["swapping.unique_delivery", "swapping.liveness", "swapping.no_leaked_positions", "swapping.deterministic"]),
    ("swapping", "broken_plugins:LeakyAsap", "swapping.no_leaked_positions",
     ["swapping.announced_bell_state", "swapping.unique_delivery"]),
    ("swapping", "broken_plugins:UnseededAsap", "swapping.deterministic",
     ["swapping.announced_bell_state", "swapping.no_leaked_positions"]),
    ("purification", {"name": "broken_plugins:TwirlSkippingBbpssw", "target_fidelity": 0.9999, "max_rounds": 2},
     "purification.output_coefficients", ["purification.liveness"]),
    ("cutoff", {"name": "broken_plugins:StaleCutoff", "time": 0.002}, "cutoff.no_stale_delivery",
     ["cutoff.liveness"]),
    ("cutoff", {"name": "broken_plugins:StaleCutoff", "time": 0.002}, "cutoff.no_stale_link_pairs", []),
    ("memory_noise", {"name": "broken_plugins:OptimisticT1T2", "t2": 0.5}, "memory_noise.ptm_matches_apply",
     ["memory_noise.identity_at_zero", "memory_noise.semigroup", "memory_noise.monotone"]),
    ("memory_noise", "broken_plugins:GaussianDephasing", "memory_noise.semigroup",
     ["memory_noise.ptm_matches_apply", "memory_noise.expected_fidelity"]),
    ("link_scheme", "broken_plugins:OverclaimingSingleClick", "link_scheme.min_fidelity_met",
     ["link_scheme.ends_agree", "link_scheme.positions_released"]),
    ("link_scheme", "broken_plugins:OverclaimingSingleClick", "link_scheme.model_consistent", []),
    ("routing", "broken_plugins:ShortcutRouting", "routing.valid_paths", []),
]


@pytest.mark.parametrize("layer, spec, fails, passes", CASES,
                         ids=[f"{c[2]}:{c[1] if isinstance(c[1], str) else c[1]['name']}" for c in CASES])
def test_rejected_for_the_right_reason(layer, spec, fails, passes):
    report = run_conformance(Target(layer, spec))
    (tr,) = report.targets
    assert not report.passed
    assert fails in tr.failed(), report.table()
    for name in passes:
        assert tr.result(name).passed, (name, report.table())


def test_the_forgotten_correction_is_reported_with_numbers():
    report = run_conformance(Target("swapping", "broken_plugins:ForgetfulFrameAsap"),
                             only=["swapping.announced_bell_state"])
    r = report.targets[0].result("swapping.announced_bell_state")
    assert r.expected == pytest.approx(0.7382222222222223, abs=1e-12)  # werner_swap_fidelity(0.9, 0.9, 0.9)
    assert r.measured < 0.25 and "not in their announced state" in r.detail
