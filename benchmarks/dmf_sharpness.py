"""Benchmark: exact sharpness by dmfsharp versus autograd Hessian-vector-product eigensolvers.

Part 1 (one run, same machine, same minimizer): a Gaussian minimizer with L = 10 layers of width
256 (655 k parameters; d_L d_0 = 65 536).

* ``dmfsharp`` — :func:`dmfsharp.sharpness`: Lanczos on the d_L d_0 operator K (two GEMMs per
  product with stacked Gram matrices, rank-one start vector). Timed end to end from the raw
  weights (partial products and Gram matrices included).
* ``autograd-HVP + eigsh`` — the curvlinops / hessian-eigenthings approach, written with
  ``torch.func`` (``jvp`` of ``grad``) in float64 and handed to ``scipy.sparse.linalg.eigsh``
  (``which='LA'``, ``tol`` as given, default 1e-4, a common choice).
* ``power iteration`` — PyHessian's stopping rule (relative change of the Rayleigh quotient
  < 1e-3, at most 100 iterations) on the same autograd HVP.

Reference value: a separate, untimed ``eigsh`` on K with ``tol=1e-14`` from a random start,
cross-checked against the autograd Lanczos value. Reports wall time, ratio to dmfsharp, number of
operator products and relative error.

Part 2: dmfsharp alone on L = 50, width 512 (13.1 M parameters): wall time, products and the
relative eigen-residual ||K x - mu x|| / mu (which bounds the relative eigenvalue error by its
square divided by the relative gap).

Why the speed-up is 10-20x, not 100x (measured; numbers in the README): the nonzero spectra
of the Hessian ``2c J^T J`` and of ``K = J J^T`` coincide and their Krylov spaces correspond one
to one, so from the same start Lanczos needs as many products on either. The gains are the cost
per product (two GEMMs of ``L d^3`` multiply-adds for K versus a forward-over-reverse HVP of
roughly three times that, plus autograd overhead and 10x longer Lanczos vectors) and the start
vector (rank-one relaxation refined by Rayleigh-Ritz on Kronecker subspaces: 7 instead of ~26
products). A ``torch.func`` HVP is much faster than 2 s per product
(0.17-0.37 s here at width 256, single thread).

Usage::

    .venv/bin/python benchmarks/dmf_sharpness.py [--quick] [--json out/bench/dmf_sharpness.json]

``--quick`` uses width 64 / 128 for a smoke run. ``--threads N`` fixes the BLAS and torch thread
counts of both sides (on a machine shared with other jobs, 2 BLAS threads on 2 busy cores are
several times slower than 1). Timings depend on the machine's load; the ratios come from one
run.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _threads import THREADS  # before NumPy/torch: it sets the BLAS thread count

# isort: split
import dmfsharp as dmf
import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh


def _torch_hvp_operator(fac: dmf.Factorization, scale: float):
    """Hessian of ``c ||W_L...W_1 - M||^2`` as a LinearOperator on flat vectors via torch.func."""
    import torch

    ws = [torch.tensor(np.array(w)) for w in fac.weights]
    M = torch.tensor(np.array(fac.target))
    shapes = [w.shape for w in ws]
    sizes = [w.numel() for w in ws]

    def loss(params):
        P = params[0]
        for w in params[1:]:
            P = w @ P
        return scale * torch.sum((P - M) ** 2)

    grad = torch.func.grad(loss)

    def matvec(x):
        parts = torch.split(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)), sizes)
        v = [p.reshape(s) for p, s in zip(parts, shapes)]
        hv = torch.func.jvp(grad, (ws,), (v,))[1]
        op.n_matvecs += 1
        return torch.cat([h.reshape(-1) for h in hv]).numpy()

    n = sum(sizes)
    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    op.n_matvecs = 0
    return op


def _power_iteration(op, n: int, rng, tol: float = 1e-3, max_iter: int = 100):
    """PyHessian's top-eigenvalue power iteration (its stopping rule and defaults)."""
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    eig = None
    for _ in range(max_iter):
        hv = op.matvec(v)
        new = float(v @ hv)
        v = hv / np.linalg.norm(hv)
        if eig is not None and abs(new - eig) / (abs(eig) + 1e-6) < tol:
            eig = new
            break
        eig = new
    return eig


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def part1(L: int, width: int, seed: int, autograd_tol: float) -> dict:
    import torch

    if THREADS is not None:
        torch.set_num_threads(THREADS)

    fac0 = dmf.gaussian_minimizer((width,) * (L + 1), rng=seed)
    weights = [np.array(w) for w in fac0.weights]
    c = 0.5
    print(f"# Part 1: Gaussian minimizer, L = {L}, width {width}, {fac0.n_params:,} parameters")

    # reference (untimed): tight Lanczos on K from a random start
    K = dmf.k_operator(fac0)
    v0 = np.random.default_rng(seed + 1).standard_normal(K.shape[0])
    mu = eigsh(K, k=1, which="LA", tol=1e-14, ncv=40, v0=v0, return_eigenvectors=False)[0]
    ref = 2 * c * float(mu)

    res, t_ours = _timed(lambda: dmf.sharpness(dmf.Factorization(weights), c))
    rows = [("dmfsharp (Lanczos on K)", t_ours, res.n_matvecs, res.lambda_max)]

    op = _torch_hvp_operator(fac0, c)
    vstart = np.random.default_rng(seed + 2).standard_normal(op.shape[0])
    (lam_ag, _), t_ag = _timed(lambda: eigsh(op, k=1, which="LA", tol=autograd_tol, v0=vstart))
    rows.append((f"autograd-HVP + eigsh (tol {autograd_tol:g})", t_ag, op.n_matvecs, lam_ag[0]))

    op2 = _torch_hvp_operator(fac0, c)
    lam_pw, t_pw = _timed(
        lambda: _power_iteration(op2, op2.shape[0], np.random.default_rng(seed + 3))
    )
    rows.append(("PyHessian-style power iteration (tol 1e-3)", t_pw, op2.n_matvecs, lam_pw))

    print(f"reference lambda_max = {ref:.15g} (untimed eigsh on K, tol 1e-14, random start)")
    print(f"autograd Lanczos agrees with it to {abs(lam_ag[0] / ref - 1):.1e}")
    print(
        f"torch threads: {torch.get_num_threads()}, BLAS threads: {THREADS or 'default'}, "
        f"cpu count: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        "| method | wall time (s) | time / dmfsharp | operator products | s / product "
        "| relative error |"
    )
    print("|---|---|---|---|---|---|")
    out = []
    for name, t, nmv, lam in rows:
        err = abs(lam / ref - 1)
        print(
            f"| {name} | {t:.3f} | {t / t_ours:.1f}x | {nmv} | {t / max(nmv, 1):.4f} | {err:.1e} |"
        )
        out.append(
            dict(
                method=name,
                wall_s=t,
                ratio=t / t_ours,
                products=nmv,
                lambda_max=float(lam),
                rel_error=err,
            )
        )
    return dict(L=L, width=width, n_params=fac0.n_params, reference=ref, rows=out)


