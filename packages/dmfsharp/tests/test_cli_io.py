"""CLI (`dmfsharp sharpness/random/demo`), npz I/O, bad input and the torch adapter."""

import json
import subprocess
import sys

import dmfsharp as dmf
import numpy as np
import pytest
from dmfsharp.cli import main


def _run(argv, capsys):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_random_then_sharpness_json(tmp_path, capsys):
    f = tmp_path / "f.npz"
    rc, out, _ = _run(["random", "--dims", "4,8,8,3", "--seed", "0", "-o", str(f)], capsys)
    assert rc == 0 and f.exists()
    rc, out, _ = _run(["sharpness", str(f), "--json"], capsys)
    assert rc == 0
    data = json.loads(out)
    required = {"lambda_max", "spectral_norm_bound", "flattest", "trace", "residual"}
    assert required | {"is_minimizer", "method"} <= set(data)
    fac = dmf.gaussian_minimizer((4, 8, 8, 3), rng=0)
    H = dmf.dense_hessian(fac)
    assert data["lambda_max"] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-12)
    assert data["trace"] == pytest.approx(np.trace(H), rel=1e-12)
    assert data["is_minimizer"] is True and data["residual"] == 0.0
    assert data["spectral_norm_bound"] >= data["lambda_max"]
    assert data["flattest"] == pytest.approx(dmf.flattest_sharpness(fac.target, 3))
    assert data["rank"] == 12  # d_L d_0 at a generic minimizer
    rc, out, _ = _run(["sharpness", str(f), "--json", "--scale", "1"], capsys)
    assert json.loads(out)["lambda_max"] == pytest.approx(2 * data["lambda_max"], rel=1e-12)


def test_sharpness_text_table_and_target(tmp_path, capsys):
    f = tmp_path / "c.npz"
    np.savez(f, W1=np.diag([2.0, 1.0]), W2=np.diag([1.0, 10.0]), W3=np.eye(2))
    rc, out, _ = _run(["sharpness", str(f), "--scale", "1"], capsys)
    assert rc == 0
    assert "402" in out and "408" in out and "NOT tight" in out and "rank" in out
    # a target that is not the product: full-Hessian route, S not reported
    m = tmp_path / "m.npy"
    np.save(m, np.eye(2))
    rc, out, _ = _run(["sharpness", str(f), "--target", str(m), "--json"], capsys)
    data = json.loads(out)
    fac = dmf.Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)], np.eye(2))
    assert data["is_minimizer"] is False and data["spectral_norm_bound"] is None
    assert data["method"] == "dense-hessian"
    assert data["lambda_max"] == pytest.approx(np.linalg.eigvalsh(dmf.dense_hessian(fac))[-1])
    assert data["residual"] == pytest.approx(np.linalg.norm(np.diag([1.0, 9.0])))


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"W1": np.ones((3, 2)), "W2": np.ones((2, 2))}, "not conformable"),
        ({"W1": np.array([[np.nan]])}, "non-finite"),
        ({"W1": np.ones((3, 2)), "target": np.ones((2, 3))}, "target: shape"),
        ({"A": np.ones((2, 2))}, "unexpected arrays"),
        ({"W1": np.ones((2, 2)), "W3": np.ones((2, 2))}, "without gaps"),
        ({"target": np.ones((2, 2))}, "no arrays named W1"),
    ],
)
def test_bad_factor_files_give_one_error_line(tmp_path, capsys, arrays, message):
    f = tmp_path / "bad.npz"
    np.savez(f, **arrays)
    rc, out, err = _run(["sharpness", str(f)], capsys)
    assert rc == 2 and out == ""
    assert err.startswith("dmfsharp: error:") and message in err
    assert err.count("\n") == 1


def test_bad_paths_and_pickles(tmp_path, capsys):
    rc, _, err = _run(["sharpness", str(tmp_path / "missing.npz")], capsys)
    assert rc == 2 and err.count("\n") == 1
    f = tmp_path / "obj.npz"
    np.savez(f, W1=np.array([{"a": 1}], dtype=object))
    rc, _, err = _run(["sharpness", str(f)], capsys)
    assert rc == 2 and "pickle" in err.lower() and err.count("\n") == 1
    good = tmp_path / "g.npz"
    dmf.save_factors(good, dmf.gaussian_minimizer((2, 3, 2), rng=0))
    rc, _, err = _run(["sharpness", str(good), "--target", str(good)], capsys)
    assert rc == 2 and "--target" in err
    rc, _, err = _run(["sharpness", str(good), "--scale", "-1"], capsys)
    assert rc == 2 and "scale" in err


