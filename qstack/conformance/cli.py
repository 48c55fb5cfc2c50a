"""``qstack conformance``: run the conformance suite on an implementation from the shell.

``main(argv) -> int`` is the whole command (``qstack.cli`` wires it as the ``conformance``
subcommand; ``python -m qstack.conformance.cli`` runs it too)::

    qstack conformance TARGET [--layer LAYER] [--json FILE] [--seed N] [--quiet]
    qstack conformance --builtins [--tutorials]       # qstack's own plug-ins (what CI runs)
    qstack conformance --list [--layer LAYER]         # the checks and what each asserts

``TARGET`` is a registered name (``asap``), a ``pkg.module:Factory`` path or a JSON table
(``'{"name": "fixed", "time": 0.005}'``). Exit status 0 when every check passed, 1 when one
failed, 2 for a usage error (a target that cannot be resolved).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from qstack.conformance.framework import LAYERS, ConformanceError, checks_for, run_conformance
from qstack.conformance.targets import builtin_targets, resolve, tutorial_targets

__all__ = ["main", "build_parser"]


def build_parser(prog: str = "qstack conformance") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Check a protocol implementation against its layer's "
                                "contract and the analytic references.")
    p.add_argument("target", nargs="?", help="a registered name, 'pkg.module:Factory' or a JSON table")
    p.add_argument("--layer", choices=list(LAYERS), help="the layer the target implements (default: detected)")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE ('-': stdout)")
    p.add_argument("--seed", type=int, default=7, help="seed of every scenario the checks run (default 7)")
    p.add_argument("--builtins", action="store_true", help="check qstack's own plug-ins and the references")
    p.add_argument("--tutorials", action="store_true",
                   help="also check the tutorial plug-ins (examples/tutorials must be importable)")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.list:
        for layer in ([args.layer] if args.layer else list(LAYERS)):
            for c in checks_for(layer):
                print(f"{c.stage:9s} {c.layer:13s} {c.name:38s} [{c.kind}] {c.statement}")
        return 0
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # 'pkg.module:Factory' from the working directory, as python -m does
    try:
        targets = []
        if args.builtins:
            targets += builtin_targets()
        if args.tutorials:
            targets += tutorial_targets()
        if args.target:
            targets += resolve(args.target, args.layer)
        if not targets:
            print("qstack conformance: give a TARGET, --builtins or --list", file=sys.stderr)
            return 2
    except ConformanceError as exc:
        print(f"qstack conformance: {exc}", file=sys.stderr)
        return 2
    report = run_conformance(targets, seed=args.seed)
    table = report.table()
    print(table.splitlines()[-1] if args.quiet else table)
    if args.json:
        text = report.to_json()
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0 if report.passed else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
