"""Independent plain-qutip / plain-numpy references shared by the tests in this folder.

Nothing here uses qstack's kernels: states are built with ``qutip.tensor``, Bell projectors
from ``qstack.quantum.bell_state`` (checked separately against |00⟩±|11⟩, |01⟩±|10⟩), partial
traces with ``Qobj.ptrace``. Conventions: |0⟩ = basis(2, 0); Bell order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻; the
Bell-state measurement circuit CNOT(b→c), H(b) maps Bell index k to the bits
(m_b, m_c) = (phase bit, parity bit) with phase bit = k ∈ {Φ⁻, Ψ⁻}, parity bit = k ∈ {Ψ⁺, Ψ⁻}.
"""

from __future__ import annotations

import numpy as np
import qutip

from qstack.quantum import bell_state

I2 = qutip.qeye(2)
X = qutip.sigmax()
Y = qutip.sigmay()
Z = qutip.sigmaz()
HAD = qutip.Qobj(np.array([[1, 1], [1, -1]]) / np.sqrt(2))
CNOT = qutip.Qobj(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]), dims=[[2, 2], [2, 2]])
#: Pauli correction on the far qubit for outcome Φ⁺, Φ⁻, Ψ⁺, Ψ⁻: I, Z, X, Z·X (X applied first).
CORR = (I2, Z, X, Z * X)
PAULIS = (I2, X, Y, Z)
KET0 = qutip.basis(2, 0)
KET1 = qutip.basis(2, 1)
#: The six Pauli eigenstates |0⟩, |1⟩, |±⟩, |±i⟩: a single-qubit state 2-design.
PAULI_EIGENSTATES = (
    KET0,
    KET1,
    (KET0 + KET1).unit(),
    (KET0 - KET1).unit(),
    (KET0 + 1j * KET1).unit(),
    (KET0 - 1j * KET1).unit(),
)


def bits_of_bell(k: int) -> tuple[int, int]:
    """(phase bit, parity bit) of Bell index k — the (m_b, m_c) the BSM circuit reports."""
    return (1 if k in (1, 3) else 0, 1 if k in (2, 3) else 0)


def bell_of_bits(m1: int, m2: int) -> int:
    return {(0, 0): 0, (1, 0): 1, (0, 1): 2, (1, 1): 3}[(m1, m2)]


def random_dm(rng: np.random.Generator, n_qubits: int, rank: int | None = None) -> np.ndarray:
    """A random density matrix G G† / Tr(G G†) with complex Gaussian G (full rank by default)."""
    d = 2**n_qubits
    r = d if rank is None else rank
    g = rng.normal(size=(d, r)) + 1j * rng.normal(size=(d, r))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def random_ket(rng: np.random.Generator, n_qubits: int = 1) -> np.ndarray:
    v = rng.normal(size=2**n_qubits) + 1j * rng.normal(size=2**n_qubits)
    return v / np.linalg.norm(v)


def qobj_dm(rho: np.ndarray) -> qutip.Qobj:
    n = int(round(np.log2(rho.shape[0])))
    return qutip.Qobj(np.asarray(rho), dims=[[2] * n, [2] * n])


def op_on(op: qutip.Qobj, n: int, *targets: int) -> qutip.Qobj:
    """A one-qubit operator on qubit ``targets[0]`` of n, or a two-qubit operator on two
    (possibly non-adjacent, possibly reversed) qubits, built with qutip only."""
    if len(targets) == 1:
        return qutip.tensor([op if i == targets[0] else I2 for i in range(n)])
    # Two-qubit operator: expand on the first two qubits, then permute with qutip.
    t0, t1 = targets
    rest = [i for i in range(n) if i not in (t0, t1)]
    full = qutip.tensor([op] + [I2] * (n - 2))
    order = [t0, t1] + rest  # full acts on "virtual" qubits in this order
    inv = [order.index(i) for i in range(n)]
    return full.permute(inv)


def depolarize(rho: qutip.Qobj, p: float, targets: list[int]) -> qutip.Qobj:
    """(1−p)ρ + p · (I/2^k ⊗ Tr_targets ρ), written as the Pauli twirl average (1/4^k) Σ PρP."""
    n = len(rho.dims[0])
    if not p:
        return rho
    if len(targets) == 1:
        paulis = [op_on(P, n, targets[0]) for P in PAULIS]
    else:
        paulis = [op_on(qutip.tensor(P, Q), n, *targets) for P in PAULIS for Q in PAULIS]
    avg = sum(P * rho * P for P in paulis) / len(paulis)
    return (1 - p) * rho + p * avg


