"""Closed forms, the spectral-norm expression S, the flattest value, balance and the claims."""

import dmfsharp as dmf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _dense_lambda(fac, scale=0.5):
    return np.linalg.eigvalsh(dmf.dense_hessian(fac, scale))[-1]


# ---------------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("seed", range(12))
def test_scalar_closed_form_equals_dense_hessian(seed):
    rng = np.random.default_rng(seed)
    L = int(rng.integers(1, 16))
    fac = dmf.scalar_minimizer(L, rng=rng, spread=1.0)
    w = np.array([x[0, 0] for x in fac.weights])
    m = fac.target[0, 0]
    lam = dmf.scalar_sharpness(fac, 1.0)
    assert lam == pytest.approx(_dense_lambda(fac, 1.0), rel=1e-12)
    assert lam == pytest.approx(2 * m**2 * np.sum(w**-2.0), rel=1e-12)  # 2c m^2 sum w_i^-2
    res = dmf.sharpness(fac, 1.0)
    # sharpness() and scalar_sharpness() share one summation (spectrum._scalar_lambda); a few
    # ulps are allowed so that the assertion does not depend on the CPU's summation kernel
    assert res.method == "scalar-closed-form"
    assert res.lambda_max == pytest.approx(lam, rel=4 * np.finfo(float).eps, abs=0)
    g = np.array([np.prod(np.delete(w, i)) for i in range(L)])
    assert abs(abs(res.flat_eigenvector() @ g) / np.linalg.norm(g) - 1) < 1e-13


def test_scalar_with_a_zero_factor():
    fac = dmf.Factorization([np.array([[0.0]]), np.array([[2.0]]), np.array([[3.0]])])
    assert dmf.scalar_sharpness(fac) == pytest.approx(36.0)  # only prod_{j != 1} w_j survives
    assert _dense_lambda(fac) == pytest.approx(36.0)


@pytest.mark.parametrize("seed", range(10))
def test_depth2_closed_form_equals_exact(seed):
    rng = np.random.default_rng(100 + seed)
    dims = [int(d) for d in rng.integers(1, 6, size=3)]
    fac = dmf.gaussian_minimizer(dims, rng)
    lam = dmf.depth2_sharpness(fac)
    assert lam == pytest.approx(_dense_lambda(fac), rel=1e-12)
    assert lam == pytest.approx(dmf.sharpness(fac).lambda_max, rel=1e-12)
    b = dmf.spectral_norm_bound(fac)
    assert b.aligned and b.value == pytest.approx(lam, rel=1e-12)  # S exact at depth 2


def test_depth2_counterexample_to_constant_a_sufficient():
    # M = [0.5], W_1 = (1, 0)^T, W_2 = (0.5, sqrt(3)/2): equal spectral norms 1, not flattest
    fac = dmf.Factorization([np.array([[1.0], [0.0]]), np.array([[0.5, np.sqrt(3) / 2]])])
    for c in (0.5, 1.0):
        assert dmf.depth2_sharpness(fac, c) == pytest.approx(4 * c, rel=1e-14)
        assert _dense_lambda(fac, c) == pytest.approx(4 * c, rel=1e-12)
        assert dmf.flattest_sharpness(fac.target, 2, c) == pytest.approx(2 * c, rel=1e-14)
    bal = dmf.balance(fac)
    assert bal.is_spectral_balanced
    report = dmf.check_claims(fac)
    assert [cl.name for cl in report.violated] == ["constant-a-sufficient"]


def test_s_bound_counterexample_402_vs_408():
    fac = dmf.Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])
    b = dmf.spectral_norm_bound(fac, 1.0)
    assert b.value == pytest.approx(408.0, rel=1e-14)
    assert not b.aligned and not b.is_exact
    assert _dense_lambda(fac, 1.0) == pytest.approx(402.0, rel=1e-12)
    report = dmf.check_claims(fac, 1.0)
    assert report.lambda_max == pytest.approx(402.0, rel=1e-12)
    assert not report.violated


# ---------------------------------------------------------------------------------- S
def test_s_is_an_upper_bound_equal_iff_aligned():
    rng = np.random.default_rng(7)
    n_strict = n_tight = 0
    for i in range(60):
        L = 2 + i % 5
        dims = [int(d) for d in rng.integers(1, 5, size=L + 1)]
        kind = i % 3
        if kind == 0:
            fac = dmf.gaussian_minimizer(dims, rng)
        else:
            M = dmf.random_target((dims[-1], dims[0]), rng=rng)
            r = np.linalg.matrix_rank(M)
            dims = [dims[0]] + [max(d, r) for d in dims[1:-1]] + [dims[-1]]
            maker = dmf.balanced_minimizer if kind == 1 else dmf.unbalanced_minimizer
            fac = maker(M, dims, rng=rng)
        lam = _dense_lambda(fac)
        b = dmf.spectral_norm_bound(fac)
        assert b.value >= lam * (1 - 1e-12)
        if b.aligned:
            n_tight += 1
            assert b.value == pytest.approx(lam, rel=1e-9)
        else:
            n_strict += 1
            assert b.value > lam * (1 + 1e-9)
        if kind == 1:  # balanced SVD-aligned: always aligned
            assert b.aligned
    assert n_tight > 10 and n_strict > 10


