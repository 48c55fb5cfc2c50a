"""MDI-QKD (Lo, Curty & Qi 2012, Ma & Razavi 2012 channel model) and sending-or-not-sending
twin-field QKD (Wang, Yu & Hu 2018) key rates against their analytic limits: the closed forms at
one parameter point recomputed independently (MDI naively, TF-QKD with the two-pulse
interference averaged by quadrature instead of the Bessel function), MDI's rate ∝ η and TF's ∝
sqrt(η) at long distance to 1e-9, MDI's zero beyond its maximal distance, and TF beating the
PLOB bound beyond a crossover distance, which is also derived from the long-distance limit.
Against first principles and outside references: MDI's Bessel-function gains/QBERs as the
phase average of the relay's four-detector click pattern, Y11 and e11 from a two-photon (HOM)
count, the gains against an independent public coding (Jungling-White/MDI-QKD), and SNS's
secure distances against Wang, Yu & Hu's abstract (700/600/500/300 km at e_d = 15–45 %)."""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import pytest
from scipy.integrate import quad
from scipy.special import i0

from qstack.qkd.entropy import binary_entropy, plob_bound
from qstack.qkd.mdi import mdi_key_rate, mdi_max_distance, mdi_optimal_rate, mdi_rate, mdi_statistics
from qstack.qkd.twin_field import (
    sns_crossover_distance,
    sns_key_rate,
    sns_max_distance,
    sns_optimal_max_distance,
    sns_optimal_rate,
    sns_rate,
    sns_statistics,
)

#: the usual MDI-QKD simulation devices (Lo, Curty & Qi's, after Ursin et al.'s 144-km link):
#: η_det 14.5 %, Y0 = 3e-6 per detector, e_d = 1.5 %, f = 1.16
MDI_DEVICES = {"detector_efficiency": 0.145, "dark_count": 3e-6, "misalignment": 0.015}
#: TF-QKD devices of the 2019–2020 long-fibre experiments' order: η_det 60 %, p_d 1e-8, e_d 3 %
TF_DEVICES = {"detector_efficiency": 0.6, "dark_count": 1e-8, "misalignment": 0.03}


def h(p: float) -> float:
    return float(binary_entropy(p))


def fibre(distance_km: float) -> float:
    return 10 ** (-0.2 * distance_km / 10)


# ------------------------------------------------------------------------------------- MDI-QKD


