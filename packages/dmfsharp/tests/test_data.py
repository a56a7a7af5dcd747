"""The data loss (c/n)||W_L...W_1 X - Y||^2 against independent ground truth.

References: ``torch.func.hessian`` of the actual data loss on the raw samples (float64; no
reduction, no K), direct O(n) formulas on the raw samples, and the factorization loss (X = I).
"""

from __future__ import annotations

import dmfsharp as dmf
import numpy as np
import pytest

SEED = 1212
N_CASES = 104
KINDS = ("covariance", "rank-deficient X", "n < d_0", "noisy Y")


def _samples(kind: str, rng, d0: int, dl: int):
    """Inputs X (n, d_0) and targets Y (n, d_L) of one family."""
    if kind == "n < d_0":
        d0 = max(d0, 3)
        n = int(rng.integers(1, d0))
        X = rng.standard_normal((n, d0))
    elif kind == "rank-deficient X":
        d0 = max(d0, 3)
        k = int(rng.integers(1, d0))
        n = int(rng.integers(d0 + 2, 30))
        X = rng.standard_normal((n, k)) @ rng.standard_normal((k, d0))
    else:  # non-identity covariance: eigenvalues spread over [0.1, 9]
        n = int(rng.integers(d0 + 2, 40))
        q, _ = np.linalg.qr(rng.standard_normal((d0, d0)))
        X = rng.standard_normal((n, d0)) * np.sqrt(rng.uniform(0.1, 9.0, d0)) @ q.T
    P_true = rng.standard_normal((dl, d0))
    noise = 0.3 if kind == "noisy Y" else 0.05 * rng.random()
    Y = X @ P_true.T + noise * rng.standard_normal((X.shape[0], dl))
    return X, Y


def data_minimizer(i: int):
    """Case ``i``: a minimizer of a data loss (normal equations), its raw samples and scale."""
    rng = np.random.default_rng([SEED, i])
    kind = KINDS[i % len(KINDS)]
    L = int(rng.integers(2, 5))
    d0, dl = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    X, Y = _samples(kind, rng, d0, dl)
    d0 = X.shape[1]
    reduction = "mean" if i % 2 == 0 else "sum"
    data = dmf.Data(X, Y, reduction)
    P_ls = data.target @ np.linalg.pinv(data.F)  # min-norm least-squares solution (d_L x d_0)
    hidden = [int(rng.integers(min(dl, d0), min(dl, d0) + 3)) for _ in range(L - 1)]
    maker = dmf.balanced_minimizer if i % 3 else dmf.unbalanced_minimizer
    kw = {} if i % 3 else {"spread": 0.3}
    base = maker(P_ls, (d0, *hidden, dl), rng=rng, **kw)
    fac = dmf.Factorization(base.weights, data=data)
    scale = 0.5 if i % 4 < 2 else 1.0
    return kind, fac, X, Y, scale


CASES = [data_minimizer(i) for i in range(N_CASES)]


def torch_data_hessian(weights, X, Y, scale: float, reduction: str) -> np.ndarray:
    """Dense Hessian of c * w * ||W_L...W_1 X^T - Y^T||^2 on the raw samples (torch.func)."""
    import torch

    shapes = [w.shape for w in weights]
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    w = 1.0 / X.shape[0] if reduction == "mean" else 1.0

    def loss(x):
        out, start = Xt.T, 0
        for r, c in shapes:
            W = x[start : start + r * c].reshape(r, c)
            start += r * c
            out = W @ out
        return scale * w * torch.sum((out - Yt.T) ** 2)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x0 = torch.tensor(np.concatenate([np.ravel(a) for a in weights]))
        H = torch.func.hessian(loss)(x0).numpy()
    finally:
        torch.set_num_threads(threads)
    return 0.5 * (H + H.T)


def test_battery_is_of_minimizers_of_the_data_loss():
    assert len(CASES) >= 100
    assert {k for k, *_ in CASES} == set(KINDS)
    for _, fac, X, Y, _ in CASES:
        assert fac.is_minimizer(1e-10)
        P = fac.product
        R = X @ P.T - Y  # residual on the raw samples (rows)
        assert np.linalg.norm(R.T @ X) <= 1e-9 * max(np.linalg.norm(Y.T @ X), 1e-300)
    noisy = [fac for k, fac, *_ in CASES if k == "noisy Y"]
    assert all(f.loss_constant > 1e-3 for f in noisy)  # targets not realizable: nonzero loss


