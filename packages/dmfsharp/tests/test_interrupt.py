"""Ctrl-C (SIGINT) stops every long command within a few seconds, keeps what was finished, prints
one line (what was kept, how to resume) and exits 130; a resumed sweep equals an uninterrupted
one. Each test runs the real command line in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dmfsharp as dmf
import pytest

SRC = str(Path(dmf.__file__).resolve().parents[1])
#: seconds allowed between SIGINT and the exit of the command
STOP_BOUND = 10.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _start(argv, cwd) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-m", "dmfsharp.cli", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _interrupt(proc: subprocess.Popen, ready, wait_s: float = 90.0):
    """Send SIGINT once ``ready()`` holds; return (returncode, stderr, seconds to exit)."""
    t0 = time.monotonic()
    while not ready():
        assert proc.poll() is None, f"finished before the interrupt: {proc.communicate()}"
        assert time.monotonic() - t0 < wait_s, "never became ready"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    t1 = time.monotonic()
    try:
        _, err = proc.communicate(timeout=STOP_BOUND + 20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("did not stop after SIGINT") from None
    return proc.returncode, err, time.monotonic() - t1


def _strip(records):
    return sorted(
        ({k: v for k, v in r.items() if k != "elapsed_s"} for r in records), key=lambda r: r["key"]
    )


def test_sweep_stops_keeps_finished_cells_and_resumes_to_the_same_records(tmp_path):
    cfg = {
        "depths": [2],
        "widths": [5],
        "eta_factors": [0.9, 0.95],
        "seeds": [0, 1, 2, 3, 4, 5],
        "steps": 4000,
        "output": "res.jsonl",
    }
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    out = tmp_path / "res.jsonl"
    argv = ["sweep", "cfg.json", "--workers", "2", "--no-progress"]
    proc = _start(argv, tmp_path)
    rc, err, took = _interrupt(proc, lambda: out.exists() and out.read_text().count("\n") >= 1)
    assert rc == 130 and took < STOP_BOUND, (rc, took, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dmfsharp: interrupted: kept "), err
    n_kept = out.read_text().count("\n")
    assert f"kept {n_kept} of 12 cells in res.jsonl" in lines[0] and "resume" in lines[0]
    assert 1 <= n_kept < 12
    # resume with the same command, then compare with an uninterrupted serial run
    done = subprocess.run(
        [sys.executable, "-m", "dmfsharp.cli", *argv],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": SRC},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"{n_kept} already done, {12 - n_kept} run now" in done.stdout
    from dmfsharp.sweep import SweepConfig, load_results, run_sweep

    ref = run_sweep(
        SweepConfig.from_dict(cfg), output=tmp_path / "ref.jsonl", executor="serial", progress=False
    )
    assert _strip(load_results(out)) == _strip(ref.records)  # same code path: same bits


@pytest.mark.parametrize("kind", ["scalar", pytest.param("gaussian", marks=pytest.mark.slow)])
def test_escape_stops_within_seconds(kind, tmp_path):
    dims = "1,1,1,1,1,1" if kind == "scalar" else "3,4,4,2"  # compiled loop / numpy loop
    subprocess.run(
        [
            sys.executable,
            "-m",
            "dmfsharp.cli",
            "random",
            "--kind",
            kind,
            "--dims",
            dims,
            "-o",
            "f.npz",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": SRC},
        check=True,
        capture_output=True,
    )
    proc = _start(["escape", "f.npz", "--eta-factors", "0.9", "--steps", "200000000"], tmp_path)
    t0 = time.monotonic()
    rc, err, took = _interrupt(proc, lambda: time.monotonic() - t0 > 2.5)
    assert rc == 130 and took < STOP_BOUND, (rc, took, err)
    assert err.count("\n") == 1 and err.startswith("dmfsharp: interrupted: "), err
    assert "Traceback" not in err


def test_demo_stops_and_keeps_the_finished_figures(tmp_path):
    pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
    out = tmp_path / "demo"
    proc = _start(["demo", "--out", str(out)], tmp_path)
    first = out / "sharpness_comparison.png"
    rc, err, took = _interrupt(proc, first.exists)
    assert rc == 130 and took < STOP_BOUND, (rc, took, err)
    assert err.count("\n") == 1 and "figures of the finished sections are kept" in err, err
    assert first.stat().st_size > 1000
    assert not (out / "report.md").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
