"""Fixed-time-step Brownian particle simulator (numba, parallel over molecules).

Model (units µm, s, µm²/s)
-----------------------------------
Every molecule starts at its transmitter at the transmitter's release time and moves by
independent Gaussian steps ``N(0, 2 D dt)`` per axis (standard deviation ``sqrt(2 D dt)``) until
it is absorbed or the horizon ``t_end`` is reached. Per step:

1. propose ``b = a + sqrt(2 D dt) * Z``;
2. reflecting surfaces (infinite planes, finite axis-aligned boxes):

   * ``"elastic"`` — the straight path ``a -> b`` is followed; at the first surface it crosses,
     the remaining overshoot is mirrored, and this repeats until the path stays in the fluid
     (at most 64 reflections, then the step is rolled back). For one plane this is exactly the
     reflected Brownian motion (the free motion folded by the mirror).
   * ``"rollback"`` — a step whose path crosses a surface is discarded (the molecule stays at
     ``a`` for that step). Biased (molecules linger near walls); offered because it is common in
     the literature.
3. absorbing spheres:

   * ``"end-of-step"`` (MUCIN-style) — absorbed when ``b`` is inside a receiver. Misses
     excursions into the receiver within a step, so it under-counts; to first order it acts like
     a receiver shrunk by ``0.5826 * sqrt(2 D dt)`` (the discrete-monitoring shift
     ``-zeta(1/2)/sqrt(2 pi)`` of Broadie, Glasserman & Kou 1997).
   * ``"bridge"`` — additionally absorbed with the Brownian-bridge probability that the path
     touched the sphere during the step, in the planar approximation
     ``P = exp(-d1 d2 / (D dt))`` with ``d1, d2`` the distances to the sphere surface before and
     after the step (exact for a plane; the curvature error is ``O(dt)`` relative to the
     ``O(sqrt(dt))`` bias it removes). The probability is skipped when ``d1 d2 > 40 D dt``
     (``P < 5e-18``).

   An absorbed molecule gets the absorption time ``t_release + (k + 1) dt`` (end of the step).

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
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .._version import __version__
from ..core.scenario import as_scenario
from ._rng import KERNEL_LOCK, ZIG_RATIO, ZIG_TAIL, ZIG_X, normal, stream_state, uniform
from .result import SimulationResult
from .runner import ChunkTask, check_count, run_key

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

ABSORPTION_MODES = ("end-of-step", "bridge")
REFLECTION_MODES = ("elastic", "rollback")
#: bridge probabilities exp(-x) with x above this are treated as 0
BRIDGE_CUTOFF = 40.0
#: runs above this many molecules keep only per-bin counts by default (memory bound)
KEEP_TIMES_MAX = 10_000_000
#: maximum number of time bins of the default bin grid
MAX_BINS = 20_000


# ----------------------------------------------------------------------------- random numbers
@njit(cache=True, parallel=True)
def _normals_kernel(key0, key1, n_streams, per_stream, zx, zr, tail):
    out = np.empty((n_streams, per_stream))
    for g in prange(n_streams):
        s0, s1 = stream_state(key0, key1, g)
        for j in range(per_stream):
            z, s0, s1 = normal(s0, s1, zx, zr, tail)
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
    return _normals_kernel(
        np.uint64(k0), np.uint64(k1), int(n_streams), int(per_stream), ZIG_X, ZIG_RATIO, ZIG_TAIL
    )


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
    pl_p,
    pl_n,
    bx_lo,
    bx_hi,
    bridge,
    elastic,
    destroy_r2,
    zx,
    zr,
    tail,
    out_rx,
    out_t,
    out_pos,
):
    n_rx = rx_r.shape[0]
    surfaces = pl_n.shape[0] + bx_lo.shape[0] > 0
    bridge_lim = BRIDGE_CUTOFF * D * dt
    # d1 d2 < bridge_lim with d2 >= band = 2 sqrt(bridge_lim) needs d1 <= sqrt(bridge_lim) / 2,
    # i.e. a radial move of more than 1.5 sqrt(bridge_lim) = 6.7 sigma in one step (probability
    # ~1e-11 per step): such steps are skipped, which saves a square root on most steps.
    band = 2.0 * math.sqrt(bridge_lim)
    inv_ddt = 1.0 / (D * dt)
    for m in prange(count):
        g = start + m
        s0, s1 = stream_state(key0, key1, g)
        j = 0
        while g >= tx_end[j]:
            j += 1
        x = tx_pos[j, 0]
        y = tx_pos[j, 1]
        z = tx_pos[j, 2]
        hit = -1
        t_hit = np.inf
        for k in range(n_steps[j]):
            g1, s0, s1 = normal(s0, s1, zx, zr, tail)
            g2, s0, s1 = normal(s0, s1, zx, zr, tail)
            g3, s0, s1 = normal(s0, s1, zx, zr, tail)
            nx = x + sigma * g1
            ny = y + sigma * g2
            nz = z + sigma * g3
            if surfaces:
                nx, ny, nz, ok = _reflect(x, y, z, nx, ny, nz, pl_p, pl_n, bx_lo, bx_hi, elastic)
                if not ok:
                    nx, ny, nz = x, y, z
            for q in range(n_rx):
                dx = nx - rx_c[q, 0]
                dy = ny - rx_c[q, 1]
                dz = nz - rx_c[q, 2]
                d2 = dx * dx + dy * dy + dz * dz
                r = rx_r[q]
                if d2 <= r * r:
                    hit = q
                elif bridge and d2 < (r + band) * (r + band):
                    d_after = math.sqrt(d2) - r
                    ex = x - rx_c[q, 0]
                    ey = y - rx_c[q, 1]
                    ez = z - rx_c[q, 2]
                    e = d_after * (math.sqrt(ex * ex + ey * ey + ez * ez) - r)
                    if e < bridge_lim:
                        u, s0, s1 = uniform(s0, s1)
                        if u < math.exp(-e * inv_ddt):
                            hit = q
                if hit >= 0:
                    break
            if hit >= 0:
                t_hit = tx_rel[j] + (k + 1) * dt
                break
            x = nx
            y = ny
            z = nz
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


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class FixedStepParams:
    """Plain-array description of a fixed-step run (picklable; see :func:`params_from_scenario`).

    Attributes
    ----------
    D : float
        Diffusion coefficient (µm²/s).
    dt : float
        Time step (s).
    t_end : float
        Horizon (s).
    tx_pos : tuple
        Transmitter positions (µm), shape (n_tx, 3).
    tx_release : tuple
        Release times (s), shape (n_tx,).
    tx_weight : tuple
        Relative molecule counts of the transmitters (scenario ``molecules``).
    rx_center, rx_radius : tuple
        Receiver centres (µm, (n_rx, 3)) and radii (µm).
    plane_point, plane_normal : tuple
        Reflecting planes (point, unit normal into the fluid), (n_planes, 3) each.
    box_min, box_max : tuple
        Reflecting axis-aligned boxes, (n_boxes, 3) each.
    absorption : str
        ``"end-of-step"`` or ``"bridge"``.
    reflection : str
        ``"elastic"`` or ``"rollback"``.
    destruction_radius : float
        ``inf`` (default: none).
    bin_edges : tuple
        Time-bin edges (s) of the result.
    keep_times : bool
        Keep individual absorption times.
    """

    D: float
    dt: float
    t_end: float
    tx_pos: tuple
    tx_release: tuple
    tx_weight: tuple
    rx_center: tuple
    rx_radius: tuple
    plane_point: tuple = ()
    plane_normal: tuple = ()
    box_min: tuple = ()
    box_max: tuple = ()
    absorption: str = "bridge"
    reflection: str = "elastic"
    destruction_radius: float = math.inf
    bin_edges: tuple = ()
    keep_times: bool = True

    def __post_init__(self):
        for name in ("D", "dt", "t_end"):
            _check_positive(name, getattr(self, name))
        if self.dt > self.t_end:
            raise ValueError(f"dt ({self.dt}) must be <= the horizon t_end ({self.t_end})")
        if self.absorption not in ABSORPTION_MODES:
            raise ValueError(
                f"absorption must be one of {ABSORPTION_MODES}, got {self.absorption!r}"
            )
        if self.reflection not in REFLECTION_MODES:
            raise ValueError(
                f"reflection must be one of {REFLECTION_MODES}, got {self.reflection!r}"
            )
        if not (self.destruction_radius > 0):
            raise ValueError(f"destruction_radius must be > 0, got {self.destruction_radius!r}")
        if len(self.tx_pos) < 1 or len(self.rx_radius) < 1:
            raise ValueError("at least one transmitter and one receiver are required")

    @property
    def n_receivers(self) -> int:
        """Number of receivers."""
        return len(self.rx_radius)

    def metadata(self) -> dict:
        """Run metadata recorded in every result."""
        return {
            "method": "fixed-step",
            "version": __version__,
            "D": self.D,
            "dt": self.dt,
            "t_end": self.t_end,
            "absorption": self.absorption,
            "reflection": self.reflection,
            "destruction_radius": self.destruction_radius,
            "rng": "xoroshiro128++ per molecule (splitmix64 seeding), 256-layer ziggurat",
        }


def _check_positive(name: str, v) -> None:
    """One-line ValueError unless ``v`` is a finite real number > 0 (bools rejected)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")