def test_mdi_closed_forms_at_one_point_match_an_independent_evaluation():
    """η_a = η_b = 0.01, μ_a = μ_b = 0.5, p_d = 1e-6, e_d = 1.5 %, f = 1.16. By hand:
    μ' = 0.01, x = sqrt(0.005²)/2 = 0.0025;
    Q_C = 2(1−p_d)² e^{−0.005} [1 − (1−p_d) e^{−0.0025}]² = 1.24165e-5;
    Q_E = 2 p_d (1−p_d)² e^{−0.005} [I0(0.005) − (1−p_d) e^{−0.005}] = 9.9397e-9;
    Q^Z = 1.24264e-5, E^Z = (0.015 Q_C + 0.985 Q_E)/Q^Z = 0.0157759;
    Y11 = (1−p_d)² [5e-5 + 0.0397 p_d + 3.92 p_d²] = 5.00396e-5, e11^X = 1/2 − 0.485·5e-5(1−p_d)²/Y11
    = 0.0153848; Q11 = 0.25 e^{−1} Y11 = 4.60214e-6;
    R = Q11 [1 − h(0.0153848)] − 1.16 Q^Z h(0.0157759) = 2.38763e-6 bits per pulse pair.
    The library's cancellation-free evaluation agrees with the naive one to 1e-9."""
    ea = eb = 0.01
    mu, pd, ed, f = 0.5, 1e-6, 0.015, 1.16
    mp, x = ea * mu + eb * mu, math.sqrt(ea * mu * eb * mu) / 2
    q_c = 2 * (1 - pd) ** 2 * math.exp(-mp / 2) * (1 - (1 - pd) * math.exp(-ea * mu / 2)) ** 2
    q_e = 2 * pd * (1 - pd) ** 2 * math.exp(-mp / 2) * (float(i0(2 * x)) - (1 - pd) * math.exp(-mp / 2))
    q_z = q_c + q_e
    e_z = (ed * q_c + (1 - ed) * q_e) / q_z
    y = (1 - pd) * math.exp(-mp / 4)
    q_x = 2 * y * y * (1 + 2 * y * y - 4 * y * float(i0(x)) + float(i0(2 * x)))
    e_x = (q_x / 2 - 2 * (0.5 - ed) * y * y * (float(i0(2 * x)) - 1)) / q_x
    y11 = (1 - pd) ** 2 * (ea * eb / 2 + (2 * ea + 2 * eb - 3 * ea * eb) * pd + 4 * (1 - ea) * (1 - eb) * pd**2)
    e11 = (y11 / 2 - (0.5 - ed) * (1 - pd) ** 2 * ea * eb / 2) / y11
    q11 = mu * mu * math.exp(-2 * mu) * y11
    rate = q11 * (1 - h(e11)) - f * q_z * h(e_z)
    s = mdi_statistics(ea, eb, mu, mu, dark_count=pd, misalignment=ed)
    got = (s.q_z, s.e_z, s.q_x, s.e_x, s.y11, s.e11_x, s.q11_z)
    assert got == pytest.approx((q_z, e_z, q_x, e_x, y11, e11, q11), rel=1e-9, abs=0.0)
    assert mdi_rate(ea, eb, mu, mu, dark_count=pd, misalignment=ed, f=f) == pytest.approx(rate, rel=1e-9, abs=0.0)
    assert rate == pytest.approx(2.38763e-6, rel=1e-5, abs=0.0)  # the hand value of the docstring


def test_perfect_mdi_devices_give_the_single_photon_pairs_as_key():
    """No dark counts and no misalignment: E^Z = e11^X = 0 and Y11 = η_a η_b / 2 (the ψ± half of
    the Bell basis), so R = Q11 = μ² e^{−2μ} η_a η_b / 2 exactly."""
    s = mdi_statistics(0.3, 0.2, 0.4, 0.4)
    assert s.e_z == 0.0 and s.e11_x == 0.0
    assert s.y11 == pytest.approx(0.03, rel=1e-12, abs=0.0)
    assert mdi_rate(0.3, 0.2, 0.4, 0.4) == pytest.approx(0.16 * math.exp(-0.8) * 0.03, rel=1e-12, abs=0.0)


def test_mdi_rate_scales_as_eta_like_direct_transmission():
    """Without dark counts, R/(η_a η_b) → μ²/2 [e^{−2μ}(1 − h(e_d)) − f h(e_d)] as η → 0, with
    corrections O(μ sqrt(η)): at 1000 km (200 dB) the ratio is the limit to 1e-9, and the rate
    falls by η(1000 km)/η(800 km) = 1e-4 between 800 and 1000 km, to 5e-9 (the correction at
    800 km, O(μ sqrt(η)) = O(3e-9), is 1.6e-9 there)."""
    mu, ed, f = 0.3, 0.015, 1.16
    limit = mu * mu / 2 * (math.exp(-2 * mu) * (1 - h(ed)) - f * h(ed))
    r1000 = mdi_key_rate(1000e3, mu=mu, misalignment=ed, f=f)
    r800 = mdi_key_rate(800e3, mu=mu, misalignment=ed, f=f)
    assert r1000 / fibre(1000) == pytest.approx(limit, rel=1e-9, abs=0.0)
    assert r1000 / r800 == pytest.approx(fibre(1000) / fibre(800), rel=5e-9, abs=0.0)
    assert r1000 < plob_bound(fibre(1000))  # O(η), below the repeaterless bound


