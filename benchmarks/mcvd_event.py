"""Benchmark: event-driven (walk-on-spheres) simulator vs the fixed-step simulator.

Scenario: the paper's topology — TX (0, 0, 10) µm on the reflecting plane x = 0, absorbing
receiver centre (10, 0, 0) µm, radius 5 µm, D = 79.4 µm²/s, horizon 2 s.

Measured in one run, both simulators ours, both on ONE core (inline runner,
``numba.set_num_threads(1)``; both kernels are numba-parallel over molecules), after JIT
warm-up:

* the wall time to reach a standard error <= 1e-3 on F(2 s): both run
  ``N = ceil(1.02 F(1 - F) / 1e-6)`` molecules, with ``F`` the exact F(2 s);
* each one's deviation from the best reference, the exact Laplace-domain solution
  (:func:`mcvd.core.exact.exact_response`, error < 1e-9), in standard errors; for the event-driven
  simulator also its bias resolved with 10x the molecules (SE ~3e-4, in units of the 1e-3 target)
  and the deterministic bound on its eps bias (coupling: the exact F of the receiver and image
  enlarged by eps minus the exact F).

Goal: >= 100x faster, bias within one SE. ``--quick`` times the fixed-step simulator
on N/10 molecules and extrapolates linearly (its cost is linear in N); the default runs it in full.

Run: ``.venv/bin/python benchmarks/mcvd_event.py [--quick] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numba
from mcvd.core.exact import exact_response
from mcvd.core.geometry import Geometry
from mcvd.sim import simulate
from mcvd.sim.event import DEFAULT_EPS, prepare, walk

D, T, SE_TARGET = 79.4, 2.0, 1e-3
SCENARIO = {
    "D": D,
    "transmitter": {"position": [0.0, 0.0, 10.0], "molecules": 1},
    "receivers": [{"center": [10.0, 0.0, 0.0], "radius": 5.0}],
    "planes": [{"point": [0.0, 0.0, 0.0], "normal": [1.0, 0.0, 0.0]}],
    "time": {"end": T, "dt": 1e-4},
}
CENTERS = [[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0]]


def timed(method, n, seed, **kw):
    t0 = time.perf_counter()
    res = simulate(SCENARIO, method=method, n_molecules=n, seed=seed, executor="inline", **kw)
    return time.perf_counter() - t0, res.response([T])


def eps_study(n=100_000, seed=7):
    """Bias bound and cost of the eps shell on the paper's topology (F(2 s)).

    For each eps: the exact bias bound ``F_exact(r + eps) - F_exact(r)`` (coupling), the measured
    deviation from exact in SE, jumps per molecule and seconds per 1e6 molecules (one core).
    """
    g = Geometry.simple(D, (0, 0, 10), [((10, 0, 0), 5.0)], [((0, 0, 0), (1, 0, 0))])
    F_ref = float(exact_response([0, 0, 10], CENTERS, [5, 5], D, [T]).F[0])
    rows = []
    for eps in (0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4, 1e-5):
        par = prepare(g, T, eps=eps, molecules=[n])
        t0 = time.perf_counter()
        out = walk(par, 0, n, seed)
        sec = time.perf_counter() - t0
        F = float((out.receiver >= 0).mean())
        se = math.sqrt(F * (1 - F) / n)
        bound = float(exact_response([0, 0, 10], CENTERS, [5 + eps] * 2, D, [T]).F[0]) - F_ref
        rows.append(
            dict(
                eps=eps,
                bound=bound,
                z=(F - F_ref) / se,
                jumps=out.jumps / n,
                s_per_1e6=sec * 1e6 / n,
            )
        )
    print(f"\neps study (paper topology, F(2 s), {n} molecules per eps, one core)")
    print(
        f"{'eps (µm)':>10}{'bias bound':>12}{'(F-exact)/SE':>14}{'jumps/mol':>11}{'s per 1e6':>11}"
    )
    for r in rows:
        print(
            f"{r['eps']:>10.0e}{r['bound']:>12.1e}{r['z']:>14.2f}{r['jumps']:>11.1f}"
            f"{r['s_per_1e6']:>11.2f}"
        )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fixed-step on N/10, extrapolated")
    ap.add_argument("--json", action="store_true", help="also print the numbers as JSON")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)

    F_ref = float(exact_response([0, 0, 10], CENTERS, [5, 5], D, [T]).F[0])
    F_eps = float(exact_response([0, 0, 10], CENTERS, [5 + DEFAULT_EPS] * 2, D, [T]).F[0])
    n = math.ceil(1.02 * F_ref * (1 - F_ref) / SE_TARGET**2)
    print(f"paper topology, F_exact(2 s) = {F_ref:.6f}; N = {n} molecules for SE <= {SE_TARGET}")

    timed("event", 2000, 0)  # JIT warm-up (cached compilation is loaded here)
    timed("fixed-step", 200, 0, dt=1e-4, t_end=0.01)
    t_ev, r_ev = timed("event", n, args.seed)
    n_fs = n // 10 if args.quick else n
    t_fs, r_fs = timed("fixed-step", n_fs, args.seed, dt=1e-4)
    t_fs_full = t_fs * n / n_fs

    rows = []
    for name, t, r, nn in (
        ("event-driven", t_ev, r_ev, n),
        ("fixed-step dt=1e-4", t_fs, r_fs, n_fs),
    ):
        F, se = float(r.F[0]), float(r.F_se[0])
        rows.append(dict(method=name, molecules=nn, seconds=t, F=F, se=se, z=(F - F_ref) / se))
    print(
        f"{'method':<20}{'molecules':>10}{'wall s':>10}{'F(2 s)':>10}{'SE':>10}{'(F-exact)/SE':>14}"
    )
    for r in rows:
        print(
            f"{r['method']:<20}{r['molecules']:>10}{r['seconds']:>10.2f}{r['F']:>10.5f}"
            f"{r['se']:>10.1e}{r['z']:>14.2f}"
        )
    # the bias itself, resolved below the 1e-3 target: the event-driven run with 10x molecules
    t_big, r_big = timed("event", 10 * n, args.seed + 1)
    bias = float(r_big.F[0]) - F_ref
    bias_se = float(r_big.F_se[0])
    ratio = t_fs_full / t_ev
    note = " (extrapolated from N/10)" if args.quick else ""
    print(
        f"\nwall time to SE <= 1e-3 on one core: event {t_ev:.2f} s, fixed-step "
        f"{t_fs_full:.1f} s{note}\nspeed-up event / fixed-step = {ratio:.0f}x (goal >= 100x)"
    )
    print(
        f"event-driven eps = {DEFAULT_EPS} µm bias bound (exact, coupling): "
        f"0 <= bias <= {F_eps - F_ref:.1e} = {(F_eps - F_ref) / rows[0]['se']:.2f} SE"
    )
    print(
        f"event-driven bias at 10N = {10 * n} molecules ({t_big:.1f} s): F - exact = "
        f"{bias:+.1e} +- {bias_se:.1e} = {bias / SE_TARGET:+.2f} target SE (goal within 1 SE)"
    )
    study = eps_study()
    if args.json:
        out = dict(
            eps_study=study,
            F_exact=F_ref,
            eps_bias_bound=F_eps - F_ref,
            event_bias_10n=bias,
            event_bias_10n_se=bias_se,
            speedup=ratio,
            fixed_step_seconds_full=t_fs_full,
            quick=bool(args.quick),
            rows=rows,
        )
        print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
