"""Trusted-node key relay (stage 0): fibre chains, the Beijing–Shanghai backbone, Micius.

* Relay correctness: each hop distils a BB84 link key K_j; trusted node T_i publishes
  P_i = K_{i-1} XOR K_i; B's K_k XOR P_k XOR ... XOR P_1 telescopes to A's K_0, cut to the
  shortest link key. Every trusted node computes the same key (the trust assumption).
* Secrecy against an outside listener: the published P_i are one-time-padded link keys, so their
  bits are uniform and independent of the final key and of each other (4 SE on the fraction of
  ones, of agreements with the key and between neighbours).
* Rate: the end-to-end key rate equals the minimum of the link rates exactly; the longest hop
  sets it.
* Micius (Liao et al., PRL 120, 030501 (2018)): the pass budget is the time integral of the
  decoy-state rate at the instantaneous loss (reproduced independently to 1e-9) and comes out
  at a few 1e5 secret bits per 276 s pass — the order of the published ~kHz key rate per
  passage; the simulated passes detect as many pulses as the budget predicts (4 SE) and
  Xinglong and Graz end up sharing Micius's relayed key.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from qstack.apps import APPLICATIONS, run_app
from qstack.apps.bb84 import expected_gain_qber
from qstack.apps.trusted_relay import (
    LIAO_2017_WINDOW,
    MiciusRelay,
    TrustedRelay,
    micius_pass_budget,
    relay_chain,
)
from qstack.physical.satellite import GRAZ, MICIUS, XINGLONG, SatellitePass, micius_downlink
from qstack.qkd import decoy_state_rate
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import Stage, network_stage

STAGE0 = Path(__file__).resolve().parents[2] / "stages" / "stage0"
HOPS = [10e3, 30e3, 15e3, 20e3]
ROLES = {"alice": "n0", "t1": "n1", "t2": "n2", "t3": "n3", "bob": "n4"}


@pytest.fixture(scope="module")
def chain():
    scenario = load_scenario(relay_chain(HOPS, seed=4))
    return run_app(TrustedRelay(trusted=3, pulses=4_000_000), scenario, ROLES).results


def test_bob_recovers_alices_key_and_every_trusted_node_knows_it(chain):
    """B's key equals A's; so does the key each of T1..T3 computes from its left link key and the
    public XORs before it; the key is K_0 (A's link key with T1) cut to min_j |K_j|, and each
    published P_i is exactly K_left XOR K_right of T_i's two BB84 links."""
    alice, bob = chain["alice"], chain["bob"]
    assert alice.key_length == min(alice.hop_lengths) > 1000
    assert np.array_equal(alice.key, bob.key)
    assert np.array_equal(alice.key, alice.hops[0].key[:alice.key_length])
    for i in (1, 2, 3):
        t = chain[f"t{i}"]
        assert t.trusted and np.array_equal(t.key, alice.key)
        left, right = t.hops[i - 1].key, t.hops[i].key
        m = min(left.size, right.size)
        assert np.array_equal(bob.public[f"t{i}"], left[:m] ^ right[:m])
        assert np.array_equal(left, chain["alice" if i == 1 else f"t{i - 1}"].hops[i - 1].key)
    assert not alice.trusted and not bob.trusted
    assert all(r.hop_lengths == alice.hop_lengths for r in chain.values())
    assert alice.hop_lengths == tuple(chain["t1"].hops[j].key_length for j in (0, 1)) + tuple(
        chain["t3"].hops[j].key_length for j in (2, 3))


def test_published_xors_are_uniform_and_independent_of_the_final_key(chain):
    """An outside listener sees P_1..P_3. Each is uniform (ones fraction 1/2 within 4 SE), agrees
    with the final key on half the bits (independent of it), and two neighbouring P's agree on
    half the bits: the XORs carry no information about the key."""
    key = chain["bob"].key
    length = key.size
    se = math.sqrt(0.25 / length)
    public = chain["bob"].public
    assert sorted(public) == ["t1", "t2", "t3"]
    for p in public.values():
        p = p[:length]
        assert abs(float(np.mean(p)) - 0.5) < 4 * se
        assert abs(float(np.mean(p == key)) - 0.5) < 4 * se
        assert abs(float(np.mean(p[1:] == p[:-1])) - 0.5) < 4 * math.sqrt(0.25 / (length - 1))
    assert abs(float(np.mean(public["t1"][:length] == public["t2"][:length])) - 0.5) < 4 * se


def test_end_to_end_rate_is_the_minimum_link_rate(chain):
    """Link rate = |K_j| / T_j (T_j = pulses / repetition rate); the end-to-end rate is their
    minimum, which is the relay key length over the common transmission time; the longest hop
    (30 km) is the bottleneck."""
    alice = chain["alice"]
    rates = alice.link_rates
    assert alice.end_to_end_rate == min(rates) == alice.key_length / alice.hop_durations[0]
    assert rates == tuple(n / 0.04 for n in alice.hop_lengths)  # 4e6 pulses at 100 MHz
    assert rates[0] == chain["t1"].hops[0].key_rate
    assert int(np.argmin(rates)) == HOPS.index(max(HOPS))


def test_relay_delivers_no_key_when_a_link_is_eavesdropped():
    """Intercept–resend of 60 % on every link: each link aborts (QBER ~16 % > 11 %), so no role
    gets an end-to-end key."""
    scenario = load_scenario(relay_chain([10e3, 10e3], seed=1))
    results = run_app(TrustedRelay(trusted=1, pulses=1_000_000, eavesdropper=0.6), scenario,
                      {"alice": "n0", "t1": "n1", "bob": "n2"}).results
    for r in results.values():
        assert r.aborted and r.key.size == 0 and all(h.aborted for h in r.hops.values())


# --------------------------------------------------------------------------- Micius


def test_micius_pass_budget_integrates_the_decoy_rate_and_matches_the_published_order():
    """One Xinglong pass over the 645–1200 km window (276 s): secret bits = sum over 1 s slices of
    p_signal decoy_state_rate(Q(t), E(t)) x 100 MHz, recomputed from SatellitePass and
    micius_downlink to 1e-9; ~3.8e5 secret bits and ~2.8e6 detections per pass, ~1.4 kbit/s — the
    order of Liao et al.'s published kilohertz key rate over a few-minute pass. Graz's smaller
    telescope gets less."""
    budget = micius_pass_budget(XINGLONG, time_step=1.0)
    satellite_pass = SatellitePass(MICIUS["altitude"], *LIAO_2017_WINDOW)
    assert satellite_pass.duration == pytest.approx(276.5, abs=0.5)
    samples = satellite_pass.samples(micius_downlink(XINGLONG), 1.0)
    total = 0.0
    for t in samples.transmissivity:
        eta = t * MICIUS["detector_efficiency"]
        (q_mu, e_mu), (q_nu, e_nu), (y0, _) = (expected_gain_qber(x, eta, 1e-7, 0.01) for x in (0.8, 0.1, 0.0))
        total += 0.5 * decoy_state_rate(0.8, 0.1, q_mu, e_mu, q_nu, e_nu, y0, 1.16) * 100e6
    assert budget.secret_bits == pytest.approx(total, rel=1e-9)
    assert 1e5 < budget.secret_bits < 1e6 and 1e6 < budget.detections < 1e7
    assert budget.secret_bits / budget.duration == pytest.approx(1.4e3, rel=0.5)  # ~kHz
    assert micius_pass_budget(GRAZ, time_step=1.0).secret_bits < budget.secret_bits


def test_micius_relays_a_key_from_xinglong_to_graz():
    """The stage-0 Micius scenario with 2 % of the pulses: each pass detects as many pulses as
    the budget predicts (Poisson, 4 SE); the Graz pass starts pass_gap after the Xinglong pass;
    Xinglong, Micius and Graz end with the same key, as long as the shorter pass key."""
    scenario = load_scenario(STAGE0 / "micius_relay.toml")
    assert network_stage(scenario).stage == Stage.TRUSTED_REPEATER
    params = {**scenario.application.params, "pulse_fraction": 0.02}
    app = MiciusRelay(**params)
    results = run_app(app, scenario, scenario.application.roles).results
    xinglong, micius, graz = results["xinglong"], results["micius"], results["graz"]
    assert np.array_equal(xinglong.key, graz.key) and np.array_equal(xinglong.key, micius.key)
    assert xinglong.key_length == min(xinglong.hop_lengths) > 0 and micius.trusted
    budgets = app.budgets(dark_count_probability=1e-7)
    for j, budget in enumerate(budgets):
        expected = budget.detections * 0.02
        assert abs(micius.hops[j].detections - expected) < 4 * math.sqrt(expected)
    first, second = micius.hops[0], micius.hops[1]
    assert second.started == pytest.approx(first.duration + params["pass_gap"])
    assert xinglong.end_to_end_rate == min(xinglong.link_rates)


# --------------------------------------------------------------------------- scenario files


@pytest.mark.slow
def test_beijing_shanghai_backbone_file_runs_with_the_key_rate_of_the_slowest_hop(tmp_path, monkeypatch, capsys):
    """beijing_shanghai.toml: 34 nodes (32 trusted), 33 illustrative hops summing to 2000 km
    (mean 60.6 km), at stage 0; run through `qstack run` (pulses cut to 1e7 per hop for speed)
    Shanghai gets Beijing's key, as long as the shortest link key."""
    from qstack.cli import main

    path = STAGE0 / "beijing_shanghai.toml"
    scenario = load_scenario(path)
    lengths = [link.length for link in scenario.links]
    assert len(scenario.nodes) == 34 and len(lengths) == 33 and scenario.application.params["trusted"] == 32
    assert sum(lengths) == pytest.approx(2000e3) and np.mean(lengths) == pytest.approx(60.6e3, abs=100)
    assert network_stage(scenario).stage == Stage.TRUSTED_REPEATER
    fast = tmp_path / "backbone.toml"
    fast.write_text(re.sub(r"(?m)^pulses = .*$", "pulses = 10_000_000", path.read_text()))
    monkeypatch.setitem(APPLICATIONS, "trusted_relay", "qstack.apps.trusted_relay:TrustedRelay")
    assert main(["run", str(fast), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["results"]
    lengths = out["alice"]["hop_lengths"]
    key_length = out["bob"]["key_length"]
    assert key_length == min(lengths) > 0
    assert all(v["key_length"] == key_length for v in out.values())


def test_micius_file_runs_through_the_cli(tmp_path, monkeypatch, capsys):
    """micius_relay.toml loads and runs with `qstack run` (5 % of the pulses here)."""
    from qstack.cli import main

    text = (STAGE0 / "micius_relay.toml").read_text()
    fast = tmp_path / "micius.toml"
    fast.write_text(re.sub(r"(?m)^pulse_fraction = .*$", "pulse_fraction = 0.05", text))
    monkeypatch.setitem(APPLICATIONS, "micius_relay", "qstack.apps.trusted_relay:MiciusRelay")
    assert main(["run", str(fast), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["application"] == "micius_relay" and out["results"]["micius"]["trusted"] is True


def test_registry_names_these_classes():
    """`qstack run` finds the relays by name once registered in qstack.apps.APPLICATIONS."""
    expected = {"trusted_relay": "qstack.apps.trusted_relay:TrustedRelay",
                "micius_relay": "qstack.apps.trusted_relay:MiciusRelay"}
    missing = [name for name in expected if name not in APPLICATIONS]
    if missing:
        pytest.skip(f"not registered yet: add {', '.join(f'{n!r}: {expected[n]!r}' for n in missing)} to APPLICATIONS")
    assert all(APPLICATIONS[name] == target for name, target in expected.items())


def test_a_stage0_relay_may_run_its_trusted_role_on_a_repeater_node():
    """A trusted relay on linear_chain(3) (n1 a repeater node) should run: stage 0 needs nothing."""
    scenario = load_scenario(linear_chain(3, seed=1, detector_efficiency=0.2))
    results = run_app(TrustedRelay(trusted=1, pulses=1_000_000), scenario, {"alice": "n0", "t1": "n1", "bob": "n2"})
    assert np.array_equal(results.results["alice"].key, results.results["bob"].key)


# --------------------------------------------------------------------------- per-hop settings


PER_HOP = [
    {"mu": 0.6, "nu": 0.08, "detector_efficiency": 0.25},
    {"dark_count_probability": 1e-5, "misalignment": 0.02},
    {"repetition_rate": "200 MHz", "p_signal": 0.8, "p_decoy": 0.1, "p_vacuum": 0.1, "detector_efficiency": 0.6,
     "sender": "bob"},
]
PER_HOP_LENGTHS = [40e3, 25e3, 70e3]
PER_HOP_ROLES = {"alice": "n0", "t1": "n1", "t2": "n2", "bob": "n3"}


def _analytic_hop_rate(length, *, mu=0.5, nu=0.1, p_signal=0.7, rate=100e6, eta_d=0.2, dark=1e-6, e_d=0.015):
    """Independent decoy-state rate: p_signal R decoy_state_rate(Q_mu, E_mu, Q_nu, E_nu, Y0) at eta = T eta_d."""
    eta = 10 ** (-0.2 * length / 1e3 / 10) * eta_d
    (q_mu, e_mu), (q_nu, e_nu), (y0, _) = (expected_gain_qber(x, eta, dark, e_d) for x in (mu, nu, 0.0))
    return p_signal * rate * decoy_state_rate(mu, nu, q_mu, e_mu, q_nu, e_nu, y0, 1.16)


def test_chain_key_rate_is_the_minimum_of_per_hop_analytic_decoy_rates():
    """Each hop with its own source, detector and dark counts: the relay's analytic hop rates equal
    p_signal R decoy_state_rate(...) recomputed from expected_gain_qber to 1e-9; the chain's rate is
    their minimum, here hop 0 (40 km) and not the longest (70 km, but a 60 % detector at 200 MHz); the
    relayed key (XOR relaying cuts it to the shortest link key) is the minimum of rate x duration: hop 2,
    whose 2e6 pulses take half the time at 200 MHz."""
    scenario = load_scenario(relay_chain(PER_HOP_LENGTHS, seed=5))
    app = TrustedRelay(trusted=2, pulses=2_000_000, hops=PER_HOP)
    budget = app.hop_budgets(scenario, PER_HOP_ROLES)
    expected = [
        _analytic_hop_rate(40e3, mu=0.6, nu=0.08, eta_d=0.25),
        _analytic_hop_rate(25e3, dark=1e-5, e_d=0.02),
        _analytic_hop_rate(70e3, p_signal=0.8, rate=200e6, eta_d=0.6),
    ]
    for got, want in zip(budget.link_rates, expected, strict=True):
        assert got == pytest.approx(want, rel=1e-9)
    assert budget.end_to_end_rate == pytest.approx(min(expected), rel=1e-9)
    assert budget.bottleneck == int(np.argmin(expected)) == 0
    durations = [h.duration for h in budget.hops]
    assert durations == pytest.approx([0.02, 0.02, 0.01])  # 2e6 pulses at 100, 100, 200 MHz
    bits = [r * t for r, t in zip(expected, durations, strict=True)]
    assert budget.relayed_bits == pytest.approx(min(bits), rel=1e-9) and int(np.argmin(bits)) == 2


def test_per_hop_settings_reach_the_simulated_links():
    """The simulated hops use their own settings: each hop's detections match pulses x sum_c p_c Q_c
    of its own source and detector within 4 SE (Poisson); hop 2 is sent by bob (its receiver is t2);
    the relayed key is shared by all four roles and its rate is the minimum simulated link rate."""
    scenario = load_scenario(relay_chain(PER_HOP_LENGTHS, seed=5))
    app = TrustedRelay(trusted=2, pulses=6_000_000, hops=PER_HOP)
    results = run_app(app, scenario, PER_HOP_ROLES).results
    alice, bob = results["alice"], results["bob"]
    params = [dict(mu=0.6, nu=0.08, p=(0.7, 0.2, 0.1), eta_d=0.25, dark=1e-6, e_d=0.015),
              dict(mu=0.5, nu=0.1, p=(0.7, 0.2, 0.1), eta_d=0.2, dark=1e-5, e_d=0.02),
              dict(mu=0.5, nu=0.1, p=(0.8, 0.1, 0.1), eta_d=0.6, dark=1e-6, e_d=0.015)]
    for j, (length, p) in enumerate(zip(PER_HOP_LENGTHS, params, strict=True)):
        eta = 10 ** (-0.02 * length / 1e3) * p["eta_d"]
        gains = [expected_gain_qber(x, eta, p["dark"], p["e_d"])[0] for x in (p["mu"], p["nu"], 0.0)]
        expected = 6_000_000 * sum(pc * q for pc, q in zip(p["p"], gains, strict=True))
        owner = results[("alice", "t1", "t2")[j]]
        assert abs(owner.hops[j].detections - expected) < 4 * math.sqrt(expected)
    assert [app.hop(scenario, PER_HOP_ROLES, j).transmitter for j in range(3)] == ["left", "left", "right"]
    assert alice.key_length == min(alice.hop_lengths) > 0
    assert all(np.array_equal(r.key, alice.key) for r in results.values())
    assert alice.end_to_end_rate == min(alice.link_rates) and bob.link_rates == alice.link_rates


SATELLITE_TOML = '''
[simulation]
seed = 11

[hardware.ground]
memory_positions = 1
attempt_rate = "100 MHz"
detector_efficiency = 0.5
dark_count_probability = 1e-7

[[nodes]]
name = "x"
role = "end"
hardware = "ground"

[[nodes]]
name = "sat"
role = "end"
hardware = "ground"

[[nodes]]
name = "g"
role = "end"
hardware = "ground"

[[links]]
a = "sat"
b = "x"
type = "satellite_downlink"
length = "1200 km"

[links.satellite]
altitude = "500 km"
max_elevation = "50 deg"
min_elevation = "25 deg"
wavelength = "850 nm"
transmitter_aperture = "300 mm"
divergence = "10 urad"
time_step = "10 s"
[links.satellite.ground_station]
name = "X"
latitude = "40 deg"
longitude = "117 deg"
altitude = 900
aperture = "1 m"
zenith_transmittance = 0.8
extra_loss_db = 16

[[links]]
a = "sat"
b = "g"
type = "satellite_downlink"
length = "1200 km"
dark_count_probability = 3e-7

[links.satellite]
altitude = "500 km"
max_elevation = "40 deg"
min_elevation = "25 deg"
wavelength = "850 nm"
transmitter_aperture = "300 mm"
divergence = "10 urad"
time_step = "10 s"
[links.satellite.ground_station]
name = "G"
latitude = "47 deg"
longitude = "15 deg"
altitude = 500
aperture = "0.8 m"
zenith_transmittance = 0.8
extra_loss_db = 16

[application]
name = "trusted_relay"
roles = {west = "x", relay = "sat", east = "g"}

[application.params]
roles = ["west", "relay", "east"]
mu = 0.8
p_signal = 0.5
p_decoy = 0.25
p_vacuum = 0.25
misalignment = 0.01

[[application.params.hops]]
pulse_fraction = 0.05

[[application.params.hops]]
pulse_fraction = 0.05
start = "30 min"
detector_efficiency = 0.45
'''


@pytest.fixture(scope="module")
def satellite_relay(tmp_path_factory):
    from qstack.apps import make_application

    path = tmp_path_factory.mktemp("sat") / "relay.toml"
    path.write_text(SATELLITE_TOML)
    scenario = load_scenario(path)
    spec = scenario.application
    app = make_application(spec.name, spec.params, spec.roles)
    return scenario, app, spec.roles


def test_satellite_hops_from_toml_budget_is_the_links_pass_integral(satellite_relay):
    """A plain trusted_relay over two satellite_downlink links, all from TOML: each hop's analytic
    key is the scenario's own pass budget (scenario_key_budget, the hop's source; the second pass
    with its hop-level detector 0.45 and its link's dark counts 3e-7) to 1e-9; the relayed key is the
    shorter pass key."""
    from qstack.physical.satellite import downlink_key_budget, scenario_key_budget

    scenario, app, roles = satellite_relay
    budget = app.hop_budgets(scenario, roles)
    source = dict(mu=0.8, nu=0.1, p_signal=0.5, p_decoy=0.25, p_vacuum=0.25, repetition_rate=100e6,
                  misalignment=0.01)
    west = scenario_key_budget(scenario, "sat", "x", **source)
    east = downlink_key_budget(scenario.link("sat", "g").satellite, detector_efficiency=0.45,
                               dark_count_probability=3e-7, seed=11, **source)
    assert [h.kind for h in budget.hops] == ["satellite_downlink"] * 2
    assert budget.hops[0].secret_bits == pytest.approx(west.secret_bits, rel=1e-9)
    assert budget.hops[1].secret_bits == pytest.approx(east.secret_bits, rel=1e-9)
    assert budget.hops[0].duration == west.duration and budget.hops[1].duration == east.duration
    assert budget.relayed_bits == pytest.approx(min(west.secret_bits, east.secret_bits), rel=1e-9)
    assert budget.end_to_end_rate == min(west.mean_key_rate, east.mean_key_rate)


def test_satellite_hops_from_toml_relay_a_key_over_two_passes(satellite_relay):
    """Simulated with 5 % of the pulses: each pass detects budget.detections x 0.05 within 4 SE, the
    satellite sends on both hops, the second pass starts at its `start` (30 min), and the two ground
    stations end up with the satellite's relayed key."""
    from qstack.physical.satellite import downlink_key_budget

    scenario, app, roles = satellite_relay
    results = run_app(app, scenario, roles).results
    west, relay, east = results["west"], results["relay"], results["east"]
    assert relay.trusted and west.key_length == min(west.hop_lengths) > 0
    assert np.array_equal(west.key, east.key) and np.array_equal(west.key, relay.key)
    source = dict(mu=0.8, nu=0.1, p_signal=0.5, p_decoy=0.25, p_vacuum=0.25, repetition_rate=100e6,
                  misalignment=0.01, seed=11)
    for j, (ground, eta_d, dark) in enumerate((("x", 0.5, 1e-7), ("g", 0.45, 3e-7))):
        b = downlink_key_budget(scenario.link("sat", ground).satellite, detector_efficiency=eta_d,
                                dark_count_probability=dark, **source)
        expected = b.detections * 0.05
        assert app.hop(scenario, roles, j).transmitter == ("right", "left")[j]  # the satellite transmits
        assert abs(relay.hops[j].detections - expected) < 4 * math.sqrt(expected)
    assert relay.hops[1].started == pytest.approx(1800.0)
    assert relay.hops[0].started == 0.0


@pytest.mark.parametrize("hops, message", [
    ([{}], r"hops must have one entry per hop: 2 for roles"),
    ([{"mu": 0.5}, {"muu": 0.5}], r"hops\[1\]\.muu: unknown hop setting; allowed: .*detector_efficiency"),
    ([{"sender": "t9"}, {}], r"hops\[0\]\.sender: must be one of the hop's roles 'alice' or 't1'"),
    ([{"detector_efficiency": 1.5}, {}], r"hops\[0\]\.detector_efficiency"),
    ([{}, {"start": "-1 s"}], r"hops\[1\]\.start"),
    ([{}, {"nu": 0.9}], r"hops\[1\]: nu"),
    ("fast", r"hops must be a list of 2 tables"),
    ({"t1-t2": {}}, r"hops\.t1-t2: no such hop; name a hop by its index 0\.\.1 or its roles like alice-t1"),
    ({"0": {}, "alice-t1": {}}, r"hops\.alice-t1: hop 0 is given twice"),
])
def test_bad_hop_settings_name_the_hop_and_the_field(hops, message):
    with pytest.raises(ValueError, match=message):
        TrustedRelay(trusted=1, hops=hops)


def test_hops_may_be_named_by_role_pair_or_index():
    """A table of hops by role pair or index sets those hops; the others keep the relay's settings."""
    app = TrustedRelay(trusted=2, mu=0.4, hops={"t1-t2": {"mu": 0.7}, 2: {"nu": 0.05}})
    assert [p["settings"].mu for p in app.hop_params] == [0.4, 0.7, 0.4]
    assert [p["settings"].nu for p in app.hop_params] == [0.1, 0.1, 0.05]


def test_pulse_fraction_on_a_fibre_hop_is_refused_by_name():
    scenario = load_scenario(relay_chain([10e3, 10e3]))
    app = TrustedRelay(trusted=1, hops=[{"pulse_fraction": 0.5}, None])
    with pytest.raises(ValueError, match=r"hops\[0\]\.pulse_fraction: only applies to satellite_downlink hops"):
        app.hop_budgets(scenario, {"alice": "n0", "t1": "n1", "bob": "n2"})