def test_mdi_rate_is_zero_beyond_its_maximal_distance():
    """With dark counts the Z-basis errors of dark-count coincidences outgrow Q11 ∝ η: the rate
    (before clipping) changes sign once, at L_max; it is positive just before, exactly zero
    after, and L_max is infinite without dark counts."""
    l_max = mdi_max_distance(mu=0.3, **MDI_DEVICES)
    assert 150e3 < l_max < 300e3
    assert mdi_key_rate(l_max, mu=0.3, clip=False, **MDI_DEVICES) == pytest.approx(0.0, abs=1e-18)
    assert mdi_key_rate(l_max - 1.0, mu=0.3, **MDI_DEVICES) > 0.0
    for d in (l_max + 1.0, 1.5 * l_max, 3 * l_max):
        assert mdi_key_rate(d, mu=0.3, **MDI_DEVICES) == 0.0
        assert mdi_key_rate(d, mu=0.3, clip=False, **MDI_DEVICES) < 0.0
    assert mdi_max_distance(mu=0.3, detector_efficiency=0.145, misalignment=0.015) == math.inf
    rate, mu = mdi_optimal_rate(100e3, **MDI_DEVICES)
    assert rate >= mdi_key_rate(100e3, mu=0.3, **MDI_DEVICES) and 0 < mu <= 1
    for d in (1e3, 50e3, 100e3, 200e3):  # MDI-QKD never beats PLOB
        assert mdi_key_rate(d, mu=0.3, **MDI_DEVICES) < plob_bound(fibre(d / 1e3))


#: polarisation vectors (H, V components) of the four BB84 states; bit 0 = H or +45°
_Z_STATES = ((1.0, 0.0), (0.0, 1.0))
_X_STATES = ((1 / math.sqrt(2), 1 / math.sqrt(2)), (1 / math.sqrt(2), -1 / math.sqrt(2)))
#: the relay's four detectors: (beam-splitter output port, polarisation) = 1H, 1V, 2H, 2V
_MODES = ((1, 0), (1, 1), (2, 0), (2, 1))


def _bell_outcome(clicked: frozenset) -> str | None:
    """The relay's announcement for a set of clicking detectors: exactly one H and one V click is a
    ψ+ (same output port) or ψ− (different ports); anything else is a failed measurement."""
    if len(clicked) != 2:
        return None
    (p1, s1), (p2, s2) = (_MODES[m] for m in sorted(clicked))
    if s1 == s2:
        return None
    return "psi+" if p1 == p2 else "psi-"


def _is_error(basis: str, bit_a: int, bit_b: int, outcome: str) -> bool:
    """Lo–Curty–Qi sifting: in Z the bits must differ (Bob flips his); in X a ψ+ means equal bits
    and a ψ− different ones."""
    if basis == "Z":
        return bit_a == bit_b
    return (bit_a == bit_b) != (outcome == "psi+")


def _coherent_relay(basis, eta_a, eta_b, mu_a, mu_b, p_d, points=256):
    """(gain, error gain) of the relay for phase-randomised coherent pulses, from first principles:
    the 50:50 beam splitter sends (a ± b e^{iφ})/√2 to ports 1/2, each detector clicks with
    1 − (1−p_d) e^{−I} independently, averaged over the four state pairs and over the relative phase
    φ (trapezoid rule: exponentially accurate for a periodic analytic integrand)."""
    states = _Z_STATES if basis == "Z" else _X_STATES
    gain = err = 0.0
    for bit_a, pa in enumerate(states):
        for bit_b, pb in enumerate(states):
            for k in range(points):
                phase = complex(math.cos(2 * math.pi * k / points), math.sin(2 * math.pi * k / points))
                a = [math.sqrt(eta_a * mu_a) * c for c in pa]
                b = [math.sqrt(eta_b * mu_b) * c * phase for c in pb]
                field = {(1, s): (a[s] + b[s]) / math.sqrt(2) for s in (0, 1)}
                field.update({(2, s): (a[s] - b[s]) / math.sqrt(2) for s in (0, 1)})
                silent = [(1 - p_d) * math.exp(-abs(field[m]) ** 2) for m in _MODES]
                for i in range(4):
                    for j in range(i + 1, 4):
                        outcome = _bell_outcome(frozenset((i, j)))
                        if outcome is None:
                            continue
                        others = math.prod(silent[m] for m in range(4) if m not in (i, j))
                        p = (1 - silent[i]) * (1 - silent[j]) * others
                        gain += p / (4 * points)
                        err += p / (4 * points) if _is_error(basis, bit_a, bit_b, outcome) else 0.0
    return gain, err


