"""Deliberately broken implementations (broken_plugins.py) are rejected, each for the right reason:
the check named here fails, and the checks that the fault does not touch still pass."""

from __future__ import annotations

import pytest

from qstack.conformance import Target, run_conformance

#: the built-in DI-QKD target's parameters (enough rounds for a positive finite-statistics rate)
DI_QKD = {"rounds": 2000, "epsilon_bell": 1e-3, "epsilon_qber": 1e-3}

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
    ("link_protocol", "broken_plugins:PriorityBlindLinkLayer", "link_protocol.priorities_honoured",
     ["link_protocol.requests_served_exactly"]),
    ("swapping", "broken_plugins:SilentDiscardAsap", "swapping.expire_reaches_holders",
     ["swapping.announced_bell_state", "swapping.unique_delivery", "swapping.no_leaked_positions"]),
    ("transport", "broken_plugins:ForgetfulTransport", "transport.teleportation_fidelity",
     ["transport.mismatch_is_error"]),
    ("transport", "broken_plugins:MismatchBlindTransport", "transport.mismatch_is_error",
     ["transport.teleportation_fidelity", "transport.floor_honoured"]),
    ("transport", "broken_plugins:FloorIgnoringTransport", "transport.floor_honoured",
     ["transport.teleportation_fidelity", "transport.mismatch_is_error"]),
    ("application", {"name": "broken_plugins:KeyReusingBB84", "pulses": 1_000_000},
     "application.qkd_key_never_reused", ["application.qkd_keys_agree", "application.qkd_aborts_under_attack"]),
    ("application", "broken_plugins:AngleLeakingBlind", "application.blind_reveals_nothing", []),
    ("application", "broken_plugins:UnderDeclaredTeleport", "application.declared_stage_covers_use",
     ["application.stage_enforced"]),
    ("application", "broken_plugins:StageHidingTeleport", "application.stage_enforced", []),
    ("application", {"name": "broken_plugins:AsymptoticRateDIQKD", **DI_QKD},
     "application.qkd_key_rate_formula", ["application.qkd_key_never_reused", "application.qkd_aborts_under_attack",
                                          "application.stage_enforced", "application.declared_stage_covers_use"]),
    ("transport", "broken_plugins:TransferIndexingTransport", "transport.never_crashes",
     ["transport.teleportation_fidelity", "transport.mismatch_is_error", "transport.floor_honoured"]),
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


def test_the_priority_blind_link_is_caught_handing_a_position_to_the_low_priority_request():
    """Round robin over all requests gives the low-priority request about half of the position
    pairs that free up while the high-priority one waits: the report names the position."""
    report = run_conformance(Target("link_protocol", "broken_plugins:PriorityBlindLinkLayer"),
                             only=["link_protocol.priorities_honoured"])
    r = report.targets[0].result("link_protocol.priorities_honoured")
    assert r.measured >= 5 and "served priority 0 while priority 5 waited" in r.detail


def test_a_silent_discard_leaves_remote_halves_held_past_the_message_delay():
    """The holder of the other half of a silently discarded pair never hears of it: it still holds
    the qubit when a message from the discarding node would long have arrived."""
    report = run_conformance(Target("swapping", "broken_plugins:SilentDiscardAsap"),
                             only=["swapping.expire_reaches_holders"])
    r = report.targets[0].result("swapping.expire_reaches_holders")
    assert r.measured > 0 and "not freed in time" in r.detail


def test_a_forgotten_z_in_the_tail_correction_is_reported_with_the_teleported_fidelity():
    """Ψ⁻ pairs corrected with X only are Φ⁻: a state teleported through one arrives Z-flipped,
    e.g. |+⟩ at fidelity 1 − (2F + 1)/3 instead of (2F + 1)/3 — off by far more than 1e-9."""
    report = run_conformance(Target("transport", "broken_plugins:ForgetfulTransport"),
                             only=["transport.teleportation_fidelity"])
    r = report.targets[0].result("transport.teleportation_fidelity")
    assert r.measured > 0.1 and r.tolerance == 1e-9


def test_a_reused_key_agrees_with_itself_across_sessions():
    """Handing out the first session's key again makes the two sessions' keys equal bit for bit:
    the fraction of equal bits is 1, many standard errors from the 1/2 of independent keys."""
    report = run_conformance(Target("application", {"name": "broken_plugins:KeyReusingBB84", "pulses": 1_000_000}),
                             only=["application.qkd_key_never_reused"])
    r = report.targets[0].result("application.qkd_key_never_reused")
    assert r.measured == 1.0 and r.n_se == 4.0 and abs(r.measured - 0.5) > 4 * r.se


def test_an_under_declared_measuring_app_is_caught_by_what_it_uses():
    """DI-QKD takes pairs measured at once (end-to-end entanglement, stage 2); declaring stage 1
    goes unnoticed by the runtime (no mid-run guard for measured pairs) but not by the suite,
    which names the role, the declared stage and the service used. Its declaration is still
    enforced (refused on a stage-0 network)."""
    report = run_conformance(Target("application", {"name": "broken_plugins:UnderDeclaredDIQKD", **DI_QKD}),
                             only=["application.declared_stage_covers_use", "application.stage_enforced"])
    (tr,) = report.targets
    assert tr.failed() == ["application.declared_stage_covers_use"], report.table()
    detail = tr.result("application.declared_stage_covers_use").detail
    assert "declares stage 1 but uses measure pairs (stage 2)" in detail
    assert "stage-0 network" in tr.result("application.stage_enforced").detail


def test_stage_refusals_name_both_stages_and_a_mid_run_refusal_is_not_enough():
    """The built-in teleportation app (stage 3) is refused up front on a stage-2 network; an app
    that hides its stage from the runtime starts and is stopped only mid-run — rejected, with the
    stage the StageError claims next to the one the network reaches."""
    ok = run_conformance(Target("application", "teleportation"), only=["application.stage_enforced",
                                                                         "application.declared_stage_covers_use"])
    assert ok.passed, ok.table()
    assert "declared 3 on a stage-2 network" in ok.targets[0].result("application.stage_enforced").detail
    bad = run_conformance(Target("application", "broken_plugins:StageHidingTeleport"),
                          only=["application.stage_enforced"])
    assert "StageError says stage 0 is reached" in bad.targets[0].result("application.stage_enforced").detail


def test_an_asymptotic_di_qkd_rate_is_reported_against_the_finite_formula():
    """The broken app reports 1 − h(Q) − h(…) at the observed S and Q; the finite-statistics
    formula at S_L and Q_U is lower, and the report shows both numbers."""
    report = run_conformance(Target("application", {"name": "broken_plugins:AsymptoticRateDIQKD", **DI_QKD}),
                             only=["application.qkd_key_rate_formula"])
    r = report.targets[0].result("application.qkd_key_rate_formula")
    assert not r.passed and r.measured > r.expected > 0.0 and r.tolerance == 1e-9


def test_a_transfer_id_the_transport_did_not_expect_crashes_it():
    report = run_conformance(Target("transport", "broken_plugins:TransferIndexingTransport"),
                             only=["transport.never_crashes"])
    detail = report.targets[0].result("transport.never_crashes").detail
    assert "IndexError" in detail and "TeleportRecord" in detail
