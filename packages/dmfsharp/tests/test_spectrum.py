"""Exact sharpness / spectrum at minimizers against independent dense Hessians.

Ground truths: (1) the Hessian of the loss by autodiff (``torch.func.hessian``, skipped without
torch), (2) central finite differences of the analytic gradient. Neither uses the K reduction.
"""

import dmfsharp as dmf
import numpy as np
import pytest

N_CASES = 208
SEED = 2509


def _random_minimizer(i: int) -> tuple[str, dmf.Factorization]:
    """Case ``i`` of a deterministic battery of small minimizers covering depth 2-6, bottleneck
    widths, rank-deficient targets, a zero factor, repeated top eigenvalues, scalar and vector
    factorizations."""
    rng = np.random.default_rng([SEED, i])
    kind = i % 8
    L = int(rng.integers(2, 7))
    dims = [int(d) for d in rng.integers(1, 6, size=L + 1)]
    if kind == 0:
        return "gaussian", dmf.gaussian_minimizer(dims, rng)
    if kind == 1:  # bottleneck of width 1 somewhere inside
        dims[int(rng.integers(1, L))] = 1
        dims[0], dims[-1] = max(dims[0], 2), max(dims[-1], 2)
        return "bottleneck", dmf.gaussian_minimizer(dims, rng)
    if kind in (2, 3):  # rank-deficient target, hidden widths >= rank
        d0, dl = int(rng.integers(2, 5)), int(rng.integers(2, 5))
        r = int(rng.integers(1, min(d0, dl)))
        hidden = [int(rng.integers(r, 5)) for _ in range(L - 1)]
        M = dmf.random_target((dl, d0), rank=r, rng=rng)
        if kind == 2:
            return "balanced rank-deficient", dmf.balanced_minimizer(M, (d0, *hidden, dl), rng)
        return "unbalanced rank-deficient", dmf.unbalanced_minimizer(
            M, (d0, *hidden, dl), rng, spread=0.4
        )
    if kind == 4:  # one factor exactly zero (product and target zero)
        fac = dmf.gaussian_minimizer(dims, rng)
        ws = [w.copy() for w in fac.weights]
        ws[int(rng.integers(0, L))][:] = 0.0
        return "zero factor", dmf.Factorization(ws)
    if kind == 5:  # M = s * orthogonal: repeated top eigenvalues of K
        d = int(rng.integers(2, 4))
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        hidden = [int(rng.integers(d, 5)) for _ in range(L - 1)]
        return "repeated top", dmf.balanced_minimizer(1.7 * q, (d, *hidden, d), rng)
    if kind == 6:
        return "scalar", dmf.scalar_minimizer(L, rng=rng, spread=0.6)
    dims[0 if rng.random() < 0.5 else -1] = 1  # vector input or output
    return "vector", dmf.gaussian_minimizer(dims, rng)


CASES = [_random_minimizer(i) for i in range(N_CASES)]


def torch_hessian(fac: dmf.Factorization, scale: float) -> np.ndarray:
    """Dense Hessian of ``c ||W_L...W_1 - M||^2`` by ``torch.func.hessian`` (float64)."""
    import torch

    shapes = fac.shapes
    M = torch.tensor(np.array(fac.target))

    def loss(x):
        out, start = None, 0
        for r, cc in shapes:
            w = x[start : start + r * cc].reshape(r, cc)
            start += r * cc
            out = w if out is None else w @ out
        return scale * torch.sum((out - M) ** 2)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny problems: thread start-up/oversubscription dominates
    try:
        H = torch.func.hessian(loss)(torch.tensor(fac.to_vector())).numpy()
    finally:
        torch.set_num_threads(threads)
    return 0.5 * (H + H.T)


def fd_hessian(fac: dmf.Factorization, scale: float) -> np.ndarray:
    """Central finite differences of the analytic gradient."""
    return dmf.finite_difference_hessian(fac, scale, eps=1e-5)


