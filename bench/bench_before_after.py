"""Benchmark: qstack before vs after the protocol-framework redesign, in one invocation.

Measures the OLD code (the tree of git ref ``--old-ref``, default ``03aa317``, the last commit before the
redesign) against the NEW code (this checkout's working tree, uncommitted edits included) on the scenario of
``bench/README.md``::

    run_scenario(load_scenario(linear_chain(n_nodes=N, link_length=10e3, seed=S, duration=0.2)))

built the same way on both sides (``linear_chain`` and ``STARLIGHT_HARDWARE`` exist unchanged in both).

How: the old tree is extracted with ``git archive <old-ref> | tar -x`` into a temporary directory. Every
measurement runs in a fresh subprocess (this script's ``--worker`` mode) with ``PYTHONPATH`` set to the old
tree or to the repository root, the working directory a neutral empty temp directory and
``PYTHONHASHSEED=0``; the worker asserts that ``qstack.__file__`` lies in the intended tree and prints one
JSON line. Speed rows alternate old, new, old, new, … (``--repeats`` times per side and seed) so drifts of a
noisy machine hit both sides alike.

What: per run, delivered end-to-end pairs, simulated time, mean fidelity, simulator events, and the wall-clock
(and CPU) seconds of ``run_scenario`` only -- imports and ``linear_chain``/``load_scenario`` are outside the
timed region; the network build inside ``run_scenario`` is in it (``build_seconds`` is reported apart). By
default one untimed warm-up run of the same scenario precedes the timed one in each worker (``--warmup``), so
first-call costs do not land in the figure; the cold first run's wall time is kept in the JSON. The table
gives per side the median, min and max pairs per wall-second over the repeats and the new/old ratio of the
medians (also of pairs per CPU-second). Physics rows: N=3, seed 1, 0.2 s with swapping ``asap`` and
``nested`` on both sides, next to the old code's recorded figures (asap 425 pairs F=0.998810, nested 453
pairs F=0.998949); the new code may differ slightly where its random-number order changed.

Run (qstack's environment, from anywhere)::

    python bench/bench_before_after.py                        # --nodes 9 --seeds 1 --repeats 5
    python bench/bench_before_after.py --nodes 5 --seeds 1,2 --repeats 9 --json-out /tmp/ba.json
    python bench/bench_before_after.py --old-ref 5a6a868 --no-physics
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_OLD_REF = "03aa317"
# The old code's outputs for the physics rows (N=3, seed 1, 0.2 s, 10 km links), recorded at 03aa317.
BASELINE = {"asap": (425, 0.998810), "nested": (453, 0.998949)}


# --------------------------------------------------------------------------------------------- worker


def worker(a: argparse.Namespace) -> int:
    """Run one scenario in this (fresh) process and print one JSON line."""
    import qstack

    qfile = Path(qstack.__file__).resolve()
    expect = Path(a.expect_root).resolve()
    if not qfile.is_relative_to(expect):
        raise SystemExit(f"worker: imported qstack from {qfile}, expected it under {expect}")
    from qstack.network.runner import run_scenario
    from qstack.scenario import linear_chain, load_scenario

    scenario = load_scenario(linear_chain(n_nodes=a.nodes, link_length=10e3, seed=a.seed, duration=a.duration,
                                          swapping=a.swapping))
    cold_wall = None
    for _ in range(a.warmup):
        t0 = time.perf_counter()
        run_scenario(scenario)
        if cold_wall is None:
            cold_wall = time.perf_counter() - t0
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = run_scenario(scenario)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if cold_wall is None:
        cold_wall = wall
    pairs = int(out["delivered_pairs"])
    print(json.dumps({
        "qstack_file": str(qfile), "nodes": a.nodes, "seed": a.seed, "duration": a.duration,
        "swapping": a.swapping, "warmup": a.warmup,
        "pairs": pairs, "simulated_time": out.get("simulated_time"), "fidelity_mean": out.get("fidelity_mean"),
        "fidelity_stderr": out.get("fidelity_stderr"), "events": out.get("events"),
        "wall_seconds": wall, "cpu_seconds": cpu, "cold_wall_seconds": cold_wall,
        "build_seconds": out.get("build_seconds"), "runner_wall_seconds": out.get("wall_seconds"),
        "pairs_per_wall_second": pairs / wall if wall > 0 else None,
        "pairs_per_cpu_second": pairs / cpu if cpu > 0 else None,
        "events_per_wall_second": out["events"] / wall if out.get("events") is not None and wall > 0 else None,
    }), flush=True)
    return 0


# --------------------------------------------------------------------------------------------- driver


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def extract_tree(ref: str, dest: Path) -> None:
    """``git archive ref | tar -x -C dest``."""
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", ref], stdout=subprocess.PIPE)
    tar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout)
    assert archive.stdout is not None
    archive.stdout.close()
    if archive.wait() != 0 or tar.returncode != 0:
        raise RuntimeError(f"git archive {ref} | tar -x -C {dest} failed")
    if not (dest / "qstack" / "__init__.py").exists():
        raise RuntimeError(f"{ref} has no qstack/__init__.py")


def run_worker(root: Path, neutral: Path, nodes: int, seed: int, duration: float, swapping: str,
               warmup: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env["PYTHONHASHSEED"] = "0"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--expect-root", str(root),
           "--nodes", str(nodes), "--seeds", str(seed), "--duration", repr(duration), "--swapping", swapping,
           "--warmup", str(warmup)]
    proc = subprocess.run(cmd, cwd=neutral, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"worker failed (exit {proc.returncode}) for PYTHONPATH={root}: {' '.join(cmd)}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def _fmt(x: float | None, spec: str) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def _ratio(new: float | None, old: float | None) -> float | None:
    return new / old if new is not None and old else None


def summarise(runs: list[dict]) -> dict:
    pw = [r["pairs_per_wall_second"] for r in runs]
    pc = [r["pairs_per_cpu_second"] for r in runs if r["pairs_per_cpu_second"] is not None]
    pairs = sorted({r["pairs"] for r in runs})
    fids = sorted({f"{r['fidelity_mean']:.6f}" for r in runs if r["fidelity_mean"] is not None})
    return {
        "n": len(runs), "pairs": pairs, "fidelity": fids, "events": sorted({r["events"] for r in runs}),
        "per_wall_median": statistics.median(pw), "per_wall_min": min(pw), "per_wall_max": max(pw),
        "per_cpu_median": statistics.median(pc) if pc else None,
        "wall_median": statistics.median(r["wall_seconds"] for r in runs),
        "cold_wall_median": statistics.median(r["cold_wall_seconds"] for r in runs),
    }


def _one(values: list) -> str:
    return "/".join(str(v) for v in values) if values else "—"


SPEED_HEADER = ("| case | side | runs | pairs | F mean | events | pairs/wall-s median | min | max "
                "| wall s median | pairs/CPU-s median |")
PHYS_HEADER = ("| case | old pairs | old F | new pairs | new F | recorded old (pairs, F) | new − old pairs "
               "| new − old F | new/old pairs/wall-s |")


def _rule(header: str) -> str:
    return "|" + "---|" * (header.count("|") - 1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="qstack old (git ref) vs new (working tree), alternating subprocesses")
    p.add_argument("--old-ref", default=DEFAULT_OLD_REF, help="git ref of the old code (default %(default)s)")
    p.add_argument("--nodes", type=int, default=9, help="chain length N for the speed rows (default 9)")
    p.add_argument("--seeds", default="1", help="comma-separated seeds for the speed rows (default 1)")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per side and seed (default 5)")
    p.add_argument("--duration", type=float, default=0.2, help="simulated seconds per run (default 0.2)")
    p.add_argument("--swapping", default="asap", help="swapping policy of the speed rows (default asap)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs before the timed one per worker (default 1)")
    p.add_argument("--no-physics", action="store_true", help="skip the N=3 asap/nested physics rows")
    p.add_argument("--json-out", type=Path, help="write every raw worker result and the summaries (JSON) here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--expect-root", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    seeds = [int(x) for x in a.seeds.split(",") if x.strip()]
    if a.worker:
        a.seed = seeds[0]
        return worker(a)
    if a.repeats < 1 or a.warmup < 0:
        p.error("--repeats must be >= 1 and --warmup >= 0")

    old_sha = _git("rev-parse", "--short", f"{a.old_ref}^{{commit}}")
    head = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    new_label = f"new ({head}{'+dirty' if dirty else ''} tree)"
    old_label = f"old ({old_sha})"
    raw: list[dict] = []
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qstack-before-after-") as tmp:
        old_root = Path(tmp) / "old"
        neutral = Path(tmp) / "cwd"
        old_root.mkdir()
        neutral.mkdir()
        extract_tree(a.old_ref, old_root)
        roots = {"old": old_root, "new": REPO}

        def measure(side: str, nodes: int, seed: int, swapping: str, kind: str, rep: int) -> dict:
            r = run_worker(roots[side], neutral, nodes, seed, a.duration, swapping, a.warmup)
            r.update(side=side, kind=kind, repeat=rep)
            raw.append(r)
            print(f"  {kind:7s} N={nodes} seed={seed} {swapping:6s} {side} #{rep}: {r['pairs']} pairs, "
                  f"{r['pairs_per_wall_second']:.1f} pairs/wall-s ({r['wall_seconds']:.3f} s)",
                  file=sys.stderr, flush=True)
            return r

        print(f"old = {a.old_ref} ({old_sha}) via git archive; new = working tree of {REPO} (HEAD {head}"
              f"{', uncommitted edits' if dirty else ''}); python {sys.version.split()[0]}", flush=True)
        speed: dict[int, dict[str, list[dict]]] = {}
        for seed in seeds:
            speed[seed] = {"old": [], "new": []}
            for rep in range(a.repeats):
                for side in ("old", "new"):
                    speed[seed][side].append(measure(side, a.nodes, seed, a.swapping, "speed", rep))
        phys: dict[str, dict[str, dict]] = {}
        if not a.no_physics:
            for swapping in ("asap", "nested"):
                phys[swapping] = {side: measure(side, 3, 1, swapping, "physics", 0) for side in ("old", "new")}

    summaries: dict[str, dict] = {}
    print()
    print(f"Speed: linear_chain(N={a.nodes}, 10 km links, {a.duration} s simulated, swapping {a.swapping}), "
          f"{a.repeats} timed run(s) per side, alternating old/new, fresh subprocess each, {a.warmup} warm-up run(s)")
    print(SPEED_HEADER)
    print(_rule(SPEED_HEADER))
    for seed in seeds:
        case = f"N={a.nodes} seed {seed} {a.swapping}"
        s = {side: summarise(speed[seed][side]) for side in ("old", "new")}
        summaries[f"speed seed {seed}"] = s
        for side, label in (("old", old_label), ("new", new_label)):
            x = s[side]
            print(f"| {case} | {label} | {x['n']} | {_one(x['pairs'])} | {_one(x['fidelity'])} | {_one(x['events'])} "
                  f"| {x['per_wall_median']:.1f} | {x['per_wall_min']:.1f} | {x['per_wall_max']:.1f} "
                  f"| {x['wall_median']:.4f} | {_fmt(x['per_cpu_median'], '.1f')} |")
        rw = _ratio(s["new"]["per_wall_median"], s["old"]["per_wall_median"])
        rc = _ratio(s["new"]["per_cpu_median"], s["old"]["per_cpu_median"])
        s["ratio_per_wall_median"], s["ratio_per_cpu_median"] = rw, rc
        print(f"| {case} | **new/old** | | | | | **{_fmt(rw, '.3f')}×** | | | "
              f"{_fmt(_ratio(s['new']['wall_median'], s['old']['wall_median']), '.3f')}× | {_fmt(rc, '.3f')}× |")
    if phys:
        print()
        print(f"Physics: linear_chain(N=3, 10 km links, seed 1, {a.duration} s simulated), one timed run per side")
        print(PHYS_HEADER)
        print(_rule(PHYS_HEADER))
        for swapping, sides in phys.items():
            o, n = sides["old"], sides["new"]
            bp, bf = BASELINE[swapping]
            df = (n["fidelity_mean"] - o["fidelity_mean"]
                  if n["fidelity_mean"] is not None and o["fidelity_mean"] is not None else None)
            speed_ratio = _ratio(n["pairs_per_wall_second"], o["pairs_per_wall_second"])
            print(f"| N=3 seed 1 {swapping} | {o['pairs']} | {_fmt(o['fidelity_mean'], '.6f')} | {n['pairs']} "
                  f"| {_fmt(n['fidelity_mean'], '.6f')} | {bp}, {bf:.6f} | {n['pairs'] - o['pairs']:+d} "
                  f"| {_fmt(df, '+.6f')} | {_fmt(speed_ratio, '.3f')}× |")
            summaries[f"physics {swapping}"] = {"old": o, "new": n, "recorded_old": {"pairs": bp, "fidelity": bf}}
    print(f"(total {time.perf_counter() - t_start:.0f} s; ratio = new ÷ old of the medians; wall/CPU time is "
          "run_scenario only, network build included, imports and scenario loading excluded)", flush=True)
    if a.json_out:
        meta = {"old_ref": a.old_ref, "old_sha": old_sha, "head": head, "dirty": dirty, "nodes": a.nodes,
                "seeds": seeds, "repeats": a.repeats, "duration": a.duration, "swapping": a.swapping,
                "warmup": a.warmup, "python": sys.version}
        a.json_out.write_text(json.dumps({"meta": meta, "summaries": summaries, "runs": raw}, indent=1,
                                         default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
