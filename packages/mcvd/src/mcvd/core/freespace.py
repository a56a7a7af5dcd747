"""Free-space channel of one absorbing sphere, and sums of first-passage ``erfc`` laws.

Units: µm, s, µm²/s. For a point transmitter at centre distance ``r0`` from an absorbing sphere of
radius ``r`` (Yilmaz et al., IEEE Commun. Lett. 2014), with ``d = r0 - r``:

    F(t) = (r/r0) erfc(d / sqrt(4 D t)),   f(t) = (r/r0) d / sqrt(4 pi D t^3) exp(-d^2 / (4 D t)),
    t_peak = d^2 / (6 D),                   F(inf) = r/r0.

Reactive receiver (reaction rate ``k``, µm/s; Robin condition ``D ∂w/∂n = k (w - 1)``, Collins &
Kimball 1949) and molecules degrading at rate ``k_d`` (1/s) in the fluid: the Laplace transform of
the hitting density is ``w(s) = (a/r0) (k/D) exp(-κ δ) / (α + κ)`` with ``a = r``, ``δ = r0 - a``,
``α = 1/a + k/D``, ``κ = sqrt((s + k_d)/D)``, and ``F̂ = w/s`` (:func:`free_laplace`). Its
inverses (:func:`free_F` with ``reaction_rate``/``degradation_rate``):

* reactive, ``k_d = 0``: ``F = (a/r0) (k a/(k a + D)) [erfc(z) - exp(α δ + α² D t) erfc(z + α sqrt(D t))]``,
  ``z = δ/sqrt(4 D t)``, ``F(∞) = (a/r0) k a/(k a + D)``;
* absorbing, ``k_d > 0``: ``F = (a/r0) ½ [exp(-β δ) erfc(z - sqrt(k_d t)) + exp(β δ) erfc(z + sqrt(k_d t))]``,
  ``β = sqrt(k_d/D)``, ``F(∞) = (a/r0) exp(-β δ)``;
* both: with ``s = D (κ² - β²)`` the partial fractions of ``1/((κ + α)(κ - β)(κ + β))`` and
  ``L⁻¹[exp(-x sqrt(q))/(sqrt(q) + c)] = exp(-x²/4τ)/sqrt(πτ) - c exp(c x + c² τ) erfc(x/(2 sqrt τ) + c sqrt τ)``
  (the Gaussian parts cancel) give ``F = (a/r0) (k/D) [β E(-β)/(2β(α + β)) + E(β)/(2(α - β)) -
  α E(α)/(α² - β²)]``, ``E(c) = exp(c δ + c² D t - k_d t) erfc(z + c sqrt(D t))``, which reduces
  to the two formulas above for ``k → ∞`` and ``k_d → 0``; ``F(∞) = (a/r0) (k/D) exp(-β δ)/(α + β)``.

Every product ``exp(...) erfc(...)`` is evaluated as ``exp(-z²) erfcx(...)`` (no overflow). At
``α = β`` (a removable singularity) the formula is evaluated at ``α (1 ± 2e-5)`` and averaged.

Every closed-form model of this package is a signed sum of such laws ``A erfc(delta/sqrt(4Dt))``;
:func:`erfc_sum` evaluates them stably: ``t = 0`` gives 0, ``t = inf`` gives ``A``, and the rate is
written as ``A z exp(-z^2) / (sqrt(pi) t)`` with ``z = delta/sqrt(4Dt)`` so that tiny and huge times
neither overflow nor produce NaN.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .geometry import _finite_float, _reaction_rate, as_times

__all__ = [
    "capture_diffusion",
    "erfc_sum",
    "free_F",
    "free_capture",
    "free_f",
    "free_laplace",
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


def _check_physics(D, reaction_rate, degradation_rate):
    k = _reaction_rate(reaction_rate)
    kd = _finite_float(degradation_rate, "degradation_rate", nonneg=True)
    return capture_diffusion(D, k != math.inf or kd > 0), k, kd


def capture_diffusion(D, needs_D: bool) -> float:
    """``D`` for a capture probability: required (µm²/s, > 0) where ``F(∞)`` depends on it —
    with a reactive receiver or degradation (``needs_D``) — and not used otherwise.

    Examples
    --------
    >>> capture_diffusion(None, needs_D=False)
    1.0
    >>> capture_diffusion(None, needs_D=True)
    Traceback (most recent call last):
    ...
    ValueError: D: a reactive receiver or degradation makes F(inf) depend on D; pass D (µm²/s)
    """
    if D is None:
        if needs_D:
            raise ValueError(
                "D: a reactive receiver or degradation makes F(inf) depend on D; pass D (µm²/s)"
            )
        return 1.0  # does not enter the absorbing, stable capture
    return _finite_float(D, "D", positive=True)


def _scaled(t, z, c, D):
    """``exp(c δ + c² D t) erfc(z + c sqrt(D t))`` written as ``exp(-z²) erfcx(z + c sqrt(D t))``
    (``z = δ/sqrt(4 D t)``, ``c >= 0``); 0 at ``t = 0``."""
    out = np.zeros(np.broadcast(t, z, c).shape)
    ok = np.isfinite(z) & (np.asarray(t) > 0) & np.isfinite(t)
    ok = np.broadcast_to(ok, out.shape)
    zz = np.broadcast_to(z, out.shape)[ok]
    tt = np.broadcast_to(t, out.shape)[ok]
    cc = np.broadcast_to(c, out.shape)[ok]
    out[ok] = np.exp(-zz * zz) * special.erfcx(zz + cc * np.sqrt(D * tt))
    return out


def _reactive_degrading_F(t, r0, a, D, k, kd):
    """Finite times of the reactive and/or degrading one-sphere F (see the module Notes)."""
    delta = r0 - a
    z = _z(t, delta, D)
    finite = np.isfinite(t)
    tt = np.where(finite, t, 0.0)
    beta = np.sqrt(kd / D)
    root = np.sqrt(kd * tt)
    if kd > 0:
        # exp(-β δ) erfc(z - sqrt(k_d t)) and exp(β δ) erfc(z + sqrt(k_d t)) (the latter scaled)
        minus = np.exp(-beta * delta) * special.erfc(z - root)
        plus = np.where(tt > 0, np.exp(-z * z - kd * tt), 0.0) * special.erfcx(z + root)
    if not np.isfinite(k):
        F = 0.5 * (minus + plus)
    else:
        alpha = 1.0 / a + k / D
        if kd == 0:
            F = (k * a / (k * a + D)) * (special.erfc(z) - _scaled(tt, z, alpha, D))
        else:

            def combo(al):
                e_a = np.exp(-kd * tt) * _scaled(tt, z, al, D)
                return (k / D) * (
                    beta * minus / (2 * beta * (al + beta))
                    + beta * plus / (2 * beta * (al - beta))
                    - al * e_a / (al * al - beta * beta)
                )

            near = np.abs(alpha - beta) < 1e-5 * beta  # removable singularity at α = β
            F = combo(np.where(near, beta * (1 + 2e-5), alpha))
            if np.any(near):
                F = np.where(near, 0.5 * (F + combo(beta * (1 - 2e-5))), F)
    F = np.where(finite, F, 0.0)
    return (a / r0) * F


def _capture_factor(r0, a, D, k, kd):
    """``F(∞) r0/a``: 1 (absorbing), ``k a/(k a + D)``, ``exp(-β δ)``, or both."""
    beta = np.sqrt(kd / D)
    damp = np.exp(-beta * (r0 - a))
    if not np.isfinite(k):
        return damp
    return (k / D) * damp / (1.0 / a + k / D + beta)


def free_F(t, r0, r, D, *, reaction_rate=np.inf, degradation_rate=0.0):
    """Free-space cumulative absorbed fraction ``F(t)`` of one sphere.

    Parameters
    ----------
    t : float or array_like
        Times (s), >= 0 (``inf`` allowed: gives ``F(∞)``).
    r0 : float
        Distance from the transmitter to the receiver centre (µm), > r.
    r : float
        Receiver radius (µm), > 0.
    D : float
        Diffusion coefficient (µm²/s), > 0.
    reaction_rate : float, optional
        Reaction rate ``k`` of the receiver (µm/s, > 0); ``inf`` (default) is perfectly
        absorbing (Yilmaz et al. 2014), finite values the Collins–Kimball receiver.
    degradation_rate : float, optional
        Degradation rate ``k_d`` of the molecules (1/s, >= 0; default 0).

    Returns
    -------
    numpy.ndarray
        ``F(t)`` with the shape of ``t`` (see the module Notes for the formulas).

    Examples
    --------
    >>> round(float(free_F(0.5, 10.0, 5.0, 79.4)), 5)
    0.28736
    >>> round(float(free_F(np.inf, 10.0, 5.0, 79.4, reaction_rate=20.0)), 6)  # (a/r0) ka/(ka+D)
    0.278707
    """
    r0, r = _check_r(r0, r)
    D, k, kd = _check_physics(D, reaction_rate, degradation_rate)
    t = _times(t)
    if np.isfinite(k) or kd > 0:
        t, r0b, rb = np.broadcast_arrays(t, r0, r)
        out = _reactive_degrading_F(t, r0b, rb, D, k, kd)
        return np.where(np.isinf(t), (rb / r0b) * _capture_factor(r0b, rb, D, k, kd), out)
    return (r / r0) * _law(t, r0 - r, D, rate=False)


def free_laplace(s, r0, r, D, *, reaction_rate=np.inf, degradation_rate=0.0):
    """Laplace transform ``w(s)`` of the free-space hitting density of one sphere.

    ``w(s) = (a/r0) (k/D) exp(-κ δ)/(α + κ)`` (``κ = sqrt((s + k_d)/D)``, ``α = 1/a + k/D``;
    ``(a/r0) exp(-κ δ)`` for an absorbing receiver); ``F̂ = w/s``.

    Parameters
    ----------
    s : complex or array_like
        Laplace variables (1/s), off the branch cut ``s + k_d <= 0``.
    r0, r, D, reaction_rate, degradation_rate
        As in :func:`free_F`.

    Returns
    -------
    numpy.ndarray
        Complex, the shape of ``s``.

    Examples
    --------
    >>> bool(np.isclose(free_laplace(0.0, 10.0, 5.0, 79.4), 0.5))
    True
    """
    r0, r = _check_r(r0, r)
    D, k, kd = _check_physics(D, reaction_rate, degradation_rate)
    kappa = np.sqrt((np.asarray(s, dtype=complex) + kd) / D)
    decay = (r / r0) * np.exp(-kappa * (r0 - r))
    if not np.isfinite(k):
        return decay
    return decay * (k / D) / (1.0 / r + k / D + kappa)


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


def free_capture(r0, r, D=None, *, reaction_rate=np.inf, degradation_rate=0.0):
    """Long-time capture ``F(inf)`` of one sphere in free space.

    ``r/r0`` for an absorbing receiver; times ``k a/(k a + D)`` for a reactive one; with
    degradation ``w(k_d)`` (see the module Notes). ``D`` (µm²/s) matters only for those two.

    Examples
    --------
    >>> float(free_capture(10.0, 5.0))
    0.5
    """
    r0, r = _check_r(r0, r)
    D, k, kd = _check_physics(D, reaction_rate, degradation_rate)
    return (r / r0) * _capture_factor(r0, r, D, k, kd)


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
