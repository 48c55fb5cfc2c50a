"""Coroutine processes in qstack.sim: sleep, signals, mailboxes, join, errors and cancellation."""

from __future__ import annotations

import asyncio
import math

import pytest

from qstack.sim import Cancelled, Mailbox, Process, Signal, Simulation, Timeout

# ----------------------------------------------------------------------------- sleep


def test_sleep_advances_virtual_time_exactly() -> None:
    """Consecutive sleeps wake the process at the exact float sums of their delays."""
    sim = Simulation(seed=0)
    times: list[float] = []

    async def sleeper() -> None:
        for delay in (0.1, 0.2, 0.0, 1e-9):
            await sim.sleep(delay)
            times.append(sim.now)

    sim.spawn(sleeper())
    sim.run()
    assert times == [0.1, 0.1 + 0.2, 0.1 + 0.2, 0.1 + 0.2 + 1e-9]


def test_spawned_processes_start_at_spawn_time_in_spawn_order() -> None:
    """Processes spawned at the same time take their first step in spawn order at that time."""
    sim = Simulation(seed=0)
    log: list[tuple[str, float]] = []

    async def proc(name: str) -> None:
        log.append((name, sim.now))

    sim.call_at(2.0, lambda: [sim.spawn(proc(n), name=n) for n in "abc"])
    sim.run()
    assert log == [("a", 2.0), ("b", 2.0), ("c", 2.0)]


def test_processes_waking_at_equal_times_run_in_scheduling_order() -> None:
    """Sleeps ending at the same instant resume in the order the sleeps were started."""
    sim = Simulation(seed=0)
    log: list[str] = []

    async def proc(name: str, first: float) -> None:
        await sim.sleep(first)
        await sim.sleep(2.0 - first)
        log.append(name)

    sim.spawn(proc("x", 1.5), name="x")
    sim.spawn(proc("y", 0.5), name="y")
    sim.spawn(proc("z", 1.0), name="z")
    sim.run()
    # second sleeps start at 0.5 (y), 1.0 (z), 1.5 (x): that is the wake order at t=2.0
    assert log == ["y", "z", "x"]


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_sleep_refuses_bad_delays_inside_the_process(bad: float) -> None:
    """A negative, NaN or infinite sleep raises ValueError in the sleeping process."""
    sim = Simulation(seed=0)

    async def proc() -> str:
        try:
            await sim.sleep(bad)
        except ValueError as exc:
            return str(exc)
        return "no error"

    p = sim.spawn(proc())
    sim.run()
    assert "sleep(): delay must be finite and >= 0 seconds" in p.result()


def test_sleep_accepts_int_and_numpy_delays() -> None:
    """Integer and numpy delays are converted to float seconds."""
    import numpy as np

    sim = Simulation(seed=0)

    async def proc() -> float:
        await sim.sleep(1)
        await sim.sleep(np.float64(0.5))
        return sim.now

    p = sim.spawn(proc())
    sim.run()
    assert p.result() == 1.5
    assert type(sim.now) is float


# ----------------------------------------------------------------------------- signals


def test_signal_wakes_all_waiters_in_wait_order_with_value() -> None:
    """fire(value) resumes every current waiter, in the order they began waiting, with the value."""
    sim = Simulation(seed=0)
    signal = Signal(sim, "go")
    log: list[tuple[str, object, float]] = []

    async def waiter(name: str, start: float) -> None:
        await sim.sleep(start)
        value = await signal.wait()
        log.append((name, value, sim.now))

    for name, start in [("c", 0.3), ("a", 0.1), ("b", 0.2)]:
        sim.spawn(waiter(name, start), name=name)
    sim.call_at(1.0, lambda: log.append(("woken", signal.fire("payload"), sim.now)))
    sim.run()
    assert log == [("woken", 3, 1.0), ("a", "payload", 1.0), ("b", "payload", 1.0), ("c", "payload", 1.0)]
    assert signal.fire_count == 1
    assert signal.waiting == 0


def test_signal_is_not_latched() -> None:
    """A process that starts waiting after a fire waits for the next fire."""
    sim = Simulation(seed=0)
    signal = Signal(sim)

    async def late() -> float:
        await sim.sleep(2.0)
        await signal.wait()
        return sim.now

    p = sim.spawn(late())
    sim.call_at(1.0, signal.fire)
    sim.call_at(3.0, signal.fire)
    sim.run()
    assert p.result() == 3.0


