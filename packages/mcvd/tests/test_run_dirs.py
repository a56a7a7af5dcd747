"""SimulationResult and the chunked runner with a toy kernel (no numba): exact merging, files that
carry what they are and a checksum, damaged or foreign chunks reported and recomputed, run-time
estimates, run roots, interruption."""

import json
import warnings

import numpy as np
import pytest
from mcvd.sim.result import ResultFileError, SimulationResult
from mcvd.sim.runner import (
    LongRunWarning,
    RunDirWarning,
    RunInterrupted,
    _example_kernel,
    chunk_tasks,
    default_chunk_size,
    run_chunks,
)


def test_result_F_counts_se_and_times_are_consistent():
    rx = np.array([0, 1, -1, 0, 1, 0, -1, -1])
    t = np.array([0.05, 0.1, np.inf, 0.1, 0.35, 0.2, np.inf, np.inf])
    r = SimulationResult.from_absorptions(rx, t, 10, [0, 0.1, 0.2, 0.3, 0.4], 2)
    # counts by hand: rx0 at 0.05, 0.1 (edge belongs to the bin it closes), 0.2; rx1 at 0.1, 0.35
    assert r.counts.tolist() == [[2, 1, 0, 0], [1, 0, 0, 1]]
    assert np.allclose(r.F, [0, 0.3, 0.4, 0.4, 0.5])
    assert np.allclose(r.F_se, np.sqrt(r.F * (1 - r.F) / 10))
    resp = r.response([0.1, 0.25, 0.4])
    assert np.allclose(resp.F_per_receiver, [[0.2, 0.3, 0.3], [0.1, 0.1, 0.2]])
    assert r.bin_counts([0, 0.2, 0.4]).tolist() == [[3, 0], [1, 1]]
    # without absorption times only bin edges can be asked for
    r2 = SimulationResult.from_absorptions(rx, t, 10, [0, 0.1, 0.2, 0.3, 0.4], 2, keep_times=False)
    assert np.allclose(r2.response([0.1, 0.4]).F, [0.3, 0.5])
    with pytest.raises(ValueError, match="not a bin edge"):
        r2.response([0.25])
    with pytest.raises(ValueError, match="times must be"):
        r.response([-1.0])


def test_result_merge_is_exact_and_save_load_roundtrip(tmp_path):
    rng = np.random.default_rng(0)
    rx = rng.integers(-1, 2, 1000)
    t = rng.uniform(0, 1, 1000)
    edges = np.linspace(0, 1, 11)
    whole = SimulationResult.from_absorptions(rx, t, 1000, edges, 2, metadata={"dt": 0.1})
    parts = [
        SimulationResult.from_absorptions(rx[a:b], t[a:b], b - a, edges, 2, metadata={"dt": 0.1})
        for a, b in ((0, 300), (300, 301), (301, 1000))
    ]
    m = SimulationResult.merge(parts)
    assert m.n_molecules == 1000 and m.metadata["n_chunks"] == 3
    assert np.array_equal(m.counts, whole.counts)
    for a, b in zip(m.absorption_times, whole.absorption_times):
        assert np.array_equal(a, b)
    p = m.save(tmp_path / "r.npz")
    back = SimulationResult.load(p)
    assert np.array_equal(back.counts, m.counts) and back.metadata == m.metadata
    assert all(np.array_equal(a, b) for a, b in zip(back.absorption_times, m.absorption_times))
    assert not list(tmp_path.glob("*.tmp"))
    other = SimulationResult.from_absorptions(rx, t, 1000, edges, 2, metadata={"dt": 0.2})
    with pytest.raises(ValueError, match="different runs"):
        SimulationResult.merge([whole, other])


def test_chunk_seed_sequences_match_spawn():
    tasks = chunk_tasks(10, 3, seed=123)
    spawned = np.random.SeedSequence(123).spawn(len(tasks))
    for task, child in zip(tasks, spawned):
        assert np.array_equal(task.seed_sequence.generate_state(4), child.generate_state(4))


