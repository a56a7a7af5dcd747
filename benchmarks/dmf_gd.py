"""GD steps per second: dmfsharp's analytic-gradient engine versus the same GD with torch autograd.

Two cases, measured in one run:

* ``L = 10``, all widths 256 (655k parameters, float64): BLAS-bound. Both codes need the same
  ``3(L-1)`` matrix products per step (forward prefix products + back-propagation), so the
  expected ratio is about 1x; the goal of 3x is not reachable by removing overhead here.
* the 15-layer scalar factorization of Figure 1: overhead-bound. dmfsharp takes its vectorized
  ``np.cumprod`` prefix/suffix path; torch runs the generic ``1 x 1`` matmul chain (the "same GD")
  and, as a stronger baseline, a vectorized ``torch.prod`` version.

Each timing is the best of ``--repeats`` runs. dmfsharp runs with its default recording (loss,
distance and ``v_1`` component every step). The torch baselines compute the loss, call
``torch.autograd.grad`` and update under ``no_grad``, in float64. Both use the same number of
threads (``torch.get_num_threads()`` and the BLAS behind numpy, 2 cores here).

Usage: ``.venv/bin/python benchmarks/dmf_gd.py [--repeats 3] [--quick]``
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np
from dmfsharp import gaussian_minimizer, scalar_minimizer, sharpness
from dmfsharp import gradient_descent as gd


def _best(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls of ``fn`` (s)."""
    return min(timeit.repeat(fn, number=1, repeat=repeats))


def torch_chain_gd(weights, target, eta: float, steps: int):
    """GD on 0.5 ||W_L ... W_1 - M||^2 with torch autograd (generic matmul chain)."""
    import torch

    ws = [torch.tensor(np.array(w), requires_grad=True) for w in weights]
    M = torch.tensor(np.array(target))
    for _ in range(steps):
        p = ws[0]
        for w in ws[1:]:
            p = w @ p
        loss = 0.5 * ((p - M) ** 2).sum()
        grads = torch.autograd.grad(loss, ws)
        with torch.no_grad():
            for w, g in zip(ws, grads):
                w.sub_(eta * g)
    return [w.detach().numpy() for w in ws]


def torch_scalar_gd(w0, m: float, eta: float, steps: int):
    """GD on 0.5 (prod w - m)^2 with torch autograd on one vector (torch.prod)."""
    import torch

    w = torch.tensor(np.array(w0), requires_grad=True)
    for _ in range(steps):
        loss = 0.5 * (torch.prod(w) - m) ** 2
        (g,) = torch.autograd.grad(loss, w)
        with torch.no_grad():
            w.sub_(eta * g)
    return w.detach().numpy()


def case(name, fac, steps, repeats, extra_baselines=()):
    lam = sharpness(fac).lambda_max
    eta = 0.9 * 2.0 / lam
    start = fac.with_vector(
        fac.to_vector() + 1e-3 * np.random.default_rng(0).standard_normal(fac.n_params)
    )
    direction = np.ones(fac.n_params)
    ours = gd(start, eta, steps, direction=direction)
    ref = torch_chain_gd(start.weights, start.target, eta, steps)
    err = max(float(np.max(np.abs(a - b))) for a, b in zip(ours.final.weights, ref))
    t_ours = _best(lambda: gd(start, eta, steps, direction=direction), repeats)
    t_torch = _best(lambda: torch_chain_gd(start.weights, start.target, eta, steps), repeats)
    rows = [(name, "dmfsharp gd (analytic, recording every step)", steps / t_ours, 1.0)]
    rows.append((name, "torch autograd, matmul chain", steps / t_torch, t_torch / t_ours))
    for label, fn in extra_baselines:
        t = _best(lambda fn=fn: fn(start, eta, steps), repeats)
        rows.append((name, label, steps / t, t / t_ours))
    print(f"# {name}: {fac.n_params} parameters, {steps} steps, max |ours - torch| = {err:.1e}")
    return rows


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer steps (smoke run)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    big = gaussian_minimizer((256,) * 11, rng=0)
    scal = scalar_minimizer(15, rng=0)
    vec = (
        "torch autograd, vectorized torch.prod",
        lambda s, eta, n: torch_scalar_gd([w[0, 0] for w in s.weights], s.target[0, 0], eta, n),
    )
    rows = case("L=10, width 256", big, 5 if args.quick else 30, args.repeats)
    rows += case("15-layer scalar", scal, 300 if args.quick else 3000, args.repeats, [vec])
    print()
    print("| case | method | steps/s | speed-up of dmfsharp |")
    print("|---|---|---|---|")
    for name, label, rate, ratio in rows:
        print(f"| {name} | {label} | {rate:,.1f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
