"""``qstack up FILE``: the whole network as local processes — one per node plus the state service.

:func:`up` picks free loopback ports, writes a fresh key file (OS random, :meth:`PairKeys.generate`)
unless one is given, starts ``qstack qserve`` and ``qstack node serve NAME`` for every node with one
shared epoch, waits for the nodes that run roles of the scenario's application to report their
results, and shuts every process down: SIGINT first, SIGKILL for any still alive after
``grace`` seconds — so shutdown is bounded, Ctrl-C included.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["up", "free_ports", "UpResult"]


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (bound and released)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class UpResult:
    """What :func:`up` collected: per node its report (results, failures, counters), and whether
    it finished (``complete``) or was interrupted/timed out."""

    def __init__(self) -> None:
        self.reports: dict[str, dict[str, Any]] = {}
        self.complete = False
        self.interrupted = False
        self.exit_codes: dict[str, int | None] = {}
        self.wall_seconds = 0.0

    @property
    def results(self) -> dict[str, Any]:
        return {role: v for r in self.reports.values() for role, v in r["results"].items()}

    @property
    def failures(self) -> dict[str, str]:
        return {role: v for r in self.reports.values() for role, v in r["failures"].items()}


def up(scenario_file: str, *, scale: float = 1.0, keys: str | None = None, timeout: float = 60.0,
       grace: float = 5.0, startup: float = 1.5, workdir: str | None = None,
       on_started: Any = None) -> UpResult:
    """Run ``scenario_file``'s application as processes (see the module docstring)."""
    from qstack.runtime.auth import PairKeys
    from qstack.runtime.realtime.node import SERVICE
    from qstack.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    if scenario.application is None:
        raise ValueError(f"{scenario_file}: qstack up runs a scenario's [application]; this file has none")
    names = [n.name for n in scenario.nodes]
    role_nodes = set(scenario.application.roles.values())
    tmp = Path(workdir or tempfile.mkdtemp(prefix="qstack-up-"))
    if keys is None:
        keys = str(tmp / "keys.json")
        generated = PairKeys.generate([*names, SERVICE])
        pairs = {f"{a}|{b}": generated.key(a, b).hex() for i, a in enumerate(sorted([*names, SERVICE]))
                 for b in sorted([*names, SERVICE])[i + 1:]}
        fd = os.open(keys, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(pairs, fh)
    ports = dict(zip([SERVICE, *names], free_ports(len(names) + 1), strict=True))
    epoch = time.time() + startup
    common = ["--scenario", scenario_file, "--keys", keys, "--scale", repr(scale), "--epoch", repr(epoch),
              "--ports", ",".join(f"{k}={v}" for k, v in ports.items())]
    exe = [sys.executable, "-m", "qstack"]
    procs: dict[str, subprocess.Popen[bytes]] = {
        SERVICE: subprocess.Popen([*exe, "qserve", *common], start_new_session=True)}
    for name in names:
        procs[name] = subprocess.Popen([*exe, "node", "serve", name, *common, "--results",
                                        str(tmp / f"{name}.result")], start_new_session=True)
    if on_started is not None:
        on_started(procs)
    out = UpResult()
    wall0 = time.perf_counter()
    try:
        deadline = time.monotonic() + timeout + startup
        while time.monotonic() < deadline:
            for name in role_nodes - set(out.reports):
                path = tmp / f"{name}.result"
                if path.exists():
                    out.reports[name] = pickle.loads(path.read_bytes())  # noqa: S301 - our own child's file
            if len(out.reports) == len(role_nodes):
                out.complete = True
                break
            dead = [n for n in role_nodes if procs[n].poll() is not None and n not in out.reports]
            if dead and all(procs[n].poll() is not None for n in dead) and not any(
                    (tmp / f"{n}.result").exists() for n in dead):
                time.sleep(0.5)  # a restarted node may come back (tests restart it by hand)
            time.sleep(0.05)
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        out.wall_seconds = time.perf_counter() - wall0
        out.exit_codes = _shutdown(procs, grace)
    return out


def _shutdown(procs: dict[str, subprocess.Popen[bytes]], grace: float) -> dict[str, int | None]:
    """SIGINT every process, SIGKILL what is alive after ``grace`` s; their exit codes."""
    for p in procs.values():
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    end = time.monotonic() + grace
    for p in procs.values():
        try:
            p.wait(timeout=max(end - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    return {n: p.returncode for n, p in procs.items()}


def parse_ports(text: str) -> dict[str, tuple[str, int]]:
    """``"qserve=4000,n0=4001"`` → ``{"qserve": ("127.0.0.1", 4000), ...}`` (``name=host:port`` too)."""
    out: dict[str, tuple[str, int]] = {}
    for item in text.split(","):
        name, _, where = item.partition("=")
        host, _, port = where.rpartition(":")
        try:
            out[name] = (host or "127.0.0.1", int(port))
        except ValueError:
            raise ValueError(f"--ports: {item!r} is not name=port or name=host:port") from None
    return out


def run_process(scenario_file: str, name: str | None, keys_file: str, ports: str, *, scale: float = 1.0,
                epoch: float | None = None, results: str | None = None) -> int:
    """Run the state service (``name`` None) or node ``name`` until SIGINT/SIGTERM; exit code 0."""
    import trio

    from qstack.runtime.auth import PairKeys
    from qstack.runtime.realtime.node import SERVICE, serve_node, serve_state
    from qstack.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    keys = PairKeys.from_file(keys_file)
    addresses = parse_ports(ports)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    async def main() -> None:
        if name is None:
            await serve_state(scenario, keys, addresses[SERVICE][1], scale=scale, epoch=epoch)
        else:
            await serve_node(scenario, name, keys, addresses, scale=scale, epoch=epoch, results=results)

    try:
        trio.run(main)
    except* KeyboardInterrupt:  # SIGINT/SIGTERM: the nursery is cancelled, the process ends cleanly
        pass
    return 0