def test_s_strict_for_random_gaussian_depth_at_least_3():
    rng = np.random.default_rng(8)
    for L in range(3, 8):
        fac = dmf.gaussian_minimizer((3,) + (4,) * (L - 1) + (3,), rng)
        b = dmf.spectral_norm_bound(fac)
        assert not b.aligned
        assert b.value > dmf.sharpness(fac).lambda_max * (1 + 1e-6)


# ---------------------------------------------------------------------------------- flattest
def test_flattest_never_beaten_and_attained_by_balanced():
    rng = np.random.default_rng(9)
    for _ in range(6):
        d0, dl = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        rank = int(rng.integers(1, min(d0, dl) + 1))
        M = dmf.random_target((dl, d0), rank=rank, rng=rng)
        for L in (1, 2, 3, 5):
            flat = dmf.flattest_sharpness(M, L)
            dims = (d0, *tuple(int(d) for d in rng.integers(rank, rank + 3, size=L - 1)), dl)
            bal = dmf.balanced_minimizer(M, dims, rng=rng)
            assert dmf.sharpness(bal).lambda_max == pytest.approx(flat, rel=1e-11)
            assert _dense_lambda(bal) == pytest.approx(flat, rel=1e-10)
            for spread in (0.1, 0.5, 1.5):
                for _ in range(4):
                    fac = dmf.unbalanced_minimizer(M, dims, rng=rng, spread=spread)
                    assert dmf.sharpness(fac).lambda_max >= flat * (1 - 1e-11)
        # random scalar-target Gaussian minimizers never beat their own flattest value
        fac = dmf.gaussian_minimizer((d0, 3, 3, dl), rng)
        assert dmf.sharpness(fac).lambda_max >= dmf.flattest_sharpness(fac.target, 3) * (1 - 1e-12)


def test_flattest_value_formula_and_errors():
    assert dmf.flattest_sharpness(np.diag([4.0, 1.0]), 3, scale=1.0) == pytest.approx(
        2 * 3 * 4 ** (4 / 3)
    )
    assert dmf.flattest_sharpness(2.0, 1) == pytest.approx(1.0)  # L = 1: Hessian 2c I
    with pytest.raises(ValueError, match="depth: must be an integer >= 1"):
        dmf.flattest_sharpness(np.eye(2), 0)
    with pytest.raises(ValueError, match="target: contains non-finite"):
        dmf.flattest_sharpness([[np.inf]], 2)


# ---------------------------------------------------------------------------------- balance, claims
def test_balance_measures():
    M = np.diag([3.0, 1.0, 0.5])
    bal = dmf.balance(dmf.balanced_minimizer(M, (3, 4, 5, 3), rng=0))
    assert bal.is_frobenius_balanced and bal.is_spectral_balanced
    np.testing.assert_allclose(bal.spectral_products, 3.0 ** (2 / 3), rtol=1e-12)
    unb = dmf.balance(dmf.unbalanced_minimizer(M, (3, 4, 5, 3), rng=0))
    assert not unb.is_frobenius_balanced and not unb.is_spectral_balanced
    assert unb.frobenius_imbalance.shape == (2,) and np.all(unb.frobenius_imbalance > 1e-3)


def test_claims_on_balanced_and_witness_of_flat_unbalanced():
    M = np.diag([2.0, 0.7])
    rep = dmf.check_claims(dmf.balanced_minimizer(M, (2, 3, 3, 2), rng=1))
    assert rep.is_flattest and not rep.violated
    assert {cl.name for cl in rep.claims if cl.holds} >= {
        "lower-bound",
        "S-bound",
        "frobenius-balanced-is-flattest",
        "constant-a-sufficient",
    }
    # depth 2: W_1 = diag(1, a), W_2 = diag(1, 0.1/a) with 0.1 <= a <= 1 are all flattest for
    # M = diag(1, 0.1), but Frobenius-balanced only at a = sqrt(0.1)
    fac = dmf.Factorization([np.diag([1.0, 0.5]), np.diag([1.0, 0.2])])
    rep = dmf.check_claims(fac)
    assert rep.is_flattest and not rep.balance.is_frobenius_balanced
    witness = {cl.name: cl for cl in rep.claims}["flat-need-not-be-frobenius-balanced"]
    assert witness.holds is True
    necessary = {cl.name: cl for cl in rep.claims}["constant-a-necessary"]
    assert necessary.applies and necessary.holds is True
    assert "| claim |" in rep.to_markdown()