def test_signal_wait_timeout_raises_timeout_at_deadline() -> None:
    """wait(timeout) raises Timeout in the waiter exactly at start + timeout; a later fire skips it."""
    sim = Simulation(seed=0)
    signal = Signal(sim, "never-in-time")

    async def waiter() -> tuple[str, float]:
        await sim.sleep(1.0)
        try:
            await signal.wait(timeout=0.5)
        except Timeout as exc:
            return str(exc), sim.now
        return "fired", sim.now

    p = sim.spawn(waiter(), name="w")
    sim.call_at(2.0, signal.fire)
    sim.run()
    message, when = p.result()
    assert when == 1.5
    assert "'w' timed out after 0.5 s waiting for signal 'never-in-time'" in message
    assert signal.waiting == 0


def test_signal_wait_with_timeout_returns_value_if_fired_in_time() -> None:
    """A fire before the deadline returns the value and the timeout never triggers later."""
    sim = Simulation(seed=0)
    signal = Signal(sim)

    async def waiter() -> tuple[object, float]:
        value = await signal.wait(timeout=5.0)
        await sim.sleep(10.0)  # past the old deadline: no stray Timeout may arrive
        return value, sim.now

    p = sim.spawn(waiter())
    sim.call_at(1.0, signal.fire, 42)
    sim.run()
    assert p.result() == (42, 11.0)


def test_signal_fire_and_timeout_at_the_same_instant_is_deterministic() -> None:
    """When a fire and a timeout fall at the same time, the earlier-scheduled event wins."""
    sim = Simulation(seed=0)
    signal = Signal(sim)

    async def waiter() -> str:
        try:
            await signal.wait(timeout=1.0)  # timeout event scheduled at t=0
        except Timeout:
            return "timeout"
        return "fired"

    p = sim.spawn(waiter())
    sim.call_at(1.0, signal.fire)  # scheduled before the process has run: earlier sequence
    sim.run()
    assert p.result() == "fired"

    sim2 = Simulation(seed=0)
    signal2 = Signal(sim2)

    async def waiter2() -> str:
        try:
            await signal2.wait(timeout=1.0)
        except Timeout:
            return "timeout"
        return "fired"

    p2 = sim2.spawn(waiter2())
    sim2.call_at(0.5, lambda: sim2.call_at(1.0, signal2.fire))  # scheduled after the timeout
    sim2.run()
    assert p2.result() == "timeout"


def test_signal_callback_subscribers_get_each_value() -> None:
    """subscribe(callback) calls callback(value) on every fire (before waiters) until unsubscribed."""
    sim = Simulation(seed=0)
    signal = Signal(sim)
    log: list[object] = []

    async def waiter() -> None:
        log.append(("proc", await signal.wait()))

    sim.spawn(waiter())
    signal.subscribe(lambda v: log.append(("cb", v)))
    sim.call_at(1.0, signal.fire, 1)
    sim.call_at(2.0, signal.fire, 2)
    sim.run()
    assert log == [("cb", 1), ("proc", 1), ("cb", 2)]
    signal.unsubscribe(signal._callbacks[0])
    signal.fire(3)
    sim.run()
    assert log == [("cb", 1), ("proc", 1), ("cb", 2)]


# ----------------------------------------------------------------------------- mailboxes


def test_mailbox_is_fifo_and_get_returns_immediately_when_items_wait() -> None:
    """Items come out in put order; get() on a non-empty mailbox does not advance time."""
    sim = Simulation(seed=0)
    box = Mailbox(sim, "box")
    for item in ("a", "b", "c"):
        box.put(item)

    async def consumer() -> tuple[list[str], float]:
        return [await box.get(), await box.get(), await box.get()], sim.now

    p = sim.spawn(consumer())
    sim.run()
    assert p.result() == (["a", "b", "c"], 0.0)
    assert len(box) == 0


def test_mailbox_waiting_getters_are_served_in_wait_order() -> None:
    """Several blocked getters receive successive items in the order they started waiting."""
    sim = Simulation(seed=0)
    box = Mailbox(sim)
    got: list[tuple[str, int, float]] = []

    async def getter(name: str, start: float) -> None:
        await sim.sleep(start)
        got.append((name, await box.get(), sim.now))

    sim.spawn(getter("second", 0.2))
    sim.spawn(getter("first", 0.1))
    sim.call_at(1.0, box.put, 1)
    sim.call_at(1.0, box.put, 2)
    sim.run()
    assert got == [("first", 1, 1.0), ("second", 2, 1.0)]


