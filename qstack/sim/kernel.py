"""The deterministic discrete-event kernel: virtual time, events and coroutine processes.

Events are tuples ``(time, priority, sequence, fn, arg, process)`` and run in the order of
``(time, priority, sequence)``: earlier time first, then the lower priority number, then
insertion order. Nothing else (no set or dict iteration, no wall clock, no salted hash)
decides the order, so one scenario and seed give the same run, bit for bit. Future events
live in a ``heapq`` heap; events due now with priority 0 (wake-ups by signals, mailboxes
and joins) go to a FIFO that the loop merges with the heap by the same key, which saves
two O(log n) heap operations per such wake-up. Cancellation is lazy: a cancelled event's
sequence number is remembered and the event is skipped when it comes up; the queues are
compacted when cancelled entries make up most of them.

Processes are plain ``async def`` coroutines driven by the kernel with ``coro.send()`` and
``coro.throw()`` (the technique asyncio uses underneath). They may await only this
kernel's awaitables: ``Simulation.sleep``, ``Signal.wait``, ``Mailbox.get`` and
``Process.join`` (or the process itself). ``sleep`` yields its delay (a float) to the run
loop, which pushes the wake-up itself: the hot path allocates only the heap tuple and the
small ``sleep`` generator. The other awaitables register the running process where it will
be woken (a signal, a mailbox, a process) and yield a private sentinel. The modelling
style is SimPy's process interaction; the loop is written for speed (see
``bench/bench_kernel.py``).
"""

from __future__ import annotations

import inspect
import math
import types
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from heapq import heapify, heappop, heappush
from itertools import count
from numbers import Real
from typing import Any

import numpy as np

from qstack.sim.random import RandomStreams

__all__ = [
    "Cancelled",
    "EventHandle",
    "Mailbox",
    "Process",
    "Signal",
    "Simulation",
    "Timeout",
]

_INF = math.inf

_Event = tuple[float, int, int, Callable[..., Any], Any, "Process | None"]

# Yielded by every kernel awaitable to suspend the running process. The driver checks for
# it so that awaiting a foreign awaitable (asyncio, trio) fails loudly.
_SUSPEND = object()

# A process step calls one of these with (coroutine, value). Method descriptors, rather than
# bound methods cached per process, keep one object fewer in memory touched per wake-up.
_SEND = types.CoroutineType.send
_THROW = types.CoroutineType.throw


class Timeout(Exception):
    """Raised inside a process whose wait with ``timeout=`` expired.

    >>> sim = Simulation(seed=0)
    >>> async def waiter():
    ...     try:
    ...         await Signal(sim, "never").wait(timeout=2.0)
    ...     except Timeout:
    ...         return sim.now
    >>> p = sim.spawn(waiter())
    >>> sim.run()
    >>> p.result()
    2.0
    """


class Cancelled(BaseException):
    """Thrown into a process by ``Process.cancel()``.

    It derives from ``BaseException`` (like ``asyncio.CancelledError``) so that
    ``except Exception`` in protocol code does not swallow a cancellation. Joining a
    cancelled process raises ``Cancelled`` in the joiner.

    >>> sim = Simulation(seed=0)
    >>> async def forever():
    ...     await sim.sleep(100.0)
    >>> p = sim.spawn(forever())
    >>> _ = sim.call_at(1.0, p.cancel)
    >>> sim.run()
    >>> p.cancelled, sim.now
    (True, 1.0)
    """