def _single_photon_relay(basis, eta_a, eta_b, p_d):
    """(Y11, e11·Y11) from a two-photon count: Alice's and Bob's photons each survive with η; the
    survivors' joint amplitude on the four output modes is α_m β_n + α_n β_m (√2 α_m β_m for both in
    one mode — Hong–Ou–Mandel interference when the polarisations agree); occupied detectors click,
    empty ones dark-click with p_d; averaged over the four state pairs of the basis."""
    states = _Z_STATES if basis == "Z" else _X_STATES
    y11 = err = 0.0
    for bit_a, pa in enumerate(states):
        for bit_b, pb in enumerate(states):
            alpha = [pa[s] / math.sqrt(2) for _, s in _MODES]
            beta = [(1 if port == 1 else -1) * pb[s] / math.sqrt(2) for port, s in _MODES]
            occupations = {frozenset(): (1 - eta_a) * (1 - eta_b)}
            for m in range(4):
                occupations[frozenset((m,))] = occupations.get(frozenset((m,)), 0.0) + \
                    eta_a * (1 - eta_b) * alpha[m] ** 2 + (1 - eta_a) * eta_b * beta[m] ** 2
                for n in range(m, 4):
                    amp2 = 2 * (alpha[m] * beta[m]) ** 2 if m == n else (alpha[m] * beta[n] + alpha[n] * beta[m]) ** 2
                    key = frozenset((m, n))
                    occupations[key] = occupations.get(key, 0.0) + eta_a * eta_b * amp2
            for occupied, p_occ in occupations.items():
                empty = [m for m in range(4) if m not in occupied]
                for mask in range(1 << len(empty)):
                    dark = {empty[i] for i in range(len(empty)) if mask >> i & 1}
                    outcome = _bell_outcome(frozenset(occupied | dark))
                    if outcome is None:
                        continue
                    p = p_occ * p_d ** len(dark) * (1 - p_d) ** (len(empty) - len(dark)) / 4
                    y11 += p
                    err += p if _is_error(basis, bit_a, bit_b, outcome) else 0.0
    return y11, err


def test_mdi_gains_and_qbers_are_the_phase_average_of_the_relays_click_pattern():
    """Ma & Razavi's Bessel closed forms (I0(2x) from the Z-basis same-polarisation interference,
    I0(x) and I0(2x) from the X basis) equal the first-principles average over the relative phase
    of the four detectors' click probabilities for coherent inputs, to 1e-12, with unequal arms
    and intensities and a large dark-count probability so every term matters. Misalignment enters
    by Ma & Razavi's model: E·Q = e_d·(correct) + (1 − e_d)·(wrong), in both bases."""
    eta_a, eta_b, mu_a, mu_b, p_d = 0.3, 0.05, 0.4, 0.7, 1e-3
    qz, ez_qz = _coherent_relay("Z", eta_a, eta_b, mu_a, mu_b, p_d)
    qx, ex_qx = _coherent_relay("X", eta_a, eta_b, mu_a, mu_b, p_d)
    s = mdi_statistics(eta_a, eta_b, mu_a, mu_b, dark_count=p_d)
    assert (s.q_z, s.e_z * s.q_z, s.q_x, s.e_x * s.q_x) == pytest.approx((qz, ez_qz, qx, ex_qx), rel=1e-12, abs=0.0)
    e_d = 0.015
    s = mdi_statistics(eta_a, eta_b, mu_a, mu_b, dark_count=p_d, misalignment=e_d)
    assert s.e_z * s.q_z == pytest.approx(e_d * (qz - ez_qz) + (1 - e_d) * ez_qz, rel=1e-12, abs=0.0)
    assert s.e_x * s.q_x == pytest.approx(e_d * (qx - ex_qx) + (1 - e_d) * ex_qx, rel=1e-12, abs=0.0)