def _check_against(H: np.ndarray, fac, scale, rtol_lambda: float, rtol_spec: float):
    w = np.linalg.eigvalsh(H)[::-1]
    lam_ref = w[0]
    res = dmf.sharpness(fac, scale)
    ref_scale = max(abs(lam_ref), 1e-300)
    assert res.is_minimizer and res.converged
    if lam_ref == 0:
        assert res.lambda_max == 0
    else:
        assert abs(res.lambda_max - lam_ref) <= rtol_lambda * ref_scale
    v = res.flat_eigenvector()
    assert abs(np.linalg.norm(v) - 1) < 1e-12
    assert np.linalg.norm(H @ v - res.lambda_max * v) <= rtol_spec * max(ref_scale, 1.0)
    spec = dmf.hessian_spectrum(fac, scale)
    full = np.zeros(fac.n_params)
    full[: spec.rank] = spec.eigenvalues
    np.testing.assert_allclose(full, w, rtol=0, atol=rtol_spec * max(ref_scale, 1.0))
    assert spec.rank <= fac.dims[0] * fac.dims[-1]
    assert abs(spec.trace - np.trace(H)) <= rtol_spec * max(abs(np.trace(H)), 1.0)
    return res


def test_battery_covers_the_required_families():
    kinds = {k for k, _ in CASES}
    assert len(CASES) >= 200
    assert kinds == {
        "gaussian",
        "bottleneck",
        "balanced rank-deficient",
        "unbalanced rank-deficient",
        "zero factor",
        "repeated top",
        "scalar",
        "vector",
    }
    assert {fac.depth for _, fac in CASES} == {2, 3, 4, 5, 6}
    assert all(fac.is_minimizer(1e-12) for _, fac in CASES)
    # the repeated-top family really has a repeated top Hessian eigenvalue
    for kind, fac in CASES:
        if kind == "repeated top":
            top = dmf.hessian_spectrum(fac).eigenvalues[:2]
            assert top[1] == pytest.approx(top[0], rel=1e-10)


@pytest.mark.torch
def test_exact_sharpness_matches_torch_autodiff_hessian():
    pytest.importorskip("torch", reason="torch extra not installed: autodiff check skipped")
    for i, (kind, fac) in enumerate(CASES):
        scale = 0.5 if i % 2 == 0 else 1.0  # both conventions, alternating
        H = torch_hessian(fac, scale)
        try:
            _check_against(H, fac, scale, rtol_lambda=1e-10, rtol_spec=1e-10)
        except AssertionError as exc:  # pragma: no cover - report which case failed
            raise AssertionError(f"{kind} {fac}: {exc}") from exc


def test_exact_sharpness_matches_finite_difference_hessian():
    for kind, fac in CASES:
        H = fd_hessian(fac, 0.5)
        try:
            _check_against(H, fac, 0.5, rtol_lambda=1e-7, rtol_spec=1e-6)
        except AssertionError as exc:  # pragma: no cover
            raise AssertionError(f"{kind} {fac}: {exc}") from exc


@pytest.mark.parametrize("i", range(0, N_CASES, 7))
def test_lanczos_k_agrees_with_dense_k(i):
    _, fac = CASES[i]
    dense = dmf.sharpness(fac, method="dense-K")
    lan = dmf.sharpness(fac, method="lanczos-K", tol=1e-10)
    assert lan.converged
    assert lan.lambda_max == pytest.approx(dense.lambda_max, rel=1e-10, abs=1e-14)
    H = dmf.dense_hessian(fac)
    v = lan.flat_eigenvector()
    assert np.linalg.norm(H @ v - lan.lambda_max * v) <= 1e-7 * max(lan.lambda_max, 1.0)
    assert lan.eigen_residual == pytest.approx(
        np.linalg.norm(H @ v - lan.lambda_max * v), rel=1e-3, abs=1e-12
    )


