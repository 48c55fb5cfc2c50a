"""``qstack up FILE``: the whole network as local processes — one per node plus the state service.

:func:`up` makes the checks :func:`~qstack.apps.run_app` makes (:func:`prepare`), picks free
loopback ports, resolves the transport's keys (:func:`transport_key_file`: ``--keys``, the
scenario's ``[security] keys``, or fresh OS-random ones), writes the application's pre-shared key
when it needs one and names none (:func:`application_key_bits`), starts ``qstack qserve`` and
``qstack node serve NAME`` for every node with one shared epoch, and waits for the nodes that run
roles of the scenario's application to report their results. A process that ends early ends the
run with an error naming it (the survivors report what they had not finished and what was never
acknowledged). Shutdown is bounded: SIGINT first, SIGKILL for any still alive after ``grace``
seconds, Ctrl-C included; and each process stops by itself when ``up`` is gone (``--parent``)."""

from __future__ import annotations

import json
import os
import pickle
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["up", "prepare", "free_ports", "UpResult", "UpError", "application_key_bits", "with_application_key",
           "transport_key_file"]


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


class UpError(ValueError):
    """A scenario :func:`up` cannot run, refused before any process starts (names what to change)."""


def application_key_bits(app: Any) -> int | None:
    """Bits of the fresh pre-shared key ``app`` would draw for its authenticated messages because
    it names none (its ``auth_key`` parameter unset), or None (it names one, or authenticates
    nothing). One process draws such a key for both roles; separate processes cannot share it.

    >>> from qstack.apps.bb84 import BBM92
    >>> application_key_bits(BBM92(pulses=1000)), application_key_bits(BBM92(pulses=1000, auth_key={"hex": "ab" * 512}))
    (8192, None)
    """
    for holder in (getattr(app, "settings", None), app):
        if holder is not None and hasattr(holder, "preshared_key"):
            if holder.preshared_key is not None:
                return None
            bits = getattr(holder, "fresh_key_bits", None)
            if bits is None:
                bits = getattr(holder, "auth_key_bits", None)
            return int(bits) if bits is not None else None
    return None


