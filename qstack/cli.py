"""The ``qstack`` command line.

``qstack demo [--seed N] [--json]`` runs the built-in repeater demo (:mod:`qstack.demo`) and
prints a Bell pair's fidelity after heralding, storage, a swap and a teleportation.
``qstack run FILE [--json] [--seed N]`` runs a scenario file (:mod:`qstack.scenario`) and prints
a summary table or one JSON object (keys in README.md); a file with an ``[application]`` table
runs that application's roles instead. ``qstack stages FILE`` prints the stage of the quantum
internet the file's network reaches and what the next stage misses. ``qstack report FILE``
writes one self-contained HTML page about a scenario (:mod:`qstack.report`). ``qstack examples [DEST]``
copies the example scenarios (``examples/``, ``stages/``) into DEST, so that they can be run
after a ``pip install`` as in a clone (:mod:`qstack.bundled`).

Conventions: ``qstack --version``; ``python -m qstack`` is the same command; ``--output FILE``
(``demo``, ``run``, ``stages``) writes what would be printed on stdout to FILE instead; errors
name the file once, then what is wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["DISTRIBUTION", "main", "version"]

#: the name qstack is installed under (``pip install qstack-qnet``); the import name is ``qstack``
DISTRIBUTION = "qstack-qnet"


def version() -> str:
    """The installed distribution's version, or ``qstack.__version__`` when it is not installed.

    >>> import qstack
    >>> version() == qstack.__version__
    True
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        import qstack

        return qstack.__version__


class _VersionAction(argparse.Action):
    """``--version``: looks the version up only when asked (the metadata read costs start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def _load_error(command: str, file: str, exc: Exception) -> str:
    """One error line naming the file once: a :class:`~qstack.scenario.ScenarioError` read from a
    file already starts with the file's name, an ``OSError`` says only what went wrong."""
    from qstack.scenario import ScenarioError

    if isinstance(exc, ScenarioError) and exc.source is not None:
        return f"qstack {command}: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"qstack {command}: {file}: {exc.strerror}"
    return f"qstack {command}: {file}: {exc}"


def _demo(args: argparse.Namespace) -> int:
    from qstack.demo import DemoParameters, run_demo
    from qstack.quantum import single_threaded_blas

    with single_threaded_blas():
        r = run_demo(seed=args.seed)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    p = DemoParameters()
    print(f"qstack demo — alice ─{p.link_length / 1e3:g} km─ repeater ─{p.link_length / 1e3:g} km─ bob "
          f"(Barrett–Kok heralding, T1={p.t1:g} s, T2={p.t2:g} s memories), seed {r['seed']}")
    rows = [
        ("heralding success probability per attempt", f"{r['heralding_success_probability']:.4g}"),
        ("attempts: alice–repeater / repeater–bob",
         f"{r['attempts_alice_repeater']} / {r['attempts_repeater_bob']}"),
        ("heralded pair fidelity (incl. herald wait)", f"{r['heralded_fidelity']:.6f}"),
        (f"stored pair fidelity after {r['storage_time'] * 1e3:.2f} ms in memory", f"{r['stored_pair_fidelity']:.6f}"),
        (f"end-to-end fidelity after the swap (t = {r['end_to_end_time'] * 1e3:.3f} ms)",
         f"{r['end_to_end_fidelity']:.6f}"),
        ("teleported |+⟩ fidelity", f"{r['teleported_fidelity']:.6f}"),
        ("  Werner reference (2F + 1)/3 of the end-to-end pair", f"{r['teleported_fidelity_werner_reference']:.6f}"),
        ("events / wall time", f"{r['events']} / {r['wall_seconds'] * 1e3:.1f} ms"),
    ]
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"  {a:<{width}}  {b}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from qstack.network.runner import run_scenario
    from qstack.scenario import ScenarioError, load_scenario

    if args.file is None:
        from importlib.resources import as_file, files

        with as_file(files("qstack") / "data" / "default_chain.toml") as path:
            args.file = str(path)
            return _run(args)
    if args.records is not None and not args.records.endswith((".csv", ".parquet")):
        print(f"qstack run: --records {args.records}: the file must end in .csv or .parquet", file=sys.stderr)
        return 2  # refused before running, so no run is lost
    try:
        scenario = load_scenario(args.file)
    except (ScenarioError, OSError) as exc:
        print(_load_error("run", args.file, exc), file=sys.stderr)
        return 2
    if args.seed is not None:
        from dataclasses import replace

        scenario = replace(scenario, simulation=replace(scenario.simulation, seed=args.seed))
    if scenario.application is not None:
        return _run_application(scenario, args)
    result = run_scenario(scenario, progress=not args.json, record=args.records is not None)
    if args.records is not None:
        rows = result.pop("records")
        if not _write_records(rows, args.records):
            return 2
    failed = [f for f in result["flows"] if f["failed"]]
    status = 1 if failed else 0  # a requested flow that failed is not a successful run
    if result.get("interrupted"):
        print(f"qstack run: interrupted at {result['simulated_time']:.6g} s simulated; the results so far follow",
              file=sys.stderr)
        status = 130
    if args.json:
        print(_dump_run("network", result))
        return status
    print(format_summary(result))
    for f in failed:
        print(f"qstack run: flow {f['flow_id']} ({f['source']} → {f['destination']}) failed: {f['failed']}",
              file=sys.stderr)
    return status


