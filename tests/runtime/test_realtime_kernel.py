"""The real-time kernel and TrioRuntime, sans network, on trio's MockClock (fast, deterministic).

Contracts: timers fire at their network time (scaled from wall time), cancelled timers never fire;
processes see the same awaitables as on the simulation kernel (sleep, mailbox get with a timeout
raising qstack.sim.Timeout, awaiting another process); a TrioRuntime dispatches received bytes
through its ProtocolStack and counts bad input instead of raising.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing

from qstack.runtime.realtime.kernel import ProcessError, RealtimeKernel, RealtimeMailbox
from qstack.runtime.realtime.runtime import TrioRuntime
from qstack.sim import Timeout


def _run(body, scale=1.0):
    async def main():
        kernel = RealtimeKernel(seed=3, scale=scale)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(kernel.run)
            out = await body(kernel)
            nursery.cancel_scope.cancel()
        return out
    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def test_timers_fire_at_their_network_time_in_order_and_cancelled_ones_never():
    async def body(kernel):
        fired = []
        kernel.call_at(0.3, lambda: fired.append(("b", kernel.now)))
        kernel.call_at(0.1, lambda: fired.append(("a", kernel.now)))
        kernel.call_at(0.2, lambda: fired.append(("never", kernel.now))).cancel()
        await trio.sleep(1.0)
        return fired
    assert _run(body) == [("a", pytest.approx(0.1)), ("b", pytest.approx(0.3))]


def test_scale_is_network_seconds_per_wall_second():
    """scale = 0.01: one network second takes 100 wall seconds."""
    async def body(kernel):
        seen = []
        t0 = trio.current_time()
        kernel.call_at(0.5, lambda: seen.append(trio.current_time() - t0))
        await trio.sleep(60.0)
        return seen
    assert _run(body, scale=0.01) == [pytest.approx(50.0)]


def test_processes_sleep_exchange_through_mailboxes_and_time_out_like_the_simulation():
    async def body(kernel):
        box = RealtimeMailbox(kernel, "replies")

        async def producer():
            await kernel.sleep(0.25)
            box.put("hello")
            return kernel.now

        async def consumer():
            first = await box.get(timeout=1.0)
            try:
                await box.get(timeout=0.5)
            except Timeout:
                return first, kernel.now
            return None

        p, c = kernel.spawn(producer()), kernel.spawn(consumer())

        async def parent():
            return await p, await c

        top = kernel.spawn(parent())
        await kernel.wait_done(top)
        return top.result()
    produced, (item, when) = _run(body)
    assert produced == pytest.approx(0.25)
    assert item == "hello" and when == pytest.approx(0.75)


def test_a_process_awaiting_foreign_awaitables_is_stopped_with_a_clear_error():
    async def body(kernel):
        async def bad():
            await trio.sleep(0)  # not the kernel's: refused

        proc = kernel.spawn(bad())
        await kernel.wait_done(proc)
        return proc.exception()
    exc = _run(body)
    assert isinstance(exc, ProcessError) and "does not drive" in str(exc)


def test_bad_parameters_are_refused_with_the_field_named():
    with pytest.raises(ValueError, match="scale"):
        RealtimeKernel(scale=0)
    with pytest.raises(ValueError, match="inbound"):
        RealtimeKernel(inbound=0)


def test_random_streams_are_the_simulations_split_of_the_same_seed():
    from qstack.sim import Simulation

    kernel = RealtimeKernel(seed=11)
    assert kernel.rng("n0", "link").random() == Simulation(seed=11).rng("n0", "link").random()


def test_trio_runtime_serialises_sends_and_counts_garbage_without_raising():
    from qstack.proto import AppMessage, decode

    sent = []

    async def body(kernel):
        rt = TrioRuntime(kernel, "alice", None, transmit=lambda peer, data: sent.append((peer, data)))
        rt.send("bob", AppMessage(session=1, from_role="a", to_role="b", payload=b"x"))
        rt.receive("bob", b"\xff\x00garbage")
        return rt
    rt = _run(body)
    assert sent[0][0] == "bob" and decode(sent[0][1]).payload == b"x"
    assert rt.stats.messages_sent == 1 and sum(rt.stack.rejected.values()) == 1


def test_back_pressure_a_full_inbound_channel_makes_the_sender_wait():
    async def main():
        kernel = RealtimeKernel(inbound=2)
        for _ in range(2):
            await kernel.inject(lambda: None)
        with trio.move_on_after(1.0) as scope:  # the dispatcher is not running: the third waits
            await kernel.inject(lambda: None)
        return scope.cancelled_caught
    assert trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
