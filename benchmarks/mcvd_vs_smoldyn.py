"""Benchmark: mcvd's fixed-step simulator against Smoldyn 2.76, one core each, in one run.

Scenarios (D = 79.4 µm²/s, receiver radius 5 µm, dt = 1e-4 s, 2e4 molecules, horizon 2 s):

* ``free space`` — TX at the origin, receiver centre (10, 0, 0);
* ``paper`` — the paper's topology: reflecting plane x = 0, TX (0, 0, 10), receiver (10, 0, 0);
* ``gap 0.5 µm`` — the same with the receiver centre at (5.5, 0, 0), 0.5 µm from the plane.

For each: wall and CPU seconds of mcvd's kernel with 1 and 2 numba threads and of Smoldyn's
``runSim`` (Smoldyn is single-threaded), F(2 s) of both against the exact response
(``mcvd.response(..., model="exact")``), molecule-steps per second, and for the half-spaces the
number of Smoldyn molecules that ended behind the plane. Smoldyn gets the file of
:mod:`mcvd.sim.smoldyn` (the plane a reflecting panel, walls >= 8 sqrt(2 D T) away).

Then, on the paper's topology:

* the kernel profile: CPU ns per molecule-step of the full kernel and of stripped variants (no
  plane folding, no bridge test, neither) next to the bare generator (three normals per step),
  from which the shares of random numbers, distance tests, plane folding and bridge test follow;
* accuracy per cost: the bias of F(2 s) of each method at its time steps, and the time one
  dedicated core needs for ``|bias| + 2 SE <= 1e-3`` (from the CPU seconds per molecule of the
  single-core runs, which on a quiet machine equal their wall seconds). Where a run that long is
  impractical the time is extrapolated from the measured per-molecule cost (cost ~ 1/dt;
  Smoldyn's bias ~ sqrt(dt), the discrete-monitoring law of straight-segment absorption), and the
  output says so. A bias the run cannot tell from 0 (``|bias| <= 2 SE``) counts as 0.

Last, the bias of the reactive-receiver scheme against Collins–Kimball versus dt.

Smoldyn 2.76 ships wheels for CPython 3.10 only: the script creates a virtual environment with a
Python 3.10 interpreter (pyenv's ``~/.pyenv/versions/3.10*`` or ``python3.10``) in
``~/.cache/mcvd/smoldyn-2.76-py310`` (``--venv``) and installs ``smoldyn==2.76`` and ``numpy``
from PyPI; without Python 3.10 it skips Smoldyn with one line. The machine load
(``os.getloadavg``) is printed before and after: timings on a shared machine are noisy, CPU
seconds less so than wall seconds.

Run: ``.venv/bin/python benchmarks/mcvd_vs_smoldyn.py [--quick] [--no-smoldyn] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numba
import numpy as np
from mcvd import response
from mcvd.core.freespace import free_F
from mcvd.core.scenario import as_scenario
from mcvd.sim._rng import normal, stream_state
from mcvd.sim.fixedstep import SURF_NONE, _simulate_arrays, params_from_scenario
from mcvd.sim.params import reaction_probability
from mcvd.sim.runner import ChunkTask
from mcvd.sim.smoldyn import read_smoldyn_counts, smoldyn_config, time_smoldyn
from scipy.optimize import brentq

D, R, DT, T = 79.4, 5.0, 1e-4, 2.0
EPS = 1e-3  # accuracy target: |bias| + 2 SE <= EPS on F(2 s) of the paper's topology
VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mcvd/smoldyn-2.76-py310"
PLANE = {"point": [0, 0, 0], "normal": [1, 0, 0]}


def scenario(name, n, dt=DT, t_end=T):
    tx, rx, planes = [0.0, 0, 10], [10.0, 0, 0], [PLANE]
    if name == "free space":
        tx, planes = [0.0, 0, 0], []
    elif name == "gap 0.5 µm":
        rx = [5.5, 0, 0]
    return {
        "D": D,
        "transmitter": {"position": tx, "molecules": int(n)},
        "receivers": [{"center": rx, "radius": R}],
        "planes": planes,
        "time": {"end": t_end, "dt": dt},
    }


def load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


# ----------------------------------------------------------------------------- Smoldyn setup
def smoldyn_python(venv: Path):
    """(python of a venv with smoldyn 2.76, "") — creating it if needed — or (None, why)."""
    py = venv / "bin" / "python"
    check = [str(py), "-c", "import smoldyn, numpy; print(smoldyn.__version__)"]
    if py.exists():
        out = subprocess.run(check, capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip().startswith("2.76"):
            return py, ""
    cands = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python")))
    base = shutil.which("python3.10") or (cands[-1] if cands else None)
    if base is None:
        return None, (
            "skipped: no Python 3.10 interpreter (pyenv ~/.pyenv/versions/3.10* or python3.10 "
            "on PATH); Smoldyn 2.76 has wheels for CPython 3.10 only"
        )
    try:
        subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "smoldyn==2.76", "numpy"],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"skipped: could not install smoldyn 2.76 into {venv} ({type(exc).__name__})"
    out = subprocess.run(check, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None, f"skipped: smoldyn 2.76 does not import in {venv}"
    return py, ""


# ----------------------------------------------------------------------------- runs
def ours(sc, threads, seed=1, **kw):
    """mcvd's kernel on one chunk with ``threads`` numba threads: timings, F, molecule-steps."""
    p, n = params_from_scenario(sc, bin_edges=(0.0, sc["time"]["end"]), **kw)
    numba.set_num_threads(threads)
    _simulate_arrays(p, ChunkTask(0, 0, min(n, 200), seed), False)  # JIT / cache load
    t0, c0 = time.perf_counter(), time.process_time()
    rx, t, _ = _simulate_arrays(p, ChunkTask(0, 0, n, seed), False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_steps = round(p.t_end / p.dt)
    steps = float(np.where(rx >= 0, np.rint(t / p.dt), n_steps).sum())
    F = float((rx >= 0).mean())
    return {"wall_s": wall, "cpu_s": cpu, "F": F, "se": math.sqrt(F * (1 - F) / n), "n": n,
            "steps": steps, "threads": threads}  # fmt: skip


def smoldyn(sc, py, seed=1):
    """Smoldyn on the exported file: timings, F(t_end), molecule-steps, molecules behind x = 0."""
    n, dt = sc["transmitter"]["molecules"], sc["time"]["dt"]
    text = smoldyn_config(sc, seed=seed, count_every=10)
    text = text.replace("end_file\n", "output_files mols.txt\ncmd A listmols mols.txt\nend_file\n")
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.txt"
        cfg.write_text(text)
        wall, cpu = time_smoldyn(cfg, python=py)
        t, F = read_smoldyn_counts(Path(tmp) / "mcvd_counts.txt", n)
        mols = np.loadtxt(Path(tmp) / "mols.txt", usecols=(1,), ndmin=1)
    alive = n * (1.0 - F)  # molecules still free at the output times (every 10 steps)
    steps = float(np.sum(alive[:-1] * np.diff(t)) / dt)
    behind = int((mols < 0).sum()) if sc["planes"] else None
    Fe = float(F[-1])
    return {"wall_s": wall, "cpu_s": cpu, "F": Fe, "se": math.sqrt(Fe * (1 - Fe) / n), "n": n,
            "steps": steps, "behind_plane": behind, "left": int(mols.size)}  # fmt: skip


def exact_F(sc, t=T):
    return float(response(as_scenario(sc), [t], model="exact").F[0])


# ----------------------------------------------------------------------------- profile
@numba.njit(cache=True)
def _rng_only(n, n_steps):
    acc = 0.0
    for g in range(n):
        s0, s1 = stream_state(np.uint64(1), np.uint64(2), g)
        for _ in range(n_steps):
            z1, s0, s1 = normal(s0, s1)
            z2, s0, s1 = normal(s0, s1)
            z3, s0, s1 = normal(s0, s1)
            acc += z1 + z2 + z3
    return acc


def profile(n=5000, repeats=3):
    """CPU ns per molecule-step on the paper's topology, 1 thread (min over repeats)."""
    numba.set_num_threads(1)
    p, _ = params_from_scenario(scenario("paper", n), bin_edges=(0.0, T))
    n_steps = round(T / DT)
    variants = {
        "full kernel": {},
        "no plane folding": {"surface": SURF_NONE},
        "no bridge test": {"bridge": False},
        "neither": {"surface": SURF_NONE, "bridge": False},
    }
    out = {}
    _rng_only(10, 10)
    best = min(_timed(lambda: _rng_only(n, n_steps)) for _ in range(repeats))
    out["random numbers only (3 normals)"] = best / (n * n_steps) * 1e9
    for name, kw in variants.items():
        _simulate_arrays(p, ChunkTask(0, 0, 100, 1), False, **kw)
        ns = []
        for _ in range(repeats):
            box = {}

            def run(kw=kw, box=box):
                box["r"] = _simulate_arrays(p, ChunkTask(0, 0, n, 1), False, **kw)

            c = _timed(run)
            rx, t, _ = box["r"]
            steps = np.where(rx >= 0, np.rint(t / DT), n_steps).sum()
            ns.append(c / steps * 1e9)
        out[name] = min(ns)
    return out


def _timed(f):
    c0 = time.process_time()
    f()
    return time.process_time() - c0


# ----------------------------------------------------------------------------- accuracy
def needed(F_true, bias):
    """Molecules for |bias| + 2 SE <= EPS (None when |bias| >= EPS)."""
    if abs(bias) >= EPS:
        return None
    return math.ceil((2 * math.sqrt(F_true * (1 - F_true)) / (EPS - abs(bias))) ** 2)


def bias_used(bias, se):
    """The bias the needed N is computed with: 0 where the measurement cannot tell it from 0."""
    return 0.0 if se is not None and abs(bias) <= 2 * se else bias


def F_collins_kimball(t, r0, a, k):
    """Reactive sphere in free space (Collins & Kimball 1949; :func:`mcvd.core.freespace.free_F`)."""
    return float(free_F(t, r0, a, D, reaction_rate=k))


def reactive_study(n, threads):
    """F of a reactive receiver (free space) against Collins-Kimball at several dt."""
    rows = []
    cases = [(5.0, 5.0, 0.5, D / 5.0, dt) for dt in (4e-4, 1e-4, 2.5e-5)]
    cases += [(500.0, 1.0, 0.1, 20.0, dt) for dt in (4e-4, 1e-4)]  # nearly flat receiver
    for a, gap, t_end, k, dt in cases:
        sc = {
            "D": D,
            "transmitter": {"position": [0.0, 0, 0], "molecules": n},
            "receivers": [{"center": [a + gap, 0, 0], "radius": a, "reaction_rate": k}],
            "time": {"end": t_end, "dt": dt},
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = ours(sc, threads, seed=3)
        ex = F_collins_kimball(t_end, a + gap, a, k)

        def rate_for(F, t_end=t_end, a=a, gap=gap, k=k):
            """The rate constant whose Collins-Kimball F(t_end) is F."""
            return brentq(lambda kk: F_collins_kimball(t_end, a + gap, a, kk) - F, k / 10, k * 10)

        k_eff, k_lo = rate_for(r["F"]), rate_for(r["F"] - r["se"])
        P = reaction_probability(k, D, dt, warn=False)
        rows.append({"a": a, "gap": gap, "t_end": t_end, "k": k, "dt": dt, "P": P, "F": r["F"],
                     "se": r["se"], "exact": ex, "k_rel": k_eff / k - 1,
                     "k_rel_se": (k_eff - k_lo) / k, "sigma_over_a": math.sqrt(2 * D * dt) / a})  # fmt: skip
    return rows


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--molecules", type=int, default=20_000)
    ap.add_argument("--smoldyn-bias-molecules", type=int, default=100_000,
                    help="extra Smoldyn molecules for its bias at dt = 1e-4 (paper topology)")  # fmt: skip
    ap.add_argument("--accuracy-molecules", type=int, default=1_000_000,
                    help="mcvd molecules for its bias at dt = 1e-3 (paper topology)")  # fmt: skip
    ap.add_argument("--reactive-molecules", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="10x fewer molecules everywhere")
    ap.add_argument("--no-smoldyn", action="store_true")
    ap.add_argument("--venv", type=Path, default=VENV)
    ap.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    args = ap.parse_args()
    if args.quick:
        for name in ("molecules", "smoldyn_bias_molecules", "accuracy_molecules",
                     "reactive_molecules"):  # fmt: skip
            setattr(args, name, max(1000, getattr(args, name) // 10))
    n = args.molecules
    two = min(2, numba.config.NUMBA_NUM_THREADS)
    report = {"load_before": os.getloadavg(), "cpus": os.cpu_count(), "args": vars(args) | {}}
    report["args"]["venv"] = str(args.venv)
    print(f"mcvd fixed-step vs Smoldyn 2.76 — dt = {DT} s, {n} molecules, horizon {T} s, "
          f"D = {D} µm²/s, receiver radius {R} µm")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs; load (1/5/15 min) before: {load()}")
    py, why = (None, "skipped (--no-smoldyn)") if args.no_smoldyn else smoldyn_python(args.venv)
    if py is None:
        print(f"smoldyn: {why}")

    # --- throughput, back to back per scenario
    rows = {}
    for name in ("free space", "paper", "gap 0.5 µm"):
        sc = scenario(name, n)
        row = {"exact": exact_F(sc), "ours_1": ours(sc, 1)}
        if py is not None:
            row["smoldyn"] = smoldyn(sc, py)
        row["ours_2"] = ours(sc, two)
        rows[name] = row
    print()
    head = (f"{'scenario':12s} {'exact F':>8s} {'method':16s} {'F(2 s)':>8s} {'err/SE':>7s} "
            f"{'wall s':>7s} {'CPU s':>7s} {'Msteps/s':>9s}")  # fmt: skip
    print(head)
    for name, row in rows.items():
        for key, label in (("ours_1", "mcvd, 1 thread"), ("ours_2", f"mcvd, {two} threads"),
                           ("smoldyn", "smoldyn (1 core)")):  # fmt: skip
            if key not in row:
                continue
            r = row[key]
            print(f"{name:12s} {row['exact']:8.5f} {label:16s} {r['F']:8.5f} "
                  f"{(r['F'] - row['exact']) / r['se']:7.2f} {r['wall_s']:7.2f} {r['cpu_s']:7.2f} "
                  f"{r['steps'] / r['wall_s'] / 1e6:9.1f}")  # fmt: skip
    ratios = {}
    for name, row in rows.items():
        ratios[f"{name}: 2 threads / 1 thread"] = row["ours_1"]["wall_s"] / row["ours_2"]["wall_s"]
        if "smoldyn" in row:
            s, o = row["smoldyn"], row["ours_1"]
            ratios[f"{name}: smoldyn / mcvd wall (1 core each)"] = s["wall_s"] / o["wall_s"]
            ratios[f"{name}: smoldyn / mcvd CPU (1 core each)"] = s["cpu_s"] / o["cpu_s"]
    print()
    for k, v in ratios.items():
        print(f"ratio {k:48s} {v:6.2f}")
    for name, row in rows.items():
        b = row.get("smoldyn", {}).get("behind_plane")
        if b is not None:
            print(f"smoldyn {name}: {b} of the {row['smoldyn']['left']} molecules left at "
                  f"{T} s are behind the plane x = 0")  # fmt: skip
    print(
        "goals: >= 3x Smoldyn per core on the paper's topology, >= 5x in free space, "
        f">= 1.7x on 2 threads on a quiet machine; load now {load()}"
    )

    # --- kernel profile
    prof = profile()
    total = prof["full kernel"]
    rng = prof["random numbers only (3 normals)"]
    shares = {
        "random numbers (3 normals)": rng,
        "distance tests, stepping, loop": prof["neither"] - rng,
        "plane folding": prof["full kernel"] - prof["no plane folding"],
        "bridge test": prof["full kernel"] - prof["no bridge test"],
    }
    print("\nkernel profile (paper topology, 1 thread, CPU ns per molecule-step, min of 3):")
    for k, v in prof.items():
        print(f"  {k:34s} {v:6.2f}")
    print("  shares of the full kernel:")
    for k, v in shares.items():
        print(f"  {k:34s} {v:6.2f} ns  {100 * v / total:5.1f} %")

    # --- accuracy per cost on the paper topology
    print(f"\naccuracy per cost (paper topology, F(2 s); truth: exact {rows['paper']['exact']:.5f}; "
          f"target |bias| + 2 SE <= {EPS}; time on one dedicated core = CPU s of 1-core runs):")  # fmt: skip
    F_true = rows["paper"]["exact"]
    acc = []
    for dt, nm in ((1e-3, args.accuracy_molecules), (1e-4, int(args.accuracy_molecules / 2.5))):
        r = ours(scenario("paper", nm, dt=dt), two, seed=11)
        if dt == DT:
            t1 = rows["paper"]["ours_1"]
            note = "measured (1 thread, the throughput run)"
        else:
            t1 = ours(scenario("paper", max(1000, nm // 20), dt=dt), 1, seed=12)
            note = f"measured (1 thread, {t1['n']} molecules)"
        cost = t1["cpu_s"] / t1["n"]
        acc.append(("mcvd bridge", dt, r["n"], r["F"] - F_true, r["se"], cost, note, False))
    if py is not None:
        s0 = rows["paper"]["smoldyn"]
        sb = smoldyn(scenario("paper", args.smoldyn_bias_molecules), py, seed=7)
        nb = s0["n"] + sb["n"]
        Fb = (s0["F"] * s0["n"] + sb["F"] * sb["n"]) / nb
        b0, se0 = Fb - F_true, math.sqrt(Fb * (1 - Fb) / nb)
        cost0 = s0["cpu_s"] / s0["n"]
        acc.append(("smoldyn", DT, nb, b0, se0, cost0, "measured (1 core)", False))
        for dt in (1e-5, DT * (EPS / (2 * abs(b0))) ** 2):  # |bias| = EPS/2 minimises the cost
            acc.append(("smoldyn", dt, None, b0 * math.sqrt(dt / DT), None, cost0 * DT / dt,
                        "extrapolated: bias ~ sqrt(dt), cost ~ 1/dt", True))  # fmt: skip
    print(f"  {'method':12s} {'dt (s)':>8s} {'N run':>8s} {'bias':>9s} {'± SE':>8s} "
          f"{'CPU s/mol':>10s} {'N needed':>10s} {'one core':>12s}  note")  # fmt: skip
    report["accuracy"] = []
    for name, dt, nr, bias, se, cost, note, extra in acc:
        nn = needed(F_true, bias_used(bias, se))
        if bias_used(bias, se) != bias:
            note += "; |bias| <= 2 SE: N for bias 0"
        wall = None if nn is None else nn * cost
        wtxt = "impossible" if nn is None else _duration(wall)
        print(f"  {name:12s} {dt:8.2g} {nr if nr else '':>8} {bias:+9.5f} "
              f"{'' if se is None else f'{se:8.5f}':>8s} {cost:10.3g} "
              f"{'' if nn is None else nn:>10} {wtxt:>12s}  {note}")  # fmt: skip
        report["accuracy"].append({"method": name, "dt": dt, "n_run": nr, "bias": bias, "se": se,
                                   "s_per_molecule": cost, "n_needed": nn, "core_s_needed": wall,
                                   "extrapolated": extra})  # fmt: skip
    best = {}
    for a in report["accuracy"]:
        if a["core_s_needed"] is not None:
            m = a["method"]
            best[m] = min(best.get(m, math.inf), a["core_s_needed"])
    if len(best) == 2:
        print(
            f"  cheapest to the target: mcvd {_duration(best['mcvd bridge'])}, smoldyn "
            f"{_duration(best['smoldyn'])} (x{best['smoldyn'] / best['mcvd bridge']:.0f})"
        )

    # --- reactive scheme
    study = reactive_study(args.reactive_molecules, two)
    print(f"\nreactive receiver (Erban-Chapman, P = k sqrt(pi dt / D)) vs Collins-Kimball, "
          f"{args.reactive_molecules} molecules per row:")  # fmt: skip
    print(
        f"  {'a um':>5s} {'gap':>4s} {'T s':>4s} {'k um/s':>7s} {'dt s':>7s} {'P':>6s} "
        f"{'sig/a':>6s} {'F':>8s} {'exact':>8s} {'err/SE':>7s} {'k_eff/k-1':>10s} {'/P':>6s}"
    )
    for s in study:
        print(f"  {s['a']:5g} {s['gap']:4g} {s['t_end']:4g} {s['k']:7.2f} {s['dt']:7.1e} "
              f"{s['P']:6.4f} {s['sigma_over_a']:6.4f} {s['F']:8.5f} {s['exact']:8.5f} "
              f"{(s['F'] - s['exact']) / s['se']:7.2f} {s['k_rel']:+6.4f}±{s['k_rel_se']:.4f} "
              f"{s['k_rel'] / s['P']:6.2f}")  # fmt: skip

    report.update(rows=rows, ratios=ratios, profile=prof, shares=shares, reactive=study,
                  load_after=os.getloadavg())  # fmt: skip
    print(f"\nload (1/5/15 min) after: {load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    return 0


def _duration(s):
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


if __name__ == "__main__":
    sys.exit(main())
