"""Runs on a real dask.distributed cluster on loopback: a worker dying mid-run, the scheduler
lost mid-run (one line, the finished chunks kept, the run resumes from the run directory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="needs dask.distributed, the dask extra (pip install 'mcvd[dask]')"
)

from mcvd.sim.runner import _example_kernel, run_chunks

pytestmark = pytest.mark.dask

#: kernels importable by the worker processes (a module on sys.path, not a test module)
KERNELS = textwrap.dedent(
    """
    import os
    import time

    from mcvd.sim.runner import _example_kernel


    def dying_kernel(params, task):
        # _example_kernel, but the first worker to run chunk 1 dies (os._exit: no cleanup)
        p, marker = params
        if task.index == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
        return _example_kernel(p, task)


    def slow_kernel(p, task):
        time.sleep(0.1)
        return _example_kernel(p, task)
    """
)


@pytest.fixture
def kernels(tmp_path, monkeypatch):
    (tmp_path / "mcvd_test_kernels.py").write_text(KERNELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import mcvd_test_kernels

    return mcvd_test_kernels


def _closable_cluster():
    """One in-process worker on TCP loopback, not in a ``with``: the test closes it mid-run (the
    conftest's ``local_cluster`` lives for the whole test)."""
    import distributed

    return distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    )


def _same(a, b):
    """Exact equality: the same kernel (_example_kernel) on the same chunks, same code path."""
    assert np.array_equal(a.counts, b.counts)
    assert all(np.array_equal(x, y) for x, y in zip(a.absorption_times, b.absorption_times))


def test_worker_death_is_survived_bit_identically(tmp_path, kernels, monkeypatch):
    import distributed

    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    ref = run_chunks(_example_kernel, 0.3, 2000, seed=2, chunk_size=250, executor="inline")
    marker = tmp_path / "died"
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        res = run_chunks(
            kernels.dying_kernel, (0.3, str(marker)), 2000, seed=2, chunk_size=250, client=client
        )
    assert marker.exists()  # a worker did die
    _same(res, ref)


def test_lost_scheduler_is_one_line_and_the_run_resumes(tmp_path, kernels):
    run = tmp_path / "run"
    kw = dict(seed=2, chunk_size=100, run_dir=run)
    cluster = _closable_cluster()
    threading.Timer(1.0, cluster.close).start()
    start = time.monotonic()
    with pytest.raises(ConnectionError) as exc:
        run_chunks(
            kernels.slow_kernel, 0.3, 2000, scheduler=cluster.scheduler_address, connect_timeout=2,
            **kw,
        )  # fmt: skip
    assert time.monotonic() - start < 15
    msg = str(exc.value)
    assert "\n" not in msg and "connection lost" in msg and "resume" in msg and str(run) in msg
    kept = len(list(run.glob("chunk-*.npz")))
    assert 1 <= kept < 20
    resumed = run_chunks(kernels.slow_kernel, 0.3, 2000, executor="inline", **kw)
    _same(
        resumed, run_chunks(_example_kernel, 0.3, 2000, seed=2, chunk_size=100, executor="inline")
    )


def test_cli_lost_scheduler_is_one_line(tmp_path):
    pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")
    sc = tmp_path / "paper.json"
    sc.write_text(
        json.dumps(
            {
                "D": 79.4,
                "transmitter": {"position": [0, 0, 10], "molecules": 3000},
                "receivers": [{"center": [10, 0, 0], "radius": 5}],
                "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
                "time": {"end": 2.0, "dt": 1e-4},
            }
        )
    )
    run = tmp_path / "run"
    cluster = _closable_cluster()
    src = Path(__file__).resolve().parents[1] / "src"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-c", "import sys; from mcvd.cli import main; sys.exit(main())"]
    cmd += ["simulate", str(sc), "--chunk-size", "200", "--no-progress", "--run-dir", str(run)]
    proc = subprocess.Popen(
        [*cmd, "--scheduler", cluster.scheduler_address], stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        start = time.monotonic()
        while not list(run.glob("chunk-*.npz")):
            assert proc.poll() is None and time.monotonic() - start < 120
            time.sleep(0.02)
        cluster.close()
        err = proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
        cluster.close()
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcvd: error: dask scheduler"), err
    assert "connection lost" in lines[0] and f"kept in {run}" in lines[0]
