"""The analytic reference table: every hard-coded value equals its closed form and qstack's own
computation to 1e-9, so a regression in qstack.quantum.theory (or the models) is caught."""

from __future__ import annotations

import math

import pytest

from qstack.conformance import REFERENCES, Target, run_conformance
from qstack.conformance.references import reference_table


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_value_closed_form_and_qstack_agree(name):
    r = REFERENCES[name]
    assert r.closed_form() == pytest.approx(r.value, abs=1e-9)
    assert r.compute() == pytest.approx(r.value, abs=1e-9)
    assert r.source and r.formula and r.computed_by


def test_the_table_is_documented_and_json_ready():
    rows = reference_table()
    assert {r["name"] for r in rows} == set(REFERENCES)
    for row in rows:
        assert math.isfinite(row["value"]) and row["source"] and row["formula"]
    # the analytic vectors the issue lists are all present
    for needed in ("werner_swap_two_links", "noisy_swap", "bbpssw_fidelity", "dejmps_fidelity",
                   "bbpssw_pumping_fixed_point", "dejmps_pumping_fixed_point", "t1t2_stored_bell_pair",
                   "teleportation_fidelity", "single_click_fidelity", "double_click_success", "plob_bound",
                   "bb84_key_fraction", "chsh_werner", "two_segment_waiting_time"):
        assert needed in REFERENCES


def test_hard_coded_numbers_match_the_literature_formulas():
    """Spot values by hand: (2F+1)/3, −log2(1−η), 1−2h(Q), 2√2(4F−1)/3, η_aη_b/2."""
    assert REFERENCES["teleportation_fidelity"].value == pytest.approx((2 * 0.9 + 1) / 3, abs=1e-12)
    assert REFERENCES["plob_bound"].value == pytest.approx(-math.log2(0.9), abs=1e-12)
    h = -0.05 * math.log2(0.05) - 0.95 * math.log2(0.95)
    assert REFERENCES["bb84_key_fraction"].value == pytest.approx(1 - 2 * h, abs=1e-12)
    assert REFERENCES["chsh_werner"].value == pytest.approx(2 * math.sqrt(2) * (4 * 0.95 - 1) / 3, abs=1e-12)
    assert REFERENCES["double_click_success"].value == pytest.approx(0.1, abs=1e-12)
    assert REFERENCES["single_click_fidelity"].value == pytest.approx(0.9 / 0.975, abs=1e-12)


def test_a_regression_in_theory_is_caught(monkeypatch):
    """Break qstack.quantum.theory.werner_swap_fidelity and bbpssw: the references layer fails
    exactly the checks that use them."""
    from qstack.quantum import theory

    real_swap, real_bbpssw = theory.werner_swap_fidelity, theory.bbpssw
    monkeypatch.setattr(theory, "werner_swap_fidelity", lambda *f: real_swap(*f) + 1e-6)
    monkeypatch.setattr(theory, "bbpssw", lambda f: (real_bbpssw(f)[0], real_bbpssw(f)[1] * 1.01))
    report = run_conformance(Target("references", "qstack"))
    assert set(report.targets[0].failed()) == {"reference.werner_swap_two_links", "reference.werner_swap_three_links",
                                               "reference.bbpssw_success"}
