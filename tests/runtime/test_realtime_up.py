"""`qstack up` and its processes: BBM92 across processes, a node killed mid-run, a node restarted
at the state service, and what `up` refuses before starting anything.

Contracts: BBM92 as two role processes plus the state service, authenticated with a pre-shared
application key that `up` writes for both roles, gives the coincidence rate, sifting ratio and
QBER of the simulation kernel within 4 standard errors (same seed: the same random streams) and
equal keys at both ends; a node killed with SIGKILL mid-run ends the run within a bound with an
error naming it, every process exits and the survivors report their unfinished roles; a node that
comes back with a new incarnation loses its qubits at the state service (the partner keeps its
reduced state, I/2 for half of a Bell pair, to 1e-12) and any lease it held; a scenario without
[application], a key file lacking a pair of nodes, and an application needing a pre-shared key
that no one gives it are refused with errors naming the fix.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import trio

from qstack.runtime.auth import PairKeys

BBM92_TOML = """
[simulation]
seed = 7

[hardware.default]
memory_positions = 1
attempt_rate = "1 MHz"
emission_efficiency = 1.0
detector_efficiency = 0.5
dark_count_probability = 1e-6

[[nodes]]
name = "alice"
role = "end"

[[nodes]]
name = "bob"
role = "end"

[[links]]
a = "alice"
b = "bob"
length = "10 km"
{security}
[application]
name = "bbm92"

[application.roles]
alice = "alice"
bob = "bob"

[application.params]
mean_pair_number = 0.05
pulses = {pulses}
misalignment = 0.01
"""


def _bbm92_file(tmp_path: Path, pulses: int = 2_000_000, security: str = "") -> str:
    path = tmp_path / "bbm92.toml"
    path.write_text(BBM92_TOML.format(pulses=pulses, security=security))
    return str(path)


def _within(value: float, expected: float, se: float) -> None:
    assert abs(value - expected) <= 4 * se, (value, expected, se)


@pytest.mark.slow
def test_bbm92_as_real_processes_matches_the_simulation_kernel(tmp_path):
    """2e6 pulses, SPDC source mid-way on 10 km, mean pair number 0.05: coincidences per pulse,
    sifted bits per coincidence (1/2: equal bases) and the QBER agree with the simulation kernel
    within 4 SE; both processes hold the same key, authenticated with the key file `up` wrote."""
    from qstack.apps import run_app
    from qstack.apps.bb84 import BBM92
    from qstack.runtime.realtime.up import up
    from qstack.scenario import load_scenario

    path = _bbm92_file(tmp_path)
    scenario = load_scenario(path)
    sim = run_app(BBM92(**scenario.application.params), scenario, scenario.application.roles).results
    real = up(path, timeout=120, workdir=str(tmp_path))
    assert real.complete and not real.failures and real.error is None, (real.error, real.failures)
    assert all(code == 0 for code in real.exit_codes.values()), real.exit_codes  # clean, bounded shutdown
    alice, bob = real.results["alice"], real.results["bob"]
    assert alice.auth_key_source.startswith("file") and alice.rejected == {} and bob.rejected == {}
    assert alice.abort is None and alice.key_length > 0 and np.array_equal(alice.key, bob.key)
    ref = sim["alice"]
    p = ref.detections / ref.pulses
    _within(alice.detections / alice.pulses, p, math.sqrt(2 * p * (1 - p) / ref.pulses))
    n = ref.statistics.sifted[0]
    _within(alice.statistics.sifted[0] / alice.detections, n / ref.detections, math.sqrt(2 * 0.25 / ref.detections))
    e, k = ref.qber, ref.statistics.sample_size
    _within(alice.qber, e, math.sqrt(2 * e * (1 - e) / k))
    assert 0.01 < alice.qber < 0.11  # misalignment 1 % plus accidentals, below the threshold


@pytest.mark.slow
def test_a_node_killed_mid_run_ends_the_run_within_a_bound_with_a_clear_error(tmp_path):
    """BBM92 at scale 0.001 (its 0.02 s of pulses take 20 s of wall time): SIGKILL bob once it
    serves. `up` notices within its poll, names bob and how it ended, stops the others (SIGINT,
    bounded by grace) and collects alice's partial report: her role unfinished."""
    from qstack.runtime.realtime.up import up

    path = _bbm92_file(tmp_path)
    killed_at: list[float] = []

    def kill_bob_when_serving(procs):
        def killer():
            deadline = time.monotonic() + 60
            while not (tmp_path / "bob.ready").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
            os.kill(procs["bob"].pid, signal.SIGKILL)
            killed_at.append(time.monotonic())
        threading.Thread(target=killer, daemon=True).start()

    result = up(path, scale=0.001, timeout=120, grace=5.0, workdir=str(tmp_path), on_started=kill_bob_when_serving)
    ended = time.monotonic()
    assert killed_at and ended - killed_at[0] < 10.0  # noticed and shut down within a bound
    assert not result.complete and result.exited == {"bob": "was killed by SIGKILL"}
    assert "node 'bob' was killed by SIGKILL before every role finished" in result.error
    assert all(code is not None for code in result.exit_codes.values())  # every process ended
    assert result.exit_codes["alice"] == 0 and result.exit_codes["qserve"] == 0  # stopped cleanly
    alice = result.reports["alice"]
    assert alice["finished"] is False and alice["unfinished"] == ["alice"]
    assert "bob" in alice["transport"]["peers"] and result.service is not None


