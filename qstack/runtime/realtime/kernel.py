"""The real-time runtime on trio: wall-clock time, timers, processes and mailboxes for one node.

:class:`RealtimeKernel` is the real-time twin of :class:`qstack.sim.Simulation` for one process:
the same calls (``now``, ``call_at``, ``spawn``, ``sleep``, ``rng``) that protocol objects, the
:class:`TrioRuntime` and :class:`~qstack.apps.RoleContext` use, driven by the wall clock.

* **Time** is network seconds: ``now = (wall − epoch) · scale``; ``scale`` is network seconds per
  wall second (``0.01``: one network second takes 100 wall seconds, for hardware whose
  timescales a process cannot keep up with in real time). All processes of a run share one epoch.
* **One dispatcher task** runs every callback — timers that are due, messages handed in by the
  transport, process steps — one after another, so a node's protocol objects never see two
  callbacks at once (no races between back-to-back messages). Each batch of callbacks runs between
  the hooks ``before_batch``/``after_batch`` (the quantum-state lease, :mod:`.state`).
* **Back-pressure**: the transport hands messages in through a bounded trio memory channel
  (:meth:`RealtimeKernel.inject`), so a peer that sends faster than this node dispatches waits.
* **Processes** are ``async def`` coroutines driven by the kernel (as by the simulation kernel):
  they await only the kernel's awaitables — :meth:`sleep`, :class:`RealtimeMailbox` ``get``,
  another :class:`RealtimeProcess` — and raise :class:`qstack.sim.Timeout` on a timeout, so the
  same role code runs here and in the simulation.

>>> import trio, trio.testing
>>> async def main():
...     kernel = RealtimeKernel(seed=1)
...     async def role():
...         await kernel.sleep(0.25)
...         return kernel.now
...     async with trio.open_nursery() as nursery:
...         nursery.start_soon(kernel.run)
...         proc = kernel.spawn(role())
...         await kernel.wait_done(proc)
...         nursery.cancel_scope.cancel()
...     return proc.result()
>>> trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
0.25
"""

from __future__ import annotations

import heapq
import itertools
import math
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

import numpy as np
import trio

from qstack.sim.kernel import Cancelled, Timeout
from qstack.sim.random import RandomStreams

__all__ = ["RealtimeKernel", "RealtimeProcess", "RealtimeMailbox", "RealtimeTimer", "ProcessError"]

_SUSPEND = object()  # what a kernel awaitable yields to the driver


class ProcessError(RuntimeError):
    """A process awaited something the real-time kernel does not drive (e.g. ``trio.sleep``)."""


