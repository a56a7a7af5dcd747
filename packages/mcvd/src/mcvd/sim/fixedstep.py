"""Fixed-time-step Brownian particle simulator (numba, parallel over molecules).

Model (units µm, s, µm²/s)
-----------------------------------
Every molecule starts at its transmitter at the transmitter's release time and moves by
independent Gaussian steps ``N(0, 2 D dt)`` per axis (standard deviation ``sqrt(2 D dt)``) until
it is absorbed, degrades or the horizon ``t_end`` is reached. Per step:

1. propose ``b = a + sqrt(2 D dt) * Z``;
2. reflecting surfaces (infinite planes, finite axis-aligned boxes):

   * ``"elastic"`` — the straight path ``a -> b`` is followed; at the first surface it crosses,
     the remaining overshoot is mirrored, and this repeats until the path stays in the fluid
     (at most 64 reflections, then the step is rolled back). For one plane this is exactly the
     reflected Brownian motion (the free motion folded by the mirror). When there are no boxes
     and the planes are pairwise orthogonal or parallel (a half-space, a corner, a slab), the
     reflections commute and the kernel folds ``b`` through every plane it lies behind, plane by
     plane, which gives the same point without tracing the path.
   * ``"rollback"`` — a step whose path crosses a surface is discarded (the molecule stays at
     ``a`` for that step). Biased (molecules linger near walls); offered because it is common in
     the literature.
3. receivers (spheres):

   * ``"end-of-step"`` (MUCIN-style) — a crossing when ``b`` is inside a receiver. Misses
     excursions into the receiver within a step, so an absorbing receiver under-counts; to first
     order it acts like a receiver shrunk by ``0.5826 * sqrt(2 D dt)`` (the discrete-monitoring
     shift ``-zeta(1/2)/sqrt(2 pi)`` of Broadie, Glasserman & Kou 1997).
   * ``"bridge"`` — additionally a crossing with the Brownian-bridge probability that the path
     touched the sphere during the step, in the planar approximation
     ``P = exp(-d1 d2 / (D dt))`` with ``d1, d2`` the distances to the sphere surface before and
     after the step (exact for a plane; the curvature error is ``O(dt)`` relative to the
     ``O(sqrt(dt))`` bias it removes).

   A perfectly absorbing receiver absorbs at every crossing. A reactive one (reaction rate
   constant ``k``) is tested at the end of the step only, whatever the mode (Erban & Chapman
   2007): a step ending inside reacts with probability ``k sqrt(pi dt / D)``
   (:func:`mcvd.sim.params.reaction_probability`, which also gives its measured bias);
   otherwise the molecule is reflected by mirroring ``b`` radially through the surface
   (distance ``h`` inside becomes ``h`` outside, the specular rule of Erban & Chapman's flat
   wall; should the mirror point not be in the fluid, the molecule stays at ``a``). An absorbed
   molecule gets the absorption time ``t_release + (k + 1) dt`` (end of the step).
4. degradation (rate ``k_d``): one exponential lifetime per molecule, drawn from its stream at
   release; the molecule takes the steps whose midpoint comes before it (see
   :mod:`mcvd.sim.params`).

Cost
----
The bridge probability is computed only where it can matter. With ``s = sqrt(40 D dt)``
(0.56 µm at the paper's step), a step whose two end points are both more than ``s`` from a
receiver surface has ``d1 d2 > 40 D dt``, so ``P < exp(-40) = 4.2e-18``; the uniform it would be
compared with is at least ``2**-54 = 5.6e-17`` (:func:`mcvd.sim._rng.uniform`), so such a step can
never be absorbed by the bridge test and skipping it (no square root, no exponential, no draw)
changes no outcome. Whether the start point is within ``s`` is remembered from the previous step
(one bit per receiver), so a step far from every receiver costs three normals, the plane folds
and one squared distance per receiver. The profile of the kernel is printed by
``benchmarks/mcvd_vs_smoldyn.py``.

Random numbers
--------------
Each molecule has its own xoroshiro128++ stream seeded by splitmix64 from the run key (two
64-bit words of ``SeedSequence(seed)``) and its global molecule index; normals come from a
256-layer ziggurat (Marsaglia & Tsang 2000, Doornik's ZIGNOR variant); the generator lives in
:mod:`mcvd.sim._rng` (shared with the event-driven simulator). Results therefore depend
on the seed only — not on the number of threads, chunks or workers. In-kernel generation is
faster than pre-generating numpy normals (whose rate bounds any pre-generation design; see
``benchmarks/mcvd_fixed_step.py``).

A *destruction radius* (molecules farther than ``R`` from every receiver centre are removed) is
available but off by default; it biases F(t) low and a warning says so.

The run parameters (:class:`~mcvd.sim.params.FixedStepParams`, :func:`params_from_scenario`,
:func:`plan`) live in :mod:`mcvd.sim.params`, which does not need numba; they are re-exported
here.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.extras import MissingExtraError
from .params import (
    ABSORPTION_MODES,
    KEEP_TIMES_MAX,
    NUMBA_MISSING,
    REFLECTION_MODES,
    FixedStepParams,
    _n_steps,
    default_bin_edges,
    params_from_scenario,
    plan,
    transmitter_counts,
)
from .result import SimulationResult
from .runner import ChunkTask, run_key

try:
    from numba import njit, prange
except ImportError as exc:
    raise MissingExtraError(NUMBA_MISSING) from exc

from ._rng import KERNEL_LOCK, normal, stream_state, uniform

__all__ = [
    "ABSORPTION_MODES",
    "KEEP_TIMES_MAX",
    "REFLECTION_MODES",
    "FixedStepParams",
    "default_bin_edges",
    "final_positions",
    "fixed_step_kernel",
    "kernel",
    "params_from_scenario",
    "plan",
    "standard_normals",
    "transmitter_counts",
]

#: bridge probabilities exp(-x) with x above this are 0 for the kernel's uniforms (>= 2**-54)
BRIDGE_CUTOFF = 40.0
#: surface handling of the kernel: none, fold through orthogonal/parallel planes, trace the path
SURF_NONE, SURF_FOLD, SURF_TRACE = 0, 1, 2
#: receivers whose "start point near" bit is kept in the step-to-step mask (the rest recompute)
MASK_BITS = 63


# ----------------------------------------------------------------------------- random numbers
@njit(cache=True, parallel=True)
def _normals_kernel(key0, key1, n_streams, per_stream):
    out = np.empty((n_streams, per_stream))
    for g in prange(n_streams):
        s0, s1 = stream_state(key0, key1, g)
        for j in range(per_stream):
            z, s0, s1 = normal(s0, s1)
            out[g, j] = z
    return out


def standard_normals(n_streams: int, per_stream: int, seed: int = 0) -> np.ndarray:
    """Standard normals from the kernel's generator (for tests and benchmarks).

    Parameters
    ----------
    n_streams : int
        Number of per-molecule streams (molecule indices ``0 ... n_streams - 1``).
    per_stream : int
        Normals drawn from each stream.
    seed : int
        Root seed.

    Returns
    -------
    numpy.ndarray, shape (n_streams, per_stream)

    Examples
    --------
    >>> z = standard_normals(100, 1000, seed=1)
    >>> abs(float(z.mean())) < 0.02
    True
    """
    k0, k1 = run_key(int(seed))
    return _normals_kernel(np.uint64(k0), np.uint64(k1), int(n_streams), int(per_stream))


# ----------------------------------------------------------------------------- geometry helpers
@njit(cache=True)
def _box_entry(ax, ay, az, bx, by, bz, lo, hi):
    """Entry parameter t in [0, 1] and face (axis, side) of segment a->b into a box, or t = -1."""
    t_in = -np.inf
    t_out = np.inf
    axis = -1
    a = (ax, ay, az)
    d = (bx - ax, by - ay, bz - az)
    for k in range(3):
        if d[k] == 0.0:
            if a[k] < lo[k] or a[k] > hi[k]:
                return -1.0, -1, 0
        else:
            t1 = (lo[k] - a[k]) / d[k]
            t2 = (hi[k] - a[k]) / d[k]
            if t1 > t2:
                t1, t2 = t2, t1
            if t1 > t_in:
                t_in = t1
                axis = k
            t_out = min(t_out, t2)
    if axis < 0 or t_in > t_out or t_out <= 1e-12 or t_in > 1.0 or t_in < -1e-12:
        return -1.0, -1, 0
    side = 0 if d[axis] > 0.0 else 1
    return max(t_in, 0.0), axis, side


@njit(cache=True)
def _reflect(ax, ay, az, bx, by, bz, pl_p, pl_n, bx_lo, bx_hi, elastic):
    """Apply the reflecting surfaces to the step a -> b; returns the new position."""
    n_pl = pl_n.shape[0]
    n_bx = bx_lo.shape[0]
    for _ in range(64):
        # first surface crossed by the path a -> b
        t_hit = 2.0
        kind = -1
        idx = 0
        axis = 0
        side = 0
        for j in range(n_pl):
            sb = (
                (bx - pl_p[j, 0]) * pl_n[j, 0]
                + (by - pl_p[j, 1]) * pl_n[j, 1]
                + (bz - pl_p[j, 2]) * pl_n[j, 2]
            )
            if sb < 0.0:
                sa = (
                    (ax - pl_p[j, 0]) * pl_n[j, 0]
                    + (ay - pl_p[j, 1]) * pl_n[j, 1]
                    + (az - pl_p[j, 2]) * pl_n[j, 2]
                )
                t = sa / (sa - sb) if sa > 0.0 else 0.0
                if t < t_hit:
                    t_hit, kind, idx = t, 0, j
        for j in range(n_bx):
            t, ax_k, sd = _box_entry(ax, ay, az, bx, by, bz, bx_lo[j], bx_hi[j])
            if t >= 0.0 and t < t_hit:
                t_hit, kind, idx, axis, side = t, 1, j, ax_k, sd
        if kind < 0:
            return bx, by, bz, True
        if not elastic:
            return bx, by, bz, False
        hx = ax + t_hit * (bx - ax)
        hy = ay + t_hit * (by - ay)
        hz = az + t_hit * (bz - az)
        if kind == 0:
            nx, ny, nz = pl_n[idx, 0], pl_n[idx, 1], pl_n[idx, 2]
            sb = (bx - pl_p[idx, 0]) * nx + (by - pl_p[idx, 1]) * ny + (bz - pl_p[idx, 2]) * nz
            bx -= 2.0 * sb * nx
            by -= 2.0 * sb * ny
            bz -= 2.0 * sb * nz
        else:
            face = bx_lo[idx, axis] if side == 0 else bx_hi[idx, axis]
            if axis == 0:
                bx = 2.0 * face - bx
            elif axis == 1:
                by = 2.0 * face - by
            else:
                bz = 2.0 * face - bz
        ax, ay, az = hx, hy, hz
    return bx, by, bz, False


@njit(cache=True)
def _in_fluid(x, y, z, rx_c, rx_r, pl_p, pl_n, bx_lo, bx_hi):
    """True if the point is in front of every plane, outside every box and every receiver."""
    for j in range(pl_n.shape[0]):
        s = (x - pl_p[j, 0]) * pl_n[j, 0] + (y - pl_p[j, 1]) * pl_n[j, 1]
        if s + (z - pl_p[j, 2]) * pl_n[j, 2] < 0.0:
            return False
    for j in range(bx_lo.shape[0]):
        if (
            bx_lo[j, 0] < x < bx_hi[j, 0]
            and bx_lo[j, 1] < y < bx_hi[j, 1]
            and bx_lo[j, 2] < z < bx_hi[j, 2]
        ):
            return False
    for q in range(rx_r.shape[0]):
        dx, dy, dz = x - rx_c[q, 0], y - rx_c[q, 1], z - rx_c[q, 2]
        if dx * dx + dy * dy + dz * dz <= rx_r[q] * rx_r[q]:
            return False
    return True


@njit(cache=True)
def _near_mask(x, y, z, rx_c, band2):
    """Bit q set when the point is within the bridge band of receiver q (q < MASK_BITS)."""
    mask = np.int64(0)
    for q in range(min(rx_c.shape[0], MASK_BITS)):
        dx, dy, dz = x - rx_c[q, 0], y - rx_c[q, 1], z - rx_c[q, 2]
        if dx * dx + dy * dy + dz * dz < band2[q]:
            mask |= np.int64(1) << q
    return mask


# ----------------------------------------------------------------------------- main kernel
@njit(cache=True, parallel=True)
def _run_molecules(
    start,
    count,
    key0,
    key1,
    tx_pos,
    tx_rel,
    tx_end,
    n_steps,
    sigma,
    D,
    dt,
    rx_c,
    rx_r,
    rx_p,
    pl_p,
    pl_n,
    bx_lo,
    bx_hi,
    surf,
    bridge,
    elastic,
    destroy_r2,
    k_deg,
    out_rx,
    out_t,
    out_pos,
):
    n_rx = rx_r.shape[0]
    n_pl = pl_n.shape[0]
    bridge_lim = BRIDGE_CUTOFF * D * dt
    inv_ddt = 1.0 / (D * dt)
    # squared radii and squared outer radii of the bridge band r + sqrt(bridge_lim)
    r2 = np.empty(n_rx)
    band2 = np.empty(n_rx)
    for q in range(n_rx):
        r2[q] = rx_r[q] * rx_r[q]
        band2[q] = (rx_r[q] + math.sqrt(bridge_lim)) ** 2
    for m in prange(count):
        g = start + m
        s0, s1 = stream_state(key0, key1, g)
        j = 0
        while g >= tx_end[j]:
            j += 1
        x = tx_pos[j, 0]
        y = tx_pos[j, 1]
        z = tx_pos[j, 2]
        steps = n_steps[j]
        if k_deg > 0.0:  # lifetime: steps k with (k + 1/2) dt before it
            u, s0, s1 = uniform(s0, s1)
            alive = -math.log(u) / (k_deg * dt) - 0.5
            if alive < steps:
                steps = max(np.int64(math.ceil(alive)), np.int64(0))
        near = _near_mask(x, y, z, rx_c, band2) if bridge else np.int64(0)
        hit = -1
        t_hit = np.inf
        for k in range(steps):
            g1, s0, s1 = normal(s0, s1)
            g2, s0, s1 = normal(s0, s1)
            g3, s0, s1 = normal(s0, s1)
            nx = x + sigma * g1
            ny = y + sigma * g2
            nz = z + sigma * g3
            if surf == SURF_FOLD:  # inline: array arguments of a call cost reference counting
                settled = False
                for _ in range(64):
                    behind = False
                    for jp in range(n_pl):
                        sb = (
                            (nx - pl_p[jp, 0]) * pl_n[jp, 0]
                            + (ny - pl_p[jp, 1]) * pl_n[jp, 1]
                            + (nz - pl_p[jp, 2]) * pl_n[jp, 2]
                        )
                        if sb < 0.0:
                            behind = True
                            if elastic:
                                nx -= 2.0 * sb * pl_n[jp, 0]
                                ny -= 2.0 * sb * pl_n[jp, 1]
                                nz -= 2.0 * sb * pl_n[jp, 2]
                    # one mirror puts b in front of a single plane
                    settled = not behind or (elastic and n_pl == 1)
                    if settled or not elastic:
                        break
                if not settled:  # rollback mode, or no settling within 64 passes
                    nx, ny, nz = x, y, z
            elif surf == SURF_TRACE:
                nx, ny, nz, ok = _reflect(x, y, z, nx, ny, nz, pl_p, pl_n, bx_lo, bx_hi, elastic)
                if not ok:
                    nx, ny, nz = x, y, z
            near_new = np.int64(0)
            inside = -1
            for q in range(n_rx):
                dx = nx - rx_c[q, 0]
                dy = ny - rx_c[q, 1]
                dz = nz - rx_c[q, 2]
                d2 = dx * dx + dy * dy + dz * dz
                if d2 <= r2[q]:
                    inside = q
                    break
                if bridge and rx_p[q] >= 1.0:  # absorbing receivers only
                    if q < MASK_BITS:
                        bit = np.int64(1) << q
                        if d2 < band2[q]:
                            near_new |= bit
                        check = ((near | near_new) & bit) != 0
                    else:
                        ex, ey, ez = x - rx_c[q, 0], y - rx_c[q, 1], z - rx_c[q, 2]
                        check = d2 < band2[q] or ex * ex + ey * ey + ez * ez < band2[q]
                    if check:
                        ex, ey, ez = x - rx_c[q, 0], y - rx_c[q, 1], z - rx_c[q, 2]
                        r = rx_r[q]
                        e = (math.sqrt(d2) - r) * (math.sqrt(ex * ex + ey * ey + ez * ez) - r)
                        if e < bridge_lim:
                            u, s0, s1 = uniform(s0, s1)
                            if u < math.exp(-e * inv_ddt):
                                hit = q
                                break
            if inside >= 0:
                p_react = rx_p[inside]
                if p_react >= 1.0:
                    hit = inside
                else:
                    u, s0, s1 = uniform(s0, s1)
                    if u < p_react:
                        hit = inside
                    else:  # reflected: mirror radially through the surface, or stay at a
                        cx, cy, cz = rx_c[inside, 0], rx_c[inside, 1], rx_c[inside, 2]
                        dx, dy, dz = nx - cx, ny - cy, nz - cz
                        d = math.sqrt(dx * dx + dy * dy + dz * dz)
                        f = (2.0 * rx_r[inside] - d) / d if d > 0.0 else 0.0
                        nx, ny, nz = cx + f * dx, cy + f * dy, cz + f * dz
                        if d == 0.0 or not _in_fluid(
                            nx, ny, nz, rx_c, rx_r, pl_p, pl_n, bx_lo, bx_hi
                        ):
                            nx, ny, nz = x, y, z
                        if bridge:
                            near_new = _near_mask(nx, ny, nz, rx_c, band2)
            if hit >= 0:
                t_hit = tx_rel[j] + (k + 1) * dt
                break
            x = nx
            y = ny
            z = nz
            near = near_new
            if destroy_r2 < np.inf:
                far = True
                for q in range(n_rx):
                    dx = x - rx_c[q, 0]
                    dy = y - rx_c[q, 1]
                    dz = z - rx_c[q, 2]
                    if dx * dx + dy * dy + dz * dz <= destroy_r2:
                        far = False
                        break
                if far:
                    break
        out_rx[m] = hit
        out_t[m] = t_hit
        if out_pos.shape[0] > 0:
            out_pos[m, 0] = x
            out_pos[m, 1] = y
            out_pos[m, 2] = z


# ----------------------------------------------------------------------------- host side
def _arr(x, shape1=None) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if shape1 is not None:
        a = a.reshape(-1, shape1)
    return np.ascontiguousarray(a)


def _surface_mode(p: FixedStepParams) -> int:
    """How the kernel handles the run's reflecting surfaces (:data:`SURF_FOLD` where it can)."""
    if not p.plane_normal and not p.box_min:
        return SURF_NONE
    if p.box_min:
        return SURF_TRACE
    n = np.asarray(p.plane_normal, dtype=float).reshape(-1, 3)
    c = np.abs(n @ n.T)
    ok = (c < 1e-12) | (np.abs(c - 1.0) < 1e-12)
    return SURF_FOLD if bool(ok.all()) else SURF_TRACE


