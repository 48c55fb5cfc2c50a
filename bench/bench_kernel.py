"""Throughput of the qstack.sim discrete-event kernel.

Measures, as the median over a few repeats of wall-clock time (``time.perf_counter``):

1. **Timed events per second with 10,000 waiting coroutines**: 10,000 processes each loop
   ``await sim.sleep(d)`` with pseudo-random delays ``d`` (drawn once from the simulation's
   random stream; each process walks the table from its own offset, so wake times do not
   tie), so the heap holds 10,000 entries and every event is one coroutine wake-up plus
   one new timed event. The same run gives **µs per coroutine wake-up** (wall time per
   wake-up, heap work included).
2. **Callback events per second**: 10,000 plain callbacks in flight, each rescheduling
   itself with the public ``sim.call_later(d, ...)`` (which returns an EventHandle).
3. **µs per mailbox wake-up**: 100 pairs of processes play ping-pong through two
   ``Mailbox``es (every ``put`` hands the item to a waiting ``get``, which resumes at the
   same instant) while 10,000 other processes sleep, so the heap is just as large.

Target for the kernel: >= 500,000 timed events/s with 10,000 waiting coroutines and
< 2 µs per coroutine wake-up. The machine is shared: run it twice if a figure looks off.

Run from the repository root::

    python bench/bench_kernel.py [--events 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

try:
    import qstack.sim  # noqa: F401
except ImportError:  # not installed yet: use the checkout this script lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qstack.sim import Mailbox, Simulation

N_WAITERS = 10_000
N_DELAYS = 1 << 16  # table of pseudo-random delays; process k starts at offset 7k
N_PAIRS = 100


def delay_table(sim: Simulation) -> list[float]:
    """Delays in [1 µs, 1 ms) from the simulation's own random stream."""
    return sim.rng("bench", "delays").uniform(1e-6, 1e-3, size=N_DELAYS).tolist()


def add_sleepers(sim: Simulation, delays: list[float], n: int = N_WAITERS) -> None:
    """Spawn n processes that sleep forever in a loop of table delays."""
    sleep = sim.sleep
    mask = N_DELAYS - 1

    async def sleeper(i: int) -> None:
        while True:
            await sleep(delays[i & mask])
            i += 1

    for k in range(n):
        sim.spawn(sleeper(7 * k), name=f"sleeper-{k}")


def coroutine_run(n_events: int, seed: int = 1) -> tuple[float, int]:
    """Run n_events sleep wake-ups over N_WAITERS processes; return (seconds, events)."""
    sim = Simulation(seed=seed)
    add_sleepers(sim, delay_table(sim))
    sim.run(max_events=N_WAITERS)  # every process has started and is now sleeping
    start = sim.events_processed
    t0 = time.perf_counter()
    sim.run(max_events=n_events)
    elapsed = time.perf_counter() - t0
    return elapsed, sim.events_processed - start


def callback_run(n_events: int, seed: int = 1) -> tuple[float, int]:
    """Run n_events self-rescheduling callbacks (N_WAITERS in flight); return (seconds, events)."""
    sim = Simulation(seed=seed)
    delays = delay_table(sim)
    call_later = sim.call_later
    mask = N_DELAYS - 1
    state = [0]

    def tick() -> None:
        i = state[0] = state[0] + 1
        call_later(delays[i & mask], tick)

    for k in range(N_WAITERS):
        call_later(delays[7 * k & mask], tick)
    t0 = time.perf_counter()
    sim.run(max_events=n_events)
    elapsed = time.perf_counter() - t0
    return elapsed, sim.events_processed


def mailbox_run(n_events: int, seed: int = 1) -> tuple[float, int]:
    """Run about n_events mailbox hand-off wake-ups beside N_WAITERS sleepers; return (seconds, events)."""
    sim = Simulation(seed=seed)
    add_sleepers(sim, [1.0] * N_DELAYS)  # long sleeps: the heap stays at 10,000 entries
    rounds = n_events // (2 * N_PAIRS)

    async def ping(out: Mailbox, back: Mailbox) -> None:
        for i in range(rounds):
            out.put(i)
            await back.get()

    async def pong(inbox: Mailbox, out: Mailbox) -> None:
        for _ in range(rounds):
            out.put(await inbox.get())

    for k in range(N_PAIRS):
        there, back = Mailbox(sim, f"there-{k}"), Mailbox(sim, f"back-{k}")
        sim.spawn(ping(there, back), name=f"ping-{k}")
        sim.spawn(pong(there, back), name=f"pong-{k}")
    start = sim.events_processed
    t0 = time.perf_counter()
    sim.run(until=0.5)  # all ping-pong happens at t = 0
    elapsed = time.perf_counter() - t0
    return elapsed, sim.events_processed - start - N_WAITERS


def main() -> None:
    """Parse arguments, run the benchmarks and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats (median reported)")
    args = parser.parse_args()

    def median_rate(run: object) -> tuple[float, float]:
        rates = []
        for _ in range(args.repeats):
            elapsed, events = run(args.events)  # type: ignore[operator]
            rates.append(events / elapsed)
        rate = statistics.median(rates)
        return rate, 1e6 / rate

    timed_rate, timed_us = median_rate(coroutine_run)
    callback_rate, _ = median_rate(callback_run)
    _, mailbox_us = median_rate(mailbox_run)

    print(f"python {sys.version.split()[0]}, {args.events:,} events per repeat, median of {args.repeats}")
    print(f"timed events/s with {N_WAITERS:,} waiting coroutines: {timed_rate:12,.0f}")
    print(f"us per coroutine wake-up (sleep):              {timed_us:12.3f}")
    print(f"callback events/s, {N_WAITERS:,} in flight:         {callback_rate:12,.0f}")
    print(f"us per mailbox hand-off wake-up:               {mailbox_us:12.3f}")


if __name__ == "__main__":
    main()
