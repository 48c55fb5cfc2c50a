"""One self-contained HTML page about a scenario (``qstack report FILE``).

:func:`build_report` runs the scenario once (its network's requests, or its application) and
writes a page with

* the **network**: a drawing (:func:`qstack.plot.plot_network`: nodes by role, links with their
  lengths, the stage reached) and tables of the nodes' hardware and the links;
* the **stage** the network reaches (:func:`qstack.stages.network_stage`), each pair of end
  nodes' stage, and what the next stage lacks;
* the run's **key figures**: delivered pairs, rate (pairs/s), fidelity ± its standard error,
  pair age and first-pair latency, link success per attempt, the repeaterless PLOB bound of
  the end-to-end route at the same clock (:func:`qstack.sweep.end_to_end`) — or, for an
  application, each role's figures with the secret-key rate (bit/s) and QBER first;
* the **plots**: the distribution of waiting times between deliveries
  (:func:`qstack.plot.plot_waiting_times`, with the single-link closed form where it applies)
  and, given a sweep table (``table=``, ``qstack report FILE --table T.csv``), its standard
  figures (:func:`qstack.plot.plot_table`: rate, fidelity and key rate against distance with
  PLOB, fidelity against memory coherence time).

The figures are inline SVG (text kept as text), the style sheet is inline, nothing is loaded
from anywhere: the page opens offline, and it holds no ``http(s)`` address at all. Wall-clock
times are left out, so the same scenario and seed give the same page, byte for byte.

>>> report = build_report("examples/two_node_link.toml")
>>> page = report.html
>>> page.startswith("<!DOCTYPE html>") and "<svg" in page and "http" not in page
True
>>> int(report.stage), report.refused
(3, None)
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
import os
import re
from collections.abc import Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import Any

__all__ = ["Report", "ReportError", "build_report", "write_report"]


class ReportError(ValueError):
    """The report cannot be written as asked (e.g. the output file is not ``.html``)."""


# --------------------------------------------------------------------------------------------
# Formatting


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, spec: str = ".6g") -> str:
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, Real):
        v = float(value)
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return format(value, spec) if isinstance(value, float) else str(value)
    return str(value)


def _time(value: Any) -> str:
    """A duration in s, shown in the unit that suits it (ns … s)."""
    if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(float(value)):
        return _num(value)
    v = float(value)
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(v) >= factor or unit == "ns":
            return f"{v / factor:.4g} {unit}"
    return f"{v:g} s"  # pragma: no cover - the loop always returns


def _length(metres: float) -> str:
    return f"{metres / 1e3:g} km"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------------------------
# Figures as inline SVG


def _svg(fig: Any, prefix: str) -> str:
    """``fig`` as an ``<svg>`` element for an HTML page: text as text, no XML prologue, no
    metadata or namespace addresses, and every id prefixed so that several figures' ids do not
    collide (deterministic: fixed hash salt, no date)."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "qstack-report"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)  # the HTML parser puts <svg> in its namespace
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', text)
    text = re.sub(r'(href=")#', rf"\1#{prefix}-", text)
    text = re.sub(r"url\(#", f"url(#{prefix}-", text)
    return text


def _figure(fig_id: str, fig: Any, caption: str) -> str:
    return (f'<figure id="{fig_id}">{_svg(fig, fig_id)}<figcaption>{_esc(caption)}</figcaption></figure>')


# --------------------------------------------------------------------------------------------
# The run


@dataclasses.dataclass
class _Run:
    kind: str  # "network" or "application"
    summary: dict[str, Any] | None = None  # run_scenario's summary
    results: dict[str, Any] | None = None  # role -> result
    app_summary: dict[str, Any] | None = None
    simulated_time: float = math.nan
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    refused: str | None = None  # why the application could not run


def _execute(scenario: Any) -> _Run:
    if scenario.application is None:
        from qstack.network.runner import run_scenario

        out = run_scenario(scenario, record=True)
        records = out.pop("records")
        return _Run("network", summary=out, simulated_time=out["simulated_time"], records=records)
    from qstack.apps import make_application, run_app
    from qstack.stages import StageError

    spec = scenario.application
    app = make_application(spec.name, spec.params, spec.roles)
    try:
        result = run_app(app, scenario, spec.roles, record=True)
    except StageError as exc:
        return _Run("application", refused=str(exc))
    return _Run("application", results=dict(result.results), app_summary=dict(app.summary(result.results) or {}),
                simulated_time=result.simulated_time, records=list(result.records or []))


