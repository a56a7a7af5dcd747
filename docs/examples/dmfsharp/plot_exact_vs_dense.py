"""
Exact sharpness against a dense Hessian
=======================================

At a minimizer of :math:`\\ell = c\\,\\lVert W_L\\cdots W_1 - M\\rVert_F^2` the Hessian is
:math:`2c\\,J^\\top J`, and its nonzero eigenvalues are :math:`2c` times those of the small
operator :math:`K(X) = \\sum_k (A_k A_k^\\top)\\,X\\,(B_k^\\top B_k)` on :math:`d_L \\times d_0`
matrices. :func:`dmfsharp.sharpness` solves that small eigenproblem; here we check it against
the largest eigenvalue of the full Hessian, built densely and diagonalised with ``eigh``, on
random minimizers of growing depth — and compare the whole nonzero spectrum as well.
"""

# %%
# Random Gaussian minimizers at depths 2 to 6
# -------------------------------------------
# ``gaussian_minimizer`` draws :math:`W_i \sim N(0, 1/d_{i-1})` and sets the target
# :math:`M` to their product, so the point is an exact minimizer (zero loss).
import dmfsharp as dmf
import matplotlib.pyplot as plt
import numpy as np

rows = []
for depth in range(2, 7):
    fac = dmf.gaussian_minimizer((3,) + (5,) * (depth - 1) + (4,), rng=depth)
    exact = dmf.sharpness(fac)  # c = 1/2
    dense = np.linalg.eigvalsh(dmf.dense_hessian(fac))[-1]  # n_params x n_params, eigh
    bound = dmf.spectral_norm_bound(fac).value
    rows.append((depth, fac.n_params, exact.lambda_max, dense, bound, exact.method))
    print(
        f"L = {depth}: {fac.n_params:3d} parameters, exact {exact.lambda_max:.12g} "
        f"({exact.method}), dense eigh {dense:.12g}, S = {bound:.6g}"
    )

rel = [abs(r[2] - r[3]) / r[3] for r in rows]
print(f"largest relative difference: {max(rel):.1e}")
# the key number: the K reduction and the dense Hessian agree to rounding
assert max(rel) < 1e-10, rel
# the spectral-norm expression S bounds the sharpness from above, strictly from depth 3 on
assert all(r[4] >= r[2] * (1 - 1e-12) for r in rows)
assert all(r[4] > r[2] * (1 + 1e-6) for r in rows if r[0] >= 3)

# %%
# The whole nonzero spectrum
# --------------------------
# :func:`dmfsharp.hessian_spectrum` returns every nonzero eigenvalue from the eigenvalues of
# :math:`K`; the dense Hessian has the same ones plus zeros (one per direction along the
# minimizer manifold).
fac = dmf.gaussian_minimizer((3, 5, 5, 5, 4), rng=7)
spec = dmf.hessian_spectrum(fac)
dense_all = np.sort(np.linalg.eigvalsh(dmf.dense_hessian(fac)))[::-1]
top = dense_all[: spec.rank]
print(f"rank {spec.rank} of {fac.n_params}; trace {spec.trace:.10g} vs {dense_all.sum():.10g}")
assert np.allclose(np.sort(spec.eigenvalues)[::-1][: spec.rank], top, rtol=1e-9, atol=1e-12)
assert abs(spec.trace - dense_all.sum()) <= 1e-9 * spec.trace

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.9, 3.0), layout="constrained")
depths = [r[0] for r in rows]
ax1.plot(
    depths,
    [r[3] for r in rows],
    "o",
    ms=9,
    mfc="none",
    label="dense Hessian (eigh)",
)
ax1.plot(depths, [r[2] for r in rows], "x", ms=7, label="dmfsharp.sharpness (K)")
ax1.plot(
    depths,
    [r[4] for r in rows],
    "s--",
    ms=4,
    label="spectral-norm expression S",
)
ax1.set(
    xlabel="depth L",
    ylabel=r"$\lambda_{\max}$ (loss scale $c = 1/2$)",
    title="sharpness at random minimizers",
)
ax1.legend(fontsize=8)
k = np.arange(1, spec.rank + 1)
ax2.semilogy(k, top, "o", ms=8, mfc="none", label="dense Hessian")
ax2.semilogy(k, np.sort(spec.eigenvalues)[::-1][: spec.rank], "x", label="from K")
ax2.set(
    xlabel="index",
    ylabel=r"eigenvalue ($c = 1/2$)",
    title="nonzero spectrum, L = 4",
)
ax2.legend(fontsize=8)
plt.show()