def reference_swap_bell(rho_ab: np.ndarray, rho_cd: np.ndarray, k: int) -> np.ndarray:
    """Ideal swap, plain qutip: project (b, c) on Bell state k, trace b, c, correct d.

    Returns the unnormalised corrected state of (a, d) (trace = probability of outcome k).
    """
    r = qutip.tensor(qobj_dm(rho_ab), qobj_dm(rho_cd))
    proj = qutip.tensor(I2, bell_state(k).proj(), I2)
    out = (proj * r * proj).ptrace([0, 3])
    corr = qutip.tensor(I2, CORR[k])
    return (corr * out * corr.dag()).full()


def reference_swap_circuit(
    rho_abcd: qutip.Qobj, k: int, p1: float = 0.0, p2: float = 0.0, e: float = 0.0,
    a: int = 0, b: int = 1, c: int = 2, d: int = 3, keep: list[int] | None = None,
) -> np.ndarray:
    """Noisy swap, plain qutip: CNOT(b→c), two-qubit depolarising p2 on (b, c), H(b), one-qubit
    depolarising p1 on b, Z-measure (b, c); each reported bit flipped with probability e.

    Returns the unnormalised corrected state of (a, d) for *reported* Bell outcome k:
    Σ_true P(report k | true) · Tr_{rest}[Π_true ρ Π_true], then the Pauli correction of k on d.
    Works for states with more qubits: the others are traced out, or kept if listed in ``keep``
    (default [a, d]; the result's qubit order is that of ``keep``).
    """
    keep = [a, d] if keep is None else list(keep)
    n = len(rho_abcd.dims[0])
    r = op_on(CNOT, n, b, c) * rho_abcd * op_on(CNOT, n, b, c).dag()
    r = depolarize(r, p2, [b, c])
    h = op_on(HAD, n, b)
    r = h * r * h
    r = depolarize(r, p1, [b])
    rep = bits_of_bell(k)
    acc = None
    for t1 in (0, 1):
        for t2 in (0, 1):
            flips = (t1 != rep[0]) + (t2 != rep[1])
            w = e**flips * (1 - e) ** (2 - flips)
            proj = op_on(KET1.proj() if t1 else KET0.proj(), n, b) * op_on(KET1.proj() if t2 else KET0.proj(), n, c)
            # qutip's ptrace returns the kept qubits in ascending order: permute to ``keep``'s.
            kept = (proj * r * proj).ptrace(sorted(keep))
            if len(keep) > 1:
                kept = kept.permute([sorted(keep).index(q) for q in keep])
            branch = kept * w
            acc = branch if acc is None else acc + branch
    corr = op_on(CORR[k], len(keep), keep.index(d))
    return (corr * acc * corr.dag()).full()


def werner_dm(w: float) -> np.ndarray:
    """w |Φ⁺⟩⟨Φ⁺| + (1 − w) I/4 built by hand."""
    phi = np.array([1, 0, 0, 1]) / np.sqrt(2)
    return w * np.outer(phi, phi) + (1 - w) * np.eye(4) / 4


def bell_basis_matrix(rho: np.ndarray) -> np.ndarray:
    """ρ in the Bell basis (rows/cols Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), from hand-written Bell vectors."""
    s = 1 / np.sqrt(2)
    b = np.array([[s, 0, 0, s], [s, 0, 0, -s], [0, s, s, 0], [0, s, -s, 0]])
    return b.conj() @ rho @ b.T


def swap_map_blocks(noise=None, correct: bool = True) -> tuple[np.ndarray, list[np.ndarray]]:
    """The fast path's linear swap map as (P, [M_0..M_3]) acting on v = (ρ_ab ⊗ ρ_cd)[i,j,k,l].

    P @ v (4 entries) are the reported-outcome probabilities, M_k @ v (16 entries) is outcome k's
    unnormalised corrected 4×4 state of (a, d), row-major. Accepts both layouts qstack has used:
    one (68, 256) matrix (rows 16k..16k+15 = M_k, rows 64..67 = P) or a tuple (P, (M_0..M_3)).
    """
    from qstack.quantum import operations

    try:
        res = operations.swap_map_for(noise, correct)
    except TypeError:
        if not correct:
            raise
        res = operations.swap_map_for(noise)
    if isinstance(res, tuple):
        probs, branches = res
        return np.asarray(probs), [np.asarray(b) for b in branches]
    res = np.asarray(res)
    return res[64:68], [res[16 * k : 16 * k + 16] for k in range(4)]


def pair_vector(rho_ab: np.ndarray, rho_cd: np.ndarray) -> np.ndarray:
    """The swap map's input v = np.multiply.outer(ρ_ab, ρ_cd).reshape(256)."""
    return np.multiply.outer(np.asarray(rho_ab), np.asarray(rho_cd)).reshape(256)
