"""Ctrl-C stops every long command within seconds, keeps the finished work, prints one line with
the command that resumes, exits 130; the resumed run equals an uninterrupted one.

Each test starts the real command line in a subprocess, waits until it has finished some work
(a chunk or cell file appears), sends SIGINT and measures how long the process takes to exit.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")

from mcvd.sim import SimulationResult, simulate

#: seconds within which an interrupted command must have exited
EXIT_BOUND = 5.0

#: the paper's topology at the full 2 s horizon and dt = 1e-4 s: 20 000 steps per molecule, so
#: 200-molecule chunks take ~0.1 s and the 15 chunks ~1.5 s on one thread
PAPER = {
    "D": 79.4,
    "transmitter": {"position": [0, 0, 10], "molecules": 3000},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "time": {"end": 2.0, "dt": 1e-4},
}
CHUNK = 200


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ, MCVD_RUN_CACHE=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    src = Path(__file__).resolve().parents[1] / "src"
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    return env


def _mcvd(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from mcvd.cli import main; sys.exit(main())", *args]


def interrupt(cmd, env, ready, *, limit: float = 120.0):
    """Run ``cmd``, send SIGINT once ``ready()`` is true; return (rc, stdout, stderr, seconds
    from the signal to the exit)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    start = time.monotonic()
    try:
        while not ready():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(
                    f"finished before it could be interrupted (rc {proc.returncode}): {err}"
                )
            if time.monotonic() - start > limit:
                pytest.fail("no work finished in time")
            time.sleep(0.02)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out, err, time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _files(folder: Path, pattern: str) -> list[Path]:
    return list(folder.rglob(pattern)) if folder.exists() else []


def _check_one_line(err: str, resume: list[str]) -> str:
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("mcvd: warning:")]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("mcvd: interrupted") and "kept in" in line, line
    assert line.endswith("resume with: " + shlex.join(["mcvd", *resume])), line
    return line


@pytest.fixture(scope="module")
def paper_reference():
    """The uninterrupted run (inline; the same kernel on the same chunks as every executor)."""
    return simulate(PAPER, "fixed-step", seed=5, chunk_size=CHUNK, executor="inline")


@pytest.mark.parametrize("executor", ["inline", "process"])
def test_simulate_stops_at_once_keeps_chunks_and_resumes_identically(
    tmp_path, executor, paper_reference
):
    sc = tmp_path / "paper.json"
    sc.write_text(json.dumps(PAPER))
    out = tmp_path / "r.npz"
    args = ["simulate", str(sc), "--seed", "5", "--chunk-size", str(CHUNK), "--no-progress"]
    args += ["--workers", "1" if executor == "inline" else "2", "-o", str(out)]
    env = _env(tmp_path)
    cache = tmp_path / "cache"
    rc, _, err, seconds = interrupt(_mcvd(*args), env, lambda: _files(cache, "chunk-*.npz"))
    assert rc == 130, err
    assert seconds < EXIT_BOUND, seconds
    line = _check_one_line(err, args)
    kept = _files(cache, "chunk-*.npz")
    assert 1 <= len(kept) < 15 and str(kept[0].parent) in line
    time.sleep(0.5)  # every worker is gone: no chunk appears after the exit
    assert len(_files(cache, "chunk-*.npz")) == len(kept)
    done = subprocess.run(_mcvd(*args), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    res = SimulationResult.load(out)
    # bit-identical: the same kernel on the same molecules whether computed before or after the
    # interruption, merged in chunk order (same code path)
    assert np.array_equal(res.counts, paper_reference.counts)
    assert np.array_equal(res.absorption_times[0], paper_reference.absorption_times[0])
    assert not _files(cache, "chunk-*.npz")  # the default run folder is removed when complete


@pytest.mark.dask
def test_simulate_on_dask_stops_at_once_and_resumes_identically(
    tmp_path, local_cluster, paper_reference
):
    sc = tmp_path / "paper.json"
    sc.write_text(json.dumps(PAPER))
    out, run = tmp_path / "r.npz", tmp_path / "run"
    args = ["simulate", str(sc), "--seed", "5", "--chunk-size", str(CHUNK), "--no-progress"]
    args += ["--scheduler", local_cluster.scheduler_address, "--run-dir", str(run), "-o", str(out)]
    env = _env(tmp_path)
    rc, _, err, seconds = interrupt(_mcvd(*args), env, lambda: _files(run, "chunk-*.npz"))
    assert rc == 130, err
    assert seconds < EXIT_BOUND, seconds
    _check_one_line(err, args)
    done = subprocess.run(_mcvd(*args), env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    res = SimulationResult.load(out)
    assert np.array_equal(res.counts, paper_reference.counts)  # same kernel: same code path
    assert np.array_equal(res.absorption_times[0], paper_reference.absorption_times[0])
    assert _files(run, "chunk-*.npz")  # an explicit --run-dir is kept


def test_crosscheck_stops_at_once_keeps_cells_and_resumes(tmp_path):
    out = tmp_path / "cc"
    args = ["crosscheck", "--out", str(out), "--gaps", "1,3,10", "--placements", "on-plane,far"]
    args += ["--times", "0.5", "--models", "free", "--se", "4e-4", "--json"]
    env = _env(tmp_path)
    rc, _, err, seconds = interrupt(_mcvd(*args), env, lambda: _files(out, "cell-*.json"))
    assert rc == 130, err
    assert seconds < EXIT_BOUND, seconds
    _check_one_line(err, args)
    kept = {p: p.read_bytes() for p in _files(out / "runs", "cell-*.json")}
    assert 1 <= len(kept) < 6
    proc = subprocess.Popen(_mcvd(*args), env=env, stdout=subprocess.PIPE, text=True)
    while proc.poll() is None:  # the kept cells are reused as they are, never recomputed
        assert all(p.read_bytes() == b for p, b in kept.items() if p.exists())
        time.sleep(0.05)
    assert proc.returncode == 0
    resumed = json.loads(proc.stdout.read())
    proc.stdout.close()
    assert resumed["agree"] and set(resumed["model_errors"]) == {"free"}
    assert not (out / "runs").exists()  # removed once the map is complete


@pytest.mark.slow
@pytest.mark.plot
def test_demo_stops_at_once_and_keeps_its_finished_simulations(tmp_path):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out)]
    rc, _, err, seconds = interrupt(
        _mcvd(*args), _env(tmp_path), lambda: _files(out / "runs", "chunk-*.npz")
    )
    assert rc == 130, err
    assert seconds < EXIT_BOUND, seconds
    line = _check_one_line(err, args)
    assert str(out / "runs") in line and _files(out / "runs", "chunk-*.npz")
