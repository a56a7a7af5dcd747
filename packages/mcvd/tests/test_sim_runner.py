"""The chunked runner with the fixed-step kernel (resume, process pool, dask) and `mcvd simulate`."""

import json
import math

import numpy as np
import pytest

pytest.importorskip("numba", reason="needs numba, the sim extra (pip install 'mcvd[sim]')")

from mcvd.cli import main
from mcvd.sim import METHODS, SimulationResult, run_chunks, simulate
from mcvd.sim.fixedstep import fixed_step_kernel, params_from_scenario
from mcvd.sim.runner import ChunkTask

SC = {
    "D": 79.4,
    "transmitter": {"position": [0, 0, 10], "molecules": 2500},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "time": {"end": 0.3, "dt": 1e-3},
}


def _write(tmp_path, sc):
    path = tmp_path / "sc.json"
    path.write_text(json.dumps(sc))
    return path


FAIL_AT = None
CALLS = []


def flaky_kernel(p, task: ChunkTask):
    """fixed_step_kernel that dies at chunk FAIL_AT (a simulated interruption)."""
    if task.index == FAIL_AT:
        raise KeyboardInterrupt("simulated interruption")
    CALLS.append(task.index)
    return fixed_step_kernel(p, task)


def test_resume_after_interruption(tmp_path):
    global FAIL_AT
    p, n = params_from_scenario(SC)
    kw = {"seed": 4, "chunk_size": 600, "executor": "inline", "run_dir": tmp_path / "run"}
    CALLS.clear()
    FAIL_AT = 2
    with pytest.raises(KeyboardInterrupt):
        run_chunks(flaky_kernel, p, n, **kw)
    assert CALLS == [0, 1]
    assert sorted(f.name for f in (tmp_path / "run").glob("chunk-*.npz")) == [
        "chunk-000000.npz",
        "chunk-000001.npz",
    ]
    FAIL_AT = None
    CALLS.clear()
    resumed = run_chunks(flaky_kernel, p, n, **kw)
    assert CALLS == [2, 3, 4]  # finished chunks were not recomputed
    fresh = run_chunks(fixed_step_kernel, p, n, seed=4, chunk_size=600, executor="inline")
    assert resumed.n_molecules == n
    # bit-identical: the same kernel on the same molecules (per-molecule streams), merged in
    # chunk order — the same code path whether a chunk was computed now or loaded
    assert np.array_equal(resumed.counts, fresh.counts)
    assert np.array_equal(resumed.absorption_times[0], fresh.absorption_times[0])
    CALLS.clear()
    run_chunks(flaky_kernel, p, n, **kw)  # everything done: nothing recomputed
    assert CALLS == []
    with pytest.raises(ValueError, match="different run"):
        run_chunks(flaky_kernel, p, n, **dict(kw, seed=5))


def test_process_pool_matches_inline():
    a = simulate(SC, seed=6, chunk_size=1000, executor="inline")
    b = simulate(SC, seed=6, chunk_size=1000, workers=2, executor="process")
    assert b.metadata["n_chunks"] == 3
    # exact equality: the pool runs the identical kernel on the identical chunks (same code path)
    assert np.array_equal(a.counts, b.counts)
    assert np.array_equal(a.absorption_times[0], b.absorption_times[0])


@pytest.mark.dask
def test_dask_local_cluster_matches_inline(local_cluster, dask_client):
    ref = simulate(SC, seed=7, chunk_size=1000, executor="inline")
    r = simulate(SC, seed=7, chunk_size=1000, client=dask_client)
    r2 = simulate(SC, seed=7, chunk_size=1000, scheduler=local_cluster.scheduler_address)
    for x in (r, r2):  # the identical kernel on the dask worker: same code path, exact equality
        assert np.array_equal(x.counts, ref.counts)
        assert np.array_equal(x.absorption_times[0], ref.absorption_times[0])


@pytest.mark.dask
def test_unreachable_scheduler_is_one_clear_error():
    pytest.importorskip("distributed", reason="dask extra not installed")
    p, n = params_from_scenario(SC)
    with pytest.raises(ConnectionError, match="could not connect within 1 s") as exc:
        run_chunks(fixed_step_kernel, p, n, scheduler="tcp://127.0.0.1:9", connect_timeout=1)
    assert "\n" not in str(exc.value)