# ---------------------------------------------------------------------------------- properties
dims_strategy = st.lists(st.integers(1, 4), min_size=3, max_size=6)


def _orthogonal(d, rng):
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dims=dims_strategy, seed=st.integers(0, 2**31 - 1))
def test_lambda_max_invariant_under_orthogonal_gauge(dims, seed):
    rng = np.random.default_rng(seed)
    fac = dmf.gaussian_minimizer(dims, rng)
    ws = [w.copy() for w in fac.weights]
    for i in range(len(ws) - 1):
        Q = _orthogonal(ws[i].shape[0], rng)
        ws[i] = Q @ ws[i]
        ws[i + 1] = ws[i + 1] @ Q.T
    gauged = dmf.Factorization(ws, target=fac.target)
    # Forward-error bound of the gauged product: relative to prod ||W_i||_2, not to ||M||, which
    # cancellation can make tiny (hypothesis found dims (2,1,4,1) with ||M|| ~ 1e-5).
    scale = np.prod([np.linalg.norm(w, 2) for w in ws])
    assert np.linalg.norm(gauged.residual) <= 1e-12 * scale
    assert dmf.sharpness(gauged).lambda_max == pytest.approx(
        dmf.sharpness(fac).lambda_max, rel=1e-11, abs=1e-300
    )


@settings(max_examples=40, deadline=None)
@given(dims=dims_strategy, seed=st.integers(0, 2**31 - 1), t=st.floats(0.05, 20.0))
def test_homogeneity_under_scaling_m(dims, seed, t):
    # W_i -> t^(1/L) W_i maps a minimizer of M to one of t M; lambda_max scales by t^(2(L-1)/L)
    fac = dmf.gaussian_minimizer(dims, np.random.default_rng(seed))
    L = fac.depth
    scaled = dmf.Factorization([w * t ** (1 / L) for w in fac.weights])
    assert np.allclose(scaled.target, t * fac.target, rtol=1e-12, atol=1e-300)
    assert dmf.sharpness(scaled).lambda_max == pytest.approx(
        t ** (2 * (L - 1) / L) * dmf.sharpness(fac).lambda_max, rel=1e-10, abs=1e-300
    )
    M = fac.target
    if np.any(M):
        assert dmf.flattest_sharpness(t * M, L) == pytest.approx(
            t ** (2 * (L - 1) / L) * dmf.flattest_sharpness(M, L), rel=1e-12
        )


@settings(max_examples=40, deadline=None)
@given(dims=dims_strategy, seed=st.integers(0, 2**31 - 1))
def test_hvp_is_symmetric_at_any_point(dims, seed):
    rng = np.random.default_rng(seed)
    base = dmf.gaussian_minimizer(dims, rng)
    fac = dmf.Factorization(base.weights, target=rng.standard_normal(base.target.shape))
    u, v = rng.standard_normal((2, fac.n_params))
    Hu, Hv = fac.join(dmf.hvp(fac, u)), fac.join(dmf.hvp(fac, v))
    scale = np.linalg.norm(Hu) * np.linalg.norm(v) + np.linalg.norm(Hv) * np.linalg.norm(u)
    assert abs(u @ Hv - v @ Hu) <= 1e-12 * max(scale, 1e-300)


def test_hessian_rank_matches_the_tangent_dimension():
    # at a minimizer whose factors all have rank r = rank(M), the image of the Jacobian is the
    # tangent space of the rank-r matrices: dimension r (d_L + d_0 - r)
    rng = np.random.default_rng(12)
    for _ in range(6):
        d0, dl = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        r = int(rng.integers(1, min(d0, dl) + 1))
        M = dmf.random_target((dl, d0), rank=r, rng=rng)
        dims = (d0, *(int(d) for d in rng.integers(r, 7, size=3)), dl)
        for fac in (
            dmf.balanced_minimizer(M, dims, rng=rng),
            dmf.unbalanced_minimizer(M, dims, rng=rng),
        ):
            assert dmf.hessian_rank(fac) == r * (dl + d0 - r)
            H = dmf.dense_hessian(fac)
            assert np.linalg.matrix_rank(H, tol=1e-9 * np.abs(H).max()) == r * (dl + d0 - r)
