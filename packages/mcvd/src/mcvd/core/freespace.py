"""Free-space channel of one absorbing sphere, and sums of first-passage ``erfc`` laws.

Units: µm, s, µm²/s. For a point transmitter at centre distance ``r0`` from an absorbing sphere of
radius ``r`` (Yilmaz et al., IEEE Commun. Lett. 2014), with ``d = r0 - r``:

    F(t) = (r/r0) erfc(d / sqrt(4 D t)),   f(t) = (r/r0) d / sqrt(4 pi D t^3) exp(-d^2 / (4 D t)),
    t_peak = d^2 / (6 D),                   F(inf) = r/r0.

Every closed-form model of this package is a signed sum of such laws ``A erfc(delta/sqrt(4Dt))``;
:func:`erfc_sum` evaluates them stably: ``t = 0`` gives 0, ``t = inf`` gives ``A``, and the rate is
written as ``A z exp(-z^2) / (sqrt(pi) t)`` with ``z = delta/sqrt(4Dt)`` so that tiny and huge times
neither overflow nor produce NaN.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .geometry import _finite_float, as_times

__all__ = [
    "erfc_sum",
    "free_F",
    "free_capture",
    "free_f",
    "free_peak_time",
]


def _times(t) -> np.ndarray:
    return as_times(t, allow_inf=True)


def _z(t: np.ndarray, delta: np.ndarray, D: float) -> np.ndarray:
    """``delta / sqrt(4 D t)`` with t = 0 -> inf and t = inf -> 0 (no warnings)."""
    t, delta = np.broadcast_arrays(t, delta)
    z = np.full(t.shape, np.inf)
    pos = t > 0
    np.divide(delta, np.sqrt(4.0 * D * t, where=pos, out=np.ones_like(t)), out=z, where=pos)
    return z


def _law(t, delta, D, rate: bool):
    """``erfc(z)`` or its time derivative ``z exp(-z^2)/(sqrt(pi) t)`` (vectorised)."""
    z = _z(t, delta, D)
    if not rate:
        return special.erfc(z)
    t = np.broadcast_to(np.asarray(t, dtype=float), z.shape)
    out = np.zeros(z.shape)
    ok = np.isfinite(z) & (t > 0) & np.isfinite(t)
    zz = z[ok]
    out[ok] = zz * np.exp(-zz * zz) / (np.sqrt(np.pi) * t[ok])
    return out


def _check_r(r0, r):
    r0 = np.asarray(r0, dtype=float)
    r = np.asarray(r, dtype=float)
    if not (np.all(np.isfinite(r0)) and np.all(np.isfinite(r))):
        raise ValueError("r0 and r must be finite")
    if np.any(r <= 0):
        raise ValueError("r (receiver radius) must be > 0")
    if np.any(r0 <= r):
        raise ValueError("r0 (centre distance) must be > r: the transmitter is inside the receiver")
    return r0, r


def free_F(t, r0, r, D):
    """Free-space cumulative absorbed fraction ``F(t)`` of one absorbing sphere.

    Parameters
    ----------
    t : float or array_like
        Times (s), >= 0 (``inf`` allowed: gives ``r/r0``).
    r0 : float
        Distance from the transmitter to the receiver centre (µm), > r.
    r : float
        Receiver radius (µm), > 0.
    D : float
        Diffusion coefficient (µm²/s), > 0.

    Returns
    -------
    numpy.ndarray
        ``F(t)`` with the shape of ``t``.

    Examples
    --------
    >>> round(float(free_F(0.5, 10.0, 5.0, 79.4)), 5)
    0.28736
    """
    r0, r = _check_r(r0, r)
    D = _finite_float(D, "D", positive=True)
    return (r / r0) * _law(_times(t), r0 - r, D, rate=False)


def free_f(t, r0, r, D):
    """Free-space hitting rate ``f(t) = dF/dt`` (1/s) of one absorbing sphere.

    Parameters
    ----------
    t : float or array_like
        Times (s), >= 0.
    r0, r : float
        Centre distance and radius (µm).
    D : float
        Diffusion coefficient (µm²/s).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> float(free_f(0.0, 10.0, 5.0, 79.4))
    0.0
    """
    r0, r = _check_r(r0, r)
    D = _finite_float(D, "D", positive=True)
    return (r / r0) * _law(_times(t), r0 - r, D, rate=True)


def free_peak_time(r0, r, D):
    """Peak time ``t_peak = (r0 - r)^2 / (6 D)`` (s) of the free-space hitting rate.

    Examples
    --------
    >>> round(float(free_peak_time(10.0, 5.0, 79.4)), 5)
    0.05248
    """
    r0, r = _check_r(r0, r)
    D = _finite_float(D, "D", positive=True)
    return (r0 - r) ** 2 / (6.0 * D)


def free_capture(r0, r):
    """Long-time capture ``F(inf) = r / r0`` of one sphere in free space.

    Examples
    --------
    >>> float(free_capture(10.0, 5.0))
    0.5
    """
    r0, r = _check_r(r0, r)
    return r / r0


def erfc_sum(t, amplitude, delay, D, group, n_groups, *, rate=False, chunk=4096):
    """Evaluate grouped sums ``sum_k A_k erfc(delta_k / sqrt(4 D t))`` (or their time derivative).

    Parameters
    ----------
    t : array_like, shape (n_t,)
        Times (s), >= 0; ``inf`` allowed.
    amplitude, delay : array_like, shape (n_terms,)
        Signed amplitudes and delay distances (µm, >= 0).
    D : float
        Diffusion coefficient (µm²/s).
    group : array_like of int, shape (n_terms,)
        Output row of each term.
    n_groups : int
        Number of output rows.
    rate : bool
        Return ``d/dt`` of the sums (1/s) instead.
    chunk : int
        Terms processed at once (bounds memory to ``chunk * n_t`` floats).

    Returns
    -------
    numpy.ndarray, shape (n_groups, n_t)

    Examples
    --------
    >>> erfc_sum([0.0, np.inf], [0.5], [5.0], 79.4, [0], 1).tolist()
    [[0.0, 0.5]]
    """
    t = _times(np.atleast_1d(t))
    amplitude = np.asarray(amplitude, dtype=float)
    delay = np.asarray(delay, dtype=float)
    group = np.asarray(group, dtype=np.intp)
    out = np.zeros((n_groups, t.size))
    for s in range(0, amplitude.size, chunk):
        sl = slice(s, s + chunk)
        vals = amplitude[sl, None] * _law(t[None, :], delay[sl, None], D, rate)
        onehot = group[sl][None, :] == np.arange(n_groups)[:, None]
        out += onehot.astype(float) @ vals
    return out