def test_cli_simulate_json_and_output(tmp_path, capsys):
    path = tmp_path / "sc.json"
    path.write_text(json.dumps(SC))
    out = tmp_path / "r.npz"
    argv = [
        "simulate", str(path), "--method", "fixed-step", "--dt", "1e-3", "--absorption",
        "bridge", "--reflection", "elastic", "--molecules", "2000", "--seed", "3",
        "--times", "0.1,0.3", "--json", "-o", str(out), "--no-progress",
    ]  # fmt: skip
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["times"] == [0.1, 0.3]
    assert len(data["F"]) == 2 and len(data["F_se"]) == 2
    assert np.array(data["F_per_receiver"]).shape == (1, 2)
    ref = simulate(SC, dt=1e-3, n_molecules=2000, seed=3, executor="inline")
    assert np.allclose(data["F"], ref.response([0.1, 0.3]).F)
    saved = SimulationResult.load(out)
    assert np.array_equal(saved.counts, ref.counts)
    assert 0 < data["F"][1] < 1
    assert math.isclose(data["F_se"][1], math.sqrt(data["F"][1] * (1 - data["F"][1]) / 2000))


@pytest.mark.parametrize(
    ("content", "extra", "match"),
    [
        ({**SC, "D": -1}, [], "scenario field D"),
        ({**SC, "receivers": [{"center": [10, 0, 0], "radius": 0}]}, [], "radius"),
        ({**SC, "transmitter": {"position": [-1, 0, 0]}}, [], "wrong side"),
        (SC, ["--absorption", "sticky"], None),
        (SC, ["--times", "0.1,x"], "--times"),
        (SC, ["--molecules", "0"], "argument --molecules: must be >= 1"),
    ],
)
def test_cli_bad_input_one_line(tmp_path, capsys, content, extra, match):
    path = tmp_path / "sc.json"
    path.write_text(json.dumps(content))
    try:
        rc = main(["simulate", str(path), "--no-progress", *extra])
    except SystemExit as exc:  # argparse rejects a bad choice itself (exit status 2)
        rc = exc.code
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 or match is None
    if match:
        assert match in err


def test_methods_table_drives_cli_options():
    assert "fixed-step" in METHODS
    assert METHODS["fixed-step"].option_names() == (
        "dt",
        "absorption",
        "reflection",
        "destruction_radius",
    )
    assert METHODS["event"].option_names() == ("eps",)


def test_simulate_refuses_options_of_another_method():
    with pytest.raises(TypeError, match="eps: not an option of method 'fixed-step'"):
        simulate(SC, "fixed-step", eps=1e-3, executor="inline")
    with pytest.raises(TypeError, match="dt: not an option of method 'event'"):
        simulate(SC, "event", dt=1e-3, executor="inline")
    with pytest.raises(ValueError, match="method must be one of"):
        simulate(SC, "bogus")


def test_smoldyn_export_describes_the_scenario(tmp_path):
    from mcvd.sim.smoldyn import TX_NUDGE, read_smoldyn_counts, write_smoldyn

    sc = {
        **SC,
        "planes": [
            {"point": [0, 0, 0], "normal": [1, 0, 0]},
            {"point": [0, 0, -40], "normal": [0, 1, 1]},
        ],
        "obstacles": [{"type": "box", "min": [30, -20, -20], "max": [34, 20, 20]}],
    }
    text = write_smoldyn(sc, tmp_path / "s.txt", seed=5, n_molecules=123).read_text()
    lines = text.splitlines()
    assert "difc A 79.4" in lines and "time_step 0.001" in lines and "time_stop 0.3" in lines
    assert "panel sphere 10 0 0 5 30 30" in lines
    assert "action both all absorb" in lines
    assert f"mol 123 A {TX_NUDGE:.12g} 0 10" in lines  # TX on the plane x = 0, nudged inside
    # the axis-aligned plane is the low x wall of the reflecting system box
    assert any(ln.startswith("panel rect +0 0 ") for ln in lines)
    # box obstacle: 6 faces; oblique plane: 2 triangles
    assert "panel rect -0 34 -20 -20 40 40" in lines
    assert sum(ln.startswith("panel rect") for ln in lines) == 12
    assert sum(ln.startswith("panel tri") for ln in lines) == 2
    argv = ["export-smoldyn", str(_write(tmp_path, sc)), "-o", str(tmp_path / "t.txt")]
    assert main([*argv, "--seed", "5", "--molecules", "123"]) == 0
    assert (tmp_path / "t.txt").read_text() == text
    (tmp_path / "c.txt").write_text("0 123\n0.1 100\n0.1 100\n0.3 23\n")
    t, F = read_smoldyn_counts(tmp_path / "c.txt", 123)
    assert t.tolist() == [0, 0.1, 0.3] and np.allclose(F, [0, 23 / 123, 100 / 123])