@pytest.mark.torch
def test_exact_sharpness_on_data_matches_torch_hessian_of_the_data_loss():
    pytest.importorskip("torch", reason="torch extra not installed: autodiff check skipped")
    for kind, fac, X, Y, scale in CASES:
        H = torch_data_hessian(fac.weights, X, Y, scale, fac.data.reduction)
        w = np.linalg.eigvalsh(H)[::-1]
        res = dmf.sharpness(fac, scale)
        where = f"{kind} {fac}"
        assert res.is_minimizer and res.gauss_newton, where
        assert res.n_samples == X.shape[0] and res.reduction == fac.data.reduction
        assert abs(res.lambda_max - w[0]) <= 1e-10 * w[0], where
        v = res.flat_eigenvector()
        assert np.linalg.norm(H @ v - res.lambda_max * v) <= 1e-9 * w[0], where
        spec = dmf.hessian_spectrum(fac, scale)
        full = np.zeros(fac.n_params)
        full[: spec.rank] = spec.eigenvalues
        np.testing.assert_allclose(full, w, rtol=0, atol=1e-10 * w[0], err_msg=where)
        assert spec.trace == pytest.approx(np.trace(H), rel=1e-10)
        assert dmf.hessian_trace(fac, scale) == pytest.approx(np.trace(H), rel=1e-10)


