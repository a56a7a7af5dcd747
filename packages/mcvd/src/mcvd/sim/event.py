"""Time-step-free event-driven simulator: walk on spheres with exact exit times.

Units: µm, s, µm²/s.

Method
------
Reflecting planes are removed by the method of images (:func:`mcvd.core.geometry.image_system`):
Brownian motion reflected at the planes is free motion folded by the reflection group, so a
molecule moves *freely* and is absorbed by the union of the receivers and all their images; an
absorption by an image counts for its real receiver. One plane gives 2 absorbers per receiver, a
corner 4, three orthogonal planes 8 (finite groups: no folding is needed at all).

Two parallel planes (a slab of width ``L``) give an infinite, periodic image array (period ``2L``
along the normal). The molecule's normal coordinate is folded into the fundamental cell
``[-L, L)`` (a translation by ``2L`` is an element of the group, so this does not change the
law), and the absorbers of the cells ``k = -1, 0, 1`` are checked. Every absorber of a cell with
``|k| >= 2`` lies at distance ``>= 2L`` from any point of the fundamental cell, so the ball radius
is capped at ``2L``: the truncation is **exact**, not an approximation.

Walk: from the current point ``x`` let ``d`` be the distance to the nearest absorber surface.
If ``d < eps`` the molecule is absorbed now by that absorber's receiver. Otherwise take the ball of
radius ``R = min(d, cap)`` around ``x`` (it touches no absorber), draw the exact exit time
``t_exit = tau R**2 / D`` (:mod:`mcvd.sim.exit_time`) and an independent uniform exit point on
the sphere, and advance the clock. If ``clock + t_exit`` passes the horizon the molecule cannot
have been absorbed before the horizon (it is still inside the ball, which contains no absorber):
it is recorded as not absorbed and the walk stops. There is no time-step bias; the only
approximation is the ``eps`` shell (bias bounded in :data:`DEFAULT_EPS`).

Far-away molecules need no special rule before a finite horizon: without a slab the ball radius
is not capped, so a molecule at distance ``rho`` from every absorber jumps by ``rho`` with a mean
exit time ``rho**2 / (6 D)``; the walk passes the horizon (and stops) after a few jumps once
``rho**2 / D`` exceeds the remaining time. In a slab the cap ``2L`` bounds the jumps, but the
lateral motion then costs about ``(remaining time) D / L**2`` jumps at most.

Infinite horizon (``horizon = inf``, the capture probability ``F(inf)``): Brownian motion in 3-D
is transient, so the walk needs an exit to infinity. Let ``B`` be a sphere (centre ``c_B``,
radius ``R_B``) enclosing every absorber. From a point at distance ``rho >= 2 R_B`` from ``c_B``
the motion ever hits ``B`` with probability ``R_B/rho`` and, conditioned on that, hits it at a
point with the exterior harmonic measure (density ``∝ |x - y|**-3`` on the sphere): the walk
escapes with probability ``1 - R_B/rho`` or jumps to that point — both exact. With a slab the
motion is recurrent in the plane of the slab (``F(inf) = 1`` total), so an infinite horizon is
rejected there.

Random numbers: molecule ``g`` of a run has its own xoroshiro128++ stream, seeded from
``SeedSequence(seed)`` and ``g`` (:mod:`mcvd.sim._rng`, shared with the fixed-step simulator), and the kernel is
parallel over molecules (``numba.prange``): results depend only on the seed, not on the number of
threads, the chunking or the scheduling.

Degrading molecules (``degradation_rate`` k_d > 0): every molecule draws its exponential lifetime
``T ~ Exp(k_d)`` (one extra uniform at the start of its stream, only when ``k_d > 0``) and walks
until ``min(horizon, release + T)``; a molecule that has not been absorbed by then is lost. This is
exact (no approximation beyond the ``eps`` shell): ``F_deg(t) = P(τ <= t, τ < T)``. The timeless
escape to infinity of the infinite horizon is not used then (the lifetime ends every walk).

Reactive receivers (``reaction_rate`` k < inf, the Robin condition ``D ∂w/∂n = k (w - 1)``):
partial reflection from the ``eps`` shell. A molecule in the shell of a reactive absorber of
radius ``a`` is treated as on its surface; it reacts there with probability

    p = k a h / (k a h + D (a + h)),

the exact probability that Brownian motion started on the sphere reacts before reaching the
concentric sphere of radius ``a + h`` (harmonic in the shell, Robin at ``a``, 0 at ``a + h``);
otherwise it is moved radially outward by ``h`` and its clock advances by ``h²/(2D)``, the mean
time of that excursion (``O(k h/D)`` corrections; their sum over the ``~D/(k h)`` visits is
``O(h²/D)``). The scheme is exact for the stationary one-sphere problem; its remaining errors are
the ``eps`` shell (as for absorbing receivers), the tangential spread of the excursion and the
fluctuation of its duration, both second order in ``h/a``. ``h`` (:data:`REACTION_STEP`,
relative to the radius) is capped by a quarter of the gap to the nearest other absorber and
must exceed ``4 eps``. Validated against the exact solution (Collins–Kimball in free space, a
reactive receiver near a wall) in the tests. Each reaction attempt costs about ``log(h/eps)``
jumps, and a molecule visits the surface ``~D/(k h)`` times before it reacts: slow reactions
are expensive.

Finite reflecting obstacles (boxes) are not supported: the largest-ball construction would need
reflected first-passage laws near a box face; scenarios with obstacles are rejected with a clear
message (use the fixed-step simulator).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from ..core.extras import MissingExtraError
from .params import NUMBA_MISSING

try:
    import numba
except ImportError as exc:
    raise MissingExtraError(NUMBA_MISSING) from exc

from .._version import __version__
from ..core.geometry import Geometry, slab_width
from ..core.scenario import as_scenario
from ._rng import KERNEL_LOCK, stream_state, uniform
from .api import DEFAULT_EPS, check_eps
from .exit_time import tau_from_uniform
from .params import KEEP_TIMES_MAX, default_bin_edges, transmitter_counts
from .result import SimulationResult
from .runner import ChunkTask, resolve_seed, run_chunks, run_key

__all__ = [
    "DEFAULT_BIN_WIDTH",
    "DEFAULT_EPS",
    "REFERENCE_SE",
    "ChunkOutput",
    "EventParams",
    "event_kernel",
    "event_reference",
    "kernel",
    "plan",
    "prepare",
    "walk",
]


#: default width (s) of the result's time bins (the paper's 5 ms hitting-rate bins)
DEFAULT_BIN_WIDTH = 5e-3

#: hard cap on jumps per molecule (a guard against a broken domain, never reached in practice)
MAX_JUMPS = 10_000_000

#: outward step ``h`` of the reactive-receiver scheme, relative to the receiver radius (capped by a
#: quarter of the gap to the nearest other absorber); see the module Notes
REACTION_STEP = 0.01


@dataclass(frozen=True)
class EventParams:
    """Everything the walk-on-spheres kernel needs for one run (flat, picklable, JSON-describable).

    Attributes
    ----------
    D : float
        Diffusion coefficient (µm²/s).
    centers : numpy.ndarray, shape (M, 3)
        Absorber centres (receivers and their images; µm).
    radii : numpy.ndarray, shape (M,)
        Absorber radii (µm).
    owner : numpy.ndarray, shape (M,)
        Index of the real receiver of each absorber.
    n_receivers : int
        Number of real receivers.
    periodic_axes, periodic_origins, periodic_periods : numpy.ndarray
        Folding: ``s = (x - origin) . axis`` is folded into ``[-P/2, P/2)`` for each periodic axis
        (shapes (p, 3), (p, 3), (p,); ``p = 0`` without a slab).
    cap : float
        Largest ball radius (µm; ``inf`` without periodic folding).
    escape_center, escape_radius : numpy.ndarray, float
        Sphere enclosing every absorber and its ``eps`` shell (exact escape to infinity for an
        infinite horizon).
    kind : str
        Image-system kind (``"free"``, ``"plane"``, ``"corner2"``, ``"corner3"``, ``"slab"``).
    tx_positions : numpy.ndarray, shape (k, 3)
        Transmitter positions (µm).
    tx_molecules : numpy.ndarray of int, shape (k,)
        Molecules of each transmitter; the run's molecules are numbered transmitter by
        transmitter.
    tx_release_times : numpy.ndarray, shape (k,)
        Release times (s).
    horizon : float
        Absolute end time (s), or ``inf`` for capture probabilities.
    eps : float
        Absorption shell (µm).
    bin_edges : numpy.ndarray
        Time-bin edges (s) of the result, ``[0, ..., horizon]``.
    keep_times : bool
        Keep individual absorption times in the result.
    reaction_p : numpy.ndarray, shape (M,)
        Reaction probability per visit of each absorber's shell (1 for absorbing ones).
    reaction_step : numpy.ndarray, shape (M,)
        Outward step ``h`` (µm) after a visit without reaction (0 for absorbing ones).
    degradation_rate : float
        Degradation rate of the molecules (1/s; 0 = stable).
    """

    D: float
    centers: np.ndarray
    radii: np.ndarray
    owner: np.ndarray
    n_receivers: int
    periodic_axes: np.ndarray
    periodic_origins: np.ndarray
    periodic_periods: np.ndarray
    cap: float
    escape_center: np.ndarray
    escape_radius: float
    kind: str
    tx_positions: np.ndarray
    tx_molecules: np.ndarray
    tx_release_times: np.ndarray
    horizon: float
    eps: float
    bin_edges: np.ndarray
    keep_times: bool = True
    reaction_p: np.ndarray | None = None
    reaction_step: np.ndarray | None = None
    degradation_rate: float = 0.0


def _reaction_scheme(centers, radii, rates, D, eps):
    """Per-absorber reaction probability and outward step of the reactive scheme."""
    M = radii.size
    p = np.ones(M)
    h = np.zeros(M)
    reactive = np.isfinite(rates)
    if not np.any(reactive):
        return p, h
    dist = np.linalg.norm(centers[:, None, :] - centers[None, :, :], axis=2)
    gap = dist - radii[:, None] - radii[None, :]
    np.fill_diagonal(gap, np.inf)
    for j in np.flatnonzero(reactive):
        a, k = radii[j], rates[j]
        h[j] = min(REACTION_STEP * a, 0.25 * float(gap[j].min()))
        if h[j] < 4.0 * eps:
            raise ValueError(
                f"eps: a reactive receiver {float(gap[j].min()):.3g} µm from another absorbing "
                f"surface (or its mirror image) needs eps <= {h[j] / 4.0:.3g} µm for its "
                f"partial-reflection step (got eps={eps:g})"
            )
        p[j] = k * a * h[j] / (k * a * h[j] + D * (a + h[j]))
    return p, h


def _check_horizon(horizon) -> float:
    """The horizon (s) as a float: a real number > 0 (``inf`` allowed); one-line error otherwise."""
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float, np.integer, np.floating)):
        raise TypeError(f"horizon must be a real number (s), got {type(horizon).__name__}")
    horizon = float(horizon)
    if not horizon > 0:
        raise ValueError(f"horizon must be > 0 (s), got {horizon}")
    return horizon


def prepare(
    geometry: Geometry,
    horizon: float,
    *,
    eps: float = DEFAULT_EPS,
    bin_edges=None,
    keep_times: bool = True,
    molecules=None,
) -> EventParams:
    """Build the absorber set (receivers + images), folding rules and run settings.

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        Validated channel (transmitters, receivers, planes). Obstacles are rejected.
    horizon : float
        End time (s), > 0; ``inf`` for capture probabilities ``F(inf)`` (not with a slab).
    eps : float
        Absorption shell (µm), > 0 (default :data:`DEFAULT_EPS`).
    bin_edges : array_like, optional
        Result time bins (s) from 0 to ``horizon`` (default: 5 ms bins, or ``[0, inf]``).
    keep_times : bool
        Keep individual absorption times.
    molecules : sequence of int, optional
        Molecules per transmitter (default: the geometry's).

    Returns
    -------
    EventParams

    Raises
    ------
    ValueError
        Finite obstacles, an unsupported plane arrangement, an infinite horizon with a slab, or a
        bad ``horizon``/``eps``/``bin_edges``.
    TypeError
        A ``horizon`` that is not a real number (a string or a bool).

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> p = prepare(g, 2.0)
    >>> p.centers.tolist(), p.owner.tolist(), p.bin_edges.size
    ([[10.0, 0.0, 0.0], [-10.0, 0.0, 0.0]], [0, 0], 401)
    """
    if not isinstance(geometry, Geometry):
        raise TypeError(
            f"geometry must be a mcvd.core.geometry.Geometry, got {type(geometry).__name__}"
        )
    if geometry.obstacles:
        raise ValueError(
            f"obstacles: the event-driven simulator handles absorbing spheres and infinite "
            f"reflecting planes only ({len(geometry.obstacles)} finite obstacle(s) given); "
            "use --method fixed-step"
        )
    horizon = _check_horizon(horizon)
    eps = float(eps)
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be finite and > 0 (µm), got {eps}")
    # n_periods only matters for a slab (cells k = -1, 0, 1; it is ignored by the finite groups)
    system = geometry.images(1)
    is_slab = system.kind == "slab"
    axes, origins, periods, cap = np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), math.inf
    if is_slab:
        if math.isinf(horizon):
            raise ValueError(
                "horizon: an infinite horizon is not supported between two parallel planes "
                "(lateral motion is recurrent, total F(inf) = 1); give a finite horizon"
            )
        p0 = geometry.planes[0]
        L = slab_width(geometry.planes)
        axes, origins, periods = p0.n[None, :], np.array(p0.point)[None, :], np.array([2.0 * L])
        cap = 2.0 * L  # absorbers of cells |k| >= 2 are >= 2L away from the fundamental cell
    centers, radii, owner, rates = [], [], [], []
    for i, rx in enumerate(geometry.receivers):
        for c in system.apply(rx.c):
            centers.append(c)
            radii.append(rx.radius)
            owner.append(i)
            rates.append(rx.reaction_rate)
    centers = np.array(centers, dtype=float)
    radii = np.array(radii, dtype=float)
    if is_slab:  # the neighbouring cells' images, for the gaps of the reactive step
        around = np.concatenate([centers + k * periods[0] * axes[0] for k in (-1, 0, 1)])
        rad3, rate3 = np.tile(radii, 3), np.tile(rates, 3)
        p3, h3 = _reaction_scheme(around, rad3, rate3, float(geometry.D), eps)
        react_p, react_h = p3[radii.size : 2 * radii.size], h3[radii.size : 2 * radii.size]
    else:
        react_p, react_h = _reaction_scheme(
            centers, radii, np.array(rates, dtype=float), float(geometry.D), eps
        )
    ec = centers.mean(axis=0)
    # B encloses every absorber with its eps shell (so a jump onto B never lands inside a shell)
    er = float(np.max(np.linalg.norm(centers - ec, axis=1) + radii + eps)) * (1.0 + 1e-12)
    txs = geometry.transmitters
    mol = np.array([t.molecules for t in txs] if molecules is None else molecules, dtype=np.int64)
    if mol.shape != (len(txs),) or np.any(mol < 0):
        raise ValueError(
            f"molecules must hold one non-negative count per transmitter ({len(txs)} "
            f"transmitter{'s' if len(txs) > 1 else ''}), got {mol.tolist()}"
        )
    if bin_edges is None:
        bin_edges = (
            np.array([0.0, math.inf])
            if math.isinf(horizon)
            else np.linspace(0.0, horizon, max(1, round(horizon / DEFAULT_BIN_WIDTH)) + 1)
        )
    bin_edges = np.asarray(bin_edges, dtype=float)
    if bin_edges.ndim != 1 or bin_edges.size < 2 or bin_edges[0] != 0 or bin_edges[-1] != horizon:
        raise ValueError("bin_edges must be a 1-D array from 0 to the horizon")
    return EventParams(
        D=float(geometry.D),
        centers=centers,
        radii=radii,
        owner=np.array(owner, dtype=np.int64),
        n_receivers=len(geometry.receivers),
        periodic_axes=np.ascontiguousarray(axes, dtype=float),
        periodic_origins=np.ascontiguousarray(origins, dtype=float),
        periodic_periods=np.asarray(periods, dtype=float),
        cap=float(cap),
        escape_center=ec,
        escape_radius=er,
        kind=system.kind,
        tx_positions=np.array([t.position for t in txs], dtype=float),
        tx_molecules=mol,
        tx_release_times=np.array([t.release_time for t in txs], dtype=float),
        horizon=horizon,
        eps=eps,
        bin_edges=bin_edges,
        keep_times=bool(keep_times),
        reaction_p=react_p,
        reaction_step=react_h,
        degradation_rate=float(geometry.degradation_rate),
    )


# --------------------------------------------------------------------------- numba kernel


@numba.njit(cache=True)
def _fold(x, axes, origins, periods):
    for a in range(axes.shape[0]):
        s = 0.0
        for j in range(3):
            s += (x[j] - origins[a, j]) * axes[a, j]
        P = periods[a]
        k = math.floor(s / P + 0.5)
        if k != 0:
            for j in range(3):
                x[j] -= k * P * axes[a, j]


@numba.njit(cache=True)
def _nearest(x, centers, radii):
    best = np.inf
    jbest = -1
    for j in range(centers.shape[0]):
        dx = x[0] - centers[j, 0]
        dy = x[1] - centers[j, 1]
        dz = x[2] - centers[j, 2]
        d = math.sqrt(dx * dx + dy * dy + dz * dz) - radii[j]
        if d < best:
            best = d
            jbest = j
    return best, jbest


@numba.njit(cache=True)
def _move(x, R, u1, u2):
    """Move ``x`` by ``R`` in the direction given by two uniforms (uniform on the sphere)."""
    z = 2.0 * u1 - 1.0
    phi = 2.0 * math.pi * u2
    s = math.sqrt(max(0.0, 1.0 - z * z))
    x[0] += R * s * math.cos(phi)
    x[1] += R * s * math.sin(phi)
    x[2] += R * z


@numba.njit(cache=True)
def _escape_or_return(x, ec, er, u1, u2, u3):
    """Exact step from far away (|x - ec| >= 2 er): escape (True) or land on the sphere B."""
    dx0 = x[0] - ec[0]
    dx1 = x[1] - ec[1]
    dx2 = x[2] - ec[2]
    rho = math.sqrt(dx0 * dx0 + dx1 * dx1 + dx2 * dx2)
    if u1 >= er / rho:
        return True
    # polar angle from the direction of x: density of cos(theta) ∝ (rho² + er² - 2 rho er c)^-3/2
    inv = 1.0 / (rho + er) + u2 * (1.0 / (rho - er) - 1.0 / (rho + er))
    q = 1.0 / (inv * inv)
    c = (rho * rho + er * er - q) / (2.0 * rho * er)
    c = min(1.0, max(-1.0, c))
    s = math.sqrt(max(0.0, 1.0 - c * c))
    # orthonormal frame (e, f, g) with e along x - ec
    e0, e1, e2 = dx0 / rho, dx1 / rho, dx2 / rho
    if abs(e0) < 0.9:
        a0, a1, a2 = 1.0, 0.0, 0.0
    else:
        a0, a1, a2 = 0.0, 1.0, 0.0
    f0 = a1 * e2 - a2 * e1
    f1 = a2 * e0 - a0 * e2
    f2 = a0 * e1 - a1 * e0
    nf = math.sqrt(f0 * f0 + f1 * f1 + f2 * f2)
    f0, f1, f2 = f0 / nf, f1 / nf, f2 / nf
    g0 = e1 * f2 - e2 * f1
    g1 = e2 * f0 - e0 * f2
    g2 = e0 * f1 - e1 * f0
    phi = 2.0 * math.pi * u3
    cp, sp = math.cos(phi), math.sin(phi)
    x[0] = ec[0] + er * (c * e0 + s * (cp * f0 + sp * g0))
    x[1] = ec[1] + er * (c * e1 + s * (cp * f1 + sp * g1))
    x[2] = ec[2] + er * (c * e2 + s * (cp * f2 + sp * g2))
    return False


@numba.njit(cache=True, parallel=True)
def _walk_molecules(
    key0,
    key1,
    start,
    tx_end,
    start_pos,
    start_time,
    centers,
    radii,
    owner,
    axes,
    origins,
    periods,
    cap,
    ec,
    er,
    D,
    eps,
    horizon,
    max_jumps,
    react_p,
    react_h,
    kd,
    times,
    who,
    jumps,
):
    """Walk molecules ``start ... start + len(times) - 1``; molecule ``g`` uses its own stream."""
    infinite = not (horizon < np.inf) and kd == 0.0
    for m in numba.prange(times.shape[0]):
        g = start + m
        src = np.searchsorted(tx_end, g, side="right")
        s0, s1 = stream_state(key0, key1, g)
        x = start_pos[src].copy()
        t = start_time[src]
        end = horizon
        if kd > 0.0:  # exponential lifetime: the walk ends when the molecule degrades
            u, s0, s1 = uniform(s0, s1)
            end = min(horizon, t - math.log(u) / kd)
        k = 0
        t_hit = np.inf
        hit = -1
        while t < end and k < max_jumps:
            _fold(x, axes, origins, periods)
            d, jn = _nearest(x, centers, radii)
            if d < eps:
                if react_p[jn] >= 1.0:
                    t_hit = t
                    hit = owner[jn]
                    break
                u, s0, s1 = uniform(s0, s1)
                if u < react_p[jn]:
                    t_hit = t
                    hit = owner[jn]
                    break
                # no reaction: out by h along the normal, in the mean time of that excursion
                h = react_h[jn]
                scale = h / (d + radii[jn])
                for q in range(3):
                    x[q] += scale * (x[q] - centers[jn, q])
                t += h * h / (2.0 * D)
                k += 1
                continue
            k += 1
            if infinite:
                dx0 = x[0] - ec[0]
                dx1 = x[1] - ec[1]
                dx2 = x[2] - ec[2]
                if dx0 * dx0 + dx1 * dx1 + dx2 * dx2 >= 4.0 * er * er:
                    u1, s0, s1 = uniform(s0, s1)
                    u2, s0, s1 = uniform(s0, s1)
                    u3, s0, s1 = uniform(s0, s1)
                    if _escape_or_return(x, ec, er, u1, u2, u3):
                        break
                    continue
            R = min(d, cap)
            v, s0, s1 = uniform(s0, s1)  # open (0, 1): survival level of the exit time
            t = t + tau_from_uniform(v) * R * R / D
            if t > end:
                break
            u1, s0, s1 = uniform(s0, s1)
            u2, s0, s1 = uniform(s0, s1)
            _move(x, R, u1, u2)
        times[m] = t_hit
        who[m] = hit
        jumps[m] = k


@dataclass(frozen=True)
class ChunkOutput:
    """Raw per-molecule output of the walk-on-spheres kernel.

    Attributes
    ----------
    times : numpy.ndarray
        Absorption time (s) of each molecule, ``inf`` if not absorbed by the horizon.
    receiver : numpy.ndarray
        Index of the real receiver that absorbed each molecule, -1 if none.
    jumps : int
        Total number of walk-on-spheres jumps.
    """

    times: np.ndarray
    receiver: np.ndarray
    jumps: int


def _absorbing(values, size, fill):
    """Per-absorber reaction arrays, ``fill`` everywhere when the parameters predate them."""
    return np.full(size, fill) if values is None else np.ascontiguousarray(values, dtype=float)


def walk(params: EventParams, start: int, count: int, seed) -> ChunkOutput:
    """Walk the run's molecules ``start ... start + count - 1`` until absorbed or past the horizon.

    Molecule ``g`` (global index) draws from its own xoroshiro128++ stream keyed by the run's
    seed and ``g`` (:mod:`mcvd.sim._rng`, shared with the fixed-step kernel), so the result
    depends only on ``seed`` — not on the chunking, the number of threads or the scheduling.

    Parameters
    ----------
    params : EventParams
        From :func:`prepare`.
    start, count : int
        Global index of the first molecule and number of molecules (molecules are numbered
        transmitter by transmitter).
    seed : int
        Root seed of the run (non-negative).

    Returns
    -------
    ChunkOutput

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)])
    >>> out = walk(prepare(g, 0.5, molecules=[1000]), 0, 1000, seed=1)
    >>> out.times.shape, int((out.receiver == 0).sum()) > 60   # F(0.5) = 0.108 here
    ((1000,), True)
    """
    start, count = int(start), int(count)
    tx_end = np.cumsum(params.tx_molecules)
    if start < 0 or count < 0 or start + count > int(tx_end[-1]):
        raise ValueError(f"molecules {start}..{start + count - 1} exceed the run's molecules")
    key0, key1 = run_key(resolve_seed(seed))
    times = np.empty(count)
    who = np.empty(count, dtype=np.int64)
    jumps = np.empty(count, dtype=np.int64)
    with KERNEL_LOCK:  # numba's parallel region must not be entered concurrently
        _walk_molecules(
            np.uint64(key0),
            np.uint64(key1),
            np.int64(start),
            tx_end,
            params.tx_positions,
            params.tx_release_times,
            params.centers,
            params.radii,
            params.owner,
            params.periodic_axes,
            params.periodic_origins,
            params.periodic_periods,
            params.cap,
            params.escape_center,
            params.escape_radius,
            params.D,
            params.eps,
            params.horizon,
            MAX_JUMPS,
            _absorbing(params.reaction_p, params.radii.size, 1.0),
            _absorbing(params.reaction_step, params.radii.size, 0.0),
            float(params.degradation_rate),
            times,
            who,
            jumps,
        )
    if np.any(jumps >= MAX_JUMPS):
        n_over = int(np.sum(jumps >= MAX_JUMPS))
        raise RuntimeError(f"{n_over} molecule(s) reached {MAX_JUMPS} jumps: domain not closed?")
    return ChunkOutput(times, who, int(jumps.sum()))


def event_kernel(params: EventParams, task: ChunkTask) -> SimulationResult:
    """Runner kernel: one chunk of an event-driven run as a :class:`SimulationResult`.

    Molecule ``g`` uses the stream keyed by ``task.seed`` and ``g``, so the merged result of a
    run does not depend on how it is chunked.

    Parameters
    ----------
    params : EventParams
        From :func:`prepare`.
    task : mcvd.sim.runner.ChunkTask
        The chunk.

    Returns
    -------
    SimulationResult
        Metadata: method, eps, horizon, image system, version.

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)])
    >>> r = event_kernel(prepare(g, 0.5, molecules=[500]), ChunkTask(0, 0, 500, seed=3))
    >>> r.n_molecules
    500
    """
    out = walk(params, task.start, task.count, task.seed)
    return SimulationResult.from_absorptions(
        out.receiver,
        out.times,
        task.count,
        params.bin_edges,
        params.n_receivers,
        keep_times=params.keep_times,
        metadata=_run_metadata(params),
    )


def _run_metadata(params: EventParams) -> dict:
    return {
        "method": "event",
        "eps": params.eps,
        "horizon": params.horizon,
        "image_system": params.kind,
        "degradation_rate": params.degradation_rate,
        "reaction_step": (
            [] if params.reaction_step is None else [float(h) for h in params.reaction_step]
        ),
        "version": __version__,
    }


def plan(
    scenario,
    options,
    *,
    n_molecules: int | None = None,
    t_end: float | None = None,
    bin_edges=None,
    keep_times: bool | None = None,
) -> tuple[EventParams, int]:
    """Kernel parameters of an event-driven run (the planner :func:`mcvd.sim.simulate` calls).

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The channel; finite obstacles are rejected.
    options : mcvd.sim.api.EventOptions
        ``eps``, the absorption shell (µm).
    n_molecules : int, optional
        Molecules (default: the scenario's), split over transmitters in proportion to theirs.
    t_end : float, optional
        Horizon (s); default the scenario's ``time.end``. ``inf`` gives the capture
        probabilities (``F[-1]`` of the result, bins ``[0, inf]``).
    bin_edges : array_like, optional
        Result time bins; default multiples of the scenario's ``time.dt`` (as the fixed-step
        simulator, at most 20 000 bins) — they only set the reporting grid.
    keep_times : bool, optional
        Keep every absorption time (default for up to 1e7 molecules).

    Returns
    -------
    (EventParams, int)
        Parameters and the total molecule count.

    Raises
    ------
    ValueError
        Obstacles, unsupported planes, an infinite horizon with a slab, an ``eps`` too large for
        the geometry (:func:`mcvd.sim.api.check_eps`), bad arguments.

    Examples
    --------
    >>> from mcvd.sim.api import EventOptions
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 2000},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}], "time": {"end": 2.0}}
    >>> p, n = plan(sc, EventOptions())
    >>> n, p.eps, p.horizon
    (2000, 0.001, 2.0)
    """
    sc = as_scenario(scenario)
    geom = sc.geometry()
    check_eps(options.eps, geom)
    counts = transmitter_counts(geom, n_molecules)
    n = int(counts.sum())
    horizon = _check_horizon(sc.time.end if t_end is None else t_end)
    if bin_edges is None and math.isfinite(horizon):
        bin_edges = default_bin_edges(horizon, min(sc.time.dt, horizon))
    params = prepare(
        geom,
        horizon,
        eps=options.eps,
        bin_edges=bin_edges,
        keep_times=(n <= KEEP_TIMES_MAX) if keep_times is None else bool(keep_times),
        molecules=counts,
    )
    return params, n


#: the kernel :func:`mcvd.sim.simulate` runs for ``method="event"``
kernel = event_kernel


#: target standard error of :func:`event_reference` (the accuracy map's requirement)
REFERENCE_SE = 5e-4


def _geometry_seed(seed: int, geometry: Geometry) -> int:
    """A root seed per (seed, geometry): independent streams for the cells of a map."""
    key = repr((int(seed), geometry.D, geometry.transmitters, geometry.receivers, geometry.planes))
    if geometry.degradation_rate:
        key += repr(geometry.degradation_rate)
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1


def event_reference(
    geometry: Geometry,
    times,
    *,
    se: float = REFERENCE_SE,
    seed: int = 0,
    eps: float = DEFAULT_EPS,
    executor: str | None = "inline",
    workers: int | None = None,
    client=None,
):
    """Reference channel response ``F(t)`` from the event-driven simulator (accuracy map).

    Runs ``ceil(1/(4 se**2))`` molecules (so the binomial standard error is ``<= se`` whatever
    ``F``; it is floored at the standard error of a single molecule, ``~1/n``, where no molecule
    or every molecule was absorbed) once with the horizon ``max(finite times)`` and, if ``inf`` is among the times, once
    with an infinite horizon (capture). The root seed is derived from ``seed`` and the geometry,
    so different cells of a map use independent streams.

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        Channel (its transmitter's molecule count is ignored).
    times : array_like
        Times (s), >= 0; ``inf`` allowed.
    se : float
        Largest standard error of ``F`` (default :data:`REFERENCE_SE` = 5e-4).
    seed : int
        Base seed.
    eps : float
        Absorption shell (µm).
    executor, workers, client
        See :func:`mcvd.sim.runner.run_chunks` (default inline).

    Returns
    -------
    mcvd.studies.accuracy.ReferenceCurve
        ``F`` (total over receivers) and its standard error, ``kind="standard error"``.

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)])
    >>> ref = event_reference(g, [0.5, float("inf")], se=5e-3)
    >>> bool(abs(ref.F[0] - 0.1078) < 0.02), bool(ref.uncertainty.max() <= 5e-3)
    (True, True)
    """
    from ..core.reference import ReferenceCurve

    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError("times must be a 1-D array of values >= 0 (inf allowed)")
    se = float(se)
    if not (math.isfinite(se) and 0 < se < 0.5):
        raise ValueError(f"se must be in (0, 0.5), got {se}")
    n = math.ceil(0.25 / se**2)
    root = _geometry_seed(seed, geometry)
    kw = dict(seed=root, executor=executor, workers=workers, client=client)
    F = np.zeros(t.size)
    F_se = np.zeros(t.size)
    fin = np.isfinite(t) & (t > 0)
    counts = transmitter_counts(geometry, n)
    runs = []
    if np.any(fin):
        horizon = float(t[fin].max())
        runs.append((fin, horizon, [0.0, horizon]))
    if np.any(np.isinf(t)):
        runs.append((np.isinf(t), math.inf, None))
    for sel, horizon, edges in runs:
        par = prepare(geometry, horizon, eps=eps, bin_edges=edges, molecules=counts)
        res = run_chunks(event_kernel, par, n, **kw)
        if math.isinf(horizon):
            F[sel], F_se[sel] = res.F[-1], res.F_se[-1]
        else:
            r = res.response(t[sel])
            F[sel], F_se[sel] = r.F, r.F_se
    # a cell with no (or all) absorptions has binomial SE 0: floor it at the SE of one molecule
    floor = math.sqrt((1.0 / n) * (1.0 - 1.0 / n) / n)
    return ReferenceCurve(F, np.maximum(F_se, floor), "standard error")
