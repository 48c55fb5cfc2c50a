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
in the title.

matplotlib is imported inside the functions, with the non-interactive Agg backend: importing
this module costs nothing, and nothing opens a window.

>>> import tempfile, pathlib
>>> from qstack.scenario import linear_chain
>>> fig = plot_network(linear_chain(3, "20 km"), pathlib.Path(tempfile.mkdtemp()) / "net.png")
>>> fig.axes[0].get_title().splitlines()[1]
'stage 3 (quantum memory)'
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qstack._optional import require

__all__ = ["PlotError", "Panel", "plot_network", "plot_table", "standard_panels"]

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
    the layout (Kamada–Kawai with the link lengths as distances) is deterministic. Saves to
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
    if graph.number_of_edges() and nx.is_connected(graph) and graph.number_of_nodes() > 2:
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
            nx.draw_networkx_nodes(graph, pos, nodelist=names, node_color=colour, node_size=600, ax=ax,
                                   label=f"{role} node")
    nx.draw_networkx_edges(graph, pos, ax=ax, width=2.0)
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=9)
    lengths = {(a, b): f"{d['length'] / 1e3:g} km" for a, b, d in graph.edges(data=True)}
    nx.draw_networkx_edge_labels(graph, pos, ax=ax, font_size=8, edge_labels=lengths)
    stage = report.stage
    name = getattr(loaded.simulation, "name", None) or "network"
    ax.set_title(f"{name}: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} links\n"
                 f"stage {int(stage)} ({stage.title})")
    ax.legend(loc="best", fontsize="small", markerscale=0.4)
    ax.set_axis_off()
    _save(fig, path)
    return fig