@pytest.mark.torch
def test_loss_gradient_hvp_on_data_match_torch_away_from_minimizers():
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    rng = np.random.default_rng(5)
    for _, fac, X, Y, scale in CASES[:12]:
        moved = fac.with_vector(fac.to_vector() + 0.3 * rng.standard_normal(fac.n_params))
        assert not moved.is_minimizer()
        H = torch_data_hessian(moved.weights, X, Y, scale, fac.data.reduction)
        np.testing.assert_allclose(
            dmf.dense_hessian(moved, scale), H, rtol=0, atol=1e-10 * np.abs(H).max()
        )
        res = dmf.sharpness(moved, scale)
        assert not res.gauss_newton and res.method == "dense-hessian"
        assert res.lambda_max == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-10)
        # loss and gradient against the raw samples
        w = 1.0 / X.shape[0] if fac.data.reduction == "mean" else 1.0
        R = X @ moved.product.T - Y
        assert dmf.loss(moved, scale) == pytest.approx(scale * w * np.sum(R**2), rel=1e-12)
        ws = [torch.tensor(np.array(a), requires_grad=True) for a in moved.weights]
        out = torch.tensor(X).T
        for W in ws:
            out = W @ out
        (scale * w * torch.sum((out - torch.tensor(Y).T) ** 2)).backward()
        for g, W in zip(dmf.gradient(moved, scale), ws):
            np.testing.assert_allclose(g, W.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_identity_inputs_with_sum_equal_the_factorization_loss():
    rng = np.random.default_rng(3)
    for dims in [(3, 4, 2), (4, 3, 3, 5), (2, 5, 1, 3)]:
        pure = dmf.gaussian_minimizer(dims, rng=rng)
        on_data = dmf.Factorization(
            pure.weights, data=dmf.Data(np.eye(dims[0]), pure.target.T, "sum")
        )
        a, b = dmf.sharpness(pure), dmf.sharpness(on_data)
        assert b.lambda_max == pytest.approx(a.lambda_max, rel=1e-12)
        np.testing.assert_allclose(
            dmf.hessian_spectrum(on_data).eigenvalues,
            dmf.hessian_spectrum(pure).eigenvalues,
            rtol=1e-11,
            atol=1e-12 * a.lambda_max,
        )
        assert dmf.hessian_trace(on_data) == pytest.approx(dmf.hessian_trace(pure), rel=1e-12)
        moved_p = pure.with_vector(pure.to_vector() + 0.1 * rng.standard_normal(pure.n_params))
        moved_d = on_data.with_vector(moved_p.to_vector())
        assert dmf.loss(moved_d) == pytest.approx(dmf.loss(moved_p), rel=1e-12)
        for g1, g2 in zip(dmf.gradient(moved_d), dmf.gradient(moved_p)):
            np.testing.assert_allclose(g1, g2, rtol=1e-11, atol=1e-13)
        u = rng.standard_normal(pure.n_params)
        np.testing.assert_allclose(
            moved_d.join(dmf.hvp(moved_d, u)),
            moved_p.join(dmf.hvp(moved_p, u)),
            rtol=1e-10,
            atol=1e-12,
        )


def test_million_samples_reduce_exactly_and_keep_no_sample_sized_array():
    rng = np.random.default_rng(11)
    n, d0, dl = 1_000_000, 4, 2
    X = rng.standard_normal((n, d0)) * np.array([3.0, 1.0, 0.5, 0.1])
    Y = X @ rng.standard_normal((d0, dl)) + 0.1 * rng.standard_normal((n, dl))
    data = dmf.Data(X, Y)
    sizes = [np.size(v) for v in vars(data).values() if isinstance(v, np.ndarray)]
    assert max(sizes) < n  # nothing of size n is kept: every later cost is independent of n
    ws = [rng.standard_normal((3, d0)), rng.standard_normal((dl, 3))]
    fac = dmf.Factorization(ws, data=data)
    P = fac.product
    R = X @ P.T - Y
    assert dmf.loss(fac) == pytest.approx(0.5 / n * np.sum(R**2), rel=1e-10)
    g1 = 1.0 / n * (R.T @ X)  # d/dP of (1/2n)||PX - Y||^2, chained by hand below
    np.testing.assert_allclose(dmf.gradient(fac)[1], g1 @ ws[0].T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dmf.gradient(fac)[0], ws[1].T @ g1, rtol=1e-9, atol=1e-12)
    # at the least-squares solution: K from the sample covariance S = X^T X (no QR involved)
    P_ls = np.linalg.lstsq(X, Y, rcond=None)[0].T
    mini = dmf.Factorization(dmf.balanced_minimizer(P_ls, (d0, 3, dl)).weights, data=data)
    assert mini.is_minimizer()
    S = X.T @ X
    w, V = np.linalg.eigh(S)
    S_half = V @ np.diag(np.sqrt(w)) @ V.T
    A = mini.lefts
    B = [np.eye(d0), mini.weights[0]]
    K = sum(np.kron(a @ a.T, S_half @ b.T @ b @ S_half) for a, b in zip(A, B))
    lam = 2 * 0.5 / n * np.linalg.eigvalsh(K)[-1]
    assert dmf.sharpness(mini).lambda_max == pytest.approx(lam, rel=1e-10)


def _minimizer_battery():
    rng = np.random.default_rng(21)
    dims = [(12, 16, 15), (20, 3, 3, 20), (34, 6, 33), (15, 8, 8, 8, 12)]
    out = [dmf.gaussian_minimizer(d, rng=rng) for d in dims]  # (34, 6, 33): Kronecker start
    out += [fac for _, fac, *_ in CASES[:5]]
    X = rng.standard_normal((500, 30)) * np.linspace(0.2, 3, 30)
    Y = X @ rng.standard_normal((30, 12))
    data = dmf.Data(X, Y)
    P_ls = data.target @ np.linalg.pinv(data.F)
    out.append(
        dmf.Factorization(dmf.balanced_minimizer(P_ls, (30, 14, 14, 12), rng=1).weights, data=data)
    )
    return out


@pytest.mark.parametrize("idx", range(10))
def test_every_exact_route_agrees(idx):
    fac = _minimizer_battery()[idx]
    methods = ["dense-K", "dense-JtJ", "lanczos-K", "lanczos-K-factored", "lanczos-JtJ"]
    res = {m: dmf.sharpness(fac, method=m, tol=1e-10) for m in methods}
    ref = res["dense-K"].lambda_max
    for m, r in res.items():
        tiny = fac.dims[-1] * fac.in_dim < 3 or fac.n_params < 3  # ARPACK minimum: dense instead
        assert (r.method == m or tiny) and r.gauss_newton and r.converged
        assert r.lambda_max == pytest.approx(ref, rel=1e-10), m
        v = r.flat_eigenvector()
        Hv = fac.join(dmf.hvp(fac, v))
        assert np.linalg.norm(Hv - r.lambda_max * v) <= 1e-7 * ref, m
    auto = dmf.sharpness(fac)
    assert auto.method in methods and auto.lambda_max == pytest.approx(ref, rel=1e-10)
    costs = dmf.route_costs(fac)
    assert {c.method for c in costs} == set(methods) and costs[0].feasible


def test_route_model_picks_the_parameter_side_for_a_bottleneck():
    fac = dmf.Factorization([np.ones((3, 3000)), np.ones((3000, 3))])
    best = next(c for c in dmf.route_costs(fac) if c.method.startswith("lanczos"))
    assert best.method == "lanczos-JtJ" and best.dimension == 3000 * 3 * 2


@pytest.mark.slow
def test_bottleneck_3000_3_3000_matches_the_depth2_closed_form():
    fac = dmf.gaussian_minimizer((3000, 3, 3000), rng=0)
    res = dmf.sharpness(fac)
    assert res.method == "lanczos-JtJ"
    assert res.lambda_max == pytest.approx(dmf.depth2_sharpness(fac), rel=1e-10)


def test_reduced_rank_regression_is_not_gauss_newton():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((60, 3))
    Y = X @ rng.standard_normal((3, 3))  # least-squares solution of rank 3
    data = dmf.Data(X, Y)
    # the best width-1 network: the rank-1 truncation of the whitened problem, reached by GD
    start = dmf.Factorization(
        [0.5 * rng.standard_normal((1, 3)), 0.5 * rng.standard_normal((3, 1))], data=data
    )
    end = dmf.gradient_descent(start, 0.05, 4000, direction=np.ones(6)).final
    res = dmf.sharpness(end)
    assert not res.is_minimizer and not res.gauss_newton
    assert res.method == "dense-hessian" and "reduced-rank" in res.note
    H = dmf.finite_difference_hessian(end, eps=1e-5)
    assert res.lambda_max == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-7)
    with pytest.raises(ValueError, match="not a minimizer of the data loss"):
        dmf.sharpness(end, method="lanczos-K")