class RealtimeTimer:
    """A pending ``call_at``; :meth:`cancel` stops it (a no-op once it fired)."""

    __slots__ = ("time", "fn", "args", "cancelled")

    def __init__(self, time: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.time = time
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __repr__(self) -> str:
        return f"<RealtimeTimer at {self.time:.6g}{' cancelled' if self.cancelled else ''}>"


class RealtimeKernel:
    """Wall-clock time, timers, processes and a dispatcher for one node process (module docstring).

    ``seed`` splits the same named random streams as the simulation (:class:`RandomStreams`);
    ``scale`` is network seconds per wall second (> 0); ``epoch`` the ``trio.current_time()`` at
    network time 0 (default: when :meth:`run` starts); ``inbound`` the capacity of the bounded
    channel the transport feeds (back-pressure).
    """

    def __init__(self, seed: int = 0, scale: float = 1.0, epoch: float | None = None, inbound: int = 1024) -> None:
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"RealtimeKernel(): scale (network seconds per wall second) must be a finite "
                             f"number > 0, got {scale!r}")
        if isinstance(inbound, bool) or not isinstance(inbound, int) or inbound < 1:
            raise ValueError(f"RealtimeKernel(): inbound (channel capacity) must be an int >= 1, got {inbound!r}")
        self.streams = RandomStreams(seed)
        self.scale = float(scale)
        self.epoch = epoch
        self._timers: list[tuple[float, int, RealtimeTimer]] = []
        self._seq = itertools.count()
        self._ready: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._send_in, self._receive_in = trio.open_memory_channel[tuple[Callable[..., Any], tuple[Any, ...]]](inbound)
        self._wake = trio.Event()
        self.current: RealtimeProcess | None = None
        self.events_processed = 0
        self.before_batch: Callable[[], Awaitable[None]] | None = None
        self.after_batch: Callable[[], Awaitable[None]] | None = None
        #: the first exception a callback raised (the dispatcher stops on it)
        self.failure: BaseException | None = None

    # ------------------------------------------------------------------ time

    @property
    def now(self) -> float:
        """Network time in seconds (0 before the epoch)."""
        if self.epoch is None:
            return 0.0
        return max(trio.current_time() - self.epoch, 0.0) * self.scale

    def wall_deadline(self, t: float) -> float:
        """The ``trio.current_time()`` at which network time ``t`` comes."""
        epoch = self.epoch if self.epoch is not None else trio.current_time()
        return epoch + t / self.scale

    def rng(self, *names: str) -> np.random.Generator:
        """The random stream named ``names`` (the simulation's split of the same seed)."""
        return self.streams.get(*names)

    # ------------------------------------------------------------------ timers and callbacks

    def call_at(self, time: float, fn: Callable[..., Any], *args: Any, priority: int = 0) -> RealtimeTimer:
        """Call ``fn(*args)`` at network time ``time`` (at once if it passed)."""
        if not (time == time):
            raise ValueError(f"call_at(): time must be a number, got {time!r}")
        timer = RealtimeTimer(float(time), fn, args)
        heapq.heappush(self._timers, (timer.time, next(self._seq), timer))
        self._wake.set()
        return timer

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> RealtimeTimer:
        """Call ``fn(*args)`` ``delay`` network seconds from now."""
        return self.call_at(self.now + delay, fn, *args)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the dispatcher's current or next batch (from dispatcher code)."""
        self._ready.append((fn, args))
        self._wake.set()

    async def inject(self, fn: Callable[..., Any], *args: Any) -> None:
        """Hand a callback in from another trio task (the transport); waits while the bounded
        channel is full — back-pressure on the sender."""
        await self._send_in.send((fn, args))

    # ------------------------------------------------------------------ processes

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> RealtimeProcess:
        """Start ``coro`` as a process (its first step runs in the dispatcher's next batch)."""
        proc = RealtimeProcess(self, coro, name or getattr(coro, "__name__", "process"))
        self.call_soon(proc._step, None, None)
        return proc

    @types.coroutine
    def sleep(self, delay: float) -> Generator[Any, Any, None]:
        """Await ``delay`` network seconds (from a process)."""
        if not (delay >= 0):
            raise ValueError(f"sleep(): delay must be >= 0, got {delay!r}")
        proc = self._running("sleep()")
        token = proc._arm()
        self.call_at(self.now + delay, proc._wake, token, None, None)
        yield _SUSPEND

    def _running(self, what: str) -> RealtimeProcess:
        proc = self.current
        if proc is None:
            raise ProcessError(f"{what} must be awaited from a process of this kernel (kernel.spawn)")
        return proc

    async def wait_done(self, proc: RealtimeProcess) -> None:
        """Wait (from a trio task) until ``proc`` finished."""
        await proc._finished.wait()

    # ------------------------------------------------------------------ the dispatcher

    async def run(self) -> None:
        """The dispatcher: runs due timers, handed-in messages and process steps until cancelled.

        A callback's exception (other than a process's, which its process keeps) stops the
        dispatcher and propagates, so a protocol error is never swallowed."""
        if self.epoch is None:
            self.epoch = trio.current_time()
        timers, ready = self._timers, self._ready
        while True:
            self._collect()
            if not ready:
                deadline = self.wall_deadline(timers[0][0]) if timers else math.inf
                self._wake = trio.Event()
                with trio.move_on_at(deadline):
                    async with trio.open_nursery() as wait:
                        wait.start_soon(self._wait_inbound, wait.cancel_scope)
                        await self._wake.wait()
                        wait.cancel_scope.cancel()
                continue
            if self.before_batch is not None:
                await self.before_batch()
            try:
                while ready:
                    fn, args = ready.popleft()
                    self.events_processed += 1
                    fn(*args)
                    if not ready:
                        self._collect()
            except BaseException as exc:
                self.failure = exc
                raise
            finally:
                if self.after_batch is not None:
                    await self.after_batch()
            await trio.lowlevel.checkpoint()

    async def _wait_inbound(self, scope: trio.CancelScope) -> None:
        item = await self._receive_in.receive()
        self._ready.append(item)
        scope.cancel()

    def _collect(self) -> None:
        """Move due timers and handed-in messages to the ready queue (timers first, by time)."""
        timers, ready = self._timers, self._ready
        now = self.now
        while timers and timers[0][0] <= now:
            _, _, timer = heapq.heappop(timers)
            if not timer.cancelled:
                timer.cancelled = True  # fired: a later cancel() is a no-op
                ready.append((timer.fn, timer.args))
        while True:
            try:
                ready.append(self._receive_in.receive_nowait())
            except trio.WouldBlock:
                break

    def __repr__(self) -> str:
        return f"<RealtimeKernel t={self.now:.6g} scale={self.scale:g}>"


