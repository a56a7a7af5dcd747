"""Event-driven simulator through the runner and CLI; cross-checks with the fixed-step simulator."""

import json
import math

import numpy as np
import pytest

pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")

from mcvd.cli import main
from mcvd.core.exact import exact_capture
from mcvd.core.geometry import Geometry
from mcvd.sim import simulate
from mcvd.sim.event import prepare, walk

D = 79.4
PAPER = {
    "D": D,
    "transmitter": {"position": [0, 0, 10], "molecules": 1000},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "time": {"end": 2.0, "dt": 1e-4},
}


def _scenario(**changes):
    sc = json.loads(json.dumps(PAPER))
    sc.update(changes)
    return sc


def _agree(a, b, times):
    """|F_a - F_b| within 4 combined standard errors at every time."""
    ra, rb = a.response(times), b.response(times)
    se = np.hypot(ra.F_se, rb.F_se)
    assert np.all(np.abs(ra.F - rb.F) < 4 * se), (ra.F, rb.F, se)


def test_result_independent_of_executor_chunking_and_resumable(tmp_path):
    kw = dict(method="event", n_molecules=6000, seed=9, chunk_size=2000)
    inline = simulate(PAPER, executor="inline", **kw)
    pool = simulate(PAPER, executor="process", workers=2, **kw)
    # exact equality: the pool runs the identical kernel on the identical molecules (per-molecule
    # streams), and chunks merge in order — the same code path as inline
    np.testing.assert_array_equal(inline.counts, pool.counts)
    for a, b in zip(inline.absorption_times, pool.absorption_times):
        np.testing.assert_array_equal(a, b)
    run = tmp_path / "run"
    first = simulate(PAPER, executor="inline", run_dir=run, **kw)
    (run / "chunk-000001.npz").unlink()  # an interrupted run: one chunk missing
    again = simulate(PAPER, executor="inline", run_dir=run, **kw)
    np.testing.assert_array_equal(first.counts, again.counts)
    np.testing.assert_array_equal(first.counts, inline.counts)
    assert inline.metadata["method"] == "event" and inline.metadata["eps"] == 1e-3
    # per-molecule streams: another chunking gives the identical run
    rechunked = simulate(PAPER, executor="inline", **{**kw, "chunk_size": 1500})
    np.testing.assert_array_equal(rechunked.counts, inline.counts)


def test_same_result_with_one_and_two_threads():
    import numba

    par = prepare(
        Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)], [((0, 0, 0), (1, 0, 0))]),
        1.0,
        molecules=[4000],
    )
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = walk(par, 0, 4000, seed=8)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = walk(par, 0, 4000, seed=8)
    finally:
        numba.set_num_threads(before)
    # same code path: each molecule's walk is the same compiled loop body whatever the thread
    np.testing.assert_array_equal(one.times, two.times)
    np.testing.assert_array_equal(one.receiver, two.receiver)
    # and a sub-range of molecules reproduces the same molecules
    part = walk(par, 1000, 500, seed=8)
    np.testing.assert_array_equal(part.times, one.times[1000:1500])


def test_infinite_horizon_gives_capture():
    n = 100_000
    r = simulate(PAPER, method="event", t_end=math.inf, n_molecules=n, seed=3, executor="inline")
    ref = exact_capture([0, 0, 10], [[10, 0, 0], [-10, 0, 0]], [5, 5]).sum()
    assert r.bin_edges.tolist() == [0.0, math.inf]
    assert abs(r.F[-1] - ref) < 4 * r.F_se[-1]


@pytest.mark.dask
def test_dask_local_cluster_gives_the_same_result(dask_client):
    kw = dict(method="event", n_molecules=3000, seed=4, chunk_size=1000)
    inline = simulate(PAPER, executor="inline", **kw)
    remote = simulate(PAPER, client=dask_client, **kw)
    np.testing.assert_array_equal(inline.counts, remote.counts)  # the same kernel: same code path


