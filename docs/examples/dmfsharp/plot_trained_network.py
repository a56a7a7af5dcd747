r"""
Sharpness of a trained network
==============================

A deep linear network :math:`x \mapsto W_3 W_2 W_1 x` (widths 8-16-16-4, no biases) is trained
by full-batch gradient descent on 2000 samples whose inputs have covariance eigenvalues from 0.09
to 9. On data the loss is :math:`\ell = \tfrac{c}{n}\lVert W_3W_2W_1X - Y\rVert_F^2`
(``reduction="mean"``, :math:`c = \tfrac12`), and it reduces exactly to a factorization with a
frozen first layer, so the sharpness of the trained network is exact — here checked against
the dense Hessian of the data loss. The weights alone (treating their product as the target)
give another, wrong number: a step size that it calls stable escapes from the minimum.
"""

# %%
# Training, with the sharpness tracked along the way
# --------------------------------------------------
import dmfsharp as dmf
import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(0)
X = rng.standard_normal((2000, 8)) * np.linspace(0.3, 3.0, 8)  # one sample per row
Y = X @ (rng.standard_normal((8, 4)) / 2)
data = dmf.Data(X, Y)  # reduction="mean": (c/n)||P X - Y||^2
init = [0.3 * rng.standard_normal(s) for s in ((16, 8), (16, 16), (4, 16))]
net = dmf.Factorization(init, data=data)

eta = 0.03  # 2/eta = 66.7
tracker = dmf.SharpnessTracker(eta=eta)  # warm-started Lanczos: a few products per point
for step in range(0, 6000, 200):
    tracker.update(net, step=step)
    net = dmf.gradient_descent(net, eta, 200, record_every=200).final
track = tracker.track
res = dmf.sharpness(net)
print(
    f"trained: loss {dmf.loss(net):.1e}, minimizer {res.is_minimizer}, "
    f"lambda_max = {res.lambda_max:.10g} ({res.method}), 2/eta = {2 / eta:.4g}"
)

# %%
# The key numbers: the trained point is a minimizer of the data loss, its exact sharpness
# equals the top eigenvalue of the dense Hessian of that loss, and gradient descent with step
# :math:`\eta` settled where the sharpness is below :math:`2/\eta`.
dense = np.linalg.eigvalsh(dmf.dense_hessian(net))[-1]
print(
    f"dense Hessian of the data loss: {dense:.10g}, "
    f"relative difference {abs(res.lambda_max - dense) / dense:.1e}"
)
assert res.is_minimizer and abs(res.lambda_max - dense) <= 1e-10 * dense
assert res.lambda_max < 2 / eta

# %%
# Ignoring the data
# -----------------
# The weights alone define a factorization of their own product, whose Hessian is not the data
# loss's: its sharpness is almost five times smaller here, and a step size it calls stable
# (:math:`\eta = 1.5/\lambda`, below its :math:`2/\lambda`) makes gradient descent on the real
# loss leave the minimum.
wrong = dmf.sharpness(dmf.Factorization(net.weights)).lambda_max
print(f"weights only: {wrong:.4g} ({res.lambda_max / wrong:.1f}x too small)")
assert res.lambda_max / wrong > 3
eta_bad = 1.5 / wrong
kick = 1e-6 * rng.standard_normal(net.n_params)
start = dmf.Factorization(net.with_vector(net.to_vector() + kick).weights, data=data)
run = dmf.gradient_descent(start, eta_bad, 200, record_every=1)
print(
    f"GD with eta = 1.5/{wrong:.3g}: loss {dmf.loss(start):.1e} -> "
    f"{run.trace.loss.max():.1e} ({run.status})"
)
assert run.trace.loss.max() > 1e4 * dmf.loss(start)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.9, 3.2), layout="constrained")
dmf.plot_sharpness_track(track, ax=ax1)
steps = run.trace.steps
ax2.semilogy(steps, run.trace.loss, label=f"η = 1.5/λ(weights only) = {eta_bad:.3g}")
ax2.set(
    xlabel="step",
    ylabel="data loss (c = 0.5)",
    title="a 'stable' step size escapes",
)
ax2.legend(fontsize=8)
plt.show()
