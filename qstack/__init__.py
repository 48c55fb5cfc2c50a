"""qstack: a layered quantum-network protocol stack on qutip density matrices.

Layers: :mod:`qstack.quantum` (state core), :mod:`qstack.physical` (hardware models),
:mod:`qstack.sim` (deterministic discrete-event kernel).
"""

import warnings

__version__ = "0.1.0"

# qutip warns at import when matplotlib (only its plotting needs it) is absent; qstack plots
# nothing through qutip, so the warning would greet every command of a plain install. Only that
# one message is filtered.
warnings.filterwarnings("ignore", message="matplotlib not found", category=UserWarning)
