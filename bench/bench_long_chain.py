"""Benchmark: a 1,000-node repeater chain delivers 100 end-to-end pairs (target ≤ 60 s, ≤ 2 GiB).

SeQUeNCe-"starlight"-like hardware (:func:`qstack.scenario.linear_chain` defaults: 10 km
links, Barrett–Kok, 2 kHz, 10 positions per link end, T2 = cut-off = 1.3 s), nested swapping by
default (``--swapping asap``: swap-as-soon-as-possible, which on chains this long generates many
more link pairs per end-to-end pair), one request for 100 pairs from the first to the last node.
Prints wall time, simulated time, delivered pairs and fidelity, link pairs generated, events,
and the peak resident memory of the process.

Run: ``python bench/bench_long_chain.py [--nodes 1000] [--pairs 100]``

``--curve`` prints the cost curve instead, each point in a fresh subprocess (so its peak RSS is
its own): wall and CPU seconds, wall µs per delivered pair and per event, for 100 pairs at ``--curve-nodes`` (default
9, 33, 129, 513) with nested and asap swapping, then at N = 9 for 0.2, 1 and 5 s simulated
(cost per pair flat in simulated time). ``--old-root DIR`` (a tree holding ``qstack/``) or
``--old-ref REF`` (a git ref, extracted with ``git archive``) runs every point on that code too,
alternating old and new, and checks both give the same pairs, fidelity and events::

    python bench/bench_long_chain.py --curve
    python bench/bench_long_chain.py --curve --curve-nodes 9,129,1000 --old-ref HEAD
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qstack.network.runner import run_scenario
from qstack.scenario import linear_chain, load_scenario

REPO = Path(__file__).resolve().parent.parent


def _point(nodes: int, pairs: int | None, duration: float | None, swapping: str, seed: int) -> dict:
    """One run in this process: wall s, peak RSS, events, pairs, fidelity (JSON-ready)."""
    import qstack

    scenario = load_scenario(linear_chain(nodes, seed=seed, duration=duration, pairs=pairs, cutoff="1.3 s",
                                          swapping=swapping))
    c0, t0 = time.process_time(), time.perf_counter()
    r = run_scenario(scenario)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = int(r["delivered_pairs"])
    return {"qstack": str(Path(qstack.__file__).resolve().parent.parent), "nodes": nodes, "swapping": swapping,
            "duration": duration, "pairs": n, "fidelity": r["fidelity_mean"], "events": r["events"],
            "link_pairs": r["link_pairs_generated"], "simulated": r["simulated_time"], "wall": wall, "cpu": cpu,
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "us_per_pair": 1e6 * wall / n if n else None, "us_per_event": 1e6 * wall / max(r["events"], 1)}


def _subprocess_point(root: Path, nodes: int, pairs: int | None, duration: float | None, swapping: str,
                      seed: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONHASHSEED="0")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--nodes", str(nodes), "--seed", str(seed),
           "--swapping", swapping, "--pairs", str(pairs or 0), "--duration", repr(duration or 0.0)]
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"worker failed for {root}: {out.stderr[-2000:]}")
    point = json.loads(out.stdout.strip().splitlines()[-1])
    if Path(point["qstack"]) != root.resolve():
        raise RuntimeError(f"worker imported qstack from {point['qstack']}, expected {root}")
    return point


def curve(args: argparse.Namespace) -> None:
    """The cost curve (see the module docstring), new (this tree) and optionally old code."""
    roots = [("new", REPO)]
    tmp = None
    if args.old_ref:
        tmp = tempfile.TemporaryDirectory(prefix="qstack-long-chain-old-")
        archive = subprocess.Popen(["git", "-C", str(REPO), "archive", args.old_ref], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", tmp.name], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {args.old_ref} failed")
        roots.insert(0, ("old", Path(tmp.name)))
    elif args.old_root:
        roots.insert(0, ("old", Path(args.old_root).resolve()))
    cases = [(n, args.pairs, None, sw) for sw in ("nested", "asap") for n in args.curve_nodes]
    cases += [(9, None, d, sw) for sw in ("nested", "asap") for d in (0.2, 1.0, 5.0)]
    print("| side | N | swapping | simulated s | pairs | F mean | events | link pairs | wall s | CPU s "
          "| peak RSS MiB | µs/pair | µs/event |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for nodes, pairs, duration, sw in cases:
        got = {}
        for side, root in roots:
            p = got[side] = _subprocess_point(root, nodes, pairs, duration, sw, args.seed)
            print(f"| {side} | {nodes} | {sw} | {p['simulated']:.4g} | {p['pairs']} | {p['fidelity']:.6f} "
                  f"| {p['events']} | {p['link_pairs']} | {p['wall']:.2f} | {p['cpu']:.2f} | {p['rss_mib']:.0f} "
                  f"| {p['us_per_pair'] or float('nan'):.0f} | {p['us_per_event']:.1f} |", flush=True)
        if len(got) == 2:
            same = all(got["old"][k] == got["new"][k] for k in ("pairs", "fidelity", "events", "link_pairs"))
            print(f"|  | new/old wall {got['new']['wall'] / got['old']['wall']:.2f}, "
                  f"CPU {got['new']['cpu'] / got['old']['cpu']:.2f} | "
                  f"{'identical' if same else 'RESULTS DIFFER'} ||||||||||", flush=True)
    if tmp is not None:
        tmp.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--swapping", choices=("nested", "asap"), default="nested")
    ap.add_argument("--curve", action="store_true", help="print the cost-per-pair curve (see the docstring)")
    ap.add_argument("--curve-nodes", type=lambda s: [int(x) for x in s.split(",")], default=[9, 33, 129, 513])
    ap.add_argument("--old-root", help="with --curve: a tree holding the old qstack/ to compare against")
    ap.add_argument("--old-ref", help="with --curve: a git ref of the old code (extracted with git archive)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--duration", type=float, default=0.0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_point(args.nodes, args.pairs or None, args.duration or None, args.swapping, args.seed)))
        return
    if args.curve:
        curve(args)
        return
    t0 = time.perf_counter()
    scenario = load_scenario(linear_chain(args.nodes, seed=args.seed, duration=None, pairs=args.pairs,
                                          cutoff="1.3 s", swapping=args.swapping))
    r = run_scenario(scenario)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.nodes}-node chain ({args.swapping}): {r['delivered_pairs']} end-to-end pairs "
          f"in {wall:.1f} s wall "
          f"(target ≤ 60 s), completed at {r['flows'][0]['completion_time']:.4f} s simulated, "
          f"fidelity {r['fidelity_mean']:.4f}, "
          f"{r['link_pairs_generated']} link pairs, {r['events']} events, peak RSS {peak:.0f} MiB "
          f"(target ≤ 2048 MiB)")


if __name__ == "__main__":
    main()