def test_mdi_single_photon_pair_yield_and_error_from_two_photon_interference():
    """Y11 = (1−p_d)²[η_aη_b/2 + (2η_a + 2η_b − 3η_aη_b)p_d + 4(1−η_a)(1−η_b)p_d²] and
    e11^X Y11 = Y11/2 − (1/2 − e_d)(1−p_d)² η_aη_b/2 equal the two-photon count: with both photons
    through, orthogonal polarisations give a ψ± half the time and equal ones bunch (HOM) and need a
    dark count; one photon lost needs one dark count, both lost two. Y11 is the same in both bases
    (the basis-independence the security proof rests on); the X-basis error of the ideal η_aη_b/2
    events is 0 at e_d = 0, the dark-count-assisted rest is random."""
    for eta_a, eta_b, p_d in ((0.3, 0.05, 1e-3), (0.9, 0.7, 0.02), (0.01, 0.01, 3e-6)):
        y11_z, _ = _single_photon_relay("Z", eta_a, eta_b, p_d)
        y11_x, e11_y11 = _single_photon_relay("X", eta_a, eta_b, p_d)
        s = mdi_statistics(eta_a, eta_b, 0.5, 0.5, dark_count=p_d)
        assert s.y11 == pytest.approx(y11_z, rel=1e-12, abs=0.0)
        assert s.y11 == pytest.approx(y11_x, rel=1e-12, abs=0.0)
        assert s.e11_x * s.y11 == pytest.approx(e11_y11, rel=1e-12, abs=0.0)
        assert s.q11_z == pytest.approx(0.25 * math.exp(-1.0) * y11_z, rel=1e-12, abs=0.0)


def test_mdi_gains_match_an_independent_public_implementation():
    """Reference: the MATLAB functions Qzkakb.m and Qxkakb.m of github.com/Jungling-White/MDI-QKD
    (code_of_our_work/, commit 6efb0b1), an independent coding of Ma & Razavi's polarisation
    closed forms with a different grouping — Z: Q = (Q_c + Q_e)/4 with Q_c = 8(1−p_d)² e^{−μ'/2}
    [1 − (1−p_d)e^{−η_aμ_a/2}][1 − (1−p_d)e^{−η_bμ_b/2}], Q_e = 8p_d(1−p_d)² e^{−μ'/2}[I0(2x) −
    (1−p_d)e^{−μ'/2}], EQ = (e_d Q_c + (1−e_d) Q_e)/4; X: Q_c = 2y²(y² − 2y I0(x) + I0(2x)),
    Q_e = 2y²(1 + y² − 2y I0(x)), Q = Q_c + Q_e, EQ = e_d Q_c + (1−e_d) Q_e. (No rate or distance
    of Lo–Curty–Qi, Ma–Razavi or Xu et al. could be read here, so this public code is the
    reference.) At the Lo–Curty–Qi devices (η_det 14.5 %, p_d = 3e-6, e_d = 1.5 %), symmetric
    relay, μ = 0.3, from 0 to 200 km, both agree with the library to 1e-12. The reference's
    grouping cancels (the X-basis terms are differences of O(1) numbers that leave ~1e-7 at
    200 km, 2.9e-8 relative error in doubles), so it is evaluated here in 50-digit decimal
    arithmetic (``I0`` by its series)."""
    with localcontext() as ctx:
        ctx.prec = 50
        _check_against_decimal_reference()