def test_lanczos_k_on_a_larger_minimizer_matches_dense_k():
    fac = dmf.gaussian_minimizer((14, 12, 3, 12, 16), rng=4)  # bottleneck 3, d_L d_0 = 224
    dense = dmf.sharpness(fac, method="dense-K")
    lan = dmf.sharpness(fac, method="lanczos-K")
    assert lan.method == "lanczos-K" and lan.converged and lan.n_matvecs > 0
    assert lan.lambda_max == pytest.approx(dense.lambda_max, rel=1e-10)
    # eigenvectors agree up to sign
    overlap = abs(np.dot(lan.flat_eigenvector(), dense.flat_eigenvector()))
    assert overlap == pytest.approx(1.0, abs=1e-8)
    # auto: dense eigh of the smaller exact problem (J^T J, 306 parameters < d_L d_0 = 500)
    big = dmf.gaussian_minimizer((25, 6, 6, 20), rng=1)
    auto = dmf.sharpness(big)
    assert auto.method == "dense-JtJ" and auto.gauss_newton
    forced = dmf.sharpness(big, method="lanczos-K", tol=1e-10)
    assert auto.lambda_max == pytest.approx(forced.lambda_max, rel=1e-12)


def test_top_eigenpairs_match_dense_hessian():
    for i in (0, 9, 18, 21):
        _, fac = CASES[i]
        H = dmf.dense_hessian(fac)
        w = np.linalg.eigvalsh(H)[::-1]
        k = min(3, fac.dims[0] * fac.dims[-1])
        pairs = dmf.top_eigenpairs(fac, k=k)
        np.testing.assert_allclose(pairs.eigenvalues, w[:k], rtol=1e-10, atol=1e-12)
        for lam, vec in zip(pairs.eigenvalues, pairs.eigenvectors):
            v = fac.join(vec)
            assert np.linalg.norm(H @ v - lam * v) <= 1e-9 * max(w[0], 1)
    fac = dmf.gaussian_minimizer((24, 5, 5, 20), rng=3)  # d_L d_0 = 480: Lanczos route
    pairs = dmf.top_eigenpairs(fac, k=4)
    assert pairs.method == "lanczos-K"
    ref = np.linalg.eigvalsh(dmf.k_matrix(fac))[::-1][:4]
    np.testing.assert_allclose(pairs.eigenvalues, ref, rtol=1e-9)
    assert np.all(pairs.eigen_residuals <= 1e-6 * ref[0])


def test_k_operator_matches_dense_k_and_blocks():
    fac = dmf.gaussian_minimizer((3, 4, 2, 5), rng=0)
    K = dmf.k_operator(fac)
    Kd = dmf.k_matrix(fac)
    X = np.random.default_rng(1).standard_normal((6, 5, 3))
    np.testing.assert_allclose(K.apply(X)[2], (Kd @ X[2].ravel()).reshape(5, 3), rtol=1e-12)
    np.testing.assert_allclose(K @ X.reshape(6, -1).T, Kd @ X.reshape(6, -1).T, rtol=1e-12)
    # K = J J^T with J the Jacobian of the product: K(X) = J[J^T X]
    UX = [a.T @ X[0] @ b.T for a, b in zip(fac.lefts, fac.rights)]
    JJt = sum(a @ u @ b for a, u, b in zip(fac.lefts, UX, fac.rights))
    np.testing.assert_allclose(K.apply(X[0]), JJt, rtol=1e-12)


