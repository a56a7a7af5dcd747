"""CLI: escape / figure / sweep subcommands, JSON output and one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dmfsharp import gaussian_minimizer
from dmfsharp.cli import main
from dmfsharp.npz import save_factors


@pytest.fixture
def factors(tmp_path):
    path = tmp_path / "f.npz"
    save_factors(path, gaussian_minimizer((3, 4, 4, 2), rng=1))
    return path


def test_escape_json(factors, capsys):
    rc = main(
        [
            "escape",
            str(factors),
            "--eta-factors",
            "0.9,0.99,1.01,1.1",
            "--radius",
            "1e-9",
            "--steps",
            "600",
            "--json",
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    runs = doc["runs"]
    assert [r["eta_factor"] for r in runs] == [0.9, 0.99, 1.01, 1.1]
    required = {
        "eta",
        "eta_factor",
        "escaped",
        "escape_step",
        "predicted_escape_step",
        "outcome",
        "final_sharpness",
    }
    assert all(required <= set(r) for r in runs)
    assert [r["escaped"] for r in runs] == [False, False, True, True]
    for r in runs:
        assert r["eta"] == pytest.approx(r["eta_factor"] * 2 / doc["lambda_max"])
        if r["escaped"]:
            assert 0 <= r["escape_step"] - r["predicted_escape_step"] < 1.05


def test_escape_text(factors, capsys):
    assert main(["escape", str(factors), "--steps", "100", "--eta-factors", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "lambda_max =" in out and "| 1.5 |" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "0"], "steps: must be >= 1"),
        (["--radius", "0"], "radius: must be finite and > 0"),
        (["--radius", "nan"], "radius: must be finite and > 0"),
        (["--eta-factors", "1.1,-1"], "eta_factors: must be finite and > 0"),
        (["--eta-factors", "inf"], "eta_factors: must be finite and > 0"),
    ],
)
def test_escape_bad_input_one_line(factors, capsys, extra, message):
    assert main(["escape", str(factors), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dmfsharp: error: ") and message in err


def test_escape_non_minimizer_one_line(factors, tmp_path, capsys):
    target = tmp_path / "M.npy"
    np.save(target, np.ones((2, 3)))
    assert main(["escape", str(factors), "--target", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a minimizer" in err


def test_sweep_cli_serial_and_resume(tmp_path, capsys):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(
        json.dumps(
            {
                "depths": [2],
                "widths": [2],
                "eta_factors": [0.9, 1.1],
                "seeds": [0],
                "steps": 200,
                "output": "res.jsonl",
            }
        )
    )
    assert main(["sweep", str(cfg), "--serial", "--no-progress"]) == 0
    assert "2 cells, 0 already done, 2 run now" in capsys.readouterr().out
    assert len((tmp_path / "res.jsonl").read_text().splitlines()) == 2
    assert main(["sweep", str(cfg), "--serial", "--no-progress"]) == 0
    assert "2 already done, 0 run now" in capsys.readouterr().out


@pytest.mark.dask
def test_sweep_cli_unknown_scheduler(tmp_path, capsys, dead_address):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"depths": [2], "widths": [2], "eta_factors": [1.1], "seeds": [0]}))
    assert main(["sweep", str(cfg), "--scheduler", dead_address, "--timeout", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"scheduler: cannot connect to '{dead_address}' within 1 s" in err


def test_figure_fig1(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
    assert main(["figure", "fig1", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "fig1.png").stat().st_size > 10_000
    table = (tmp_path / "fig1.md").read_text()
    assert table.startswith("| eta factor |") and table.count("\n") == 6


@pytest.mark.dask
def test_sweep_cli_on_local_cluster(tmp_path, capsys, local_cluster):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(
        json.dumps(
            {"depths": [2], "widths": [2], "eta_factors": [0.9, 1.1], "seeds": [0, 1], "steps": 200}
        )
    )
    args = ["sweep", str(cfg), "--scheduler", local_cluster.scheduler_address, "--no-progress"]
    assert main(args) == 0
    assert "4 cells, 0 already done, 4 run now" in capsys.readouterr().out
    records = [json.loads(x) for x in (tmp_path / "sweep.jsonl").read_text().splitlines()]
    assert sorted(r["key"] for r in records) == sorted(
        f"depth=2/width=2/eta_factor={f}/seed={s}" for f in (0.9, 1.1) for s in (0, 1)
    )