def _fields(prefix: str, value: Any, out: dict[str, Any], depth: int = 0) -> None:
    """Scalar figures of a role's result: numbers, booleans, short strings; dataclass fields and
    properties, mappings, one level of nesting."""
    if isinstance(value, bool | Real | str) or value is None:
        if not isinstance(value, str) or len(value) <= 80:
            out[prefix] = value
        return
    if depth > 1:
        return
    items: list[tuple[str, Any]] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")
                 and f.repr]
        for name in sorted(dir(type(value))):
            if not name.startswith("_") and isinstance(getattr(type(value), name, None), property):
                try:
                    items.append((name, getattr(value, name)))
                except (ArithmeticError, ValueError, TypeError, AttributeError):
                    continue
    elif isinstance(value, Mapping):
        items = [(str(k), v) for k, v in value.items()]
    for key, item in items:
        _fields(f"{prefix}.{key}" if prefix else key, item, out, depth + 1)


#: a role's figures shown first (with their units), in this order
_HEADLINE = (("key_rate", "secret-key rate", "bit/s"), ("key_length", "secret key", "bits"),
             ("qber", "QBER", ""), ("chsh.value", "CHSH value S", ""), ("rate", "rate", "per s"),
             ("asymptotic_rate", "asymptotic key per pulse", "bits"), ("aborted", "aborted", ""),
             ("abort", "abort reason", ""))


# --------------------------------------------------------------------------------------------
# Sections


def _network_section(scenario: Any, stage_report: Any) -> str:
    from qstack.plot import plot_network

    fig = plot_network(scenario)
    nodes = []
    for node in scenario.nodes:
        hw = scenario.hardware_of(node.name)
        nodes.append((node.name, node.role, node.hardware, hw.memory_positions, _time(hw.t1), _time(hw.t2),
                      f"{hw.attempt_rate:g} Hz", _num(hw.raw_fidelity, ".4g")))
    links = [(f"{lk.a} – {lk.b}", _length(lk.length), lk.type, lk.scheme, f"{lk.attenuation:g}",
              f"{lk.station_position:g}") for lk in scenario.links]
    stage = stage_report.stage
    return ("<section id=\"network\"><h2>Network</h2>"
            + _figure("plot-network", fig, f"{len(scenario.nodes)} nodes, {len(scenario.links)} links; "
                      f"stage {int(stage)} ({stage.title}) reached")
            + "<h3>Nodes</h3>"
            + _table(("node", "role", "hardware", "memory positions", "T1", "T2", "attempt rate", "raw fidelity"),
                     nodes)
            + "<h3>Links</h3>"
            + _table(("link", "length", "type", "scheme", "attenuation (dB/km)", "station position"), links)
            + "</section>")


def _stage_section(stage_report: Any) -> str:
    from qstack.stages import Stage

    stage = stage_report.stage
    parts = [f'<section id="stage"><h2>Stage</h2><p class="stage">stage <strong id="stage-number">{int(stage)}'
             f"</strong> — {_esc(stage.title)} (stage {stage.paper_number} in the count of Wehner, Elkouss &amp; "
             "Hanson, Science 362, eaam9288 (2018))</p>"]
    if stage_report.per_pair:
        rows = [(f"{a} – {b}", f"{int(s)} ({s.title})", _time(stage_report.round_trips.get((a, b))))
                for (a, b), s in stage_report.per_pair.items()]
        parts.append(_table(("end nodes", "stage", "classical round trip"), rows))
    if int(stage) < max(int(s) for s in Stage):
        nxt = Stage(int(stage) + 1)
        parts.append(f'<h3>What stage {int(nxt)} ({_esc(nxt.title)}) lacks</h3><ul id="missing">'
                     + "".join(f"<li>{_esc(m)}</li>" for m in stage_report.missing) + "</ul>")
    else:
        parts.append('<p id="missing">the last stage: nothing is missing</p>')
    if stage_report.notes:
        parts.append("<ul class=\"notes\">" + "".join(f"<li>{_esc(n)}</li>" for n in stage_report.notes) + "</ul>")
    return "".join(parts) + "</section>"


