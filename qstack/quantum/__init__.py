"""The state core: qubit handles over qutip density matrices, gates, noise and operations.

>>> import numpy as np
>>> from qstack.quantum import create_qubits, werner, entanglement_swap, state_of, fidelity, bell_state
>>> a, b = create_qubits(2, werner(0.95)); c, d = create_qubits(2, werner(0.95))
>>> _ = entanglement_swap(a, b, c, d, np.random.default_rng(0))
>>> round(fidelity(state_of([a, d]), bell_state("phi+")), 6)
0.903333
"""

from . import bell, gates, noise, theory
from .bell import (
    CHSHSettings,
    chsh_correlator,
    chsh_value,
    correlation_matrix,
    max_chsh_value,
    optimal_chsh_settings,
)
from .core import (
    Group,
    Qubit,
    QubitDeadError,
    apply_channel,
    assign_state,
    bell_state_measurement,
    create_qubits,
    discard,
    measure,
    operate,
    reduced_dm,
    reset,
    state_of,
)
from .kernels import single_threaded_blas
from .noise import Channel, GateNoise
from .operations import (
    CORRECTIONS,
    LINEAR_OPTICS_BSM,
    BellMeasurement,
    entanglement_swap,
    heralded_swap,
    purify,
    teleport,
    twirl,
)
from .states import (
    BELL_NAMES,
    InvalidStateError,
    bell_coefficients,
    bell_diagonal,
    bell_state,
    fidelity,
    fidelity_from_werner_parameter,
    product_state,
    validate_density_matrix,
    werner,
    werner_parameter,
)

__all__ = [
    "BELL_NAMES",
    "CHSHSettings",
    "CORRECTIONS",
    "Channel",
    "GateNoise",
    "Group",
    "InvalidStateError",
    "BellMeasurement",
    "LINEAR_OPTICS_BSM",
    "Qubit",
    "QubitDeadError",
    "apply_channel",
    "assign_state",
    "bell",
    "bell_coefficients",
    "bell_diagonal",
    "bell_state",
    "bell_state_measurement",
    "chsh_correlator",
    "chsh_value",
    "correlation_matrix",
    "create_qubits",
    "discard",
    "entanglement_swap",
    "fidelity",
    "fidelity_from_werner_parameter",
    "gates",
    "heralded_swap",
    "max_chsh_value",
    "measure",
    "noise",
    "operate",
    "optimal_chsh_settings",
    "product_state",
    "purify",
    "reduced_dm",
    "reset",
    "single_threaded_blas",
    "state_of",
    "teleport",
    "theory",
    "twirl",
    "validate_density_matrix",
    "werner",
    "werner_parameter",
]
