"""Benchmark: start-up of the command line — the default ``qstack run`` end to end, and where the
import time goes.

Runs ``python -m qstack run`` (the embedded default scenario; output discarded) ``--repeats``
times in fresh processes and prints the median and min wall time, then one ``python -X
importtime`` run of the same command with, per third-party package, the import time of all its
modules (the sum of their own times, so nothing is counted twice; a package the run does not
import is listed as "not imported") and the cumulative import time of qstack's entry modules.
Goal (issue 12): ≤ 1 s wall on the 2-core machine.

Measured on the shared 2-core machine (other jobs running, so wall times vary by ±20 %):

* before (qutip, scipy.optimize/special and networkx imported at module level, the noiseless
  swap maps built at import): median 1.5–2.0 s, min 1.7 s wall; ``qstack.network`` 1.3–2.0 s
  cumulative, of which qutip 0.3–0.6 s (with setuptools behind it), scipy.optimize 0.4–0.5 s,
  networkx 0.11 s, ``qstack.quantum.operations`` 55–130 ms of its own (two 256-column swap maps).
* after (qutip and scipy imported where a function needs them, gate ``Qobj`` constants built on
  first access, swap maps on first swap): see ``bench/README.md`` ("Start-up") for the figures;
  qutip, scipy and setuptools are not imported at all (``tests/test_startup_imports.py``).

What is left is numpy (~0.1 s), networkx (~0.15 s; the routing policies and
``Topology.graph``, a public ``networkx.Graph``, use it), protobuf and qstack's own modules
(~0.15 s), the simulation itself (~0.15 s wall) and the interpreter (~0.05 s).

    python bench/bench_startup.py               # --repeats 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

#: third-party packages: the sum of their modules' own import times
PACKAGES = ("qutip", "scipy", "setuptools", "numpy", "networkx", "google.protobuf")
#: qstack's entry modules: cumulative import time (everything they import included)
ENTRY = ("qstack.quantum", "qstack.network", "qstack.cli")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    a = parser.parse_args()
    cmd = [sys.executable, "-m", "qstack", "run"]
    env = dict(os.environ)
    walls = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - t0)
    print(f"qstack run (default scenario), {a.repeats} fresh processes: median {statistics.median(walls):.3f} s, "
          f"min {min(walls):.3f} s wall (goal <= 1 s)")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "qstack", "run"], capture_output=True, text=True,
                          env=env, check=True)
    own: dict[str, int] = {}
    cumulative: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cum, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if not self_us.isdigit():  # the header line
            continue
        for package in PACKAGES:
            if name == package or name.startswith(package + "."):
                own[package] = own.get(package, 0) + int(self_us)
        if name in ENTRY:
            cumulative[name] = max(cumulative.get(name, 0), int(cum))
    print("import time of each package's modules (sum of their own times):")
    for name in PACKAGES:
        print(f"  {name:<18} " + (f"{own[name] / 1e6:.3f} s" if name in own else "not imported"))
    print("cumulative import time of qstack's entry modules:")
    for name in ENTRY:
        if name in cumulative:
            print(f"  {name:<18} {cumulative[name] / 1e6:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
