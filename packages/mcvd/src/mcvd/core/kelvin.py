"""Kelvin image-charge series: exact long-time capture and the chain terms of the image models.

Units: µm, s, µm²/s.

Theory
------
Let ``P_k(x)`` be the probability that free Brownian motion from ``x`` is absorbed by sphere ``k``
first, among non-overlapping absorbing spheres ``(c_k, r_k)``. Ordering the spheres a free path
visits (consecutive repeats merged), inclusion–exclusion gives the method-of-reflections series

    P_k(x) = sum over chains s_0 != s_1 != ... != s_n = k of (-1)^n Q(s_0, ..., s_n; x),

where ``Q`` is the free-space probability to hit ``s_0``, afterwards ``s_1``, ..., afterwards
``s_n``. For spheres ``Q`` is a product of Kelvin factors: the free harmonic measure of sphere
``s`` seen from ``x`` acts on any potential that is harmonic inside ``s`` like a point mass
``r_s/|x - c_s|`` at the Kelvin point ``K_s(x) = c_s + r_s^2 (x - c_s)/|x - c_s|^2``. Hence, with
``x_0 = x`` and ``x_{m+1} = K_{s_m}(x_m)``, ::

    Q = prod_m r_{s_m} / |x_m - c_{s_m}|.

This is the reciprocal form of the classical image-charge iteration (unit charges ``r_k`` at the
centres, then Kelvin images of every charge in every other sphere): both sum the same terms; the
form used here starts at the transmitter, so one enumeration gives every receiver.
:func:`capacitance` implements the centre-charge form independently (used as a cross-check).

The generation sums alternate in sign (all chains of length ``n + 1`` carry ``(-1)^n``), so the
limit lies between two consecutive partial sums. The last generation is counted with weight 1/2
(the midpoint of the last two partial sums); if the generation magnitudes ``b_g`` decrease and are
convex in ``g`` (geometric for separated spheres, ``~1/g`` for touching ones) the midpoint error is
at most ``(b_{g-1} - b_g)/2``. The series stops when that is ``<= tol`` for every absorber, the
magnitudes decreased, and ``b_g <= sqrt(tol)``.

Limitation (measured, not hidden): like every method of reflections, the series converges only if
the Kelvin ratios ``r_m/|x - c_m|`` summed over the other spheres stay below about 1. One receiver
near one plane (two spheres) always converges; a receiver within a few radii of two or three
orthogonal planes (4 or 8 close absorbers) can make the generation sums grow, e.g. three planes
with gap 5 µm at r = 5 µm: ratio ~1.46 per generation. Growth for three consecutive generations
raises ``ValueError`` instead of returning a wrong number. With more than two absorbers the
number of chains grows like ``M (M-1)^n``; chains below ``prune`` are not extended and their
summed contribution must stay below ``tol`` (else ``ValueError``). :func:`mcvd.core.models.capture`
uses the static limit of the exact solution (:mod:`mcvd.core.nsphere`) for such groups.

Every chain also carries the delay ``delta = sum_m (|x_m - c_{s_m}| - r_{s_m})`` used by the
time-domain image models (:mod:`mcvd.core.models`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .geometry import Sphere

__all__ = ["CaptureResult", "KelvinChains", "capacitance", "kelvin_chains"]


@dataclass(frozen=True, eq=False)
class KelvinChains:
    """Terms of the Kelvin chain series seen from one point.

    Attributes
    ----------
    amplitude : numpy.ndarray
        Signed term weights ``(-1)^n Q`` (the last generation already halved if ``midpoint``).
    delay : numpy.ndarray
        Convolution-consistent delay ``sum_m (|x_m - c_{s_m}| - r_{s_m})`` (µm).
    delay_paper : numpy.ndarray
        Delay of Kamber et al. for chains of length <= 2: ``|x - c_k| + |x_1 - c_k| - r_k - r_{s_0}``
        for ``(s_0, k)`` (equal to ``delay`` for single-sphere terms; NaN beyond length 2).
    absorber : numpy.ndarray of int
        Final sphere ``s_n`` of each chain.
    order : numpy.ndarray of int
        ``n`` (number of re-emissions).
    generations : int
        Number of generations beyond the first that were computed.
    converged : bool
        Whether the stopping rule was met (always True for ``max_order`` truncations).
    last : numpy.ndarray
        Absolute contribution of the last generation per absorber (before halving).
    n_pruned : int
        Chains not extended because their own contribution was below ``prune``.
    pruned_mass : float
        Sum of the (weighted) contributions of the pruned chains: the neglected descendants of a
        chain sum (alternating) to at most its own contribution, so this bounds the pruning error.
    """

    amplitude: np.ndarray = field(repr=False)
    delay: np.ndarray = field(repr=False)
    delay_paper: np.ndarray = field(repr=False)
    absorber: np.ndarray = field(repr=False)
    order: np.ndarray = field(repr=False)
    generations: int = 0
    converged: bool = True
    last: np.ndarray = field(default=None, repr=False)
    n_pruned: int = 0
    pruned_mass: float = 0.0

    def static(self, n_absorbers: int) -> np.ndarray:
        """Sum of amplitudes per absorber (the ``t -> inf`` limit)."""
        return np.bincount(self.absorber, weights=self.amplitude, minlength=n_absorbers)


def _stop(prev, last, tol) -> bool:
    """Stopping rule for an alternating series with decreasing, convex term magnitudes.

    With the last generation halved, the error is at most ``(b_{g-1} - b_g)/2``; additionally the
    terms must be decreasing and ``b_g <= sqrt(tol)`` (guards against an early plateau).
    """
    return bool(
        np.all(last <= prev) and np.all(last <= math.sqrt(tol)) and np.all(prev - last <= 2 * tol)
    )


def _kelvin(p, c, r, lam=0.0):
    """Kelvin points of ``p`` (n, 3) in spheres (c (n, 3), r (n,)), distances |p - c|, and the
    points ``c + (lam r + (1 - lam) r^2/|p - c|) (p - c)/|p - c|`` (Kelvin point at ``lam = 0``,
    nearest surface point at ``lam = 1``)."""
    v = p - c
    d = np.sqrt(np.einsum("ij,ij->i", v, v))
    k = c + (r * r / (d * d))[:, None] * v
    if lam == 0.0:
        return k, d, k
    return k, d, c + ((lam * r + (1.0 - lam) * r * r / d) / d)[:, None] * v


def kelvin_chains(
    x,
    spheres: list[Sphere],
    *,
    tol: float = 1e-10,
    max_order: int | None = None,
    a_max: float = math.inf,
    prune: float | None = None,
    max_iter: int = 100_000,
    max_terms: int = 2_000_000,
    midpoint: bool = True,
    delay_point: float = 0.0,
) -> KelvinChains:
    """Enumerate the Kelvin chain terms seen from point ``x``.

    Parameters
    ----------
    x : sequence of 3 floats
        Starting point (µm), outside every sphere.
    spheres : list of Sphere
        Non-overlapping absorbing spheres.
    tol : float
        Absolute tolerance on each sphere's sum (see module Notes).
    max_order : int, optional
        Keep chains of length ``<= max_order + 1`` only (plain truncation, no midpoint rule).
    a_max : float
        ``sqrt(4 D t_max)`` (µm): terms are weighted by ``erfc(delta/a_max)`` in the stopping and
        pruning rules (``inf`` for the static series).
    prune : float, optional
        Chains whose own weighted contribution is below ``prune`` are kept but not extended
        (default ``tol / 1000``); their summed contribution must stay below ``tol``.
    max_iter : int
        Generation cap; exceeding it raises ``ValueError``.
    max_terms : int
        Cap on the number of live chains; exceeding it raises ``ValueError``.
    midpoint : bool
        Count the last generation with weight 1/2 (see module Notes).

    Returns
    -------
    KelvinChains

    Examples
    --------
    >>> ch = kelvin_chains([0, 0, 0], [Sphere((10, 0, 0), 5)])
    >>> ch.static(1).tolist()
    [0.5]
    """
    spheres = list(spheres)
    M = len(spheres)
    C = np.array([s.c for s in spheres], dtype=float).reshape(M, 3)
    R = np.array([s.radius for s in spheres], dtype=float)
    x = np.asarray(x, dtype=float)
    prune = tol * 1e-3 if prune is None else float(prune)

    def weight(A, delta):
        if math.isinf(a_max):
            return A
        return A * special.erfc(delta / a_max) if a_max > 0 else np.zeros_like(A)

    # generation 0: one chain per sphere
    p, d0, q = _kelvin(np.repeat(x[None], M, 0), C, R, delay_point)
    A = R / d0
    delta = d0 - R
    last_idx = np.arange(M)
    first_idx = np.arange(M)
    amps, dels, dpap, absb, orders = [A.copy()], [delta.copy()], [delta.copy()], [last_idx], []
    orders.append(np.zeros(M, dtype=np.intp))
    dist_x = d0  # |x - c_k| for the paper's delay
    g = 0
    converged = True
    w0 = weight(A, delta)
    last = np.bincount(last_idx, weights=w0, minlength=M)
    growing = 0
    live = w0 >= prune
    n_pruned = int(np.count_nonzero(~live))
    pruned_mass = float(w0[~live].sum()) if M > 1 else 0.0
    A, delta, p, last_idx, first_idx = (
        A[live],
        delta[live],
        p[live],
        last_idx[live],
        first_idx[live],
    )
    q = q[live]
    if M < 2:
        A = A[:0]
    while A.size:
        if max_order is not None and g >= max_order:
            break
        g += 1
        if g > max_iter:
            raise ValueError(
                f"Kelvin series did not converge within max_iter={max_iter} generations "
                f"(last contribution {float(last.max()):.3g} > 2*tol={2 * tol:g}); spheres nearly "
                "touching converge slowly: raise max_iter or tol"
            )
        n = A.size
        # expand every chain into every other sphere
        tgt = np.tile(np.arange(M), n)
        src = np.repeat(np.arange(n), M)
        keep = tgt != last_idx[src]
        tgt, src = tgt[keep], src[keep]
        if tgt.size > max_terms:
            raise ValueError(
                f"Kelvin series needs more than max_terms={max_terms} live chains at generation "
                f"{g}; raise tol/prune or max_terms"
            )
        p_new, d, q_new = _kelvin(p[src], C[tgt], R[tgt], delay_point)
        A_new = A[src] * R[tgt] / d
        dq = d if delay_point == 0.0 else np.linalg.norm(q[src] - C[tgt], axis=1)
        delta_new = delta[src] + dq - R[tgt]
        sign = -1.0 if g % 2 else 1.0
        amps.append(sign * A_new)
        dels.append(delta_new)
        if g == 1:
            dpap.append(dist_x[tgt] + d - R[tgt] - R[first_idx[src]])
        else:
            dpap.append(np.full(tgt.size, np.nan))
        absb.append(tgt)
        orders.append(np.full(tgt.size, g, dtype=np.intp))
        w = weight(A_new, delta_new)
        prev, last = last, np.bincount(tgt, weights=w, minlength=M)
        live = w >= prune
        n_pruned += int(np.count_nonzero(~live))
        pruned_mass += float(w[~live].sum())
        if max_order is None and pruned_mass > tol:
            raise ValueError(
                f"Kelvin series: the chains pruned below prune={prune:g} carry {pruned_mass:.2e} "
                f"> tol={tol:g} (many close absorbers); lower prune or raise tol"
            )
        A, delta, p, last_idx = A_new[live], delta_new[live], p_new[live], tgt[live]
        q = q_new[live]
        first_idx = first_idx[src][live]
        if max_order is None and g > 1 and _stop(prev, last, tol):
            break
        growing = growing + 1 if float(last.max()) > float(prev.max()) else 0
        if max_order is None and growing >= 3:
            raise ValueError(
                f"Kelvin series diverges for this geometry (generation {g} contributes "
                f"{float(last.max()):.3g}, growing): the method of reflections does not converge "
                "for absorbers this close together (e.g. a receiver near 2-3 planes); use "
                "model 'exact' or a simulator"
            )
    amplitude = np.concatenate(amps)
    if midpoint and max_order is None and g > 0:
        amplitude[-amps[-1].size :] *= 0.5
    return KelvinChains(
        amplitude,
        np.concatenate(dels),
        np.concatenate(dpap),
        np.concatenate(absb),
        np.concatenate(orders),
        g,
        converged,
        last,
        n_pruned,
        pruned_mass,
    )


@dataclass(frozen=True, eq=False)
class CaptureResult:
    """Long-time capture ``F(inf)`` from the Kelvin series.

    Attributes
    ----------
    F_inf : float
        Total over receivers.
    F_inf_per_receiver : numpy.ndarray
        One value per real receiver (summed over its images).
    generations : int
        Generations of the series that were computed (0 without the series).
    tol : float
        Absolute tolerance of each per-absorber sum.
    method : str
        ``"kelvin"`` (image-charge series), ``"exact"`` (the static limit of the exact solution,
        :mod:`mcvd.core.nsphere`) or ``"multipole"`` (:mod:`mcvd.core.multipole`).
    """

    F_inf: float
    F_inf_per_receiver: np.ndarray
    generations: int
    tol: float
    method: str = "kelvin"


def capacitance(spheres: list[Sphere], *, tol: float = 1e-12, max_iter: int = 100_000) -> float:
    """Electrostatic capacitance (µm, Gaussian units) of conducting spheres at unit potential.

    Centre-charge form of the Kelvin iteration: a charge ``r_k`` at every centre, then
    repeatedly the Kelvin image ``-q r/|p - c|`` at ``c + r^2 (p - c)/|p - c|^2`` of every charge
    in every other sphere; the capacitance is the total charge. Far from the spheres
    ``F(inf) ~ capacitance / distance``. Generation totals alternate in sign; the midpoint rule of
    :func:`kelvin_chains` is used.

    Parameters
    ----------
    spheres : list of Sphere
    tol : float
        Absolute tolerance (µm).
    max_iter : int
        Generation cap (``ValueError`` beyond).

    Returns
    -------
    float

    Examples
    --------
    >>> round(capacitance([Sphere((0, 0, 0), 2.0)]), 12)
    2.0
    """
    M = len(spheres)
    C = np.array([s.c for s in spheres], dtype=float).reshape(M, 3)
    R = np.array([s.radius for s in spheres], dtype=float)
    q = R.copy()
    p = C.copy()
    owner = np.arange(M)
    total = float(q.sum())
    prev = total
    for g in range(1, max_iter + 1):
        if M < 2:
            return total
        n = q.size
        tgt = np.tile(np.arange(M), n)
        src = np.repeat(np.arange(n), M)
        keep = tgt != owner[src]
        tgt, src = tgt[keep], src[keep]
        p_new, d, _ = _kelvin(p[src], C[tgt], R[tgt])
        q = -q[src] * R[tgt] / d
        p, owner = p_new, tgt
        s = float(q.sum())
        if g > 1 and _stop(np.abs([prev]), np.abs([s]), tol):
            return total + 0.5 * s
        total += s
        prev = s
        if q.size > 2_000_000:
            raise ValueError("capacitance: too many image charges; raise tol")
    raise ValueError(f"capacitance: no convergence within max_iter={max_iter} generations")
