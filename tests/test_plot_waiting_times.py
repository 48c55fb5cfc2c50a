"""Waiting-time distributions (``qstack plot --waiting``) against the single link's closed form.

One link, one memory position at each end, no swaps: every cycle of the position pair lasts
``T = a + (n − 1)c`` — ``n ~ Geometric(p)`` attempts of period ``c = max(2d, 1/attempt_rate)``,
``a`` the time from the successful emission to the next first attempt: the pair is free
``x = 2d + 2D`` after the emission (``d`` the arm delay, ``D = 2d``), so ``a = c·max(1, ⌈x/c⌉)``
on the slotted clock and ``max(x, c)`` on the free one (renewal theory, as in
tests/network/test_network_timing.py). At 2 kHz over 10 km the link is free within one cycle
and the mean waiting time is the textbook ``c/p``; at 20 kHz it is not, and the measured mean
is ``a + (1/p − 1)c``, many standard errors away from ``c/p``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.cli import main
from qstack.network.runner import run_scenario
from qstack.plot import LinkWaitingTime, PlotError, plot_waiting_times, single_link_waiting_time, waiting_times
from qstack.recorder import write_records
from qstack.scenario import linear_chain, load_scenario


def _link(rate: str = "2 kHz", clock: str = "slotted", duration: str = "5 s", **kw):
    return load_scenario(linear_chain(2, "10 km", memory_positions=1, attempt_rate=rate, duration=duration, seed=11,
                                      link={"attempt_clock": clock}, **kw))


def _gaps(scenario) -> np.ndarray:
    (gaps,) = waiting_times(run_scenario(scenario, record=True)["records"]).values()
    return np.asarray(gaps)


def test_closed_form_is_a_distribution_with_the_stated_mean_and_spread():
    """Σ P(n) = 1, Σ T(n)P(n) = a + (1/p − 1)c and Σ (T − E T)² P(n) = c²(1 − p)/p², to 1e-9."""
    w = LinkWaitingTime("a-b", success_probability=0.07, cycle=5e-5, offset=1.5e-4)
    n = np.arange(1, 2000)
    pmf = np.array([w.probability(int(k), int(k)) for k in n])
    times = np.array([w.time(int(k)) for k in n])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (times * pmf).sum() == pytest.approx(w.mean, rel=1e-9)
    assert ((times - w.mean) ** 2 * pmf).sum() == pytest.approx(w.std**2, rel=1e-9)
    assert w.probability(3, 7) == pytest.approx(pmf[2:7].sum(), rel=1e-12)
    with pytest.raises(ValueError, match="first <= last"):
        w.probability(0, 2)


def test_single_link_waiting_time_is_geometric_with_mean_attempt_period_over_p(tmp_path):
    """2 kHz, 10 km: offset = c, so every waiting time is a whole number of attempt periods
    (1e-9), the share of one-attempt waits is p and the mean is c/p, each within 4 SE; the
    figure draws that mean dashed and the geometric probabilities per bin."""
    scenario = _link()
    w = single_link_waiting_time(scenario)
    assert w.cycle == pytest.approx(5e-4, rel=1e-12) and w.offset == w.cycle
    assert w.mean == pytest.approx(w.cycle / w.success_probability, rel=1e-12)
    gaps = _gaps(scenario)
    n = gaps.size
    assert n > 900
    attempts = gaps / w.cycle
    assert np.abs(attempts - np.rint(attempts)).max() < 1e-9 and attempts.min() > 0.5
    p = w.success_probability
    ones = float(np.mean(np.rint(attempts) == 1))
    assert abs(ones - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert abs(gaps.mean() - w.mean) < 4 * w.std / math.sqrt(n), (gaps.mean(), w.mean)

    out = tmp_path / "wait.png"
    fig = plot_waiting_times(scenario, out)
    assert out.stat().st_size > 20_000
    (ax,) = fig.axes
    assert ax.get_xlabel() == "waiting time between deliveries (ms)"
    assert ax.get_ylabel() == "fraction of waiting times per 0.5 ms bin"
    (dashed,) = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert dashed.get_xdata()[0] == pytest.approx(w.mean * 1e3, rel=1e-12)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"analytic mean c/p = {w.mean * 1e3:.4g} ms" in labels
    bars = ax.patches
    heights = np.array([b.get_height() for b in bars])
    assert heights.sum() == pytest.approx(1.0, abs=1e-12)  # every waiting time in a bin
    (pmf,) = [line for line in ax.lines if line.get_label().startswith("geometric, p = ")]
    assert pmf.get_ydata()[0] == pytest.approx(p, rel=1e-12)
    assert pmf.get_ydata()[1] == pytest.approx(p * (1 - p), rel=1e-12)


@pytest.mark.parametrize(("clock", "offset_cycles"), [("slotted", 3.0), ("free", 2.881996)])
def test_a_link_busy_longer_than_one_cycle_waits_the_offset_plus_geometric_cycles(clock, offset_cycles):
    """20 kHz: c = 50 µs < x = 6d = 144.1 µs. Slotted, the next first attempt is 3c after the
    emission; free, x. The waiting times are offset + whole cycles (1e-9 of c), the mean is
    a + (1/p − 1)c within 4 SE — and more than 4 SE above c/p."""
    scenario = _link("20 kHz", clock, duration="1 s")
    w = single_link_waiting_time(scenario)
    assert w.cycle == pytest.approx(5e-5, rel=1e-12)
    assert w.offset / w.cycle == pytest.approx(offset_cycles, rel=1e-6)
    gaps = _gaps(scenario)
    n = gaps.size
    assert n > 1500
    steps = (gaps - w.offset) / w.cycle
    assert np.abs(steps - np.rint(steps)).max() < 1e-6 and steps.min() > -1e-6
    se = w.std / math.sqrt(n)
    assert abs(gaps.mean() - w.mean) < 4 * se, (gaps.mean(), w.mean, se)
    assert gaps.mean() - w.cycle / w.success_probability > 4 * se


def test_no_closed_form_is_drawn_where_it_does_not_apply_and_the_reason_is_shown():
    """A three-node chain, or a link with ten memory positions: no closed form (PlotError
    naming the condition), the histogram and measured mean are drawn, the reason written."""
    chain = load_scenario(linear_chain(3, "10 km", duration="0.1 s"))
    with pytest.raises(PlotError, match="the network has 3 nodes and 2 links"):
        single_link_waiting_time(chain)
    with pytest.raises(PlotError, match="10/10 memory positions per end"):
        single_link_waiting_time(linear_chain(2, "10 km"))
    with pytest.raises(PlotError, match="off-centre"):
        single_link_waiting_time(linear_chain(2, "10 km", memory_positions=1, link={"station_position": 0.3}))
    with pytest.raises(PlotError, match="min_fidelity = 0.5"):
        single_link_waiting_time(linear_chain(2, "10 km", memory_positions=1, min_fidelity=0.5))
    fig = plot_waiting_times(chain)
    (ax,) = fig.axes
    assert not [line for line in ax.lines if line.get_linestyle() == "--"]
    assert any("3 nodes and 2 links" in t.get_text() for t in ax.texts)
    assert ax.get_title() == "waiting-time distribution, flow 1 (n0 → n2)"


def test_records_file_gives_the_same_waiting_times(tmp_path):
    """A CSV of ``qstack run --records`` holds the deliveries: the waiting times read back equal
    the run's (1e-9: the CSV keeps 17 significant digits or the repr)."""
    scenario = _link(duration="0.5 s")
    rows = run_scenario(scenario, record=True)["records"]
    path = tmp_path / "rec.csv"
    write_records(rows, path)
    fig = plot_waiting_times(path, scenario=scenario)
    direct = waiting_times(rows)[1]
    (ax,) = fig.axes
    label = next(t.get_text() for t in ax.get_legend().get_texts() if t.get_text().startswith("measured mean"))
    assert label.startswith(f"measured mean {np.mean(direct) * 1e3:.4g} ± ")
    assert waiting_times([{"time": 0.1, "flow_id": 2}, {"time": 0.4, "flow_id": 2}]) == {2: [pytest.approx(0.3)]}
    with pytest.raises(PlotError, match="no 'flow_id' column"):
        waiting_times([{"time": 0.1}])
    with pytest.raises(PlotError, match="no flow delivered two pairs"):
        plot_waiting_times(rows[:1])


def test_cli_plot_waiting(tmp_path, capsys):
    scenario = tmp_path / "link.toml"
    scenario.write_text('[simulation]\nseed = 3\nduration = "0.5 s"\n[hardware.default]\nmemory_positions = 1\n'
                        'attempt_rate = "2 kHz"\n[[nodes]]\nname = "a"\nrole = "end"\n'
                        '[[nodes]]\nname = "b"\nrole = "end"\n'
                        '[[links]]\na = "a"\nb = "b"\nlength = "10 km"\n[[requests]]\nsource = "a"\n'
                        'destination = "b"\n', encoding="utf-8")
    out = tmp_path / "w.svg"
    assert main(["plot", "--waiting", str(scenario), "-o", str(out)]) == 0
    assert out.stat().st_size > 10_000 and "analytic mean c/p" in out.read_text(encoding="utf-8")
    assert f"wrote {out}" in capsys.readouterr().err
    assert main(["plot", "--waiting", str(tmp_path / "none.toml"), "-o", str(out)]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    assert main(["plot", "--waiting", str(scenario), "--network", str(scenario)]) == 2
    assert "give a sweep TABLE" in capsys.readouterr().err