def test_mailbox_get_timeout_raises_and_leaves_later_items_for_others() -> None:
    """get(timeout) raises Timeout at the deadline; an item put afterwards stays in the mailbox."""
    sim = Simulation(seed=0)
    box = Mailbox(sim, "replies")

    async def asker() -> float:
        with pytest.raises(Timeout, match="an item in mailbox 'replies'"):
            await box.get(timeout=0.25)
        return sim.now

    p = sim.spawn(asker())
    sim.call_at(1.0, box.put, "late")
    sim.run()
    assert p.result() == 0.25
    assert box.get_nowait() == "late"
    with pytest.raises(LookupError, match="empty"):
        box.get_nowait()


def test_mailbox_get_with_timeout_receives_item_in_time() -> None:
    """An item arriving before the deadline is returned and no Timeout follows."""
    sim = Simulation(seed=0)
    box = Mailbox(sim)

    async def asker() -> tuple[str, float]:
        item = await box.get(timeout=2.0)
        await sim.sleep(5.0)
        return item, sim.now

    p = sim.spawn(asker())
    sim.call_at(1.0, box.put, "ok")
    sim.run()
    assert p.result() == ("ok", 6.0)


def test_cancelled_getter_does_not_lose_an_item_in_flight() -> None:
    """If a getter is cancelled after an item was handed to it but before it resumed, the item goes back."""
    sim = Simulation(seed=0)
    box = Mailbox(sim)
    got: list[object] = []

    async def getter() -> None:
        got.append(await box.get())

    async def other() -> None:
        await sim.sleep(0.5)
        got.append(("other", await box.get()))

    victim = sim.spawn(getter(), name="victim")
    sim.spawn(other(), name="other")

    def put_then_cancel() -> None:
        box.put("precious")
        victim.cancel()

    sim.call_at(1.0, put_then_cancel)
    sim.run()
    assert victim.cancelled
    assert got == [("other", "precious")]


# ----------------------------------------------------------------------------- join


def test_await_process_returns_its_value_and_join_after_finish_is_immediate() -> None:
    """Awaiting a process gives its return value, whether it is still running or already done."""
    sim = Simulation(seed=0)

    async def child(value: int, delay: float) -> int:
        await sim.sleep(delay)
        return value

    async def parent() -> tuple[int, int, float]:
        slow = sim.spawn(child(1, 2.0))
        fast = sim.spawn(child(2, 0.5))
        a = await slow
        b = await fast.join()  # finished long ago
        return a, b, sim.now

    p = sim.spawn(parent())
    sim.run()
    assert p.result() == (1, 2, 2.0)


def test_join_timeout() -> None:
    """join(timeout) raises Timeout in the joiner; the joined process keeps running."""
    sim = Simulation(seed=0)

    async def slow() -> str:
        await sim.sleep(3.0)
        return "finished"

    async def joiner(target: Process) -> float:
        with pytest.raises(Timeout, match="to finish"):
            await target.join(timeout=1.0)
        return sim.now

    s = sim.spawn(slow(), name="slow")
    j = sim.spawn(joiner(s))
    sim.run()
    assert j.result() == 1.0
    assert s.result() == "finished"


def test_many_joiners_all_get_the_result() -> None:
    """Every process awaiting the same process receives its value."""
    sim = Simulation(seed=0)

    async def worker() -> str:
        await sim.sleep(1.0)
        return "r"

    w = sim.spawn(worker())

    async def joiner() -> str:
        return await w

    joiners = [sim.spawn(joiner()) for _ in range(5)]
    sim.run()
    assert [j.result() for j in joiners] == ["r"] * 5


def test_done_callbacks_run_when_process_finishes() -> None:
    """add_done_callback(cb) calls cb(process) at the finish time, even if added after it finished."""
    sim = Simulation(seed=0)
    log: list[tuple[str, float]] = []

    async def job() -> None:
        await sim.sleep(1.0)

    p = sim.spawn(job(), name="job")
    p.add_done_callback(lambda proc: log.append((proc.name, sim.now)))
    sim.run()
    p.add_done_callback(lambda proc: log.append(("late", sim.now)))
    sim.run()
    assert log == [("job", 1.0), ("late", 1.0)]


def test_result_before_finish_raises() -> None:
    """result() on a running process raises RuntimeError."""
    sim = Simulation(seed=0)

    async def job() -> None:
        await sim.sleep(1.0)

    p = sim.spawn(job(), name="job")
    with pytest.raises(RuntimeError, match="not finished"):
        p.result()
    sim.run()
    assert p.result() is None


# ----------------------------------------------------------------------------- errors


