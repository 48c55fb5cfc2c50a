"""Observation apart from protocol code (in the spirit of NetSquid's ``DataCollector``).

Protocols emit events through their runtime (``runtime.record(event)``): the link layer's
:class:`~qstack.link.service.LinkOK` (a pair heralded), ``LinkErr`` and ``LinkExpire``, the network layer's
:class:`~qstack.network.protocol.SwapEvent`, :class:`~qstack.network.protocol.PurificationEvent`,
:class:`~qstack.network.service.NetExpire`, :class:`~qstack.network.service.NetFail` and
:class:`~qstack.network.service.NetDeliver` (a pair delivered), and applications'
:class:`AppEvent`. A :class:`Recorder` hands each event to the subscribers of its type (and to
subscribers of every event) in the order they subscribed; tests, ``qstack run --records`` and
sweeps subscribe.

:class:`PairRecords` turns a run's events into tidy per-pair rows — time, flow, route, fidelity
(from the density matrix, measured by the observer before the upper layer touches the pair),
Bell state, age, and each link pair's waiting time in memory — that :func:`write_records`
writes as CSV or Parquet.

>>> rec = Recorder()
>>> seen = []
>>> rec.subscribe(AppEvent, seen.append)
>>> rec.emit(AppEvent(0.5, "alice", "ping", "sent", {"n": 1}))
>>> seen[0].name
'sent'
"""

from __future__ import annotations

import csv
import math
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Recorder", "AppEvent", "PairRecords", "write_records", "RECORD_COLUMNS", "observable", "EVERYTHING"]

#: event types registered with :func:`observable` (a catch-all subscriber watches all of them)
_OBSERVABLE: set[type] = set()
_CATCH_ALL: weakref.WeakSet[Recorder] = weakref.WeakSet()


def observable(cls: type) -> type:
    """Class decorator: register ``cls`` as an observation event type, so that a catch-all
    subscriber (``subscribe(None, …)``) puts it in :attr:`Recorder.watched`. A protocol that
    skips building events nobody watches (``if Kind in runtime.observed: runtime.record(…)``)
    must register ``Kind``; events recorded unconditionally need not be.

    >>> @observable
    ... class Ping:
    ...     pass
    >>> rec = Recorder(); rec.subscribe(None, print)
    >>> Ping in rec.watched
    True
    """
    _OBSERVABLE.add(cls)
    for rec in _CATCH_ALL:
        rec.watched.add(cls)
    return cls


class _Everything:
    """A container holding every type: what a runtime without a selective recorder observes."""

    __slots__ = ()

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERYTHING"


#: ``runtime.observed`` of runtimes that record every event (the default, and :mod:`qstack.testing`)
EVERYTHING = _Everything()


@observable
@dataclass(frozen=True, slots=True)
class AppEvent:
    """Something an application role reports (``ctx.record(name, **data)``)."""

    time: float
    node: str
    app: str
    name: str
    data: dict = field(default_factory=dict)


