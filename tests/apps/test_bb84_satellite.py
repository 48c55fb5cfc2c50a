"""Decoy-state BB84 run (``qstack run``) over a ``satellite_downlink`` pass, against the pass model.

A satellite pass changes the channel every second: elevation, slant range and so the
transmissivity T(t) of the free-space channel (diffraction, atmosphere with air mass, fixed
receiver loss, :mod:`qstack.physical.satellite`). The BB84 application sends its pulses from
``pass_start`` (s from the pass's peak) at the repetition rate and cuts the run into segments at
the multiples of ``time_step / fading_samples``; a segment of n_k pulses sees the transmissivity
T_k at its midpoint (one fading draw of it when pointing jitter or scintillation is set). Every
pulse's class is drawn independently, so class c's expected gain over the run is the
pulse-weighted mean of the weak-coherent gain Q(mu_c, eta_k) = 1 - (1 - Y0) exp(-eta_k mu_c)
with eta_k = T_k eta_d (Ma, Qi, Zhao & Lo 2005) — checked within 4 binomial standard errors.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from qstack.apps import run_app
from qstack.apps.bb84 import BB84, OpticalLink, expected_gain_qber
from qstack.scenario import load_scenario

MICIUS = Path(__file__).resolve().parents[2] / "examples" / "real" / "micius_qkd_downlink" / "scenario.toml"
ROLES = {"alice": "micius", "bob": "xinglong"}
MU = (0.8, 0.1, 0.0)


def _scenario(seed: int = 2017, **satellite: object):
    scenario = load_scenario(MICIUS)
    if not satellite and seed == scenario.simulation.seed:
        return scenario
    import tomllib

    data = tomllib.loads(MICIUS.read_text())
    data["simulation"]["seed"] = seed
    data["links"][0]["satellite"].update(satellite)
    return load_scenario(data)


def _link(scenario, **kw) -> OpticalLink:
    spec = scenario.link("micius", "xinglong")
    hw = scenario.hardware_of("xinglong")
    return OpticalLink.downlink(spec.satellite, repetition_rate=1e8, detector_efficiency=spec.detector_efficiency,
                                dark_count_probability=spec.dark_count_probability or hw.dark_count_probability,
                                misalignment=0.01, seed=scenario.simulation.seed, **kw)


def test_pass_segments_follow_the_channel_transmissivity_at_their_midpoints():
    """Without fading a segment is one time step (1 s): 2.5 s from 0.25 s before the peak gives
    segments of 0.25, 1, 1, 0.25 s (pulses 25e6, 1e8, 1e8, 25e6), each at the channel's
    transmissivity at its midpoint's elevation and slant range to 1e-12; the delay is the slant
    range at the start over c."""
    scenario = _scenario(pointing_jitter=0.0)
    link = _link(scenario, pulses=250_000_000, start=-0.25)
    assert link.pulses == (25_000_000, 100_000_000, 100_000_000, 25_000_000)
    assert link.total_pulses == 250_000_000 and link.duration == pytest.approx(2.5, abs=1e-12)
    spec = scenario.link("micius", "xinglong").satellite
    sat, channel = spec.satellite_pass(), spec.channel()
    mids = np.array([-0.125, 0.5, 1.5, 2.125])
    expected = channel.transmissivity(sat.slant_range(mids), sat.elevation(mids))
    np.testing.assert_allclose(link.transmissivity, expected, rtol=1e-12, atol=0)
    assert link.delay == pytest.approx(float(sat.slant_range(-0.25)) / 299_792_458.0, rel=1e-12)


def test_pointing_fading_segments_average_to_the_mean_transmissivity():
    """With 0.5 urad pointing jitter each of the 64 sub-steps of a second is one draw
    eta_static exp(-2 r^2 / w^2), r Rayleigh, whose mean is the channel's transmissivity at that
    instant: over 10 s about the peak (640 draws) the ratios draw / mean average to 1 within 4
    standard errors; the draws are deterministic per seed and differ between seeds."""
    scenario = _scenario()
    link = _link(scenario, pulses=1_000_000_000, start=-5.0)
    eta = np.asarray(link.transmissivity)
    assert eta.size == 640
    spec = scenario.link("micius", "xinglong").satellite
    sat, channel = spec.satellite_pass(), spec.channel()
    mids = -5.0 + (np.arange(640) + 0.5) / 64
    ratio = eta / channel.transmissivity(sat.slant_range(mids), sat.elevation(mids))
    assert abs(ratio.mean() - 1.0) <= 4 * ratio.std(ddof=1) / math.sqrt(ratio.size)
    assert eta.std() > 0
    assert _link(scenario, pulses=1_000_000_000, start=-5.0).transmissivity == link.transmissivity
    assert _link(_scenario(seed=7), pulses=1_000_000_000, start=-5.0).transmissivity != link.transmissivity


def test_bb84_over_a_satellite_pass_has_the_gains_of_the_pass_model():
    """2e8 pulses (2 s at 100 MHz) from 1 s before the peak: the measured gain of each class
    (signal 0.8, decoy 0.1, vacuum) is the pulse-weighted mean over segments of
    Q(mu_c, T_k eta_d) within 4 binomial SE; both ends agree on the key, which is not empty."""
    scenario = _scenario()
    app = BB84(pulses=200_000_000, mu=0.8, nu=0.1, p_signal=0.5, p_decoy=0.25, p_vacuum=0.25,
               misalignment=0.01, sampling="click", pass_start="-1 s")
    result = run_app(app, scenario, ROLES)
    alice, bob = result.results["alice"], result.results["bob"]
    assert alice.abort is None and alice.key_length > 0 and np.array_equal(alice.key, bob.key)
    link = _link(scenario, pulses=200_000_000, start=-1.0)
    weights = np.asarray(link.pulses) / link.total_pulses
    for c, mu in enumerate(MU):
        q = sum(w * expected_gain_qber(mu, t * link.detector_efficiency, link.dark_count_probability, 0.01)[0]
                for w, t in zip(weights, link.transmissivity, strict=True))
        n = bob.statistics.pulses[c]
        assert abs(bob.statistics.gains[c] - q) <= 4 * math.sqrt(q * (1 - q) / n), (c, bob.statistics.gains[c], q)


def test_satellite_bb84_is_deterministic_per_seed():
    """The same scenario and seed give the same key bit for bit; another seed another key."""
    def key(seed: int) -> bytes:
        app = BB84(pulses=400_000_000, mu=0.8, nu=0.1, p_signal=0.5, p_decoy=0.25, p_vacuum=0.25,
                   sampling="click", pass_start="-2 s")
        return run_app(app, _scenario(seed=seed), ROLES).results["alice"].key.tobytes()

    first = key(3)
    assert first and key(3) == first and key(4) != first


@pytest.mark.parametrize(("params", "field", "roles"), [
    ({"pass_start": "500 s"}, "pass_start", ROLES),
    ({"pass_start": "130 s", "pulses": 10_000_000_000}, "pulses", ROLES),
    ({}, "sender", {"alice": "xinglong", "bob": "micius"}),
])
def test_bad_satellite_bb84_settings_are_refused_naming_the_field(params, field, roles):
    """pass_start outside the visible window (about +-139 s here), pulses that outlast the pass,
    and a ground station that tries to send up the downlink are refused with errors naming the
    field and the allowed range."""
    app = BB84(**{"pulses": 1_000_000, **params})
    with pytest.raises(ValueError, match=field):
        run_app(app, _scenario(), roles)


def test_pass_start_on_a_fibre_link_is_refused():
    """pass_start only means something on a satellite_downlink: on a fibre it is an error."""
    from qstack.apps.bb84 import example_link

    with pytest.raises(ValueError, match="pass_start only applies to a satellite_downlink"):
        run_app(BB84(pulses=1000, pass_start="0 s"), load_scenario(example_link()), {"alice": "alice", "bob": "bob"})
