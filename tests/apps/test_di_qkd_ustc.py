"""DI-QKD over the USTC-like single-atom link (examples/real/di_qkd_atoms/ustc_100km.toml): scheme
"atom_single_photon" (single-photon interference) run through the spot-checking DI-QKD app."""

from __future__ import annotations

import importlib.util
import math
import tomllib
from pathlib import Path

from qstack.apps import make_application, run_app
from qstack.physical.station import LINK_SCHEMES
from qstack.scenario import load_scenario

HERE = Path(__file__).resolve().parents[2] / "examples" / "real" / "di_qkd_atoms"


def test_ustc_100km_run_matches_the_single_click_model_within_4_standard_errors():
    """The app's measured S and QBER on 2000 heralded pairs agree with the link model's
    √2-settings CHSH value and Z-basis QBER (README, USTC section) within 4 standard errors."""
    spec_ = importlib.util.spec_from_file_location("di_qkd_atoms_run", HERE / "run.py")
    example = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(example)
    ref = example.ustc_scenario("ustc_100km.toml")
    data = tomllib.loads((HERE / "ustc_100km.toml").read_text())
    data["application"]["params"]["rounds"] = 2000
    sc = load_scenario(data)
    assert LINK_SCHEMES.create(sc.links[0].scheme).name == "atom_single_photon"
    spec = sc.application
    alice = run_app(make_application(spec.name, spec.params, spec.roles), sc, spec.roles).results["alice"]
    assert abs(alice.chsh.value - ref["chsh"]) < 4 * alice.chsh.standard_error
    q_se = math.sqrt(ref["qber"] * (1 - ref["qber"]) / alice.qber_rounds)
    assert abs(alice.qber - ref["qber"]) < 4 * q_se