class Recorder:
    """Subscribers by event type; ``emit`` calls them synchronously, in subscription order.

    :attr:`watched` is the live set of event types someone listens to (every
    :func:`observable` type once a catch-all subscriber exists): runtimes expose it as
    ``runtime.observed``, so hot protocol paths build an event only when it is watched.
    """

    __slots__ = ("_by_type", "_all", "_route", "watched", "__weakref__")

    def __init__(self) -> None:
        self._by_type: dict[type, list[Callable[[Any], Any]]] = {}
        self._all: list[Callable[[Any], Any]] = []
        self._route: dict[type, tuple[Callable[[Any], Any], ...]] = {}  # type -> its subscribers, then catch-alls
        #: the event types with a subscriber (kept up to date; never replaced)
        self.watched: set[type] = set()

    def subscribe(self, kind: type | None, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(event)`` for every event of type ``kind`` (None: every event)."""
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        if kind is None:
            self._all.append(callback)
        else:
            self._by_type.setdefault(kind, []).append(callback)
        self._route.clear()
        self._rewatch()

    def unsubscribe(self, kind: type | None, callback: Callable[[Any], Any]) -> None:
        """Stop calling ``callback`` for ``kind``."""
        (self._all if kind is None else self._by_type.get(kind, [])).remove(callback)
        self._route.clear()
        self._rewatch()

    def _rewatch(self) -> None:
        watched = {k for k, cbs in self._by_type.items() if cbs}
        if self._all:
            watched |= _OBSERVABLE
            _CATCH_ALL.add(self)
        else:
            _CATCH_ALL.discard(self)
        self.watched.clear()
        self.watched.update(watched)

    def emit(self, event: Any) -> None:
        """Hand ``event`` to its subscribers (those of its type, then those of every event)."""
        kind = type(event)
        route = self._route.get(kind)
        if route is None:
            route = self._route[kind] = (*self._by_type.get(kind, ()), *self._all)
        for cb in route:
            cb(event)


#: the columns of :class:`PairRecords` rows, in order
RECORD_COLUMNS: tuple[str, ...] = (
    "time", "flow_id", "source", "destination", "route", "seq", "fidelity", "bell_state", "age",
    "links", "link_waits", "max_link_wait", "head_pair", "tail_pair",
)
_BELL = ("phi+", "phi-", "psi+", "psi-")


class PairRecords:
    """Per-pair rows of a run (subscribe with :meth:`attach`; read :attr:`rows`).

    The waiting time of a link pair is how long it sat in memory from its emission to the swap
    (or delivery) that consumed it; ``link_waits`` lists them for the links of the route, in
    route order, joined by ``;``.

    Only :attr:`rows` grows with the run: what is kept of a pair on its way (its heralds, the
    segments its swaps joined) is dropped when it is delivered, expired, discarded or
    consumed by purification. Attach before the run starts: a swap of a link pair heralded
    before is taken for a swap of a discarded pair.
    """

    def __init__(self, fidelity_of: Callable[[Any], float] | None = None) -> None:
        self.rows: list[dict[str, Any]] = []
        self._fidelity_of = fidelity_of
        # link pairs heralded and not yet consumed: key -> (emission time, both ends reported)
        self._heralded: dict[tuple[str, int], tuple[float, bool]] = {}
        # link pairs consumed (swapped, delivered, dropped) before the second end's LinkOK: that
        # LinkOK is still to come and must not herald the pair again
        self._awaiting: set[tuple[str, int]] = set()
        self._segments: dict[tuple[str, int], dict[tuple[str, int], tuple[bool, float]]] = {}

    def attach(self, recorder: Recorder) -> PairRecords:
        """Subscribe to the events the rows need; returns self."""
        from qstack.link.service import LinkOK
        from qstack.network.protocol import PurificationEvent, SwapEvent
        from qstack.network.service import NetDeliver, NetExpire

        recorder.subscribe(LinkOK, self._on_ok)
        recorder.subscribe(SwapEvent, self._on_swap)
        recorder.subscribe(NetDeliver, self._on_deliver)
        recorder.subscribe(NetExpire, self._on_expire)
        recorder.subscribe(PurificationEvent, self._on_purification)
        return self

    @property
    def pending(self) -> int:
        """Entries kept for pairs still on their way (heralded link pairs and joined segments)."""
        return len(self._heralded) + len(self._segments) + len(self._awaiting)

    def _forget(self, key: tuple[str, int]) -> None:
        """The pair ``key`` is gone: drop its herald and every link pair of its segment."""
        if key in self._heralded:
            self._consume(key)
        seg = self._segments.pop(key, None)
        if seg is not None:
            for k in seg:
                self._segments.pop(k, None)

    def _on_expire(self, e: Any) -> None:
        self._forget(e.pair_id)

    def _on_purification(self, ev: Any) -> None:
        self._forget(ev.sacrifice)  # measured: consumed, whatever the round's outcome
        if not ev.success:
            self._forget(ev.keep)

    def _on_ok(self, ok: Any) -> None:
        key = ok.pair_id
        if key in self._awaiting:  # the second end's report of a pair already consumed
            self._awaiting.discard(key)
        elif key in self._heralded:
            self._heralded[key] = (ok.created, True)
        else:
            self._heralded[key] = (ok.created, False)

    def _consume(self, key: tuple[str, int]) -> float:
        """Take link pair ``key`` out of the heralded ones; its emission time (NaN if unknown)."""
        entry = self._heralded.pop(key, None)
        if entry is None:
            return math.nan
        if not entry[1]:
            self._awaiting.add(key)
        return entry[0]

    def _known(self, key: tuple[str, int]) -> bool:
        """Whether link pair ``key`` is on its way (heralded, or part of a joined segment)."""
        return key in self._heralded or key in self._segments

    def _segment(self, key: tuple[str, int]) -> dict[tuple[str, int], tuple[bool, float]]:
        seg = self._segments.get(key)
        if seg is None:
            seg = self._segments[key] = {key: (False, self._consume(key))}
        return seg

    def _on_swap(self, ev: Any) -> None:
        if not (self._known(ev.up) and self._known(ev.down)):
            # one half was discarded already (its far end cut it off while the Expire was still
            # on its way here): the joined pair is being discarded too, by messages no event shows
            self._forget(ev.up)
            self._forget(ev.down)
            return
        merged = {**self._segment(ev.up), **self._segment(ev.down)}
        for k in (ev.up, ev.down):  # the two link pairs consumed here waited until now
            final, v = merged[k]
            if not final:
                merged[k] = (True, ev.time - v)
        for k in merged:
            self._segments[k] = merged

    def _on_deliver(self, d: Any) -> None:
        if d.end != "tail":
            return
        seg = self._segment(d.pair_id)
        waits = {k[0]: (v if final else d.time - v) for k, (final, v) in seg.items()}
        for k in seg:
            self._segments.pop(k, None)
        route = d.flow.route
        links = [f"{a}-{b}" if f"{a}-{b}" in waits else f"{b}-{a}" for a, b in zip(route, route[1:], strict=False)]
        ordered = [waits.get(name, math.nan) for name in links]
        fid = self._fidelity_of(d) if self._fidelity_of is not None else math.nan
        self.rows.append({
            "time": d.time, "flow_id": d.flow.flow_id, "source": route[0], "destination": route[-1],
            "route": "-".join(route), "seq": d.seq, "fidelity": fid, "bell_state": _BELL[d.frame],
            "age": d.time - d.created, "links": len(route) - 1,
            "link_waits": ";".join(f"{w:.9g}" for w in ordered),
            "max_link_wait": max((w for w in ordered if w == w), default=math.nan),
            "head_pair": f"{d.peer_pair[0]}#{d.peer_pair[1]}", "tail_pair": f"{d.pair_id[0]}#{d.pair_id[1]}",
        })


def write_records(rows: Iterable[dict[str, Any]], path: str | Path, columns: Sequence[str] = RECORD_COLUMNS) -> Path:
    """Write rows to ``path``: Parquet for ``.parquet`` (needs pyarrow), else CSV. Returns the path.

    >>> import tempfile, pathlib
    >>> p = write_records([{"time": 1.0, "fidelity": 0.9}], pathlib.Path(tempfile.mkdtemp()) / "r.csv",
    ...                   columns=("time", "fidelity"))
    >>> p.read_text().splitlines()
    ['time,fidelity', '1.0,0.9']
    """
    path = Path(path)
    rows = list(rows)
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise RuntimeError("writing Parquet needs pyarrow: pip install 'qstack-qnet[records]' "
                               "(or write .csv)") from exc
        table = pa.table({c: [r.get(c) for r in rows] for c in columns})
        pq.write_table(table, path)
        return path
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path