def test_unjoined_process_exception_propagates_out_of_run_with_process_name() -> None:
    """An exception escaping a process nobody joins is re-raised by run(), noting the process name."""
    sim = Simulation(seed=0)

    async def faulty() -> None:
        await sim.sleep(1.0)
        raise ValueError("bad state")

    p = sim.spawn(faulty(), name="faulty-proc")
    with pytest.raises(ValueError, match="bad state") as info:
        sim.run()
    assert any("faulty-proc" in note for note in info.value.__notes__)
    assert sim.now == 1.0
    assert p.done and isinstance(p.exception, ValueError)


def test_first_failure_stops_run_and_later_events_remain() -> None:
    """run() raises at the first failing process; a second run() continues with the rest."""
    sim = Simulation(seed=0)
    log: list[str] = []

    async def failing(name: str, at: float) -> None:
        await sim.sleep(at)
        raise RuntimeError(name)

    sim.spawn(failing("first", 1.0))
    sim.spawn(failing("second", 2.0))
    sim.call_at(1.5, log.append, "between")
    with pytest.raises(RuntimeError, match="first"):
        sim.run()
    assert log == []
    with pytest.raises(RuntimeError, match="second"):
        sim.run()
    assert log == ["between"]


def test_joined_process_exception_goes_to_the_joiner_not_run() -> None:
    """If someone is joining a process when it fails, the joiner receives the exception instead."""
    sim = Simulation(seed=0)

    async def faulty() -> None:
        await sim.sleep(1.0)
        raise ValueError("handled elsewhere")

    async def supervisor() -> str:
        child = sim.spawn(faulty(), name="child")
        try:
            await child
        except ValueError as exc:
            return f"caught {exc}"
        return "no error"

    p = sim.spawn(supervisor())
    sim.run()  # does not raise
    assert p.result() == "caught handled elsewhere"


def test_joining_a_failed_process_later_raises_its_exception() -> None:
    """join() on an already failed process re-raises the stored exception."""
    sim = Simulation(seed=0)

    async def faulty() -> None:
        raise KeyError("k")

    f = sim.spawn(faulty())
    with pytest.raises(KeyError):
        sim.run()

    async def late() -> str:
        try:
            await f
        except KeyError:
            return "got it"
        return "nothing"

    p = sim.spawn(late())
    sim.run()
    assert p.result() == "got it"


def test_uncaught_timeout_propagates_out_of_run() -> None:
    """A Timeout the process does not catch is an error like any other."""
    sim = Simulation(seed=0)

    async def impatient() -> None:
        await Signal(sim, "s").wait(timeout=1.0)

    sim.spawn(impatient(), name="impatient")
    with pytest.raises(Timeout):
        sim.run()
    assert issubclass(Timeout, Exception)


def test_awaiting_a_foreign_awaitable_raises_type_error_in_the_process() -> None:
    """Awaiting asyncio (or any non-qstack.sim) awaitables fails with a clear TypeError."""
    sim = Simulation(seed=0)

    async def wrong() -> None:
        await asyncio.sleep(0)

    sim.spawn(wrong(), name="wrong")
    with pytest.raises(TypeError, match="may await only Simulation.sleep"):
        sim.run()


def test_kernel_awaitables_outside_a_process_raise() -> None:
    """Signal.wait, Mailbox.get and join need a running process."""
    sim = Simulation(seed=0)
    with pytest.raises(RuntimeError, match="inside a process"):
        Signal(sim).wait().send(None)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="inside a process"):
        Mailbox(sim).get().send(None)  # type: ignore[attr-defined]


def test_process_cannot_join_itself() -> None:
    """A process awaiting itself gets RuntimeError."""
    sim = Simulation(seed=0)
    box: list[Process] = []

    async def selfish() -> str:
        try:
            await box[0]
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    box.append(sim.spawn(selfish(), name="selfish"))
    sim.run()
    assert "cannot join itself" in box[0].result()


def test_spawn_refuses_non_coroutines() -> None:
    """spawn() needs a coroutine object and hints when given the async function itself."""
    sim = Simulation(seed=0)

    async def f() -> None:
        return None

    with pytest.raises(TypeError, match="not spawn"):
        sim.spawn(f)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="coroutine"):
        sim.spawn(42)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- cancellation


def test_cancel_sleeping_process_throws_cancelled_now() -> None:
    """cancel() interrupts a sleep at the current time; the original wake-up never happens."""
    sim = Simulation(seed=0)
    log: list[tuple[str, float]] = []

    async def sleeper() -> None:
        try:
            await sim.sleep(10.0)
            log.append(("woke", sim.now))
        except Cancelled:
            log.append(("cancelled", sim.now))
            raise

    p = sim.spawn(sleeper(), name="sleeper")
    sim.call_at(2.0, p.cancel)
    sim.run()  # a Cancelled escaping the process is not an error
    assert log == [("cancelled", 2.0)]
    assert p.cancelled and p.done
    assert sim.now == 2.0
    assert p.cancel() is False