def _run(run_dir, **kw):
    """The toy run of these tests: 1000 molecules in 4 chunks."""
    return run_chunks(
        _example_kernel, 0.3, 1000, seed=3, chunk_size=250, executor="inline", run_dir=run_dir, **kw
    )


def _same(a, b):
    """Exact equality of two results of the same kernel on the same molecules (same code path)."""
    assert a.n_molecules == b.n_molecules
    assert np.array_equal(a.counts, b.counts)
    assert all(np.array_equal(x, y) for x, y in zip(a.absorption_times, b.absorption_times))


def test_chunk_files_carry_identity_and_checksum(tmp_path):
    _run(tmp_path / "run")
    with np.load(tmp_path / "run" / "chunk-000002.npz") as z:
        identity = json.loads(str(z["identity"]))
        assert len(str(z["sha256"])) == 64
    assert identity["chunk"] == 2 and identity["start"] == 500 and identity["count"] == 250
    assert identity["seed"] == 3 and identity["spawn_key"] == [2]
    assert identity["kernel"] == "mcvd.sim.runner._example_kernel" and len(identity["run"]) == 16
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["chunk_size"] == 250 and "version" in manifest


def _truncate(path, other):
    path.write_bytes(path.read_bytes()[:200])


def _empty(path, other):
    path.write_bytes(b"")


def _flip_bit(path, other):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))


def _edit_counts(path, other):
    # a valid archive whose arrays no longer match the stored checksum
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["counts"] = arrays["counts"] + 1
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _copy_other(path, other):
    path.write_bytes(other.read_bytes())  # a valid chunk file, but of another chunk


def _text(path, other):
    path.write_text("not a chunk")


@pytest.mark.parametrize(
    "damage",
    [_truncate, _empty, _flip_bit, _edit_counts, _copy_other, _text],
    ids=lambda f: f.__name__[1:],
)
def test_damaged_or_foreign_chunk_is_reported_in_one_line_and_recomputed(tmp_path, damage):
    ref = _run(tmp_path / "ref")
    run = tmp_path / "run"
    _run(run)
    target = run / "chunk-000001.npz"
    damage(target, run / "chunk-000003.npz")
    with pytest.warns(RunDirWarning) as record:
        again = _run(run)
    assert len(record) == 1
    msg = str(record[0].message)
    assert "chunk-000001.npz" in msg and "recomputing chunk 1" in msg and "\n" not in msg
    _same(again, ref)  # recomputed by the same kernel from the same seed: bit-identical
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(_run(run), ref)  # the rewritten chunk now verifies


def test_foreign_chunk_message_says_what_it_holds(tmp_path):
    run = tmp_path / "run"
    _run(run)
    _copy_other(run / "chunk-000001.npz", run / "chunk-000003.npz")
    with pytest.warns(RunDirWarning, match=r"holds chunk 3 \(molecules 750\+250\).*not chunk 1"):
        _run(run)


