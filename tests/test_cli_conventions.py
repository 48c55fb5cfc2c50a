"""The command line's conventions: ``--version``, ``python -m qstack``, ``--output FILE``, a
file named once in an error, no finished flow shown as "running", and ``qstack examples``."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

import qstack
from qstack.bundled import bundled_files
from qstack.cli import DISTRIBUTION, format_summary, main

ROOT = Path(__file__).resolve().parents[1]
CHAIN3 = ROOT / "examples" / "chain_3_nodes.toml"
TWO_NODE = ROOT / "examples" / "two_node_link.toml"
#: the keys of a run's JSON that measure wall-clock time (they differ between two runs)
WALL_KEYS = {"build_seconds", "wall_seconds", "pairs_per_wall_second"}


def _expected_version() -> str:
    try:
        return installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        return qstack.__version__


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"qstack {_expected_version()}\n"


def test_python_dash_m_qstack_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "qstack", "--version"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"qstack {_expected_version()}\n"
    usage = subprocess.run([sys.executable, "-m", "qstack"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: qstack ")


def test_output_writes_the_stages_text_to_the_file_instead_of_stdout(tmp_path, capsys):
    assert main(["stages", str(CHAIN3)]) == 0
    printed = capsys.readouterr().out
    out = tmp_path / "stage.txt"
    assert main(["stages", str(CHAIN3), "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert out.read_text(encoding="utf-8") == printed
    assert str(out) in captured.err


def test_output_writes_the_run_json_and_the_table(tmp_path, capsys):
    assert main(["run", str(TWO_NODE), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    out = tmp_path / "run.json"
    assert main(["run", str(TWO_NODE), "--json", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    written = json.loads(out.read_text(encoding="utf-8"))
    assert {k: v for k, v in written.items() if k not in WALL_KEYS} == {
        k: v for k, v in printed.items() if k not in WALL_KEYS}
    table = tmp_path / "run.txt"
    assert main(["run", str(TWO_NODE), "--output", str(table)]) == 0
    assert capsys.readouterr().out == ""
    assert table.read_text(encoding="utf-8").startswith("scenario two-node link (seed 1)")


def test_output_demo_json(tmp_path, capsys):
    out = tmp_path / "demo.json"
    assert main(["demo", "--json", "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text(encoding="utf-8"))["seed"] == 1


def test_output_into_a_missing_folder_is_refused_before_running(tmp_path, capsys):
    out = tmp_path / "missing" / "run.json"
    assert main(["run", str(TWO_NODE), "--json", "--output", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert captured.err.startswith(f"qstack run: --output {out}: no such directory")
    assert main(["stages", str(CHAIN3), "--output", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "stages"])
@pytest.mark.parametrize("content", ["[simulation]\nseed = -1\n", "seed = \n", None],
                         ids=["invalid", "not-toml", "missing"])
def test_an_error_names_the_file_once(tmp_path, capsys, command, content):
    path = tmp_path / "scenario.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qstack {command}: {path}: ")
    assert err.count(str(path)) == 1, err
    if content is None:
        assert err == f"qstack {command}: {path}: No such file or directory\n"


def _flow_row(table: str) -> str:
    lines = table.splitlines()
    header = next(i for i, line in enumerate(lines) if line.rstrip().endswith("status"))
    return lines[header + 1]


def test_a_finished_flow_is_not_shown_as_running():
    from qstack.network.runner import run_scenario
    from qstack.scenario import linear_chain, load_scenario

    open_ended = format_summary(run_scenario(load_scenario(linear_chain(2, seed=1, duration="5 ms"))))
    assert "running" not in open_ended
    assert _flow_row(open_ended).endswith("  ran to the end")
    counted = run_scenario(load_scenario(linear_chain(2, seed=1, duration="5 ms", pairs=100_000)))
    (flow,) = counted["flows"]
    assert flow["completion_time"] is None and not flow["failed"]
    assert f"incomplete: {flow['delivered']} of 100000 pairs" in format_summary(counted)
    done = run_scenario(load_scenario(linear_chain(2, seed=1, duration="1 s", pairs=2)))
    assert _flow_row(format_summary(done)).endswith("  done")


def test_examples_copies_the_scenario_folders_out(tmp_path, capsys):
    dest = tmp_path / "ex"
    assert main(["examples", str(dest)]) == 0
    files = bundled_files()
    assert "copied " + str(len(files)) + " files" in capsys.readouterr().out
    for rel, source in files.items():
        assert (dest / rel).read_bytes() == source.read_bytes(), rel
    assert {"examples/chain_3_nodes.toml", "stages/stage3/teleport_chain.toml", "stages/README.md"} <= set(files)
    assert main(["stages", str(dest / "examples" / "chain_3_nodes.toml")]) == 0  # usable where they landed
    capsys.readouterr()

    assert main(["examples", str(dest)]) == 0  # again: nothing to copy
    assert f"copied 0 files into {dest} ({len(files)} already there)" in capsys.readouterr().out

    edited = dest / "examples" / "chain_3_nodes.toml"
    edited.write_text("# my own\n", encoding="utf-8")
    (dest / "stages" / "README.md").unlink()
    assert main(["examples", str(dest)]) == 2  # an edited file is never overwritten silently
    err = capsys.readouterr().err
    assert "examples/chain_3_nodes.toml" in err and "nothing copied" in err and "--force" in err
    assert edited.read_text(encoding="utf-8") == "# my own\n" and not (dest / "stages" / "README.md").exists()
    assert main(["examples", str(dest), "--force"]) == 0
    assert edited.read_bytes() == CHAIN3.read_bytes() and (dest / "stages" / "README.md").exists()


def test_examples_into_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("", encoding="utf-8")
    assert main(["examples", str(target)]) == 2
    assert capsys.readouterr().err == f"qstack examples: {target}: not a directory\n"


def test_ctrl_c_during_a_run_keeps_the_results_so_far_and_exits_130(monkeypatch, capsys):
    """Ctrl-C half-way through the simulated time: the summary of what ran is printed, one line
    on stderr says so, no traceback, exit status 130 (128 + SIGINT)."""
    import qstack.network.runner as runner

    def bar(end):
        def report(now, total):
            if now >= total / 2:
                raise KeyboardInterrupt
        return report

    monkeypatch.setattr(runner, "_progress_bar", bar)
    assert main(["run"]) == 130
    captured = capsys.readouterr()
    assert "delivered pairs" in captured.out
    assert "interrupted at 0.1 s simulated" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("error, status, message", [(KeyboardInterrupt, 130, "qstack stages: interrupted"),
                                                    (BrokenPipeError, 141, "")])
def test_interrupts_and_closed_pipes_end_cleanly(monkeypatch, capsys, error, status, message):
    """Ctrl-C outside a run, or a reader that closed the pipe (``qstack stages FILE | head``):
    no traceback, exit 130 or 141 (128 + SIGPIPE)."""
    import qstack.cli as cli

    def boom(args):
        raise error

    monkeypatch.setattr(cli, "_stages", boom)
    monkeypatch.setattr(cli.os, "dup2", lambda *a: None)  # keep pytest's captured stdout
    assert main(["stages", "examples/chain_3_nodes.toml"]) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