def test_cancel_waiting_process_unregisters_it() -> None:
    """A process cancelled while waiting on a signal or mailbox is no longer woken by them."""
    sim = Simulation(seed=0)
    signal, box = Signal(sim), Mailbox(sim)

    async def on_signal() -> None:
        await signal.wait(timeout=5.0)

    async def on_box() -> None:
        await box.get(timeout=5.0)

    a = sim.spawn(on_signal())
    b = sim.spawn(on_box())
    sim.call_at(1.0, a.cancel)
    sim.call_at(1.0, b.cancel)
    sim.call_at(2.0, signal.fire)
    sim.call_at(2.0, box.put, "x")
    sim.run()
    assert a.cancelled and b.cancelled
    assert len(box) == 1  # the item was not consumed by the cancelled getter
    assert sim.now == 2.0  # the timeouts were cancelled too


def test_cancel_before_first_step_means_the_body_never_runs() -> None:
    """A process cancelled before it started never executes its body."""
    sim = Simulation(seed=0)
    ran: list[bool] = []

    async def body() -> None:
        ran.append(True)

    p = sim.spawn(body())
    assert p.cancel() is True
    sim.run()
    assert ran == [] and p.cancelled


def test_cancelled_process_can_catch_and_return() -> None:
    """A process may catch Cancelled, clean up (even sleep) and return a value."""
    sim = Simulation(seed=0)

    async def careful() -> str:
        try:
            await sim.sleep(100.0)
        except Cancelled:
            await sim.sleep(1.0)  # clean-up takes time
            return "clean"
        return "not cancelled"

    p = sim.spawn(careful())
    sim.call_at(5.0, p.cancel)
    sim.run()
    assert p.result() == "clean"
    assert not p.cancelled
    assert sim.now == 6.0


def test_joining_a_cancelled_process_raises_cancelled() -> None:
    """A joiner of a cancelled process receives Cancelled (like asyncio)."""
    sim = Simulation(seed=0)

    async def victim() -> None:
        await sim.sleep(10.0)

    v = sim.spawn(victim())

    async def joiner() -> str:
        try:
            await v
        except Cancelled:
            return "saw cancel"
        return "no"

    j = sim.spawn(joiner())
    sim.call_at(1.0, v.cancel)
    sim.run()
    assert j.result() == "saw cancel"
    assert issubclass(Cancelled, BaseException) and not issubclass(Cancelled, Exception)


def test_process_cancelling_itself_raises_immediately() -> None:
    """cancel() on the running process raises Cancelled at the call."""
    sim = Simulation(seed=0)
    log: list[str] = []
    box: list[Process] = []

    async def proc() -> None:
        try:
            box[0].cancel()
        finally:
            log.append("after cancel call")
        log.append("unreachable")

    box.append(sim.spawn(proc()))
    sim.run()
    assert log == ["after cancel call"]
    assert box[0].cancelled


def test_current_process_is_set_only_inside_processes() -> None:
    """current_process is the running process inside it and None in callbacks and outside run()."""
    sim = Simulation(seed=0)
    seen: list[object] = []

    async def proc() -> None:
        seen.append(sim.current_process)
        await sim.sleep(1.0)
        seen.append(sim.current_process)

    p = sim.spawn(proc())
    sim.call_at(0.5, lambda: seen.append(sim.current_process))
    sim.run()
    assert seen == [p, None, p]
    assert sim.current_process is None


def test_keyboard_interrupt_in_a_process_is_never_handed_to_joiners() -> None:
    """BaseExceptions other than Cancelled (e.g. KeyboardInterrupt) escape run() even when joined."""
    sim = Simulation(seed=0)

    async def interrupted() -> None:
        await sim.sleep(1.0)
        raise KeyboardInterrupt

    target = sim.spawn(interrupted())

    async def joiner() -> None:
        await target

    sim.spawn(joiner())
    with pytest.raises(KeyboardInterrupt):
        sim.run()
    assert target.done


def test_events_processed_counts_callbacks_and_process_steps() -> None:
    """Every callback and every process step (start, each wake-up) counts as one event."""
    sim = Simulation(seed=0)

    async def proc() -> None:
        await sim.sleep(1.0)
        await sim.sleep(1.0)

    sim.spawn(proc())
    sim.call_at(0.5, lambda: None)
    sim.run()
    assert sim.events_processed == 4