@pytest.mark.parametrize("dims", [(3, 4, 2), (2, 3, 1, 4, 2), (4, 3, 3, 3, 3, 4)])
def test_off_minimizer_full_hessian_routes(dims):
    rng = np.random.default_rng(11)
    base = dmf.gaussian_minimizer(dims, rng)
    fac = dmf.Factorization(base.weights, target=rng.standard_normal((dims[-1], dims[0])))
    H = fd_hessian(fac, 0.5)
    ref = np.linalg.eigvalsh(H)[-1]
    dense = dmf.sharpness(fac)
    assert not dense.is_minimizer and dense.method == "dense-hessian"
    lan = dmf.sharpness(fac, method="lanczos-hvp", rng=0, tol=1e-12)
    assert lan.converged and lan.method == "lanczos-hvp" and lan.n_matvecs > 0
    for res in (dense, lan):
        assert res.lambda_max == pytest.approx(ref, rel=1e-7)
        v = res.flat_eigenvector()
        assert np.linalg.norm(H @ v - res.lambda_max * v) <= 1e-6 * abs(ref)
        assert "not a minimizer" in res.note
    # the K reduction is refused off a minimizer, with one clear line
    with pytest.raises(ValueError, match="not a minimizer") as info:
        dmf.sharpness(fac, method="lanczos-K")
    assert "\n" not in str(info.value)
    # the trace formula holds at any point
    assert dmf.hessian_trace(fac) == pytest.approx(np.trace(H), rel=1e-8)


def test_sharpness_scales_with_2c_and_validates_arguments():
    fac = CASES[0][1]
    assert dmf.sharpness(fac, 1.0).lambda_max == pytest.approx(
        2 * dmf.sharpness(fac, 0.5).lambda_max, rel=1e-13
    )
    with pytest.raises(ValueError, match="method: must be one of"):
        dmf.sharpness(fac, method="power")
    with pytest.raises(ValueError, match="scale"):
        dmf.sharpness(fac, scale=0)
    with pytest.raises(TypeError, match="fac: expected a dmfsharp"):
        dmf.sharpness([np.eye(2)])
    with pytest.raises(ValueError, match="k: must be an integer"):
        dmf.top_eigenpairs(fac, k=0)
    with pytest.raises(ValueError, match="scalar-closed-form"):
        dmf.sharpness(dmf.gaussian_minimizer((2, 2, 2), rng=0), method="scalar-closed-form")


def test_s_bound_counterexample_exact_value():
    fac = dmf.Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])
    for method in ("dense-K", "lanczos-K", "dense-hessian", "lanczos-hvp"):
        assert dmf.sharpness(fac, 1.0, method=method, rng=0).lambda_max == pytest.approx(
            402.0, rel=1e-12
        )
    spec = dmf.hessian_spectrum(fac, 1.0)
    np.testing.assert_allclose(spec.eigenvalues, [402, 216, 204, 18], rtol=1e-13)
    assert spec.trace == pytest.approx(840.0, rel=1e-14) and spec.rank == 4


@pytest.mark.torch
def test_lanczos_k_on_a_mid_size_minimizer_matches_torch_autodiff():
    # d_L d_0 = 440 > DENSE_K_MAX: the auto method is Lanczos on K; reference: a dense
    # torch.func.hessian of the loss (576 parameters), no K involved.
    pytest.importorskip("torch", reason="torch extra not installed: autodiff check skipped")
    fac = dmf.gaussian_minimizer((22, 12, 3, 12, 20), rng=21)
    H = torch_hessian(fac, 0.5)
    w = np.linalg.eigvalsh(H)
    res = dmf.sharpness(fac)
    assert res.method.startswith("lanczos") and res.gauss_newton and res.converged
    assert res.lambda_max == pytest.approx(w[-1], rel=1e-10)
    v = res.flat_eigenvector()
    assert np.linalg.norm(H @ v - res.lambda_max * v) <= 1e-6 * w[-1]
    assert dmf.hessian_trace(fac) == pytest.approx(np.trace(H), rel=1e-12)


