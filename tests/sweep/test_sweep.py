"""Sweeps on Dask (``qstack.sweep``, ``qstack sweep``): the contract is that the table depends on
the scenario, the grid, the number of runs and the sweep seed only — not on the number of
workers, the order in which runs finish, or a worker dying mid-sweep — that every run can be
reproduced alone from its row, that means and standard errors are those of the runs, and that a
bad ``--param`` is refused before anything runs, naming the field and the allowed form."""

from __future__ import annotations

import logging
import math
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from qstack.cli import main
from qstack.physical.fibre import Fibre
from qstack.qkd.entropy import plob_bound
from qstack.scenario import linear_chain, load_scenario
from qstack.sweep import (
    PARAM_FORM,
    InlineClient,
    SweepError,
    execute_run,
    parse_param,
    plan_sweep,
    read_table,
    run_seed,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[2]
#: a tiny scenario: two nodes, 3 ms simulated (~20 ms of wall time per run)
TINY = linear_chain(2, "10 km", duration="3 ms", memory_positions=2)
PARAMS = ["links.length=1km:40km:3", "hardware.default.t2=5ms,1s"]
RUNS = 4
SEED = 11


def _cluster(n: int, processes: bool, **kw) -> LocalCluster:
    return LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, dashboard_address=":0",
                        silence_logs=logging.ERROR, **kw)


@pytest.fixture(scope="module")
def reference():
    """The table run in this process, one run after another, without Dask."""
    return run_sweep(TINY, PARAMS, RUNS, SEED, client=InlineClient())


def _bytes(table, tmp_path: Path, name: str) -> tuple[bytes, bytes]:
    return (table.write(tmp_path / f"{name}.csv").read_bytes(), table.write_runs(tmp_path / f"{name}-runs.csv")
            .read_bytes())


def test_the_table_is_bit_identical_for_1_2_and_4_workers(reference, tmp_path):
    """Runs are seeded from (sweep seed, grid point, repetition) and put back in grid order, so
    the written tables are byte for byte the same however many workers ran them (threads here,
    processes in the next test), however many runs share a task, and whatever order they
    finished in."""
    want = _bytes(reference, tmp_path, "ref")
    for n in (1, 2, 4):
        with _cluster(n, processes=False) as cluster, Client(cluster) as client:
            got = run_sweep(TINY, PARAMS, RUNS, SEED, client=client)
            assert _bytes(got, tmp_path, f"w{n}") == want, f"{n} workers"
            if n == 2:  # three runs per task instead of one: the same table
                batched = run_sweep(TINY, PARAMS, RUNS, SEED, client=client, batch=3)
                assert _bytes(batched, tmp_path, "batched") == want
    assert reference.write(tmp_path / "a.parquet").read_bytes() == reference.write(tmp_path / "b.parquet").read_bytes()


@pytest.mark.slow  # a process cluster starts, loses a worker and restarts it: ~10 s
def test_worker_processes_give_the_same_table_and_a_killed_worker_loses_no_run(reference, tmp_path):
    """Two worker processes: the same bytes as in-process; then one worker is killed with
    SIGKILL after the first run comes back — the scheduler reruns its tasks on the other worker
    (and on the one the nanny restarts), and the table is still complete and identical."""
    want = _bytes(reference, tmp_path, "ref")
    with _cluster(2, processes=True) as cluster, Client(cluster) as client:
        assert _bytes(run_sweep(TINY, PARAMS, RUNS, SEED, client=client), tmp_path, "p2") == want
        pids = sorted(client.run(os.getpid).values())
        assert len(pids) == 2
        killed: list[int] = []

        def kill_one(done: int, total: int) -> None:
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        survived = run_sweep(TINY, PARAMS, RUNS, SEED, client=client, progress=kill_one)
        assert killed == [pids[0]]
        assert pids[0] not in client.run(os.getpid).values()  # that worker process really is gone
    assert len(survived.run_rows) == len(reference.run_rows) == 6 * RUNS
    assert _bytes(survived, tmp_path, "killed") == want