def test_cli_json_keys_and_errors(tmp_path, capsys):
    path = tmp_path / "sc.json"
    path.write_text(json.dumps(PAPER))
    argv = ["simulate", str(path), "--method", "event", "--times", "0.5,2", "--json"]
    rc = main([*argv, "--molecules", "2000", "--workers", "1", "--no-progress", "--eps", "0.01"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["times"] == [0.5, 2.0] and len(out["F"]) == 2 and len(out["F_se"]) == 2
    assert len(out["F_per_receiver"]) == 1 and out["metadata"]["eps"] == 0.01
    bad = tmp_path / "box.json"
    bad.write_text(json.dumps(_scenario(obstacles=[{"min": [20, -5, -5], "max": [22, 5, 5]}])))
    assert main(["simulate", str(bad), "--method", "event", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "obstacles" in err and "fixed-step" in err
    assert main(["simulate", str(path), "--method", "event", "--dt", "1e-3"]) == 2


def test_agrees_with_fixed_step_bridge_on_half_space():
    # fast version: the paper's topology to 0.3 s, fixed-step bridge at dt = 1e-4
    kw = dict(seed=21, executor="inline", t_end=0.3)
    ev = simulate(PAPER, method="event", n_molecules=200_000, **kw)
    fs = simulate(PAPER, method="fixed-step", dt=1e-4, n_molecules=30_000, **kw)
    _agree(ev, fs, [0.05, 0.1, 0.2, 0.3])


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [
        {},  # the paper's half space
        {  # a corner (receiver near two orthogonal walls)
            "transmitter": {"position": [3, 12, 4], "molecules": 1},
            "receivers": [{"center": [7, 6, 0], "radius": 4}],
            "planes": [
                {"point": [0, 0, 0], "normal": [1, 0, 0]},
                {"point": [0, -2, 0], "normal": [0, 1, 0]},
            ],
        },
        {  # a slab (two parallel planes, infinite image array folded)
            "transmitter": {"position": [2, 0, 10], "molecules": 1},
            "receivers": [{"center": [8, 0, 0], "radius": 4}],
            "planes": [
                {"point": [0, 0, 0], "normal": [1, 0, 0]},
                {"point": [14, 0, 0], "normal": [-1, 0, 0]},
            ],
        },
    ],
    ids=["half-space", "corner", "slab"],
)
def test_agrees_with_fixed_step_bridge_small_dt(changes):
    sc = _scenario(**changes)
    kw = dict(seed=5, executor="inline", t_end=0.5)
    ev = simulate(sc, method="event", n_molecules=400_000, **kw)
    fs = simulate(sc, method="fixed-step", dt=2e-5, n_molecules=30_000, **kw)
    _agree(ev, fs, [0.05, 0.2, 0.5])


@pytest.mark.slow
def test_eps_convergence_on_half_space_capture():
    # coupling bracket for every eps: F(r) <= F_eps <= F(r + eps) (exact captures), and the bias
    # vanishes as eps -> 0 (within 4 SE at the default eps)
    n = 400_000
    g = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)], [((0, 0, 0), (1, 0, 0))])
    centers = np.array([[10, 0, 0], [-10, 0, 0]], float)
    ref = exact_capture([0, 0, 10], centers, [5, 5]).sum()
    biases = []
    for eps in (0.3, 0.1, 0.03, 0.01, 1e-3):
        out = walk(prepare(g, math.inf, eps=eps, molecules=[n]), 0, n, seed=int(1 / eps))
        p = float(np.mean(out.receiver >= 0))
        se = math.sqrt(p * (1 - p) / n)
        upper = exact_capture([0, 0, 10], centers, [5 + eps, 5 + eps]).sum()
        assert ref - 4 * se < p < upper + 4 * se, (eps, p, ref, upper)
        biases.append((p - ref, se))
    assert biases[0][0] > 4 * biases[0][1]  # eps = 0.3 µm: visibly biased upward
    assert abs(biases[-1][0]) < 4 * biases[-1][1]  # default eps: no detectable bias
