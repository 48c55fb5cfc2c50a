"""Analytic reference vectors: documented, citable numbers the suite checks qstack against.

Each :class:`Reference` has a hard-coded ``value`` (the number the formula gives for the stated
``inputs``), the ``formula`` in words, its ``source``, ``closed_form`` (the formula written out
here, independently of qstack) and ``compute`` (the same quantity from qstack's own functions —
:mod:`qstack.quantum.theory`, :mod:`qstack.physical.heralding`, :mod:`qstack.qkd.entropy`,
:mod:`qstack.network.analysis`, or a physical model). The ``references`` layer of the suite
checks ``value == closed_form() == compute()`` to 1e-9, so a regression in any of them is
caught; the network checks use the same functions for their expectations.

>>> REFERENCES["werner_swap_two_links"].value
0.8133333333333334
>>> all(abs(r.compute() - r.value) <= 1e-9 for r in REFERENCES.values())
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Reference", "REFERENCES", "reference_table"]


@dataclass(frozen=True)
class Reference:
    """One reference vector (see the module docstring)."""

    name: str
    value: float
    formula: str
    source: str
    inputs: dict[str, Any]
    closed_form: Callable[[], float]
    compute: Callable[[], float]
    computed_by: str


def _w(f: float) -> float:
    return (4 * f - 1) / 3


def _h(p: float) -> float:
    return 0.0 if p in (0.0, 1.0) else -p * math.log2(p) - (1 - p) * math.log2(1 - p)


# ------------------------------------------------------------------------------------------ qstack-side computations

def _theory() -> Any:
    from qstack.quantum import theory

    return theory


def _entropy() -> Any:
    from qstack.qkd import entropy

    return entropy


def _swap_noisy() -> float:
    t = _theory()
    w = t.noisy_swap_werner_parameter(_w(0.9), _w(0.9), 0.99, 0.99)
    return (3 * w + 1) / 4


def _dejmps_f() -> float:
    return float(_theory().dejmps([0.8, 0.1, 0.06, 0.04])[0][0])


def _dejmps_p() -> float:
    return float(_theory().dejmps([0.8, 0.1, 0.06, 0.04])[1])


def _dejmps_closed(which: str) -> float:
    a, d, c, b = 0.8, 0.1, 0.06, 0.04  # Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ → paper's A, D, C, B
    n = (a + b) ** 2 + (c + d) ** 2
    return n if which == "p" else (a * a + b * b) / n


def _bbpssw_closed(which: str) -> float:
    f = 0.8
    e = (1 - f) / 3
    p = f * f + 2 * f * e + 5 * e * e
    return p if which == "p" else (f * f + e * e) / p


def _bbpssw_pump_fp_closed() -> float:
    f0 = 0.9
    a, b, c = 2 * (4 * f0 - 1), 6 * (2 * f0 - 1), 1 - f0
    return (b + math.sqrt(b * b + 4 * a * c)) / (2 * a)


def _bbpssw_pump_fp_iterated() -> float:
    f0 = 0.9
    return float(_theory().pumping_fixed_point([f0, (1 - f0) / 3, (1 - f0) / 3, (1 - f0) / 3], "bbpssw")[0])


def _dejmps_pump_fp_iterated() -> float:
    f0 = 0.9
    return float(_theory().pumping_fixed_point([f0, (1 - f0) / 3, (1 - f0) / 3, (1 - f0) / 3], "dejmps")[0])


def _t1t2_closed() -> float:
    ta, tb, t1, t2 = 0.1, 0.2, 1.0, 0.5
    ga, gb = 1 - math.exp(-ta / t1), 1 - math.exp(-tb / t1)
    return (1 + ga * gb + (1 - ga) * (1 - gb) + 2 * math.exp(-ta / t2) * math.exp(-tb / t2)) / 4


def _t1t2_memory() -> float:
    """Store both halves of Φ⁺ in T1/T2 memories (the physical model) and measure."""
    from qstack.physical.memory import QuantumMemory
    from qstack.quantum import bell_state, create_qubits, fidelity, state_of

    mem_a = QuantumMemory("a", 1, t1=1.0, t2=0.5)
    mem_b = QuantumMemory("b", 1, t1=1.0, t2=0.5)
    qa, qb = create_qubits(2, bell_state("phi+"))
    pa, pb = mem_a.store(qa, 0.0), mem_b.store(qb, 0.0)
    qa, qb = mem_a.pop(pa, 0.1), mem_b.pop(pb, 0.2)
    return float(fidelity(state_of([qa, qb]), bell_state("phi+")))


def _one_half_t1t2_model() -> float:
    from qstack.physical.memory import T1T2Noise

    return T1T2Noise(t1=1.0, t2=0.5).expected_fidelity(0.3)


def _one_half_t1t2_closed() -> float:
    t, t1, t2 = 0.3, 1.0, 0.5
    return (1 + 2 * math.exp(-t / t2) + math.exp(-t / t1)) / 4


def _single_click_model(which: str) -> float:
    from qstack.physical.heralding import HeraldingModel

    m = HeraldingModel("single_click", 0.5, 0.5, 0.0, 0.1)
    return m.fidelity if which == "f" else m.success_probability


def _double_click_model() -> float:
    from qstack.physical.heralding import HeraldingModel

    return HeraldingModel("double_click", 0.5, 0.4).success_probability


def _chsh_werner_state() -> float:
    """Horodecki optimum of the Werner density matrix itself."""
    import numpy as np

    from qstack.quantum.bell import max_chsh_value
    from qstack.quantum.states import BELL_KETS_NP

    f = 0.95
    phi = BELL_KETS_NP[0]
    w = _w(f)
    rho = w * np.outer(phi, phi.conj()) + (1 - w) * np.eye(4) / 4
    return float(max_chsh_value(rho))


def _di_closed() -> float:
    f = 0.98
    s = 2 * math.sqrt(2) * _w(f)
    q = 2 * (1 - f) / 3
    return 1 - _h(q) - _h((1 + math.sqrt((s / 2) ** 2 - 1)) / 2)


def _teleport_protocol() -> float:
    """Average fidelity of teleporting the six cardinal states over a Werner resource (an exact
    average over the Bloch sphere for a unital channel), computed with qstack's gates."""
    import numpy as np

    from qstack.quantum.states import BELL_KETS_NP

    f = 0.9
    w = _w(f)
    phi = BELL_KETS_NP[0]
    resource = w * np.outer(phi, phi.conj()) + (1 - w) * np.eye(4) / 4
    # teleportation with a Bell-diagonal resource is the Pauli channel of the resource's weights
    weights = [float(np.real(b.conj() @ resource @ b)) for b in BELL_KETS_NP]
    paulis = [np.eye(2), np.diag([1.0, -1.0]), np.array([[0, 1], [1, 0]]), np.array([[0, 1], [-1, 0]])]
    states = [np.array(v, dtype=complex) / np.linalg.norm(v) for v in
              ([1, 0], [0, 1], [1, 1], [1, -1], [1, 1j], [1, -1j])]
    total = 0.0
    for psi in states:
        rho = np.outer(psi, psi.conj())
        out = sum(p * (s @ rho @ s.conj().T) for p, s in zip(weights, paulis, strict=True))
        total += float(np.real(psi.conj() @ out @ psi))
    return total / len(states)