def test_escape_on_data_above_and_below_the_threshold():
    from dmfsharp.escape import escape

    _, fac, *_ = CASES[1]
    res = escape(fac, (0.9, 1.1), steps=2000)
    stay, go = res.runs
    assert res.flattest is None and res.lambda_max == pytest.approx(dmf.sharpness(fac).lambda_max)
    assert not stay.escaped and stay.outcome == "stayed"
    assert go.escaped and -0.05 <= go.escape_step - go.predicted_escape_step <= 1.05
    if go.outcome == "converged":
        assert go.final_sharpness <= 2 / go.eta * (1 + 1e-6)


def test_data_input_errors_are_one_line():
    with pytest.raises(ValueError, match="Y: has 3 rows but X has 4"):
        dmf.Data(np.ones((4, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        dmf.Data(np.ones((4, 2)), np.ones(4))
    with pytest.raises(TypeError, match="complex"):
        dmf.Data(np.ones((4, 2)) * 1j, np.ones((4, 1)))
    with pytest.raises(ValueError, match="X: is zero"):
        dmf.Data(np.zeros((4, 2)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="reduction"):
        dmf.Data(np.ones((4, 2)), np.ones((4, 1)), reduction="avg")
    with pytest.raises(ValueError, match="X has 2 features"):
        dmf.Factorization(
            [np.ones((3, 5)), np.ones((1, 3))], data=dmf.Data(np.ones((4, 2)), np.ones((4, 1)))
        )
    data = dmf.Data(np.eye(2), np.ones((2, 1)))
    with pytest.raises(ValueError, match="not both"):
        dmf.Factorization([np.ones((1, 2))], target=np.ones((1, 2)), data=data)
    with pytest.raises(ValueError, match="factorization loss"):
        dmf.check_claims(dmf.Factorization([np.ones((1, 2))], data=data))


# ---------------------------------------------------------------------------------- torch
def _torch_net(torch, dims, seed):
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(dims[i], dims[i + 1], bias=False) for i in range(len(dims) - 1)]
    return torch.nn.Sequential(*layers).double()


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_torch_sharpness_is_the_hessian_of_nn_mseloss(reduction):
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    net = _torch_net(torch, (4, 5, 3), 0)
    X = torch.randn(50, 4, dtype=torch.float64) * torch.tensor(
        [2.0, 1.0, 0.5, 0.3], dtype=torch.float64
    )
    Y = torch.randn(50, 3, dtype=torch.float64)
    params = {k: v.detach() for k, v in net.named_parameters()}
    names = list(params)
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]

    def mse(flat):
        parts = torch.split(flat, sizes)
        p = {k: t.reshape(s) for k, t, s in zip(names, parts, shapes)}
        out = torch.func.functional_call(net, p, (X,))
        return torch.nn.MSELoss(reduction=reduction)(out, Y)

    flat = torch.cat([params[k].reshape(-1) for k in names])
    H = torch.func.hessian(mse)(flat).numpy()
    ref = np.linalg.eigvalsh(0.5 * (H + H.T))[-1]
    res = dmf.torch_sharpness(net, X, Y, reduction=reduction)
    assert res.lambda_max == pytest.approx(ref, rel=1e-10)
    assert res.scale == (1 / 3 if reduction == "mean" else 1.0) and res.reduction == reduction
    # the same in float32 inputs (computed in float64 after the cast)
    res32 = dmf.torch_sharpness(net.float(), X.float(), Y.float(), reduction=reduction)
    assert res32.lambda_max == pytest.approx(ref, rel=1e-5)
    # and the loss itself
    fac = dmf.from_torch(net.double(), data=dmf.Data(X, Y, reduction))
    torch_loss = float(torch.nn.MSELoss(reduction=reduction)(net(X), Y).detach())
    assert dmf.loss(fac, res.scale) == pytest.approx(torch_loss, rel=1e-12)


@pytest.mark.torch
def test_tracker_along_a_torch_training_run_matches_a_fresh_solve():
    torch = pytest.importorskip("torch", reason="torch extra not installed")
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(200, 5, generator=gen, dtype=torch.float64) * torch.linspace(
        0.3, 2.0, 5, dtype=torch.float64
    )
    Y = X @ torch.randn(5, 3, generator=gen, dtype=torch.float64)
    net = _torch_net(torch, (5, 8, 8, 3), 2)
    tracker = dmf.SharpnessTracker.for_mse(X, Y, tol=1e-10, eta=0.05)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    for step in range(121):
        if step % 20 == 0:
            point = tracker(step, net)
            ckpts = [{k: v.clone() for k, v in net.state_dict().items()}]
            fresh = dmf.torch_sharpness(net, X, Y, tol=1e-10)
            assert point.lambda_max == pytest.approx(fresh.lambda_max, rel=1e-9)
            assert point.eigen_residual <= 1e-7 * point.lambda_max
        opt.zero_grad()
        torch.nn.MSELoss()(net(X), Y).backward()
        opt.step()
    track = tracker.track
    assert len(track.points) == 7 and track.reduction == "mean"
    assert track.convention() == f"({1 / 3:g}/n)||PX - Y||^2"
    assert np.all(track.n_matvecs[1:] < track.n_matvecs[0] + 20)
    # a saved checkpoint (the last tracked one) gives the same number
    again = dmf.track_checkpoints(ckpts, data=dmf.Data(X, Y), scale=1 / 3, tol=1e-10)
    assert again.lambda_max[0] == pytest.approx(track.lambda_max[-1], rel=1e-9)


def test_tracker_refuses_a_non_integer_step_and_too_few_steps():
    _, fac, *_ = CASES[0]
    tracker = dmf.SharpnessTracker()
    with pytest.raises(TypeError, match=r"step: expected an integer, got 2\.5"):
        tracker.update(fac, step=2.5)  # never truncated to 2
    assert tracker.update(fac, step=np.int64(3)).step == 3
    with pytest.raises(ValueError, match="steps: 1 steps for more checkpoints"):
        dmf.track_checkpoints([fac, fac], steps=[0])


def test_numpy_gd_sharpness_trace_is_warm_started_and_exact():
    _, fac, *_ = CASES[2]
    start = fac.with_vector(
        fac.to_vector() + 0.2 * np.random.default_rng(0).standard_normal(fac.n_params)
    )
    lam = dmf.sharpness(fac).lambda_max
    res = dmf.gradient_descent(
        start, 1.0 / lam, 60, sharpness_every=10, direction=np.ones(fac.n_params)
    )
    tr = res.trace
    assert tr.sharpness_residual.shape == tr.sharpness.shape
    for t, s in zip(tr.sharpness_steps, tr.sharpness):
        pt = (
            dmf.gradient_descent(start, 1.0 / lam, int(t), direction=np.ones(fac.n_params)).final
            if t
            else start
        )
        assert s == pytest.approx(dmf.sharpness(pt, tol=1e-10).lambda_max, rel=1e-8)
    assert np.all(tr.sharpness_residual <= 1e-6 * tr.sharpness)


def test_plot_sharpness_track_states_the_convention():
    pytest.importorskip("matplotlib", reason="plot extra (matplotlib) not installed")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, fac, *_ = CASES[0]
    track = dmf.track_checkpoints([fac, fac], eta=0.1)
    fig, ax = plt.subplots()
    assert dmf.plot_sharpness_track(track, ax=ax) is fig
    assert "/n)||PX - Y||^2" in ax.get_ylabel()
    assert ax.lines[1].get_ydata()[0] == pytest.approx(20.0)  # the 2/eta line
    plt.close(fig)