class RealtimeProcess:
    """A coroutine driven by a :class:`RealtimeKernel`; awaitable (its result) from another process."""

    __slots__ = ("kernel", "coro", "name", "_token", "_done", "_value", "_exc", "_waiters", "_finished")

    def __init__(self, kernel: RealtimeKernel, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self.kernel = kernel
        self.coro = coro
        self.name = name
        self._token = 0
        self._done = False
        self._value: Any = None
        self._exc: BaseException | None = None
        self._waiters: list[tuple[RealtimeProcess, int]] = []
        self._finished = trio.Event()

    def _arm(self) -> int:
        self._token += 1
        return self._token

    def _wake(self, token: int, value: Any, exc: BaseException | None) -> None:
        """Resume the process with ``value`` (or ``exc``) unless it moved on (a stale wake-up)."""
        if token == self._token and not self._done:
            self._token += 1
            self.kernel.call_soon(self._step, value, exc)

    def _step(self, value: Any, exc: BaseException | None) -> None:
        kernel = self.kernel
        kernel.current = self
        try:
            yielded = self.coro.throw(exc) if exc is not None else self.coro.send(value)
        except StopIteration as stop:
            self._finish(stop.value, None)
            return
        except BaseException as err:  # noqa: BLE001 - the process keeps its exception
            self._finish(None, err)
            return
        finally:
            kernel.current = None
        if yielded is not _SUSPEND:
            self._token += 1
            kernel.call_soon(self._step, None, ProcessError(
                f"process {self.name!r} awaited {yielded!r}, which the real-time kernel does not drive: roles await "
                "only ctx.sleep, ctx.recv, EPR sockets and mailboxes (not trio or asyncio directly)"))

    def _finish(self, value: Any, exc: BaseException | None) -> None:
        self._done = True
        self._value, self._exc = value, exc
        self._finished.set()
        for proc, token in self._waiters:
            proc._wake(token, None, None)
        self._waiters.clear()

    @property
    def done(self) -> bool:
        """True once the coroutine returned or raised."""
        return self._done

    def result(self) -> Any:
        """The return value (re-raises the process's exception)."""
        if not self._done:
            raise RuntimeError(f"process {self.name!r} has not finished")
        if self._exc is not None:
            raise self._exc
        return self._value

    def exception(self) -> BaseException | None:
        return self._exc

    def cancel(self) -> bool:
        """Throw :class:`qstack.sim.Cancelled` into the process at its next step."""
        if self._done:
            return False
        self._token += 1
        self.kernel.call_soon(self._step, None, Cancelled(f"process {self.name!r} cancelled"))
        return True

    def __await__(self) -> Generator[Any, Any, Any]:
        if not self._done:
            proc = self.kernel._running("awaiting a process")
            self._waiters.append((proc, proc._arm()))
            yield _SUSPEND
        return self.result()

    def __repr__(self) -> str:
        return f"<RealtimeProcess {self.name!r}{' done' if self._done else ''}>"


class RealtimeMailbox:
    """A FIFO that processes await: ``put(item)`` (never blocks), ``await get(timeout)``.

    ``get`` raises :class:`qstack.sim.Timeout` after ``timeout`` network seconds with nothing.
    """

    __slots__ = ("kernel", "name", "_items", "_getters")

    def __init__(self, kernel: RealtimeKernel, name: str | None = None) -> None:
        self.kernel = kernel
        self.name = name
        self._items: deque[Any] = deque()
        self._getters: deque[tuple[RealtimeProcess, int]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Any) -> None:
        """Add ``item``; the longest-waiting getter gets it."""
        while self._getters:
            proc, token = self._getters.popleft()
            if token == proc._token and not proc._done:
                proc._wake(token, item, None)
                return
        self._items.append(item)

    def get_nowait(self) -> Any:
        """The next item, or IndexError when empty."""
        return self._items.popleft()

    @types.coroutine
    def get(self, timeout: float | None = None) -> Generator[Any, Any, Any]:
        """Await the next item (``Timeout`` after ``timeout`` network seconds)."""
        if self._items:
            return self._items.popleft()
        proc = self.kernel._running(f"mailbox {self.name!r} get()")
        token = proc._arm()
        self._getters.append((proc, token))
        if timeout is not None:
            if not (timeout >= 0):
                raise ValueError(f"get(): timeout must be >= 0 or None, got {timeout!r}")
            self.kernel.call_at(self.kernel.now + timeout, proc._wake, token, None,
                                Timeout(f"mailbox {self.name!r}: nothing within {timeout:g} s"))
        item = yield _SUSPEND
        return item

    def __repr__(self) -> str:
        return f"<RealtimeMailbox {self.name!r} items={len(self._items)}>"
