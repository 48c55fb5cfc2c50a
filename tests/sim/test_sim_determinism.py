"""Determinism of qstack.sim: one scenario and seed give a bit-identical trace, every time."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from qstack.sim import Cancelled, Mailbox, Node, Signal, Simulation, Timeout, connect

REPO_ROOT = Path(__file__).resolve().parents[2]

Trace = list[tuple[str, str, object]]


def scenario(seed: int) -> Trace:
    """A busy mixed scenario: messaging nodes, a shared signal, a job mailbox, joins and cancels.

    Returns a trace of (time as float.hex, actor, value) for every observable step.
    """
    sim = Simulation(seed=seed)
    trace: Trace = []

    def log(actor: str, value: object) -> None:
        trace.append((sim.now.hex(), actor, value))

    names = [f"node-{i}" for i in range(6)]
    nodes = [Node(sim, name) for name in names]
    wiring = sim.rng("topology")
    for i, node in enumerate(nodes):  # a ring plus chords, delays drawn from a stream
        connect(node, nodes[(i + 1) % len(nodes)], delay=float(wiring.uniform(1e-4, 1e-3)))
        if i % 2 == 0:
            connect(node, nodes[(i + 3) % len(nodes)], delay=float(wiring.uniform(1e-4, 1e-3)))

    alarm = Signal(sim, "alarm")
    jobs = Mailbox(sim, "jobs")

    async def talker(node: Node) -> int:
        rng = node.rng("talker")
        sent = 0
        for _ in range(25):
            await sim.sleep(float(rng.exponential(2e-4)))
            peer = node.peers[int(rng.integers(len(node.peers)))]
            payload = rng.bytes(int(rng.integers(1, 64)))
            node.send(peer, payload)
            sent += 1
            if rng.random() < 0.1:
                alarm.fire((node.name, sent))
            if rng.random() < 0.2:
                jobs.put((node.name, float(rng.random())))
        return sent

    async def listener(node: Node) -> None:
        while True:
            try:
                src, payload = await node.receive(timeout=2e-3)
            except Timeout:
                log(node.name, "idle")
                return
            log(node.name, (src, len(payload), hashlib.sha256(payload).hexdigest()[:8]))

    async def watcher(index: int) -> None:
        rng = sim.rng("watcher", str(index))
        for _ in range(6):
            try:
                value = await alarm.wait(timeout=float(rng.uniform(1e-4, 1e-3)))
                log(f"watcher-{index}", value)
            except Timeout:
                log(f"watcher-{index}", "timeout")

    async def worker(index: int) -> int:
        done = 0
        rng = sim.rng("worker", str(index))
        try:
            while True:
                origin, weight = await jobs.get(timeout=3e-3)
                await sim.sleep(weight * 1e-4 + float(rng.random()) * 1e-5)
                log(f"worker-{index}", (origin, weight))
                done += 1
        except Timeout:
            return done

    async def supervisor() -> None:
        talkers = [sim.spawn(talker(node), name=f"talk-{node.name}") for node in nodes]
        workers = [sim.spawn(worker(i), name=f"worker-{i}") for i in range(3)]
        doomed = sim.spawn(watcher(99), name="doomed")
        await sim.sleep(5e-4)
        doomed.cancel()
        try:
            await doomed
        except Cancelled:
            log("supervisor", "doomed cancelled")
        totals = [await t for t in talkers]
        log("supervisor", ("sent", totals))
        log("supervisor", ("jobs", [await w for w in workers]))

    for node in nodes:
        sim.spawn(listener(node), name=f"listen-{node.name}")
    for i in range(8):
        sim.spawn(watcher(i), name=f"watcher-{i}")
    sim.spawn(supervisor(), name="supervisor")
    sim.run()
    log("end", (sim.events_processed, [node.stats.bytes_sent for node in nodes]))
    return trace


def test_same_seed_gives_bit_identical_trace() -> None:
    """Running the scenario twice with one seed gives the same trace, times compared bit for bit."""
    first = scenario(seed=2024)
    second = scenario(seed=2024)
    assert len(first) > 200  # the scenario is busy
    assert first == second


def test_different_seed_gives_different_trace() -> None:
    """Another seed changes the trace."""
    assert scenario(seed=2024) != scenario(seed=2025)


def test_trace_is_identical_across_python_processes_and_hash_seeds() -> None:
    """The trace digest is the same in fresh interpreters with different PYTHONHASHSEED values."""
    code = (
        "import hashlib, sys; sys.path.insert(0, 'tests/sim');"
        "from test_sim_determinism import scenario;"
        "print(hashlib.sha256(repr(scenario(7)).encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("0", "4242"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
            env={"PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO_ROOT)},
        )
        digests.add(result.stdout.strip())
    assert digests == {hashlib.sha256(repr(scenario(7)).encode()).hexdigest()}
