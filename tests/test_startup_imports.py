"""Start-up (issue 12): the default ``qstack run`` imports only what it uses.

The default scenario runs on the numpy kernels; qutip (~0.3 s to import, with setuptools behind
it), scipy (``scipy.optimize`` alone ~0.4 s) and the noiseless swap maps (~25 ms each) are
needed only by other commands or functions, which import or build them on first use. Each test
runs in a fresh interpreter, so a module-level ``import qutip`` (or ``scipy``) re-added anywhere on
the default run's path fails here. ``bench/bench_startup.py`` measures the time itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: modules the default run must not import (each is imported on first use where it is needed)
LAZY = ("qutip", "scipy", "scipy.optimize", "scipy.special", "scipy.stats", "scipy.fft", "setuptools")


def _fresh(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=120)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_default_run_imports_neither_qutip_nor_scipy():
    """Importing ``qstack.network`` and ``qstack.cli``, loading the default scenario and running it
    (``qstack run --json``, output discarded) leaves every heavy module out of ``sys.modules``."""
    out = _fresh(
        "import contextlib, io, json, sys\n"
        "from importlib.resources import as_file, files\n"
        "import qstack.network, qstack.cli\n"
        "from qstack.scenario import load_scenario\n"
        "with as_file(files('qstack') / 'data' / 'default_chain.toml') as path:\n"
        "    scenario = load_scenario(path)\n"
        "after_load = sorted(m for m in sys.modules if m in " + repr(LAZY) + ")\n"
        "with contextlib.redirect_stdout(io.StringIO()) as buf:\n"
        "    code = qstack.cli.main(['run', '--json'])\n"
        "run = json.loads(buf.getvalue())\n"
        "after_run = sorted(m for m in sys.modules if m in " + repr(LAZY) + ")\n"
        "print(json.dumps({'load': after_load, 'run': after_run, 'code': code,\n"
        "                  'pairs': run['delivered_pairs'], 'nodes': len(scenario.nodes)}))\n"
    )
    assert out["code"] == 0 and out["nodes"] == 5 and out["pairs"] > 0  # it did run the five-node chain
    assert out["load"] == [], f"loading the default scenario imported {out['load']}"
    assert out["run"] == [], f"the default qstack run imported {out['run']}"


def test_importing_the_state_core_does_no_import_time_work():
    """``import qstack.quantum`` imports no qutip, builds no ``Qobj`` gate constant and no swap map;
    the gates are still there (built on first access, equal to qutip's), and so is every name of
    ``qstack.quantum.__all__`` and ``qstack.quantum.gates.__all__``."""
    out = _fresh(
        "import json, sys\n"
        "import qstack.quantum as q\n"
        "from qstack.quantum import gates, operations\n"
        "before = {'qutip': 'qutip' in sys.modules, 'maps': len(operations._IDEAL_SWAP_MAPS),\n"
        "          'cached': operations._sampled_swap_map.cache_info().currsize,\n"
        "          'built': sorted(n for n in ('I', 'X', 'Y', 'Z', 'H', 'CNOT') if n in vars(gates))}\n"
        "missing = [n for n in q.__all__ if not hasattr(q, n)] + [n for n in gates.__all__ if not hasattr(gates, n)]\n"
        "import qutip\n"
        "from qstack.quantum.gates import CNOT, H, X, Y, Z, I\n"
        "same = [(X - qutip.sigmax()).norm() < 1e-15, (Y - qutip.sigmay()).norm() < 1e-15,\n"
        "        (Z - qutip.sigmaz()).norm() < 1e-15, (I - qutip.qeye(2)).norm() < 1e-15,\n"
        "        (H * H - qutip.qeye(2)).norm() < 1e-15, CNOT.dims == [[2, 2], [2, 2]],\n"
        "        gates.X is X, 'X' in dir(gates)]\n"
        "print(json.dumps({'before': before, 'missing': missing, 'same': same}))\n"
    )
    assert out["before"] == {"qutip": False, "maps": 0, "cached": 0, "built": []}
    assert out["missing"] == []
    assert all(out["same"]), out["same"]


def test_an_unknown_gate_name_is_an_attribute_error():
    """The lazy constants do not turn a typo into something else: ``gates.CNOTT`` is an
    ``AttributeError`` naming the attribute, and does not import qutip."""
    out = _fresh(
        "import json, sys\n"
        "from qstack.quantum import gates\n"
        "try:\n"
        "    gates.CNOTT\n"
        "    err = None\n"
        "except AttributeError as exc:\n"
        "    err = str(exc)\n"
        "print(json.dumps({'err': err, 'qutip': 'qutip' in sys.modules}))\n"
    )
    assert out["err"] is not None and "CNOTT" in out["err"]
    assert out["qutip"] is False


def test_importing_the_applications_imports_neither_qutip_nor_scipy():
    """``import qstack.apps``, building the BB84 application through ``make_application`` (which
    imports ``qstack.apps.bb84`` and the QKD post-processing behind it) and importing every
    built-in application module leave qutip and scipy out of ``sys.modules``: the kets, bases and
    Poisson/FFT/root-finding helpers import them on first use. The BB84 app built this way is a
    real one (its Shor–Preskill default threshold, h(Q) = 1/2 at Q = 0.110028, is set)."""
    out = _fresh(
        "import importlib, json, sys\n"
        "import qstack.apps\n"
        "after_import = sorted(m for m in sys.modules if m in " + repr(LAZY) + ")\n"
        "app = qstack.apps.make_application('bb84', {'pulses': 1000}, {'alice': 'a', 'bob': 'b'})\n"
        "after_bb84 = sorted(m for m in sys.modules if m in " + repr(LAZY) + ")\n"
        "for target in qstack.apps.APPLICATIONS.values():\n"
        "    importlib.import_module(target.split(':')[0])\n"
        "after_all = sorted(m for m in sys.modules if m in " + repr(LAZY) + ")\n"
        "print(json.dumps({'import': after_import, 'bb84': after_bb84, 'all': after_all,\n"
        "                  'name': app.name, 'threshold': app.settings.qber_threshold}))\n"
    )
    assert out["name"] == "bb84" and abs(out["threshold"] - 0.110028) < 1e-6
    assert out["import"] == [], f"import qstack.apps imported {out['import']}"
    assert out["bb84"] == [], f"building the BB84 application imported {out['bb84']}"
    assert out["all"] == [], f"importing the application modules imported {out['all']}"
