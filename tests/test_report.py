"""``qstack report FILE``: one self-contained HTML page (network drawing, stage and what the next
stage lacks, key figures, plots) that opens offline and renders in a browser.

The page's numbers are the run's: the rate and fidelity of the default chain equal
``run_scenario``'s at the same seed, the QKD page's secret-key rate is its key length over the
transmission time, and it lies below the repeaterless PLOB bound of the route at the same clock
(Pirandola et al., Nat. Commun. 8, 15043 (2017): no protocol without a repeater does better).
The browser check loads the page in headless Chromium (``/usr/bin/chromium``; Debian:
``apt-get install -y chromium``) and is skipped, saying so, where it is not installed.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from qstack.cli import main
from qstack.report import ReportError, build_report, write_report
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import network_stage
from qstack.sweep import InlineClient, end_to_end, run_sweep

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "qstack" / "data" / "default_chain.toml"
QKD = ROOT / "stages" / "stage1" / "bbm92_link.toml"
TWO_NODE = ROOT / "examples" / "two_node_link.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian: "
                                    "apt-get install -y chromium): the in-browser rendering check is skipped")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The default chain's and the BBM92 link's reports, written once."""
    folder = tmp_path_factory.mktemp("reports")
    return {name: write_report(path, folder / f"{name}.html") for name, path in
            (("default", DEFAULT), ("qkd", QKD))}, folder


def _cell(page: str, label: str) -> str:
    """The value cell of the table row labelled ``label``."""
    match = re.search(rf"<tr><td>{re.escape(html.escape(label))}</td><td>([^<]*)</td></tr>", page)
    assert match, f"no row {label!r}"
    return html.unescape(match.group(1))


def _role_cell(page: str, role: str, label: str) -> str:
    match = re.search(rf"<tr><td>{re.escape(role)}</td><td>{re.escape(label)}</td><td>([^<]*)</td></tr>", page)
    assert match, f"no row {role!r} {label!r}"
    return html.unescape(match.group(1))


@pytest.mark.parametrize("name", ["default", "qkd"])
def test_the_page_loads_nothing_from_outside(pages, name):
    """No http(s) address anywhere (src, href, url(), namespaces, metadata), no script or
    linked style sheet: every src/href points inside the page."""
    page = pages[0][name].html
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert re.search(r"https?:", page, flags=re.I) is None
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", page, flags=re.I)
    assert not re.search(r"@import", page)
    refs = re.findall(r"\b(?:src|href)\s*=\s*[\"']([^\"']*)", page, flags=re.I)
    assert refs and all(r.startswith(("#", "data:")) for r in refs), refs[:5]
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids repeat across the inline figures"


def test_default_chain_page_has_the_drawing_the_stage_and_the_runs_figures(pages):
    """Network drawing (inline SVG with node names and link lengths as text), stage 3 and the
    two lines of what stage 4 lacks (network_stage's own), the rate and fidelity of the same
    seed's run, and the waiting-time plot."""
    from qstack.network.runner import run_scenario

    report = pages[0]["default"]
    page = report.html
    for section in ("network", "stage", "figures", "plots"):
        assert f'<section id="{section}">' in page
    assert int(report.stage) == 3 and report.refused is None
    drawing = page[page.index('<figure id="plot-network">'):page.index("</figure>")]
    assert drawing.count(">10 km<") == 4 and all(f">n{i}<" in drawing for i in range(5))
    assert "stage 3 (quantum memory)" in drawing
    assert '<strong id="stage-number">3</strong>' in page and "What stage 4 (few-qubit fault-tolerant) lacks" in page
    stage = network_stage(load_scenario(DEFAULT))
    assert len(stage.missing) == 2 and all(f"<li>{html.escape(m)}</li>" in page for m in stage.missing)
    run = run_scenario(load_scenario(DEFAULT))
    assert _cell(page, "rate") == f"{run['rate']:.6g} pairs/s"
    assert _cell(page, "delivered pairs") == str(run["delivered_pairs"])
    assert _cell(page, "fidelity (mean ± standard error)") == (
        f"{run['fidelity_mean']:.6g} ± {run['fidelity_stderr']:.2g}")
    geometry = end_to_end(load_scenario(DEFAULT))
    assert _cell(page, "end-to-end fibre distance") == "40 km"
    assert _cell(page, "rate / PLOB bound") == f"{run['rate'] / geometry['plob_rate']:.4g}"
    assert '<figure id="plot-waiting-times">' in page
    assert "waiting time between deliveries (ms)" in page  # the axis label, as SVG text


def test_qkd_page_key_rate_is_key_over_time_and_below_plob(pages):
    """BBM92 over 20 km: secret-key rate = key length / transmission time for both roles
    (equal keys), below the PLOB bound of 20 km at 100 MHz; QBER shown; stage 1 and what
    stage 2 lacks (heralded entanglement); no pairs delivered, so no waiting-time plot."""
    report = pages[0]["qkd"]
    page = report.html
    assert int(report.stage) == 1 and "What stage 2 (entanglement distribution) lacks" in page
    rates = {role: float(_role_cell(page, f"{role} ({role})", "secret-key rate").split()[0])
             for role in ("alice", "bob")}
    bits = int(_role_cell(page, "alice (alice)", "secret key").split()[0])
    duration = float(_role_cell(page, "alice", "duration"))
    assert bits > 1000 and rates["alice"] == rates["bob"]
    assert rates["alice"] == pytest.approx(bits / duration, rel=1e-5)  # shown to 6 digits
    plob = end_to_end(load_scenario(QKD))["plob_rate"]
    assert _cell(page, "PLOB bound at the same clock (repeaterless)").startswith(f"{plob:.4g} bit/s")
    assert rates["alice"] < plob
    qber = float(_role_cell(page, "alice (alice)", "QBER"))
    assert 0.0 < qber < 0.11
    assert "no waiting-time distribution: no waiting time to draw" in page