def test_every_run_is_reproduced_alone_from_its_seed(reference):
    """A run's seed is SeedSequence(entropy=sweep seed, spawn_key=(point, repetition)): the
    per-run row names it, all seeds differ, and running that point's scenario alone with that seed
    gives the row's figures exactly."""
    seeds = [r["seed"] for r in reference.run_rows]
    assert len(set(seeds)) == len(seeds)
    assert seeds == [run_seed(SEED, p, r) for p in range(6) for r in range(RUNS)]
    plan = plan_sweep(TINY, PARAMS, RUNS, SEED)
    row = reference.run_rows[9]  # point 2, repetition 1
    raw = next(raw for p, r, raw in plan.tasks() if (p, r) == (row["point"], row["repetition"]))
    assert raw["simulation"]["seed"] == row["seed"]
    alone = execute_run(raw)
    assert {k: alone[k] for k in reference.figures} == pytest.approx(
        {k: row[k] for k in reference.figures}, rel=0, abs=0, nan_ok=True)


def test_means_and_standard_errors_are_those_of_the_runs(reference):
    """``<figure>_mean`` is the mean of the runs that define the figure, ``_stderr`` their sample
    standard deviation over sqrt(n), ``_n`` their count."""
    for row in reference.rows:
        runs = [r for r in reference.run_rows if r["point"] == row["point"]]
        assert row["runs"] == RUNS == len(runs)
        for figure in ("rate", "delivered_pairs", "fidelity_mean", "link_attempts"):
            values = [r[figure] for r in runs if math.isfinite(r[figure])]
            assert row[f"{figure}_n"] == len(values)
            if not values:  # e.g. no pair delivered, so no fidelity
                assert math.isnan(row[f"{figure}_mean"]) and math.isnan(row[f"{figure}_stderr"])
                continue
            assert row[f"{figure}_mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
            if len(values) < 2:
                assert math.isnan(row[f"{figure}_stderr"])  # undefined for fewer than two runs
                continue
            assert row[f"{figure}_stderr"] == pytest.approx(statistics.stdev(values) / math.sqrt(len(values)),
                                                            rel=1e-9, abs=1e-15 * abs(row[f"{figure}_mean"]))
        assert math.isnan(row["qber_mean"]) and row["qber_n"] == 0  # a keep-type flow measures nothing


def test_grid_points_carry_the_loaded_values_and_the_end_to_end_channel(reference):
    """The grid is the Cartesian product (first axis slowest) with values in SI as the loader
    stores them; distance, transmissivity 10^(-0.2 dB/km · L / 10) and the PLOB rate
    ν · (−log2(1 − η)) at ν = positions × attempt rate are those of the route."""
    lengths = [r["links.length"] for r in reference.rows]
    assert lengths == [1000.0, 1000.0, 20500.0, 20500.0, 40000.0, 40000.0]
    assert [r["hardware.default.t2"] for r in reference.rows] == [0.005, 1.0] * 3
    for row in reference.rows:
        eta = 10 ** (-0.2 * row["links.length"] / 1e3 / 10)
        assert row["distance"] == row["links.length"]
        assert row["transmissivity"] == pytest.approx(eta, rel=1e-12)
        assert row["transmissivity"] == Fibre(row["links.length"], 0.2).transmissivity
        assert row["channel_use_rate"] == 2 * 2000.0
        assert row["plob_rate"] == pytest.approx(4000.0 * -math.log2(1 - eta), rel=1e-12)
        assert row["plob_rate"] == 4000.0 * plob_bound(eta)


def test_a_longer_link_delivers_fewer_pairs_per_attempt(reference):
    """The swept length really reaches the runs: the heralding success probability per attempt
    falls with the fibre loss, so the pooled pairs-per-attempt ratio at 40 km is below that at
    1 km by many standard errors (binomial), and the 1 km ratio is below the lossless η²/2."""
    def pooled(point: int) -> tuple[float, float]:
        runs = [r for r in reference.run_rows if r["point"] in (point, point + 1)]
        n = sum(r["link_attempts"] for r in runs)
        p = sum(r["link_pairs_generated"] for r in runs) / n
        return p, math.sqrt(p * (1 - p) / n)

    (near, se_near), (far, se_far) = pooled(0), pooled(4)
    assert near - far > 4 * math.hypot(se_near, se_far)
    assert near < (0.75 * 0.8) ** 2 / 2 + 4 * se_near


@pytest.mark.parametrize(("spec", "says"), [
    ("links.length", "no '=' between the field and its values"),
    ("links.length=10km:200km", "a grid needs START:STOP:COUNT, got 2 parts"),
    ("links.length=10km:200km:0", "COUNT must be an integer >= 1, got '0'"),
    ("links.length=10km:200km:2.5", "COUNT must be an integer >= 1, got '2.5'"),
    ("links.length=10km:200ms:3", "START and STOP must have the same unit, got 'km' and 'ms'"),
    ("links.length=ten:200:3", "START and STOP must be numbers with an optional unit like 10km, got 'ten'"),
    ("link.length=1:2:2", "field 'link.length' must start with one of the scenario's tables"),
    ("links=1:2:2", "field 'links' names a whole table"),
    ("links.length=1km,,2km", "an empty value in the comma list"),
    ("links[3].length=1km,2km", "links[3] is not in the scenario (links has 1 entries)"),
    ("hardware.fast.t2=1s,2s", "hardware.fast is not in the scenario (hardware has default)"),
])
def test_a_malformed_param_is_refused_with_the_allowed_form(spec, says):
    with pytest.raises(SweepError) as err:
        plan_sweep(TINY, [spec], runs=1)
    assert str(err.value).startswith(f"--param {spec}: ")
    assert says in str(err.value)
    assert str(err.value).endswith(f"write {PARAM_FORM}")


@pytest.mark.parametrize(("spec", "says"), [
    ("links.lenght=1km:2km:2", 'links[0].lenght: unknown key, did you mean "length"?'),
    ("links.length=-1km:2km:2", 'links[0].length: must be a length >= 0 m like "10 km", got "-1.0 km"'),
    ("hardware.default.t2=1s,fast", "hardware.default.t2: must be a time > 0 s"),
    ("requests[0].pairs=0:4:3", "requests[0].pairs: must be an integer"),
])
def test_a_value_the_loader_refuses_names_the_param_and_the_field(spec, says):
    """Every grid point is loaded before anything runs; the loader's own line (field path, value,
    what is allowed) is quoted after the parameter."""
    with pytest.raises(SweepError) as err:
        plan_sweep(TINY, [spec], runs=1)
    assert str(err.value).startswith(f"--param {spec}: value ")
    assert says in str(err.value)


def test_runs_seed_and_workers_are_checked():
    for kwargs, says in [({"runs": 0}, "runs must be an integer >= 1"), ({"runs": 2, "seed": -1}, "seed must be"),
                         ({"runs": 2, "workers": 0}, "workers must be an integer >= 1")]:
        with pytest.raises(SweepError, match=says):
            run_sweep(TINY, ["links.length=1km,2km"], **kwargs)
    with pytest.raises(SweepError, match="a field is swept twice"):
        plan_sweep(TINY, ["links.length=1km,2km", "links.length=3km,4km"], runs=1)


def test_grid_values_keep_units_integers_and_names():
    assert parse_param("links.length=10km:200km:20").values[:2] == ("10.0 km", "20.0 km")
    assert parse_param("links.length=10km:200km:20").values[-1] == "200.0 km"
    assert parse_param("requests[0].pairs=2:10:5").values == (2, 4, 6, 8, 10)
    assert parse_param("links.station_position=0:1:3").values == (0.0, 0.5, 1.0)
    assert parse_param("links.scheme=single_click,double_click").values == ("single_click", "double_click")
    assert parse_param("simulation.duration=5ms").values == ("5ms",)
    assert parse_param("hardware.*.t2=1,2").field == "hardware.*.t2"


def test_star_and_unindexed_arrays_reach_every_entry():
    """``links.length`` sets every link, ``links[1].length`` one, ``hardware.*.t2`` every profile."""
    chain = linear_chain(3, "10 km", duration="1 ms")
    every = plan_sweep(chain, ["links.length=7km"], runs=1).raw[0]
    assert [link["length"] for link in every["links"]] == ["7km", "7km"]
    one = plan_sweep(chain, ["links[1].length=7km"], runs=1).raw[0]
    assert [link["length"] for link in one["links"]] == ["10 km", "7km"]
    star = plan_sweep(chain, ["hardware.*.t2=2"], runs=1)
    assert load_scenario(star.raw[0]).hardware_of("n1").t2 == 2.0


def test_cli_sweep_on_a_users_scheduler_writes_parquet_and_the_runs_table(tmp_path, capsys, reference):
    """``--scheduler tcp://...`` runs on an existing cluster; the per-point table (Parquet) and the
    per-run table (CSV) hold what :func:`run_sweep` returns."""
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(_toml(TINY), encoding="utf-8")
    out, runs = tmp_path / "t.parquet", tmp_path / "runs.csv"
    with _cluster(2, processes=False, protocol="tcp") as cluster:
        args = ["sweep", str(scenario), "--runs", str(RUNS), "--seed", str(SEED), "--scheduler",
                cluster.scheduler_address, "-o", str(out), "--runs-table", str(runs)]
        for p in PARAMS:
            args += ["--param", p]
        assert main(args) == 0
    err = capsys.readouterr().err
    assert f"{6 * RUNS} runs (6 points × {RUNS}, seed {SEED})" in err and str(out) in err
    table = read_table(out)
    assert table["rate_mean"] == [r["rate_mean"] for r in reference.rows]
    assert read_table(runs)["seed"] == [r["seed"] for r in reference.run_rows]


def test_cli_refuses_a_bad_param_before_running(tmp_path, capsys):
    file = ROOT / "examples" / "two_node_link.toml"
    assert main(["sweep", str(file), "--param", "links.lenght=1km:2km:2", "--runs", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qstack sweep: {file}: --param links.lenght=1km:2km:2: value '1.0 km' is refused")
    assert 'did you mean "length"' in err
    assert main(["sweep", str(file), "--param", "links.length=1km", "-o", str(tmp_path / "t.json")]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err
    assert main(["sweep", str(file), "--param", "links.length=1km", "--runs", "0"]) == 2
    assert "runs must be an integer >= 1" in capsys.readouterr().err


def test_importing_the_cli_and_the_network_loads_neither_dask_nor_matplotlib():
    """Start-up speed: dask, distributed and matplotlib are imported inside the sweep and plot
    functions only."""
    code = ("import sys, qstack.cli, qstack.network, qstack.sweep, qstack.plot; "
            "print(sorted(m for m in ('dask', 'distributed', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def _toml(data: dict) -> str:
    """A scenario dict as TOML (tables, arrays of tables and scalar values only)."""
    import json

    def value(v):
        return json.dumps(v) if not isinstance(v, bool) else ("true" if v else "false")

    lines = []
    for key, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{key}]]")
                lines += [f"{k} = {value(v)}" for k, v in item.items()]
        elif key == "hardware":
            for name, profile in body.items():
                lines.append(f"[hardware.{name}]")
                lines += [f"{k} = {value(v)}" for k, v in profile.items()]
        else:
            lines.append(f"[{key}]")
            lines += [f"{k} = {value(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"