_REFS: list[Reference] = [
    Reference(
        "werner_swap_two_links", 0.8133333333333334,
        "F = (3·w₁w₂ + 1)/4 with w = (4F − 1)/3 (Werner parameters multiply under an ideal swap)",
        "Briegel, Dür, Cirac & Zoller, PRL 81, 5932 (1998); Dür et al., PRA 59, 169 (1999)",
        {"F1": 0.9, "F2": 0.9}, lambda: (3 * _w(0.9) ** 2 + 1) / 4,
        lambda: _theory().werner_swap_fidelity(0.9, 0.9), "qstack.quantum.theory.werner_swap_fidelity"),
    Reference(
        "werner_swap_three_links", 0.7382222222222223,
        "F = (3·w₁w₂w₃ + 1)/4, w = (4F − 1)/3", "Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999)",
        {"F": [0.9, 0.9, 0.9]}, lambda: (3 * _w(0.9) ** 3 + 1) / 4,
        lambda: _theory().werner_swap_fidelity(0.9, 0.9, 0.9), "qstack.quantum.theory.werner_swap_fidelity"),
    Reference(
        "noisy_swap", 0.79290236,
        "w' = w₁w₂·p₂·(4η² − 1)/3, F = (3w' + 1)/4 (gate reliability p₂, measurement reliability η)",
        "Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999), Eq. (8)",
        {"F1": 0.9, "F2": 0.9, "p2": 0.99, "eta": 0.99},
        lambda: (3 * _w(0.9) ** 2 * 0.99 * (4 * 0.99**2 - 1) / 3 + 1) / 4,
        _swap_noisy, "qstack.quantum.theory.noisy_swap_werner_parameter"),
    Reference(
        "bbpssw_fidelity", 0.838150289017341,
        "F' = (F² + e²)/p, e = (1 − F)/3", "Bennett, Brassard, Popescu, Schumacher, Smolin & Wootters, "
        "PRL 76, 722 (1996)", {"F": 0.8}, lambda: _bbpssw_closed("f"),
        lambda: _theory().bbpssw(0.8)[0], "qstack.quantum.theory.bbpssw"),
    Reference(
        "bbpssw_success", 0.7688888888888891,
        "p = F² + 2F·e + 5e², e = (1 − F)/3", "Bennett et al., PRL 76, 722 (1996)", {"F": 0.8},
        lambda: _bbpssw_closed("p"), lambda: _theory().bbpssw(0.8)[1], "qstack.quantum.theory.bbpssw"),
    Reference(
        "dejmps_fidelity", 0.87746170678337,
        "A' = (A² + B²)/N, N = (A + B)² + (C + D)² (A = Φ⁺, B = Ψ⁻, C = Ψ⁺, D = Φ⁻)",
        "Deutsch, Ekert, Jozsa, Macchiavello, Popescu & Sanpera, PRL 77, 2818 (1996)",
        {"coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻)": [0.8, 0.1, 0.06, 0.04]}, lambda: _dejmps_closed("f"), _dejmps_f,
        "qstack.quantum.theory.dejmps"),
    Reference(
        "dejmps_success", 0.7312000000000001,
        "N = (A + B)² + (C + D)²", "Deutsch et al., PRL 77, 2818 (1996)",
        {"coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻)": [0.8, 0.1, 0.06, 0.04]}, lambda: _dejmps_closed("p"), _dejmps_p,
        "qstack.quantum.theory.dejmps"),
    Reference(
        "bbpssw_pumping_fixed_point", 0.943460157159295,
        "F* = [3(2F₀−1) + √(9(2F₀−1)² + 2(4F₀−1)(1−F₀))] / (2(4F₀−1)) (root of F' = F in the pumping map)",
        "Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999); Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007)",
        {"F0": 0.9}, _bbpssw_pump_fp_closed, _bbpssw_pump_fp_iterated,
        "qstack.quantum.theory.pumping_fixed_point (iterated map)"),
    Reference(
        "dejmps_pumping_fixed_point", 0.9601731217040121,
        "A* = 1/(1 + 2r + s), r the positive root of e²r³ + e(2F₀ − e)r² + F₀(F₀ − 2e)r − e² = 0, "
        "s = r(F₀ − e + er)/e, e = (1 − F₀)/3",
        "Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007) (derived in qstack.quantum.theory)",
        {"F0": 0.9}, lambda: float(_theory().dejmps_pumping_fixed_point(0.9)[0]), _dejmps_pump_fp_iterated,
        "qstack.quantum.theory.pumping_fixed_point (iterated map)"),
    Reference(
        "t1t2_stored_bell_pair", 0.7139228856093868,
        "F = [1 + γ_aγ_b + (1−γ_a)(1−γ_b) + 2e^{−t_a/T2}e^{−t_b/T2}]/4, γ = 1 − e^{−t/T1}",
        "Nielsen & Chuang (2000) §8.3 (amplitude damping and dephasing) applied to both halves of Φ⁺",
        {"t_a": 0.1, "t_b": 0.2, "T1": 1.0, "T2": 0.5}, _t1t2_closed, _t1t2_memory,
        "qstack.physical.memory.QuantumMemory (T1/T2 model) on a stored Φ⁺"),
    Reference(
        "t1t2_one_half_expected_fidelity", (1 + 2 * math.exp(-0.6) + math.exp(-0.3)) / 4,
        "F = (1 + λx + λy + λz)/4 = (1 + 2e^{−t/T2} + e^{−t/T1})/4 (entanglement fidelity = Tr(PTM)/4)",
        "Horodecki, Horodecki & Horodecki, PRA 60, 1888 (1999); Nielsen, Phys. Lett. A 303, 249 (2002)",
        {"t": 0.3, "T1": 1.0, "T2": 0.5}, _one_half_t1t2_closed, _one_half_t1t2_model,
        "qstack.physical.memory.T1T2Noise.expected_fidelity"),
    Reference(
        "depolarizing_memory", 0.5926545765453743,
        "w = w₀·e^{−(t_a + t_b)/T}", "depolarising channel semigroup (Nielsen & Chuang (2000) §8.3.4)",
        {"w0": 0.8, "t_a": 0.1, "t_b": 0.2, "T": 1.0}, lambda: 0.8 * math.exp(-0.3),
        lambda: _theory().depolarizing_memory_werner_parameter(0.8, 0.1, 0.2, 1.0),
        "qstack.quantum.theory.depolarizing_memory_werner_parameter"),
    Reference(
        "teleportation_fidelity", 0.9333333333333332,
        "F_avg = (2F + 1)/3 over a Werner resource of fidelity F",
        "Horodecki, Horodecki & Horodecki, PRA 60, 1888 (1999)", {"F": 0.9}, lambda: (2 * 0.9 + 1) / 3,
        _teleport_protocol, "Pauli channel of the resource's Bell weights, averaged over a 2-design"),
    Reference(
        "single_click_fidelity", 0.9230769230769231,
        "F = (1 − α)/(1 − αη/2) (no dark counts, symmetric arms)",
        "Cabrillo, Cirac, García-Fernández & Zoller, PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268 (2018)",
        {"alpha": 0.1, "eta": 0.5}, lambda: (1 - 0.1) / (1 - 0.1 * 0.5 / 2), lambda: _single_click_model("f"),
        "qstack.physical.heralding.HeraldingModel('single_click')"),
    Reference(
        "single_click_success", 0.0975,
        "p = 2αη − α²η²", "Humphreys et al., Nature 558, 268 (2018)", {"alpha": 0.1, "eta": 0.5},
        lambda: 2 * 0.1 * 0.5 - (0.1 * 0.5) ** 2, lambda: _single_click_model("p"),
        "qstack.physical.heralding.HeraldingModel('single_click')"),
    Reference(
        "double_click_success", 0.1,
        "p = η_a·η_b/2 (Barrett–Kok, two rounds, no dark counts)",
        "Barrett & Kok, PRA 71, 060310(R) (2005)", {"eta_a": 0.5, "eta_b": 0.4}, lambda: 0.5 * 0.4 / 2,
        _double_click_model, "qstack.physical.heralding.HeraldingModel('double_click')"),
    Reference(
        "plob_bound", 0.15200309344505,
        "C = −log₂(1 − η) secret bits per channel use", "Pirandola, Laurenza, Ottaviani & Banchi, "
        "Nat. Commun. 8, 15043 (2017)", {"eta": 0.1}, lambda: -math.log2(1 - 0.1),
        lambda: _entropy().plob_bound(0.1), "qstack.qkd.entropy.plob_bound"),
    Reference(
        "tgw_bound", 0.2895066171949849,
        "C ≤ log₂((1 + η)/(1 − η))", "Takeoka, Guha & Wilde, Nat. Commun. 5, 5235 (2014)", {"eta": 0.1},
        lambda: math.log2(1.1 / 0.9), lambda: _entropy().tgw_bound(0.1), "qstack.qkd.entropy.tgw_bound"),
    Reference(
        "bb84_key_fraction", 0.4272060857680875,
        "r = 1 − 2h(Q)", "Shor & Preskill, PRL 85, 441 (2000)", {"Q": 0.05}, lambda: 1 - 2 * _h(0.05),
        lambda: _entropy().bb84_asymptotic_rate(0.05), "qstack.qkd.entropy.bb84_asymptotic_rate"),
    Reference(
        "chsh_werner", 2.6398653164297774,
        "S = 2√2·(4F − 1)/3", "Horodecki, Horodecki & Horodecki, Phys. Lett. A 200, 340 (1995)", {"F": 0.95},
        lambda: 2 * math.sqrt(2) * _w(0.95), _chsh_werner_state,
        "qstack.quantum.bell.max_chsh_value of the Werner density matrix"),
    Reference(
        "chsh_werner_formula", 2.6398653164297774,
        "S = 2√2·(4F − 1)/3", "Horodecki et al., Phys. Lett. A 200, 340 (1995)", {"F": 0.95},
        lambda: 2 * math.sqrt(2) * _w(0.95), lambda: _entropy().chsh_value_werner(0.95),
        "qstack.qkd.entropy.chsh_value_werner"),
    Reference(
        "di_qkd_rate", 0.7185064123172269,
        "r = 1 − h(Q) − h((1 + √((S/2)² − 1))/2), Werner: S = 2√2(4F−1)/3, Q = 2(1 − F)/3",
        "Acín et al., PRL 98, 230501 (2007); Pironio et al., NJP 11, 045021 (2009)", {"F": 0.98}, _di_closed,
        lambda: _entropy().di_qkd_rate(_entropy().chsh_value_werner(0.98), 2 * (1 - 0.98) / 3),
        "qstack.qkd.entropy.di_qkd_rate"),
    Reference(
        "two_segment_waiting_time", 4.705882352941177,
        "E[T] = (3 − 2p)/(p(2 − p)) slots (= E[max(G₁, G₂)], geometric G)",
        "Shchukin, Rozpędek & Wehner, PRA 100, 032322 (2019)", {"p": 0.3},
        lambda: (3 - 2 * 0.3) / (0.3 * (2 - 0.3)),
        lambda: _analysis().two_segment_waiting_time(0.3), "qstack.network.analysis.two_segment_waiting_time"),
    Reference(
        "two_segment_waiting_time_cutoff0", 11.111111111111109,
        "E[T] = 1/p² slots with cut-off 0 (both links in one slot)",
        "Brand, Coopmans & Elkouss, IEEE JSAC 38, 619 (2020)", {"p": 0.3, "cutoff_slots": 0},
        lambda: 1 / 0.3**2, lambda: _analysis().two_segment_waiting_time(0.3, cutoff_slots=0),
        "qstack.network.analysis.two_segment_waiting_time"),
]


def _analysis() -> Any:
    from qstack.network import analysis

    return analysis


#: the reference vectors by name
REFERENCES: dict[str, Reference] = {r.name: r for r in _REFS}


def reference_table() -> list[dict[str, Any]]:
    """The table as rows (name, value, formula, source, inputs, computed_by) for docs and JSON."""
    return [{"name": r.name, "value": r.value, "formula": r.formula, "source": r.source, "inputs": r.inputs,
             "computed_by": r.computed_by} for r in _REFS]
