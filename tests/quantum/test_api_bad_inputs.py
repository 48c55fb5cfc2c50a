"""Bad input through the state core's public API (issue 14): every call below is refused with a
typed error (``TypeError`` for a wrong type — a bool passed as a number included —, ``ValueError``
or its subclass ``InvalidStateError`` for a wrong value: NaN, inf, out of range, wrong shape, not
a density matrix) whose message names the parameter; a refused state assignment leaves the
qubits' old state exactly as it was.

The first block holds the holes the issue found (NaN passing the unitarity and
trace-preservation checks, ``fidelity_from_werner_parameter(2) == 1.75``, ``fidelity`` not
checking ``rho``, ``werner(True)``, ``Teleportation``'s parameters); the rest is the sweep of
``qstack.quantum``'s public functions for the same class of hole.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip

from qstack.apps.teleportation import Teleportation
from qstack.quantum import (
    BellMeasurement,
    InvalidStateError,
    assign_state,
    bell_diagonal,
    bell_state,
    create_qubits,
    entanglement_swap,
    fidelity,
    fidelity_from_werner_parameter,
    measure,
    operate,
    product_state,
    purify,
    state_of,
    teleport,
    theory,
    validate_density_matrix,
    werner,
    werner_parameter,
)
from qstack.quantum.core import Qubit, apply_channel
from qstack.quantum.gates import rx, ry, rz
from qstack.quantum.noise import (
    Channel,
    GateNoise,
    amplitude_damping,
    bit_flip,
    depolarizing,
    depolarizing_memory,
    kraus,
    phase_flip,
    t1t2,
)
from qstack.quantum.states import to_density_matrix

NAN, INF = float("nan"), float("inf")
PHI_PLUS = bell_state("phi+")
NAN_UNITARY = np.array([[NAN, 0], [0, 1]], dtype=complex)
NAN_STATE = np.array([[NAN, 0], [0, 0.5]], dtype=complex)
NOT_HERMITIAN = np.array([[0.5, 0.5], [0.0, 0.5]], dtype=complex)
NOT_PSD = np.array([[1.5, 0], [0, -0.5]], dtype=complex)
RNG = np.random.default_rng(0)


def _one() -> Qubit:
    return create_qubits(1)[0]


def _pair() -> list[Qubit]:
    return create_qubits(2, werner(0.9))


#: (id, call, expected error type, words the message must contain — the parameter's name)
CASES = [
    # -- the holes of issue 14 ------------------------------------------------------------------
    ("operate-nan-unitary", lambda: operate([_one()], NAN_UNITARY), ValueError, ["op", "non-finite"]),
    ("operate-inf-unitary", lambda: operate([_one()], np.diag([INF, 1.0])), ValueError, ["op", "non-finite"]),
    ("kraus-nan", lambda: kraus([NAN_UNITARY]), ValueError, ["Kraus", "non-finite"]),
    ("channel-nan", lambda: Channel([np.full((2, 2), NAN)], "mine"), ValueError, ["mine", "non-finite"]),
    ("fidelity-from-w-2", lambda: fidelity_from_werner_parameter(2), ValueError, ["Werner parameter w", "got 2"]),
    ("fidelity-from-w-nan", lambda: fidelity_from_werner_parameter(NAN), ValueError, ["Werner parameter w"]),
    ("fidelity-from-w-low", lambda: fidelity_from_werner_parameter(-0.5), ValueError, ["Werner parameter w"]),
    ("fidelity-from-w-bool", lambda: fidelity_from_werner_parameter(True), TypeError, ["Werner parameter w"]),
    ("fidelity-rho-trace", lambda: fidelity(np.eye(4), PHI_PLUS), InvalidStateError, ["rho", "trace"]),
    ("fidelity-rho-nan", lambda: fidelity(np.full((4, 4), NAN), PHI_PLUS), InvalidStateError, ["rho", "non-finite"]),
    ("fidelity-rho-not-psd", lambda: fidelity(np.diag([1.5, -0.5, 0, 0]), PHI_PLUS), InvalidStateError,
     ["rho", "positive"]),
    ("fidelity-rho-ket-norm", lambda: fidelity(np.array([1.0, 1.0, 0, 0]), PHI_PLUS), InvalidStateError,
     ["rho", "norm"]),
    ("fidelity-target-norm", lambda: fidelity(werner(0.9), np.array([1.0, 0, 0, 1.0])), InvalidStateError,
     ["target", "norm"]),
    ("fidelity-dims", lambda: fidelity(werner(0.9), np.array([1.0, 0])), InvalidStateError, ["target", "dimension"]),
    ("fidelity-rho-str", lambda: fidelity("rho", PHI_PLUS), TypeError, ["rho"]),
    ("werner-true", lambda: werner(True), TypeError, ["fidelity"]),
    ("werner-nan", lambda: werner(NAN), ValueError, ["fidelity"]),
    ("werner-str", lambda: werner("0.9"), TypeError, ["fidelity"]),
    ("werner-above-1", lambda: werner(1.1), ValueError, ["fidelity", "[0, 1]"]),
    ("teleportation-nan-theta", lambda: Teleportation(states=[(NAN, 0.0)]), ValueError, ["states[0] θ"]),
    ("teleportation-inf-phi", lambda: Teleportation(states=[(0.0, INF)]), ValueError, ["states[0] φ"]),
    ("teleportation-bool-angle", lambda: Teleportation(states=[(0.0, 0.0), (True, 0.0)]), TypeError,
     ["states[1] θ"]),
    ("teleportation-not-a-pair", lambda: Teleportation(states=[(0.0, 0.0, 1.0)]), TypeError, ["states[0]"]),
    ("teleportation-empty", lambda: Teleportation(states=[]), ValueError, ["states"]),
    ("teleportation-min-fidelity", lambda: Teleportation(min_fidelity=1.5), ValueError, ["min_fidelity"]),
    ("teleportation-min-fidelity-bool", lambda: Teleportation(min_fidelity=True), TypeError, ["min_fidelity"]),
    # -- states ---------------------------------------------------------------------------------
    ("werner-parameter-bool", lambda: werner_parameter(False), TypeError, ["fidelity"]),
    ("werner-parameter-nan", lambda: werner_parameter(NAN), ValueError, ["fidelity"]),
    ("bell-state-bool", lambda: bell_state(True), TypeError, ["which"]),
    ("bell-state-float", lambda: bell_state(1.5), TypeError, ["which"]),
    ("bell-state-range", lambda: bell_state(4), ValueError, ["which", "0..3"]),
    ("werner-which", lambda: werner(0.9, 7), ValueError, ["which"]),
    ("bell-diagonal-nan", lambda: bell_diagonal([NAN, 0, 0, 1]), ValueError, ["coefficients[0]"]),
    ("bell-diagonal-bool", lambda: bell_diagonal([True, False, False, False]), TypeError, ["coefficients"]),
    ("bell-diagonal-shape", lambda: bell_diagonal([0.5, 0.5]), ValueError, ["coefficients", "4 entries"]),
    ("bell-diagonal-sum", lambda: bell_diagonal([0.5, 0.5, 0.5, 0.0]), ValueError, ["coefficients", "sum"]),
    ("product-state-label", lambda: product_state("0", "2"), ValueError, ["states[1]"]),
    ("product-state-unnormalised", lambda: product_state(qutip.Qobj(np.array([[1.0], [1.0]]))),
     InvalidStateError, ["states[0]", "trace"]),
    ("product-state-type", lambda: product_state("0", 3), TypeError, ["states[1]"]),
    ("to-dm-shape", lambda: to_density_matrix(np.ones((3, 3)) / 3), InvalidStateError, ["state", "2**n"]),
    ("to-dm-type", lambda: to_density_matrix([[1, 0], [0, 0]]), TypeError, ["state"]),
    ("validate-not-hermitian", lambda: validate_density_matrix(NOT_HERMITIAN, name="rho_in"), InvalidStateError,
     ["rho_in", "Hermitian"]),
    ("validate-dtype", lambda: validate_density_matrix(np.array([["a", "b"], ["c", "d"]]), name="rho_in"),
     TypeError, ["rho_in"]),
    # -- core -----------------------------------------------------------------------------------
    ("create-qubits-bool", lambda: create_qubits(True), TypeError, ["n"]),
    ("create-qubits-float", lambda: create_qubits(2.5), TypeError, ["n"]),
    ("create-qubits-zero", lambda: create_qubits(0), ValueError, ["n", ">= 1"]),
    ("create-qubits-nan-state", lambda: create_qubits(1, NAN_STATE), InvalidStateError, ["state", "non-finite"]),
    ("create-qubits-names", lambda: create_qubits(2, names=["a"]), ValueError, ["names"]),
    ("qubit-name-type", lambda: Qubit(3), TypeError, ["name"]),
    ("operate-not-unitary", lambda: operate([_one()], np.diag([1.0, 0.5])), ValueError, ["op", "unitary"]),
    ("operate-shape", lambda: operate([_one()], np.eye(4)), ValueError, ["op", "shape"]),
    ("operate-noise-type", lambda: operate([_one()], np.eye(2), noise=0.1), TypeError, ["noise"]),
    ("apply-channel-type", lambda: apply_channel([_one()], np.eye(4)), TypeError, ["channel"]),
    ("measure-no-rng", lambda: measure(_one(), "Z"), ValueError, ["rng"]),
    ("measure-rng-type", lambda: measure(_one(), "Z", 42), TypeError, ["rng"]),
    ("measure-basis-name", lambda: measure(_one(), "W", RNG), ValueError, ["basis"]),
    ("measure-basis-nan", lambda: measure(_one(), [np.array([NAN, 0]), np.array([0, 1.0])], RNG), ValueError,
     ["basis", "non-finite"]),
    ("measure-noise-type", lambda: measure(_one(), "Z", RNG, noise="noisy"), TypeError, ["noise"]),
    # -- gates and noise ------------------------------------------------------------------------
    ("rx-nan", lambda: rx(NAN), ValueError, ["theta"]),
    ("ry-inf", lambda: ry(INF), ValueError, ["theta"]),
    ("rz-bool", lambda: rz(True), TypeError, ["theta"]),
    ("rx-str", lambda: rx("1.0"), TypeError, ["theta"]),
    ("depolarizing-nan", lambda: depolarizing(NAN), ValueError, ["depolarizing probability p"]),
    ("depolarizing-bool", lambda: depolarizing(True), TypeError, ["depolarizing probability p"]),
    ("depolarizing-qubits-bool", lambda: depolarizing(0.1, True), ValueError, ["num_qubits"]),
    ("phase-flip-range", lambda: phase_flip(1.5), ValueError, ["phase-flip probability p"]),
    ("bit-flip-str", lambda: bit_flip("0.1"), TypeError, ["bit-flip probability p"]),
    ("amplitude-damping-nan", lambda: amplitude_damping(NAN), ValueError, ["gamma"]),
    ("t1t2-nan-duration", lambda: t1t2(NAN, 1.0, 1.0), ValueError, ["duration"]),
    ("t1t2-bool-t1", lambda: t1t2(0.1, True, 1.0), TypeError, ["T1"]),
    ("t1t2-t2-bound", lambda: t1t2(0.1, 1.0, 3.0), ValueError, ["T2", "2·T1"]),
    ("depolarizing-memory-zero", lambda: depolarizing_memory(0.1, 0.0), ValueError, ["depolarising time T"]),
    ("kraus-not-cptp", lambda: kraus([np.eye(2) * 2]), ValueError, ["trace preserving"]),
    ("kraus-single-operator", lambda: kraus(np.eye(2)), TypeError, ["ops"]),
    ("kraus-str", lambda: kraus(["ab"]), TypeError, ["ops[0]"]),
    ("gate-noise-nan", lambda: GateNoise(two_qubit_depolarizing=NAN), ValueError, ["two_qubit_depolarizing"]),
    ("gate-noise-bool", lambda: GateNoise(readout_error=True), TypeError, ["readout_error"]),
    ("gate-noise-range", lambda: GateNoise(single_qubit_depolarizing=-0.1), ValueError,
     ["single_qubit_depolarizing"]),
    # -- operations -----------------------------------------------------------------------------
    ("bsm-success-bool", lambda: BellMeasurement(True), TypeError, ["success_probability"]),
    ("bsm-success-nan", lambda: BellMeasurement(NAN), ValueError, ["success_probability"]),
    ("bsm-outcomes-bool", lambda: BellMeasurement(1.0, (True, 2)), ValueError, ["outcomes"]),
    ("bsm-outcomes-range", lambda: BellMeasurement(1.0, (2, 5)), ValueError, ["outcomes"]),
    ("swap-rng-type", lambda: entanglement_swap(*_pair(), *_pair(), rng=None), ValueError, ["rng"]),
    ("swap-noise-type", lambda: entanglement_swap(*_pair(), *_pair(), RNG, noise=0.01), TypeError, ["noise"]),
    ("teleport-rng-type", lambda: teleport(_one(), *_pair(), rng="seed"), TypeError, ["rng"]),
    ("purify-protocol", lambda: purify(tuple(_pair()), tuple(_pair()), RNG, "recurrence"), ValueError,
     ["protocol"]),
    ("purify-not-pairs", lambda: purify(tuple(create_qubits(3)), tuple(_pair()), RNG), ValueError,
     ["keep", "sacrifice"]),
    # -- theory ---------------------------------------------------------------------------------
    ("theory-bbpssw-range", lambda: theory.bbpssw(1.2), ValueError, ["f", "[0, 1]"]),
    ("theory-bbpssw-bool", lambda: theory.bbpssw(True), TypeError, ["f"]),
    ("theory-swap-nan", lambda: theory.werner_swap_fidelity(0.9, NAN), ValueError, ["fidelities[1]"]),
    ("theory-noisy-swap-eta", lambda: theory.noisy_swap_werner_parameter(1.0, 1.0, 1.0, 1.5), ValueError, ["eta"]),
    ("theory-noisy-swap-w", lambda: theory.noisy_swap_werner_parameter(2.0, 1.0, 1.0, 1.0), ValueError, ["w1"]),
    ("theory-teleport-nan", lambda: theory.teleportation_average_fidelity(NAN), ValueError, ["f"]),
    ("theory-dejmps-shape", lambda: theory.dejmps([0.9, 0.1]), ValueError, ["coefficients", "4 entries"]),
    ("theory-dejmps-two-nan", lambda: theory.dejmps_two([0.9, 0.1, 0, 0], [NAN, 0, 0, 0]), ValueError, ["c2"]),
    ("theory-swap-coeff-bool", lambda: theory.bell_diagonal_swap([True, False, False, False], [1, 0, 0, 0]),
     TypeError, ["c1"]),
    ("theory-pumping-f0", lambda: theory.bbpssw_pumping(0.9, 1.5), ValueError, ["f0"]),
    ("theory-fixed-point-bool", lambda: theory.bbpssw_pumping_fixed_point(True), TypeError, ["f0"]),
    ("theory-stored-time", lambda: theory.stored_bell_pair_fidelity(NAN, 0.0, 1.0, 1.0), ValueError, ["t_a"]),
    ("theory-stored-t2-zero", lambda: theory.stored_bell_pair_fidelity(0.1, 0.1, 1.0, 0.0), ValueError, ["t2_a"]),
    ("theory-depol-memory-w0", lambda: theory.depolarizing_memory_werner_parameter(1.5, 0.0, 0.0, 1.0),
     ValueError, ["w0"]),
    ("theory-depol-memory-t", lambda: theory.depolarizing_memory_werner_parameter(0.9, 0.0, 0.0, 0.0),
     ValueError, ["t_depol"]),
]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf entries in U†U
@pytest.mark.parametrize(("call", "error", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_typed_error_naming_the_parameter(call, error, words):
    """The call is refused with exactly the error family of the mistake, and the message names
    the parameter (and, where it helps, what is wrong with it)."""
    with pytest.raises(error) as info:
        call()
    if error is TypeError:  # a wrong type must not pass for a wrong value, nor the reverse
        assert not isinstance(info.value, ValueError)
    message = str(info.value)
    for word in words:
        assert word in message, f"{message!r} does not mention {word!r}"


#: states ``assign_state`` must refuse: (id, state, error, words in the message)
BAD_STATES = [
    ("nan", NAN_STATE, InvalidStateError, ["state", "non-finite"]),
    ("inf", np.diag([INF, 0.0]).astype(complex), InvalidStateError, ["state", "non-finite"]),
    ("trace-2", np.eye(2), InvalidStateError, ["state", "trace"]),
    ("not-hermitian", NOT_HERMITIAN, InvalidStateError, ["state", "Hermitian"]),
    ("not-psd", NOT_PSD, InvalidStateError, ["state", "positive semidefinite"]),
    ("ket-norm", np.array([1.0, 1.0]), InvalidStateError, ["state", "norm"]),
    ("ket-nan", np.array([NAN, 0.0]), InvalidStateError, ["state"]),
    ("wrong-qubit-count", np.eye(4) / 4, InvalidStateError, ["state", "shape"]),
    ("qobj-not-hermitian", qutip.Qobj(NOT_HERMITIAN), InvalidStateError, ["state", "Hermitian"]),
    ("string", "0", TypeError, ["state"]),
    ("bool-array", np.array([[True, False], [False, False]]), TypeError, ["state"]),
]


@pytest.mark.parametrize(("state", "error", "words"), [c[1:] for c in BAD_STATES], ids=[c[0] for c in BAD_STATES])
def test_refused_state_assignment_leaves_the_old_state_intact(state, error, words):
    """Assigning a bad state to one half of a Werner pair is refused before anything changes:
    the pair is still one group holding the very same Werner matrix (bit for bit), and the
    qubit is still usable."""
    a, b = create_qubits(2, werner(0.85), names=["a", "b"])
    before = state_of([a, b]).full().copy()
    group = a.group
    with pytest.raises(error) as info:
        assign_state([a], state)
    for word in words:
        assert word in str(info.value), f"{str(info.value)!r} does not mention {word!r}"
    assert a.alive and b.alive and a.group is group and b.group is group
    np.testing.assert_array_equal(state_of([a, b]).full(), before)
    assert fidelity(state_of([a, b]), PHI_PLUS) == pytest.approx(0.85, abs=1e-12)


def test_valid_inputs_at_the_edges_are_still_accepted():
    """The checks refuse only what is out of range: the ends of each range, numpy scalars and
    ints pass, and the physics is unchanged (``F = (3w + 1)/4`` at ``w = −1/3`` and ``1``)."""
    assert fidelity_from_werner_parameter(-1.0 / 3.0) == pytest.approx(0.0, abs=1e-15)
    assert fidelity_from_werner_parameter(1) == 1.0
    assert fidelity_from_werner_parameter(np.float64(0.6)) == pytest.approx(0.7, abs=1e-15)
    assert werner_parameter(np.float32(0.25)) == pytest.approx(0.0, abs=1e-7)
    assert fidelity(werner(1), PHI_PLUS) == pytest.approx(1.0, abs=1e-12)
    assert fidelity(PHI_PLUS, PHI_PLUS) == pytest.approx(1.0, abs=1e-12)  # a ket as rho
    assert bell_state(np.int64(3)).full()[1, 0] == pytest.approx(1 / math.sqrt(2), abs=1e-15)
    assert BellMeasurement(1, (np.int64(2), 3)).outcomes == (2, 3)
    assert Teleportation(states=[(0, 1), (np.float64(0.5), -2.0)], min_fidelity=1).states == [(0.0, 1.0), (0.5, -2.0)]
    assert theory.bbpssw(np.float64(1.0))[0] == pytest.approx(1.0, abs=1e-15)
    q = _one()
    apply_channel([q], depolarizing(1))
    operate([q], qutip.sigmax())
    assert GateNoise(0, 0, 0).is_ideal