def _real(value: object, what: str) -> float:
    """``value`` as a float, or TypeError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{what} must be a real number of seconds, got {type(value).__name__} {value!r}")
    return float(value)


def _duration(value: object, what: str) -> float:
    """Validate a non-negative, finite duration in seconds."""
    d = _real(value, what)
    if not 0.0 <= d < _INF:
        raise ValueError(f"{what} must be finite and >= 0 seconds, got {value!r}")
    return d


class EventHandle:
    """A scheduled callback returned by ``call_at``/``call_later``; ``cancel()`` it.

    >>> sim = Simulation(seed=0)
    >>> fired = []
    >>> handle = sim.call_later(1.0, fired.append, "a")
    >>> handle.time, handle.cancelled
    (1.0, False)
    >>> handle.cancel()
    >>> sim.run()
    >>> fired, handle.cancelled
    ([], True)
    """

    __slots__ = ("_sim", "_seq", "time", "priority", "cancelled")

    def __init__(self, sim: Simulation, seq: int, time: float, priority: int) -> None:
        self._sim = sim
        self._seq = seq
        self.time: float = time
        """Virtual time (seconds) at which the callback runs."""
        self.priority: int = priority
        """Tie-break among events at the same time: lower runs first."""
        self.cancelled: bool = False
        """Whether ``cancel()`` was called."""

    def cancel(self) -> None:
        """Prevent the callback from running. Cancelling twice, or after it ran, is harmless.

        >>> sim = Simulation(seed=0)
        >>> h = sim.call_at(2.0, print, "never")
        >>> h.cancel(); h.cancel()
        >>> sim.run()
        >>> sim.now
        0.0
        """
        if not self.cancelled:
            self.cancelled = True
            self._sim._cancel(self._seq)

    def __repr__(self) -> str:
        state = " cancelled" if self.cancelled else ""
        return f"<EventHandle t={self.time!r} priority={self.priority}{state}>"


class Simulation:
    """A discrete-event simulation in virtual time (seconds), deterministic for a seed.

    Schedule callbacks with ``call_at``/``call_later``, start coroutine processes with
    ``spawn``, and advance time with ``run``.

    >>> sim = Simulation(seed=42)
    >>> log = []
    >>> _ = sim.call_at(2.0, log.append, "late")
    >>> _ = sim.call_at(1.0, log.append, "low", priority=1)
    >>> _ = sim.call_at(1.0, log.append, "high", priority=-1)
    >>> async def proc():
    ...     await sim.sleep(1.5)
    ...     log.append(("proc", sim.now))
    >>> _ = sim.spawn(proc(), name="p")
    >>> sim.run()
    >>> log
    ['high', 'low', ('proc', 1.5), 'late']
    >>> sim.now, sim.events_processed
    (2.0, 5)
    """

    def __init__(self, seed: int) -> None:
        self.streams: RandomStreams = RandomStreams(seed)
        """The named random streams of this simulation (see ``rng``)."""
        self.now: float = 0.0
        """Current virtual time in seconds."""
        self.events_processed: int = 0
        """Events run so far: callbacks and process steps (updated when ``run()`` returns)."""
        self.nodes: dict[str, Any] = {}
        """Nodes created on this simulation (``qstack.sim.Node``), by name."""
        # Events are tuples (time, priority, seq, fn, arg, process): process is None for a
        # callback fn(*arg); otherwise fn is _SEND or _THROW, called as fn(process._coro, arg).
        # Most live in the heap. Events due *now* with priority 0 (process wake-ups by signals,
        # mailboxes and joins, spawns, zero delays) go to the FIFO `_ready` instead: it is
        # sorted by construction (same time and priority, rising seq), and the loop runs
        # whichever of heap[0] and ready[0] is smaller, so the order is exactly that of one
        # heap, without two O(log n) heap operations per wake-up.
        self._heap: list[_Event] = []
        self._ready: deque[_Event] = deque()
        self._seq = count()
        self._cancelled: set[int] = set()
        self._current: Process | None = None
        self._running = False
        self._stop_requested = False
        self._process_ids = count()

    # ------------------------------------------------------------------ scheduling

    @property
    def seed(self) -> int:
        """The seed the simulation was created with.

        >>> Simulation(seed=9).seed
        9
        """
        return self.streams.seed

    def rng(self, *names: str) -> np.random.Generator:
        """The random stream for ``names``, e.g. ``sim.rng("node-A", "memory")``.

        >>> sim = Simulation(seed=1)
        >>> sim.rng("node-A", "memory") is sim.streams.get("node-A", "memory")
        True
        """
        return self.streams.get(*names)

    def call_at(self, time: float, fn: Callable[..., Any], *args: Any, priority: int = 0) -> EventHandle:
        """Run ``fn(*args)`` at virtual ``time`` (>= now); lower ``priority`` runs first.

        >>> sim = Simulation(seed=0)
        >>> h = sim.call_at(3.0, print, "at three")
        >>> sim.run()
        at three
        >>> sim.call_at(1.0, print)
        Traceback (most recent call last):
        ...
        ValueError: call_at(): time=1.0 is in the past; allowed range is now (3.0) <= time < inf
        """
        if time.__class__ is float and self.now <= time < _INF and priority == 0 and priority.__class__ is int:
            # the common case, checked cheaply, and _schedule written out (a timer per attempt)
            if not callable(fn):
                raise TypeError(f"fn must be callable, got {type(fn).__name__} {fn!r}")
            seq = next(self._seq)
            if time == self.now:
                self._ready.append((time, 0, seq, fn, args, None))
            else:
                heappush(self._heap, (time, 0, seq, fn, args, None))
            return EventHandle(self, seq, time, 0)
        if time.__class__ is float and self.now <= time < _INF:
            return self._schedule(time, fn, args, priority)
        t = _real(time, "call_at(): time")
        if not self.now <= t < _INF:
            problem = "is in the past" if t < self.now else "is not allowed"
            raise ValueError(f"call_at(): time={time!r} {problem}; allowed range is now ({self.now!r}) <= time < inf")
        return self._schedule(t, fn, args, priority)

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any, priority: int = 0) -> EventHandle:
        """Run ``fn(*args)`` after ``delay`` seconds (finite, >= 0).

        >>> sim = Simulation(seed=0)
        >>> _ = sim.call_later(0.5, lambda: print(sim.now))
        >>> sim.run()
        0.5
        >>> sim.call_later(-1, print)
        Traceback (most recent call last):
        ...
        ValueError: call_later(): delay must be finite and >= 0 seconds, got -1
        """
        if delay.__class__ is not float or not 0.0 <= delay < _INF:
            delay = _duration(delay, "call_later(): delay")
        return self._schedule(self.now + delay, fn, args, priority)

    def _schedule(self, t: float, fn: Callable[..., Any], args: tuple[Any, ...], priority: int) -> EventHandle:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__} {fn!r}")
        if priority.__class__ is not int:
            if isinstance(priority, bool) or not isinstance(priority, int):
                raise TypeError(f"priority must be an int, got {type(priority).__name__} {priority!r}")
            priority = int(priority)
        seq = next(self._seq)
        if t == self.now and priority == 0:
            self._ready.append((t, 0, seq, fn, args, None))
        else:
            heappush(self._heap, (t, priority, seq, fn, args, None))
        return EventHandle(self, seq, t, priority)

    def _push(self, t: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> int:
        """Internal: schedule callback ``fn(*args)`` at ``t``, priority 0; return its sequence."""
        seq = next(self._seq)
        if t == self.now:
            self._ready.append((t, 0, seq, fn, args, None))
        else:
            heappush(self._heap, (t, 0, seq, fn, args, None))
        return seq

    def _push_step(self, t: float, fn: Callable[[Any, Any], Any], arg: Any, proc: Process) -> int:
        """Internal: schedule a step of ``proc``: ``fn`` is ``_SEND`` or ``_THROW``."""
        seq = next(self._seq)
        if t == self.now:
            self._ready.append((t, 0, seq, fn, arg, proc))
        else:
            heappush(self._heap, (t, 0, seq, fn, arg, proc))
        return seq

    def _cancel(self, seq: int) -> None:
        """Internal: lazily cancel the event with sequence ``seq``.

        When cancelled entries make up over half of the queue, the queues are rebuilt without
        them (amortised O(1) per cancellation), so long waits that end early (timeouts)
        do not pile up. Both are rebuilt in place: ``run()`` holds references to them.
        """
        cancelled = self._cancelled
        cancelled.add(seq)
        heap, ready = self._heap, self._ready
        if 2 * len(cancelled) > len(heap) + len(ready) + 256:
            heap[:] = [event for event in heap if event[2] not in cancelled]
            heapify(heap)
            kept = [event for event in ready if event[2] not in cancelled]
            ready.clear()
            ready.extend(kept)
            cancelled.clear()

    @property
    def next_event_time(self) -> float | None:
        """Time of the next pending (not cancelled) event, or None when there is none.

        >>> sim = Simulation(seed=0)
        >>> h = sim.call_at(1.0, print); _ = sim.call_at(2.0, print)
        >>> h.cancel()
        >>> sim.next_event_time
        2.0
        """
        heap, ready, cancelled = self._heap, self._ready, self._cancelled
        while ready and ready[0][2] in cancelled:
            cancelled.discard(ready.popleft()[2])
        while heap and heap[0][2] in cancelled:
            cancelled.discard(heappop(heap)[2])
        if ready:
            return min(ready[0][0], heap[0][0]) if heap else ready[0][0]
        return heap[0][0] if heap else None

    # ------------------------------------------------------------------ running

    def run(self, until: float | None = None, max_events: int | None = None) -> None:
        """Run events in ``(time, priority, sequence)`` order.

        Stops when no events remain, when the next event lies after ``until`` (events at
        exactly ``until`` still run), after ``max_events`` events, or when ``stop()`` is
        called. If ``until`` is given and the run was not cut short (by ``stop()``,
        ``max_events`` or an exception), ``now`` is set to ``until`` at the end. An
        exception escaping a callback, or a process that nobody is joining, propagates out
        of ``run()``; the simulation stays consistent and can be run again.

        >>> sim = Simulation(seed=0)
        >>> for t in (1.0, 2.0, 3.0):
        ...     _ = sim.call_at(t, print, t)
        >>> sim.run(until=2.5)
        1.0
        2.0
        >>> sim.now
        2.5
        >>> sim.run(max_events=1)
        3.0
        """
        if self._running:
            raise RuntimeError("Simulation.run() is already running (it is not re-entrant)")
        if until is None:
            end = _INF
        else:
            end = _real(until, "run(): until")
            if not self.now <= end < _INF:
                raise ValueError(
                    f"run(): until={until!r} is not allowed; allowed range is now ({self.now!r}) <= until < inf"
                )
        if max_events is None:
            budget = -1
        else:
            if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
                raise ValueError(f"run(): max_events must be an int >= 0 or None, got {max_events!r}")
            budget = max_events
            if budget == 0:
                return
        heap = self._heap
        ready = self._ready
        cancelled = self._cancelled
        counter = self._seq
        pop = heappop
        push = heappush
        send = _SEND
        done = 0
        reached_end = False
        self._running = True
        self._stop_requested = False
        try:
            # `while True` (not `while heap`): CPython 3.11 specialises a loop's bytecode only
            # after unconditional backward jumps, and this loop must be specialised.
            while True:
                if ready:
                    if heap and heap[0] < ready[0]:
                        t, priority, seq, fn, arg, proc = pop(heap)
                    else:
                        t, priority, seq, fn, arg, proc = ready.popleft()
                elif heap:
                    t, priority, seq, fn, arg, proc = pop(heap)
                else:
                    reached_end = True
                    break
                if cancelled and seq in cancelled:
                    cancelled.remove(seq)
                    continue
                if t > end:  # only a heap event can be later than now
                    push(heap, (t, priority, seq, fn, arg, proc))
                    reached_end = True
                    break
                self.now = t
                done += 1
                if proc is None:
                    self._current = None
                    fn(*arg)
                else:
                    # One step of a process: fn is _SEND or _THROW.
                    self._current = proc
                    try:
                        request = fn(proc._coro, arg)
                    except BaseException as exc:  # returned (StopIteration) or raised
                        proc._exit(exc)
                    else:
                        if request.__class__ is float:  # sleep(delay)
                            seq = next(counter)
                            push(heap, (t + request, 0, seq, send, None, proc))
                            proc._pending = seq
                        elif request is not _SUSPEND:
                            proc._reject(request)
                if self._stop_requested or done == budget:
                    break
        finally:
            self._current = None
            self.events_processed += done
            self._running = False
        if reached_end and until is not None:
            self.now = end

    def stop(self) -> None:
        """Make the current ``run()`` return after the event that is running now.

        >>> sim = Simulation(seed=0)
        >>> _ = sim.call_at(1.0, sim.stop); _ = sim.call_at(2.0, print, "later")
        >>> sim.run()
        >>> sim.now
        1.0
        """
        self._stop_requested = True

    # ------------------------------------------------------------------ processes

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> Process:
        """Start the coroutine ``coro`` as a process at the current time.

        >>> sim = Simulation(seed=0)
        >>> async def hello(who):
        ...     await sim.sleep(1.0)
        ...     return f"hello {who} at {sim.now}"
        >>> p = sim.spawn(hello("A"), name="greeter")
        >>> sim.run()
        >>> p.result()
        'hello A at 1.0'
        """
        if not inspect.iscoroutine(coro):
            hint = (
                " (call the async function: spawn(f(...)), not spawn(f))" if inspect.iscoroutinefunction(coro) else ""
            )
            raise TypeError(f"spawn() needs a coroutine object, got {type(coro).__name__} {coro!r}{hint}")
        if name is None:
            name = f"{coro.__qualname__}-{next(self._process_ids)}"
        proc = Process(self, coro, name)
        proc._pending = self._push_step(self.now, _SEND, None, proc)
        return proc

    @property
    def current_process(self) -> Process | None:
        """The process whose code is running now, or None inside a plain callback.

        >>> sim = Simulation(seed=0)
        >>> async def who():
        ...     return sim.current_process.name
        >>> p = sim.spawn(who(), name="me")
        >>> sim.run(); p.result()
        'me'
        """
        return self._current

    def _running_process(self, what: str) -> Process:
        proc = self._current
        if proc is None:
            raise RuntimeError(f"{what} must be awaited inside a process started with Simulation.spawn()")
        return proc

    @types.coroutine
    def sleep(self, delay: float) -> Generator[Any, Any, None]:
        """Suspend the calling process for ``delay`` seconds (finite, >= 0).

        >>> sim = Simulation(seed=0)
        >>> async def nap():
        ...     await sim.sleep(0.25)
        ...     await sim.sleep(0.5)
        ...     return sim.now
        >>> p = sim.spawn(nap()); sim.run(); p.result()
        0.75
        """
        if delay.__class__ is not float or not 0.0 <= delay < _INF:
            delay = _duration(delay, "sleep(): delay")
        yield delay  # the run loop schedules the wake-up

    def __repr__(self) -> str:
        pending = len(self._heap) + len(self._ready)
        return f"<Simulation seed={self.seed} now={self.now!r} pending={pending}>"


class Process:
    """A running coroutine; created by ``Simulation.spawn``. Await it to get its result.

    >>> sim = Simulation(seed=0)
    >>> async def child():
    ...     await sim.sleep(2.0)
    ...     return 42
    >>> async def parent():
    ...     c = sim.spawn(child(), name="child")
    ...     return await c
    >>> p = sim.spawn(parent(), name="parent")
    >>> sim.run()
    >>> p.result(), p.done
    (42, True)
    """

    __slots__ = (  # the two read and written on every wake-up first: one cache line
        "_coro",
        "_pending",
        "_sim",
        "name",
        "_timeout",
        "_blocked",
        "_handoff",
        "_done",
        "_cancelled",
        "_value",
        "_exc",
        "_joiners",
        "_callbacks",
    )

    def __init__(self, sim: Simulation, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self._sim = sim
        self.name: str = name
        """The process name (used in error messages and traces)."""
        self._coro = coro
        self._pending: int | None = None  # sequence of the event that will step it next
        self._timeout: int | None = None  # sequence of its armed timeout step
        self._blocked: dict[Process, None] | None = None  # waiter registry it sits in
        self._handoff: tuple[Mailbox, Any] | None = None  # mailbox item in flight to it
        self._done = False
        self._cancelled = False
        self._value: Any = None
        self._exc: BaseException | None = None
        self._joiners: dict[Process, None] | None = None  # created when first joined
        self._callbacks: list[Callable[[Process], Any]] | None = None  # created when first added

    # -------------------------------------------------------------- kernel side

    def _exit(self, exc: BaseException) -> None:
        """Internal: a step ended the coroutine with ``exc`` (StopIteration = returned)."""
        if isinstance(exc, StopIteration):
            self._finish(exc.value, None)
        elif isinstance(exc, (Exception, Cancelled)):
            if not self._finish(None, exc):
                raise exc
        else:  # KeyboardInterrupt, SystemExit, GeneratorExit: never delivered to joiners
            self._done, self._exc = True, exc
            raise exc

    def _reject(self, request: object) -> None:
        err = TypeError(
            f"process {self.name!r} awaited something that yielded {request!r}; processes may "
            "await only Simulation.sleep, Signal.wait, Mailbox.get and processes"
        )
        self._pending = self._sim._push_step(self._sim.now, _THROW, err, self)

    def _wake_with(self, fn: Callable[[Any, Any], Any], arg: Any) -> None:
        """Internal: leave the wait it is blocked in; step it now with ``fn`` (_SEND or _THROW)."""
        sim = self._sim
        if self._timeout is not None:
            sim._cancel(self._timeout)
            self._timeout = None
        self._blocked = None
        self._pending = sim._push_step(sim.now, fn, arg, self)

    def _block(self, registry: dict[Process, None]) -> None:
        """Internal: register this (running) process as a waiter in ``registry``."""
        registry[self] = None
        self._blocked = registry
        self._pending = None

    def _arm_timeout(self, timeout: float, what: str) -> None:
        """Internal: throw ``Timeout`` into this blocked process after ``timeout`` seconds."""
        sim = self._sim
        exc = Timeout(f"process {self.name!r} timed out after {timeout!r} s waiting for {what}")
        self._timeout = sim._push_step(sim.now + timeout, _THROW, exc, self)

    def _unblock(self, exc: BaseException) -> None:
        """Internal: called by an awaitable when ``exc`` interrupts its wait."""
        if self._blocked is not None:
            self._blocked.pop(self, None)
            self._blocked = None
        if self._timeout is not None:
            if not isinstance(exc, Timeout):  # a Timeout here is the armed timeout, now running
                self._sim._cancel(self._timeout)
            self._timeout = None

    def _finish(self, value: Any, exc: BaseException | None) -> bool:
        """Record the outcome and wake joiners; return False if ``exc`` is unhandled."""
        sim = self._sim
        self._done = True
        self._value = value
        self._exc = exc
        self._pending = None
        handled = exc is None
        if isinstance(exc, Cancelled):
            self._cancelled = True
            handled = True
        joiners = self._joiners
        if joiners:  # None or empty: nobody is waiting
            handled = True
            for proc in list(joiners):
                if exc is None:
                    proc._wake_with(_SEND, value)
                else:
                    proc._wake_with(_THROW, exc)
            joiners.clear()
        for callback in self._callbacks or ():
            sim._push(sim.now, callback, (self,))
        if not handled:
            assert exc is not None
            exc.add_note(f"raised in simulation process {self.name!r} at t={sim.now!r} s")
        return handled

    # -------------------------------------------------------------- public API

    @property
    def done(self) -> bool:
        """Whether the process has finished (returned, raised or was cancelled).

        >>> sim = Simulation(seed=0)
        >>> async def quick():
        ...     return 1
        >>> p = sim.spawn(quick()); p.done
        False
        >>> sim.run(); p.done
        True
        """
        return self._done

    @property
    def cancelled(self) -> bool:
        """Whether the process ended by ``Cancelled``.

        >>> sim = Simulation(seed=0)
        >>> async def idle():
        ...     await sim.sleep(5.0)
        >>> p = sim.spawn(idle()); _ = p.cancel(); sim.run(); p.cancelled
        True
        """
        return self._cancelled

    @property
    def exception(self) -> BaseException | None:
        """The exception the process ended with, or None.

        >>> sim = Simulation(seed=0)
        >>> async def ok():
        ...     return 0
        >>> p = sim.spawn(ok()); sim.run(); p.exception is None
        True
        """
        return self._exc

    def result(self) -> Any:
        """The return value; re-raises the process's exception; RuntimeError if not done.

        >>> sim = Simulation(seed=0)
        >>> async def two():
        ...     return 2
        >>> p = sim.spawn(two()); sim.run(); p.result()
        2
        """
        if not self._done:
            raise RuntimeError(f"process {self.name!r} has not finished yet")
        if self._exc is not None:
            raise self._exc
        return self._value

    def cancel(self) -> bool:
        """Throw ``Cancelled`` into the process (at the current time); False if already done.

        The process may catch it to clean up. A process that cancels itself gets
        ``Cancelled`` raised at the call.

        >>> sim = Simulation(seed=0)
        >>> async def guarded():
        ...     try:
        ...         await sim.sleep(10.0)
        ...     except Cancelled:
        ...         return "cleaned up"
        >>> p = sim.spawn(guarded())
        >>> _ = sim.call_at(1.0, p.cancel)
        >>> sim.run(); p.result(), sim.now
        ('cleaned up', 1.0)
        """
        if self._done:
            return False
        sim = self._sim
        exc = Cancelled(f"process {self.name!r} was cancelled at t={sim.now!r} s")
        if sim._current is self:
            raise exc
        if self._pending is not None:
            sim._cancel(self._pending)
        if self._timeout is not None:
            sim._cancel(self._timeout)
            self._timeout = None
        if self._blocked is not None:
            self._blocked.pop(self, None)
            self._blocked = None
        if self._handoff is not None:
            mailbox, item = self._handoff
            self._handoff = None
            mailbox._restore(item)
        self._pending = sim._push_step(sim.now, _THROW, exc, self)
        return True

    def add_done_callback(self, callback: Callable[[Process], Any]) -> None:
        """Call ``callback(process)`` (as an event at that time) when the process finishes.

        >>> sim = Simulation(seed=0)
        >>> async def job():
        ...     await sim.sleep(1.0)
        >>> p = sim.spawn(job(), name="job")
        >>> p.add_done_callback(lambda proc: print(proc.name, "done at", sim.now))
        >>> sim.run()
        job done at 1.0
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        if self._done:
            self._sim._push(self._sim.now, callback, (self,))
        else:
            if self._callbacks is None:
                self._callbacks = []
            self._callbacks.append(callback)

    @types.coroutine
    def join(self, timeout: float | None = None) -> Generator[Any, Any, Any]:
        """Wait until the process finishes; return its value or raise its exception.

        ``timeout`` (seconds) raises ``Timeout`` in the caller if it takes longer.

        >>> sim = Simulation(seed=0)
        >>> async def slow():
        ...     await sim.sleep(5.0)
        ...     return "late"
        >>> async def impatient(p):
        ...     try:
        ...         return await p.join(timeout=1.0)
        ...     except Timeout:
        ...         return "gave up"
        >>> s = sim.spawn(slow()); w = sim.spawn(impatient(s))
        >>> sim.run(); w.result(), s.result()
        ('gave up', 'late')
        """
        return (yield from self._wait_done(timeout))

    def _wait_done(self, timeout: float | None) -> Generator[Any, Any, Any]:
        # A plain generator (not types.coroutine) so that __await__ may return it.
        if timeout is not None:
            timeout = _duration(timeout, "join(): timeout")
        if self._done:
            if self._exc is not None:
                raise self._exc
            return self._value
        proc = self._sim._running_process("Process.join()")
        if proc is self:
            raise RuntimeError(f"process {self.name!r} cannot join itself")
        if self._joiners is None:
            self._joiners = {}
        proc._block(self._joiners)
        if timeout is not None:
            proc._arm_timeout(timeout, f"process {self.name!r} to finish")
        try:
            return (yield _SUSPEND)
        except BaseException as exc:
            proc._unblock(exc)
            raise

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._wait_done(None)

    def __repr__(self) -> str:
        if not self._done:
            state = "running"
        elif self._cancelled:
            state = "cancelled"
        elif self._exc is not None:
            state = f"failed with {type(self._exc).__name__}"
        else:
            state = "done"
        return f"<Process {self.name!r} {state}>"