def test_result_files_verify_their_checksum(tmp_path):
    r = SimulationResult.from_absorptions([0, -1], [0.1, np.inf], 2, [0, 1.0], 1)
    path = r.save(tmp_path / "r.npz")
    _edit_counts(path, None)
    with pytest.raises(ResultFileError, match="checksum mismatch") as exc:
        SimulationResult.load(path)
    assert "\n" not in str(exc.value)
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ResultFileError, match="not a readable result file"):
        SimulationResult.load(path)
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        r.save(tmp_path / "r.txt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        SimulationResult.load(tmp_path / "missing.npz")


def test_unreadable_manifest_and_a_file_as_run_dir_are_one_line_errors(tmp_path):
    run = tmp_path / "run"
    _run(run)
    (run / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"manifest\.json is unreadable") as exc:
        _run(run)
    assert "\n" not in str(exc.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a directory"):
        _run(tmp_path / "file")


def test_run_root_names_the_run_and_keep_run_dir_false_removes_it(tmp_path):
    ref = _run(None)
    root = tmp_path / "root"
    kw = dict(seed=3, chunk_size=250, executor="inline", run_root=root)
    r = run_chunks(_example_kernel, 0.3, 1000, **kw)
    (run,) = root.iterdir()
    assert run.name.startswith("run-") and len(list(run.glob("chunk-*.npz"))) == 4
    _same(r, ref)
    r2 = run_chunks(_example_kernel, 0.3, 1000, **kw, keep_run_dir=False)  # loads, then removes
    _same(r2, ref)
    assert list(root.iterdir()) == []
    other = run_chunks(_example_kernel, 0.3, 1000, **dict(kw, seed=4))
    assert not np.array_equal(other.counts, ref.counts)
    with pytest.raises(ValueError, match="run_dir or run_root"):
        run_chunks(_example_kernel, 0.3, 1000, run_dir=tmp_path / "x", run_root=root)


STOP_AT = None


def stopping_kernel(p, task):
    """_example_kernel, with a Ctrl-C (KeyboardInterrupt) arriving during chunk STOP_AT."""
    if task.index == STOP_AT:
        raise KeyboardInterrupt
    return _example_kernel(p, task)


def test_interruption_keeps_finished_chunks_and_says_so(tmp_path):
    global STOP_AT
    ref = _run(None)
    root = tmp_path / "root"
    kw = dict(seed=3, chunk_size=250, executor="inline", run_root=root, keep_run_dir=False)
    STOP_AT = 2
    try:
        with pytest.raises(RunInterrupted) as exc:
            run_chunks(stopping_kernel, 0.3, 1000, **kw)
    finally:
        STOP_AT = None
    e = exc.value
    assert isinstance(e, KeyboardInterrupt)
    assert (e.chunks_done, e.n_chunks, e.molecules_done, e.n_molecules) == (2, 4, 500, 1000)
    assert e.run_dir.parent == root and len(list(e.run_dir.glob("chunk-*.npz"))) == 2
    assert str(e).startswith("interrupted after 2 of 4 chunks (500 of 1000 molecules)")
    assert str(e.run_dir) in str(e)
    _same(run_chunks(stopping_kernel, 0.3, 1000, **kw), ref)  # resumes, then removes the run
    assert list(root.iterdir()) == []
    STOP_AT = 0  # interrupted before any chunk finished: a throw-away run folder is not left
    try:
        with pytest.raises(RunInterrupted, match="nothing kept") as exc:
            run_chunks(stopping_kernel, 0.3, 1000, **kw)
    finally:
        STOP_AT = None
    assert exc.value.run_dir is None and list(root.iterdir()) == []


def test_run_time_estimate_warns_refuses_and_sizes_chunks(tmp_path):
    kw = dict(seed=1, executor="inline", workers=1)
    # 1e12 molecules at 1 µs each: 11.6 days on 1 thread -> refused (before any work) unless forced
    with pytest.raises(ValueError, match=r"estimated to take .* more than the 24 h limit") as exc:
        run_chunks(_example_kernel, 0.3, 10**12, cost=1e-6, **kw)
    assert "force" in str(exc.value) and "\n" not in str(exc.value)
    # 2e5 molecules at 1 ms each: minutes -> one warning with the estimate, then it runs
    with pytest.warns(LongRunWarning, match=r"estimated run time \d+ min \(200000 molecules"):
        r = run_chunks(_example_kernel, 0.3, 200_000, cost=1e-3, chunk_size=100_000, **kw)
    assert r.n_molecules == 200_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_chunks(_example_kernel, 0.3, 1000, cost=1e-6, **kw)  # short: silent
    # chunks of ~1 s on one thread, so Ctrl-C waits at most about that long
    assert default_chunk_size(10**6, cost=1e-3) == 1000
    assert default_chunk_size(10**6, cost=1e-9) == 50_000


@pytest.mark.parametrize(
    ("n", "error", "match"),
    [
        (0, ValueError, "n_molecules must be >= 1"),
        (2**63, ValueError, r"n_molecules must be <= 2\*\*53"),
        (1e6, TypeError, "n_molecules must be an integer"),
        (True, TypeError, "n_molecules must be an integer"),
    ],
)
def test_molecule_counts_are_checked_before_anything_runs(n, error, match):
    with pytest.raises(error, match=match):
        run_chunks(_example_kernel, 0.3, n, seed=1, executor="inline")