def _simulate_arrays(
    p: FixedStepParams,
    task: ChunkTask,
    positions: bool,
    *,
    surface: int | None = None,
    bridge: bool | None = None,
):
    """Run the kernel on one chunk: (receiver index or -1, absorption time, final positions).

    ``surface`` (:data:`SURF_NONE`, :data:`SURF_FOLD`, :data:`SURF_TRACE`) and ``bridge``
    override the kernel's surface handling and bridge test (tests of the code paths and the
    profile in the benchmarks; :data:`SURF_NONE` ignores the surfaces)."""
    tx_end = np.cumsum(np.asarray(p.tx_weight, dtype=np.int64))
    if task.start + task.count > tx_end[-1]:
        raise ValueError("task exceeds the run's molecules (tx_weight must hold the counts)")
    tx_rel = _arr(p.tx_release)
    n_steps = _n_steps(p.t_end - tx_rel, p.dt).astype(np.int64)
    k0, k1 = task.key
    out_rx = np.empty(task.count, dtype=np.int64)
    out_t = np.empty(task.count, dtype=np.float64)
    out_pos = np.empty((task.count if positions else 0, 3), dtype=np.float64)
    with KERNEL_LOCK:
        _run_molecules(
            np.int64(task.start),
            np.int64(task.count),
            np.uint64(k0),
            np.uint64(k1),
            _arr(p.tx_pos, 3),
            tx_rel,
            tx_end,
            n_steps,
            math.sqrt(2.0 * p.D * p.dt),
            float(p.D),
            float(p.dt),
            _arr(p.rx_center, 3),
            _arr(p.rx_radius),
            _arr(p.reaction_probabilities(warn=False)),
            _arr(p.plane_point, 3),
            _arr(p.plane_normal, 3),
            _arr(p.box_min, 3),
            _arr(p.box_max, 3),
            np.int64(_surface_mode(p) if surface is None else surface),
            p.absorption == "bridge" if bridge is None else bool(bridge),
            p.reflection == "elastic",
            float(p.destruction_radius) ** 2,
            float(p.degradation_rate),
            out_rx,
            out_t,
            out_pos,
        )
    return out_rx, out_t, out_pos