def test_a_restarted_node_loses_its_qubits_and_its_lease_at_the_state_service():
    """A Bell pair |Φ+⟩ shared by alice and bob at the service; alice holds the lease and has
    another request queued. Alice comes back with a new incarnation: the lease is void, her
    request dropped, her qubit traced out — bob's qubit is left in I/2 (to 1e-12)."""
    from qstack.apps.bb84 import example_link
    from qstack.quantum.core import adopt_state
    from qstack.quantum.states import BELL_KETS_NP
    from qstack.runtime.realtime.node import SERVICE, StateService
    from qstack.runtime.realtime.transport import Endpoint
    from qstack.scenario import load_scenario

    keys = PairKeys.generate(["alice", "bob", SERVICE])
    service = StateService(load_scenario(example_link("10 km")), keys)
    psi = BELL_KETS_NP[0]
    qa, qb = adopt_state(np.outer(psi, psi.conj()).astype(complex))
    service.mirror.register(qa, owner="alice")
    idb = service.mirror.register(qb, owner="bob")

    async def ignore(peer, d):
        pass

    async def main():
        async with trio.open_nursery() as nursery:
            port = await nursery.start(service.run, 0)
            async with trio.open_nursery() as first:
                a1 = Endpoint("alice", keys, ignore, addresses={SERVICE: ("127.0.0.1", port)})
                await first.start(a1.serve, 0)
                while not service.endpoint.peer("alice").connected:
                    await trio.sleep(0.005)
                service.holder = "alice"
                service._queue.append(("alice", 2))
                first.cancel_scope.cancel()  # alice dies holding the lease
            a2 = Endpoint("alice", keys, ignore, addresses={SERVICE: ("127.0.0.1", port)})  # restarted
            await nursery.start(a2.serve, 0)
            with trio.fail_after(10):
                while service.lost_qubits.get("alice") != 1:
                    await trio.sleep(0.005)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert service.restarts == {"alice": 1} and service.lost_qubits == {"alice": 1}
    assert service.holder is None and not service._queue
    np.testing.assert_allclose(service.mirror.qubits[idb].group.dm, np.eye(2) / 2, atol=1e-12)
    assert service.report()["lost_qubits"] == {"alice": 1}


def test_up_refuses_a_scenario_of_bare_requests_and_names_qstack_run(tmp_path):
    from qstack.runtime.realtime.up import UpError, prepare

    text = BBM92_TOML.format(pulses=1000, security="").split("[application]")[0]
    path = tmp_path / "requests.toml"
    path.write_text(text + '\n[[requests]]\nsource = "alice"\ndestination = "bob"\npairs = 3\n')
    with pytest.raises(UpError, match=r"only \[\[requests\]\] flows.*qstack run"):
        prepare(str(path))


def test_up_runs_the_same_memory_and_stage_checks_as_run_app(tmp_path):
    """Teleportation's sender holds 2 qubits at once: one memory position is refused, naming
    both numbers. With 4 positions but memories of t2 = 1 ns and links heralding fidelity 1/2 at
    best, the network reaches stage 1, and teleportation needs stage 3: StageError, as run_app."""
    from qstack.runtime.realtime.up import prepare
    from qstack.stages import StageError

    text = BBM92_TOML.format(pulses=1000, security="").split("[application]")[0]
    app = '[application]\nname = "teleportation"\n[application.roles]\nsender = "alice"\nreceiver = "bob"\n'
    path = tmp_path / "tele.toml"
    path.write_text(text + app)
    with pytest.raises(ValueError, match="holds 2 qubits at once but node 'alice' has 1 memory positions"):
        prepare(str(path))
    path.write_text(text.replace("memory_positions = 1", 'memory_positions = 4\nt2 = "1 ns"\nraw_fidelity = 0.5')
                    + app)
    with pytest.raises(StageError, match="needs stage 3 .* reaches stage 1"):
        prepare(str(path))


