"""The layering the framework promises, enforced.

* The link layer knows nothing above it: ``qstack.link`` imports nothing from
  ``qstack.network``, ``qstack.transport`` or ``qstack.apps`` — directly or transitively.
* Protocol modules are sans-I/O: none imports the simulation kernel (``qstack.sim``) or trio;
  they act only through the :class:`~qstack.runtime.Runtime` they are given.
* No protocol object holds another node's object: in a built network, nothing reachable from a
  node's layers (without going through shared physics — stations, the topology, qubits — or
  the kernel behind its own runtime) is another node's layer, runtime or memory.
"""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "qstack"

#: the per-node protocol modules and their service interfaces
PROTOCOL_MODULES = [
    "qstack/runtime/__init__.py",
    "qstack/link/__init__.py", "qstack/link/protocol.py", "qstack/link/service.py",
    "qstack/network/protocol.py", "qstack/network/service.py", "qstack/network/policies.py",
    "qstack/network/topology.py",
    "qstack/transport/__init__.py", "qstack/transport/sockets.py",
    "qstack/physical/station.py", "qstack/physical/memory.py",
]
ABOVE_LINK = ("qstack.network", "qstack.transport", "qstack.apps", "qstack.stages", "qstack.cli")


def imports_of(path: Path) -> set[str]:
    """Every module an ``import``/``from … import`` in ``path`` names, at any depth (lazy imports too)."""
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", sorted(p.relative_to(ROOT).as_posix() for p in (PKG / "link").glob("*.py")))
def test_the_link_layer_imports_nothing_from_the_layers_above(path):
    """Every module of qstack.link, every import statement (lazy ones included)."""
    bad = sorted(m for m in imports_of(ROOT / path) if _under(m, ABOVE_LINK))
    assert bad == [], f"{path} imports {bad}"


@pytest.mark.parametrize("path", PROTOCOL_MODULES)
def test_protocol_modules_do_not_import_the_kernel_or_trio(path):
    bad = sorted(m for m in imports_of(ROOT / path) if _under(m, ("qstack.sim", "trio")))
    assert bad == [], f"{path} imports {bad}"


def test_importing_the_link_layer_loads_nothing_above_it_or_the_kernel():
    """Transitively, in a fresh interpreter: ``import qstack.link`` pulls in no module of the
    network, transport or application layers, and not the simulation kernel."""
    code = "import json, sys, qstack.link; print(json.dumps(sorted(m for m in sys.modules if m.startswith('qstack'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = json.loads(out.stdout)
    assert "qstack.link.protocol" in loaded
    bad = [m for m in loaded if _under(m, (*ABOVE_LINK, "qstack.sim"))]
    assert bad == [], bad


def test_no_protocol_object_reaches_another_nodes_objects():
    """Walk everything reachable from each node's layers in a built 4-node chain with an
    application on top; shared physics (stations, topology, qubits), the observer and each
    node's own runtime (behind which lie the kernel and the channels) are the boundary. No other
    node's layer, runtime or memory is found."""
    from qstack.apps import application_class, run_app
    from qstack.network.network import QuantumNetwork
    from qstack.network.topology import Topology
    from qstack.physical.memory import QuantumMemory
    from qstack.physical.station import HeraldingStation
    from qstack.quantum.core import Group, Qubit
    from qstack.recorder import Recorder
    from qstack.runtime import Layer, Runtime
    from qstack.scenario import linear_chain, load_scenario
    from qstack.sim import Mailbox, Node, Simulation

    sc = load_scenario(linear_chain(n_nodes=4, link_length=1e3, seed=1, duration=0.002))
    result = run_app(application_class("teleportation")(), sc, {"sender": "n0", "receiver": "n3"})
    net: QuantumNetwork = result.network
    boundary = (HeraldingStation, Topology, Qubit, Group, Recorder, Simulation, Node, Mailbox)
    owner: dict[int, str] = {}
    for name in net.runtimes:
        for obj in (net.runtimes[name], net.memories[name], *net.stacks[name].layers.values()):
            owner[id(obj)] = name
    checked = 0
    for name, stack in net.stacks.items():
        seen: set[int] = set()
        todo = deque((layer, 0) for layer in stack.layers.values())
        while todo:
            obj, depth = todo.popleft()
            if inspect.ismethod(obj):
                obj = obj.__self__  # a stored callback reaches the object it is bound to
            if id(obj) in seen or depth > 6 or isinstance(obj, boundary) or type(obj).__module__ == "builtins" and \
                    not isinstance(obj, (list, tuple, dict, set, deque)):
                continue
            seen.add(id(obj))
            if isinstance(obj, (Layer, Runtime, QuantumMemory)):
                assert owner.get(id(obj), name) == name, f"{name}'s protocols reach {owner[id(obj)]}'s {obj!r}"
                checked += 1
                if isinstance(obj, Runtime):
                    continue  # the node's own effects boundary: what lies behind it is I/O, not protocol state
            if isinstance(obj, dict):
                children = list(obj.values()) + list(obj.keys())
            elif isinstance(obj, (list, tuple, set, deque)):
                children = list(obj)
            else:
                attrs = getattr(obj, "__dict__", {})
                slots = [s for c in type(obj).__mro__ for s in getattr(c, "__slots__", ())]
                children = list(attrs.values()) + [getattr(obj, s) for s in slots if hasattr(obj, s)]
            todo.extend((c, depth + 1) for c in children if c is not None)
    assert checked >= 3 * len(net.stacks)  # each node's own link, network and transport layers were seen
