"""Analytic gradient and Hessian-vector product against central finite differences."""

import dmfsharp as dmf
import numpy as np
import pytest


def _fd_gradient(fac, scale, eps=1e-6):
    x = fac.to_vector()
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (
            dmf.loss(fac.with_vector(x + e), scale) - dmf.loss(fac.with_vector(x - e), scale)
        ) / (2 * eps)
    return out


@pytest.mark.parametrize("dims", [(3, 4, 2), (2, 3, 1, 4, 2), (1, 1, 1, 1)])
@pytest.mark.parametrize("scale", [0.5, 1.0])
def test_gradient_and_hessian_match_finite_differences_off_minimizer(dims, scale):
    rng = np.random.default_rng(sum(dims))
    base = dmf.gaussian_minimizer(dims, rng)
    fac = dmf.Factorization(base.weights, target=rng.standard_normal((dims[-1], dims[0])))
    assert not fac.is_minimizer()
    g = fac.join(dmf.gradient(fac, scale))
    np.testing.assert_allclose(g, _fd_gradient(fac, scale), atol=1e-7 * (1 + np.abs(g).max()))
    H = dmf.dense_hessian(fac, scale)
    H_fd = dmf.finite_difference_hessian(fac, scale, eps=1e-6)
    np.testing.assert_allclose(H, H_fd, atol=1e-7 * (1 + np.abs(H).max()))


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="weights: need at least one"):
        dmf.Factorization([])
    with pytest.raises(ValueError, match=r"weights\[1\].*not conformable"):
        dmf.Factorization([np.ones((3, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match=r"weights\[0\].*non-finite"):
        dmf.Factorization([np.array([[np.nan]])])
    with pytest.raises(ValueError, match="target: shape"):
        dmf.Factorization([np.ones((3, 2))], target=np.ones((2, 3)))
    with pytest.raises(ValueError, match="scale"):
        dmf.loss(dmf.Factorization([np.ones((1, 1))]), scale=-1)