def test_the_scenarios_security_keys_are_honoured_and_service_pairs_added(tmp_path):
    """[security] keys names the node pairs' keys: the processes use exactly those, plus fresh
    keys for each node with the state service; a --keys file lacking a node pair is refused."""
    from qstack.runtime.realtime.up import UpError, transport_key_file
    from qstack.scenario import load_scenario

    keyfile = tmp_path / "net.keys.json"
    keyfile.write_text(json.dumps({"alice|bob": "ab" * 32, "alice|station:alice-bob": "cd" * 32,
                                   "bob|station:alice-bob": "ef" * 32}))
    scenario = load_scenario(_bbm92_file(tmp_path, security='\n[security]\nkeys = "net.keys.json"\n'))
    merged = PairKeys.from_file(transport_key_file(scenario, None, tmp_path))
    assert merged.key("alice", "bob") == bytes.fromhex("ab" * 32)
    assert ("alice", "qserve") in merged and merged.key("alice", "qserve") != merged.key("bob", "qserve")
    lacking = tmp_path / "lacking.json"
    lacking.write_text(json.dumps({"alice|qserve": "00" * 32}))
    with pytest.raises(UpError, match=r"--keys: .*no key for the pair\(s\) of nodes 'alice\|bob'"):
        transport_key_file(scenario, str(lacking), tmp_path)


def test_a_role_process_without_the_shared_application_key_is_refused(tmp_path):
    """BBM92 names no auth_key: one process would draw a fresh key per pair of roles, which two
    processes cannot share — the node refuses to start and says how to give one; given the same
    key file (--app-key, what `up` passes) it builds, the key read from that file."""
    from qstack.runtime.realtime.node import SERVICE, NodeProcess
    from qstack.runtime.realtime.up import application_key_bits
    from qstack.scenario import load_scenario

    scenario = load_scenario(_bbm92_file(tmp_path, pulses=1000))
    keys = PairKeys.generate(["alice", "bob", SERVICE])
    ports = {n: ("127.0.0.1", 1) for n in ("alice", "bob", SERVICE)}
    with pytest.raises(ValueError, match=r"cannot share it.*auth_key.*--app-key"):
        NodeProcess(scenario, "alice", keys, ports)
    key = tmp_path / "app.key"
    key.write_bytes(os.urandom(1024))
    node = NodeProcess(scenario, "alice", keys, ports, app_key=key)
    assert application_key_bits(node.app) is None and node.app.settings.preshared_key.source.startswith("file")


def _gone(pid: int) -> bool:
    """The process ended (absent, or a zombie waiting for its new parent to reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads process states from /proc")
def test_the_processes_stop_when_qstack_up_itself_is_killed(tmp_path):
    """SIGKILL the `up` process (no chance to shut anything down): its node and service
    processes notice they were re-parented and stop within a bound, leaving no orphans."""
    import subprocess
    import sys

    path = _bbm92_file(tmp_path)
    code = ("import sys; from qstack.runtime.realtime.up import up\n"
            "up(sys.argv[1], scale=0.001, timeout=120, workdir=sys.argv[2],\n"
            "   on_started=lambda procs: print(' '.join(str(p.pid) for p in procs.values()), flush=True))\n")
    parent = subprocess.Popen([sys.executable, "-c", code, path, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    children: list[int] = []
    try:
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 3
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"{n}.ready").exists() for n in ("alice", "bob")) and time.monotonic() < deadline:
            time.sleep(0.05)
        parent.kill()
        parent.wait()
        killed = time.monotonic()
        while not all(_gone(pid) for pid in children) and time.monotonic() - killed < 15:
            time.sleep(0.05)
        assert all(_gone(pid) for pid in children), "orphaned processes outlived qstack up"
        assert time.monotonic() - killed < 10.0
    finally:
        parent.kill()
        for pid in children:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