def _network_figures(scenario: Any, run: _Run) -> str:
    from qstack.sweep import end_to_end

    r = run.summary or {}
    rows = [
        ("delivered pairs", _num(r.get("delivered_pairs"))),
        ("rate", f"{_num(r.get('rate'))} pairs/s"),
        ("fidelity (mean ± standard error)",
         f"{_num(r.get('fidelity_mean'))} ± {_num(r.get('fidelity_stderr'), '.2g')}"),
        ("fidelity standard deviation", _num(r.get("fidelity_std"), ".3g")),
        ("pair age at delivery (mean)", _time(r.get("pair_age_mean"))),
        ("first pair after", _time(r.get("first_pair_latency"))),
        ("link pairs / attempts", f"{_num(r.get('link_pairs_generated'))} / {_num(r.get('link_attempts'))}"),
    ]
    attempts = r.get("link_attempts") or 0
    if attempts:
        rows.append(("link success per attempt (all links)", _num(r["link_pairs_generated"] / attempts, ".4g")))
    geometry = end_to_end(scenario)
    if math.isfinite(geometry["distance"]):
        rows.append(("end-to-end fibre distance", _length(geometry["distance"])))
        rows.append(("end-to-end transmissivity", _num(geometry["transmissivity"], ".4g")))
    if math.isfinite(geometry["plob_rate"]):
        rows.append(("PLOB bound at the same clock (repeaterless)",
                     f"{_num(geometry['plob_rate'], '.4g')} per s "
                     f"(clock {_num(geometry['channel_use_rate'], 'g')} Hz)"))
        rate = r.get("rate")
        if isinstance(rate, Real) and geometry["plob_rate"] > 0:
            rows.append(("rate / PLOB bound", _num(float(rate) / geometry["plob_rate"], ".4g")))
    rows.append(("classical messages", f"{_num(r.get('messages_total'))} ({_num(r.get('bytes_total'))} bytes)"))
    from qstack.network.runner import flow_status

    flows = [(f["flow_id"], " – ".join(f["route"]), f["delivered"], _num(f["fidelity_mean"], ".4f"),
              _time(f["first_pair_latency"]), flow_status(f)) for f in r.get("flows", [])]
    return (_table(("figure", "value"), rows, "figures")
            + "<h3>Flows</h3>"
            + _table(("flow", "route", "delivered", "fidelity", "first pair", "status"), flows))


def _route_table(scenario: Any) -> str:
    """The end-to-end route of the application's first and last role: distance, transmissivity
    and the repeaterless PLOB bound (secret bits per second) at the route's clock."""
    from qstack.sweep import end_to_end

    g = end_to_end(scenario)
    if not math.isfinite(g["distance"]):
        return ""
    rows = [("end-to-end fibre distance", _length(g["distance"]))]
    if math.isfinite(g["transmissivity"]):
        rows.append(("end-to-end transmissivity", _num(g["transmissivity"], ".4g")))
    if math.isfinite(g["plob_rate"]):
        rows.append(("PLOB bound at the same clock (repeaterless)",
                     f"{_num(g['plob_rate'], '.4g')} bit/s (clock {_num(g['channel_use_rate'], 'g')} Hz)"))
    return "<h3>Route</h3>" + _table(("figure", "value"), rows)


def _application_figures(scenario: Any, run: _Run) -> str:
    spec = scenario.application
    if run.refused is not None:
        return f'<p class="refused" id="refused">the application {_esc(spec.name)} cannot run on this network: ' \
               f"{_esc(run.refused)}</p>"
    parts = []
    head_rows = []
    detail_rows = []
    for role, value in (run.results or {}).items():
        fields: dict[str, Any] = {}
        _fields("", value, fields)
        node = spec.roles.get(role, "?")
        for key, label, unit in _HEADLINE:
            if key in fields:
                shown = _num(fields[key], ".6g")
                head_rows.append((f"{role} ({node})", label, f"{shown} {unit}".strip()))
        for key, v in fields.items():
            if key not in dict((k, 0) for k, _, _ in _HEADLINE):
                detail_rows.append((role, key, _num(v)))
    if head_rows:
        parts.append(_table(("role (node)", "figure", "value"), head_rows, "figures"))
    parts.append(_route_table(scenario))
    if run.app_summary:
        summary: dict[str, Any] = {}
        _fields("", run.app_summary, summary)
        parts.append("<h3>Summary</h3>" + _table(("figure", "value"), [(k, _num(v)) for k, v in summary.items()]))
    if detail_rows:
        parts.append("<details><summary>every figure of each role</summary>"
                     + _table(("role", "figure", "value"), detail_rows) + "</details>")
    return "".join(parts) or "<p>the application returned no figures</p>"


def _figures_section(scenario: Any, run: _Run) -> str:
    sim = scenario.simulation
    what = ("the network's requests" if run.kind == "network"
            else f"application {scenario.application.name} (roles: "
                 + ", ".join(f"{r} on {n}" for r, n in scenario.application.roles.items()) + ")")
    head = (f'<section id="figures"><h2>Key figures</h2><p>one run of {_esc(what)}, seed {sim.seed}, '
            f"{_esc(_time(run.simulated_time))} simulated</p>")
    body = _network_figures(scenario, run) if run.kind == "network" else _application_figures(scenario, run)
    return head + body + "</section>"


