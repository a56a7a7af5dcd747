"""Sweeps: determinism across executors (serial, process pool, dask LocalCluster), resume,
torn-line tolerance, config validation and the bounded scheduler connection timeout."""

from __future__ import annotations

import json
import time

import pytest
from dmfsharp import sharpness
from dmfsharp.sweep import (
    SweepConfig,
    cell_seed,
    connect_scheduler,
    load_results,
    run_cell,
    run_sweep,
    sweep_table,
)

CFG = SweepConfig(
    depths=(2, 3), widths=(2,), eta_factors=(0.9, 1.1), seeds=(0, 1), steps=300
)  # 8 cells, ~10 ms each


def _strip(records):
    return sorted(
        ({k: v for k, v in r.items() if k not in ("elapsed_s", "config_hash")} for r in records),
        key=lambda r: r["key"],
    )


@pytest.fixture(scope="module")
def serial_records(tmp_path_factory):
    path = tmp_path_factory.mktemp("serial") / "s.jsonl"
    res = run_sweep(CFG, output=path, executor="serial", progress=False)
    assert (res.n_cells, res.n_skipped, res.n_run) == (8, 0, 8)
    return res.records


def test_serial_sweep_records(serial_records):
    assert len({r["key"] for r in serial_records}) == 8
    for r in serial_records:
        assert r["escaped"] == (r["eta_factor"] > 1)
        if r["escaped"]:
            assert 0 <= r["escape_step"] - r["predicted_escape_step"] < 1.05
        # the record's lambda_max is the exact sharpness of the cell's minimizer
    # all step sizes of one (depth, width, seed) see the same minimizer
    by_seed = {}
    for r in serial_records:
        by_seed.setdefault((r["depth"], r["seed"]), set()).add(r["lambda_max"])
    assert all(len(v) == 1 for v in by_seed.values())
    assert len({next(iter(v)) for v in by_seed.values()}) == 4
    table = sweep_table(serial_records)
    assert table.count("\n") == 1 + 4


def test_cell_seed_is_keyed_and_matches_minimizer():
    import numpy as np
    from dmfsharp import gaussian_minimizer

    cell = CFG.cells()[3]
    a = cell_seed(CFG, cell).generate_state(4)
    b = cell_seed(CFG, cell).generate_state(4)
    assert (a == b).all()
    rec = run_cell(CFG, cell)
    fac = gaussian_minimizer(
        (cell.width,) * (cell.depth + 1), rng=np.random.default_rng(cell_seed(CFG, cell))
    )
    assert rec["lambda_max"] == pytest.approx(sharpness(fac).lambda_max, rel=1e-12)


def test_resume_after_kill_with_torn_line(tmp_path, serial_records):
    path = tmp_path / "r.jsonl"
    lines = [json.dumps(r) + "\n" for r in serial_records]
    path.write_text("".join(lines[:3]) + lines[3][:25])  # 3 complete cells + a torn line
    assert len(load_results(path)) == 3
    res = run_sweep(CFG, output=path, executor="serial", progress=False)
    assert (res.n_skipped, res.n_run) == (3, 5)
    on_disk = load_results(path)
    assert len(on_disk) == 8 and path.read_text().endswith("\n")
    assert _strip(on_disk) == _strip(serial_records)
    assert run_sweep(CFG, output=path, executor="serial", progress=False).n_run == 0


def test_resume_refuses_other_config(tmp_path, serial_records):
    path = tmp_path / "o.jsonl"
    path.write_text(json.dumps(serial_records[0]) + "\n")
    other = SweepConfig(**{**CFG.__dict__, "steps": 301})
    with pytest.raises(ValueError, match="different sweep configuration"):
        run_sweep(other, output=path, executor="serial", progress=False)


def test_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"key": 1}\nnot json\n{"key": 2}\n')
    with pytest.raises(ValueError, match=r"line 2 .* is not valid JSON"):
        load_results(path)


def test_process_pool_matches_serial(tmp_path, serial_records):
    small = SweepConfig(**{**CFG.__dict__, "depths": (3,)})
    res = run_sweep(small, output=tmp_path / "p.jsonl", max_workers=2, progress=False)
    assert res.n_run == 4
    expected = [r for r in _strip(serial_records) if r["depth"] == 3]
    assert _strip(res.records) == expected


@pytest.mark.dask
def test_dask_local_cluster_matches_serial(tmp_path, serial_records, local_cluster):
    from distributed import Client

    with Client(local_cluster) as client:
        res = run_sweep(CFG, output=tmp_path / "d.jsonl", client=client, progress=False)
    assert res.n_run == 8
    assert _strip(res.records) == _strip(serial_records)


@pytest.mark.dask
def test_unknown_scheduler_fails_fast(dead_address):
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"scheduler: cannot connect to 'tcp://127\.0\.0\.1:\d+'"):
        connect_scheduler(dead_address, timeout=2)
    assert time.perf_counter() - t0 < 15


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            {"depths": [3], "widths": [2], "eta_factors": [1.1]},
            r"missing required keys \['seeds'\]",
        ),
        ({"depths": [3], "widths": [0], "eta_factors": [1.1], "seeds": [0]}, "widths: every entry"),
        ({"depths": [3], "widths": [2], "eta_factors": [0], "seeds": [0]}, "eta_factors: must be"),
        (
            {"depths": [3], "widths": [2], "eta_factors": [1.1], "seeds": [0], "steps": 0},
            "steps: every entry must be an integer >= 1",
        ),
        (
            {"depths": [3], "widths": [2], "eta_factors": [1.1], "seeds": [0], "radius": -1},
            "radius: must be",
        ),
        (
            {"depths": [3], "widths": [2], "eta_factors": [1.1], "seeds": [0], "foo": 1},
            r"unknown keys \['foo'\]",
        ),
    ],
)
def test_config_validation(data, match):
    with pytest.raises(ValueError, match=match):
        SweepConfig.from_dict(data)


def test_config_from_file_resolves_output(tmp_path):
    p = tmp_path / "cfg.json"
    p.write_text(
        json.dumps(
            {
                "depths": [2],
                "widths": [2],
                "eta_factors": [1.1],
                "seeds": [0],
                "output": "res.jsonl",
            }
        )
    )
    assert SweepConfig.from_file(p).output == str(tmp_path / "res.jsonl")
    p.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        SweepConfig.from_file(p)