def _run_application(scenario: Any, args: argparse.Namespace) -> int:
    from qstack.apps import make_application, run_app
    from qstack.stages import StageError

    spec = scenario.application
    try:
        app = make_application(spec.name, spec.params, spec.roles)
    except ValueError as exc:  # names the field, like the scenario's other errors
        print(f"qstack run: {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_app(app, scenario, spec.roles, record=args.records is not None, progress=not args.json)
    except (ValueError, TypeError) as exc:
        print(f"qstack run: {args.file}: application {spec.name!r}: {exc}", file=sys.stderr)
        return 2
    except StageError as exc:
        print(f"qstack run: {args.file}: {exc}", file=sys.stderr)
        return 3
    except RuntimeError as exc:  # a role failed at run time (e.g. its EPR pairs' flow failed): the run's result
        print(f"qstack run: {args.file}: application {spec.name!r} failed: {exc}", file=sys.stderr)
        return 1
    if args.records is not None and not _write_records(result.records or [], args.records):
        return 2
    out = {
        "application": spec.name, "roles": dict(spec.roles), "seed": scenario.simulation.seed,
        "results": {role: _jsonable(v) for role, v in result.results.items()},
        "simulated_time": result.simulated_time, "wall_seconds": result.wall_seconds,
        "messages": result.messages, "summary": _jsonable(app.summary(result.results) or {}),
    }
    if args.json:
        print(_dump_run("application", out))
    else:
        print(f"application {spec.name} (seed {out['seed']}): {result.simulated_time:.6g} s simulated "
              f"in {result.wall_seconds:.3f} s wall")
        for role, value in out["results"].items():
            text = str(value)
            print(f"  {role} on {spec.roles[role]}: {text if len(text) <= 300 else text[:297] + '...'}")
        if out["summary"]:
            for key, value in out["summary"].items():
                print(f"  {key}: {value}")
    return 0


def _write_records(rows: list, path: str) -> bool:
    """Write per-pair rows to ``path`` (CSV, or Parquet for ``.parquet``); report on stderr."""
    from qstack.recorder import write_records

    try:
        write_records(rows, path)
    except (OSError, RuntimeError) as exc:
        print(f"qstack run: --records {path}: {exc}", file=sys.stderr)
        return False
    print(f"wrote {len(rows)} per-pair records to {path}", file=sys.stderr)
    return True


#: the version of ``qstack run --json``'s output (docs/schema/run-output.schema.json)
RUN_SCHEMA = "qstack.run/1"


def _dump_run(kind: str, out: dict[str, Any]) -> str:
    """One run's JSON object, schema :data:`RUN_SCHEMA`: ``schema`` and ``kind`` keys added,
    undefined numbers (NaN, ±inf) written as null so strict parsers read it."""
    body = {"schema": RUN_SCHEMA, "kind": kind, **_jsonable(out)}
    return json.dumps(body, sort_keys=True, allow_nan=False)


def _jsonable(value: Any) -> Any:
    """Results as strict JSON: numbers, strings, lists and dicts pass (NaN and ±inf become None);
    bytes become hex, numpy values lists, dataclasses dicts; others repr()."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _jsonable(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}
    return repr(value)


def _stages(args: argparse.Namespace) -> int:
    from qstack.scenario import ScenarioError, load_scenario
    from qstack.stages import network_stage

    try:
        scenario = load_scenario(args.file)
    except (ScenarioError, OSError) as exc:
        print(_load_error("stages", args.file, exc), file=sys.stderr)
        return 2
    print(network_stage(scenario).explain())
    return 0


def _add_realtime_commands(sub: Any) -> None:
    """``qstack up``, ``qstack qserve`` and ``qstack node serve`` (the real-time runtime)."""
    procs = argparse.ArgumentParser(add_help=False)
    procs.add_argument("--scenario", required=True, help="scenario file (TOML)")
    procs.add_argument("--keys", default=None, help='pre-shared key file (JSON {"a|b": hex key}; default: the '
                                                    "scenario's [security] keys)")
    procs.add_argument("--ports", required=True, help="every process's address: qserve=PORT,n0=PORT,... (or host:port)")
    procs.add_argument("--scale", type=float, default=1.0, help="network seconds per wall second (default 1)")
    procs.add_argument("--epoch", type=float, default=None, help="wall-clock time.time() of network time 0")
    procs.add_argument("--parent", type=int, default=None, help="stop when the process with this pid (the one "
                                                                "that started this one) is gone")
    qserve = sub.add_parser("qserve", help="run the quantum-state service of a real-time network", parents=[procs])
    qserve.add_argument("--results", default=None, help="where to write the service's report when it stops (pickle)")
    qserve.set_defaults(func=_qserve)
    node = sub.add_parser("node", help="real-time nodes")
    node_sub = node.add_subparsers(dest="node_command", required=True)
    serve = node_sub.add_parser("serve", help="run one node of a scenario as this process", parents=[procs])
    serve.add_argument("name", help="the node's name in the scenario")
    serve.add_argument("--results", default=None, help="where to write this node's role results (pickle)")
    serve.add_argument("--app-key", default=None, help="the application's pre-shared key file, given to it as "
                                                       "auth_key.file (the same file for every role process)")
    serve.set_defaults(func=_node_serve)
    up = sub.add_parser("up", help="run a scenario's application as real processes on loopback (one per node "
                                   "plus the quantum-state service)")
    up.add_argument("file", help="scenario file with an [application] table")
    up.add_argument("--scale", type=float, default=1.0, help="network seconds per wall second (default 1)")
    up.add_argument("--keys", default=None, help="pre-shared key file (default: the scenario's [security] keys, "
                                                 "else fresh keys from the OS random source)")
    up.add_argument("--timeout", type=float, default=120.0, help="give up after this many wall seconds (default 120)")
    up.add_argument("--json", action="store_true", help="print one JSON object")
    up.set_defaults(func=_up)


def _qserve(args: argparse.Namespace) -> int:
    return _serve_process("qserve", args, None)


def _node_serve(args: argparse.Namespace) -> int:
    return _serve_process("node serve", args, args.name)


def _serve_process(command: str, args: argparse.Namespace, name: str | None) -> int:
    from qstack.runtime.realtime.up import run_process
    from qstack.scenario import ScenarioError

    try:
        return run_process(args.scenario, name, args.keys, args.ports, scale=args.scale, epoch=args.epoch,
                           results=args.results, app_key=getattr(args, "app_key", None), parent=args.parent)
    except (ScenarioError, OSError, ValueError, TypeError, KeyError) as exc:
        print(_load_error(command, args.scenario, exc), file=sys.stderr)
        return 2


def _up(args: argparse.Namespace) -> int:
    from qstack.runtime.realtime.up import UpError, prepare, up
    from qstack.scenario import ScenarioError
    from qstack.stages import StageError

    if not (args.scale > 0 and math.isfinite(args.scale)):
        print(f"qstack up: --scale must be a finite number > 0, got {args.scale}", file=sys.stderr)
        return 2
    try:
        scenario, app = prepare(args.file)
        spec = scenario.application
        result = up(args.file, scale=args.scale, keys=args.keys, timeout=args.timeout)
    except UpError as exc:
        print(f"qstack up: {exc}", file=sys.stderr)
        return 2
    except StageError as exc:
        print(f"qstack up: {args.file}: {exc}", file=sys.stderr)
        return 3
    except (ScenarioError, OSError, ValueError, TypeError) as exc:
        print(_load_error("up", args.file, exc), file=sys.stderr)
        return 2
    for role, why in result.failures.items():
        print(f"qstack up: role {role!r} failed: {why}", file=sys.stderr)
    if result.error is not None:
        print(f"qstack up: {result.error}", file=sys.stderr)
        for node, peers in result.lost().items():
            for peer, frames in peers.items():
                print(f"qstack up: {node} lost {frames} message(s) to {peer}", file=sys.stderr)
        for node, count in (result.service or {}).get("lost_qubits", {}).items():
            print(f"qstack up: the state service discarded {count} qubit(s) of restarted node {node}",
                  file=sys.stderr)
    results = {role: result.results[role] for role in app.roles if role in result.results}
    sim_time = max((r["simulated_time"] for r in result.reports.values()), default=0.0)
    out = {
        "application": spec.name, "roles": dict(spec.roles), "seed": scenario.simulation.seed,
        "results": {role: _jsonable(v) for role, v in results.items()},
        "simulated_time": sim_time, "wall_seconds": result.wall_seconds,
        "messages": {n: r["messages_sent"] for n, r in result.reports.items()},
        "summary": _jsonable(app.summary(results) or {}) if result.complete and not result.failures else {},
    }
    if args.json:
        print(_dump_run("application", out))
    else:
        print(f"application {spec.name} (seed {out['seed']}): {sim_time:.6g} s network time "
              f"in {result.wall_seconds:.3f} s wall (real processes)")
        for role, value in out["results"].items():
            text = str(value)
            print(f"  {role} on {spec.roles[role]}: {text if len(text) <= 300 else text[:297] + '...'}")
        for key, value in out["summary"].items():
            print(f"  {key}: {value}")
    if result.interrupted:
        return 130
    return 0 if result.complete and not result.failures else 1


def _examples(args: argparse.Namespace) -> int:
    from qstack.bundled import BundleError, copy_examples

    try:
        copied, same = copy_examples(args.dest, force=args.force)
    except (BundleError, OSError) as exc:
        print(f"qstack examples: {exc}", file=sys.stderr)
        return 2
    print(f"copied {len(copied)} file{'s' if len(copied) != 1 else ''} into {args.dest}"
          + (f" ({len(same)} already there)" if same else "") + ": examples/ and stages/")
    print(f"try: qstack run {os.path.join(args.dest, 'examples', 'chain_3_nodes.toml')}")
    return 0


def _fmt(x: object, spec: str = ".6g") -> str:
    return "—" if x is None else format(x, spec) if isinstance(x, float) else str(x)


def _check_output(command: str, path: str) -> str | None:
    """Why ``--output path`` cannot be written (checked before a long run), or None."""
    target = os.path.abspath(path)
    if os.path.isdir(target):
        return f"qstack {command}: --output {path}: is a directory"
    if not os.path.isdir(os.path.dirname(target)):
        return f"qstack {command}: --output {path}: no such directory {os.path.dirname(path) or '.'}"
    return None


def _run_to_file(args: argparse.Namespace) -> int:
    """Run the command with its stdout going to ``args.output``; the file is written when it succeeds."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = int(args.func(args))
    if code != 0:
        sys.stdout.write(buffer.getvalue())
        return code
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(buffer.getvalue())
    except OSError as exc:
        sys.stdout.write(buffer.getvalue())
        print(f"qstack {args.command}: --output {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote the output to {args.output}", file=sys.stderr)
    return 0


def format_summary(r: dict) -> str:
    """A human-readable summary table of :func:`qstack.network.runner.run_scenario`'s result."""
    from qstack.network.runner import flow_status

    lines = [
        f"scenario {r['scenario'] or ''} (seed {r['seed']}), {r['simulated_time']:.6g} s simulated "
        f"in {r['wall_seconds']:.3f} s wall ({r['events']} events)",
        f"  delivered pairs      {r['delivered_pairs']}",
        f"  rate                 {_fmt(r['rate'])} pairs per simulated second",
        f"  fidelity             {_fmt(r['fidelity_mean'])} ± {_fmt(r['fidelity_stderr'], '.2g')} "
        f"(std {_fmt(r['fidelity_std'], '.3g')})",
        f"  pair age at delivery {_fmt(r['pair_age_mean'])} s;  first pair after {_fmt(r['first_pair_latency'])} s",
        f"  link pairs / attempts {r['link_pairs_generated']} / {r['link_attempts']}",
        f"  classical messages   {r['messages_total']} ({r['bytes_total']} bytes)",
        "",
        f"  {'flow':>4} {'route':<40} {'delivered':>9} {'fidelity':>9} {'first (s)':>10}  status",
    ]
    for f in r["flows"]:
        route = "–".join(f["route"])
        if len(route) > 40:
            route = route[:37] + "..."
        status = flow_status(f)
        lines.append(f"  {f['flow_id']:>4} {route:<40} {f['delivered']:>9} {_fmt(f['fidelity_mean'], '.4f'):>9} "
                     f"{_fmt(f['first_pair_latency'], '.4g'):>10}  {status}")
        if f.get("discarded"):
            lines.append("       discarded: " + ", ".join(f"{n} {why}" for why, n in f["discarded"].items()))
    lines += ["", f"  {'node':<16} {'sent':>8} {'bytes':>10} {'received':>9} {'rejected':>9}"]
    for name, m in r["messages"].items():
        lines.append(f"  {name:<16} {m['messages_sent']:>8} {m['bytes_sent']:>10} {m['messages_received']:>9} "
                     f"{m['rejected']:>9}")
    return "\n".join(lines)


def _sweep(args: argparse.Namespace) -> int:
    from qstack.scenario import ScenarioError
    from qstack.sweep import SweepError, plan_sweep, progress_bar, run_sweep

    for flag, path in (("--output", args.table), ("--runs-table", args.runs_table)):
        if path is not None and not path.endswith((".csv", ".parquet")):
            print(f"qstack sweep: {flag} {path}: the file must end in .csv or .parquet", file=sys.stderr)
            return 2  # refused before running, so no run is lost
    if args.scheduler is not None and args.workers is not None:
        print("qstack sweep: --workers starts a local cluster; with --scheduler the cluster's own workers run "
              "the sweep (give one of the two)", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"qstack sweep: --workers must be >= 1, got {args.workers}", file=sys.stderr)
        return 2
    try:
        plan = plan_sweep(args.file, args.param, args.runs, args.seed)  # every grid point checked first
    except SweepError as exc:
        print(f"qstack sweep: {args.file}: {exc}", file=sys.stderr)
        return 2
    except (ScenarioError, OSError) as exc:
        print(_load_error("sweep", args.file, exc), file=sys.stderr)
        return 2
    client = None
    if args.scheduler is not None:
        from qstack._optional import require

        Client = require("distributed", "sweep").Client  # noqa: N806 - the class, under its own name

        try:
            client = Client(args.scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            print(f"qstack sweep: --scheduler {args.scheduler}: cannot connect: {exc}", file=sys.stderr)
            return 2
    import time

    wall0 = time.perf_counter()
    try:
        table = run_sweep(args.file, plan.params, args.runs, plan.seed, client, workers=args.workers,
                          progress=progress_bar())
    except RuntimeError as exc:  # a run failed on every retry: say which, not a traceback
        print(f"qstack sweep: {args.file}: {exc}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    workers = "the cluster's" if args.scheduler else str(args.workers or os.cpu_count() or 1)
    print(f"qstack sweep: {plan.total} runs ({len(plan.points)} points × {plan.runs}, seed {plan.seed}) on "
          f"{workers} workers in {time.perf_counter() - wall0:.1f} s", file=sys.stderr)
    for path, write, what in ((args.table, table.write, "per-point"), (args.runs_table, table.write_runs, "per-run")):
        if path is None:
            continue
        try:
            write(path)
        except (OSError, RuntimeError) as exc:
            print(f"qstack sweep: {path}: {exc}", file=sys.stderr)
            return 2
        print(f"wrote the {what} table to {path}", file=sys.stderr)
    if args.table is None:  # the per-point table as CSV on stdout
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            sys.stdout.write(table.write(os.path.join(tmp, "sweep.csv")).read_text(encoding="utf-8"))
    return 0


def _plot(args: argparse.Namespace) -> int:
    from qstack.plot import PlotError, plot_network, plot_table
    from qstack.scenario import ScenarioError

    if sum(x is not None for x in (args.table, args.network, args.waiting)) != 1:
        print("qstack plot: give a sweep TABLE, or --network FILE for a scenario's network, or --waiting FILE for "
              "its waiting times", file=sys.stderr)
        return 2
    source = next(x for x in (args.table, args.network, args.waiting) if x is not None)
    tail = ".png" if args.table else "-network.png" if args.network else "-waiting.png"
    out = args.figure or (os.path.splitext(os.path.basename(source))[0] + tail)
    if not out.endswith((".png", ".svg", ".pdf")):
        print(f"qstack plot: --output {out}: the figure file must end in .png, .svg or .pdf", file=sys.stderr)
        return 2
    try:
        if args.network is not None:
            plot_network(args.network, out)
        elif args.waiting is not None:
            from qstack.plot import plot_waiting_times

            plot_waiting_times(args.waiting, out)
        else:
            plot_table(args.table, out, x=args.x, y=args.y)
    except (ScenarioError, OSError) as exc:
        print(_load_error("plot", source, exc), file=sys.stderr)
        return 2
    except (PlotError, ValueError) as exc:
        print(f"qstack plot: {source}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    """``qstack report FILE``: exit 0 when written, 2 for bad input (nothing written), 3 when the
    page is written but the scenario's application cannot run on its network (as ``qstack run``)."""
    from qstack.report import build_report
    from qstack.scenario import ScenarioError

    out = args.page or (os.path.splitext(os.path.basename(args.file))[0] + "-report.html")
    if not out.lower().endswith((".html", ".htm")):
        print(f"qstack report: --output {out}: the report file must end in .html", file=sys.stderr)
        return 2
    problem = _check_output("report", out)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    if args.table is not None and not os.path.isfile(args.table):
        print(f"qstack report: --table {args.table}: No such file or directory", file=sys.stderr)
        return 2
    try:
        report = build_report(args.file, seed=args.seed, table=args.table)
    except (ScenarioError, OSError) as exc:
        print(_load_error("report", args.file, exc), file=sys.stderr)
        return 2
    except ValueError as exc:  # an unreadable --table, an application's bad parameters
        print(f"qstack report: {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        report.write(out)
    except OSError as exc:
        print(f"qstack report: --output {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} (stage {int(report.stage)}, {report.stage.title})", file=sys.stderr)
    if report.refused is not None:
        print(f"qstack report: {args.file}: the application cannot run on this network: {report.refused}",
              file=sys.stderr)
        return 3
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qstack`` console script.

    >>> main(["demo", "--json"]) == 0  # doctest: +ELLIPSIS
    {...}
    True
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["conformance"]:  # its own options, passed through untouched
        from qstack.conformance.cli import main as conformance_main

        return conformance_main(args_list[1:])
    parser = argparse.ArgumentParser(prog="qstack", description="qstack: quantum-network protocol stack simulator")
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write the output (the table, text or JSON object) to FILE instead of stdout")
    demo = sub.add_parser("demo", help="run the built-in repeater demo", parents=[output])
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=_demo)
    run = sub.add_parser("run", help="run a scenario file (TOML)", parents=[output])
    run.add_argument("file", nargs="?", default=None,
                     help="scenario file, e.g. examples/chain_3_nodes.toml (default: the embedded five-node chain)")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--records", metavar="FILE", default=None,
                     help="write one row per delivered pair (time, flow, route, fidelity, Bell state, age, "
                          "waiting time per link) to FILE: .csv, or .parquet (needs pyarrow: qstack-qnet[records])")
    run.set_defaults(func=_run)
    stages = sub.add_parser("stages", help="print the quantum-internet stage a scenario's network reaches",
                            parents=[output])
    stages.add_argument("file", help="scenario file")
    stages.set_defaults(func=_stages)
    examples = sub.add_parser("examples", help="copy the example scenarios (examples/, stages/) into a folder")
    examples.add_argument("dest", nargs="?", default=".", help="where to put examples/ and stages/ (default: .)")
    examples.add_argument("--force", action="store_true", help="overwrite files there that differ")
    examples.set_defaults(func=_examples)
    sweep = sub.add_parser("sweep", help="run a scenario over a grid of parameter values, many runs each, on Dask")
    sweep.add_argument("file", help="scenario file (TOML)")
    sweep.add_argument("--param", action="append", required=True, metavar="FIELD=START:STOP:COUNT|FIELD=V1,V2,...",
                       help="a sweep axis, e.g. links.length=10km:200km:20 or links.scheme=single_click,double_click "
                            "(repeat for a grid of several axes)")
    sweep.add_argument("--runs", type=int, default=1, help="runs per grid point, each with its own seed (default 1)")
    sweep.add_argument("--seed", type=int, default=None, help="the sweep seed (default: the scenario's)")
    sweep.add_argument("--workers", type=int, default=None, help="local worker processes (default: one per core)")
    sweep.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="run on this Dask cluster instead of a local one")
    sweep.add_argument("-o", "--output", dest="table", metavar="TABLE", default=None,
                       help="write the per-point table (means, standard errors) to TABLE: .parquet or .csv "
                            "(default: CSV on stdout)")
    sweep.add_argument("--runs-table", metavar="FILE", default=None,
                       help="also write one row per run (its seed and figures) to FILE: .parquet or .csv")
    sweep.set_defaults(func=_sweep)
    plot = sub.add_parser("plot", help="draw a sweep table's figures, or a scenario's network (PNG/SVG)")
    plot.add_argument("table", nargs="?", default=None, help="a table written by qstack sweep (.parquet or .csv)")
    plot.add_argument("--network", metavar="FILE", default=None, help="draw this scenario's network instead")
    plot.add_argument("--waiting", metavar="FILE", default=None,
                      help="draw the waiting times between deliveries: of a scenario (run once; with the closed "
                           "form of a single link) or of a records file (.csv/.parquet of qstack run --records)")
    plot.add_argument("-o", "--output", dest="figure", metavar="FIGURE", default=None,
                      help="the figure file: .png, .svg or .pdf (default: the input's name with .png)")
    plot.add_argument("--x", default=None, help="draw one panel: this column on the x axis (with --y)")
    plot.add_argument("--y", default=None, help="the figure on the y axis, e.g. rate or fidelity_mean (with --x)")
    plot.set_defaults(func=_plot)
    report = sub.add_parser("report", help="write one self-contained HTML page about a scenario (network drawing, "
                                           "stage, key figures, plots)")
    report.add_argument("file", help="scenario file (TOML)")
    report.add_argument("-o", "--output", dest="page", metavar="PAGE", default=None,
                        help="the page: .html (default: the scenario's name with -report.html)")
    report.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    report.add_argument("--table", metavar="TABLE", default=None,
                        help="also draw this sweep table's standard figures (.csv or .parquet of qstack sweep)")
    report.set_defaults(func=_report)
    _add_realtime_commands(sub)
    sub.add_parser("conformance", add_help=False,
                   help="check a protocol implementation against its layer's contract (docs/conformance.md)")
    args = parser.parse_args(args_list)
    if (getattr(args, "seed", 0) or 0) < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    if getattr(args, "output", None) is not None:
        problem = _check_output(args.command, args.output)
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        return _run_to_file(args)
    from qstack._optional import MissingExtra

    try:
        return int(args.func(args))
    except MissingExtra as exc:  # `qstack sweep` without the sweep extra installed, …
        print(f"qstack {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a run's loop: one line, no traceback
        print(f"qstack {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`qstack stages FILE | head`): stop quietly
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        return 141  # 128 + SIGPIPE, what a shell reports for a program killed by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
