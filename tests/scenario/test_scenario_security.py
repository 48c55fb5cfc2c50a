"""The ``[security]`` table: a key file with the pre-shared key of every pair of endpoints."""

from __future__ import annotations

import json
import tomllib

import pytest

from qstack.network.network import QuantumNetwork
from qstack.runtime.sim import authenticated_pairs
from qstack.scenario import ScenarioError, linear_chain, load_scenario

PAIRS = authenticated_pairs(["n0", "n1"], [("n0", "n1")])


def write_keys(path, pairs=PAIRS):
    path.write_text(json.dumps({f"{a}|{b}": f"{i:02x}" * 32 for i, (a, b) in enumerate(pairs)}))


def toml_scenario(tmp_path, security: str) -> str:
    d = linear_chain(2, seed=3, duration="5 ms")
    lines = ["[simulation]", "seed = 3", 'duration = "5 ms"', "[hardware.default]",
             *(f"{k} = {json.dumps(v)}" for k, v in d["hardware"]["default"].items()),
             *(line for n in d["nodes"] for line in ("[[nodes]]", f'name = "{n["name"]}"', f'role = "{n["role"]}"')),
             "[[links]]", 'a = "n0"', 'b = "n1"', 'length = "10 km"',
             "[[requests]]", 'source = "n0"', 'destination = "n1"', security]
    text = "\n".join(lines)
    tomllib.loads(text)
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return str(path)


def test_the_key_file_is_found_relative_to_the_scenario_and_keys_every_channel(tmp_path):
    (tmp_path / "secrets").mkdir()
    write_keys(tmp_path / "secrets" / "keys.json")
    sc = load_scenario(toml_scenario(tmp_path, '[security]\nkeys = "secrets/keys.json"'))
    assert sc.security.keys == str(tmp_path / "secrets" / "keys.json")
    assert load_scenario(sc.to_dict()) == sc
    net = QuantumNetwork(sc)
    assert net.keys.source == sc.security.keys
    channels = [ch for rt in [*net.runtimes.values(), *(s.rt for s in net.stations.values())]
                for ch in rt.classical._channels.values()]
    assert channels and all(ch.sealer is not None for ch in channels)
    assert net.keys.key("n0", "n1") == bytes.fromhex("00" * 32)


def test_without_a_key_file_every_run_draws_fresh_keys():
    sc = load_scenario(linear_chain(2, seed=3, duration="5 ms"))
    a, b = QuantumNetwork(sc), QuantumNetwork(sc)
    assert sc.security.keys is None and "security" not in sc.to_dict()
    assert a.keys.source == "os-random" and a.keys.key("n0", "n1") != b.keys.key("n0", "n1")


@pytest.mark.parametrize(("setup", "message"), [
    (lambda p: None, "security.keys: key file '{path}': cannot be read"),
    (lambda p: p.write_text("[1, 2]"), "security.keys: key file '{path}': must hold an object"),
    (lambda p: p.write_text('{"n0|n1": "abcd"}'),
     "security.keys: PairKeys: key of 'n0', 'n1': a key must have at least"),
    (lambda p: write_keys(p, PAIRS[:1]), "security.keys: key file '{path}' has no key for 2 pair(s) of nodes that "
                                         "exchange classical messages: 'station:n0-n1|n0', 'station:n0-n1|n1'"),
])
def test_a_bad_key_file_is_a_scenario_error_naming_the_field(tmp_path, setup, message):
    path = tmp_path / "keys.json"
    setup(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(toml_scenario(tmp_path, '[security]\nkeys = "keys.json"'))
    assert message.format(path=path) in str(info.value)


def test_an_unknown_security_key_is_refused():
    d = linear_chain(2, seed=3, duration="5 ms")
    d["security"] = {"key": "keys.json"}
    with pytest.raises(ScenarioError, match=r"security\.key: unknown key"):
        load_scenario(d)
