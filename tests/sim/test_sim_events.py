"""Event scheduling in qstack.sim: ordering, cancellation, run() bounds and argument checks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qstack.sim import EventHandle, Simulation


def test_events_run_in_time_order_regardless_of_insertion_order() -> None:
    """Callbacks scheduled out of order run sorted by time."""
    sim = Simulation(seed=0)
    log: list[float] = []
    for t in (3.0, 1.0, 2.0, 0.5):
        sim.call_at(t, log.append, t)
    sim.run()
    assert log == [0.5, 1.0, 2.0, 3.0]


def test_equal_times_run_by_priority_then_insertion_order() -> None:
    """At one instant the lower priority number runs first; equal priorities keep insertion order."""
    sim = Simulation(seed=0)
    log: list[str] = []
    for label, priority in [("a", 0), ("b", 1), ("c", -1), ("d", 0), ("e", 5), ("f", 1)]:
        sim.call_at(1.0, log.append, label, priority=priority)
    sim.run()
    assert log == ["c", "a", "d", "b", "f", "e"]


def test_event_scheduled_now_with_lower_priority_runs_before_pending_same_time_events() -> None:
    """An event added at the current time with a lower priority number jumps ahead of later-priority ones."""
    sim = Simulation(seed=0)
    log: list[str] = []

    def first() -> None:
        log.append("first")
        sim.call_at(sim.now, log.append, "urgent", priority=-1)
        sim.call_at(sim.now, log.append, "normal-new")

    sim.call_at(1.0, first)
    sim.call_at(1.0, log.append, "low", priority=1)
    sim.call_at(1.0, log.append, "normal-old")
    sim.run()
    assert log == ["first", "urgent", "normal-old", "normal-new", "low"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0]), st.integers(min_value=-2, max_value=2)),
        max_size=40,
    )
)
def test_run_order_equals_sort_by_time_priority_sequence(events: list[tuple[float, int]]) -> None:
    """For any set of (time, priority) events, run order is the sort by (time, priority, insertion index)."""
    sim = Simulation(seed=0)
    log: list[int] = []
    for index, (t, priority) in enumerate(events):
        sim.call_at(t, log.append, index, priority=priority)
    sim.run()
    expected = sorted(range(len(events)), key=lambda i: (events[i][0], events[i][1], i))
    assert log == expected
    assert sim.events_processed == len(events)


def test_call_later_is_relative_to_now_and_passes_args() -> None:
    """call_later(delay, fn, *args) runs fn(*args) at now + delay."""
    sim = Simulation(seed=0)
    seen: list[tuple[float, str, int]] = []
    sim.call_at(2.0, lambda: sim.call_later(0.25, lambda a, b: seen.append((sim.now, a, b)), "x", 7))
    sim.run()
    assert seen == [(2.25, "x", 7)]


def test_cancelled_event_does_not_run_and_does_not_advance_time() -> None:
    """A cancelled event is skipped: its callback never runs and time does not move to it."""
    sim = Simulation(seed=0)
    log: list[str] = []
    sim.call_at(1.0, log.append, "kept")
    handle = sim.call_at(5.0, log.append, "cancelled")
    assert isinstance(handle, EventHandle)
    handle.cancel()
    sim.run()
    assert log == ["kept"]
    assert sim.now == 1.0
    assert handle.cancelled
    assert sim.events_processed == 1


def test_cancel_from_an_earlier_event_and_cancel_twice_and_after_running() -> None:
    """cancel() works from inside another event, is idempotent, and is harmless after the event ran."""
    sim = Simulation(seed=0)
    log: list[str] = []
    later = sim.call_at(2.0, log.append, "later")
    sim.call_at(1.0, later.cancel)
    done = sim.call_at(0.5, log.append, "early")
    sim.run()
    later.cancel()
    done.cancel()
    assert log == ["early"]


def test_cancelling_a_now_event_skips_it() -> None:
    """Events due at the current time (the ready queue) can be cancelled too."""
    sim = Simulation(seed=0)
    log: list[str] = []
    first = sim.call_later(0.0, log.append, "a")
    sim.call_later(0.0, log.append, "b")
    first.cancel()
    sim.run()
    assert log == ["b"]


def test_many_cancellations_compact_the_queue_and_keep_order() -> None:
    """Cancelling most events triggers compaction; the survivors still run in order."""
    sim = Simulation(seed=0)
    log: list[int] = []
    handles = [sim.call_at(float(i), log.append, i) for i in range(2000)]
    for i, handle in enumerate(handles):
        if i % 10:
            handle.cancel()
    assert len(sim._heap) < 2000  # compaction happened
    sim.run()
    assert log == list(range(0, 2000, 10))


def test_next_event_time_skips_cancelled_events() -> None:
    """next_event_time reports the earliest live event, or None."""
    sim = Simulation(seed=0)
    assert sim.next_event_time is None
    first = sim.call_at(1.0, print)
    sim.call_at(3.0, print)
    first.cancel()
    assert sim.next_event_time == 3.0
    sim.call_later(0.0, print)
    assert sim.next_event_time == 0.0


def test_run_until_advances_time_to_until_when_later_events_remain() -> None:
    """run(until=T) runs events at t <= T, leaves later ones pending and sets now to T."""
    sim = Simulation(seed=0)
    log: list[float] = []
    for t in (1.0, 2.0, 2.5, 4.0):
        sim.call_at(t, log.append, t)
    sim.run(until=2.5)
    assert log == [1.0, 2.0, 2.5]
    assert sim.now == 2.5
    sim.run(until=3.0)
    assert sim.now == 3.0
    assert log == [1.0, 2.0, 2.5]
    sim.run()
    assert log == [1.0, 2.0, 2.5, 4.0]
    assert sim.now == 4.0


def test_run_until_with_empty_queue_advances_time() -> None:
    """run(until=T) on an exhausted queue still moves now to T."""
    sim = Simulation(seed=0)
    sim.call_at(1.0, print)
    sim.run(until=10.0)
    assert sim.now == 10.0


def test_run_without_until_stops_at_last_event() -> None:
    """run() with no bound ends at the time of the last event."""
    sim = Simulation(seed=0)
    sim.call_at(7.5, print)
    sim.run()
    assert sim.now == 7.5


def test_max_events_limits_the_run_and_does_not_advance_to_until() -> None:
    """run(max_events=n) runs exactly n events and leaves now at the last one run."""
    sim = Simulation(seed=0)
    log: list[int] = []
    for i in range(5):
        sim.call_at(float(i), log.append, i)
    sim.run(until=100.0, max_events=2)
    assert log == [0, 1]
    assert sim.now == 1.0
    sim.run(max_events=0)
    assert log == [0, 1]
    sim.run()
    assert log == [0, 1, 2, 3, 4]
    assert sim.events_processed == 5


def test_stop_ends_run_after_current_event() -> None:
    """stop() called from an event makes run() return after that event; a later run() resumes."""
    sim = Simulation(seed=0)
    log: list[str] = []

    def stopper() -> None:
        log.append("stopper")
        sim.stop()

    sim.call_at(1.0, stopper)
    sim.call_at(1.0, log.append, "same-time")
    sim.call_at(2.0, log.append, "later")
    sim.run(until=10.0)
    assert log == ["stopper"]
    assert sim.now == 1.0
    sim.run()
    assert log == ["stopper", "same-time", "later"]


def test_exception_in_callback_propagates_and_simulation_can_continue() -> None:
    """An exception raised by a callback escapes run(); the remaining events still run afterwards."""
    sim = Simulation(seed=0)
    log: list[str] = []

    def boom() -> None:
        raise KeyError("boom")

    sim.call_at(1.0, boom)
    sim.call_at(2.0, log.append, "after")
    with pytest.raises(KeyError):
        sim.run()
    assert sim.now == 1.0
    assert sim.events_processed == 1
    sim.run()
    assert log == ["after"]


def test_run_is_not_reentrant() -> None:
    """Calling run() from inside an event raises RuntimeError."""
    sim = Simulation(seed=0)
    sim.call_at(1.0, sim.run)
    with pytest.raises(RuntimeError, match="re-entrant"):
        sim.run()


@pytest.mark.parametrize("bad", [-0.5, math.nan, math.inf])
def test_call_at_refuses_past_nan_and_infinite_times(bad: float) -> None:
    """call_at with a time before now, NaN or inf raises ValueError naming the argument and range."""
    sim = Simulation(seed=0)
    with pytest.raises(ValueError, match=r"call_at\(\): time=.*allowed range is now \(0\.0\) <= time < inf"):
        sim.call_at(bad, print)


def test_call_at_refuses_time_before_now_after_time_advanced() -> None:
    """Once time has advanced, an earlier absolute time is in the past."""
    sim = Simulation(seed=0)
    sim.run(until=5.0)
    with pytest.raises(ValueError, match="in the past"):
        sim.call_at(4.999, print)
    sim.call_at(5.0, print)  # now itself is allowed


@pytest.mark.parametrize("bad", [-1, -1e-12, math.nan, math.inf])
def test_call_later_refuses_negative_nan_and_infinite_delays(bad: float) -> None:
    """call_later with a negative, NaN or infinite delay raises ValueError naming delay and its range."""
    sim = Simulation(seed=0)
    with pytest.raises(ValueError, match=r"call_later\(\): delay must be finite and >= 0 seconds"):
        sim.call_later(bad, print)


def test_scheduling_argument_types_are_checked() -> None:
    """Non-numeric times, non-callables and non-int priorities raise TypeError."""
    sim = Simulation(seed=0)
    with pytest.raises(TypeError, match="time"):
        sim.call_at("1.0", print)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        sim.call_at(1.0, "print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="priority"):
        sim.call_at(1.0, print, priority=0.5)  # type: ignore[arg-type]


def test_run_arguments_are_checked() -> None:
    """run() refuses an until in the past, NaN or inf, and a negative max_events."""
    sim = Simulation(seed=0)
    sim.run(until=2.0)
    for bad in (1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"run\(\): until="):
            sim.run(until=bad)
    with pytest.raises(ValueError, match="max_events"):
        sim.run(max_events=-1)


def test_numpy_and_int_times_are_accepted_and_stored_as_float() -> None:
    """Integer and numpy scalar times work and now stays a Python float."""
    import numpy as np

    sim = Simulation(seed=0)
    sim.call_at(1, print)
    sim.call_later(np.float64(2.5), print)
    sim.run()
    assert sim.now == 2.5
    assert type(sim.now) is float
