"""Exact sharpness of minimizers of one target at several depths, versus S and the flattest value.

Run: .venv/bin/python packages/dmfsharp/examples/exact_sharpness.py
"""

import dmfsharp as dmf
import numpy as np

rng = np.random.default_rng(0)
M = dmf.random_target((5, 4), rank=3, rng=rng)
print("| L | kind | exact lambda_max | S | S tight? | flattest | rank | method |")
print("|---|---|---|---|---|---|---|---|")
for L in (2, 3, 5, 8):
    dims = (4,) + (6,) * (L - 1) + (5,)
    for kind, fac in (
        ("balanced", dmf.balanced_minimizer(M, dims, rng=rng)),
        ("unbalanced", dmf.unbalanced_minimizer(M, dims, rng=rng, spread=0.5)),
    ):
        res = dmf.sharpness(fac)
        S = dmf.spectral_norm_bound(fac)
        spec = dmf.hessian_spectrum(fac)
        flat = dmf.flattest_sharpness(M, L)
        print(
            f"| {L} | {kind} | {res.lambda_max:.8g} | {S.value:.8g} | {S.aligned} | "
            f"{flat:.8g} | {spec.rank} | {res.method} |"
        )