def _arr(x, shape1=None) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if shape1 is not None:
        a = a.reshape(-1, shape1)
    return np.ascontiguousarray(a)


def _n_steps(span, dt):
    """Number of whole steps of ``dt`` in ``span`` (tolerant to rounding of ``span / dt``)."""
    return np.floor(np.asarray(span, dtype=float) / dt * (1 + 1e-12) + 1e-9)


def _split_counts(weights, n: int) -> np.ndarray:
    """Molecules per transmitter: ``n`` split in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = n - int(base.sum())
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return base


def transmitter_counts(geometry, n_molecules: int | None = None) -> np.ndarray:
    """Molecules per transmitter of a run (shared by the fixed-step and event-driven simulators).

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        The channel; its transmitters' ``molecules`` are the weights.
    n_molecules : int, optional
        Total molecules (>= 1), split in proportion to the weights (largest remainder); default
        the transmitters' own counts.

    Returns
    -------
    numpy.ndarray of int64, shape (n_transmitters,)

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry, Sphere, Transmitter
    >>> g = Geometry(79.4, (Transmitter((0, 0, 0), 3), Transmitter((0, 0, 20), 1)),
    ...              (Sphere((0, 0, 10), 2),))
    >>> transmitter_counts(g, 10).tolist()
    [8, 2]
    """
    counts = np.array([t.molecules for t in geometry.transmitters], dtype=np.int64)
    if n_molecules is not None:
        counts = _split_counts(counts, check_count(n_molecules, "n_molecules"))
    return counts


def _simulate_arrays(p: FixedStepParams, task: ChunkTask, positions: bool):
    """Run the kernel on one chunk: (receiver index or -1, absorption time, final positions)."""
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
            _arr(p.plane_point, 3),
            _arr(p.plane_normal, 3),
            _arr(p.box_min, 3),
            _arr(p.box_max, 3),
            p.absorption == "bridge",
            p.reflection == "elastic",
            float(p.destruction_radius) ** 2,
            ZIG_X,
            ZIG_RATIO,
            ZIG_TAIL,
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
    the run, see :func:`simulate`).

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


def default_bin_edges(t_end: float, dt: float) -> np.ndarray:
    """Bin edges ``0, w, 2w, ..., t_end`` with ``w`` the smallest multiple of ``dt`` giving at most
    :data:`MAX_BINS` bins (so every multiple of ``w`` up to ``t_end`` is an exact grid point).

    Examples
    --------
    >>> default_bin_edges(2.0, 1e-4).size
    20001
    """
    n_steps = int(_n_steps(t_end, dt))
    stride = max(1, math.ceil(n_steps / MAX_BINS))
    edges = np.arange(0, n_steps + 1, stride) * dt
    if edges[-1] < t_end * (1 - 1e-9):
        edges = np.append(edges, t_end)
    return edges


def params_from_scenario(
    scenario,
    *,
    dt: float | None = None,
    t_end: float | None = None,
    absorption: str = "bridge",
    reflection: str = "elastic",
    destruction_radius: float | None = None,
    n_molecules: int | None = None,
    bin_edges=None,
    keep_times: bool | None = None,
) -> tuple[FixedStepParams, int]:
    """Kernel parameters and the total molecule count of a scenario.

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        Validated scenario, its dictionary, or a JSON file.
    dt, t_end : float, optional
        Override the scenario's ``time.dt`` / ``time.end`` (s).
    absorption, reflection : str
        Modes (see the module docstring).
    destruction_radius : float, optional
        Remove molecules farther than this from every receiver centre (biased; warns).
    n_molecules : int, optional
        Total molecules (split over transmitters in proportion to their ``molecules``); default
        the scenario's total.
    bin_edges : array_like, optional
        Result time bin edges (s) (default :func:`default_bin_edges`).
    keep_times : bool, optional
        Keep individual absorption times (default: when ``n_molecules <= 1e7``).

    Returns
    -------
    (FixedStepParams, int)

    Examples
    --------
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 50},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}]}
    >>> p, n = params_from_scenario(sc, dt=1e-3)
    >>> n, p.dt, p.t_end
    (50, 0.001, 2.0)
    """
    scenario = as_scenario(scenario)
    geom = scenario.geometry()
    geom.require_physics("method 'fixed-step'")
    dt = scenario.time.dt if dt is None else dt
    t_end = scenario.time.end if t_end is None else t_end
    _check_positive("dt", dt)
    _check_positive("t_end", t_end)
    counts = transmitter_counts(geom, n_molecules)
    n = int(counts.sum())
    rel = [t.release_time for t in geom.transmitters]
    if any(r >= t_end for r in rel):
        raise ValueError(f"transmitter release_time must be < the horizon {t_end} s")
    if destruction_radius is None:
        destruction_radius = math.inf
    else:
        warnings.warn(
            "destruction_radius removes molecules that could still return to a receiver: "
            "F(t) is biased low",
            UserWarning,
            stacklevel=2,
        )
    edges = default_bin_edges(t_end, dt) if bin_edges is None else np.asarray(bin_edges, float)
    p = FixedStepParams(
        D=float(geom.D),
        dt=float(dt),
        t_end=float(t_end),
        tx_pos=tuple(t.position for t in geom.transmitters),
        tx_release=tuple(float(r) for r in rel),
        tx_weight=tuple(int(c) for c in counts),
        rx_center=tuple(s.center for s in geom.receivers),
        rx_radius=tuple(s.radius for s in geom.receivers),
        plane_point=tuple(pl.point for pl in geom.planes),
        plane_normal=tuple(pl.normal for pl in geom.planes),
        box_min=tuple(b.min for b in geom.obstacles),
        box_max=tuple(b.max for b in geom.obstacles),
        absorption=absorption,
        reflection=reflection,
        destruction_radius=float(destruction_radius),
        bin_edges=tuple(float(e) for e in edges),
        keep_times=bool(n <= KEEP_TIMES_MAX) if keep_times is None else bool(keep_times),
    )
    return p, n


def plan(
    scenario,
    options,
    *,
    n_molecules: int | None = None,
    t_end: float | None = None,
    bin_edges=None,
    keep_times: bool | None = None,
) -> tuple[FixedStepParams, int]:
    """Kernel parameters of a fixed-step run (the planner :func:`mcvd.sim.simulate` calls).

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The channel.
    options : mcvd.sim.api.FixedStepOptions
        ``dt``, ``absorption``, ``reflection``, ``destruction_radius``.
    n_molecules, t_end, bin_edges, keep_times
        See :func:`params_from_scenario`.

    Returns
    -------
    (FixedStepParams, int)
        Parameters and the total molecule count.

    Examples
    --------
    >>> from mcvd.sim.api import FixedStepOptions
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 50},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}]}
    >>> p, n = plan(sc, FixedStepOptions(dt=1e-3))
    >>> n, p.dt
    (50, 0.001)
    """
    return params_from_scenario(
        scenario,
        dt=options.dt,
        t_end=t_end,
        absorption=options.absorption,
        reflection=options.reflection,
        destruction_radius=options.destruction_radius,
        n_molecules=n_molecules,
        bin_edges=bin_edges,
        keep_times=keep_times,
    )


#: the kernel :func:`mcvd.sim.simulate` runs for ``method="fixed-step"``
kernel = fixed_step_kernel