def _check_against_decimal_reference() -> None:
    pd, ed, mu = Decimal("3e-6"), Decimal("0.015"), Decimal("0.3")

    def i0_exact(z: Decimal) -> Decimal:
        q, term, total, k = z * z / 4, Decimal(1), Decimal(1), 0
        while term > Decimal("1e-60"):
            k += 1
            term = term * q / (k * k)
            total += term
        return total

    for km in (0, 50, 100, 150, 200):
        eta = Decimal("0.145") * (Decimal(10) ** (Decimal(-km) / 100))   # 10^(−0.2·km/2/10)
        mp, two_x = 2 * eta * mu, eta * mu
        b = (1 - (1 - pd) * (-eta * mu / 2).exp()) ** 2
        a = i0_exact(two_x) - (1 - pd) * (-mp / 2).exp()
        qc = 8 * (1 - pd) ** 2 * (-mp / 2).exp() * b
        qe = 8 * pd * (1 - pd) ** 2 * (-mp / 2).exp() * a
        q_z, eq_z = (qc + qe) / 4, (ed * qc + (1 - ed) * qe) / 4
        y = (1 - pd) * (-mp / 4).exp()
        qc = 2 * y * y * (y * y - 2 * y * i0_exact(two_x / 2) + i0_exact(two_x))
        qe = 2 * y * y * (1 + y * y - 2 * y * i0_exact(two_x / 2))
        q_x, eq_x = qc + qe, ed * qc + (1 - ed) * qe
        s = mdi_statistics(float(eta), float(eta), 0.3, 0.3, dark_count=3e-6, misalignment=0.015)
        reference = tuple(float(v) for v in (q_z, eq_z, q_x, eq_x))
        assert (s.q_z, s.e_z * s.q_z, s.q_x, s.e_x * s.q_x) == pytest.approx(reference, rel=1e-12, abs=0.0)


def test_mdi_bad_inputs_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="distance"):
        mdi_key_rate(-1.0)
    with pytest.raises(ValueError, match="misalignment"):
        mdi_key_rate(1e3, misalignment=0.6)
    with pytest.raises(ValueError, match="mu_a"):
        mdi_statistics(0.1, 0.1, 0.0, 0.1)
    with pytest.raises(ValueError, match="no key at zero distance"):
        mdi_max_distance(misalignment=0.3)


# ----------------------------------------------------------------------------- twin-field QKD


def test_sns_closed_forms_at_one_point_match_a_quadrature():
    """200 km (η_s = 0.6·10^{−2} = 0.006 per 100 km arm), μ = 0.3, ε = 0.05, p_d = 1e-8, e_d = 3 %,
    f = 1.1. By hand: x = η_s μ = 0.0018; neither sends 2p_d(1−p_d) = 2e-8; one sends
    2(1−p_d) e^{−0.0009}[1 − (1−p_d) e^{−0.0009}] = 1.79759e-3; both send (average over the
    relative phase θ of the exactly-one-click probability, by quadrature) = 3.59193e-3;
    S_Z = 0.9025·2e-8 + 0.095·1.79759e-3 + 0.0025·3.59193e-3 = 1.79769e-4, E_Z = 0.0500524;
    s_1 = 0.006 + 2e-8·0.994 = 6.00002e-3, e_1 = (0.006·0.03 + 0.994e-8)/s_1 = 0.0300016;
    n_1 = 0.095·0.3 e^{−0.3} s_1 = 1.26680e-4; R = n_1 [1 − h(e_1)] − 1.1 S_Z h(E_Z) = 4.53758e-5."""
    es, mu, eps, pd, ed, f = 0.6 * 10 ** (-0.01 * 200), 0.3, 0.05, 1e-8, 0.03, 1.1
    x = es * mu

    def one_click(t: float) -> float:
        left, right = x * (1 + math.cos(t)), x * (1 - math.cos(t))
        return ((1 - (1 - pd) * math.exp(-left)) * (1 - pd) * math.exp(-right)
                + (1 - (1 - pd) * math.exp(-right)) * (1 - pd) * math.exp(-left))

    both = quad(one_click, 0, 2 * math.pi, epsabs=0, epsrel=1e-13)[0] / (2 * math.pi)
    neither = 2 * pd * (1 - pd)
    one = 2 * (1 - (1 - pd) * math.exp(-x / 2)) * (1 - pd) * math.exp(-x / 2)
    s_z = (1 - eps) ** 2 * neither + 2 * eps * (1 - eps) * one + eps**2 * both
    e_z = ((1 - eps) ** 2 * neither + eps**2 * both) / s_z
    s_1 = es * (1 - pd) + (1 - es) * 2 * pd * (1 - pd)
    e_1 = (es * ed * (1 - pd) + (1 - es) * pd * (1 - pd)) / s_1
    n_1 = 2 * eps * (1 - eps) * mu * math.exp(-mu) * s_1
    rate = n_1 * (1 - h(e_1)) - f * s_z * h(e_z)
    s = sns_statistics(es, mu, eps, dark_count=pd, misalignment=ed)
    assert (s.s_z, s.e_z, s.s_1, s.e1_ph, s.n_1) == pytest.approx((s_z, e_z, s_1, e_1, n_1), rel=1e-9, abs=0.0)
    got = sns_key_rate(200e3, mu=mu, epsilon=eps, f=f, **TF_DEVICES)
    assert got == pytest.approx(rate, rel=1e-9, abs=0.0)
    assert rate == pytest.approx(4.53758e-5, rel=1e-5, abs=0.0)  # the hand value of the docstring


