"""Benchmark: qstack vs SeQUeNCe on the same linear repeater chains, side by side.

For each chain length N (routers, 10 km links, a heralding station in the middle of each link, Barrett-Kok
double click, 2 kHz memories, 0.2 s simulated; see ``bench/README.md``) this runs the SeQUeNCe side in its
own virtual environment (``bench/.venv-sequence``, a subprocess running ``bench/sequence_chain.py``) and then
the qstack side in this interpreter, interleaved per N, and prints a table of delivered end-to-end pairs per
simulated second, the mean fidelity (SeQUeNCe's computed from its quantum state), pairs per wall-clock
second and qstack's speed-up.

SeQUeNCe is never a qstack dependency: if ``bench/.venv-sequence`` is missing this script creates it with
``python -m venv`` and installs ``sequence==0.8.5`` into it (it prints each command first).

Run (with qstack's environment): ``python bench/bench_vs_sequence.py [--routers 2,3,5,9,17] [--seeds 1]``;
``--only-sequence`` skips the qstack side.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv-sequence"
SEQUENCE_VERSION = "0.8.5"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_sequence_venv(venv: Path) -> Path:
    """Create the SeQUeNCe venv (and install SeQUeNCe) if it is missing; return its python."""
    py = _venv_python(venv)
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('sequence') is None)"
    ok = py.exists() and subprocess.run([str(py), "-c", probe], capture_output=True).returncode == 0
    if ok:
        return py
    cmds = []
    if not py.exists():
        cmds.append([sys.executable, "-m", "venv", str(venv)])
    cmds.append([str(py), "-m", "pip", "install", "-q", f"sequence=={SEQUENCE_VERSION}"])
    for cmd in cmds:
        print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)
    return py


def run_sequence(py: Path, n: int, seed: int, sim_time: float, formalism: str) -> dict:
    cmd = [str(py), str(BENCH / "sequence_chain.py"), "--routers", str(n), "--seed", str(seed),
           "--sim-time", str(sim_time), "--formalism", formalism]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"SeQUeNCe run failed (exit {proc.returncode}): {' '.join(cmd)}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def run_qstack(n: int, seed: int, sim_time: float) -> dict:
    from qstack.network.runner import run_scenario
    from qstack.scenario import linear_chain, load_scenario

    # SeQUeNCe's model of the same chain (bench/README.md): nested swapping, raw pair fidelity
    # 0.9349 as a Werner state, no decoherence (the 1.3 s coherence time is only a cut-off),
    # classical delay 5 µs/km, Barrett–Kok rounds one after the other, each 1/(2 kHz) + 2·d.
    scenario = load_scenario(linear_chain(
        n_nodes=n, link_length=10e3, seed=seed, duration=sim_time, swapping="nested", cutoff="1.3 s",
        raw_fidelity=0.9349, t2="inf", link={"classical_delay_per_km": "5 us", "rounds": "sequential"},
    ))
    # qstack's run is short (tens of ms at small N): take the median of 5 runs so one scheduler
    # hiccup does not decide the ratio (the runs are bit-identical apart from wall time).
    runs = [run_scenario(scenario) for _ in range(5)]
    runs.sort(key=lambda r: r["wall_seconds"])
    return dict(runs[2])


def _combine(pairs: list[int], fids: list[float | None], sds: list[float | None]) -> tuple[float | None, float | None]:
    """Pair-weighted mean fidelity and its standard error over seeds (sds: per-seed sample std-devs)."""
    tot = sum(pairs)
    if tot == 0:
        return None, None
    mean = sum(p * f for p, f in zip(pairs, fids, strict=True) if p and f is not None) / tot
    # pooled second moment -> overall sample variance
    m2 = sum(p * ((s or 0.0) ** 2 + (f - mean) ** 2)
             for p, f, s in zip(pairs, fids, sds, strict=True) if p and f is not None)
    var = m2 / max(tot - 1, 1)
    return mean, math.sqrt(var / tot)


def summarise_sequence(runs: list[dict], sim_time: float) -> dict:
    pairs = [r["pairs"] for r in runs]
    sds = [r["fidelity_stderr"] * math.sqrt(r["pairs"]) if r["fidelity_stderr"] is not None else None for r in runs]
    f, f_se = _combine(pairs, [r["fidelity_mean"] for r in runs], sds)
    fb = [r["fidelity_bookkeeping_mean"] for r in runs if r["fidelity_bookkeeping_mean"] is not None]
    wall = sum(r["wall_seconds"] for r in runs)
    return {"pairs": sum(pairs), "rate": sum(pairs) / (sim_time * len(runs)), "fidelity": f, "fidelity_se": f_se,
            "fidelity_book": sum(fb) / len(fb) if fb else None, "wall": wall,
            "per_wall": sum(pairs) / wall if wall > 0 else float("nan")}


def summarise_qstack(runs: list[dict], sim_time: float) -> dict:
    pairs = [int(r["delivered_pairs"]) for r in runs]
    f, f_se = _combine(pairs, [r["fidelity_mean"] for r in runs], [r.get("fidelity_std") for r in runs])
    wall = sum(float(r["wall_seconds"]) for r in runs)
    return {"pairs": sum(pairs), "rate": sum(float(r["rate"]) for r in runs) / len(runs), "fidelity": f,
            "fidelity_se": f_se, "wall": wall, "per_wall": sum(pairs) / wall if wall > 0 else float("nan")}


def _fmt(x: float | None, spec: str) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


HEADER = ("| N | SeQUeNCe pairs/sim-s | SeQUeNCe F (state) | SeQUeNCe F (book) | SeQUeNCe pairs/wall-s "
          "| qstack pairs/sim-s | qstack F | qstack pairs/wall-s | rate Δ/σ | F Δ/σ | speed-up |")
RULE = "|" + "---|" * (HEADER.count("|") - 1)


def row(n: int, s: dict, q: dict | None) -> str:
    cells = [str(n), _fmt(s["rate"], ".0f"),
             f"{_fmt(s['fidelity'], '.4f')} ± {_fmt(s['fidelity_se'], '.4f')}",
             _fmt(s["fidelity_book"], ".4f"), _fmt(s["per_wall"], ".1f")]
    if q is None:
        cells += ["—"] * 6
    else:
        # Poisson-like comparison of the two pair counts over the same simulated time
        rate_z = (q["pairs"] - s["pairs"]) / math.sqrt(max(q["pairs"] + s["pairs"], 1))
        f_z = None
        if q["fidelity"] is not None and s["fidelity"] is not None:
            se = math.hypot(q["fidelity_se"] or 0.0, s["fidelity_se"] or 0.0)
            f_z = (q["fidelity"] - s["fidelity"]) / se if se > 0 else None
        speed = q["per_wall"] / s["per_wall"] if s["per_wall"] else None
        cells += [_fmt(q["rate"], ".0f"), f"{_fmt(q['fidelity'], '.4f')} ± {_fmt(q['fidelity_se'], '.4f')}",
                  _fmt(q["per_wall"], ".1f"), _fmt(rate_z, "+.1f"), _fmt(f_z, "+.1f"), _fmt(speed, ".1f") + "×"]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="qstack vs SeQUeNCe on linear repeater chains")
    p.add_argument("--routers", default="2,3,5,9,17", help="comma-separated chain lengths N (routers)")
    p.add_argument("--seeds", default="1", help="comma-separated seeds, e.g. 1 or 1,2,3")
    p.add_argument("--sim-time", type=float, default=0.2, help="simulated seconds per run")
    p.add_argument("--formalism", choices=["ket", "density_matrix"], default="ket", help="SeQUeNCe formalism")
    p.add_argument("--only-sequence", action="store_true", help="skip the qstack side")
    p.add_argument("--json-out", type=Path, help="write every raw run result (JSON) here")
    a = p.parse_args(argv)
    ns = [int(x) for x in a.routers.split(",") if x.strip()]
    seeds = [int(x) for x in a.seeds.split(",") if x.strip()]

    py = ensure_sequence_venv(VENV)
    raw: list[dict] = []
    rows = []
    print(f"linear chains, 10 km links, {a.sim_time} s simulated, seeds {seeds}, SeQUeNCe {a.formalism} formalism",
          flush=True)
    print(HEADER)
    print(RULE, flush=True)
    t0 = time.perf_counter()
    for n in ns:
        s_runs = [run_sequence(py, n, seed, a.sim_time, a.formalism) for seed in seeds]
        raw += s_runs
        q_runs = None
        if not a.only_sequence:
            q_runs = [run_qstack(n, seed, a.sim_time) for seed in seeds]
            raw += [{"tool": "qstack", "routers": n, "seed": seed, **r} for seed, r in zip(seeds, q_runs, strict=True)]
        line = row(n, summarise_sequence(s_runs, a.sim_time), summarise_qstack(q_runs, a.sim_time) if q_runs else None)
        rows.append(line)
        print(line, flush=True)
    print(f"(total {time.perf_counter() - t0:.0f} s; speed-up = qstack pairs/wall-s ÷ SeQUeNCe pairs/wall-s; "
          "Δ/σ = qstack − SeQUeNCe in standard errors)", flush=True)
    if a.json_out:
        a.json_out.write_text(json.dumps(raw, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
