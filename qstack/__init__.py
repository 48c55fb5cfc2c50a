"""qstack: a layered quantum-network protocol stack on qutip density matrices.

Layers: :mod:`qstack.quantum` (state core), :mod:`qstack.physical` (hardware models),
:mod:`qstack.sim` (deterministic discrete-event kernel).
"""

__version__ = "0.1.0"
