"""Exit time of 3-D Brownian motion from the centre of a ball: law, tabulated inverse CDF, sampler.

Dimensionless time ``tau = D t / R**2`` (``D`` in µm²/s, ``t`` in s, ``R`` the ball radius in µm).
Two representations of the same law are used, each where it converges fast:

* **large time** (eigenfunction series of the Dirichlet Laplacian, radial modes
  ``sin(n pi r)/r``): ``S(tau) = 2 sum_{n>=1} (-1)**(n+1) exp(-n**2 pi**2 tau)``;
* **small time** (from the Laplace transform of the exit time,
  ``E[exp(-s tau)] = sqrt(s) / sinh(sqrt(s))``, the solution at ``r = 0`` of ``w'' + 2 w'/r = s w``
  with ``w(1) = 1``). Expanding ``1/sinh(x) = 2 sum_{k>=0} exp(-(2k+1) x)`` and inverting
  term by term with ``L^{-1}[exp(-a sqrt(s))/sqrt(s)] = exp(-a**2/(4 tau))/sqrt(pi tau)`` gives
  ``F(tau) = 1 - S(tau) = 2/sqrt(pi tau) sum_{k>=0} exp(-(2k+1)**2/(4 tau))``, whose density is
  ``f(tau) = sum_k ((2k+1)**2/(2 tau) - 1) exp(-(2k+1)**2/(4 tau)) / (sqrt(pi) tau**1.5)``.

The switch is at ``tau = 0.25``, where each series is converged to double precision with
:data:`N_TERMS` terms (the first neglected term is below ``1e-20`` relative).

Sampling (inverse CDF, one uniform ``v`` in ``(0, 1]`` per draw):

* ``v <= S(TAU_TAIL)`` (``TAU_TAIL = 1``, probability ``1.03e-4``): the tail, inverted
  analytically, ``tau = log(2/v) / pi**2``; the neglected term ``-2 exp(-4 pi**2 tau)`` moves
  ``tau`` by less than ``2e-14`` relative.
* otherwise ``F = 1 - v``: a table of ``y = log(tau)`` on a uniform grid in
  ``w = log(-log F)`` (smooth in both limits: ``tau -> -1/(4 log F)`` as ``F -> 0``), evaluated by
  cubic Hermite interpolation with the exact slopes ``dy/dw = F log(F) / (f tau)``. The
  interpolation error of the default table (:data:`TABLE_SIZE` nodes) is below ``1e-12``
  relative in ``tau`` (checked by :func:`table_max_relative_error` against a root finder).

The exit point is uniform on the sphere and independent of the exit time (rotational symmetry and
the strong Markov property), so the two are sampled independently by the walk-on-spheres kernel.

Examples
--------
>>> import numpy as np
>>> from mcvd.sim.exit_time import survival, sample_exit_time
>>> float(survival(np.array([1.0 / 6.0]))[0]) > 0.0
True
>>> t = sample_exit_time(10_000, radius=5.0, D=79.4, rng=np.random.default_rng(1))
>>> bool(abs(t.mean() / (25.0 / (6 * 79.4)) - 1.0) < 0.05)   # E[t] = R**2 / (6 D)
True
"""

from __future__ import annotations

import math

import numpy as np

from .params import NUMBA_MISSING

try:
    import numba
except ImportError as exc:
    raise ImportError(NUMBA_MISSING) from exc

__all__ = [
    "N_TERMS",
    "TABLE_SIZE",
    "TAU_SWITCH",
    "TAU_TAIL",
    "cdf",
    "pdf",
    "sample_exit_tau",
    "sample_exit_time",
    "survival",
    "table_max_relative_error",
    "tau_from_cdf",
    "tau_from_uniform",
]

#: switch between the small-time (erfc/Gaussian) and the large-time (eigenfunction) series
TAU_SWITCH = 0.25
#: terms kept in either series
N_TERMS = 6
#: start of the analytically inverted exponential tail (``S(TAU_TAIL) = 1.03e-4``)
TAU_TAIL = 1.0
#: nodes of the inverse-CDF table
TABLE_SIZE = 2049
_PI2 = math.pi**2


