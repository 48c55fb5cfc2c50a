"""Physics of delivered end-to-end pairs against closed forms (Dür et al. 1999; memory T2).

Each delivered pair's fidelity is measured by the network from the density matrix of the head
and tail qubits against the Bell state the protocol announces (the Pauli frame); these tests
check it per delivery, to 1e-9, wherever the answer is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from qstack_network_helpers import ARM, HOP, chain, run

from qstack.link.service import LinkOK
from qstack.network.protocol import SwapEvent
from qstack.network.service import NetDeliver
from qstack.quantum import theory
from qstack.quantum.states import BELL_KETS_NP

IDEAL = {"t1": "inf", "t2": "inf"}  # STARLIGHT defaults: no gate noise, no dark counts, double click


# --------------------------------------------------------------------------- Werner links


@pytest.mark.parametrize("raw", [0.9, 0.75])
@pytest.mark.parametrize(
    "n, swapping",
    [
        (2, "nested"),
        (2, "asap"),
        (3, "asap"),
        (3, "nested"),
        (5, "asap"),
        (5, "nested"),
    ],
)
def test_werner_parameters_multiply_along_the_chain(n, swapping, raw):
    """Ideal memories and gates, double click without dark counts (heralded state exactly Ψ±),
    each link pair depolarised to a Werner state of fidelity F = ``raw_fidelity``: ideal
    swaps multiply the Werner parameters w = (4F−1)/3, so *every* delivered pair of an N-node
    chain has F_e2e = (3·w^(N−1) + 1)/4 — for N = 2 just F — whatever the swap order."""
    net = chain(n, seed=11, swapping=swapping, raw_fidelity=raw, **IDEAL)
    flow = run(net)
    fids = np.array([d.fidelity for d in flow.deliveries])
    assert len(fids) >= 20
    expected = theory.werner_swap_fidelity(*[raw] * (n - 1))
    if n == 2:
        assert expected == pytest.approx(raw, abs=1e-15)
    np.testing.assert_allclose(fids, expected, rtol=0, atol=1e-9)


def test_single_link_without_noise_delivers_perfect_bell_pairs():
    """Double click with perfect detectors and ideal memories heralds exactly Ψ⁺ or Ψ⁻: a
    single link delivers pairs of fidelity 1 to the announced Bell state."""
    flow = run(chain(2, seed=2, **IDEAL))
    assert len(flow.deliveries) >= 20
    np.testing.assert_allclose([d.fidelity for d in flow.deliveries], 1.0, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- memory decoherence


def test_single_link_dephasing_by_pair_age():
    """T2 memories (T1 = ∞), N = 2: both qubits dephase from the pair's emission time until
    delivery, so a delivered Ψ± pair of age t has F = (1 + e^{−2t/T2})/2. On a single link
    the age is fixed by the protocol: the herald reaches the tail 2d after emission and the
    TRACK from the head arrives D later, so t = 2d + D for every pair."""
    t2 = 2e-3
    flow = run(chain(2, seed=5, t1="inf", t2=t2))
    assert len(flow.deliveries) >= 20
    for d in flow.deliveries:
        assert d.age == pytest.approx(2 * ARM + HOP, abs=1e-12)
        expected = (1 + math.exp(-2 * d.age / t2)) / 2
        assert expected == pytest.approx(theory.stored_bell_pair_fidelity(d.age, d.age, math.inf, t2), abs=1e-15)
        assert d.fidelity == pytest.approx(expected, abs=1e-9)
    assert flow.deliveries[0].fidelity < 0.95  # the decoherence is visible


def test_two_link_dephasing_adds_up_over_all_four_storage_times(monkeypatch):
    """T2 memories, N = 3, swap-ASAP, perfect links: dephasing is a random Z on each stored
    qubit, and a Z on any qubit of the chain ends up as a Z on the end-to-end pair, so the
    coherences multiply: F = (1 + e^{−Σtᵢ/T2})/2 with Σtᵢ = (t−e₁) + (t−e₂) + (s−e₁) + (s−e₂)
    for link pairs emitted at e₁, e₂, swapped at s and delivered at t (the repeater's qubits
    decohere until the swap, the end qubits until delivery)."""
    t2 = 3e-3
    swaps: dict[tuple[str, int], tuple[float, float, float]] = {}
    created: dict[tuple[str, int], float] = {}
    net = chain(3, seed=6, t1="inf", t2=t2, memory_positions=3)
    net.recorder.subscribe(LinkOK, lambda ok: created.__setitem__(ok.pair_id, ok.created))
    net.recorder.subscribe(
        SwapEvent, lambda ev: swaps.__setitem__(ev.down, (ev.time, created[ev.up], created[ev.down]))
    )
    flow = run(net)
    assert len(flow.deliveries) >= 20
    ages = set()
    for d in flow.deliveries:
        s, e1, e2 = swaps[d.tail_pair]
        total = (d.time - e1) + (d.time - e2) + (s - e1) + (s - e2)
        assert d.age == pytest.approx(d.time - min(e1, e2), abs=1e-12)
        assert d.fidelity == pytest.approx((1 + math.exp(-total / t2)) / 2, abs=1e-9)
        ages.add(round(d.age, 9))
    assert len(ages) > 3  # the storage times vary from pair to pair


# --------------------------------------------------------------------------- Pauli frames


def _record_bell_coefficients(net) -> list[tuple[int, np.ndarray]]:
    """Subscribe to delivered pairs and record (announced frame, the four Bell fidelities)."""
    seen: list[tuple[int, np.ndarray]] = []

    def deliver(d):
        if d.end == "tail":
            rho = net.pair_state(d)
            seen.append((d.frame, np.array([float(np.real(b.conj() @ rho @ b)) for b in BELL_KETS_NP])))

    net.recorder.subscribe(NetDeliver, deliver)
    return seen


@pytest.mark.parametrize("n, swapping", [(2, "asap"), (3, "asap"), (4, "nested"), (5, "asap")])
def test_announced_frame_is_the_bell_state_the_pair_is_in(n, swapping):
    """With Werner links (F = 0.9) the delivered pair is Bell-diagonal with its largest weight
    on one Bell state: the frame announced by the TRACK (XOR of heralds and swap outcomes,
    order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) must be that state, and its fidelity equals the measured one. Double
    click heralds only Ψ± (frames 2, 3) on a single link; random swap outcomes make all four
    frames occur on longer chains."""
    net = chain(n, seed=21, swapping=swapping, raw_fidelity=0.9, **IDEAL)
    seen = _record_bell_coefficients(net)
    flow = run(net, 0.05)
    assert len(seen) == len(flow.deliveries) >= 40
    expected = theory.werner_swap_fidelity(*[0.9] * (n - 1))
    for (frame, coeffs), d in zip(seen, flow.deliveries, strict=True):
        assert d.frame == frame
        assert int(np.argmax(coeffs)) == frame
        assert coeffs[frame] == pytest.approx(expected, abs=1e-9)
        assert d.fidelity == pytest.approx(coeffs[frame], abs=1e-12)
        others = np.delete(coeffs, frame)
        np.testing.assert_allclose(others, (1 - expected) / 3, atol=1e-9)  # Werner: the rest is flat
    frames = {f for f, _ in seen}
    assert frames == ({2, 3} if n == 2 else {0, 1, 2, 3})
