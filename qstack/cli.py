"""The ``qstack`` command line.

``qstack demo [--seed N] [--json]`` runs the built-in repeater demo (:mod:`qstack.demo`) and
prints a Bell pair's fidelity after heralding, storage, a swap and a teleportation.
``qstack run FILE [--json] [--seed N]`` runs a scenario file (:mod:`qstack.scenario`) and prints
a summary table or one JSON object (keys in README.md); a file with an ``[application]`` table
runs that application's roles instead. ``qstack stages FILE`` prints the stage of the quantum
internet the file's network reaches and what the next stage misses.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]


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
        print(f"qstack run: {args.file}: {exc}", file=sys.stderr)
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
    if args.json:
        print(json.dumps(result, sort_keys=True))
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
        result = run_app(app, scenario, spec.roles, record=args.records is not None)
    except (ValueError, TypeError) as exc:
        print(f"qstack run: {args.file}: application {spec.name!r}: {exc}", file=sys.stderr)
        return 2
    except StageError as exc:
        print(f"qstack run: {args.file}: {exc}", file=sys.stderr)
        return 3
    if args.records is not None and not _write_records(result.records or [], args.records):
        return 2
    out = {
        "application": spec.name, "roles": dict(spec.roles), "seed": scenario.simulation.seed,
        "results": {role: _jsonable(v) for role, v in result.results.items()},
        "simulated_time": result.simulated_time, "wall_seconds": result.wall_seconds,
        "messages": result.messages, "summary": _jsonable(app.summary(result.results)),
    }
    if args.json:
        print(json.dumps(out, sort_keys=True))
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


def _jsonable(value: Any) -> Any:
    """Role results as JSON: numbers, strings, lists and dicts pass; others become repr()."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
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
        print(f"qstack stages: {args.file}: {exc}", file=sys.stderr)
        return 2
    print(network_stage(scenario).explain())
    return 0


def _fmt(x: object, spec: str = ".6g") -> str:
    return "—" if x is None else format(x, spec) if isinstance(x, float) else str(x)


def format_summary(r: dict) -> str:
    """A human-readable summary table of :func:`qstack.network.runner.run_scenario`'s result."""
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
        status = f["failed"] or ("done" if f["completion_time"] is not None else "running")
        lines.append(f"  {f['flow_id']:>4} {route:<40} {f['delivered']:>9} {_fmt(f['fidelity_mean'], '.4f'):>9} "
                     f"{_fmt(f['first_pair_latency'], '.4g'):>10}  {status}")
        if f.get("discarded"):
            lines.append("       discarded: " + ", ".join(f"{n} {why}" for why, n in f["discarded"].items()))
    lines += ["", f"  {'node':<16} {'sent':>8} {'bytes':>10} {'received':>9} {'rejected':>9}"]
    for name, m in r["messages"].items():
        lines.append(f"  {name:<16} {m['messages_sent']:>8} {m['bytes_sent']:>10} {m['messages_received']:>9} "
                     f"{m['rejected']:>9}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qstack`` console script.

    >>> main(["demo", "--json"]) == 0  # doctest: +ELLIPSIS
    {...}
    True
    """
    parser = argparse.ArgumentParser(prog="qstack", description="qstack: quantum-network protocol stack simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the built-in repeater demo")
    demo.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=_demo)
    run = sub.add_parser("run", help="run a scenario file (TOML)")
    run.add_argument("file", nargs="?", default=None,
                     help="scenario file, e.g. examples/chain_3_nodes.toml (default: the embedded five-node chain)")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--records", metavar="FILE", default=None,
                     help="write one row per delivered pair (time, flow, route, fidelity, Bell state, age, "
                          "waiting time per link) to FILE: .csv, or .parquet (needs pyarrow: qstack[records])")
    run.set_defaults(func=_run)
    stages = sub.add_parser("stages", help="print the quantum-internet stage a scenario's network reaches")
    stages.add_argument("file", help="scenario file")
    stages.set_defaults(func=_stages)
    args = parser.parse_args(argv)
    if (getattr(args, "seed", 0) or 0) < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