class Signal:
    """A broadcast event: ``fire(value)`` wakes every process waiting at that moment.

    Waiters resume in the order they started waiting; callback subscribers are called as
    ``callback(value)``, in subscription order and before the waiters, all as events at
    the firing time. A signal does not stay set: later waiters wait for the next fire.

    >>> sim = Simulation(seed=0)
    >>> herald = Signal(sim, "herald")
    >>> herald.subscribe(lambda v: print("callback got", v))
    >>> async def listener(tag):
    ...     value = await herald.wait()
    ...     print(tag, "got", value, "at", sim.now)
    >>> _ = sim.spawn(listener("first")); _ = sim.spawn(listener("second"))
    >>> _ = sim.call_at(1.0, herald.fire, "ok")
    >>> sim.run()
    callback got ok
    first got ok at 1.0
    second got ok at 1.0
    """

    __slots__ = ("_sim", "name", "_waiters", "_callbacks", "fire_count")

    def __init__(self, sim: Simulation, name: str | None = None) -> None:
        self._sim = sim
        self.name: str = "signal" if name is None else name
        """Name used in timeouts and repr."""
        self._waiters: dict[Process, None] = {}
        self._callbacks: list[Callable[[Any], Any]] = []
        self.fire_count: int = 0
        """How many times the signal has fired."""

    def fire(self, value: Any = None) -> int:
        """Wake all current waiters with ``value``; return how many processes were woken.

        >>> sim = Simulation(seed=0)
        >>> Signal(sim).fire()
        0
        """
        sim = self._sim
        self.fire_count += 1
        now = sim.now
        for callback in self._callbacks:
            sim._push(now, callback, (value,))
        waiters = self._waiters
        if not waiters:
            return 0
        self._waiters = {}
        for proc in waiters:
            proc._wake_with(_SEND, value)
        return len(waiters)

    @types.coroutine
    def wait(self, timeout: float | None = None) -> Generator[Any, Any, Any]:
        """Wait for the next ``fire`` and return its value; ``Timeout`` after ``timeout`` s.

        >>> sim = Simulation(seed=0)
        >>> sig = Signal(sim, "ready")
        >>> async def w():
        ...     return await sig.wait(timeout=5.0)
        >>> p = sim.spawn(w()); _ = sim.call_at(2.0, sig.fire, 7)
        >>> sim.run(); p.result()
        7
        """
        if timeout is not None:
            timeout = _duration(timeout, "Signal.wait(): timeout")
        proc = self._sim._running_process("Signal.wait()")
        proc._block(self._waiters)
        if timeout is not None:
            proc._arm_timeout(timeout, f"signal {self.name!r}")
        try:
            return (yield _SUSPEND)
        except BaseException as exc:
            proc._unblock(exc)
            raise

    def subscribe(self, callback: Callable[[Any], Any]) -> None:
        """Call ``callback(value)`` on every future fire until ``unsubscribe``.

        >>> sim = Simulation(seed=0)
        >>> sig = Signal(sim); seen = []
        >>> sig.subscribe(seen.append); _ = sig.fire(1); sim.run(); seen
        [1]
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {callback!r}")
        self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[[Any], Any]) -> None:
        """Remove a callback added by ``subscribe`` (ValueError if it is not subscribed).

        >>> sim = Simulation(seed=0)
        >>> sig = Signal(sim); seen = []
        >>> sig.subscribe(seen.append); sig.unsubscribe(seen.append)
        >>> _ = sig.fire(1); sim.run(); seen
        []
        """
        self._callbacks.remove(callback)

    @property
    def waiting(self) -> int:
        """Number of processes waiting now.

        >>> Signal(Simulation(seed=0)).waiting
        0
        """
        return len(self._waiters)

    def __repr__(self) -> str:
        return f"<Signal {self.name!r} waiting={len(self._waiters)}>"


class Mailbox:
    """An unbounded FIFO queue between processes and callbacks.

    ``put(item)`` never blocks; ``await get()`` returns the oldest item, waiting if there
    is none. Waiting getters are served in the order they started waiting.

    >>> sim = Simulation(seed=0)
    >>> box = Mailbox(sim, "inbox")
    >>> async def consumer():
    ...     items = [await box.get(), await box.get()]
    ...     return items, sim.now
    >>> p = sim.spawn(consumer())
    >>> _ = sim.call_at(1.0, box.put, "a"); _ = sim.call_at(2.0, box.put, "b")
    >>> sim.run(); p.result()
    (['a', 'b'], 2.0)
    """

    __slots__ = ("_sim", "name", "_items", "_getters")

    def __init__(self, sim: Simulation, name: str | None = None) -> None:
        self._sim = sim
        self.name: str = "mailbox" if name is None else name
        """Name used in timeouts and repr."""
        self._items: deque[Any] = deque()
        self._getters: dict[Process, None] = {}

    def put(self, item: Any) -> None:
        """Append ``item``; hand it to the longest-waiting getter if there is one.

        >>> sim = Simulation(seed=0)
        >>> box = Mailbox(sim); box.put(1); box.put(2); len(box)
        2
        """
        if self._getters:
            self._hand_off(item)
        else:
            self._items.append(item)

    def get_nowait(self) -> Any:
        """Remove and return the oldest item; ``LookupError`` if the mailbox is empty.

        >>> sim = Simulation(seed=0)
        >>> box = Mailbox(sim); box.put("x"); box.get_nowait()
        'x'
        """
        if not self._items:
            raise LookupError(f"mailbox {self.name!r} is empty")
        return self._items.popleft()

    @types.coroutine
    def get(self, timeout: float | None = None) -> Generator[Any, Any, Any]:
        """Return the oldest item, waiting for one; ``Timeout`` after ``timeout`` s.

        >>> sim = Simulation(seed=0)
        >>> box = Mailbox(sim, "replies")
        >>> async def ask():
        ...     try:
        ...         return await box.get(timeout=0.5)
        ...     except Timeout as exc:
        ...         return str(exc)
        >>> p = sim.spawn(ask(), name="asker"); sim.run(); p.result()
        "process 'asker' timed out after 0.5 s waiting for an item in mailbox 'replies'"
        """
        if timeout is not None:
            timeout = _duration(timeout, "Mailbox.get(): timeout")
        if self._items:
            return self._items.popleft()
        proc = self._sim._running_process("Mailbox.get()")
        proc._block(self._getters)
        if timeout is not None:
            proc._arm_timeout(timeout, f"an item in mailbox {self.name!r}")
        try:
            item = yield _SUSPEND
        except BaseException as exc:
            proc._unblock(exc)
            raise
        proc._handoff = None
        return item

    def _restore(self, item: Any) -> None:
        """Internal: put back an item whose recipient was cancelled before receiving it."""
        if self._getters:
            self._hand_off(item)
        else:
            self._items.appendleft(item)

    def _hand_off(self, item: Any) -> None:
        """Internal: give ``item`` to the longest-waiting getter, which resumes now."""
        getters = self._getters
        proc = next(iter(getters))
        del getters[proc]
        proc._wake_with(_SEND, item)
        proc._handoff = (self, item)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"<Mailbox {self.name!r} items={len(self._items)} waiting={len(self._getters)}>"
