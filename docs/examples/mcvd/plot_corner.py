r"""
A receiver in a corner
======================

The shipped example ``corner_two_walls``: reflecting walls :math:`x = 0` and :math:`y = 0`, a
receiver of radius 5 µm at (10, 10, 0) µm (5 µm from each wall), the transmitter on their edge
at (0, 0, 10) µm. The walls unfold by their reflection group into free space with the receiver
and its three images — a four-sphere first-passage problem. The exact N-sphere solver (multipoles
around every sphere, in the Laplace domain) gives :math:`F(t)` with an error estimate below
:math:`10^{-9}`; the event-driven simulator checks it independently; the closed forms are
approximations here, and refuse where they stop being a channel response.
"""

# %%
import matplotlib.pyplot as plt
import mcvd
import numpy as np
from mcvd.core.plots import plot_geometry, plot_responses

sc = mcvd.load_example("corner_two_walls")
times = np.array([0.1, 0.25, 0.5, 1.0, 1.5, 2.0])
exact = mcvd.response(sc, times, model="exact")
print(
    f"exact (N-sphere): F = {exact.F.round(5)}, error estimate "
    f"{exact.info['error_estimate']:.1e} ({exact.info['solver']} solver)"
)
errors = {}
for model in ("free", "kamber2024", "images-ho"):
    err = np.max(np.abs(mcvd.response(sc, times, model=model).F - exact.F))
    errors[model] = err
    print(f"{model:10s} max |F - F_exact| for t <= 2 s: {err:.1e}")
    try:  # the whole response, to t = inf
        mcvd.response(sc, [np.inf], model=model)
    except ValueError as refusal:  # one line that names the model that serves
        print(f"{model:10s} F(inf): {refusal}")

# %%
# The key numbers: the exact error estimate is below 1e-9 and its long-time limit is the exact
# capture; the event-driven simulator (40 000 molecules, under a second) agrees at every time
# within four standard errors; the image models refuse the long-time limit, which their
# series cannot give next to two walls.
assert exact.info["error_estimate"] < 1e-9
capture = mcvd.capture(sc).F_inf
f_inf = mcvd.response(sc, [np.inf], model="exact").F[0]
assert abs(f_inf - capture) < 1e-8
sim = mcvd.simulate(sc, method="event", n_molecules=40_000, seed=5, executor="inline").response(
    times
)
z = (sim.F - exact.F) / np.sqrt(exact.F * (1 - exact.F) / sim.n_molecules)
print(f"capture F(inf) = {capture:.6f}; event-driven vs exact: max |z| = {np.max(np.abs(z)):.2f}")
assert np.all(np.abs(z) < 4), z
# at finite times the all-order image series is the better closed form, both far from free
assert errors["images-ho"] < errors["kamber2024"] < 0.01 < 0.1 < errors["free"]
for model in ("kamber2024", "images-ho"):
    try:
        mcvd.response(sc, [np.inf], model=model)
        raise AssertionError(f"{model} should refuse F(inf) in this corner")
    except ValueError as refusal:
        assert "use model 'exact'" in str(refusal)

# %%
# The corner seen from above (dashed: the receiver's three images).
fig = plot_geometry(sc, axes="xy")

# %%
# The response: the exact curve, the simulation with ±2 SE bars, and the closed forms.
t = np.linspace(0.0, 2.0, 81)
models = ["free", "kamber2024", "images-ho", "exact"]
fig = plot_responses([mcvd.response(sc, t, model=m) for m in models])
ax = fig.axes[0]
ax.errorbar(times, sim.F, yerr=2 * sim.F_se, fmt="ko", ms=3, capsize=2)
ax.set_title("dots: event-driven, ± 2 SE", fontsize=9)
plt.show()