def test_non_minimizer_where_a_minimizer_is_required():
    fac = dmf.Factorization([np.eye(2), np.eye(2)], target=np.zeros((2, 2)))
    for call in (
        lambda: dmf.hessian_spectrum(fac),
        lambda: dmf.top_eigenpairs(fac),
        lambda: dmf.spectral_norm_bound(fac),
        lambda: dmf.check_claims(fac),
        lambda: dmf.depth2_sharpness(fac),
        lambda: dmf.sharpness(fac, method="dense-K"),
    ):
        with pytest.raises(ValueError, match="not a minimizer") as info:
            call()
        assert "\n" not in str(info.value)


def test_save_load_round_trip(tmp_path):
    fac = dmf.unbalanced_minimizer(np.diag([2.0, 1.0]), (2, 3, 3, 2), rng=5)
    path = tmp_path / "r"  # suffix added
    dmf.save_factors(path, fac)
    back = dmf.load_factors(tmp_path / "r.npz")
    for a, b in zip(fac.weights, back.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.target, fac.target)
    override = dmf.load_factors(tmp_path / "r.npz", target=np.zeros((2, 2)))
    assert not override.is_minimizer()


def test_console_script_subprocess(tmp_path):
    f = tmp_path / "s.npz"
    exe = [sys.executable, "-m", "dmfsharp.cli"]
    subprocess.run(
        [*exe, "random", "--dims", "1,1,1,1,1", "--kind", "scalar", "-o", str(f)],
        check=True,
        capture_output=True,
    )
    proc = subprocess.run([*exe, "sharpness", str(f), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["method"] == "scalar-closed-form"
    assert data["spectral_norm_bound"] == pytest.approx(data["lambda_max"], rel=1e-12)


def test_demo_writes_report_summary_and_figures(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
    from dmfsharp import demo

    # only the sharpness sections here (the escape section has its own test); `make demo` runs all
    monkeypatch.setattr(demo, "SECTIONS", [demo.section_exact_vs_dense, demo.section_bound_gap])
    rc, _, _ = _run(["demo", "--out", str(tmp_path)], capsys)
    assert rc == 0
    report = (tmp_path / "report.md").read_text()
    summary = (tmp_path / "summary.md").read_text()
    assert report.startswith("## dmfsharp")
    assert "| scalar L=15" in report and "Gaussian depth 5" in report
    assert 3 <= summary.count("\n| ") <= 8
    for png in ("sharpness_comparison.png", "bound_gap.png"):
        assert (tmp_path / png).stat().st_size > 1000
    # every exact value in the table agrees with the dense Hessian to 1e-12
    rows = [line.split("|") for line in report.splitlines() if line.startswith("| ")]
    rel = [float(r[7]) for r in rows if len(r) == 12 and r[7].strip()[:1].isdigit()]
    assert len(rel) >= 5 and max(rel) < 1e-12


# ---------------------------------------------------------------------------------- torch
@pytest.mark.torch
def test_torch_adapter_round_trip():
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 5, bias=False),
        torch.nn.Linear(5, 4, bias=False),
        torch.nn.Linear(4, 2, bias=False),
    ).double()
    with pytest.raises(ValueError, match="has no target of its own") as info:
        dmf.from_torch(net)  # never the product as a silent target
    assert "\n" not in str(info.value) and "Data(X, Y)" in str(info.value)
    product = net[2].weight @ net[1].weight @ net[0].weight
    fac = dmf.from_torch(net, target=product)
    assert fac.dims == (3, 5, 4, 2) and fac.is_minimizer()
    x = torch.randn(7, 3, dtype=torch.float64)
    np.testing.assert_allclose(net(x).detach().numpy(), x.numpy() @ fac.product.T, rtol=1e-12)
    back = dmf.to_torch(fac)
    for a, b in zip(net, back):
        assert torch.equal(a.weight, b.weight)
    target = torch.zeros(2, 3, dtype=torch.float64)
    assert not dmf.from_torch(net, target=target).is_minimizer()
    with pytest.raises(ValueError, match="has a bias"):
        dmf.from_torch(torch.nn.Sequential(torch.nn.Linear(3, 2)), target=np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"model\[1\].*no nonlinearities"):
        dmf.from_torch(
            torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False), torch.nn.ReLU()),
            target=np.zeros((2, 3)),
        )
    # a single nn.Linear is a depth-1 network (it used to fail with "'Linear' is not iterable")
    lin = torch.nn.Linear(3, 2, bias=False).double()
    one = dmf.from_torch(lin, target=np.zeros((2, 3)))
    assert one.depth == 1
    np.testing.assert_array_equal(one.weights[0], lin.weight.detach().numpy())
    with pytest.raises(TypeError, match=r"expected nn\.Linear, nn\.Sequential"):
        dmf.from_torch(torch.nn.ReLU(), target=np.zeros((2, 3)))


def test_package_imports_without_touching_torch():
    code = "import sys, dmfsharp; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_parser_builds_without_scipy():
    # every command (--help, --version, a bad option) builds the parser first: it must not pull in
    # the library's numerical modules, which the subcommands import when they run
    code = (
        "import sys\nfrom dmfsharp.cli import build_parser\nbuild_parser()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'matplotlib'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
