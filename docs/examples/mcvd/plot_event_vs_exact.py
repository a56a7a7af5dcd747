r"""
Event-driven simulation against the exact solution
==================================================

The event-driven simulator (walk on spheres with exact exit times; no time step) and the
fixed-step simulator (Gaussian steps, Brownian-bridge absorption) are independent of every
closed form, so they are the check on the exact solution — and the exact solution is the check
on them. Here both run the paper's topology with small molecule counts (a few seconds) and are
compared with the exact :math:`F(t)` in units of the binomial standard error
:math:`\sqrt{F(1 - F)/N}` (of the exact :math:`F`, so that a time with no absorption yet is no
division by zero).
"""

# %%
import matplotlib.pyplot as plt
import mcvd
import numpy as np

sc = mcvd.load_example("paper_halfspace")
times = np.array([0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0])
exact = mcvd.response(sc, times, model="exact").F

# executor="inline": run in this process (a gallery script has no ``__main__`` guard for a pool)
event = mcvd.simulate(sc, method="event", n_molecules=50_000, seed=1, executor="inline")
fixed = mcvd.simulate(
    sc,
    method="fixed-step",
    n_molecules=5_000,
    seed=2,
    executor="inline",
    dt=1e-3,
    absorption="bridge",
)
runs = {
    "event-driven, N = 50 000": event.response(times),
    "fixed-step, dt = 1 ms, N = 5 000": fixed.response(times),
}
se_exact = {name: np.sqrt(exact * (1 - exact) / r.n_molecules) for name, r in runs.items()}
for name, r in runs.items():
    z = (r.F - exact) / se_exact[name]
    print(
        f"{name}: F(2 s) = {r.F[-1]:.4f} ± {r.F_se[-1]:.4f} (exact {exact[-1]:.4f}); "
        f"max |z| = {np.max(np.abs(z)):.2f}"
    )
    # the key check: every time within four standard errors of the exact solution
    assert np.all(np.abs(z) < 4), (name, z)

# %%
# The event-driven estimate at 2 s has a standard error of about 2e-3 here; its only bias (the
# absorption shell, :math:`\varepsilon = 10^{-3}` µm) is bounded by 9e-5.
assert runs["event-driven, N = 50 000"].F_se[-1] < 2.5e-3

t = np.linspace(0.0, 2.0, 201)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(6.9, 3.2), layout="constrained")
ax1.plot(t, mcvd.response(sc, t, model="exact").F, "k-", lw=1, label="exact")
for (name, r), fmt in zip(runs.items(), ["o", "s"]):
    ax1.errorbar(
        times,
        r.F,
        yerr=2 * r.F_se,
        fmt=fmt,
        ms=4,
        capsize=2,
        mfc="none",
        label=f"{name} (± 2 SE)",
    )
    ax2.plot(
        times,
        (r.F - exact) / se_exact[name],
        fmt + "-",
        ms=4,
        mfc="none",
        label=name,
    )
ax1.set(
    xlabel="time t (s)",
    ylabel="absorbed fraction F(t)",
    title="paper topology",
)
ax1.legend(fontsize=7)
ax2.axhspan(-4, 4, color="0.9", zorder=0, label="within 4 SE")
ax2.axhline(0, color="k", lw=0.5)
ax2.set(
    xlabel="time t (s)",
    ylabel="(F_sim - F_exact) / SE",
    ylim=(-5, 5),
    title="deviation in standard errors",
)
ax2.legend(fontsize=7)
plt.show()