def test_non_convergence_is_reported_not_hidden():
    fac = dmf.gaussian_minimizer((25, 6, 6, 20), rng=2)
    res = dmf.sharpness(fac, method="lanczos-K", tol=1e-15, maxiter=1)
    assert not res.converged and "DID NOT CONVERGE" in res.note
    exact = dmf.sharpness(fac).lambda_max  # converged Lanczos (tested against dense elsewhere)
    assert res.lambda_max <= exact * (1 + 1e-12)  # a Rayleigh quotient: never above lambda_max
    assert res.eigen_residual > 0


@pytest.mark.parametrize("dims", [(33, 8, 2, 8, 34), (40, 1, 36), (32, 40, 40, 32)])
def test_kronecker_subspace_start_then_lanczos_matches_hvp_lanczos(dims):
    # min(d_L, d_0) >= 32: Lanczos on K starts from the Kronecker-subspace Ritz vector.
    # Reference: Lanczos on the analytic Hessian-vector product (no K), random start.
    from dmfsharp.operators import (
        KRON_START_MIN_WIDTH,
        kronecker_subspace_start,
        rank_one_start,
    )

    fac = dmf.gaussian_minimizer(dims, rng=5)
    assert min(dims[0], dims[-1]) >= KRON_START_MIN_WIDTH
    res = dmf.sharpness(fac, method="lanczos-K")
    assert res.method == "lanczos-K" and res.converged and "Kronecker" in res.note
    ref = dmf.sharpness(fac, method="lanczos-hvp", tol=1e-13, rng=1)
    assert res.lambda_max == pytest.approx(ref.lambda_max, rel=1e-10)
    u = res.flat_eigenvector()
    Hu = fac.join(dmf.hvp(fac, u))
    assert np.linalg.norm(Hu - res.lambda_max * u) <= 1e-6 * res.lambda_max
    # the start vector is a unit Ritz vector: Rayleigh quotient <= lambda_max(K), and close
    K = dmf.k_operator(fac)
    X = kronecker_subspace_start(K, rank_one_start(fac, K, 0), 0)
    assert np.linalg.norm(X) == pytest.approx(1.0, abs=1e-12)
    rq = 2 * 0.5 * float(np.sum(X * K.apply(X)))
    assert res.lambda_max * (1 - 1e-3) <= rq <= res.lambda_max * (1 + 1e-12)


@pytest.mark.slow
@pytest.mark.torch
def test_large_minimizer_matches_autograd_hvp_lanczos():
    # width 64, L = 8 (d_L d_0 = 4096, 32 768 parameters): the Kronecker-start Lanczos on K
    # against Lanczos on the torch.func forward-over-reverse HVP (no K, no analytic HVP).
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    from scipy.sparse.linalg import LinearOperator, eigsh

    fac = dmf.gaussian_minimizer((64,) * 9, rng=8)
    ws = [torch.tensor(np.array(w)) for w in fac.weights]
    M = torch.tensor(np.array(fac.target))
    sizes = [w.numel() for w in ws]

    def loss(params):
        P = params[0]
        for w in params[1:]:
            P = w @ P
        return 0.5 * torch.sum((P - M) ** 2)

    grad = torch.func.grad(loss)

    def matvec(x):
        parts = torch.split(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)), sizes)
        v = [p.reshape(w.shape) for p, w in zip(parts, ws)]
        return torch.cat([h.reshape(-1) for h in torch.func.jvp(grad, (ws,), (v,))[1]]).numpy()

    n = sum(sizes)
    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(n)
    ref = eigsh(op, k=1, which="LA", tol=1e-12, v0=v0, return_eigenvectors=False)[0]
    res = dmf.sharpness(fac, method="lanczos-K")
    assert res.method == "lanczos-K" and "Kronecker" in res.note
    assert res.lambda_max == pytest.approx(ref, rel=1e-10)
    auto = dmf.sharpness(fac)
    assert auto.gauss_newton and auto.lambda_max == pytest.approx(ref, rel=1e-10)
    u = res.flat_eigenvector()
    assert np.linalg.norm(matvec(u) - res.lambda_max * u) <= 1e-6 * ref
