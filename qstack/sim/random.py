"""Named, reproducible random streams for a simulation.

One non-negative integer seed is split into independent ``numpy.random.Generator``
streams, one per name path such as ``("node-A", "memory")``. Each stream is derived from
``numpy.random.SeedSequence(entropy=seed, spawn_key=...)`` where the spawn key is a
stable 128-bit digest (BLAKE2b) of every name, so

* a stream depends only on the seed and its own names: creating streams in a different
  order, or adding a new component, does not change any other stream's draws;
* the derivation is identical across runs, machines and Python processes (Python's
  salted ``hash()`` is never used).

This follows numpy's recommended practice for parallel streams (NEP 19 / SeedSequence).
"""

from __future__ import annotations

import hashlib
from numbers import Integral

import numpy as np

__all__ = ["RandomStreams"]

_WORDS_PER_NAME = 4  # 128-bit digest per name, as four 32-bit spawn-key words


def _name_words(name: str) -> tuple[int, ...]:
    """Stable fixed-width spawn-key words for one stream name."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=4 * _WORDS_PER_NAME).digest()
    return tuple(int.from_bytes(digest[4 * i : 4 * i + 4], "little") for i in range(_WORDS_PER_NAME))


def _check_seed(seed: object) -> int:
    """Return ``seed`` as an int, or raise if it is not a non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed must be a non-negative int, got {type(seed).__name__} {seed!r}")
    value = int(seed)
    if value < 0:
        raise ValueError(f"seed must be a non-negative int (>= 0), got {value}")
    return value


class RandomStreams:
    """Independent random generators split from one seed and keyed by name.

    ``get(*names)`` returns the same cached generator for the same names; the draws of a
    stream depend only on the seed and its names.

    >>> streams = RandomStreams(7)
    >>> rng = streams.get("node-A", "memory")
    >>> rng is streams.get("node-A", "memory")
    True
    >>> x = RandomStreams(7).get("node-A", "memory").random()
    >>> y = RandomStreams(7).get("node-A", "memory").random()
    >>> x == y
    True
    """

    __slots__ = ("_seed", "_streams")

    def __init__(self, seed: int) -> None:
        self._seed = _check_seed(seed)
        self._streams: dict[tuple[str, ...], np.random.Generator] = {}

    @property
    def seed(self) -> int:
        """The root seed.

        >>> RandomStreams(3).seed
        3
        """
        return self._seed

    def get(self, *names: str) -> np.random.Generator:
        """Return the generator for the name path ``names`` (created on first use).

        >>> streams = RandomStreams(1)
        >>> a = streams.get("node-A", "source")
        >>> b = streams.get("node-B", "source")
        >>> bool(a.random() != b.random())
        True
        """
        rng = self._streams.get(names)
        if rng is None:
            rng = np.random.Generator(np.random.PCG64(self.seed_sequence(*names)))
            self._streams[names] = rng
        return rng

    def seed_sequence(self, *names: str) -> np.random.SeedSequence:
        """Return a fresh ``SeedSequence`` for ``names`` (for other bit generators or workers).

        >>> ss = RandomStreams(5).seed_sequence("sweep", "run-3")
        >>> ss.entropy
        5
        """
        if not names:
            raise ValueError("a random stream needs at least one name, e.g. get('node-A', 'memory')")
        key: list[int] = []
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"random stream names must be str, got {type(name).__name__} {name!r}")
            key.extend(_name_words(name))
        return np.random.SeedSequence(entropy=self._seed, spawn_key=tuple(key))

    def __repr__(self) -> str:
        return f"RandomStreams(seed={self._seed}, streams={len(self._streams)})"