def test_sns_rate_scales_as_the_square_root_of_eta():
    """Without dark counts R/η_s → 2ε(1−ε) μ e^{−μ}[1 − h(e_d)] − 2εμ f h(ε) (E_Z → ε: both send
    as often, relative to one sending, as ε/(1−ε)); the corrections are O(η_s μ), so at 1000 km
    (η_s = 1e-10) the ratio is that limit to 1e-9 and R(1200 km)/R(1000 km) = sqrt(η(1200)/η(1000))
    = 1e-2 to 1e-9 — half PLOB's slope in log scale, whose ratio is η(1200)/η(1000) = 1e-4."""
    mu, eps, ed, f = 0.3, 0.05, 0.03, 1.1
    limit = 2 * eps * (1 - eps) * mu * math.exp(-mu) * (1 - h(ed)) - 2 * eps * mu * f * h(eps)
    r1000 = sns_key_rate(1000e3, mu=mu, epsilon=eps, misalignment=ed, f=f)
    r1200 = sns_key_rate(1200e3, mu=mu, epsilon=eps, misalignment=ed, f=f)
    assert r1000 / math.sqrt(fibre(1000)) == pytest.approx(limit, rel=1e-9, abs=0.0)
    assert r1200 / r1000 == pytest.approx(math.sqrt(fibre(1200) / fibre(1000)), rel=1e-9, abs=0.0)
    bound_ratio = plob_bound(fibre(1200)) / plob_bound(fibre(1000))
    assert bound_ratio == pytest.approx(fibre(1200) / fibre(1000), rel=1e-9, abs=0.0)
    assert r1000 > 1e7 * plob_bound(fibre(1000))  # 200 dB: seven orders of magnitude above PLOB


def test_sns_beats_plob_beyond_the_crossover_distance():
    """With p_d = 1e-8 the SNS rate meets the PLOB bound of the fibre at L_c and is above it from
    there to near its maximal distance, below it before. Without dark counts the crossover follows
    from the long-distance limit: A η_det 10^{−αL/20} = 10^{−αL/10}/ln 2, i.e.
    L_c = (20/α) log10(1/(A η_det ln 2)) (PLOB's −log2(1−η) ≈ η/ln 2 and R ≈ A η_s to O(η_s μ),
    i.e. to ~1e-3 at 250 km: 0.1 km)."""
    kw = {"mu": 0.3, "epsilon": 0.05, **TF_DEVICES}
    l_c = sns_crossover_distance(**kw)
    l_max = sns_max_distance(**kw)
    assert 200e3 < l_c < 300e3 < 400e3 < l_max
    assert sns_key_rate(l_c, **kw) == pytest.approx(plob_bound(fibre(l_c / 1e3)), rel=1e-9, abs=0.0)
    assert sns_key_rate(l_c - 1e3, **kw) < plob_bound(fibre(l_c / 1e3 - 1))
    for d in (l_c + 1e3, 300e3, 400e3, l_max - 10e3):
        assert sns_key_rate(d, **kw) > plob_bound(fibre(d / 1e3))
    assert sns_key_rate(l_max + 1.0, **kw) == 0.0 and sns_key_rate(l_max - 1.0, **kw) > 0.0
    clean = {"mu": 0.3, "epsilon": 0.05, "detector_efficiency": 0.6, "misalignment": 0.03}
    a = 2 * 0.05 * 0.95 * 0.3 * math.exp(-0.3) * (1 - h(0.03)) - 2 * 0.05 * 0.3 * 1.1 * h(0.05)
    predicted = 20 / 0.2 * math.log10(1 / (a * 0.6 * math.log(2))) * 1e3
    assert sns_crossover_distance(**clean) == pytest.approx(predicted, abs=100.0)


