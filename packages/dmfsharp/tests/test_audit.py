"""Inputs that used to give a wrong number, a traceback or a misleading message: each now gets one
clear line (API: ValueError/TypeError naming the argument; CLI: ``dmfsharp: error: ...`` and a
non-zero exit). Also: defaults in ``--help``, missing optional extras, same settings -> same bits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dmfsharp as dmf
import numpy as np
import pytest
from dmfsharp.cli import build_parser, main

SRC = str(Path(dmf.__file__).resolve().parents[1])
TESTS = str(Path(__file__).resolve().parent)


def _cli(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def _one_line_error(rc, err, *needles):
    assert rc == 2, err
    assert err.startswith("dmfsharp: error: ") and err.count("\n") == 1, err
    for n in needles:
        assert n in err, err


# ---------------------------------------------------------------------------------- API
def test_complex_weights_and_targets_are_refused_not_cut_to_real():
    with pytest.raises(TypeError, match=r"weights\[0\] \(W_1\): complex entries"):
        dmf.Factorization([np.eye(2) * (1 + 1j)])
    with pytest.raises(TypeError, match="target: complex entries"):
        dmf.Factorization([np.eye(2)], target=np.eye(2) * 1j)
    with pytest.raises(TypeError, match="expected real numbers"):
        dmf.Factorization([np.array([["a", "b"]])])


def test_non_integer_dims_depths_and_ranks_are_refused_not_truncated():
    with pytest.raises(TypeError, match=r"dims: every width must be an integer, got 2\.5"):
        dmf.gaussian_minimizer((2.5, 3))
    with pytest.raises(TypeError, match="depth: expected an integer"):
        dmf.scalar_minimizer(3.7)
    with pytest.raises(TypeError, match="rank: expected an integer"):
        dmf.random_target((3, 3), rank=1.5)
    with pytest.raises(ValueError, match="rng: must be None, an integer >= 0"):
        dmf.gaussian_minimizer((2, 2), rng=-5)


def test_nan_direction_and_nan_tolerances_are_refused():
    fac = dmf.gaussian_minimizer((2, 3, 2), rng=0)
    u = np.ones(fac.n_params)
    u[1] = np.nan
    with pytest.raises(ValueError, match="direction: contains non-finite"):
        dmf.hvp(fac, u)
    with pytest.raises(ValueError, match="direction: contains non-finite"):
        dmf.hvp(fac, [np.full((3, 2), np.inf), np.ones((2, 3))])
    with pytest.raises(ValueError, match="rtol_minimizer: must be a finite number"):
        dmf.sharpness(fac, rtol_minimizer=float("nan"))
    with pytest.raises(ValueError, match="rtol_minimizer"):
        fac.is_minimizer(-1.0)
    with pytest.raises(ValueError, match=r"converge_rtol|stop_rtol"):
        from dmfsharp.escape import escape

        escape(fac, converge_rtol=float("nan"))
    with pytest.raises(ValueError, match="stop_after_distance"):
        dmf.gradient_descent(fac, 0.1, 5, direction=np.ones(fac.n_params), stop_after_distance=-1.0)
    with pytest.raises(ValueError, match="tol: must be in"):
        dmf.sharpness(fac, tol=float("nan"))
    with pytest.raises(ValueError, match="rtol"):
        dmf.balance(fac, rtol=float("nan"))


def test_size_is_estimated_before_allocating():
    with pytest.raises(ValueError, match=r"needs about .* GiB .* max_bytes"):
        dmf.gaussian_minimizer((100_000, 100_000))


# ---------------------------------------------------------------------------------- CLI
def test_cli_scalar_kind_with_non_unit_dims(tmp_path, capsys):
    rc, _out, err = _cli(
        ["random", "--kind", "scalar", "--dims", "4,8,3", "-o", str(tmp_path / "s.npz")], capsys
    )
    _one_line_error(rc, err, "--kind scalar needs every width 1")
    assert not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["random", "--dims", "2.5,3", "-o", "x.npz"], "--dims"),
        (["random", "--dims", "2,3", "--seed", "-5", "-o", "x.npz"], "--seed"),
        (["random", "--dims", "100000,100000", "-o", "x.npz"], "GiB"),
        (["sweep", "cfg.json", "--workers", "0"], "--workers"),
        (["escape", "f.npz", "--seed", "x"], "--seed"),
    ],
)
def test_cli_bad_options_one_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse rejects the option itself
        rc = exc.code
    _one_line_error(rc, capsys.readouterr().err, needle)


def test_cli_output_suffix_and_missing_folder(tmp_path, capsys):
    rc, out, err = _cli(["random", "--dims", "2,2", "-o", str(tmp_path / "x.txt")], capsys)
    _one_line_error(rc, err, "must end in .npz")
    assert not list(tmp_path.iterdir())
    rc, out, _ = _cli(["random", "--dims", "2,2", "-o", str(tmp_path / "x")], capsys)
    assert rc == 0 and out.startswith(f"wrote {tmp_path / 'x.npz'}:")
    assert (tmp_path / "x.npz").exists()
    missing = tmp_path / "no" / "f.npz"
    rc, _, err = _cli(["random", "--dims", "2,2", "-o", str(missing)], capsys)
    _one_line_error(rc, err, f"folder {missing.parent} does not exist")
    assert ".tmp" not in err


def test_cli_non_archive_and_complex_files(tmp_path, capsys):
    txt = tmp_path / "x.txt"
    txt.write_text("W1 = [[1, 2]]\n")
    rc, _, err = _cli(["sharpness", str(txt)], capsys)
    _one_line_error(rc, err, "not a NumPy file; expected an .npz archive")
    assert "pickled" not in err
    npy = tmp_path / "w.npy"
    np.save(npy, np.eye(2))
    rc, _, err = _cli(["sharpness", str(npy)], capsys)
    _one_line_error(rc, err, "is an .npy file")
    cplx = tmp_path / "c.npz"
    np.savez(cplx, W1=np.eye(2) * (1 + 2j))
    rc, _, err = _cli(["sharpness", str(cplx)], capsys)
    _one_line_error(rc, err, "complex entries are not supported")


def test_cli_sharpness_on_data(tmp_path, capsys):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 3)) * [3.0, 1.0, 0.2]
    Y = X @ rng.standard_normal((3, 2)) + 0.1 * rng.standard_normal((40, 2))
    dmf.save_data(tmp_path / "d.npz", X, Y)
    data = dmf.Data(X, Y)
    P = data.target @ np.linalg.pinv(data.F)
    fac = dmf.balanced_minimizer(P, (3, 4, 2))
    dmf.save_factors(tmp_path / "f.npz", fac)
    rc, out, _ = _cli(
        ["sharpness", str(tmp_path / "f.npz"), "--data", str(tmp_path / "d.npz"), "--json"], capsys
    )
    assert rc == 0
    doc = json.loads(out)
    ref = dmf.sharpness(dmf.Factorization(fac.weights, data=data))
    assert doc["lambda_max"] == pytest.approx(ref.lambda_max, rel=1e-12)
    assert doc["n_samples"] == 40 and doc["reduction"] == "mean" and doc["is_minimizer"] is True
    assert {"lambda_max", "is_minimizer", "method", "trace", "residual"} <= set(doc)
    rc, out, _ = _cli(
        [
            "sharpness",
            str(tmp_path / "f.npz"),
            "--data",
            str(tmp_path / "d.npz"),
            "--reduction",
            "sum",
            "--json",
        ],
        capsys,
    )
    assert json.loads(out)["lambda_max"] == pytest.approx(40 * ref.lambda_max, rel=1e-12)
    rc, out, _ = _cli(
        ["sharpness", str(tmp_path / "f.npz"), "--data", str(tmp_path / "d.npz")], capsys
    )
    assert rc == 0 and "n = 40, mean" in out
    rc, out, _ = _cli(
        ["escape", str(tmp_path / "f.npz"), "--data", str(tmp_path / "d.npz"), "--steps", "300"],
        capsys,
    )
    assert rc == 0 and "lambda_max =" in out and "flattest" not in out.splitlines()[0]
    np.savez(tmp_path / "bad.npz", X=X, Y=Y[:5])
    rc, _, err = _cli(
        ["sharpness", str(tmp_path / "f.npz"), "--data", str(tmp_path / "bad.npz")], capsys
    )
    _one_line_error(rc, err, "Y: has 5 rows but X has 40")
    np.savez(tmp_path / "names.npz", inputs=X, Y=Y)
    rc, _, err = _cli(
        ["sharpness", str(tmp_path / "f.npz"), "--data", str(tmp_path / "names.npz")], capsys
    )
    _one_line_error(rc, err, "expected exactly X (n, d_0) and Y (n, d_L)")


def test_every_option_shows_its_default_in_help():
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, p in sub.choices.items():
        text = p.format_help()
        for act in p._actions:
            if not act.option_strings or isinstance(act, argparse._HelpAction):
                continue
            assert act.help, f"{name} {act.option_strings}: no help text"
        n_opts = sum(
            1 for a in p._actions if a.option_strings and not isinstance(a, argparse._HelpAction)
        )
        assert text.count("(default:") >= n_opts, f"dmfsharp {name} --help:\n{text}"


def test_example_sweep_config_is_shipped(tmp_path, capsys):
    rc, out, _ = _cli(["example", str(tmp_path / "sweep.json")], capsys)
    assert rc == 0 and "dmfsharp sweep" in out
    from dmfsharp.sweep import SweepConfig

    cfg = SweepConfig.from_file(tmp_path / "sweep.json")
    assert len(cfg.cells()) == 24
    rc, _, err = _cli(["example", str(tmp_path / "sweep.json")], capsys)
    _one_line_error(rc, err, "exists")


# ---------------------------------------------------------------------------------- extras
def _hidden(modules, code: str, cwd) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in which ``modules`` cannot be imported."""
    prelude = f"import sys\nfor m in {list(modules)!r}:\n    sys.modules[m] = None\n"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("module", "extra", "argv"),
    [
        ("matplotlib", "plot", ["figure", "fig1", "-o", "out"]),
        ("matplotlib", "plot", ["demo", "--out", "out"]),
        ("distributed", "dask", ["sweep", "cfg.json", "--scheduler", "tcp://127.0.0.1:9"]),
    ],
)
def test_missing_extra_is_one_line_naming_it(module, extra, argv, tmp_path):
    (tmp_path / "cfg.json").write_text(
        json.dumps({"depths": [2], "widths": [2], "eta_factors": [1.1], "seeds": [0]})
    )
    code = f"from dmfsharp.cli import main\nsys.exit(main({argv!r}))"
    proc = _hidden([module, module + ".pyplot"], code, tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"pip install 'dmfsharp[{extra}]'" in proc.stderr


def test_missing_torch_and_numba_name_their_extras(tmp_path):
    code = (
        "import dmfsharp as dmf\n"
        "try:\n    dmf.from_torch([], target=[[1.0]])\n"
        "except ImportError as e:\n    print(e)\n"
        "try:\n    dmf.gd_batch([dmf.scalar_minimizer(3, rng=0)], [0.1], 5, engine='numba')\n"
        "except ValueError as e:\n    print(e)\n"
    )
    proc = _hidden(["torch", "numba"], code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'dmfsharp[torch]'" in proc.stdout
    assert "pip install 'dmfsharp[fast]'" in proc.stdout


def test_test_files_collect_with_only_the_test_extra(tmp_path):
    code = (
        "import pytest\n"
        f"sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', {TESTS!r}]))"
    )
    proc = _hidden(["torch", "numba", "matplotlib", "distributed", "dask"], code, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert "collected" in last and "error" not in last, last


# ---------------------------------------------------------------------------------- determinism
def test_a_sweep_cell_run_twice_gives_identical_records():
    from dmfsharp.sweep import SweepConfig, run_cell

    # width 64 >= 32: Lanczos on K with the Kronecker-subspace start (its sketches were unseeded)
    cfg = SweepConfig((2,), (64,), (1.1,), (0,), steps=40)
    cell = cfg.cells()[0]
    a, b = run_cell(cfg, cell), run_cell(cfg, cell)
    a.pop("elapsed_s"), b.pop("elapsed_s")
    assert a == b  # same code path, same settings: bit-identical records


def test_sharpness_is_a_pure_function_of_its_inputs():
    fac = dmf.gaussian_minimizer((40, 10, 36), rng=3)
    for method in ("lanczos-K", "lanczos-K-factored", "lanczos-JtJ"):
        r1, r2 = dmf.sharpness(fac, method=method), dmf.sharpness(fac, method=method)
        assert r1.lambda_max == r2.lambda_max and np.array_equal(
            r1.flat_eigenvector(), r2.flat_eigenvector()
        )
    off = dmf.Factorization(fac.weights, target=np.zeros(fac.target.shape))
    r1, r2 = dmf.sharpness(off, method="lanczos-hvp"), dmf.sharpness(off, method="lanczos-hvp")
    assert r1.lambda_max == r2.lambda_max


def test_module_import_graph_has_no_cycles():
    """Every ``from .x import`` (lazy ones inside functions too) points one way."""
    import ast
    from graphlib import CycleError, TopologicalSorter

    pkg = Path(dmf.__file__).parent
    graph = {}
    for path in pkg.glob("*.py"):
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names)
        graph[path.stem] = deps - {path.stem}
    graph.pop("__init__")
    for deps in graph.values():
        deps.discard("__init__")
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:  # pragma: no cover - the message names the cycle
        raise AssertionError(f"import cycle: {exc.args[1]}") from None
    assert order.index("_checks") < order.index("factorization") < order.index("spectrum")
