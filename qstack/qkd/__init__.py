"""Classical QKD toolkit: sifting, estimation, Cascade, privacy amplification, authentication, key rates.

Everything is deterministic given a ``numpy.random.Generator``; keys are uint8 bit arrays.

* :mod:`~qstack.qkd.entropy` — h(p), BB84/BBM92 asymptotic rates (Shor–Preskill), with
  unequal X/Z error rates and biased bases (Lo, Chau & Ardehali), the X/Z QBERs of a two-qubit
  state, CHSH of Werner pairs, DI-QKD rate (Acín et al.; Pironio et al.), PLOB and TGW bounds;
* :mod:`~qstack.qkd.sifting` — BB84 sifting, QBER sampling with Serfling confidence bounds;
* :mod:`~qstack.qkd.cascade` — Cascade error correction (Brassard & Salvail) with a counted
  parity oracle;
* :mod:`~qstack.qkd.privacy` — Toeplitz universal hashing (privacy amplification, verification);
* :mod:`~qstack.qkd.authentication` — Wegman–Carter tags over GF(2^64), a never-reusing key pool,
  and where a pre-shared key comes from (a key file, inline hex, or a fresh CSPRNG key);
* :mod:`~qstack.qkd.device_independent` — DI-QKD's Bell test at a stated ε (Chernoff lower
  bound on the CHSH winning probability) and its finite-statistics key rate;
* :mod:`~qstack.qkd.finite_key` — finite-key length (Tomamichel et al. 2012), decoy-state rate
  (Lo, Ma & Chen 2005; Ma et al. 2005) and the weak-coherent channel model;
* :mod:`~qstack.qkd.intercept_resend` — intercept–resend statistics;
* :mod:`~qstack.qkd.pipeline` — :func:`distil_key`, the whole post-processing chain.

>>> import numpy as np
>>> from qstack.qkd import KeyPool, distil_key
>>> rng = np.random.default_rng(1)
>>> alice = rng.integers(0, 2, 30_000, dtype=np.uint8)
>>> bob = alice ^ (rng.random(30_000) < 0.01).astype(np.uint8)
>>> result = distil_key(alice, bob, rng, key_pool=KeyPool(rng.integers(0, 2, 2048, dtype=np.uint8)))
>>> bool(np.array_equal(result.alice_key, result.bob_key))
True
"""

from .authentication import (
    AuthenticatedChannel,
    AuthenticatedMessage,
    AuthenticationError,
    KeyPool,
    KeyPoolError,
    KeyPoolExhaustedError,
    KeyReuseError,
    KeySlice,
    PresharedKey,
    fresh_key,
    load_preshared_key,
    wegman_carter_tag,
    wegman_carter_verify,
)
from .bits import as_bits, hamming_distance, random_bits
from .cascade import CascadeResult, ParityOracle, cascade, cascade_block_size
from .entropy import (
    XZQBER,
    bb84_asymmetric_rate,
    bb84_asymptotic_rate,
    bb84_qber_threshold,
    bbm92_asymmetric_rate,
    bbm92_asymptotic_rate,
    bell_diagonal_qbers,
    binary_entropy,
    chsh_value_werner,
    di_qkd_rate,
    efficient_bb84_rate,
    h,
    plob_bound,
    state_qbers,
    tgw_bound,
)
from .finite_key import (
    decoy_single_photon_bounds,
    decoy_state_rate,
    finite_key_length,
    finite_key_statistical_deviation,
    gllp_rate,
    ideal_decoy_rate,
    model_single_photon,
    weak_coherent_statistics,
)
from .intercept_resend import (
    eve_information_intercept_resend,
    intercept_resend_bb84,
    intercept_resend_qber,
    interception_fraction_for_qber,
)
from .pipeline import KeyResult, MessageRejected, QKDAbort, distil_key
from .privacy import random_toeplitz_seed, toeplitz_hash, toeplitz_matrix
from .sifting import QBEREstimate, SiftedKey, estimate_qber, serfling_deviation, sift_bb84

__all__ = [
    "AuthenticatedChannel",
    "AuthenticatedMessage",
    "AuthenticationError",
    "CascadeResult",
    "KeyPool",
    "KeyPoolError",
    "KeyPoolExhaustedError",
    "KeyResult",
    "KeyReuseError",
    "KeySlice",
    "MessageRejected",
    "ParityOracle",
    "PresharedKey",
    "QBEREstimate",
    "QKDAbort",
    "SiftedKey",
    "XZQBER",
    "as_bits",
    "bb84_asymmetric_rate",
    "bb84_asymptotic_rate",
    "bb84_qber_threshold",
    "bbm92_asymmetric_rate",
    "bbm92_asymptotic_rate",
    "bell_diagonal_qbers",
    "binary_entropy",
    "cascade",
    "cascade_block_size",
    "chsh_value_werner",
    "decoy_single_photon_bounds",
    "decoy_state_rate",
    "di_qkd_rate",
    "distil_key",
    "efficient_bb84_rate",
    "estimate_qber",
    "eve_information_intercept_resend",
    "finite_key_length",
    "fresh_key",
    "finite_key_statistical_deviation",
    "gllp_rate",
    "h",
    "hamming_distance",
    "ideal_decoy_rate",
    "intercept_resend_bb84",
    "intercept_resend_qber",
    "interception_fraction_for_qber",
    "load_preshared_key",
    "model_single_photon",
    "plob_bound",
    "random_bits",
    "random_toeplitz_seed",
    "serfling_deviation",
    "sift_bb84",
    "state_qbers",
    "tgw_bound",
    "toeplitz_hash",
    "toeplitz_matrix",
    "wegman_carter_tag",
    "wegman_carter_verify",
    "weak_coherent_statistics",
]