def test_sns_reproduces_wang_yu_hus_secure_distances():
    """Published claim: Wang, Yu & Hu, PRA 98, 062323 (2018), abstract — "our protocol exceeds a
    secure distance of 700, 600, 500, or 300 km even though the single-photon interference
    misalignment error rate is as large as 15%, 25%, 35%, or 45%", with their simulation devices
    η_det = 80 %, p_d = 1e-11 per detector, f = 1.1, 0.2 dB/km (as restated by two independent
    public readings of the paper's parameter table; the figure itself could not be read here).
    With μ and ε optimised at every distance the rate of this module vanishes at 707, 628, 517 and
    297 km: beyond 700, 600 and 500 km, and 3 km (1.1 %) short of 300 km (at 45 % the margin
    1 − h(0.45) = 0.007 makes the distance sensitive to every per-cent of the dark-count term).
    Just inside each distance the optimum sends rarely: ε falls from 2e-2 to 1.6e-4 as e_d rises,
    since E_Z ≈ ε must stay below what 1 − h(e_d) can pay for."""
    devices = {"detector_efficiency": 0.8, "dark_count": 1e-11, "f": 1.1}
    reach = {e_d: sns_optimal_max_distance(misalignment=e_d, **devices) for e_d in (0.15, 0.25, 0.35, 0.45)}
    assert reach[0.15] > 700e3 and reach[0.25] > 600e3 and reach[0.35] > 500e3 and reach[0.45] > 0.985 * 300e3
    assert [round(reach[e] / 1e3, 1) for e in (0.15, 0.25, 0.35, 0.45)] == [707.5, 627.7, 517.5, 296.8]
    for e_d, eps_max in ((0.15, 0.03), (0.45, 3e-4)):
        rate, _, eps = sns_optimal_rate(reach[e_d] - 5e3, misalignment=e_d, **devices)
        assert rate > 0.0 and eps < eps_max
        assert sns_optimal_rate(reach[e_d] + 5e3, misalignment=e_d, **devices)[0] == 0.0
    with pytest.raises(ValueError, match="no key at zero distance"):
        sns_optimal_max_distance(misalignment=0.5, **devices)


def test_sns_optimum_is_at_least_any_fixed_choice():
    rate, mu, eps = sns_optimal_rate(300e3, **TF_DEVICES)
    assert rate >= sns_key_rate(300e3, mu=0.3, epsilon=0.05, **TF_DEVICES)
    assert 0 < mu < 2.1 and 0 < eps < 0.5
    assert rate > plob_bound(fibre(300))


def test_sns_bad_inputs_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="epsilon"):
        sns_rate(0.1, 0.3, 1.0)
    with pytest.raises(ValueError, match="dark_count"):
        sns_key_rate(1e3, dark_count=1.0)
    with pytest.raises(ValueError, match="f"):
        sns_rate(0.1, 0.3, 0.1, f=0.5)
    for chosen in ({"mu": 0.3}, {"epsilon": 0.1}, {"clip": False}):
        with pytest.raises(TypeError, match="mu and epsilon themselves|no clip"):
            sns_optimal_rate(1e3, **chosen)
    with pytest.raises(ValueError, match="never beats the PLOB bound"):
        sns_crossover_distance(mu=0.3, epsilon=0.05, detector_efficiency=0.6, dark_count=1e-4, misalignment=0.03)