def _plots_section(scenario: Any, run: _Run, table: Any) -> str:
    from qstack.plot import PlotError, plot_table, plot_waiting_times

    parts = ['<section id="plots"><h2>Plots</h2>']
    try:
        fig = plot_waiting_times(run.records, scenario=scenario)
    except PlotError as exc:
        parts.append(f'<p class="absent">no waiting-time distribution: {_esc(exc)}</p>')
    else:
        parts.append(_figure("plot-waiting-times", fig, "waiting times between consecutive deliveries of each "
                             "flow (fraction per bin, binomial error bars), with the geometric law of a single "
                             "link where it applies"))
    if table is not None:
        try:
            fig = plot_table(table)
        except PlotError as exc:
            parts.append(f'<p class="absent">no sweep figure from {_esc(table)}: {_esc(exc)}</p>')
        else:
            name = os.path.basename(str(table)) if isinstance(table, str | os.PathLike) else "the sweep table"
            parts.append(_figure("plot-table", fig, f"standard figures of {name} (error bars: standard errors)"))
    return "".join(parts) + "</section>"


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}table.figures td:last-child{font-variant-numeric:tabular-nums}
figure{margin:1em 0}figure svg{width:100%;max-width:860px;height:auto}figcaption{font-size:.9em;color:#555}
p.stage{font-size:1.15em}.refused{color:#a00}.absent{color:#666;font-style:italic}footer{margin-top:2em;
font-size:.85em;color:#666}
"""


@dataclasses.dataclass(frozen=True)
class Report:
    """A built report: ``html`` (the page), ``stage`` (the stage the network reaches) and
    ``refused`` (why the scenario's application could not run on the network — its
    :class:`~qstack.stages.StageError` — or None)."""

    html: str
    stage: Any
    refused: str | None = None

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (``.html``/``.htm``, UTF-8) and return the path."""
        target = Path(path)
        if target.suffix.lower() not in (".html", ".htm"):
            raise ReportError(f"{path}: the report file must end in .html")
        target.write_text(self.html, encoding="utf-8")
        return target


def build_report(scenario: Any, *, seed: int | None = None, table: Any = None) -> Report:
    """The :class:`Report` of ``scenario`` (a path, dict or :class:`~qstack.scenario.Scenario`)
    run once with its seed (or ``seed``); ``table`` (a sweep table: path,
    :class:`~qstack.sweep.SweepTable` or columns) adds its standard figures.

    Raises :class:`~qstack.scenario.ScenarioError` (or ``OSError``) for a scenario that cannot
    be read, ``OSError``/``ValueError`` for a table that cannot; an application that the
    network's stage cannot run is reported on the page (and in :attr:`Report.refused`).
    """
    from qstack import __version__
    from qstack._optional import require
    from qstack.scenario import Scenario, load_scenario
    from qstack.stages import network_stage

    require("matplotlib", "plot")  # before the run: the figures need the plot extra
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ReportError(f"seed must be an integer >= 0, got {seed!r}")
        loaded = dataclasses.replace(loaded, simulation=dataclasses.replace(loaded.simulation, seed=seed))
    stage_report = network_stage(loaded)
    run = _execute(loaded)
    name = loaded.simulation.name or (Path(str(scenario)).stem if isinstance(scenario, str | os.PathLike)
                                      else "scenario")
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>qstack report: {_esc(name)}</title><style>{_STYLE}</style></head><body>"
            f"<h1 id=\"title\">{_esc(name)}</h1>"
            f"<p>qstack report — {len(loaded.nodes)} nodes, {len(loaded.links)} links, seed "
            f"{loaded.simulation.seed}</p>"
            + _network_section(loaded, stage_report)
            + _stage_section(stage_report)
            + _figures_section(loaded, run)
            + _plots_section(loaded, run, table)
            + f"<footer>written by qstack {_esc(__version__)}; self-contained (no external resources); wall-clock "
              "times are left out, so the same scenario and seed give the same page</footer>"
            + "</body></html>\n")
    return Report(page, stage_report.stage, run.refused)


def write_report(scenario: Any, path: str | os.PathLike[str], *, seed: int | None = None,
                 table: Any = None) -> Report:
    """Build the report (:func:`build_report`), write its page to ``path`` (``.html``/``.htm``;
    refused before anything runs otherwise) and return it.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "r.html"
    >>> report = write_report("examples/two_node_link.toml", out)
    >>> out.stat().st_size > 10_000
    True
    """
    if Path(path).suffix.lower() not in (".html", ".htm"):
        raise ReportError(f"{path}: the report file must end in .html")
    report = build_report(scenario, seed=seed, table=table)
    report.write(path)
    return report