def with_application_key(params: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """``params`` naming the key file ``path`` as the application's ``auth_key`` (as a user's
    ``auth_key = {file = ...}`` would; ``auth_key_bits``, the size of a fresh key, dropped).

    >>> with_application_key({"pulses": 10, "auth_key_bits": 4096}, "/run/app.key")
    {'pulses': 10, 'auth_key': {'file': '/run/app.key'}}
    """
    out = {k: v for k, v in params.items() if k != "auth_key_bits"}
    out["auth_key"] = {"file": str(path)}
    return out


def _private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by this user only (keys)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def transport_key_file(scenario: Any, keys: str | None, workdir: Path) -> str:
    """The key file the processes authenticate with: ``keys``, else the scenario's
    ``[security] keys``, else fresh OS-random keys (written to ``workdir``, mode 0600).

    A named file must hold a key for every pair of nodes (``UpError`` names the missing pairs);
    the pairs of each node with the state service (``qserve|<node>``), which a scenario's key file
    need not have, get fresh OS-random keys, merged into a copy in ``workdir``.
    """
    from qstack.runtime.auth import KEY_BYTES, PairKeys
    from qstack.runtime.realtime.node import SERVICE

    names = sorted(n.name for n in scenario.nodes)
    source = keys if keys is not None else getattr(getattr(scenario, "security", None), "keys", None)
    data: dict[str, str] = {}
    if source is not None:
        where = "--keys" if keys is not None else "security.keys"
        try:
            named = PairKeys.from_file(source)
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (ValueError, TypeError) as exc:
            raise UpError(f"{where}: {exc}") from None
        missing = [f"{a}|{b}" for i, a in enumerate(names) for b in names[i + 1:] if (a, b) not in named]
        if missing:
            raise UpError(f"{where}: key file {str(source)!r} has no key for the pair(s) of nodes "
                          f"{', '.join(map(repr, missing[:6]))}{' and more' if len(missing) > 6 else ''}; every pair "
                          "of nodes exchanges classical messages in a real-time run")
        service_missing = [n for n in names if (n, SERVICE) not in named]
        if not service_missing:
            return str(source)
    else:
        service_missing = names
        data = {f"{a}|{b}": secrets.token_hex(KEY_BYTES) for i, a in enumerate(names) for b in names[i + 1:]}
    for n in service_missing:
        data[f"{n}|{SERVICE}"] = secrets.token_hex(KEY_BYTES)
    path = workdir / "keys.json"
    _private_file(path, json.dumps(data).encode())
    return str(path)


class UpResult:
    """What :func:`up` collected: per node its report (``results``, ``failures``, ``finished``,
    ``unfinished`` roles, transport counters — ``unacked`` frames to a peer are what it lost),
    the state service's report (``service``: restarts, ``lost_qubits`` per node, refusals), whether
    every role finished (``complete``), and otherwise why not (``error``; ``exited``: the
    processes that ended early and how, ``interrupted``: Ctrl-C)."""

    def __init__(self) -> None:
        self.reports: dict[str, dict[str, Any]] = {}
        self.service: dict[str, Any] | None = None
        self.complete = False
        self.interrupted = False
        self.error: str | None = None
        self.exited: dict[str, str] = {}
        self.exit_codes: dict[str, int | None] = {}
        self.wall_seconds = 0.0

    @property
    def results(self) -> dict[str, Any]:
        return {role: v for r in self.reports.values() for role, v in r["results"].items()}

    @property
    def failures(self) -> dict[str, str]:
        return {role: v for r in self.reports.values() for role, v in r["failures"].items()}

    def lost(self) -> dict[str, dict[str, int]]:
        """Per surviving node, per peer that ended early: the frames it sent that were never
        acknowledged (and the frames lost to peer restarts)."""
        out: dict[str, dict[str, int]] = {}
        for name, report in self.reports.items():
            for peer, c in report.get("transport", {}).get("peers", {}).items():
                if peer in self.exited or c.get("lost"):
                    out.setdefault(name, {})[peer] = c["unacked"] + c["lost"]
        return out


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def prepare(scenario_file: str) -> tuple[Any, Any]:
    """Load ``scenario_file`` and build its application, with the checks :func:`run_app` makes
    (every role on a node, memory for its qubits, the network's stage); ``(scenario, app)``.

    Raises :class:`UpError` for a file with no ``[application]`` (bare ``[[requests]]`` flows
    run in the simulation: ``qstack run``), ``ValueError``/``ScenarioError`` and
    :class:`~qstack.stages.StageError` as ``qstack run`` does.
    """
    from qstack.apps import make_application
    from qstack.apps.runtime import check_application
    from qstack.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    if scenario.application is None:
        raise UpError(f"{scenario_file}: qstack up runs a scenario's [application] as processes; this file has "
                      "only [[requests]] flows, which the real-time runtime does not run — run them with "
                      f"`qstack run {scenario_file}`, or add an [application]")
    spec = scenario.application
    app = make_application(spec.name, spec.params, spec.roles)
    check_application(app, scenario, spec.roles)
    bits = application_key_bits(app)
    if bits is not None and len(app.roles) > 2:
        raise UpError(f"application {spec.name!r} authenticates its messages with a fresh pre-shared key per pair "
                      f"of its {len(app.roles)} roles; qstack up provides one key for one pair — name each "
                      "pair's key in [application.params] auth_key")
    return scenario, app


def up(scenario_file: str, *, scale: float = 1.0, keys: str | None = None, timeout: float = 60.0,
       grace: float = 5.0, startup: float = 1.5, workdir: str | None = None,
       on_started: Any = None) -> UpResult:
    """Run ``scenario_file``'s application as processes (see the module docstring).

    ``keys``: the transport's key file (default the scenario's ``[security] keys``, else fresh,
    :func:`transport_key_file`). An application that authenticates its own messages with a
    pre-shared key but names none (:func:`application_key_bits`) gets one fresh OS-random key
    file, written here (mode 0600) and named to every role process as its ``auth_key.file``.
    ``on_started(procs)`` is called with the started processes (name → ``Popen``). Any process
    ending before every role finished ends the run (``error`` says which and how); a run not
    finished in ``timeout`` wall seconds ends too; shutdown is bounded by ``grace``.
    """
    from qstack.runtime.realtime.node import SERVICE

    scenario, app = prepare(scenario_file)
    names = [n.name for n in scenario.nodes]
    role_nodes = set(scenario.application.roles.values())
    tmp = Path(workdir or tempfile.mkdtemp(prefix="qstack-up-"))
    keys = transport_key_file(scenario, keys, tmp)
    app_key: list[str] = []
    bits = application_key_bits(app)
    if bits is not None:
        path = tmp / "application.key"
        _private_file(path, secrets.token_bytes((bits + 7) // 8))
        app_key = ["--app-key", str(path)]
    ports = dict(zip([SERVICE, *names], free_ports(len(names) + 1), strict=True))
    epoch = time.time() + startup
    common = ["--scenario", scenario_file, "--keys", keys, "--scale", repr(scale), "--epoch", repr(epoch),
              "--ports", ",".join(f"{k}={v}" for k, v in ports.items()), "--parent", str(os.getpid())]
    exe = [sys.executable, "-m", "qstack"]
    files = {name: tmp / f"{name}.result" for name in [SERVICE, *names]}
    procs: dict[str, subprocess.Popen[bytes]] = {
        SERVICE: subprocess.Popen([*exe, "qserve", *common, "--results", str(files[SERVICE])],
                                  start_new_session=True)}
    for name in names:
        procs[name] = subprocess.Popen([*exe, "node", "serve", name, *common, *app_key, "--results",
                                        str(files[name])], start_new_session=True)
    if on_started is not None:
        on_started(procs)
    out = UpResult()
    wall0 = time.perf_counter()
    try:
        deadline = time.monotonic() + timeout + startup
        while True:
            for name in role_nodes - set(out.reports):
                report = _read_report(files[name])
                if report is not None and report.get("finished"):
                    out.reports[name] = report
            if len(out.reports) == len(role_nodes):
                out.complete = True
                break
            for name, p in procs.items():
                if p.poll() is not None:
                    out.exited[name] = _describe_exit(p.returncode)
            if out.exited:
                which = "; ".join(f"{'the state service' if n == SERVICE else f'node {n!r}'} {why}"
                                  for n, why in out.exited.items())
                out.error = f"{which} before every role finished; the run was stopped"
                break
            if time.monotonic() > deadline:
                out.error = f"not every role finished within {timeout:g} s; the run was stopped"
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        out.interrupted = True
        out.error = "interrupted; every process was stopped"
    finally:
        out.wall_seconds = time.perf_counter() - wall0
        out.exit_codes = _shutdown(procs, grace)
        for name in names:  # what every node reported when it stopped (partial for the unfinished)
            report = _read_report(files[name])
            if report is not None and (name not in out.reports or name in role_nodes and not out.complete):
                out.reports[name] = report
        out.service = _read_report(files[SERVICE])
    return out


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        return pickle.loads(path.read_bytes())  # noqa: S301 - our own child's file, written atomically
    except (OSError, EOFError, pickle.UnpicklingError):
        return None


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


def run_process(scenario_file: str, name: str | None, keys_file: str | None, ports: str, *, scale: float = 1.0,
                epoch: float | None = None, results: str | None = None, app_key: str | None = None,
                parent: int | None = None) -> int:
    """Run the state service (``name`` None) or node ``name`` until SIGINT/SIGTERM; exit code 0.

    ``keys_file``: the transport's key file (None: the scenario's ``[security] keys``);
    ``app_key``: the application's pre-shared key file (:func:`with_application_key`);
    ``results``: where the process writes its report — when its roles finish and when it stops;
    ``parent``: the pid of the process that started this one (``qstack up``) — when it is gone
    (this process re-parented), this one stops too, so no orphan outlives a killed ``up``.
    Raises ``ValueError`` (before serving) for missing keys or an application that needs a
    pre-shared key and has none.
    """
    import trio

    from qstack.runtime.auth import PairKeys
    from qstack.runtime.realtime.node import SERVICE, NodeProcess, StateService
    from qstack.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    if keys_file is None:
        keys_file = getattr(getattr(scenario, "security", None), "keys", None)
        if keys_file is None:
            raise ValueError("--keys: no key file given and the scenario names none in [security] keys; every "
                             "process of a run must hold the same pre-shared keys")
    keys = PairKeys.from_file(keys_file)
    addresses = parse_ports(ports)
    missing = sorted({SERVICE, *(n.name for n in scenario.nodes)} - set(addresses))
    if missing:
        raise ValueError(f"--ports: no address for {', '.join(map(repr, missing))}")
    # built before serving, so bad input (keys, application parameters) ends the process at once
    process: Any = (StateService(scenario, keys, scale=scale, epoch=epoch) if name is None else
                    NodeProcess(scenario, name, keys, addresses, scale=scale, epoch=epoch, app_key=app_key))
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            if parent is not None:
                nursery.start_soon(_exit_with_parent, parent, nursery.cancel_scope)
            await process.run(addresses[name or SERVICE][1], results)

    try:
        trio.run(main)
    except* KeyboardInterrupt:  # SIGINT/SIGTERM: the nursery is cancelled, the process ends cleanly
        pass
    return 0


async def _exit_with_parent(parent: int, scope: Any) -> None:
    """Cancel ``scope`` once this process's parent is no longer ``parent`` (it died)."""
    import trio

    while os.getppid() == parent:
        await trio.sleep(0.25)
    scope.cancel()