def final_positions(p: FixedStepParams, n_molecules: int, seed: int = 0) -> np.ndarray:
    """Positions (µm) of molecules ``0 ... n_molecules - 1`` at the horizon (or at absorption).

    Runs the same kernel as :func:`fixed_step_kernel` (for tests of the stepping and reflection).

    Parameters
    ----------
    p : FixedStepParams
        Run parameters (``sum(p.tx_weight) >= n_molecules``).
    n_molecules : int
        Molecules.
    seed : int
        Root seed.

    Returns
    -------
    numpy.ndarray, shape (n_molecules, 3)

    Examples
    --------
    >>> p = FixedStepParams(1.0, 0.01, 0.1, ((0, 0, 0),), (0.0,), (10,), ((1e6, 0, 0),),
    ...                     (1.0,), bin_edges=(0.0, 0.1))
    >>> final_positions(p, 10, seed=1).shape
    (10, 3)
    """
    return _simulate_arrays(p, ChunkTask(0, 0, int(n_molecules), int(seed)), positions=True)[2]


def fixed_step_kernel(p: FixedStepParams, task: ChunkTask) -> SimulationResult:
    """Simulate molecules ``task.start ... task.start + task.count - 1`` of a run.

    The transmitter of molecule ``g`` follows from splitting the run's ``n_molecules`` (stored in
    ``task``-independent form: ``p.tx_weight`` must hold the per-transmitter molecule counts of
    the run, see :func:`params_from_scenario`).

    Parameters
    ----------
    p : FixedStepParams
        Run parameters.
    task : ChunkTask
        The chunk.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> p = FixedStepParams(79.4, 1e-3, 0.01, ((0, 0, 10),), (0.0,), (100,), ((10, 0, 0),),
    ...                     (5.0,), bin_edges=(0.0, 0.01))
    >>> fixed_step_kernel(p, ChunkTask(0, 0, 100, seed=1)).n_molecules
    100
    """
    out_rx, out_t, _ = _simulate_arrays(p, task, positions=False)
    meta = p.metadata()
    meta.update(chunk_index=task.index, chunk_start=task.start)
    return SimulationResult.from_absorptions(
        out_rx,
        out_t,
        task.count,
        p.bin_edges,
        p.n_receivers,
        keep_times=p.keep_times,
        metadata=meta,
    )


#: the kernel :func:`mcvd.sim.simulate` runs for ``method="fixed-step"``
kernel = fixed_step_kernel
