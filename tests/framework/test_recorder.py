"""Observation apart from protocol code: the recorder's hooks and the per-pair records.

Protocols only emit events (``runtime.record``); the recorder hands them to subscribers. The
per-pair rows are checked against what the run delivered and against the physics of storage:
a heralded Ψ± pair whose halves both dephase for a time t (T1 = ∞) has fidelity
F(t) = (1 + e^{−2t/T2})/2, and t is exactly the row's ``age``.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from qstack.link.service import LinkOK
from qstack.network import run_scenario
from qstack.network.protocol import SwapEvent
from qstack.network.service import NetDeliver
from qstack.recorder import RECORD_COLUMNS, AppEvent, Recorder, write_records
from qstack.scenario import linear_chain, load_scenario

ROOT = Path(__file__).resolve().parents[2]


def scenario(n: int, t2: float = 0.05, duration: float = 0.02):
    return load_scenario(linear_chain(n, "2 km", seed=2, duration=duration, t2=t2,
                                      link={"attenuation": 0.0, "classical_delay_per_km": 1e-4}))


def test_single_link_records_have_the_dephasing_fidelity_of_their_age():
    """N = 2, double click (heralded Ψ± of fidelity 1), T2 = 50 ms dephasing at both ends: every
    row's fidelity is (1 + e^{−2·age/T2})/2 to 1e-9, its one link wait is its age, and the rows
    are the run's deliveries one for one."""
    t2 = 0.05
    out = run_scenario(scenario(2, t2), record=True)
    rows = out["records"]
    assert len(rows) == out["delivered_pairs"] > 20
    for r in rows:
        assert r["fidelity"] == pytest.approx((1 + math.exp(-2 * r["age"] / t2)) / 2, abs=1e-9)
        assert r["links"] == 1 and float(r["link_waits"]) == pytest.approx(r["age"], rel=1e-9)
        assert r["bell_state"] in ("psi+", "psi-") and r["route"] == "n0-n1"
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert sum(r["fidelity"] for r in rows) / len(rows) == pytest.approx(out["fidelity_mean"], abs=1e-12)


def test_chain_records_list_each_links_wait_and_never_exceed_the_pairs_age():
    """N = 4: each row lists three link waits (emission → the swap or delivery that consumed the
    link pair); the age is the end nodes' storage time (from the older end link pair's emission),
    so the two end links' waits are at most the age, while the middle link's pair may have waited
    longer at the repeaters; the largest equals max_link_wait; the frame is one of the four Bell
    states."""
    out = run_scenario(scenario(4), record=True)
    rows = out["records"]
    assert len(rows) == out["delivered_pairs"] > 5
    for r in rows:
        waits = [float(w) for w in r["link_waits"].split(";")]
        assert len(waits) == 3 and min(waits) >= 0 and max(waits[0], waits[-1]) <= r["age"] + 1e-12
        assert max(waits) == pytest.approx(r["max_link_wait"], rel=1e-9)
        assert r["bell_state"] in ("phi+", "phi-", "psi+", "psi-") and r["links"] == 3


def test_subscribers_see_every_heralded_pair_swap_and_delivery_in_time_order():
    """A recorder passed to run_scenario: on a 3-node chain every delivery needed one swap at
    n1, every swap consumed two link pairs each seen at both its ends (two LinkOKs per pair);
    events arrive in non-decreasing time; a catch-all subscriber sees every event."""
    rec = Recorder()
    times, every, oks = [], [], []
    rec.subscribe(SwapEvent, lambda e: times.append(e.time))
    rec.subscribe(LinkOK, oks.append)
    rec.subscribe(None, every.append)
    out = run_scenario(scenario(3), recorder=rec)
    swaps = len(times)
    delivered = [e for e in every if isinstance(e, NetDeliver) and e.end == "tail"]
    assert len(delivered) == out["delivered_pairs"] and swaps >= len(delivered)
    assert len(oks) >= 2 * 2 * swaps  # two link pairs per swap, one OK at each end
    assert times == sorted(times) and sum(isinstance(e, SwapEvent) for e in every) == swaps
    assert oks == [e for e in every if isinstance(e, LinkOK)]  # typed and catch-all subscribers agree
    with pytest.raises(TypeError, match="callable"):
        rec.subscribe(AppEvent, "not a function")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_records_written_and_read_back_are_the_same_rows(tmp_path, suffix):
    """write_records: CSV (text) or Parquet (typed, via pyarrow) hold the same rows."""
    rows = run_scenario(scenario(3), record=True)["records"]
    path = write_records(rows, tmp_path / f"r{suffix}")
    if suffix == ".csv":
        with path.open() as fh:
            back = list(csv.DictReader(fh))
        assert list(back[0]) == list(RECORD_COLUMNS)
        assert [float(b["fidelity"]) for b in back] == [r["fidelity"] for r in rows]
    else:
        pq = pytest.importorskip("pyarrow.parquet")
        back = pq.read_table(path).to_pylist()
        assert back == [{c: r[c] for c in RECORD_COLUMNS} for r in rows]


def test_cli_run_records_writes_one_row_per_delivered_pair(tmp_path):
    """``qstack run FILE --records OUT.csv`` writes the per-pair rows; a file name that is neither
    .csv nor .parquet is refused before anything runs (exit 2, nothing written)."""
    out_csv = tmp_path / "pairs.csv"
    cmd = [sys.executable, "-m", "qstack.cli", "run", str(ROOT / "examples" / "chain_3_nodes.toml"), "--json",
           "--records", str(out_csv)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=tmp_path)
    summary = json.loads(done.stdout)
    with out_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["delivered_pairs"] > 0 and "per-pair records" in done.stderr
    bad = subprocess.run([*cmd[:-1], str(tmp_path / "pairs.txt")], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and ".csv or .parquet" in bad.stderr and not (tmp_path / "pairs.txt").exists()
