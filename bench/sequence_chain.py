"""SeQUeNCe side of the qstack-vs-SeQUeNCe repeater-chain benchmark.

Runs INSIDE the SeQUeNCe virtual environment (never in qstack's: SeQUeNCe is not a qstack dependency)::

    bench/.venv-sequence/bin/python bench/sequence_chain.py --routers 5 --seed 1 --sim-time 0.2

and prints ONE JSON line (see ``bench/README.md`` for every field). The chain is the SeQUeNCe "starlight"
setup made linear: N quantum routers, 10 km links with a BSM node in the middle (5 km of fibre each side,
0.2 dB/km), classical delay 5 us/km, Barrett-Kok generation (SeQUeNCe's default EntanglementGenerationA),
memories at 2 kHz / efficiency 0.75 / raw fidelity 0.9349 / coherence time 1.3 s (a cut-off only),
detectors of efficiency 0.8 without dark counts, 10 memories per link end, ONE RequestApp request from the
first to the last router, no purification (target fidelity below every bookkeeping fidelity).

Delivered pairs are taken when BOTH end memories report ENTANGLED with each other for the reservation; the
fidelity is computed from the quantum state held by the quantum manager (ket vector or density matrix),
reduced to the two end qubits, against Phi+ (the state SeQUeNCe's Barrett-Kok corrections and its swap
corrections target), not from SeQUeNCe's bookkeeping ``Memory.fidelity``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
from sequence.app.request_app import RequestApp
from sequence.constants import DENSITY_MATRIX_FORMALISM, KET_STATE_FORMALISM, MICROSECOND, SECOND, SPEED_OF_LIGHT
from sequence.topology.router_net_topo import RouterNetTopo

# --- the scenario (SeQUeNCe units: ps, m, dB/m, Hz, s for coherence time) ---
LINK_LENGTH_M = 10_000.0  # router-to-router; the BSM node sits in the middle (5 km each side)
ATTENUATION_DB_PER_M = 0.2e-3  # 0.2 dB/km
CC_DELAY_PS_PER_M = 1 / SPEED_OF_LIGHT  # 5 ps/m = 5 us/km (SPEED_OF_LIGHT = 2e-4 m/ps)
MEMO_FREQUENCY_HZ = 2e3
MEMO_EFFICIENCY = 0.75
MEMO_RAW_FIDELITY = 0.9349367588934053  # starlight example value
MEMO_COHERENCE_S = 1.3  # SeQUeNCe: expiry (cut-off) timer only, no decoherence in ket/density-matrix formalism
MEMORIES_PER_LINK_END = 10
DETECTOR_EFFICIENCY = 0.8
DETECTOR_DARK_COUNT = 0.0
# Detector dead time and time-bin width chosen so that photons from different memory pairs never interact
# (qstack models independent parallel attempts): dead time 1 ns < 12.5 ns quantum-channel time bin
# (SeQUeNCe's default QuantumChannel frequency 80 MHz), and +-50 ps trigger windows never overlap.
DETECTOR_COUNT_RATE_HZ = 1e9
DETECTOR_RESOLUTION_PS = 100
QC_FREQUENCY_HZ = 8e7
TARGET_FIDELITY = 0.1  # below every bookkeeping fidelity up to 17 routers -> no purification, no app rejection

PHI_PLUS = np.array([1, 0, 0, 1], dtype=complex) / math.sqrt(2)
PHI_MINUS = np.array([1, 0, 0, -1], dtype=complex) / math.sqrt(2)
PSI_PLUS = np.array([0, 1, 1, 0], dtype=complex) / math.sqrt(2)
PSI_MINUS = np.array([0, 1, -1, 0], dtype=complex) / math.sqrt(2)
BELL = {"phi+": PHI_PLUS, "phi-": PHI_MINUS, "psi+": PSI_PLUS, "psi-": PSI_MINUS}
TARGET_BELL = "phi+"


def router_name(i: int) -> str:
    return f"router_{i:02d}"  # zero-padded: SeQUeNCe picks the BK 'primary' by comparing names


def build_config(n: int, seed: int, stop_time_ps: int, formalism: str, detector_count_rate: float,
                 detector_resolution: int) -> dict:
    """The RouterNetTopo JSON config of an n-router linear chain."""
    nodes = []
    for i in range(n):
        end = i in (0, n - 1)
        nodes.append({"name": router_name(i), "type": RouterNetTopo.QUANTUM_ROUTER, "seed": seed * 1000 + i,
                      # RSVP reserves memory_size memories at the ends and 2 * memory_size at repeaters
                      "memo_size": MEMORIES_PER_LINK_END * (1 if end else 2), "template": "router"})
    qconnections = [{"node1": router_name(i), "node2": router_name(i + 1), "attenuation": ATTENUATION_DB_PER_M,
                     "distance": LINK_LENGTH_M, "type": RouterNetTopo.MEET_IN_THE_MID,
                     "seed": seed * 1000 + 500 + i, "template": "bsm"} for i in range(n - 1)]
    # classical channels between every ordered pair of routers (swap results and resource-manager requests go
    # end-to-end directly); the router<->BSM channels (half the link delay) are derived by RouterNetTopo.
    cchannels = []
    for i in range(n):
        for j in range(n):
            if i != j:
                cchannels.append({"source": router_name(i), "destination": router_name(j),
                                  "delay": round(abs(i - j) * LINK_LENGTH_M * CC_DELAY_PS_PER_M)})
    detector = {"efficiency": DETECTOR_EFFICIENCY, "dark_count": DETECTOR_DARK_COUNT,
                "count_rate": detector_count_rate, "time_resolution": detector_resolution}
    templates = {
        "router": {"MemoryArray": {"fidelity": MEMO_RAW_FIDELITY, "frequency": MEMO_FREQUENCY_HZ,
                                   "efficiency": MEMO_EFFICIENCY, "coherence_time": MEMO_COHERENCE_S}},
        "bsm": {"SingleAtomBSM": {"detectors": [dict(detector), dict(detector)]}},
    }
    return {"nodes": nodes, "qconnections": qconnections, "cchannels": cchannels, "templates": templates,
            "stop_time": stop_time_ps, "formalism": formalism, "is_parallel": False}


def pair_density_matrix(qm, key_a: int, key_b: int) -> np.ndarray:
    """Reduced two-qubit density matrix of (key_a, key_b), in that qubit order, from the quantum manager."""
    sa, sb = qm.get(key_a), qm.get(key_b)
    if key_b in sa.keys:
        keys = list(sa.keys)
        st = np.asarray(sa.state, dtype=complex)
        rho = np.outer(st, st.conj()) if st.ndim == 1 else st
    else:  # not in one joint state: product of the two marginals
        rhos = []
        for k, s in ((key_a, sa), (key_b, sb)):
            st = np.asarray(s.state, dtype=complex)
            r = np.outer(st, st.conj()) if st.ndim == 1 else st
            rhos.append(_reduce(r, list(s.keys), [k]))
        return np.kron(rhos[0], rhos[1])
    return _reduce(rho, keys, [key_a, key_b])


def _reduce(rho: np.ndarray, keys: list[int], keep: list[int]) -> np.ndarray:
    """Partial trace of rho (qubits ordered as keys, first = most significant) onto keep (in keep's order)."""
    n = len(keys)
    t = rho.reshape([2] * (2 * n))
    order = [keys.index(k) for k in keep]
    traced = [i for i in range(n) if i not in order]
    perm = order + traced + [n + i for i in order] + [n + i for i in traced]
    t = t.transpose(perm)
    dk, dt = 2 ** len(order), 2 ** len(traced)
    t = t.reshape(dk, dt, dk, dt)
    return np.einsum("ajbj->ab", t)


class PairCounter:
    """Collects delivered end-to-end pairs: both ends ENTANGLED with each other for the reservation."""

    def __init__(self, timeline, initiator: str, responder: str):
        self.tl = timeline
        self.initiator, self.responder = initiator, responder
        self.pending: dict[tuple[str, str], tuple] = {}  # (initiator memo, responder memo) -> (node, memory)
        self.fid_state: list[float] = []
        self.fid_book: list[float] = []
        self.bell_weights = np.zeros(4)
        self.times: list[int] = []

    def report(self, node, info) -> None:
        memory = info.memory
        if node.name == self.initiator:
            key = (memory.name, info.remote_memo)
        else:
            key = (info.remote_memo, memory.name)
        other = self.pending.pop(key, None)
        if other is None:
            self.pending[key] = (node, memory, info.fidelity)
            return
        o_node, o_memory, o_fid = other
        mem_ini, mem_res = (memory, o_memory) if node.name == self.initiator else (o_memory, memory)
        rho = pair_density_matrix(self.tl.quantum_manager, mem_ini.qstate_key, mem_res.qstate_key)
        weights = np.array([np.real(v.conj() @ rho @ v) for v in BELL.values()])
        self.bell_weights += weights
        self.fid_state.append(float(weights[list(BELL).index(TARGET_BELL)]))
        self.fid_book.append(float(info.fidelity))
        self.times.append(self.tl.now())
        # release both memories as RequestApp does (RAW -> the generation rule fires again)
        node.resource_manager.update(None, memory, "RAW")
        o_node.resource_manager.update(None, o_memory, "RAW")


class BenchRequestApp(RequestApp):
    """RequestApp that hands delivered end-to-end pairs to a PairCounter instead of releasing at once."""

    counter: PairCounter

    def get_memory(self, info) -> None:
        if info.state != "ENTANGLED" or info.index not in self.memo_to_reservation:
            return
        reservation = self.memo_to_reservation[info.index]
        other = reservation.responder if self.node.name == reservation.initiator else reservation.initiator
        if info.remote_node == other and info.fidelity >= reservation.fidelity:
            if self.node.name == reservation.initiator:
                self.memory_counter += 1
            self.counter.report(self.node, info)


def run(n: int, seed: int, sim_time: float, formalism: str, detector_count_rate: float = DETECTOR_COUNT_RATE_HZ,
        detector_resolution: int = DETECTOR_RESOLUTION_PS, qc_frequency: float = QC_FREQUENCY_HZ) -> dict:
    assert n >= 2
    t_build = time.perf_counter()
    # the RSVP request travels to the responder and its approval back before rules may load: start after that
    hop_ps = round(LINK_LENGTH_M * CC_DELAY_PS_PER_M)
    start_ps = 2 * (n - 1) * hop_ps + 10 * MICROSECOND
    end_ps = start_ps + round(sim_time * SECOND)
    config = build_config(n, seed, end_ps, formalism, detector_count_rate, detector_resolution)
    fd, path = tempfile.mkstemp(suffix=".json", prefix="sequence_chain_")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(config, fh)
        topo = RouterNetTopo(path)
    finally:
        os.unlink(path)
    tl = topo.get_timeline()
    tl.show_progress = False
    for qc in topo.get_qchannels():
        qc.frequency = qc_frequency
    routers = {r.name: r for r in topo.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    ini, res = routers[router_name(0)], routers[router_name(n - 1)]
    counter = PairCounter(tl, ini.name, res.name)
    apps = []
    for node in (ini, res):
        app = BenchRequestApp(node)
        app.counter = counter
        apps.append(app)
    tl.init()
    apps[0].start(res.name, start_ps, end_ps, MEMORIES_PER_LINK_END, TARGET_FIDELITY)
    build_seconds = time.perf_counter() - t_build

    t_run, c_run = time.perf_counter(), time.process_time()
    tl.run()
    wall, cpu = time.perf_counter() - t_run, time.process_time() - c_run

    pairs = len(counter.fid_state)
    bell = {k: float(v / pairs) for k, v in zip(BELL, counter.bell_weights, strict=True)} if pairs else None
    fs = np.array(counter.fid_state)
    fb = np.array(counter.fid_book)
    return {
        "tool": "sequence",
        "routers": n,
        "seed": seed,
        "sim_time": sim_time,
        "formalism": formalism,
        "pairs": pairs,
        "pairs_per_sim_second": pairs / sim_time,
        "fidelity_mean": float(fs.mean()) if pairs else None,
        "fidelity_bookkeeping_mean": float(fb.mean()) if pairs else None,
        "fidelity_stderr": float(fs.std(ddof=1) / math.sqrt(pairs)) if pairs > 1 else None,
        "bell_weights_mean": bell,
        "reservation_accepted": bool(apps[0].reservation_result),
        "reservation_start_s": start_ps / SECOND,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "build_seconds": build_seconds,
        "pairs_per_wall_second": pairs / wall if wall > 0 else None,
        "events": tl.run_counter if hasattr(tl, "run_counter") else None,
        "sequence_version": _sequence_version(),
    }


def _sequence_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("sequence")
    except Exception:  # noqa: BLE001 - informational only
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--routers", type=int, required=True, help="number of quantum routers N (>= 2)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sim-time", type=float, default=0.2, help="simulated seconds of the request window")
    p.add_argument("--formalism", choices=["ket", "density_matrix"], default="ket")
    p.add_argument("--detector-count-rate", type=float, default=DETECTOR_COUNT_RATE_HZ,
                   help="detector max count rate, Hz (dead time = 1/rate); starlight used 5e7")
    p.add_argument("--detector-resolution", type=int, default=DETECTOR_RESOLUTION_PS, help="ps; starlight used 100")
    p.add_argument("--qc-frequency", type=float, default=QC_FREQUENCY_HZ,
                   help="quantum-channel time-bin frequency, Hz; starlight used 1e11")
    a = p.parse_args(argv)
    formalism = KET_STATE_FORMALISM if a.formalism == "ket" else DENSITY_MATRIX_FORMALISM
    out = run(a.routers, a.seed, a.sim_time, formalism, a.detector_count_rate, a.detector_resolution, a.qc_frequency)
    out["formalism"] = a.formalism
    print(json.dumps(out))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
