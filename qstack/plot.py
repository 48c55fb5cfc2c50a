"""Figures from sweep tables and drawings of scenario networks (``qstack plot``), on matplotlib.

:func:`plot_table` draws the standard figures of a sweep table (:mod:`qstack.sweep`, CSV or
Parquet), each panel only when the table has what it needs:

* **rate against distance** — ``rate`` (pairs/s) against the end-to-end fibre ``distance``
  (km), with the repeaterless PLOB bound at the same clock (``plob_rate``: ``channel_use_rate
  · −log2(1 − η)``, Pirandola et al., Nat. Commun. 8, 15043 (2017)) drawn dashed, log scale;
* **fidelity against distance** — ``fidelity_mean`` (or an application's fidelity figure);
* **secret-key rate against distance** — every ``*key_rate`` figure (bit/s), with PLOB;
* **fidelity against memory coherence time** — when a ``t1``/``t2`` field was swept (log x).

Error bars are the table's standard errors (``<figure>_stderr``); the other swept fields make
one line each, named in the legend. ``--x FIELD --y FIGURE`` draws one panel of any two
columns instead. :func:`plot_network` draws a scenario's network: nodes by role, each link with
its length, and the quantum-internet stage the network reaches (:func:`qstack.stages.network_stage`)
in the title. :func:`plot_waiting_times` draws the distribution of a run's waiting times (the
time between consecutive deliveries of a flow, from its per-pair records), with the closed form
of a single link (:func:`single_link_waiting_time`: ``n ~ Geometric(p)`` attempts, mean
``attempt period / p`` when the link is free again within one attempt cycle) drawn over it.

matplotlib is imported inside the functions, with the non-interactive Agg backend: importing
this module costs nothing, and nothing opens a window.

>>> import tempfile, pathlib
>>> from qstack.scenario import linear_chain
>>> fig = plot_network(linear_chain(3, "20 km"), pathlib.Path(tempfile.mkdtemp()) / "net.png")
>>> fig.axes[0].get_title().splitlines()[1]
'stage 3 (quantum memory)'
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qstack._optional import require

__all__ = ["LinkWaitingTime", "PlotError", "Panel", "plot_network", "plot_table", "plot_waiting_times",
           "single_link_waiting_time", "standard_panels", "waiting_times"]

_COHERENCE_KEYS = ("t1", "t2", "depolarizing_time")


class PlotError(ValueError):
    """A table cannot be plotted as asked (no such column, nothing to draw, unknown format)."""


@dataclass(frozen=True)
class Panel:
    """One axes of a figure: ``y`` figures (column stems: ``rate`` reads ``rate_mean`` and
    ``rate_stderr``, or the column itself) against column ``x``; ``bound`` a column drawn dashed
    (the PLOB rate); ``logx``/``logy`` scales; ``title``."""

    title: str
    x: str
    y: tuple[str, ...]
    bound: str | None = None
    logx: bool = False
    logy: bool = False


def _columns(table: Any) -> dict[str, list[Any]]:
    from qstack.sweep import SweepTable, read_table

    if isinstance(table, SweepTable):
        return {c: table.column(c) for c in table.columns}
    if isinstance(table, Mapping):
        return {str(k): list(v) for k, v in table.items()}
    if isinstance(table, str | os.PathLike):
        return read_table(table)
    raise TypeError(f"plot_table takes a sweep table (path, SweepTable or dict of columns), got {type(table).__name__}")


def _params(columns: Mapping[str, list[Any]]) -> list[str]:
    """The swept fields: the columns between ``point`` and ``runs`` (the sweep table's layout)."""
    names = list(columns)
    if "point" in names and "runs" in names:
        return names[names.index("point") + 1:names.index("runs")]
    return []


def _values(columns: Mapping[str, list[Any]], name: str) -> list[float]:
    out = []
    for v in columns[name]:
        try:
            out.append(math.nan if v is None else float(v))
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def _varies(columns: Mapping[str, list[Any]], name: str) -> bool:
    vals = [v for v in _values(columns, name) if math.isfinite(v)] if name in columns else []
    return len(set(vals)) > 1


def _stem(columns: Mapping[str, list[Any]], name: str) -> tuple[str, str | None]:
    """(mean column, stderr column or None) for a figure stem or a plain column."""
    if f"{name}_mean" in columns:
        return f"{name}_mean", f"{name}_stderr" if f"{name}_stderr" in columns else None
    if name in columns:
        return name, None
    stems = sorted(c[:-5] for c in columns if c.endswith("_mean"))
    raise PlotError(f"no column {name!r} in the table; figures: {', '.join(stems) or 'none'}; "
                    f"columns: {', '.join(columns)}")


def standard_panels(columns: Mapping[str, list[Any]]) -> list[Panel]:
    """The standard panels a table supports (see the module docstring), in that order.

    >>> cols = {"point": [0, 1], "links.length": [1e3, 2e3], "runs": [3, 3], "distance": [1e3, 2e3],
    ...         "plob_rate": [9.0, 8.0], "rate_mean": [5.0, 4.0], "rate_stderr": [0.1, 0.1],
    ...         "fidelity_mean_mean": [0.9, 0.8], "fidelity_mean_stderr": [0.01, 0.01]}
    >>> [p.title for p in standard_panels(cols)]
    ['rate against distance', 'fidelity against distance']
    """
    panels: list[Panel] = []
    params = _params(columns)
    fidelity = [s for s in ("fidelity_mean",) if f"{s}_mean" in columns] or sorted(
        c[:-5] for c in columns if c.endswith("_mean") and "fidelity" in c and not c.endswith("fidelity_std_mean"))[:1]
    keys = sorted(c[:-5] for c in columns if c.endswith("_mean") and c[:-5].split(".")[-1] == "key_rate")
    bound = "plob_rate" if "plob_rate" in columns and any(math.isfinite(v) for v in _values(columns, "plob_rate")) \
        else None
    if _varies(columns, "distance"):
        if "rate_mean" in columns:
            panels.append(Panel("rate against distance", "distance", ("rate",), bound, logy=True))
        if fidelity:
            panels.append(Panel("fidelity against distance", "distance", tuple(fidelity[:1])))
        if keys:
            panels.append(Panel("secret-key rate against distance", "distance", tuple(keys), bound, logy=True))
    for p in params:
        if p.split(".")[-1] in _COHERENCE_KEYS and _varies(columns, p) and fidelity:
            positive = all(v > 0 for v in _values(columns, p) if math.isfinite(v))
            panels.append(Panel("fidelity against memory coherence time", p, tuple(fidelity[:1]), logx=positive))
    return panels


def _unit(name: str) -> str | None:
    from qstack.sweep import FIGURE_UNITS, GEOMETRY_COLUMNS, field_unit

    if name in GEOMETRY_COLUMNS:
        return GEOMETRY_COLUMNS[name]
    if name in FIGURE_UNITS:
        return FIGURE_UNITS[name]
    last = name.split(".")[-1]
    if "[" in name or "." in name:
        unit = field_unit(name)
        if unit is not None:
            return unit
    return FIGURE_UNITS.get(last)


#: axis labels of the summary's figures
_LABELS = {"fidelity_mean": "fidelity", "rate": "rate"}

#: SI unit -> (axis unit, factor): lengths in km, short times in ms
_DISPLAY = {"m": ("km", 1e-3)}


def _axis(name: str, values: Sequence[float]) -> tuple[str, float]:
    """Axis label with its unit, and the factor from SI to the unit shown."""
    unit = _unit(name)
    label = {"distance": "distance", "plob_rate": "PLOB bound"}.get(name, name)
    if unit is None:
        return label, 1.0
    if unit in _DISPLAY:
        shown, factor = _DISPLAY[unit]
        return f"{label} ({shown})", factor
    if unit == "s":
        finite = [abs(v) for v in values if math.isfinite(v) and v != 0]
        if finite and max(finite) < 1.0:
            return f"{label} (ms)", 1e3
    return f"{label} ({unit})", 1.0


def _groups(columns: Mapping[str, list[Any]], x: str) -> list[tuple[str, list[int]]]:
    """Rows split by the values of the swept fields other than ``x`` (one line each)."""
    n = len(next(iter(columns.values()), []))
    xs = [str(v) for v in columns[x]]

    def independent(p: str) -> bool:  # not a function of x (links.length is one of distance)
        seen: dict[str, str] = {}
        return any(seen.setdefault(xs[i], str(columns[p][i])) != str(columns[p][i]) for i in range(n))

    others = [p for p in _params(columns) if p != x and len(set(map(str, columns[p]))) > 1 and independent(p)]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(n):
        groups.setdefault(tuple(columns[p][i] for p in others), []).append(i)
    out = []
    for key, rows in groups.items():
        label = ", ".join(f"{p} = {_fmt(p, v)}" for p, v in zip(others, key, strict=True))
        out.append((label, rows))
    return out


def _fmt(name: str, value: Any) -> str:
    if isinstance(value, float):
        unit = _unit(name)
        if unit == "m":
            return f"{value / 1e3:g} km"
        return f"{value:g} {unit}" if unit else f"{value:g}"
    return str(value)


def _draw_panel(ax: Any, columns: Mapping[str, list[Any]], panel: Panel) -> None:
    xs = _values(columns, panel.x)
    xlabel, xf = _axis(panel.x, xs)
    groups = _groups(columns, panel.x)
    units = {_unit(y) for y in panel.y}
    for y in panel.y:
        mean_col, err_col = _stem(columns, y)
        ys, errs = _values(columns, mean_col), _values(columns, err_col) if err_col else None
        for label, rows in groups:
            order = sorted(rows, key=lambda i: xs[i])
            px = [xs[i] * xf for i in order]
            py = [ys[i] for i in order]
            pe = [errs[i] if math.isfinite(errs[i]) else 0.0 for i in order] if errs else None
            name = y if not label else f"{y}, {label}" if len(panel.y) > 1 else label
            ax.errorbar(px, py, yerr=pe, marker="o", markersize=4, capsize=3, label=name)
    if panel.bound is not None:
        bounds = _values(columns, panel.bound)
        lines: list[tuple[str, list[tuple[float, float]]]] = []
        for label, rows in groups:
            line = sorted({xs[i]: bounds[i] for i in rows if math.isfinite(xs[i]) and math.isfinite(bounds[i])}.items())
            if line and all(line != other for _, other in lines):
                lines.append((label, line))
        for label, line in lines:
            name = "PLOB bound (repeaterless, same clock)" + (f", {label}" if len(lines) > 1 else "")
            ax.plot([k * xf for k, _ in line], [v for _, v in line], linestyle="--", color="black", label=name)
    ax.set_xlabel(xlabel)
    unit = units.pop() if len(units) == 1 else None
    ylabel = _LABELS.get(panel.y[0], panel.y[0]) if len(panel.y) == 1 else "figures"
    ax.set_ylabel(f"{ylabel} ({unit})" if unit else ylabel)
    ax.set_title(panel.title)
    if panel.logx:
        ax.set_xscale("log")
    if panel.logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[1] and (len(groups) > 1 or panel.bound or len(panel.y) > 1):
        ax.legend(fontsize="small")


def _figure(n_panels: int) -> Any:
    matplotlib = require("matplotlib", "plot")

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    cols = min(n_panels, 2)
    rows = math.ceil(n_panels / cols)
    return Figure(figsize=(6.0 * cols, 4.2 * rows), layout="constrained")


def _save(fig: Any, path: str | os.PathLike[str] | None) -> None:
    if path is None:
        return
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise PlotError(f"{path}: the figure file must end in .png, .svg or .pdf")
    fig.savefig(path, dpi=150)


def plot_table(table: Any, path: str | os.PathLike[str] | None = None, *, x: str | None = None,
               y: str | Sequence[str] | None = None) -> Any:
    """Draw a sweep table's standard figures (or ``y`` against ``x``) and save them to ``path``
    (``.png``, ``.svg`` or ``.pdf``) when given; returns the :class:`matplotlib.figure.Figure`.

    ``table``: a CSV/Parquet path, a :class:`~qstack.sweep.SweepTable` or ``{column: values}``.
    Raises :class:`PlotError` when a named column is missing or there is nothing to draw.
    """
    columns = _columns(table)
    if not columns:
        raise PlotError("the table has no columns")
    if (x is None) != (y is None):
        raise PlotError("--x and --y go together: give both, or neither for the standard figures")
    if x is not None and y is not None:
        if x not in columns:
            raise PlotError(f"no column {x!r} in the table; columns: {', '.join(columns)}")
        ys = (y,) if isinstance(y, str) else tuple(y)
        for name in ys:
            _stem(columns, name)
        panels = [Panel(f"{', '.join(ys)} against {x}", x, ys)]
    else:
        panels = standard_panels(columns)
        if not panels:
            raise PlotError("no standard figure fits this table: it needs a swept distance (links.length) with "
                            "rate or fidelity figures, or a swept t1/t2 with fidelity; draw any two columns with "
                            "--x FIELD --y FIGURE")
    fig = _figure(len(panels))
    cols = min(len(panels), 2)
    for i, panel in enumerate(panels):
        _draw_panel(fig.add_subplot(math.ceil(len(panels) / cols), cols, i + 1), columns, panel)
    _save(fig, path)
    return fig


def plot_network(scenario: Any, path: str | os.PathLike[str] | None = None) -> Any:
    """Draw ``scenario``'s network (a path, dict or :class:`~qstack.scenario.Scenario`): end nodes
    and repeaters, each link labelled with its length in km, and the stage the network reaches;
    the layout (a chain on a line, spaced by its link lengths; any other graph Kamada–Kawai with
    the link lengths as distances) is deterministic. Saves to
    ``path`` when given; returns the figure."""
    import networkx as nx

    from qstack.scenario import Scenario, load_scenario
    from qstack.stages import network_stage

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    report = network_stage(loaded)
    graph = nx.Graph()
    for node in loaded.nodes:
        graph.add_node(node.name)
    for link in loaded.links:
        graph.add_edge(link.a, link.b, length=link.length, weight=max(link.length, 1.0))
    ends = [n for n, d in graph.degree() if d == 1]
    chain = (graph.number_of_nodes() >= 2 and nx.is_connected(graph) and len(ends) == 2
             and graph.number_of_edges() == graph.number_of_nodes() - 1)
    if chain:
        # a chain: on a line, in order, spaced by the link lengths
        order = nx.shortest_path(graph, *sorted(ends))
        x = 0.0
        pos = {order[0]: (0.0, 0.0)}
        for a, b in itertools.pairwise(order):
            x += graph.edges[a, b]["weight"]
            pos[b] = (x, 0.0)
    elif graph.number_of_edges() and nx.is_connected(graph) and graph.number_of_nodes() > 2:
        pos = nx.kamada_kawai_layout(graph, weight="weight")
    else:
        pos = nx.circular_layout(graph) if graph.number_of_nodes() > 2 else {
            n: (float(i), 0.0) for i, n in enumerate(graph.nodes)}
    fig = _figure(1)
    ax = fig.add_subplot(1, 1, 1)
    roles = {n.name: n.role for n in loaded.nodes}
    colours = {"end": "tab:blue", "repeater": "tab:orange"}
    for role, colour in colours.items():
        names = [n for n in graph.nodes if roles.get(n) == role]
        if names:
            size = 600 if graph.number_of_nodes() <= 12 else max(30, 7200 // graph.number_of_nodes())
            nx.draw_networkx_nodes(graph, pos, nodelist=names, node_color=colour, node_size=size, ax=ax,
                                   label=f"{role} node")
    nx.draw_networkx_edges(graph, pos, ax=ax, width=2.0)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=9)
    lengths = {(a, b): f"{d['length'] / 1e3:g} km" for a, b, d in graph.edges(data=True)}
    if chain:  # labels above the line, between the nodes
        span = max(x for x, _ in pos.values()) or 1.0
        for (a, b), text in lengths.items():
            ax.text((pos[a][0] + pos[b][0]) / 2, 0.04 * span, text, ha="center", va="bottom", fontsize=8)
        ax.set_ylim(-0.25 * span, 0.25 * span)
    else:
        nx.draw_networkx_edge_labels(graph, pos, ax=ax, font_size=8, edge_labels=lengths)
    stage = report.stage
    name = getattr(loaded.simulation, "name", None) or "network"
    ax.set_title(f"{name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} links\n"
                 f"stage {int(stage)} ({stage.title})")
    ax.legend(loc="best", fontsize="small", markerscale=0.4)
    ax.set_axis_off()
    _save(fig, path)
    return fig


# --------------------------------------------------------------------------------------------
# Waiting times


@dataclass(frozen=True)
class LinkWaitingTime:
    """The closed form of a single link's waiting time between deliveries (one memory position
    at each end, swap-free): each cycle of the position pair is ``T = offset + (n − 1)·cycle``,
    ``n ~ Geometric(success_probability)`` the attempts up to the successful one, ``cycle`` the
    attempt period ``max(2d, 1/attempt_rate)`` and ``offset`` the time from the successful
    emission to the next first attempt (renewal theory, as in tests/network/test_network_timing.py).
    When the link is free again within one cycle (``offset == cycle``) the mean is the textbook
    ``cycle / p``.

    >>> w = LinkWaitingTime("a-b", success_probability=0.25, cycle=1e-3, offset=1e-3)
    >>> round(w.mean, 15), round(w.std, 15)                       # c/p and c·√(1−p)/p
    (0.004, 0.003464101615138)
    >>> round(w.probability(1, 1), 12), round(w.probability(2, 3), 12)   # p, p(1−p) + p(1−p)²
    (0.25, 0.328125)
    """

    link: str
    success_probability: float
    cycle: float
    offset: float

    @property
    def mean(self) -> float:
        """``E[T] = offset + (1/p − 1)·cycle`` (s)."""
        return self.offset + (1.0 / self.success_probability - 1.0) * self.cycle

    @property
    def std(self) -> float:
        """``√Var T = cycle·√(1 − p)/p`` (s)."""
        p = self.success_probability
        return self.cycle * math.sqrt(1.0 - p) / p

    def time(self, attempts: int) -> float:
        """The waiting time (s) when the ``attempts``-th attempt succeeds."""
        return self.offset + (attempts - 1) * self.cycle

    def probability(self, first: int, last: int) -> float:
        """``P(first ≤ n ≤ last) = (1 − p)^(first−1) − (1 − p)^last`` (``1 ≤ first ≤ last``)."""
        if not 1 <= first <= last:
            raise ValueError(f"need 1 <= first <= last, got first={first}, last={last}")
        log_q = math.log1p(-self.success_probability) if self.success_probability < 1.0 else -math.inf
        return math.exp((first - 1) * log_q) - (math.exp(last * log_q) if log_q > -math.inf else 0.0)


def single_link_waiting_time(scenario: Any) -> LinkWaitingTime:
    """The closed form (:class:`LinkWaitingTime`) of the waiting time between deliveries of a
    scenario that is one swap-free link: two nodes, one fibre link with its station in the
    middle, one memory position at each end, interleaved rounds, one request between the two
    nodes with no fidelity threshold, no application. Then a delivered pair frees its positions
    ``x = 2d + 2D`` after its emission (herald back to both ends ``2d``, the network layer's
    TRACK and confirmation ``2D``; ``d`` the arm delay, ``D = 2d`` the node-to-node delay), and
    the next first attempt comes ``cycle·max(1, ⌈x/cycle⌉)`` after the emission on the slotted
    clock, ``max(x, cycle)`` on the free one. ``p`` and the cycle are the link model's
    (``QuantumNetwork.links[name].base_model``).

    Raises :class:`PlotError` saying which condition the scenario misses.

    >>> from qstack.scenario import linear_chain
    >>> w = single_link_waiting_time(linear_chain(2, "10 km", memory_positions=1))
    >>> w.cycle, w.offset, round(w.mean / (w.cycle / w.success_probability), 12)   # 2 kHz: free within a cycle
    (0.0005, 0.0005, 1.0)
    """
    from qstack.network import build_network
    from qstack.scenario import Scenario, load_scenario

    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)

    def refuse(why: str) -> PlotError:
        return PlotError(f"no closed form of the waiting time: {why}")

    if loaded.application is not None:
        raise refuse("the scenario runs an application, which consumes pairs on its own schedule")
    if len(loaded.nodes) != 2 or len(loaded.links) != 1:
        raise refuse(f"it needs one link between two nodes, the network has {len(loaded.nodes)} nodes and "
                     f"{len(loaded.links)} links")
    (link,) = loaded.links
    if len(loaded.requests) != 1:
        raise refuse(f"it needs exactly one request, the scenario has {len(loaded.requests)}")
    (request,) = loaded.requests
    if request.min_fidelity > 0.0:
        raise refuse(f"the request's min_fidelity = {request.min_fidelity:g} may discard pairs (needs 0)")
    if link.type != "fibre":
        raise refuse(f"link {link.a}-{link.b} is of type {link.type!r} (needs 'fibre')")
    if link.rounds != "interleaved":
        raise refuse(f"link {link.a}-{link.b} has rounds = {link.rounds!r} (needs 'interleaved')")
    positions = loaded.link_memory_positions(link)
    if tuple(positions) != (1, 1):
        raise refuse(f"link {link.a}-{link.b} has {'/'.join(map(str, positions))} memory positions per end "
                     "(needs 1: with K position pairs the deliveries interleave K renewal processes)")
    net = build_network(loaded)
    view = net.links[f"{link.a}-{link.b}"]
    model = view.base_model
    if model is None or not hasattr(model, "cycle_time"):
        raise refuse(f"link {link.a}-{link.b}'s scheme {link.scheme!r} has no attempt-cycle model")
    da, db = view.delay_a, view.delay_b
    if not math.isclose(da, db, rel_tol=1e-12, abs_tol=1e-15):
        raise refuse(f"the station of link {link.a}-{link.b} is off-centre (arm delays {da:.6g} s and {db:.6g} s)")
    c, p = float(model.cycle_time), float(model.success_probability)
    if not (c > 0.0 and 0.0 < p <= 1.0):
        raise refuse(f"link {link.a}-{link.b} has cycle {c:g} s and success probability {p:g}")
    x = 2.0 * da + 2.0 * (da + db)
    cutoff = loaded.policies.cutoff
    if isinstance(cutoff, int | float) and not isinstance(cutoff, bool) and cutoff < x:
        raise refuse(f"the cut-off {cutoff:g} s is shorter than a pair's way to delivery ({x:.6g} s)")
    offset = c * max(1, math.ceil(x / c - 1e-9)) if link.attempt_clock == "slotted" else max(x, c)
    return LinkWaitingTime(f"{link.a}-{link.b}", p, c, offset)


