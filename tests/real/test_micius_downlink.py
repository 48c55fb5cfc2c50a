"""examples/real/micius_qkd_downlink: Micius decoy-state QKD (Liao et al., Nature 549, 43 (2017)).

The scenario's pass gives the published headline figures within the tolerances its README
states: a kilohertz-order key rate at 1200 km and over the pass (0.3-3 kbit/s), and the
Fig. 3 link loss at 645 km and 1200 km within 3 dB. The same scenario and seed give
bit-identical results.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

EXAMPLE = "micius_qkd_downlink"
RUN = Path(__file__).resolve().parents[2] / "examples" / "real" / EXAMPLE / "run.py"


def test_key_rate_at_1200_km_is_kilohertz_order(figures):
    """Abstract: "a kilohertz key rate ... over a distance of up to 1,200 kilometres"."""
    assert 300.0 <= figures["key_rate_1200km_bps"] <= 3000.0


def test_mean_key_rate_over_the_pass_is_kilohertz_order(figures):
    assert 300.0 <= figures["mean_key_rate_bps"] <= 3000.0


@pytest.mark.parametrize("key", ["loss_645km_db", "loss_1200km_db"])
def test_link_loss_matches_fig3_within_3_db(run, figures, key):
    """Fig. 3 measured loss (29.8 dB at 645 km, 39.0 dB at 1200 km) within the README's 3 dB."""
    assert not math.isnan(figures[key])
    assert abs(figures[key] - run.PUBLISHED[key]) <= 3.0


def test_pass_spans_the_645_to_1200_km_window(figures):
    assert figures["range_at_end_km"] == pytest.approx(1200.0, abs=5.0)
    assert 250.0 < figures["pass_duration_s"] < 300.0


def test_same_scenario_and_seed_give_identical_budgets(run):
    a, b = run.budget(), run.budget()
    assert a.secret_bits == b.secret_bits
    assert a.gain.tobytes() == b.gain.tobytes()


def test_the_protocol_run_over_20_s_of_the_pass_stays_below_the_asymptotic_budget(run):
    """``qstack run`` of the scenario runs decoy-state BB84 itself over 20 s about the peak: both
    ends hold the same non-empty key, and its finite-key length is below the asymptotic
    decoy-state key the pass model integrates over the same 20 s (the finite-size terms only
    subtract), but of the same order (above 1 %)."""
    import numpy as np

    from qstack.apps import make_application, run_app
    from qstack.scenario import load_scenario

    scenario = load_scenario(RUN.parent / "scenario.toml")
    spec = scenario.application
    app = make_application(spec.name, spec.params, spec.roles)
    result = run_app(app, scenario, spec.roles)
    alice, bob = result.results["alice"], result.results["bob"]
    assert alice.abort is None and alice.key_length > 0 and np.array_equal(alice.key, bob.key)
    b = run.budget()
    window = (b.times >= -10) & (b.times < 10)
    asymptotic_bits = float(b.key_rate[window].sum()) * b.time_step
    assert 0.01 * asymptotic_bits < alice.key_length < asymptotic_bits


def test_turbulence_from_xinglong_seeing_steepens_the_loss_only_through_a_field_stop_near_the_spot_size(run):
    """README "Explained differences": with HV turbulence from the 1.7 arcsec site seeing the
    mean loss changes only through the field stop (scintillation has unit mean, and a 1 m
    aperture averages it down to sigma_I^2 < 0.01); stops of 50 urad or more add < 0.2 dB to
    the 645->1200 km rise, and the measured 9.2 dB needs a stop of ~14 urad, ~1.6 x the spot's
    FWHM at 645 km: not an input we could check, so the scenario keeps turbulence off."""
    study = run.turbulence_study()
    assert study["rise_fov_none_db"] == pytest.approx(study["rise_no_turbulence_db"], abs=1e-9)
    assert study["rise_fov_50urad_db"] - study["rise_no_turbulence_db"] < 0.2
    assert study["rise_fov_100urad_db"] <= study["rise_fov_50urad_db"] < study["rise_fov_20urad_db"]
    assert 12.0 < study["fov_matching_measured_urad"] < 16.0
    assert study["scintillation_1200km"] < 0.01
    assert study["fried_645km_cm"] > study["fried_1200km_cm"]
