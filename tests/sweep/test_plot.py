"""``qstack plot``: the standard figures of a sweep table (rate and fidelity against distance with
the PLOB bound, secret-key rate, fidelity against memory coherence time) and the drawing of a
scenario's network are produced, non-empty, with units on the axes, one line per group of the
other swept fields, error bars from the table's standard errors, and the PLOB curve equal to
the table's ``plob_rate``."""

from __future__ import annotations

from pathlib import Path

import pytest

from qstack.cli import main
from qstack.plot import PlotError, plot_network, plot_table, standard_panels
from qstack.scenario import linear_chain
from qstack.sweep import InlineClient, read_table, run_sweep

ROOT = Path(__file__).resolve().parents[2]
TINY = linear_chain(3, "10 km", duration="4 ms", memory_positions=2)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """A distance × scheme sweep (CSV) and a coherence-time sweep (Parquet), run in-process."""
    folder = tmp_path_factory.mktemp("tables")
    distance = run_sweep(TINY, ["links.length=2km:30km:3", "links.scheme=double_click,single_click"], runs=3,
                         seed=2, client=InlineClient())
    coherence = run_sweep(TINY, ["hardware.default.t2=0.5ms,2ms,20ms"], runs=3, seed=2, client=InlineClient())
    return distance.write(folder / "distance.csv"), coherence.write(folder / "t2.parquet")


def test_rate_and_fidelity_against_distance_with_plob(tables, tmp_path):
    """Two panels; each scheme one error-bar line (3 points, error bars = the standard errors),
    the rate panel also the dashed PLOB line through ``plob_rate`` at the end-to-end distance."""
    out = tmp_path / "fig.png"
    fig = plot_table(tables[0], out)
    assert out.stat().st_size > 20_000
    rate, fidelity = fig.axes
    assert rate.get_title() == "rate against distance" and fidelity.get_title() == "fidelity against distance"
    assert rate.get_xlabel() == "distance (km)" and rate.get_ylabel() == "rate (pairs/s)"
    assert rate.get_yscale() == "log" and fidelity.get_ylabel() == "fidelity"
    assert len(rate.containers) == len(fidelity.containers) == 2  # one errorbar per scheme
    labels = [t.get_text() for t in rate.get_legend().get_texts()]
    assert labels == ["PLOB bound (repeaterless, same clock)", "links.scheme = double_click",
                      "links.scheme = single_click"]
    table = read_table(tables[0])
    plob = next(line for line in rate.lines if line.get_linestyle() == "--")
    distances = sorted(set(table["distance"]))
    assert list(plob.get_xdata()) == [d / 1e3 for d in distances]  # 2 links of 2..30 km: 4..60 km
    assert list(plob.get_ydata()) == [table["plob_rate"][table["distance"].index(d)] for d in distances]
    bars = rate.containers[0]
    _, caps, (segments,) = bars
    lows = sorted(seg[0][1] for seg in segments.get_segments())
    rows = [i for i, s in enumerate(table["links.scheme"]) if s == "double_click"]
    want = sorted(table["rate_mean"][i] - table["rate_stderr"][i] for i in rows)
    assert lows == pytest.approx(want, rel=1e-12)


def test_fidelity_against_memory_coherence_time(tables, tmp_path):
    fig = plot_table(tables[1], tmp_path / "t2.svg")
    (ax,) = fig.axes
    assert ax.get_title() == "fidelity against memory coherence time"
    assert ax.get_xlabel() == "hardware.default.t2 (ms)" and ax.get_xscale() == "log"
    (line,) = [c for c in ax.containers]
    assert list(line.lines[0].get_xdata()) == pytest.approx([0.5, 2.0, 20.0])
    assert (tmp_path / "t2.svg").read_text().startswith("<?xml")


def test_secret_key_rate_panel_for_key_rate_figures():
    """A table with a ``<role>.key_rate`` figure gets the secret-key-rate panel, in bit/s, with PLOB."""
    cols = {"point": [0, 1], "links.length": [1e3, 5e3], "runs": [2, 2], "distance": [1e3, 5e3],
            "plob_rate": [10.0, 5.0], "alice.key_rate_mean": [3.0, 1.0], "alice.key_rate_stderr": [0.1, 0.2],
            "alice.key_rate_n": [2, 2]}
    assert [p.title for p in standard_panels(cols)] == ["secret-key rate against distance"]
    fig = plot_table(cols)
    (ax,) = fig.axes
    assert ax.get_ylabel() == "alice.key_rate (bit/s)" and len(ax.lines) >= 2


def test_x_and_y_draw_one_panel_of_any_columns(tables):
    fig = plot_table(tables[0], x="links.length", y="link_attempts")
    (ax,) = fig.axes
    assert ax.get_xlabel() == "links.length (km)" and len(ax.containers) == 2


def test_bad_requests_are_refused_naming_the_column(tables, tmp_path):
    with pytest.raises(PlotError, match="no column 'ratex' in the table; figures: .*rate"):
        plot_table(tables[0], x="distance", y="ratex")
    with pytest.raises(PlotError, match="--x and --y go together"):
        plot_table(tables[0], x="distance")
    with pytest.raises(PlotError, match="must end in .png, .svg or .pdf"):
        plot_table(tables[0], tmp_path / "fig.jpg")
    with pytest.raises(PlotError, match="no standard figure fits this table"):
        plot_table({"point": [0], "x": [1.0], "runs": [1], "events_mean": [3.0]})


def test_network_drawing_has_nodes_lengths_and_stage(tmp_path):
    out = tmp_path / "net.png"
    fig = plot_network(ROOT / "examples" / "chain_3_nodes.toml", out)
    assert out.stat().st_size > 10_000
    (ax,) = fig.axes
    title = ax.get_title()
    assert "3 nodes, 2 links" in title and "stage 3 (quantum memory)" in title
    texts = sorted(t.get_text() for t in ax.texts)
    assert [t for t in texts if t.endswith(" km")] == ["10 km", "10 km"]
    assert [t for t in texts if not t.endswith(" km")] == ["n0", "n1", "n2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["end node", "repeater node"]


def test_chain_is_drawn_on_a_line_spaced_by_its_link_lengths():
    """A chain (two ends, every other node of degree 2) is drawn in order on one line, each node
    placed at the distance along the chain (links of 10, 30 and 20 km: x = 0, 10, 40, 60 km)."""
    import numpy as np
    from matplotlib.collections import PathCollection

    data = linear_chain(4, link_length=10e3)
    for link, length in zip(data["links"], ("10 km", "30 km", "20 km"), strict=True):
        link["length"] = length
    fig = plot_network(data)
    offsets = np.concatenate([c.get_offsets() for c in fig.axes[0].collections if isinstance(c, PathCollection)])
    points = sorted(map(tuple, offsets))
    assert [x for x, _ in points] == pytest.approx([0.0, 10e3, 40e3, 60e3], abs=1e-9)
    assert all(y == 0.0 for _, y in points)


def test_cli_plot_writes_the_figure_and_the_network(tables, tmp_path, capsys):
    out = tmp_path / "cli.png"
    assert main(["plot", str(tables[0]), "-o", str(out)]) == 0
    assert out.stat().st_size > 20_000 and str(out) in capsys.readouterr().err
    net = tmp_path / "net.svg"
    assert main(["plot", "--network", str(ROOT / "examples" / "two_node_link.toml"), "-o", str(net)]) == 0
    assert net.stat().st_size > 5_000
    assert main(["plot", str(tables[0]), "--x", "distance", "--y", "nope", "-o", str(out)]) == 2
    assert "no column 'nope'" in capsys.readouterr().err
    assert main(["plot"]) == 2
