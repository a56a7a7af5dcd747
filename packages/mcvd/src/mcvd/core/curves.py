"""Curves and metrics: expected counts, numerical peak time, curve errors, SIR.

Units: times in s, ``F`` dimensionless (fraction of released molecules), counts in molecules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .models import _as_geometry, response

__all__ = [
    "BoundsCheck",
    "Peak",
    "bin_counts",
    "cumulative_counts",
    "halfspace_bounds",
    "max_error",
    "nrmse",
    "peak_time",
    "sir",
    "sir_from_counts",
]


def _curve(F, name="F") -> np.ndarray:
    F = np.asarray(F, dtype=float)
    if F.ndim < 1 or F.shape[-1] < 1:
        raise ValueError(f"{name} must be a non-empty array")
    if not np.all(np.isfinite(F)):
        raise ValueError(f"{name} must be finite")
    return F


def _molecules(n) -> float:
    if isinstance(n, bool) or not isinstance(n, (int, float, np.integer, np.floating)):
        raise TypeError(f"molecules must be a number, got {type(n).__name__}")
    if not (math.isfinite(n) and n > 0):
        raise ValueError(f"molecules must be finite and > 0, got {n}")
    return float(n)


def bin_counts(F, molecules):
    """Expected counts per time bin ``N (F(t_{k+1}) - F(t_k))``.

    Parameters
    ----------
    F : array_like, shape (..., n_edges)
        ``F`` at the bin edges (include ``t_0 = 0`` for the first bin).
    molecules : float
        Molecules released ``N``.

    Returns
    -------
    numpy.ndarray, shape (..., n_edges - 1)

    Examples
    --------
    >>> bin_counts([0.0, 0.25, 0.75], 1000).tolist()
    [250.0, 500.0]
    """
    return _molecules(molecules) * np.diff(_curve(F), axis=-1)


def cumulative_counts(F, molecules):
    """Expected cumulative counts ``N F(t)``.

    Examples
    --------
    >>> cumulative_counts([0.0, 0.25], 100).tolist()
    [0.0, 25.0]
    """
    return _molecules(molecules) * _curve(F)


def _pair(a, b):
    a, b = _curve(a, "a"), _curve(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"curves must have the same shape, got {a.shape} and {b.shape}")
    return a, b


def max_error(a, b) -> float:
    """Largest absolute difference ``max |a - b|``.

    Examples
    --------
    >>> max_error([0.0, 0.5], [0.0, 0.4])
    0.09999999999999998
    """
    a, b = _pair(a, b)
    return float(np.max(np.abs(a - b)))


def nrmse(a, b) -> float:
    """Root-mean-square error of ``a`` against the reference ``b``, divided by the range of ``b``.

    Parameters
    ----------
    a, b : array_like
        Model and reference curves on the same points.

    Returns
    -------
    float
        ``sqrt(mean((a - b)^2)) / (max(b) - min(b))``.

    Raises
    ------
    ValueError
        If the reference is constant.

    Examples
    --------
    >>> round(nrmse([0.0, 1.1], [0.0, 1.0]), 6)
    0.070711
    """
    a, b = _pair(a, b)
    span = float(np.max(b) - np.min(b))
    if span <= 0:
        raise ValueError("nrmse: the reference curve b is constant (range 0)")
    return float(np.sqrt(np.mean((a - b) ** 2)) / span)


@dataclass(frozen=True)
class Peak:
    """Peak of the hitting rate: ``time`` (s) and ``rate`` (1/s)."""

    time: float
    rate: float


def peak_time(scenario_or_geometry, model: str = "images-ho", *, t_max=None, n_grid=400, **opt):
    """Numerical peak time of the total hitting rate ``f = dF/dt`` of any registered model.

    ``F`` is evaluated on a logarithmic grid, ``f`` by central differences; the best grid point is
    refined with a bounded Brent search on the central-difference rate (step ``1e-4 t``).

    Parameters
    ----------
    scenario_or_geometry : Scenario or Geometry
    model : str
        Registered model.
    t_max : float, optional
        Search window ``(0, t_max]`` (s); default ``max(10, 100 t_free)`` from the nearest receiver.
    n_grid : int
        Grid points.
    **opt
        Model options.

    Returns
    -------
    Peak

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 0), [((10, 0, 0), 5)])
    >>> round(peak_time(g, "free").time, 5)
    0.05248
    """

    geom = _as_geometry(scenario_or_geometry)
    if t_max is None:
        tx = geom.transmitters[0].x
        d = min(float(np.linalg.norm(tx - s.c)) - s.radius for s in geom.receivers)
        t_max = max(10.0, 100 * d * d / (6 * geom.D))
    t_max = float(t_max)
    if not (math.isfinite(t_max) and t_max > 0):
        raise ValueError(f"t_max must be finite and > 0, got {t_max}")
    grid = np.geomspace(t_max * 1e-7, t_max, int(n_grid))

    def F(t):
        return response(geom, np.atleast_1d(t), model=model, **opt).F

    Fg = F(grid)
    fg = np.gradient(Fg, grid)
    k = int(np.argmax(fg))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]

    def neg_rate(t):
        h = 1e-4 * t
        v = F([t - h, t + h])
        return -(v[1] - v[0]) / (2 * h)

    res = optimize.minimize_scalar(
        neg_rate, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9 * hi}
    )
    return Peak(float(res.x), float(-res.fun))


def sir_from_counts(n_signal, n_total) -> float:
    """Signal-to-interference ratio of the finite-plate study: ``100 N_signal / (N_total - N_signal)``.

    Examples
    --------
    >>> sir_from_counts(80, 100)
    400.0
    """
    n_signal, n_total = float(n_signal), float(n_total)
    if not (0 <= n_signal <= n_total):
        raise ValueError("need 0 <= n_signal <= n_total")
    if n_total == n_signal:
        return math.inf
    return 100.0 * n_signal / (n_total - n_signal)


def sir(scenario_or_geometry, model: str = "images-ho", *, horizon=None, t_peak=None, **opt):
    """Signal-to-interference ratio: ``100 N(0..5 t_peak) / (N(0..T) - N(0..5 t_peak))``.

    Parameters
    ----------
    scenario_or_geometry : Scenario or Geometry
    model : str
        Registered model.
    horizon : float, optional
        ``T`` (s); default the scenario's ``time.end`` or 2 s for a geometry.
    t_peak : float, optional
        Peak time (s); default the model's numerical :func:`peak_time`.

    Returns
    -------
    float

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (20, 0, 0), [((10, 0, 0), 5)])
    >>> round(sir(g, "free", horizon=2.0), 3) > 100
    True
    """
    from .scenario import Scenario

    if horizon is None:
        horizon = (
            scenario_or_geometry.time.end if isinstance(scenario_or_geometry, Scenario) else 2.0
        )
    if t_peak is None:
        t_peak = peak_time(scenario_or_geometry, model, **opt).time
    t_sig = min(5.0 * float(t_peak), float(horizon))
    F = response(scenario_or_geometry, [t_sig, float(horizon)], model=model, **opt).F
    return sir_from_counts(F[0], F[1])


@dataclass(frozen=True)
class BoundsCheck:
    """Largest violations of ``F_free(r_0i) <= F_HS <= F_free(r_0i) + F_free(r_0j)``.

    Attributes
    ----------
    below_lower : float
        ``max(F_free(r_0i) - F_HS)`` (> 0 means the lower bound is violated).
    above_upper : float
        ``max(F_HS - F_free(r_0i) - F_free(r_0j))`` (> 0 means the upper bound is violated).
    """

    below_lower: float
    above_upper: float


def halfspace_bounds(geometry, times, model: str = "images-ho", **opt) -> BoundsCheck:
    """Check a half-space model against the bounds every exact response satisfies.

    With one receiver ``i`` and one plane (image ``j``), absorption by the union of the two
    spheres is at least absorption by ``i`` alone and at most the sum of both alone:
    ``F_free(r_0i) <= F_HS <= F_free(r_0i) + F_free(r_0j)``. Approximate models may violate
    these; this function measures by how much (it does not hide violations).

    Parameters
    ----------
    geometry : Geometry
        One transmitter, one receiver, one plane.
    times : array_like
        Times (s).
    model : str
        Registered model.

    Returns
    -------
    BoundsCheck

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> halfspace_bounds(g, [0.5, 2.0], "kamber2024").above_upper <= 0
    True
    """
    from .freespace import free_F

    geom = _as_geometry(geometry)
    if geom.n_receivers != 1 or len(geom.planes) != 1:
        raise ValueError("halfspace_bounds needs exactly one receiver and one plane")
    rx = geom.receivers[0]
    x = geom.transmitter.x
    img = geom.images().spheres(rx)[1]
    r0i, r0j = np.linalg.norm(x - rx.c), np.linalg.norm(x - img.c)
    t = np.asarray(times, dtype=float)
    lo = free_F(t, r0i, rx.radius, geom.D)
    hi = lo + free_F(t, r0j, rx.radius, geom.D)
    F = response(geom, t, model=model, **opt).F
    return BoundsCheck(float(np.max(lo - F)), float(np.max(F - hi)))