def part2(L: int, width: int, seed: int) -> dict:
    print()
    print(f"# Part 2: dmfsharp alone, L = {L}, width {width}")
    fac0 = dmf.gaussian_minimizer((width,) * (L + 1), rng=seed)
    weights = [np.array(w) for w in fac0.weights]
    n_params = fac0.n_params
    del fac0
    res, t = _timed(lambda: dmf.sharpness(dmf.Factorization(weights)))
    mu = res.lambda_max  # Hessian units; the K residual is eigen_residual / (2c) up to sqrt
    rel_res = res.eigen_residual / mu
    print(
        f"{n_params:,} parameters: lambda_max = {res.lambda_max:.15g}, {res.method}, "
        f"{res.n_matvecs} K products, converged={res.converged}, wall {t:.2f} s, "
        f"relative eigen-residual {rel_res:.1e}"
    )
    return dict(
        L=L,
        width=width,
        n_params=n_params,
        wall_s=t,
        products=res.n_matvecs,
        lambda_max=res.lambda_max,
        rel_eigen_residual=rel_res,
        converged=res.converged,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small widths (smoke run)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--autograd-tol", type=float, default=1e-4)
    parser.add_argument("--skip-large", action="store_true", help="skip part 2")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--threads", type=int, default=None, help="BLAS/torch threads for both sides (default: all)"
    )
    args = parser.parse_args()
    w1, w2 = (64, 128) if args.quick else (256, 512)
    result = {"part1": part1(10, w1, args.seed, args.autograd_tol)}
    if not args.skip_large:
        result["part2"] = part2(50, w2, args.seed)
    if args.json is not None:
        from dmfsharp._io import atomic_write

        args.json.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(args.json, lambda fh: json.dump(result, fh, indent=2), binary=False)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
