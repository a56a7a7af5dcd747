"""Cost and accuracy of the closed-form channel models on the paper's topology.

One run: wall time of a 400-point curve F(t), t in (0, 2] s, for every model, as a ratio to the
free-space formula measured in the same run, and each model's max |F - F_exact| (the exact
two-sphere solution). Also the Kelvin capture series against the static multipole solution (both
exact methods; ratio of their times). Absolute times are for orientation only; the load average
of the (shared) machine is printed with them.
"""

from __future__ import annotations

import os
import timeit

import numpy as np
from mcvd.core.geometry import Geometry, absorbers
from mcvd.core.models import capture, response
from mcvd.core.multipole import multipole_capture


def best_time(fn, repeat=5):
    """Best wall time of ``repeat`` calls of ``fn`` (s)."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main() -> None:
    g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    t = np.linspace(0.005, 2.0, 400)
    models = ["free", "kamber2024", "kamber2024-conv", "images-ho", "exact"]
    ref = response(g, t, model="exact").F
    base = best_time(lambda: response(g, t, model="free"))
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"400-point curve on the paper's topology (TX on the plane, gap 5 µm; load {load})")
    print(f"{'model':<16} {'time (ms)':>10} {'x free':>8} {'max |F - exact|':>16}")
    for m in models:
        response(g, t, model=m)  # warm-up
        dt = best_time(lambda m=m: response(g, t, model=m), repeat=3 if m == "exact" else 5)
        err = f"{np.max(np.abs(response(g, t, model=m).F - ref)):.2e}"
        print(f"{m:<16} {1e3 * dt:>10.2f} {dt / base:>8.1f} {err:>16}")

    ab = absorbers(g)
    tk = best_time(lambda: capture(g, method="kelvin"))
    tm = best_time(lambda: multipole_capture((0, 0, 10), ab.spheres, ab.receiver), repeat=2)
    fk = capture(g, method="kelvin").F_inf
    fm = float(multipole_capture((0, 0, 10), ab.spheres, ab.receiver)[0])
    print(
        f"\ncapture F(inf): Kelvin series {fk:.12f} in {1e3 * tk:.2f} ms; multipole {fm:.12f} in "
        f"{1e3 * tm:.0f} ms (multipole/Kelvin time ratio {tm / tk:.0f}x, |diff| {abs(fk - fm):.1e})"
    )


if __name__ == "__main__":
    main()