def test_same_seed_same_page_byte_for_byte_and_the_seed_matters():
    first = build_report(TWO_NODE).html
    assert build_report(TWO_NODE).html == first
    assert build_report(TWO_NODE, seed=7).html != first
    assert "seed 7" in build_report(TWO_NODE, seed=7).html


def test_a_sweep_table_adds_its_standard_figures(tmp_path):
    """``--table``: the coherence-time sweep's panel (fidelity against memory coherence time,
    T2 in ms on a log axis) appears as its own inline figure."""
    tiny = linear_chain(3, "10 km", duration="4 ms", memory_positions=2)
    table = run_sweep(tiny, ["hardware.default.t2=0.5ms,2ms,20ms"], runs=2, seed=2, client=InlineClient())
    path = table.write(tmp_path / "t2.csv")
    page = build_report(TWO_NODE, table=path).html
    figure = page[page.index('<figure id="plot-table">'):]
    assert "fidelity against memory coherence time" in figure and "hardware.default.t2 (ms)" in figure


def test_cli_report_writes_the_page_and_refuses_bad_input(tmp_path, capsys):
    """Exit 0 and the page; bad input exit 2 with the file named once and nothing written; an
    application the network's stage cannot run: the page says why, exit 3 (as qstack run)."""
    out = tmp_path / "r.html"
    assert main(["report", str(TWO_NODE), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"wrote {out} (stage 3, quantum memory)" in capsys.readouterr().err

    missing = tmp_path / "missing.toml"
    assert main(["report", str(missing), "-o", str(tmp_path / "m.html")]) == 2
    assert capsys.readouterr().err == f"qstack report: {missing}: No such file or directory\n"
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulation]\nseed = -1\n", encoding="utf-8")
    assert main(["report", str(bad), "-o", str(tmp_path / "b.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qstack report: {bad}: ") and err.count(str(bad)) == 1 and "simulation.seed" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("seed = \n", encoding="utf-8")
    assert main(["report", str(broken), "-o", str(tmp_path / "c.html")]) == 2
    assert capsys.readouterr().err.startswith(f"qstack report: {broken}: ")
    assert not any(tmp_path.glob("[mbc].html"))

    assert main(["report", str(TWO_NODE), "-o", str(tmp_path / "r.png")]) == 2
    assert "must end in .html" in capsys.readouterr().err
    assert main(["report", str(TWO_NODE), "-o", str(tmp_path / "no" / "r.html")]) == 2
    assert "no such directory" in capsys.readouterr().err
    assert main(["report", str(TWO_NODE), "-o", str(out), "--table", str(tmp_path / "none.csv")]) == 2
    assert "--table" in capsys.readouterr().err

    text = (ROOT / "stages" / "stage3" / "teleport_chain.toml").read_text(encoding="utf-8")
    assert "t2" not in tomllib.loads(text)["hardware"]["default"]
    low = tmp_path / "low.toml"  # memories too short for the teleportation's stage 3
    low.write_text(text.replace("[hardware.default]\n", '[hardware.default]\nt2 = "1 ns"\n', 1), encoding="utf-8")
    refused = tmp_path / "low.html"
    assert main(["report", str(low), "-o", str(refused)]) == 3
    assert "needs stage 3" in capsys.readouterr().err
    assert 'id="refused"' in refused.read_text(encoding="utf-8")
    with pytest.raises(ReportError, match="must end in .html"):
        write_report(TWO_NODE, tmp_path / "x.txt")


def _chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--no-first-run", "--disable-extensions", *args], capture_output=True, text=True,
                          timeout=timeout)


@needs_chromium
def test_chromium_renders_the_page(pages, tmp_path):
    """Headless Chromium, offline file:// URL: the DOM it builds has the sections, four inline
    SVG figures' worth of drawing (network and waiting times), the node names as SVG text; the
    screenshot is not blank and shows the drawing's colours (tab:blue nodes and bars)."""
    import numpy as np
    from matplotlib.image import imread

    path = (pages[1] / "default.html").resolve()
    dom = _chromium("--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    for section in ("network", "stage", "figures", "plots"):
        assert f'<section id="{section}">' in text
    assert text.count("<svg") == 2 and "</svg>" in text
    assert re.search(r"<text[^>]*>n0</text>", text) and "What stage 4" in text
    shot = tmp_path / "page.png"
    done = _chromium("--window-size=1200,2600", f"--screenshot={shot}", path.as_uri())
    assert done.returncode == 0 and shot.stat().st_size > 20_000, done.stderr[-2000:]
    pixels = imread(shot)[..., :3]
    ink = (pixels < 0.9).any(axis=-1).mean()
    assert 0.02 < ink < 0.9, ink  # neither blank nor a solid block
    blue = np.array([0x1F, 0x77, 0xB4]) / 255  # matplotlib's tab:blue: the end nodes (and the bars, lighter)
    assert (np.abs(pixels - blue).max(axis=-1) < 0.05).sum() > 500


def test_without_matplotlib_the_report_names_the_extra_and_runs_nothing(monkeypatch, capsys, tmp_path):
    import sys

    import qstack.network.runner as runner

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an absent package looks like to import
    monkeypatch.setattr(runner, "run_scenario", lambda *a, **k: pytest.fail("ran without the plot extra"))
    assert main(["report", str(TWO_NODE), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err == "qstack report: this needs the 'matplotlib' package: pip install 'qstack-qnet[plot]'\n"
    assert not (tmp_path / "r.html").exists()
