r"""
Bit error rate against the symbol duration
==========================================

On-off keying over the paper's channel: a bit 1 releases :math:`N = 1000` molecules at the
start of its slot, a bit 0 releases none, and the receiver decides 1 when it counts at least
:math:`\tau` molecules in the slot. Molecules of earlier bits still arrive (inter-symbol
interference), so the count given the current bit is a sum of independent binomials; its exact
law, from the slot probabilities :math:`p_j = F((j+1)T_s) - F(jT_s)`, gives the bit error rate
at the optimal threshold. The channel model matters where the error lives — in the tail of
:math:`F`: the paper's first-order model, whose :math:`F(\infty)` is 7 % low, makes the BER
look far better than it is at long symbols.
"""

# %%
import matplotlib.pyplot as plt
import mcvd
from mcvd import comm

sc = mcvd.load_example("paper_halfspace")
durations = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0]
sweep = comm.ber_vs_symbol_duration(
    sc, durations, 1000, memory=10, models=("exact", "images-ho", "kamber2024")
)
for model, row in zip(sweep.models, sweep.ber):
    print(f"{model:12s}", " ".join(f"{b:9.2e}" for b in row))

# %%
# The key numbers at :math:`T_s = 1` s (ISI memory 10 slots, prior 1/2): with the exact
# channel and the exact count law the BER is 7.1e-10 at :math:`\tau = 243`; the paper's closed
# form gives 5.4e-12, about 130 times too optimistic; the Poisson approximation of the count
# law on the exact channel gives 9.3e-9, more than ten times too pessimistic.
exact = comm.ber(sc, 1.0, 1000, memory=10)
paper = comm.ber(sc, 1.0, 1000, memory=10, model="kamber2024")
poisson = comm.ber(sc, 1.0, 1000, memory=10, approximation="poisson")
print(
    f"exact {exact.ber:.2e} (tau {exact.threshold}), kamber2024 {paper.ber:.2e}, "
    f"Poisson {poisson.ber:.2e}"
)
assert abs(exact.ber / 7.12e-10 - 1) < 0.01 and exact.threshold == 243
assert 100 < exact.ber / paper.ber < 160
assert 10 < poisson.ber / exact.ber < 15

# %%
# The independent check: random frames simulated by the event-driven simulator at a short
# symbol (where errors are frequent enough to count), against the exact law's BER.
mc = comm.monte_carlo_ber(sc, 0.25, 100, memory=2, n_frames=2000, seed=1)
print(
    f"Monte Carlo BER {mc.ber:.4f}, 95 % interval {mc.ci[0]:.4f}-{mc.ci[1]:.4f}; "
    f"exact {mc.exact.ber:.4f}"
)
assert mc.ci[0] <= mc.exact.ber <= mc.ci[1]

fig = comm.plot_ber_sweep(sweep)  # one column wide, 8 pt text, legend below
fig.axes[0].set_title("OOK, N = 1000 molecules, memory 10")
plt.show()