def _as_tau(tau) -> np.ndarray:
    tau = np.asarray(tau, dtype=float)
    if not np.all(np.isfinite(tau) | (tau == np.inf)) or np.any(tau < 0):
        raise ValueError("tau must be non-negative (dimensionless time D t / R**2)")
    return tau


def _series(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(F, S, f)`` on ``tau`` (array, > 0, finite), each from its fast series."""
    F = np.empty_like(tau)
    S = np.empty_like(tau)
    f = np.empty_like(tau)
    small = tau < TAU_SWITCH
    ts = tau[small]
    if ts.size:
        a2 = ((2 * np.arange(N_TERMS) + 1) ** 2)[:, None].astype(float)
        e = np.exp(-a2 / (4 * ts))
        F[small] = 2.0 / np.sqrt(np.pi * ts) * e.sum(axis=0)
        S[small] = 1.0 - F[small]
        f[small] = ((a2 / (2 * ts) - 1.0) * e).sum(axis=0) / (np.sqrt(np.pi) * ts**1.5)
    tl = tau[~small]
    if tl.size:
        n = np.arange(1, N_TERMS + 1)[:, None].astype(float)
        sign = np.where(n % 2 == 1, 1.0, -1.0)
        e = np.exp(-(n**2) * _PI2 * tl)
        S[~small] = 2.0 * (sign * e).sum(axis=0)
        F[~small] = 1.0 - S[~small]
        f[~small] = 2.0 * _PI2 * (sign * n**2 * e).sum(axis=0)
    return F, S, f


def _evaluate(tau, which: int) -> np.ndarray:
    tau = _as_tau(tau)
    out = np.zeros(tau.shape)
    if which == 1:  # survival: S(0) = 1, S(inf) = 0
        out[tau == 0] = 1.0
    ok = (tau > 0) & np.isfinite(tau)
    if which == 0 and np.any(tau == np.inf):  # cdf
        out[tau == np.inf] = 1.0
    out[ok] = _series(tau[ok])[which]
    return out


def cdf(tau) -> np.ndarray:
    """CDF ``F(tau) = P(exit before tau)`` of the dimensionless exit time from the ball centre.

    Parameters
    ----------
    tau : array_like
        Dimensionless times ``D t / R**2`` (>= 0; ``inf`` allowed).

    Returns
    -------
    numpy.ndarray
        ``F(tau)``, accurate to double precision at small and large ``tau`` (small-time form
        below :data:`TAU_SWITCH`, so tiny values of ``F`` keep full relative precision).

    Examples
    --------
    >>> from mcvd.sim.exit_time import cdf
    >>> float(cdf([0.0])[0]), round(float(cdf([1.0])[0]), 6)
    (0.0, 0.999897)
    """
    return _evaluate(tau, 0)


def survival(tau) -> np.ndarray:
    """Survival ``S(tau) = 1 - F(tau)`` of the dimensionless exit time (large-time form for tau >= 0.25).

    Parameters
    ----------
    tau : array_like
        Dimensionless times ``D t / R**2`` (>= 0; ``inf`` allowed).

    Returns
    -------
    numpy.ndarray
        ``S(tau) = 2 sum_n (-1)**(n+1) exp(-n**2 pi**2 tau)``, with full relative precision in the
        tail.

    Examples
    --------
    >>> import math
    >>> from mcvd.sim.exit_time import survival
    >>> s = float(survival([2.0])[0])
    >>> abs(s / (2 * math.exp(-2 * math.pi**2)) - 1) < 1e-12
    True
    """
    return _evaluate(tau, 1)


def pdf(tau) -> np.ndarray:
    """Density ``f(tau) = dF/dtau`` of the dimensionless exit time (0 at ``tau = 0`` and ``inf``).

    Parameters
    ----------
    tau : array_like
        Dimensionless times ``D t / R**2`` (>= 0).

    Returns
    -------
    numpy.ndarray
        The density; divide by ``R**2 / D`` for the density in seconds.

    Examples
    --------
    >>> from mcvd.sim.exit_time import pdf
    >>> float(pdf([0.0])[0])
    0.0
    """
    return _evaluate(tau, 2)


# --------------------------------------------------------------------------- inverse-CDF table


def _log_cdf(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log F(tau)`` (precise at both ends) and ``d log F / d log tau = tau f / F``."""
    F, S, f = _series(tau)
    F = np.maximum(F, 1e-320)
    small = tau < TAU_SWITCH
    logF = np.empty_like(tau)
    logF[small] = np.log(F[small])
    logF[~small] = np.log1p(-S[~small])
    return logF, tau * f / F


def _invert_log_cdf(z: np.ndarray) -> np.ndarray:
    """Vectorised root of ``log F(tau) = z``: bisection on ``log tau`` then Newton polish."""
    lo = np.full(z.shape, math.log(1e-5))
    hi = np.full(z.shape, math.log(5.0))
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = _log_cdf(np.exp(mid))[0] < z
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    y = 0.5 * (lo + hi)
    for _ in range(2):
        g, dg = _log_cdf(np.exp(y))
        y = y - (g - z) / dg
    return np.exp(y)


def _tau_of_F(F: float) -> float:
    """Reference inverse of ``cdf`` by Brent's method on ``log tau`` (independent of the table)."""
    from scipy.optimize import brentq

    z = math.log(F)

    def g(y):
        return float(_log_cdf(np.array([math.exp(y)]))[0][0]) - z

    return math.exp(brentq(g, math.log(1e-5), math.log(60.0), xtol=1e-14, rtol=1e-15))


def _build_table(size: int = TABLE_SIZE) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Nodes ``y_k = log tau`` and slopes ``dy/dw`` on a uniform grid in ``w = log(-log F)``."""
    F_hi = 1.0 - 2.0 * math.exp(-_PI2 * TAU_TAIL)  # table end: the tail takes over above
    w_lo = math.log(-math.log(F_hi))
    w_hi = math.log(-math.log(1e-300))
    w = np.linspace(w_lo, w_hi, size)
    z = -np.exp(w)  # log F
    tau = _invert_log_cdf(z)
    _, dlogF = _log_cdf(tau)
    # y = log tau, z = log F, w = log(-z):  dy/dw = (dz/dw) / (dz/dy) = z / dlogF
    return w_lo, (w_hi - w_lo) / (size - 1), np.log(tau), z / dlogF


_W_LO, _W_STEP, _Y, _DY = _build_table()
_S_TAIL = 2.0 * math.exp(-_PI2 * TAU_TAIL)
_TAU_MIN = math.exp(_Y[-1])


@numba.njit(cache=True, nogil=True)
def tau_from_cdf(F):
    """Tabulated inverse ``tau`` of ``F = cdf(tau)`` for ``F`` in ``[0, 1 - S(TAU_TAIL)]`` (numba).

    ``tau = D t / R**2`` is dimensionless.

    Examples
    --------
    >>> tau = tau_from_cdf(0.5)
    >>> round(tau, 6), bool(abs(cdf(tau) - 0.5) < 1e-12)
    (0.138785, True)
    """
    if F <= 1e-300:
        return _TAU_MIN
    x = (math.log(-math.log(F)) - _W_LO) / _W_STEP
    k = min(max(int(x), 0), _Y.shape[0] - 2)
    s = x - k
    # cubic Hermite on [k, k+1], slopes scaled by the grid step
    h00 = (1.0 + 2.0 * s) * (1.0 - s) * (1.0 - s)
    h10 = s * (1.0 - s) * (1.0 - s)
    h01 = s * s * (3.0 - 2.0 * s)
    h11 = s * s * (s - 1.0)
    y = h00 * _Y[k] + h10 * _W_STEP * _DY[k] + h01 * _Y[k + 1] + h11 * _W_STEP * _DY[k + 1]
    return math.exp(y)


@numba.njit(cache=True, nogil=True)
def tau_from_uniform(v):
    """Exit time ``tau`` with survival ``S(tau) = v``, ``v`` uniform in ``(0, 1]`` (numba scalar).

    The tail ``v <= S(TAU_TAIL)`` is inverted analytically, the rest through :func:`tau_from_cdf`.
    ``tau = D t / R**2`` is dimensionless.

    Examples
    --------
    >>> [bool(abs(survival(tau_from_uniform(v)) / v - 1) < 1e-12) for v in (0.25, 1e-6)]
    [True, True]
    """
    if v <= _S_TAIL:
        return math.log(2.0 / v) / (math.pi * math.pi)
    return tau_from_cdf(1.0 - v)


@numba.njit(cache=True)
def _map(func, x):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = func(x[i])
    return out


def sample_exit_tau(n: int, rng=None) -> np.ndarray:
    """Draw ``n`` dimensionless exit times ``tau = D t / R**2`` from the ball centre.

    Parameters
    ----------
    n : int
        Number of draws (>= 0).
    rng : numpy.random.Generator or int or None
        Random generator or seed.

    Returns
    -------
    numpy.ndarray
        ``n`` independent exit times in units of ``R**2 / D``.

    Examples
    --------
    >>> import numpy as np
    >>> from mcvd.sim.exit_time import sample_exit_tau
    >>> tau = sample_exit_tau(20_000, rng=np.random.default_rng(0))
    >>> bool(abs(tau.mean() * 6 - 1) < 0.03)   # E[tau] = 1/6
    True
    """
    if int(n) != n or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(rng)
    v = 1.0 - rng.random(int(n))  # uniform on (0, 1]
    return _map(tau_from_uniform, v)


def sample_exit_time(n: int, radius: float, D: float, rng=None) -> np.ndarray:
    """Draw ``n`` exit times (s) of Brownian motion started at the centre of a ball.

    Parameters
    ----------
    n : int
        Number of draws.
    radius : float
        Ball radius ``R`` (µm, > 0).
    D : float
        Diffusion coefficient (µm²/s, > 0).
    rng : numpy.random.Generator or int or None
        Random generator or seed.

    Returns
    -------
    numpy.ndarray
        Exit times in seconds, ``tau * R**2 / D``.

    Examples
    --------
    >>> import numpy as np
    >>> from mcvd.sim.exit_time import sample_exit_time
    >>> sample_exit_time(3, radius=1.0, D=1.0, rng=np.random.default_rng(0)).shape
    (3,)
    """
    if not (np.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be finite and > 0 (µm), got {radius!r}")
    if not (np.isfinite(D) and D > 0):
        raise ValueError(f"D must be finite and > 0 (µm²/s), got {D!r}")
    return sample_exit_tau(n, rng) * (radius * radius / D)


def table_max_relative_error(n_probe: int = 2000, seed: int = 0) -> float:
    """Largest relative error of the tabulated inverse against a root finder at random ``F``.

    Probes are spread log-uniformly in ``F`` (small times) and in ``S`` (large times), so both ends
    of the law are checked.

    Parameters
    ----------
    n_probe : int
        Number of probe points.
    seed : int
        Seed of the probe points.

    Returns
    -------
    float
        ``max |tau_table - tau_root| / tau_root``.

    Examples
    --------
    >>> from mcvd.sim.exit_time import table_max_relative_error
    >>> table_max_relative_error(50) < 1e-8
    True
    """
    rng = np.random.default_rng(seed)
    third = n_probe // 3
    F_small = 10.0 ** rng.uniform(-250, math.log10(0.5), third)
    S_mid = 10.0 ** rng.uniform(math.log10(_S_TAIL), math.log10(0.5), third)
    S_tail = 10.0 ** rng.uniform(-300, math.log10(_S_TAIL), n_probe - 2 * third)
    got = np.concatenate(
        [
            _map(tau_from_cdf, F_small),
            _map(tau_from_cdf, 1.0 - S_mid),
            _map(tau_from_uniform, S_tail),
        ]
    )
    ref = np.array([_tau_of_F(x) for x in np.concatenate([F_small, 1.0 - S_mid])])
    # tail reference: Newton on the full series S(tau) = s from the analytic first-term guess
    tau_t = np.log(2.0 / S_tail) / _PI2
    for _ in range(3):
        _, S, f = _series(tau_t)
        tau_t = tau_t + (S - S_tail) / f
    ref = np.concatenate([ref, tau_t])
    return float(np.max(np.abs(got / ref - 1.0)))
