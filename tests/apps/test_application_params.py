"""An application's name, parameters and roles are checked like the rest of a scenario: the
error names the field (``application.name``, ``application.params.<key>``,
``application.roles.<role>``), the value and what is allowed; ``qstack run`` exits 2 on them,
without a traceback, and exits 1 when a requested flow failed."""

from __future__ import annotations

import pytest

from qstack.apps import make_application
from qstack.cli import main


@pytest.mark.parametrize("name, params, roles, message", [
    ("telportation", {}, None,
     r"application\.name: unknown application 'telportation' \(did you mean 'teleportation'\?\)"),
    ("no-such-app", {}, None, r"application\.name: unknown application 'no-such-app'; registered: bb84, "),
    ("teleportation", {"state": []}, None,
     r"application\.params\.state: 'teleportation' has no parameter 'state' \(did you mean 'states'\?\); "
     r"its parameters: states, min_fidelity"),
    ("teleportation", {"states": 5}, None,
     r"application\.params: invalid parameters for 'teleportation' \(states = 5\)"),
    ("teleportation", {}, {"sender": "n0", "receiver": "n2", "eve": "n1"},
     r"application\.roles\.eve: 'teleportation' has no role 'eve'; its roles: sender, receiver"),
    ("teleportation", {}, {"sender": "n0"}, r"application\.roles: 'teleportation' needs a node for every role; "
                                            r"missing: receiver"),
])
def test_bad_application_specs_name_the_field_and_what_is_allowed(name, params, roles, message):
    with pytest.raises(ValueError, match=message):
        make_application(name, params, roles)


def test_dashes_and_underscores_name_the_same_application():
    assert make_application("trusted-relay").name == make_application("trusted_relay").name
    assert make_application("chsh_game").name == make_application("chsh-game").name


def _scenario(tmp_path, body: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text('''[simulation]
seed = 1
duration = "0.02 s"
[hardware.default]
memory_positions = 2
attempt_rate = "2 kHz"
raw_fidelity = 0.99
[[nodes]]
name = "a"
role = "end"
[[nodes]]
name = "r"
role = "repeater"
[[nodes]]
name = "b"
role = "end"
[[links]]
a = "a"
b = "r"
length = "10 km"
[[links]]
a = "r"
b = "b"
length = "10 km"
''' + body)
    return str(path)


def test_qstack_run_exits_2_naming_the_bad_application_parameter(tmp_path, capsys):
    f = _scenario(tmp_path, '[application]\nname = "teleportation"\n[application.roles]\nsender = "a"\n'
                            'receiver = "b"\n[application.params]\nstate = []\n')
    assert main(["run", f]) == 2
    err = capsys.readouterr().err
    assert "application.params.state: 'teleportation' has no parameter 'state'" in err
    assert "Traceback" not in err


def test_qstack_run_exits_1_when_a_requested_flow_failed(tmp_path, capsys):
    """min_fidelity 0.999 over two links of raw fidelity 0.99 is out of reach: the flow fails
    with UNSUPPORTED, the summary says so, and the exit status is 1 (0 for a served flow)."""
    bad = _scenario(tmp_path, '[[requests]]\nsource = "a"\ndestination = "b"\nmin_fidelity = 0.999\n')
    assert main(["run", bad]) == 1
    captured = capsys.readouterr()
    assert "UNSUPPORTED" in captured.out and "flow 1 (a → b) failed" in captured.err
    good = _scenario(tmp_path, '[[requests]]\nsource = "a"\ndestination = "b"\nmin_fidelity = 0.9\n')
    assert main(["run", good, "--json"]) == 0
