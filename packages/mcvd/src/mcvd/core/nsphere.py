"""Exact channel response of any number of spheres next to up to three orthogonal planes.

Units: µm, s, µm²/s; reaction rates µm/s, degradation rates 1/s.

Problem
-------
Reflecting planes — one plane, a corner of two or three mutually orthogonal planes, or two
parallel planes (a slab) — are unfolded by their reflection group ``G`` (:mod:`mcvd.core.geometry`):
reflected Brownian motion is free motion folded by ``G``, so a receiver seen by the reflected
motion is the free-space union of the receiver and its ``|G|`` images (2, 4 or 8 spheres; an
infinite array in a slab), and ``F_i`` counts the first hits on receiver ``i`` or any of its
images. In the Laplace domain ``w_i(x, s) = E[exp(-s τ); first absorbed by receiver i]`` solves

    D ∇²w = (s + k_d) w  outside the spheres,   w → 0 at infinity,
    D ∂w/∂n = k_j (w - δ_ij)  on receiver j and its images   (w = δ_ij where k_j = ∞),

with ``n`` the normal into the fluid, ``k_j`` the reaction rate of receiver ``j`` (a perfectly
absorbing receiver has ``k_j = ∞``, the Dirichlet condition) and ``k_d`` the degradation rate of
the molecules (a molecule absorbed at ``τ`` counts only if it survived its exponential lifetime,
``E[e^{-k_d τ}]``: the shift ``s → s + k_d``). Then ``F_i(t) = L⁻¹[w_i(x_T, s)/s]``, the hitting
rate ``f_i = L⁻¹[w_i(x_T, s)]`` and ``F_i(∞) = w_i(x_T, 0)`` (the static problem when
``k_d = 0``).

Expansion
---------
With ``κ = sqrt((s + k_d)/D)`` and spherical coordinates ``(r_j, θ_j, φ_j)`` about each sphere, ::

    w = Σ_spheres Σ_{l ≤ L} Σ_{|m| ≤ l} c_{jlm} [k_l(κ r_j) / k_l(κ a_j)] Y_lm(θ_j, φ_j),

with ``k_l`` the modified spherical Bessel functions of the second kind (ratios built as in
:mod:`mcvd.core.exact`, no overflow; ``(a_j/r_j)^{l+1}`` when ``κ = 0``) and ``Y_lm`` real orthonormal
spherical harmonics. The coordinates are taken in a frame whose axes are the plane normals, where
every group element is a diagonal ±1 matrix ``A_g`` (plus a translation). The solution is
invariant under ``G`` (the data are), so the coefficients of the image ``g(S_j)`` follow from
those of the real receiver ``j``: ``c_{g(j) lm} = σ_lm(g) c_{jlm}`` with the signs
``Y_lm(A_g v) = σ_lm(g) Y_lm(v)`` (``x → -x``: ``(-1)^m`` for the cosine harmonics ``m >= 0``,
``-(-1)^m`` for the sine harmonics; ``y → -y``: ``+1`` / ``-1``; ``z → -z``: ``(-1)^{l+m}``).
This symmetry-adapted basis (the invariant sector of ``G``) leaves ``n (L+1)²`` unknowns for
``n`` real receivers instead of ``n |G| (L+1)²``: the dense solve shrinks by ``|G|³`` (8 to 512)
and the images only enter through the sums ``Σ_g σ(g) × basis of g(S_j)`` evaluated on the real
spheres.

Galerkin projection: on each real receiver the boundary condition is projected onto its own
``Y_lm`` with a product rule (Gauss–Legendre in ``cos θ`` × trapezoid in ``φ``, ``n_θ = L + 1 +
q`` and ``n_φ = 2 n_θ`` nodes, ``q = 2 + L//6``), exact for the receiver's own basis (its block is
the identity) and for the other spheres' fields up to degree ``L + 1 + 2q``. The other spheres'
fields are evaluated directly at the quadrature nodes (no translation operators). Their
degree-``l`` component on a ball around receiver ``i`` is regular, proportional to ``i_l(κ ρ)``,
so its radial derivative is ``e_l = κ i_l'/i_l`` times its value, and the Robin condition reads
``c_ilm + f_l P_ilm[others] = h g δ_l0 sqrt(4π)`` with ``f_l = (k - D e_l)/(k - D d_l)``,
``h = k/(k - D d_0)``, ``d_l = κ k_l'/k_l`` (:func:`mcvd.core.exact._robin_rows`; ``f = h = 1`` for an
absorbing receiver). The columns are scaled by ``k_l(κ a_j)`` (the basis is 1 on its own sphere),
which keeps the systems well conditioned. One dense LU solve per Laplace node serves all
receivers' data (one right-hand side per receiver).

The order ``L`` is chosen per Laplace node (it grows by 1.25 from 4 until the values at the
transmitter change by less than the node's share of the error budget; see
:func:`mcvd.core.exact._adaptive_order`); nodes with large ``|κ|`` decouple the spheres
(``exp(-κ gap)``) and stop at low orders. The inversion is that of :mod:`mcvd.core.exact` (shared
Weideman–Trefethen hyperbolas, a coarser contour for the error estimate).

Slab
----
Two parallel planes give an infinite image array. The invariance under the infinite group still
holds, so the image sums are lattice sums, truncated at ``|k| <= K`` periods:
:func:`mcvd.core.geometry.slab_periods` chooses ``K`` such that the free-space probability of ever
reaching an omitted image before the largest requested time is below ``tol/10``; that bound is
added to the error estimate. ``t = inf`` is refused there (every molecule is eventually absorbed
in a slab).

Limits
------
Receivers (or a receiver and its image, i.e. a receiver touching a plane) in contact are refused:
the expansion does not converge there. Small gaps need high orders (the coefficients decay like
``exp(-β l)``, ``cosh β = d/(2a)`` for two equal spheres at centre distance ``d``) at a cost
``O(L⁶)`` per node; beyond ``max_order`` the solver refuses with
:class:`mcvd.core.exact.ExactConvergenceError`. For one or two spheres the axisymmetric solver of
:mod:`mcvd.core.exact` (Legendre series, cost ``O(L³)``) is faster and reaches much smaller gaps;
:func:`exact_channel` uses it there.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre as _leg

from .exact import (
    DEFAULT_TOL,
    ExactResponse,
    _adaptive_order,
    _check_options,
    _check_rates,
    _radial,
    _respond,
    _robin_rows,
    _union_bounds,
    exact_response,
)
from .freespace import capture_diffusion
from .geometry import (
    Plane,
    _finite_float,
    _slab_truncation,
    absorbers,
    as_times,
    check_tolerance,
    image_system,
)

__all__ = [
    "DEFAULT_MAX_ORDER",
    "exact_channel",
    "exact_model",
    "nsphere_capture",
    "nsphere_laplace",
    "nsphere_response",
    "real_harmonics",
    "reflection_signs",
]

#: Default cap on the multipole order L of the N-sphere solver.
DEFAULT_MAX_ORDER = 40
_ORDER_START = 4
_ORDER_GROWTH = 1.25
_CHUNK_ENTRIES = 3_000_000  # complex entries of one (nodes x quadrature x basis) field array
_CACHE_BYTES = 200_000_000  # angular tables kept per problem (s-independent, reused per level)
_SQRT_4PI = math.sqrt(4.0 * math.pi)
#: a change below this (relative) that stops halving is taken as the roundoff floor; the dense
#: 3-D solves reach about 1e-13, and slowly converging near-contact nodes still halve at 1e-10
_STALL = 1e-12


# --------------------------------------------------------------------------------------------
# Real spherical harmonics and their reflection signs.
# --------------------------------------------------------------------------------------------


def _index(order):
    """Degree ``l`` and order ``m`` of every basis index ``l² + l + m`` up to degree ``order``."""
    ls = np.concatenate([np.full(2 * l + 1, l) for l in range(order + 1)])
    ms = np.concatenate([np.arange(-l, l + 1) for l in range(order + 1)])
    return ls, ms


def real_harmonics(order, v):
    """Real orthonormal spherical harmonics ``Y_lm`` of unit vectors, up to degree ``order``.

    ``Y_l0 = Q_l^0(z)``, ``Y_lm = sqrt(2) Q_l^m(z) Re (x + iy)^m`` and
    ``Y_l,-m = sqrt(2) Q_l^m(z) Im (x + iy)^m`` (``m > 0``), where
    ``Q_l^m sin^m θ`` are the orthonormal associated Legendre functions (no Condon–Shortley
    phase), computed by the standard stable recurrences in ``l``. Writing the azimuthal part as
    ``(x + iy)^m`` avoids dividing by ``sin θ``.

    Parameters
    ----------
    order : int
        Largest degree ``L`` (>= 0).
    v : array_like, shape (P, 3)
        Unit vectors.

    Returns
    -------
    numpy.ndarray, shape (P, (L+1)²)
        Column ``l² + l + m`` holds ``Y_lm``.

    Examples
    --------
    >>> y = real_harmonics(1, [[0.0, 0.0, 1.0]])
    >>> np.round(y * np.sqrt(4 * np.pi), 12).tolist()   # Y_00, Y_1-1, Y_10, Y_11 at the pole
    [[1.0, 0.0, 1.732050807569, 0.0]]
    """
    v = np.asarray(v, dtype=float)
    x, y, z = v[:, 0], v[:, 1], v[:, 2]
    nb = (order + 1) ** 2
    out = np.empty((v.shape[0], nb))
    xy = x + 1j * y
    power = np.ones_like(xy)  # (x + iy)^m
    norm = 1.0 / math.sqrt(4.0 * math.pi)  # Q_m^m
    for m in range(order + 1):
        if m > 0:
            norm *= math.sqrt((2 * m + 1) / (2 * m))
            power = power * xy
        q_prev = np.zeros_like(z)
        q = np.full_like(z, norm)
        for ell in range(m, order + 1):
            if ell == m + 1:
                q_prev, q = q, math.sqrt(2 * m + 3) * z * q
            elif ell > m + 1:
                a = math.sqrt((4 * ell * ell - 1) / (ell * ell - m * m))
                b = math.sqrt(((ell - 1) ** 2 - m * m) / (4 * (ell - 1) ** 2 - 1))
                q_prev, q = q, a * (z * q - b * q_prev)
            base = ell * ell + ell
            if m == 0:
                out[:, base] = q
            else:
                out[:, base + m] = math.sqrt(2.0) * q * power.real
                out[:, base - m] = math.sqrt(2.0) * q * power.imag
    return out


def reflection_signs(order, diagonal):
    """Signs ``σ_lm`` with ``Y_lm(A v) = σ_lm Y_lm(v)`` for ``A = diag(diagonal)`` (entries ±1).

    Parameters
    ----------
    order : int
        Largest degree.
    diagonal : sequence of 3 numbers
        The diagonal of the reflection (each +1 or -1).

    Returns
    -------
    numpy.ndarray, shape ((L+1)²,)

    Examples
    --------
    >>> reflection_signs(1, (-1, 1, 1)).tolist()   # x -> -x: Y_00, Y_1-1, Y_10, Y_11
    [1.0, 1.0, 1.0, -1.0]
    """
    ls, ms = _index(order)
    am = np.abs(ms)
    sign = np.ones(ls.size)
    ex, ey, ez = (float(d) for d in diagonal)
    if ex < 0:
        sign *= np.where(ms >= 0, (-1.0) ** am, -((-1.0) ** am))
    if ey < 0:
        sign *= np.where(ms >= 0, 1.0, -1.0)
    if ez < 0:
        sign *= (-1.0) ** (ls + am)
    return sign


@dataclass(frozen=True, eq=False)
class _Rule:
    """Product rule on the unit sphere for the degree ``order`` and its fast projector.

    Nodes ``(μ_a, φ_b)``: ``n_θ`` Gauss–Legendre nodes in ``μ = cos θ`` and ``n_φ = 2 n_θ``
    equispaced angles, flattened ``a``-major into ``dirs`` (K, 3). The Galerkin projection of a
    field onto ``Y_lm`` is a real trigonometric transform in ``φ`` (``trig``: rows
    ``1, cos φ, sin φ, cos 2φ, ...`` times ``2π/n_φ``) followed, per ``|m|``, by the matrix
    ``T_m`` (``(L+1-|m|) × n_θ``: Gauss weights times the orthonormal associated Legendre
    functions, times ``sqrt(2)`` for ``m != 0``) — ``O(L³)`` work per column instead of the
    ``O(L⁴)`` of a dense projector, all as real matrix products on the complex data's float
    view.
    """

    order: int
    n_theta: int
    n_phi: int
    dirs: np.ndarray
    trig: np.ndarray  # (2L+1, n_φ)
    legendre: tuple  # m -> T_m
    rows_cos: tuple  # m -> basis indices l² + l + m, l = m..L
    rows_sin: tuple  # m -> basis indices l² + l - m (m >= 1)

    def project(self, field):
        """Project ``field`` (K, nb, S) onto the harmonics: returns (S, (L+1)², nb) complex."""
        _, nb, S = field.shape
        flat = field.view(np.float64).reshape(self.n_theta, self.n_phi, 2 * nb * S)
        spec = np.matmul(self.trig, flat)  # (n_θ, 2L+1, 2 nb S)
        out = np.empty(((self.order + 1) ** 2, 2 * nb * S))
        out[self.rows_cos[0]] = self.legendre[0] @ spec[:, 0]
        for m in range(1, self.order + 1):
            out[self.rows_cos[m]] = self.legendre[m] @ spec[:, 2 * m - 1]
            out[self.rows_sin[m]] = self.legendre[m] @ spec[:, 2 * m]
        return out.view(complex).reshape(-1, nb, S).transpose(2, 0, 1)


@functools.lru_cache(maxsize=32)
def _rule(order):
    """The :class:`_Rule` of degree ``order`` (``n_θ = L + 3 + L//6``; see the module Notes)."""
    n_theta = order + 3 + order // 6
    mu, w_mu = _leg.leggauss(n_theta)
    n_phi = 2 * n_theta
    phi = 2.0 * math.pi * np.arange(n_phi) / n_phi
    sin_t = np.sqrt(1.0 - mu**2)
    dirs = np.stack(
        [
            np.outer(sin_t, np.cos(phi)).ravel(),
            np.outer(sin_t, np.sin(phi)).ravel(),
            np.repeat(mu, n_phi),
        ],
        axis=1,
    )
    trig = np.empty((2 * order + 1, n_phi))
    trig[0] = 1.0
    for m in range(1, order + 1):
        trig[2 * m - 1] = np.cos(m * phi)
        trig[2 * m] = np.sin(m * phi)
    trig *= 2.0 * math.pi / n_phi
    # the harmonics on the meridian φ = 0 give Q_l^m sin^m θ times sqrt(2) (cosine type)
    meridian = real_harmonics(order, np.stack([sin_t, np.zeros_like(mu), mu], axis=1))
    legendre, rows_cos, rows_sin = [], [], []
    for m in range(order + 1):
        ell = np.arange(m, order + 1)
        cos_rows = ell * ell + ell + m
        legendre.append(np.ascontiguousarray(meridian[:, cos_rows].T * w_mu[None, :]))
        rows_cos.append(cos_rows)
        rows_sin.append(ell * ell + ell - m)
    dirs.setflags(write=False)
    trig.setflags(write=False)
    return _Rule(
        order, n_theta, n_phi, dirs, trig, tuple(legendre), tuple(rows_cos), tuple(rows_sin)
    )


# --------------------------------------------------------------------------------------------
# The unfolded problem.
# --------------------------------------------------------------------------------------------


def _adapted_frame(planes, points):
    """Orthogonal matrix whose first rows are the plane normals (the reflection axes).

    A remaining (free) axis is chosen, where one exists, perpendicular to the normals and to
    every ``point - points[0]`` (the transmitter first, then the receiver centres): the points
    then share that coordinate, and the mirror through them is a symmetry of the problem
    (see :class:`_Problem`).
    """
    rows = [p.n for p in planes]
    if len(rows) == 2 and abs(float(rows[0] @ rows[1])) > 0.5:  # a slab: one axis
        rows = rows[:1]
    pts = np.asarray(points, dtype=float)
    diffs = pts[1:] - pts[0]
    size = max(1.0, float(np.abs(pts).max()))
    while len(rows) < 3:
        basis = np.array(rows).reshape(-1, 3)
        # directions orthogonal to the current rows, and among them one orthogonal to diffs
        _, _, vt = np.linalg.svd(np.vstack([basis, np.zeros((3 - len(rows), 3))]))
        free = vt[len(rows) :]
        cand = free[0]
        if diffs.size:
            _, sv, vt2 = np.linalg.svd(diffs @ free.T)
            if sv.size < free.shape[0] or sv[-1] <= 1e-13 * size:
                cand = vt2[-1] @ free
        rows.append(cand / np.linalg.norm(cand))
    return np.array(rows)


@dataclass(frozen=True, eq=False)
class _Level:
    """s-independent tables of one truncation order (see :meth:`_Problem.level`)."""

    rule: _Rule
    keep: list  # rep -> basis indices kept by its stabiliser
    pair_r: dict  # (r, q) -> (M_rq * K,) distances from the spheres of rep q to the nodes of r
    pair_y: dict  # (r, q) -> (M_rq, K, nb_q) signed harmonics (None: computed per chunk)
    pair_v: dict  # (r, q) -> unit vectors (M_rq, K, 3) and signs, for per-chunk harmonics
    tx_r: list  # q -> (M_q,) distances from the spheres of rep q to the transmitter
    tx_y: list  # q -> (M_q, nb_q) signed harmonics at the transmitter

    @property
    def order(self):
        return self.rule.order


class _Problem:
    """Receivers, their images and symmetries (in the plane-adapted frame), and the physics.

    Symmetries. ``G`` is the reflection group of the planes. In addition, a mirror
    ``x_α -> 2 t_α - x_α`` through the transmitter along a frame axis without a plane that maps
    the set of receivers onto itself (equal radii and reaction rates) is a symmetry ``h`` of the
    problem; they generate a group ``H`` (up to 8 elements). Receivers fall into ``H``-orbits;
    only one representative per orbit carries unknowns, restricted to the harmonics invariant
    under its stabiliser (``σ_lm(h) = 1``), and every sphere of the unfolded problem is
    ``g h (rep)`` with coefficients ``σ(g) σ(h) c_rep``. The data ``e_i`` of one receiver are
    not ``H``-invariant when ``H`` moves it, but the transmitter is fixed by ``H``, so
    ``w_i(x_T) = w_{h(i)}(x_T)`` for all ``h`` and ``w_i(x_T)`` equals the value of the
    invariant problem with data ``1/|orbit|`` on the orbit of ``i``: one right-hand side per
    orbit. A single mirror halves the unknowns (8 times cheaper dense solves).
    """

    def __init__(self, tx, centres, radii, rates, planes, D, kd, n_periods=0, symmetry=True):
        self.D, self.kd = D, kd
        self.radii, self.rates = radii, rates
        tx = np.asarray(tx, float)
        centres = np.asarray(centres, float)
        frame = _adapted_frame(planes, np.vstack([tx, centres]))
        system = image_system(planes, n_periods)
        diag = np.einsum("ij,gjk,lk->gil", frame, system.matrices, frame)
        signs = np.sign(np.diagonal(diag, axis1=1, axis2=2))
        if not np.allclose(diag, np.eye(3) * signs[:, None], atol=1e-9):
            raise ValueError("planes: the reflection group is not diagonal in the planes' frame")
        self.diag = signs  # (G, 3) of ±1
        offsets = system.offsets @ frame.T  # (G, 3)
        self.centres = centres @ frame.T  # (n, 3)
        self.tx = tx @ frame.T
        self.n = self.centres.shape[0]
        # image centres (n, G, 3); image 0 is the receiver itself
        self.images = self.diag[None, :, :] * self.centres[:, None, :] + offsets[None, :, :]
        self.n_images = self.diag.shape[0]
        self._check_contacts()
        # without ``symmetry`` every axis counts as walled: no mirror through the transmitter
        self._symmetries(walled=np.any(self.diag < 0, axis=0) | (not symmetry))
        self._levels: dict[int, _Level] = {}
        self._cache_bytes = 0

    def _check_contacts(self):
        n, G = self.n, self.n_images
        flat = self.images.reshape(n * G, 3)
        rad = np.repeat(self.radii, G)
        dist = np.linalg.norm(flat[:, None, :] - flat[None, :, :], axis=2)
        gap = dist - rad[:, None] - rad[None, :]
        np.fill_diagonal(gap, np.inf)
        i, j = np.unravel_index(int(np.argmin(gap)), gap.shape)
        if gap[i, j] <= 0:
            ri, rj = i // G, j // G
            what = (
                f"receivers[{ri}] touches a plane (it touches its own image)"
                if ri == rj
                else f"receivers[{ri}] and receivers[{rj}] (or their images) touch"
            )
            raise ValueError(
                f"receivers: model 'exact' needs a gap between absorbing surfaces: {what}; the "
                "multipole expansion does not converge at contact"
            )
        self.min_gap = float(gap.min())
        self.tx_dist = np.linalg.norm(flat - self.tx, axis=1)
        self.all_radii = rad
        if np.any(self.tx_dist <= rad):
            raise ValueError("tx must lie outside every receiver")

    def _symmetries(self, walled):
        """The mirror group ``H`` through the transmitter, the orbits and their members."""
        size = max(1.0, float(np.abs(self.centres).max()), float(np.abs(self.tx).max()))
        gens = []  # (axis, permutation of receivers)
        for ax in range(3):
            if walled[ax]:
                continue
            mirrored = self.centres.copy()
            mirrored[:, ax] = 2.0 * self.tx[ax] - mirrored[:, ax]
            dist = np.linalg.norm(mirrored[:, None, :] - self.centres[None, :, :], axis=2)
            perm = np.argmin(dist, axis=1)
            ok = (
                np.all(dist[np.arange(self.n), perm] <= 1e-12 * size)
                and np.array_equal(np.sort(perm), np.arange(self.n))
                and np.array_equal(self.radii[perm], self.radii)
                and np.array_equal(self.rates[perm], self.rates)
            )
            if ok:
                gens.append((ax, perm))
        # group elements: (diagonal signs, permutation)
        elements = [(np.ones(3), np.arange(self.n))]
        for ax, perm in gens:
            d = np.ones(3)
            d[ax] = -1.0
            elements += [(e * d, perm[p]) for e, p in elements]
        self.h_diag = np.array([e for e, _ in elements])
        reps, members, orbit_of = [], [], np.full(self.n, -1)
        for i in range(self.n):
            if orbit_of[i] >= 0:
                continue
            r = len(reps)
            reps.append(i)
            mem, stab = [], []
            for e, p in elements:
                j = int(p[i])
                if orbit_of[j] < 0:
                    orbit_of[j] = r
                    mem.append((j, e))
                if j == i:
                    stab.append(e)
            members.append((mem, np.array(stab)))
        self.reps, self.members, self.orbit_of = reps, members, orbit_of

    def _spheres(self, q):
        """Centres (M, 3) and sign diagonals (M, 3) of every sphere ``g h (rep q)``; the rep
        itself first."""
        cs, ds = [], []
        for j, e in self.members[q][0]:
            for g in range(self.n_images):
                cs.append(self.images[j, g])
                ds.append(self.diag[g] * e)
        return np.array(cs), np.array(ds)

    # ------------------------------------------------------------------ tables per order
    def level(self, order) -> _Level:
        """Tables of ``order``: kept basis per representative, distances and signed harmonics
        of every sphere at the quadrature nodes of every representative and at the
        transmitter (cached per problem, up to a memory budget)."""
        if order in self._levels:
            return self._levels[order]
        rule = _rule(order)
        keep = []
        for _, stab in self.members:
            ok = np.ones((order + 1) ** 2, dtype=bool)
            for e in stab:
                ok &= reflection_signs(order, e) > 0
            keep.append(np.flatnonzero(ok))
        pair_r, pair_y, pair_v, tx_r, tx_y = {}, {}, {}, [], []
        spheres = [self._spheres(q) for q in range(len(self.reps))]
        for q, (cs, ds) in enumerate(spheres):
            sg = np.stack([reflection_signs(order, d)[keep[q]] for d in ds])  # (M, nb_q)
            vec = self.tx - cs
            r = np.linalg.norm(vec, axis=1)
            tx_r.append(r)
            tx_y.append(real_harmonics(order, vec / r[:, None])[:, keep[q]] * sg)
            for t, rep in enumerate(self.reps):
                start = 1 if t == q else 0  # the representative itself is not a field on it
                if start >= len(cs):
                    continue
                nodes = self.centres[rep] + self.radii[rep] * rule.dirs  # (K, 3)
                vec = nodes[None, :, :] - cs[start:, None, :]  # (M, K, 3)
                r = np.linalg.norm(vec, axis=2)
                unit = vec / r[..., None]
                pair_r[(t, q)] = r.ravel()
                size = unit.shape[0] * unit.shape[1] * keep[q].size * 8
                if self._cache_bytes + size <= _CACHE_BYTES:
                    y = real_harmonics(order, unit.reshape(-1, 3))[:, keep[q]]
                    pair_y[(t, q)] = y.reshape(len(cs) - start, -1, keep[q].size) * sg[start:, None]
                    self._cache_bytes += size
                else:
                    pair_y[(t, q)] = None
                    pair_v[(t, q)] = (unit, sg[start:], keep[q])
        lev = _Level(rule, keep, pair_r, pair_y, pair_v, tx_r, tx_y)
        self._levels[order] = lev
        return lev

    # ------------------------------------------------------------------ one order, some nodes
    def solve(self, kappa, order):
        """Per-receiver ``w_i(x_T)`` at the nodes ``kappa`` (S, 1) with truncation ``order``."""
        lev = self.level(order)
        K = lev.rule.dirs.shape[0]
        width = max(k.size for k in lev.keep)
        chunk = max(1, _CHUNK_ENTRIES // (K * width))
        parts = [self._solve_chunk(kappa[c : c + chunk], lev) for c in range(0, len(kappa), chunk)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def _field(self, kappa, lev, t, q):
        """Σ over the spheres of rep q of σ × their kept basis at the nodes of rep t: (K, nb_q, S).

        The Laplace nodes are the last axis, so that the expansion of the radial factors over
        the orders ``m`` of each degree is a repeat of contiguous blocks.
        """
        r = lev.pair_r[(t, q)]
        S = kappa.shape[0]
        K = lev.rule.dirs.shape[0]
        L = lev.order
        counts = np.bincount(_index(L)[0][lev.keep[q]], minlength=L + 1)
        rad = _radial(kappa, r, self.radii[self.reps[q]], L)  # (S, M K, L+1)
        rad = rad.transpose(1, 2, 0).reshape(-1, K, L + 1, S)
        y = lev.pair_y[(t, q)]
        out = None
        for g in range(rad.shape[0]):
            if y is not None:
                yg = y[g]
            else:
                unit, sg, kq = lev.pair_v[(t, q)]
                yg = real_harmonics(L, unit[g])[:, kq] * sg[g]
            term = np.repeat(rad[g], counts, axis=1)
            term *= yg[:, :, None]
            if out is None:
                out = term
            else:
                out += term
        return out

    def _solve_chunk(self, kappa, lev):
        S = kappa.shape[0]
        sizes = [k.size for k in lev.keep]
        offs = np.concatenate([[0], np.cumsum(sizes)])
        n_rep = len(self.reps)
        ls_all = _index(lev.order)[0]
        mat = np.zeros((S, offs[-1], offs[-1]), dtype=complex)
        rhs = np.zeros((S, offs[-1], n_rep), dtype=complex)
        for t, rep in enumerate(self.reps):
            rows, h = _robin_rows(kappa, self.radii[rep], self.rates[rep], self.D, lev.order)
            orbit = len(self.members[t][0])
            rhs[:, offs[t], t] = _SQRT_4PI * h / orbit  # index 0 (Y_00) is always kept
            kt = lev.keep[t]
            for q in range(n_rep):
                if (t, q) not in lev.pair_r:
                    continue
                block = lev.rule.project(self._field(kappa, lev, t, q))[:, kt, :]
                if rows is not None:
                    block *= rows[:, ls_all[kt], None]
                mat[:, offs[t] : offs[t + 1], offs[q] : offs[q + 1]] = block
            mat[:, offs[t] : offs[t + 1], offs[t] : offs[t + 1]] += np.eye(sizes[t])
        coef = np.linalg.solve(mat, rhs)  # (S, unknowns, n_rep)
        w = np.zeros((S, n_rep), dtype=complex)
        for q in range(n_rep):
            ls = ls_all[lev.keep[q]]
            rad = _radial(kappa, lev.tx_r[q], self.radii[self.reps[q]], lev.order)
            at_tx = np.einsum("smn,mn->sn", rad[:, :, ls], lev.tx_y[q])
            w += np.einsum("sn,sni->si", at_tx, coef[:, offs[q] : offs[q + 1]])
        return w[:, self.orbit_of]

    # ------------------------------------------------------------------ adaptive order
    def laplace(self, s, node_tol, max_order):
        """Adaptive-order per-receiver ``w_i(x_T, s)``: values (S, n), orders, error estimates."""
        s = np.asarray(s, dtype=complex).ravel()
        kappa = np.sqrt((s + self.kd) / self.D)[:, None]

        def refusal(cap):
            return (
                f"model 'exact': the multipole expansion did not converge with order <= "
                f"max_order={cap} (smallest gap between absorbing surfaces, images included, "
                f"{self.min_gap:.3g} µm: too small for the requested tolerance); the Python "
                "API takes a larger max_order= or tol=, or simulate the channel "
                "(mcvd simulate --method event)"
            )

        return _adaptive_order(
            lambda idx, order: self.solve(kappa[idx], order),
            s.size,
            node_tol,
            max_order,
            refusal,
            start=_ORDER_START,
            growth=_ORDER_GROWTH,
            stall=_STALL,
        )


def _problem(
    tx, centres, radii, D, reaction_rates, degradation_rate, planes, t_max, tol, symmetry=True
):
    """Validate the inputs and build the unfolded problem (slab truncation for ``t_max``;
    ``symmetry=False`` ignores the mirrors through the transmitter, for tests)."""
    centres = np.asarray(centres, dtype=float)
    if centres.ndim == 1:
        centres = centres[None, :]
    if centres.ndim != 2 or centres.shape[1] != 3 or not np.all(np.isfinite(centres)):
        raise ValueError(f"centres must be a finite array of shape (n, 3), got {centres.shape}")
    radii = np.atleast_1d(np.asarray(radii, dtype=float))
    if radii.shape != (centres.shape[0],) or not np.all(np.isfinite(radii)):
        raise ValueError(f"radii must be {centres.shape[0]} finite numbers, got {radii.tolist()}")
    if np.any(radii <= 0):
        raise ValueError(f"radii must be > 0, got {radii.tolist()}")
    tx = np.asarray(tx, dtype=float)
    if tx.shape != (3,) or not np.all(np.isfinite(tx)):
        raise ValueError(f"tx must be 3 finite numbers, got {tx!r}")
    D = _finite_float(D, "D", positive=True)
    kd = _finite_float(degradation_rate, "degradation_rate", nonneg=True)
    rates = _check_rates(reaction_rates, radii.size)
    tol = check_tolerance(tol)
    planes = tuple(planes)
    for p in planes:
        if not isinstance(p, Plane):
            raise TypeError(
                f"planes must be mcvd.core.geometry.Plane objects, got {type(p).__name__}"
            )
        if float(p.signed_distance(tx)) < -1e-12:
            raise ValueError(f"tx {tx.tolist()} is on the wrong side of a plane (behind it)")
        if np.any(p.signed_distance(centres) < radii * (1 - 1e-12)):
            raise ValueError("receivers must lie on the fluid side of every plane, not cut it")
    n_periods = _slab_truncation(planes, D, t_max, float(radii.max()), 0.1 * tol)
    extra = 0.1 * tol if n_periods else 0.0  # the omitted images of a slab
    return _Problem(tx, centres, radii, rates, planes, D, kd, n_periods, symmetry), extra


def nsphere_response(
    tx,
    centres,
    radii,
    D,
    times,
    *,
    planes: Sequence[Plane] = (),
    reaction_rates=None,
    degradation_rate=0.0,
    tol=DEFAULT_TOL,
    window_ratio=1000.0,
    max_order=DEFAULT_MAX_ORDER,
    max_nodes=400,
) -> ExactResponse:
    """Exact response ``F_i(t)``, ``f_i(t)`` of receivers next to up to three orthogonal planes.

    Parameters
    ----------
    tx : array_like, shape (3,)
        Transmitter position (µm), in the fluid.
    centres : array_like, shape (n, 3)
        Real receiver centres (µm); their images in the planes are added internally.
    radii : array_like, shape (n,)
        Receiver radii (µm).
    D : float
        Diffusion coefficient (µm²/s).
    times : array_like, shape (T,)
        Times (s), ``>= 0``; ``inf`` gives the capture ``F(∞)`` (not in a slab).
    planes : sequence of mcvd.core.geometry.Plane, optional
        Reflecting planes: none, one, two or three mutually orthogonal, or two parallel facing
        each other.
    reaction_rates : array_like, shape (n,), optional
        Reaction rate of each receiver (µm/s; default / ``inf``: perfectly absorbing).
    degradation_rate : float, optional
        Degradation rate of the molecules (1/s, default 0).
    tol : float, optional
        Target absolute error on F (default 1e-9), between 1e-15 and 1e-2.
    window_ratio, max_nodes : optional
        Contour windows and their node cap (see :func:`mcvd.core.exact.exact_response`).
    max_order : int, optional
        Cap on the multipole order (default :data:`DEFAULT_MAX_ORDER`).

    Returns
    -------
    mcvd.core.exact.ExactResponse
        ``F_per_sphere`` / ``f_per_sphere`` are per real receiver (each including its images).

    Raises
    ------
    ValueError
        Invalid input; receivers in contact with each other or with a plane; ``inf`` in a slab.
    mcvd.core.exact.ExactConvergenceError
        When ``tol`` cannot be reached within ``max_order`` or the contour caps.

    Examples
    --------
    A receiver in a corner of two walls (x = 0, y = 0), the transmitter on the edge:

    >>> from mcvd.core.geometry import Plane
    >>> walls = [Plane((0, 0, 0), (1, 0, 0)), Plane((0, 0, 0), (0, 1, 0))]
    >>> res = nsphere_response([0, 0, 10], [[10, 10, 0]], [5], 79.4, [0.5, 2.0], planes=walls)
    >>> bool(res.error_estimate <= 1e-9), bool(np.all(np.diff(res.F) > 0))
    (True, True)
    """
    t = as_times(times, allow_inf=True, one_d=True)
    tol = _check_options(tol, window_ratio)
    finite = t[np.isfinite(t)]
    t_max = math.inf if np.any(np.isinf(t)) else (float(finite.max()) if finite.size else 0.0)
    prob, extra = _problem(
        tx, centres, radii, D, reaction_rates, degradation_rate, planes, t_max, tol
    )
    return _respond(
        lambda s, node_tol: prob.laplace(s, node_tol, max_order),
        lambda tt: _union_bounds(prob.tx_dist, prob.all_radii, prob.D, tt),
        prob.n,
        t,
        tol,
        window_ratio,
        max_nodes,
        extra_error=extra,
    )


def nsphere_laplace(
    tx,
    centres,
    radii,
    D,
    s,
    *,
    planes: Sequence[Plane] = (),
    reaction_rates=None,
    degradation_rate=0.0,
    tol=1e-12,
    max_order=DEFAULT_MAX_ORDER,
):
    """Laplace transform ``w_i(x_T, s)`` of the hitting-time density per receiver.

    Parameters
    ----------
    tx, centres, radii, D, planes, reaction_rates, degradation_rate
        As in :func:`nsphere_response` (µm, µm²/s, µm/s, 1/s).
    s : array_like of complex
        Laplace variables (1/s), off the branch cut ``s + k_d <= 0``; ``s = 0`` with
        ``k_d = 0`` is the static problem.
    tol : float, optional
        Absolute tolerance of each value, between 1e-15 and 1e-2 (adaptive order; floored at
        1e-12 relative).
    max_order : int, optional
        Cap on the multipole order.

    Returns
    -------
    numpy.ndarray
        Complex, shape ``s.shape + (n,)``.

    Examples
    --------
    One absorbing sphere: ``w = (a/r) exp(-(r - a) sqrt(s/D))``.

    >>> w = nsphere_laplace([0, 0, 10], [[0, 0, 0]], [5], 79.4, [1.0])
    >>> bool(np.isclose(w[0, 0], 0.5 * np.exp(-5 * np.sqrt(1 / 79.4))))
    True
    """
    s_arr = np.asarray(s, dtype=complex)
    kd = _finite_float(degradation_rate, "degradation_rate", nonneg=True)
    if np.any((s_arr.imag == 0) & (s_arr.real + kd < 0)):
        raise ValueError("s must not lie on the branch cut s + degradation_rate < 0")
    prob, _ = _problem(tx, centres, radii, D, reaction_rates, kd, planes, 1.0, tol)
    vals, _, _ = prob.laplace(s_arr.ravel(), tol, max_order)
    return vals.reshape((*s_arr.shape, prob.n))


def nsphere_capture(
    tx,
    centres,
    radii,
    *,
    planes: Sequence[Plane] = (),
    D=None,
    reaction_rates=None,
    degradation_rate=0.0,
    tol=1e-12,
    max_order=DEFAULT_MAX_ORDER,
):
    """Capture probability ``F_i(∞)`` per receiver from the static problem (``s = 0``).

    Without degradation and with absorbing receivers this is the Laplace equation (solid
    harmonics ``(a/r)^{l+1}``) and ``D`` does not enter; reactive receivers need ``D`` (the
    ratio ``k/D``), degradation gives ``w(x_T, k_d)``.

    Parameters
    ----------
    tx, centres, radii, planes, reaction_rates, degradation_rate
        As in :func:`nsphere_response`.
    D : float, optional
        Diffusion coefficient (µm²/s): required with reactive receivers or degradation (refused
        without it), not used otherwise.
    tol : float, optional
        Absolute tolerance, between 1e-15 and 1e-2 (adaptive order).
    max_order : int, optional
        Cap on the multipole order.

    Returns
    -------
    tuple of (numpy.ndarray, float)
        ``F_i(∞)`` per real receiver (shape (n,)) and the error estimate.

    Examples
    --------
    One absorbing sphere, ``F(∞) = a/r``:

    >>> F, err = nsphere_capture([0, 0, 10], [[0, 0, 0]], [5])
    >>> round(float(F[0]), 12), err <= 1e-12
    (0.5, True)
    """
    if D is None:  # F(inf) of absorbing receivers in a stable fluid does not depend on D
        kd = _finite_float(degradation_rate, "degradation_rate", nonneg=True)
        try:
            reactive = reaction_rates is not None and bool(
                np.any(np.isfinite(np.asarray(reaction_rates, dtype=float)))
            )
        except (TypeError, ValueError):  # not numbers: _problem refuses them in one line
            reactive = False
        D = capture_diffusion(None, reactive or kd > 0)
    prob, _ = _problem(
        tx, centres, radii, D, reaction_rates, degradation_rate, planes, math.inf, tol
    )
    vals, _, errs = prob.laplace(np.zeros(1), tol, max_order)
    return vals[0].real, float(errs[0])


# --------------------------------------------------------------------------------------------
# Geometry-level entry point: the ``exact`` model.
# --------------------------------------------------------------------------------------------


def _single_transmitter(geometry):
    geometry.require_analytic()
    if len(geometry.transmitters) != 1:
        raise ValueError(
            f"geometry: the exact solution needs exactly one transmitter, got "
            f"{len(geometry.transmitters)}"
        )


def _two_sphere_case(geometry):
    """The absorbing spheres (with images) when the axisymmetric two-sphere solver applies."""
    if len(geometry.planes) > 1:  # a corner or a slab
        return None
    ab = absorbers(geometry)
    return ab if len(ab.spheres) <= 2 else None


def exact_channel(geometry, times, *, tol=DEFAULT_TOL, **options):
    """Exact response of a :class:`~mcvd.core.geometry.Geometry` (any receivers, planes by images).

    One receiver (in free space or next to one plane) and two receivers in free space are
    solved by the axisymmetric two-sphere solver (:func:`mcvd.core.exact.exact_response`: a
    Legendre series, fast and good down to nanometre gaps); every other geometry — corners of
    two or three orthogonal planes, several receivers next to planes, three or more receivers,
    a slab of two parallel planes (finite times) — by the N-sphere solver
    (:func:`nsphere_response`). Reactive receivers (``Sphere.reaction_rate``) and degrading
    molecules (``Geometry.degradation_rate``) are handled by both.

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        Channel with exactly one transmitter (released at ``t = 0``); no obstacles.
    times : array_like
        Times (s), ``>= 0``; ``inf`` gives the capture (not in a slab).
    tol : float, optional
        Target absolute error on F (default 1e-9).
    **options
        ``window_ratio``, ``max_order``, ``max_nodes`` of the solver used.

    Returns
    -------
    tuple of (numpy.ndarray, mcvd.core.exact.ExactResponse, str)
        ``F`` per real receiver (shape (n_receivers, n_times), each including its images), the
        solver's result (per sphere for the two-sphere solver, per receiver for the N-sphere
        solver; hitting rates, error estimate) and the solver's name (``"two-sphere"`` or
        ``"n-sphere"``).

    Raises
    ------
    ValueError
        Obstacles, several transmitters, receivers touching each other or a plane, ``inf`` in a
        slab.
    mcvd.core.exact.ExactConvergenceError
        When ``tol`` cannot be reached (gaps too small for the multipole order cap).

    Examples
    --------
    A receiver in a corner of two walls:

    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 10, 0), 5)],
    ...                     [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))])
    >>> F, res, solver = exact_channel(g, [2.0, np.inf])
    >>> F.shape, solver, bool(res.error_estimate <= 1e-9)
    ((1, 2), 'n-sphere', True)
    """
    _single_transmitter(geometry)
    tx = geometry.transmitter.position
    kd = geometry.degradation_rate
    ab = _two_sphere_case(geometry)
    if ab is not None:
        if len(ab.spheres) == 2:
            c0, c1 = (np.asarray(sph.center, float) for sph in ab.spheres)
            if np.linalg.norm(c1 - c0) <= ab.spheres[0].radius + ab.spheres[1].radius:
                what = "the receiver touches the plane" if geometry.planes else "receivers touch"
                raise ValueError(
                    f"receivers: model 'exact' needs a gap between absorbing surfaces ({what}); "
                    "the multipole expansion does not converge at contact"
                )
        res = exact_response(
            tx,
            [s.center for s in ab.spheres],
            [s.radius for s in ab.spheres],
            geometry.D,
            times,
            tol=tol,
            reaction_rates=[s.reaction_rate for s in ab.spheres],
            degradation_rate=kd,
            **options,
        )
        per = np.zeros((geometry.n_receivers, res.times.size))
        np.add.at(per, ab.receiver, res.F_per_sphere)
        return per, res, "two-sphere"
    res = nsphere_response(
        tx,
        [s.center for s in geometry.receivers],
        [s.radius for s in geometry.receivers],
        geometry.D,
        times,
        planes=geometry.planes,
        reaction_rates=[s.reaction_rate for s in geometry.receivers],
        degradation_rate=kd,
        tol=tol,
        **options,
    )
    return res.F_per_sphere.copy(), res, "n-sphere"


@dataclass(frozen=True)
class _ModelOutput:
    """What the registry adapter hands to :func:`mcvd.core.models.response`."""

    F_per_receiver: np.ndarray
    info: dict


def exact_model(geometry, times, *, tol=DEFAULT_TOL, **options):
    """The ``exact`` channel model: ``F`` per real receiver plus the error estimate.

    The function registered as ``model="exact"`` in :func:`mcvd.core.models.response`.

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        Channel with exactly one transmitter (released at ``t = 0``).
    times : array_like
        Times (s), ``>= 0``; ``inf`` gives the capture.
    tol : float, optional
        Target absolute error on F.
    **options
        Passed to :func:`exact_channel`.

    Returns
    -------
    object
        ``F_per_receiver`` (shape (n_receivers, n_times)) and ``info`` (``tol``,
        ``error_estimate``, ``n_laplace_solves``, ``max_order``, ``solver``).

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> out = exact_model(g, [2.0])
    >>> out.F_per_receiver.shape, bool(out.info["error_estimate"] <= 1e-9)
    ((1, 1), True)
    """
    F, res, solver = exact_channel(geometry, times, tol=tol, **options)
    info = {
        "tol": res.tol,
        "error_estimate": res.error_estimate,
        "n_laplace_solves": res.n_laplace_solves,
        "max_order": res.max_order,
        "solver": solver,
    }
    return _ModelOutput(F, info)