def waiting_times(rows: Sequence[Mapping[str, Any]]) -> dict[int, list[float]]:
    """Each flow's waiting times (s): the time between consecutive deliveries, from per-pair
    rows (:class:`qstack.recorder.PairRecords` — ``qstack run --records``) with ``time`` and
    ``flow_id``. The first pair of a flow is left out (its wait started at the flow's set-up,
    which the rows do not hold), so a flow of ``n`` pairs gives ``n − 1`` waiting times.

    >>> waiting_times([{"time": 0.5, "flow_id": 1}, {"time": 0.75, "flow_id": 1}, {"time": 1.5, "flow_id": 1}])
    {1: [0.25, 0.75]}
    """
    times: dict[int, list[float]] = {}
    for row in rows:
        try:
            times.setdefault(int(row["flow_id"]), []).append(float(row["time"]))
        except KeyError as exc:
            raise PlotError(f"a per-pair record has no {exc.args[0]!r} column (records of qstack run --records "
                            "have time and flow_id)") from None
    out = {}
    for flow, ts in sorted(times.items()):
        ts.sort()
        out[flow] = [b - a for a, b in zip(ts, ts[1:], strict=False)]
    return out


def _records_of(source: Any, scenario: Any) -> tuple[list[Mapping[str, Any]], Any]:
    """(per-pair rows, the scenario or None) of ``plot_waiting_times``'s source."""
    from qstack.scenario import Scenario, load_scenario

    if isinstance(source, Mapping) and "records" in source:
        return list(source["records"]), scenario
    if isinstance(source, list | tuple):
        return list(source), scenario
    if isinstance(source, str | os.PathLike) and Path(source).suffix.lower() in (".csv", ".parquet"):
        from qstack.sweep import read_table

        columns = read_table(source)
        n = len(next(iter(columns.values()), []))
        return [{k: v[i] for k, v in columns.items()} for i in range(n)], scenario
    loaded = source if isinstance(source, Scenario) else load_scenario(source)
    return run_records(loaded), loaded


def run_records(scenario: Any) -> list[dict[str, Any]]:
    """Run ``scenario`` (a network, or its application when it has one) and return its per-pair rows."""
    if scenario.application is not None:
        from qstack.apps import make_application, run_app

        spec = scenario.application
        app = make_application(spec.name, spec.params, spec.roles)
        return list(run_app(app, scenario, spec.roles, record=True).records or [])
    from qstack.network.runner import run_scenario

    return list(run_scenario(scenario, record=True)["records"])


def _time_unit(values: Sequence[float]) -> tuple[str, float]:
    top = max((abs(v) for v in values if math.isfinite(v)), default=1.0)
    if top < 1e-3:
        return "µs", 1e6
    if top < 1.0:
        return "ms", 1e3
    return "s", 1.0


#: most bars a waiting-time histogram draws (lattice bins are merged beyond it)
MAX_BINS = 60


def plot_waiting_times(source: Any, path: str | os.PathLike[str] | None = None, *, scenario: Any = None,
                       flows: Sequence[int] | None = None) -> Any:
    """Draw the distribution of the waiting times between deliveries (:func:`waiting_times`),
    one panel per flow: the fraction of pairs per bin with binomial error bars, the measured
    mean ± its standard error, and — for a single link (:func:`single_link_waiting_time`) — the
    geometric distribution's probability per bin and its mean (dashed). Bins of a single link
    are whole numbers of attempt cycles, centred on the times the distribution can take.

    ``source``: a scenario (path, dict or :class:`~qstack.scenario.Scenario`: it is run with
    per-pair records), a records file (``.csv``/``.parquet`` of ``qstack run --records``), a
    list of record rows, or a run summary with ``"records"``; ``scenario`` gives the scenario
    of records for the closed form. Saves to ``path`` when given; returns the figure.

    >>> from qstack.scenario import linear_chain
    >>> fig = plot_waiting_times(linear_chain(2, "10 km", memory_positions=1, duration="0.5 s"))
    >>> fig.axes[0].get_xlabel()
    'waiting time between deliveries (ms)'
    """
    import numpy as np

    rows, scen = _records_of(source, scenario)
    per_flow = waiting_times(rows)
    if flows is not None:
        missing = [f for f in flows if f not in per_flow]
        if missing:
            raise PlotError(f"no deliveries of flow {missing[0]} in the records; flows: "
                            f"{', '.join(map(str, per_flow)) or 'none'}")
        per_flow = {f: per_flow[f] for f in flows}
    per_flow = {f: g for f, g in per_flow.items() if g}
    if not per_flow:
        raise PlotError("no waiting time to draw: no flow delivered two pairs")
    model, why = None, None
    if scen is not None:
        try:
            model = single_link_waiting_time(scen)
        except PlotError as exc:
            why = str(exc)
    ends = {int(r["flow_id"]): (r.get("source"), r.get("destination")) for r in rows}
    fig = _figure(len(per_flow))
    cols = min(len(per_flow), 2)
    for i, (flow, gaps) in enumerate(per_flow.items()):
        ax = fig.add_subplot(math.ceil(len(per_flow) / cols), cols, i + 1)
        data = np.asarray(gaps, dtype=float)
        unit, f = _time_unit([float(data.max()), model.mean if model else 0.0])
        n = data.size
        if model is not None:
            attempts = np.rint((data - model.offset) / model.cycle).astype(np.int64) + 1
            top = int(max(attempts.max(), math.ceil(3 * model.mean / model.cycle)))
            width = max(1, math.ceil(top / MAX_BINS))
            firsts = np.arange(1, top + 1, width)
            edges = np.append(firsts, firsts[-1] + width) - 0.5
            counts, _ = np.histogram(attempts, bins=edges)
            centres = np.array([model.time(int(k)) + (width - 1) * model.cycle / 2 for k in firsts])
            expected = [model.probability(int(k), int(k) + width - 1) for k in firsts]
            bar_width = width * model.cycle * f
        else:
            counts, edges = np.histogram(data, bins=min(MAX_BINS, max(5, int(math.sqrt(n)))))
            centres = (edges[:-1] + edges[1:]) / 2
            bar_width = float(edges[1] - edges[0]) * f
            expected = None
        frac = counts / n
        err = np.sqrt(counts * (1 - frac)) / n
        ax.bar(centres * f, frac, width=bar_width * 0.9, color="tab:blue", alpha=0.6,
               yerr=err, error_kw={"elinewidth": 0.8, "capsize": 1.5}, label=f"measured ({n} waiting times)")
        mean, se = float(data.mean()), float(data.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        ax.axvline(mean * f, color="tab:blue", linewidth=1.5,
                   label=f"measured mean {mean * f:.4g} ± {se * f:.2g} {unit}" if math.isfinite(se)
                   else f"measured mean {mean * f:.4g} {unit}")
        if model is not None and expected is not None:
            ax.plot(centres * f, expected, linestyle="none", marker="_", markersize=9, markeredgewidth=2,
                    color="black", label=f"geometric, p = {model.success_probability:.4g} per attempt of "
                                         f"{model.cycle * f:.4g} {unit}")
            form = "c/p" if math.isclose(model.offset, model.cycle, rel_tol=1e-12) else "offset + (1/p − 1)c"
            ax.axvline(model.mean * f, color="black", linestyle="--", linewidth=1.5,
                       label=f"analytic mean {form} = {model.mean * f:.4g} {unit}")
        elif why is not None:
            ax.text(0.98, 0.6, why.replace(": ", ":\n", 1), transform=ax.transAxes, ha="right", va="top",
                    fontsize="x-small", wrap=True)
        src, dst = ends.get(flow, (None, None))
        route = f" ({src} → {dst})" if src and dst else ""
        ax.set_title(f"waiting-time distribution, flow {flow}{route}")
        ax.set_xlabel(f"waiting time between deliveries ({unit})")
        binned = f"{bar_width:.3g} {unit}"
        ax.set_ylabel(f"fraction of waiting times per {binned} bin")
        ax.set_xlim(left=0.0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    _save(fig, path)
    return fig
