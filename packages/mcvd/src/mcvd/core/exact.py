"""Exact channel response of one or two spheres (a receiver next to a reflecting plane).

The half-space problem — one absorbing sphere next to an infinite reflecting plane — is, by the
method of images, the free-space problem of two equal absorbing spheres (the receiver and its
mirror image): reflected Brownian motion is free Brownian motion folded by the mirror, so the
molecule is absorbed by the real receiver in the half space exactly when the free motion hits the
receiver *or* its image. This module solves the two-sphere first-passage problem exactly (to a
stated tolerance) in the Laplace domain and inverts it numerically.

Mathematics
-----------
Let ``tau`` be the first time free Brownian motion (diffusion coefficient ``D``) started at ``x``
hits the union of the spheres, and ``w(x, s) = E[exp(-s tau)]`` (``Re s > 0``). Conditioning on the
first short time step (Feynman–Kac / Dynkin) gives the modified Helmholtz problem

    D ∇²w = s w  outside the spheres,   w = 1 on the spheres,   w → 0 at infinity.

Splitting by which sphere is hit first, ``w_i(x, s) = E[exp(-s tau); first hit is sphere i]``
solves the same equation with boundary data 1 on sphere ``i`` and 0 on the other one, and
``w = Σ_i w_i``. Since ``F_i(t) = P(tau <= t, first hit i)``, its Laplace transform is
``w_i(x_T, s) / s`` and the hitting rate ``f_i = dF_i/dt`` has transform ``w_i(x_T, s)``
(``F_i(0) = 0``). The static problem ``s = 0`` (Laplace equation) gives the capture probability
``F_i(∞) = w_i(x_T, 0)``.

Two spheres are axisymmetric about the line through their centres, wherever the transmitter is.
With spherical coordinates ``(r_j, θ_j)`` centred on sphere ``j`` (polar axis along the line of
centres, the same direction for both spheres) the separable decaying solutions of
``∇²w = κ² w`` (``κ = sqrt(s/D)``, principal branch, ``Re κ >= 0``) are
``k_l(κ r_j) P_l(cos θ_j)`` with ``k_l`` the modified spherical Bessel functions of the second
kind, so

    w = Σ_j Σ_{l=0}^{L} c_{jl} q_l^{(j)}(r_j) P_l(cos θ_j),   q_l^{(j)}(r) = k_l(κ r) / k_l(κ a_j).

Raw ``k_l`` overflow (``k_l(z) ~ (2l-1)!!/z^{l+1}``); the ratios are built instead from
``ρ_l(z) = k_l(z)/k_{l-1}(z)``, which obey the (forward-stable, ``k_l`` being the dominant
solution) recurrence ``ρ_0 = 1``, ``ρ_l = 1/ρ_{l-1} + (2l-1)/z`` (from
``k_{l} = k_{l-2} + (2l-1)/z k_{l-1}`` and ``k_{-1} = k_0``), and

    q_l(r) = (a/r) exp(-κ (r - a)) Π_{m=1}^{l} ρ_m(κ r) / ρ_m(κ a),

a product of factors of modulus about ``a/r <= 1`` (no overflow). At ``s = 0``,
``q_l(r) = (a/r)^{l+1}`` (solid harmonics), the static limit of the same formula.

The coefficients are fixed by a Galerkin projection of the boundary condition on each sphere onto
``P_m(cos θ_i)``, ``m = 0..L``, computed with Gauss–Legendre quadrature in ``cos θ_i``
(``2(L+1)`` nodes). Sphere ``i``'s own expansion is diagonal (``q_l^{(i)}(a_i) = 1``, Legendre
orthogonality), so the system reads ``c_i + Σ_{j≠i} A_{ij} c_j = g_i e_0`` with
``A_{ij}[m, l] = (2m+1)/2 Σ_k ω_k P_m(μ_k) q_l^{(j)}(r_j(p_k)) P_l(cos θ_j(p_k))``. Unequal radii
and the per-sphere split (two right-hand sides, ``g = (1, 0)`` and ``(0, 1)``) are handled by the
same solver; all Laplace nodes are solved in one batched ``numpy.linalg.solve``. Equal radii (the
half-space case) use the mirror symmetry through the mid-plane: symmetric and antisymmetric data
give ``c_1 = ±(-1)^l c_0`` and two systems of size ``L+1`` instead of one of ``2(L+1)``. The truncation
order ``L`` is chosen adaptively per Laplace node: ``L`` grows geometrically (factor 1.5) until the
value at the transmitter changes by less than that node's share of the error budget; the
coefficients decay geometrically (in the static case like ``e^{-β l}`` with
``cosh β = d / (2a)`` for equal spheres at centre distance ``d``), so near-contact needs many
orders: the solver refuses with :class:`ExactConvergenceError` once ``L`` would pass
``max_order``.

Inversion: the Bromwich integral is deformed onto the hyperbola
``s(θ) = μ (1 + i sinh(θ + iφ))`` wrapping the branch cut of ``w`` on the negative real axis
(``w`` is analytic in ``C \\ (-∞, 0]``: the exterior Laplacian has spectrum ``(-∞, 0]``) and
discretised by the trapezoidal (midpoint) rule with ``N`` nodes in the upper half plane (the lower
half is the complex conjugate because ``F`` is real). Following Weideman & Trefethen (Math. Comp.
76, 2007) one contour, with ``φ = 1.09``, ``A = arccosh(((π-2φ)Λ + 4φ-π)/((4φ-π) sin φ))``,
``μ = (4πφ - π²) N / (A t_1)`` and step ``h = A/N``, serves a whole window ``t ∈ [t_0, t_1]``,
``Λ = t_1/t_0``, with an error decaying geometrically in ``N``. Requested times are grouped into
windows of ratio at most ``window_ratio``; each window reuses one set of Laplace nodes for all its
times (and for both ``F`` and ``f``). ``N = ceil(A ln(10/tol) / 2.9) + 4`` to start (the measured
rate of the rule is about ``exp(-2.9 N / A)``, 80 % of the a-priori ``exp(-(4πφ-π²) N / A)``).
The achieved accuracy is estimated a posteriori by repeating the inversion on a coarser contour
(four nodes fewer) and taking the largest difference, which estimates the error of the coarse rule
and hence (geometric convergence) conservatively that of the returned fine one, plus the
multipole truncation estimates of the nodes weighted by ``|weight · exp(s t)/s|`` (worst case over
the window); ``N`` grows by 30 % until that total is below the target ``tol``, else
:class:`ExactConvergenceError` is raised (also when the estimate stops decreasing: ``tol`` below
the roundoff level, about 1e-11 in F).

Convergence near contact: the total ``w`` at a transmitter away from the contact region converges
fast even for gaps of nanometres (the charges that the expansion resolves slowly sit in the gap as
opposite pairs, whose field cancels away from it), while the per-sphere split at a transmitter near
the gap, or the capacitance matrix entries, need orders of the order of ``1/β``; both cases are
detected by the adaptive order and refused beyond ``max_order``.

Times so early that the union bound ``F(t) <= Σ_i (a_i/r_i) erfc((r_i - a_i)/sqrt(4Dt))``
(each sphere alone, the free-space formula of Yilmaz et al. 2014) is below ``tol/100`` are
returned as exactly 0 (absolute error below that bound), and ``t = 0`` gives 0; ``t = inf``
gives the static capture.

Reactive spheres and degradation: a sphere with reaction rate ``k`` (µm/s) has the Robin
condition ``D ∂w/∂n = k (w - g)``; its Galerkin rows are scaled as in :func:`_robin_rows` (the
field of the other sphere is regular around it, so its radial derivative follows from its value).
Molecules that degrade at rate ``k_d`` (1/s) evaluate the transform at ``s + k_d``; ``F(∞)`` is
then ``w(x_T, k_d)``. The adaptive order (:func:`_adaptive_order`) and the contour driver
(:func:`_respond`) are shared with the N-sphere solver of :mod:`mcvd.core.nsphere`, which also
holds the geometry-level entry point (``exact_channel``, the ``exact`` model).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import legendre as _leg
from scipy.special import erfc

from .geometry import _finite_float, as_times, check_tolerance

__all__ = [
    "ExactConvergenceError",
    "ExactResponse",
    "HyperbolicContour",
    "exact_capacitance",
    "exact_capture",
    "exact_response",
    "hyperbolic_contour",
    "invert_on_contour",
    "laplace_hitting",
    "two_sphere_frame",
]

#: Default target absolute error on F.
DEFAULT_TOL = 1e-9
#: Default cap on the multipole order L per sphere.
DEFAULT_MAX_ORDER = 400
_ORDER_START = 6
_ORDER_GROWTH = 1.5
_ROUNDOFF = 1e-12
_STALL = 1e-9  # a change that stops decreasing below this (relative) is roundoff-limited
_CHUNK_ENTRIES = 4_000_000  # complex matrix entries per batched solve (about 64 MB)
_PHI = 1.09  # hyperbola angle parameter of Weideman & Trefethen's contour


class ExactConvergenceError(RuntimeError):
    """The multipole expansion or the Laplace inversion did not reach the requested tolerance."""


# --------------------------------------------------------------------------------------------
# Geometry: the axisymmetric frame of one or two spheres.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Axial coordinates: sphere j has its centre at z = z[j] on the axis; the TX at (rho, z)."""

    z: np.ndarray  # (n,) axial positions of the centres
    a: np.ndarray  # (n,) radii
    tx_rho: float
    tx_z: float
    k: np.ndarray | None = None  # (n,) reaction rates (µm/s, inf = absorbing); None: all absorbing


def _as_float_array(x, name, shape=None):
    arr = np.asarray(x, dtype=float)
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr!r}")
    return arr


def two_sphere_frame(tx, centres, radii):
    """Validate one or two spheres and a transmitter and express them in axial coordinates.

    Parameters
    ----------
    tx : array_like, shape (3,)
        Transmitter position (µm), outside every sphere.
    centres : array_like, shape (n, 3), n in {1, 2}
        Sphere centres (µm).
    radii : array_like, shape (n,)
        Sphere radii (µm), positive; the spheres must not overlap or touch.

    Returns
    -------
    tuple of numpy.ndarray and float
        ``(z, a, rho_T, z_T)``: axial positions of the centres (sphere 0 at ``z = 0``, sphere 1 on
        the positive axis), radii, and the transmitter's distance from and position along the
        axis (µm). For one sphere the axis points at the transmitter.

    Raises
    ------
    ValueError
        For non-finite values, non-positive radii, overlapping/touching spheres, more than two
        spheres, or a transmitter inside or on a sphere.

    Examples
    --------
    >>> z, a, rho, zt = two_sphere_frame([0, 0, 10], [[10, 0, 0], [-10, 0, 0]], [5, 5])
    >>> z.tolist(), float(rho), float(zt)
    ([0.0, 20.0], 10.0, 10.0)
    """
    fr = _frame(tx, centres, radii)
    return fr.z, fr.a, fr.tx_rho, fr.tx_z


def _frame(tx, centres, radii) -> _Frame:
    tx = _as_float_array(tx, "tx", (3,))
    centres = _as_float_array(centres, "centres")
    if centres.ndim == 1:
        centres = centres[None, :]
    radii = np.atleast_1d(_as_float_array(radii, "radii"))
    n = centres.shape[0]
    if centres.shape != (n, 3) or n not in (1, 2):
        raise ValueError(
            f"centres must have shape (1, 3) or (2, 3) (one or two spheres), got {centres.shape}"
        )
    if radii.shape != (n,):
        raise ValueError(f"radii must have shape ({n},) to match centres, got {radii.shape}")
    if np.any(radii <= 0):
        raise ValueError(f"radii must be > 0, got {radii.tolist()}")
    dist_tx = np.linalg.norm(tx - centres, axis=1)
    if np.any(dist_tx <= radii):
        raise ValueError(
            f"tx must lie outside every sphere: distances {dist_tx.tolist()} <= radii "
            f"{radii.tolist()}"
        )
    if n == 1:
        return _Frame(z=np.zeros(1), a=radii, tx_rho=0.0, tx_z=float(dist_tx[0]))
    axis = centres[1] - centres[0]
    d = float(np.linalg.norm(axis))
    if d <= radii.sum():
        raise ValueError(
            f"spheres must not overlap or touch: centre distance {d} <= sum of radii "
            f"{float(radii.sum())}"
        )
    axis /= d
    rel = tx - centres[0]
    z_t = float(rel @ axis)
    rho_t = float(np.linalg.norm(rel - z_t * axis))
    return _Frame(z=np.array([0.0, d]), a=radii, tx_rho=rho_t, tx_z=z_t)


# --------------------------------------------------------------------------------------------
# Radial functions and the batched Galerkin solve.
# --------------------------------------------------------------------------------------------


def _radial(kappa, r, a, order):
    """q_l(r) = k_l(kappa r)/k_l(kappa a), l = 0..order, shape kappa.shape[:-1]+r.shape+(order+1,).

    ``kappa`` has shape (S, 1) (complex, Re >= 0, or exactly 0 for the static problem), ``r`` a
    1-D array of distances >= a.
    """
    ratio = a / r  # (P,)
    out = np.empty((*np.broadcast_shapes(kappa.shape, r.shape), order + 1), dtype=complex)
    static = kappa[:, 0] == 0
    if np.any(static):
        out[static] = ratio[None, :, None] ** np.arange(1, order + 2)
    dyn = ~static
    if np.any(dyn):
        k = kappa[dyn]
        zr = k * r
        za = k * a
        q = ratio * np.exp(-(zr - za))
        out[dyn, :, 0] = q
        rho_r = np.ones_like(zr)
        rho_a = np.ones_like(za)
        for ell in range(1, order + 1):
            rho_r = 1.0 / rho_r + (2 * ell - 1) / zr
            rho_a = 1.0 / rho_a + (2 * ell - 1) / za
            q = q * (rho_r / rho_a)
            out[dyn, :, ell] = q
    return out


def _basis_at(kappa, fr: _Frame, j, rho, z, order):
    """Sphere j's basis functions q_l(r_j) P_l(cos θ_j) at points (rho, z): shape (S, P, L+1)."""
    dz = z - fr.z[j]
    r = np.hypot(rho, dz)
    cos_t = dz / r
    return _radial(kappa, r, fr.a[j], order) * _leg.legvander(cos_t, order)[None]


@functools.lru_cache(maxsize=64)
def _galerkin_rule(order):
    """Gauss–Legendre nodes (2(L+1)) and the projector onto P_0..P_L, shape (L+1, K)."""
    nb = order + 1
    mu, wq = _leg.leggauss(2 * nb)
    proj = (np.arange(nb)[:, None] + 0.5) * wq[None, :] * _leg.legvander(mu, order).T
    mu.setflags(write=False)
    proj.setflags(write=False)
    return mu, proj


def _cross_block(kappa, fr: _Frame, i, j, order):
    """Galerkin block A_ij (S, L+1, L+1): sphere j's basis projected on sphere i's P_m."""
    mu, proj = _galerkin_rule(order)
    rho = fr.a[i] * np.sqrt(1.0 - mu**2)
    z = fr.z[i] + fr.a[i] * mu
    cross = _basis_at(kappa, fr, j, rho, z, order)  # (S, K, L+1)
    # real projector times complex basis as one real matmul on the float view (numpy's mixed
    # real @ complex broadcast matmul is far slower)
    return (proj @ np.ascontiguousarray(cross).view(np.float64)).view(complex)


def _mirror_coefficients(kappa, fr: _Frame, order, robin=(None, 1.0)):
    """Coefficients (S, 2, L+1, 2) of two equal spheres from their mirror symmetry.

    The mirror through the mid-plane maps sphere 0's ``(r, cos θ)`` to sphere 1's
    ``(r, -cos θ)`` and ``P_l(-μ) = (-1)^l P_l(μ)``: for data symmetric (1, 1) / antisymmetric
    (1, -1) the coefficients satisfy ``c_1 = ±(-1)^l c_0`` and sphere 0's equation becomes
    ``(I ± F A_01 diag((-1)^l)) c_0 = h e_0`` (``F = diag(rows)``, ``h``: the Robin scaling of
    :func:`_robin_rows`, shared by the two spheres; sphere 1's equation is then its mirror
    image). The per-sphere data ``e_0``, ``e_1`` are half the sum / difference: two systems of
    size L+1 instead of one of size 2(L+1).
    """
    nb = order + 1
    rows, h = robin
    parity = (-1.0) ** np.arange(nb)
    coupled = _cross_block(kappa, fr, 0, 1, order) * parity
    if rows is not None:
        coupled = coupled * rows[:, :, None]
    eye = np.eye(nb)
    e0 = np.zeros((kappa.shape[0], nb, 1), dtype=complex)
    e0[:, 0, 0] = h
    plus = np.linalg.solve(eye + coupled, e0)[..., 0]
    minus = np.linalg.solve(eye - coupled, e0)[..., 0]
    coef = np.empty((kappa.shape[0], 2, nb, 2), dtype=complex)
    coef[:, 0, :, 0] = coef[:, 1, :, 1] = 0.5 * (plus + minus)
    coef[:, 0, :, 1] = coef[:, 1, :, 0] = 0.5 * (plus - minus)
    coef[:, 1] *= parity[None, :, None]
    return coef


def _log_derivatives(kappa, a, order):
    """``d_l = κ k_l'(κa)/k_l(κa)`` and ``e_l = κ i_l'(κa)/i_l(κa)``, l = 0..order (1/µm).

    ``kappa`` has shape (S, 1) (complex, ``Re >= 0``, or exactly 0); returns two (S, L+1) arrays.
    With ``ρ_l = k_l/k_{l-1}`` (forward recurrence, see :func:`_radial`) and
    ``r_l = i_l/i_{l-1}`` (the minimal solution: backward recurrence
    ``r_l = 1/((2l+1)/z + r_{l+1})`` from ``l = L + 40 + |z|``, or forward from
    ``r_0 = tanh z`` where ``|z| > 4(L+1) + 40``, both stable there), the recurrences
    ``k_l' = -k_{l-1} - (l+1)/z k_l`` and ``i_l' = i_{l-1} - (l+1)/z i_l`` give
    ``d_l = l/a - κ ρ_{l+1}`` and ``e_l = l/a + κ r_{l+1}``; at ``κ = 0`` (solid harmonics)
    ``d_l = -(l+1)/a`` and ``e_l = l/a``.
    """
    ell = np.arange(order + 1)
    S = kappa.shape[0]
    d = np.empty((S, order + 1), dtype=complex)
    e = np.empty((S, order + 1), dtype=complex)
    static = kappa[:, 0] == 0
    d[static] = -(ell + 1) / a
    e[static] = ell / a
    dyn = np.flatnonzero(~static)
    if dyn.size == 0:
        return d, e
    k = kappa[dyn, 0]
    z = k * a
    rho = np.ones_like(z)  # rho_0
    for ell_ in range(order + 1):
        rho = 1.0 / rho + (2 * ell_ + 1) / z  # rho_{l+1}
        d[dyn, ell_] = ell_ / a - k * rho
    ratio = np.empty((dyn.size, order + 2), dtype=complex)  # r_1 .. r_{L+1}
    big = np.abs(z) > 4 * (order + 1) + 40
    if np.any(big):
        zb = z[big]
        r = np.tanh(zb)  # r_0 = i_0 / i_{-1}
        out = np.empty((zb.size, order + 2), dtype=complex)
        for ell_ in range(order + 1):
            r = 1.0 / r - (2 * ell_ + 1) / zb  # r_{l+1}
            out[:, ell_] = r
        ratio[big, : order + 1] = out[:, : order + 1]
    small = ~big
    if np.any(small):
        zs = z[small]
        top = order + 41 + int(np.max(np.abs(zs)))
        nu = top + 0.5
        r = zs / (nu + np.sqrt(nu * nu + zs * zs))  # starting guess for r_top (damped out)
        out = np.empty((zs.size, order + 2), dtype=complex)
        for ell_ in range(top - 1, 0, -1):
            r = 1.0 / ((2 * ell_ + 1) / zs + r)  # r_l
            if ell_ <= order + 1:
                out[:, ell_ - 1] = r
        ratio[small] = out
    e[dyn] = ell / a + k[:, None] * ratio[:, : order + 1]
    return d, e


def _robin_rows(kappa, a, rate, D, order):
    """Row scaling and right-hand side factor of a sphere's Galerkin equations.

    A sphere of radius ``a`` with reaction rate ``rate`` (µm/s) has the Robin condition
    ``D ∂w/∂r = rate (w - g)`` (``g`` its boundary data, the normal pointing into the fluid).
    Its own expansion has degree-l components ``c_l q_l`` with ``q_l(a) = 1``,
    ``q_l'(a) = d_l``; the field of the other spheres is regular in a ball around the centre,
    so its degree-l component at radius ``ρ`` is proportional to ``i_l(κ ρ)`` and its radial
    derivative at ``a`` is ``e_l`` times its value (``e_l``, ``d_l``: :func:`_log_derivatives`).
    The projected condition is therefore ``c_l + f_l (projected field of the others) =
    h g δ_{l0}`` with ``f_l = (rate - D e_l)/(rate - D d_l)`` and ``h = rate/(rate - D d_0)``
    (both 1 for an absorbing sphere, ``rate = inf``).

    Returns
    -------
    rows : numpy.ndarray or None
        Shape (S, L+1); ``None`` for an absorbing sphere (no scaling).
    rhs : numpy.ndarray or float
        Shape (S,); 1.0 for an absorbing sphere.
    """
    if not math.isfinite(rate):
        return None, 1.0
    d, e = _log_derivatives(kappa, a, order)
    return (rate - D * e) / (rate - D * d), rate / (rate - D * d[:, 0])


def _solve_order(kappa, fr: _Frame, order, monopoles=False, D=1.0):
    """Per-sphere values w_i(x_T, s) (shape (S, n)) with truncation order ``order``.

    With ``monopoles=True`` return instead the monopole moments ``a_j c_{j0}`` for each boundary
    data ``e_i`` (shape (S, n*n), index ``j*n + i``): the capacitance matrix when ``s = 0``
    (absorbing spheres). Reactive spheres (``fr.k`` finite) scale their rows and right-hand
    side by :func:`_robin_rows` (``D`` in µm²/s).
    """
    n = fr.a.size
    nb = order + 1
    tx_rho = np.array([fr.tx_rho])
    tx_z = np.array([fr.tx_z])
    rates = np.full(n, np.inf) if fr.k is None or monopoles else fr.k
    robin = [_robin_rows(kappa, fr.a[i], rates[i], D, order) for i in range(n)]
    # Basis at the transmitter: (S, n, L+1).
    at_tx = np.stack([_basis_at(kappa, fr, j, tx_rho, tx_z, order)[:, 0] for j in range(n)], 1)
    if n == 1:  # c = h e_0: w = h q_0(r_T)
        if monopoles:
            return np.broadcast_to(fr.a, (kappa.shape[0], 1))
        return at_tx[:, :, 0] * np.reshape(robin[0][1], (-1, 1))
    S = kappa.shape[0]
    if fr.a[0] == fr.a[1] and rates[0] == rates[1]:
        coef = _mirror_coefficients(kappa, fr, order, robin[0])
    else:
        mat = np.zeros((S, n * nb, n * nb), dtype=complex)
        rhs = np.zeros((S, n * nb, n), dtype=complex)
        for i in range(n):
            rows, h = robin[i]
            mat[:, i * nb : (i + 1) * nb, i * nb : (i + 1) * nb] = np.eye(nb)
            rhs[:, i * nb, i] = h
            for j in range(n):
                if j != i:
                    block = _cross_block(kappa, fr, i, j, order)
                    if rows is not None:
                        block = block * rows[:, :, None]
                    mat[:, i * nb : (i + 1) * nb, j * nb : (j + 1) * nb] = block
        coef = np.linalg.solve(mat, rhs)  # (S, n nb, n)
        coef = coef.reshape(S, n, nb, n)
    if monopoles:
        return (fr.a[None, :, None] * coef[:, :, 0, :]).reshape(S, n * n)
    return np.einsum("sjl,sjli->si", at_tx, coef)


def _solve_chunked(kappa, fr: _Frame, order, monopoles=False, D=1.0):
    """:func:`_solve_order` over chunks of Laplace nodes (bounded memory at high order)."""
    chunk = max(1, int(_CHUNK_ENTRIES // (fr.a.size * (order + 1)) ** 2))
    parts = [
        _solve_order(kappa[i : i + chunk], fr, order, monopoles, D)
        for i in range(0, kappa.shape[0], chunk)
    ]
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _adaptive_order(solve, n_nodes, node_tol, max_order, refusal, *, start, growth, stall=_STALL):
    """Raise the truncation order per Laplace node until its values settle.

    ``solve(idx, order)`` returns the values (shape ``(len(idx), m)``) of the nodes ``idx`` at
    truncation order ``order``. A node is accepted once its values change by at most
    ``node_tol`` between two consecutive orders; the accepted values are those of the finer
    order and their error estimate is that change (an estimate of the coarser order's error,
    hence conservative while the error falls by at least half between the two orders). When the
    change stops decreasing at the roundoff level (below ``stall`` relative, default 1e-9:
    typically a transmitter within nanometres of a sphere, where high orders do not decay at
    the transmitter), the previous order is accepted with its own change as the estimate;
    callers add these estimates to their error budgets. Once an order would pass ``max_order``,
    :class:`ExactConvergenceError` is raised with the message ``refusal(max_order)``.

    Orders: ``start``, then ``ceil(growth * order)`` (at least one more each time).

    Returns
    -------
    values : numpy.ndarray, shape (n_nodes, m)
    orders : numpy.ndarray of int, shape (n_nodes,)
    errors : numpy.ndarray, shape (n_nodes,)
        Estimated absolute error of each node's values.
    """
    node_tol = np.broadcast_to(np.asarray(node_tol, dtype=float), (n_nodes,))
    order = start
    prev = solve(np.arange(n_nodes), order)
    values = np.empty(prev.shape, dtype=complex)
    orders = np.full(n_nodes, -1, dtype=int)
    errors = np.zeros(n_nodes)
    active = np.arange(n_nodes)
    last_change = np.full(n_nodes, np.inf)
    while active.size:
        new_order = max(math.ceil(order * growth), order + 1)
        if new_order > max_order:
            raise ExactConvergenceError(refusal(max_order))
        cur = solve(active, new_order)
        change = np.max(np.abs(cur - prev), axis=1)
        scale = np.maximum(1.0, np.max(np.abs(cur), axis=1))
        # Roundoff floor of the Galerkin solve: about 1e-12 relative (measured near contact).
        done = change <= np.maximum(node_tol[active], _ROUNDOFF * scale)
        stalled = ~done & (change >= 0.5 * last_change) & (last_change <= stall * scale)
        values[active[done]] = cur[done]
        orders[active[done]] = new_order
        errors[active[done]] = change[done]
        values[active[stalled]] = prev[stalled]
        orders[active[stalled]] = order
        errors[active[stalled]] = last_change[stalled]
        keep = ~(done | stalled)
        active = active[keep]
        prev = cur[keep]
        last_change = change[keep]
        order = new_order
    return values, orders, errors


def _laplace_values(s, fr: _Frame, D, node_tol, max_order, monopoles=False, kd=0.0):
    """Adaptive-order per-sphere ``w_i(x_T, s + kd)`` of one or two spheres.

    ``kd`` (1/s) is the degradation rate (the transform is evaluated at ``s + kd``); see
    :func:`_adaptive_order` for the order control. With ``monopoles=True`` the monopole moments
    are returned instead (see :func:`_solve_order`).

    Returns
    -------
    values : numpy.ndarray, shape (S, n) (or (S, n*n))
    orders : numpy.ndarray of int, shape (S,)
    errors : numpy.ndarray, shape (S,)
        Estimated absolute error of each node's values.
    """
    s = np.asarray(s, dtype=complex).ravel()
    kappa = np.sqrt((s + kd) / D)[:, None]
    n = fr.a.size
    if n == 1:
        zeros = np.zeros(s.size)
        return _solve_order(kappa, fr, 0, monopoles, D), zeros.astype(int), zeros

    def refusal(cap):
        return (
            f"multipole expansion did not converge with order <= max_order={cap} "
            f"(spheres at centre distance {fr.z[-1]:g} µm, radii {fr.a.tolist()}: gap "
            f"{fr.z[-1] - fr.a.sum():g} µm is too small for the requested tolerance); the "
            "Python API takes a larger max_order= or tol=, or simulate the channel "
            "(mcvd simulate --method event)"
        )

    return _adaptive_order(
        lambda idx, order: _solve_chunked(kappa[idx], fr, order, monopoles, D),
        s.size,
        node_tol,
        max_order,
        refusal,
        start=_ORDER_START,
        growth=_ORDER_GROWTH,
    )


def laplace_hitting(tx, centres, radii, D, s, *, tol=1e-12, max_order=DEFAULT_MAX_ORDER):
    """Laplace transform of the hitting-time density per sphere, ``w_i(x_T, s)``.

    ``w_i(x_T, s) = E[exp(-s τ); first hit is sphere i]`` for free Brownian motion started at the
    transmitter; see the module Notes for the multipole solution.

    Parameters
    ----------
    tx : array_like, shape (3,)
        Transmitter position (µm).
    centres : array_like, shape (n, 3), n in {1, 2}
        Absorbing sphere centres (µm).
    radii : array_like, shape (n,)
        Sphere radii (µm).
    D : float
        Diffusion coefficient (µm²/s), > 0.
    s : array_like of complex
        Laplace variables (1/s), off the negative real axis; ``s = 0`` gives the capture.
    tol : float, optional
        Absolute tolerance on each value (adaptive multipole order), floored at the solver's
        roundoff, 1e-12 relative.
    max_order : int, optional
        Largest multipole order; :class:`ExactConvergenceError` beyond it.

    Returns
    -------
    numpy.ndarray
        Complex array of shape ``s.shape + (n,)``.

    Examples
    --------
    One sphere: ``w = (a/r) exp(-(r - a) sqrt(s/D))``.

    >>> w = laplace_hitting([0, 0, 10], [[0, 0, 0]], [5], 79.4, [1.0])
    >>> bool(np.isclose(w[0, 0], 0.5 * np.exp(-5 * np.sqrt(1 / 79.4))))
    True
    """
    fr = _frame(tx, centres, radii)
    D = _finite_float(D, "D", positive=True)
    s_arr = np.asarray(s, dtype=complex)
    if np.any((s_arr.imag == 0) & (s_arr.real < 0)):
        raise ValueError("s must not lie on the negative real axis (branch cut of w)")
    vals, _, _ = _laplace_values(s_arr.ravel(), fr, D, tol, max_order)
    return vals.reshape((*s_arr.shape, fr.a.size))


def exact_capture(tx, centres, radii, *, tol=1e-12, max_order=DEFAULT_MAX_ORDER):
    """Exact long-time capture probability per sphere, ``F_i(∞) = w_i(x_T, 0)``.

    Solves the static (Laplace-equation) two-sphere problem with the solid-harmonic multipole
    expansion ``q_l(r) = (a/r)^{l+1}``.

    Parameters
    ----------
    tx, centres, radii
        As in :func:`laplace_hitting` (µm).
    tol : float, optional
        Absolute tolerance (adaptive multipole order).
    max_order : int, optional
        Largest multipole order.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``: probability that the molecule is eventually absorbed, and first by sphere
        ``i``. The total is the sum.

    Examples
    --------
    >>> exact_capture([0, 0, 10], [[0, 0, 0]], [5]).round(12).tolist()
    [0.5]
    """
    fr = _frame(tx, centres, radii)
    vals, _, _ = _laplace_values(np.zeros(1), fr, 1.0, tol, max_order)
    return vals[0].real


def exact_capacitance(centres, radii, *, tol=1e-12, max_order=DEFAULT_MAX_ORDER):
    """Capacitance matrix (µm) of one or two spheres (Gaussian units, ``4πε = 1``).

    ``C[i, j]`` is the charge on sphere ``i`` when sphere ``j`` is held at unit potential and the
    other is grounded; it is the monopole moment ``a_i c_{i0}`` of the static solution with
    boundary data ``e_j``. The total capacitance (both spheres at unit potential) is
    ``C.sum()``; far from the spheres ``F(∞) ≈ C.sum() / |x|``.

    Parameters
    ----------
    centres : array_like, shape (n, 3), n in {1, 2}
        Sphere centres (µm).
    radii : array_like, shape (n,)
        Sphere radii (µm).
    tol : float, optional
        Absolute tolerance on the entries (µm), floored at 1e-12 relative (adaptive multipole
        order). The split ``C[0, 0]`` vs ``C[1, 0]`` converges slowly near contact (the charges
        concentrate in the gap), the total ``C.sum()`` fast.
    max_order : int, optional
        Largest multipole order.

    Returns
    -------
    numpy.ndarray
        Shape (n, n), symmetric; diagonal positive, off-diagonal negative.

    Examples
    --------
    >>> exact_capacitance([[0, 0, 0]], [5]).tolist()
    [[5.0]]
    """
    centres = np.atleast_2d(_as_float_array(centres, "centres"))
    lift = 1.0 + 10 * np.abs(centres).max() + 10 * np.max(radii)
    far = centres.mean(axis=0) + np.array([0.0, 0.0, lift])
    fr = _frame(far, centres, radii)
    vals, _, _ = _laplace_values(np.zeros(1), fr, 1.0, tol, max_order, monopoles=True)
    n = fr.a.size
    return vals[0].real.reshape(n, n)


# --------------------------------------------------------------------------------------------
# Numerical Laplace inversion on a shared hyperbolic contour.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HyperbolicContour:
    """Nodes and weights of the Weideman–Trefethen hyperbola for a window of times.

    ``g(t) ≈ Im Σ_k weights[k] G(nodes[k]) exp(nodes[k] t)`` for ``t`` in ``[t0, t1]``.

    Attributes
    ----------
    nodes : numpy.ndarray
        Complex Laplace variables (upper half plane), shape (N,).
    weights : numpy.ndarray
        Complex quadrature weights ``h s'(θ_k) / π``, shape (N,).
    t0, t1 : float
        The time window (s) the contour is tuned for.
    """

    nodes: np.ndarray
    weights: np.ndarray
    t0: float
    t1: float


def hyperbolic_contour(t0, t1, n_nodes):
    """Hyperbolic Bromwich contour serving every ``t`` in ``[t0, t1]`` with one set of nodes.

    Parameters
    ----------
    t0, t1 : float
        Window of times (s), ``0 < t0 <= t1``.
    n_nodes : int
        Number of nodes in the upper half plane (the conjugate half is implied).

    Returns
    -------
    HyperbolicContour

    Notes
    -----
    ``s(θ) = μ (1 + i sinh(θ + iφ))``, ``θ_k = (k + 1/2) h``, ``φ = 1.09``,
    ``A = arccosh(((π - 2φ) Λ + 4φ - π) / ((4φ - π) sin φ))``, ``Λ = t1/t0``,
    ``μ = (4πφ - π²) N / (A t1)``, ``h = A / N`` (Weideman & Trefethen, Math. Comp. 76, 2007).

    Examples
    --------
    >>> c = hyperbolic_contour(0.5, 2.0, 24)
    >>> t = np.array([0.5, 1.0, 2.0])
    >>> g = invert_on_contour(c, 1.0 / (c.nodes + 1.0), t)  # L^-1[1/(s+1)] = exp(-t)
    >>> bool(np.allclose(g, np.exp(-t), atol=1e-10))
    True
    """
    t0 = _finite_float(t0, "t0", positive=True)
    t1 = _finite_float(t1, "t1", positive=True)
    if t1 < t0:
        raise ValueError(f"t1 must be >= t0, got t0={t0}, t1={t1}")
    n = int(n_nodes)
    if n < 2:
        raise ValueError(f"n_nodes must be >= 2, got {n_nodes}")
    lam = t1 / t0
    phi = _PHI
    big_a = math.acosh(
        ((math.pi - 2 * phi) * lam + 4 * phi - math.pi) / ((4 * phi - math.pi) * math.sin(phi))
    )
    mu = (4 * math.pi * phi - math.pi**2) * n / (big_a * t1)
    h = big_a / n
    theta = (np.arange(n) + 0.5) * h
    nodes = mu * (1.0 + 1j * np.sinh(theta + 1j * phi))
    weights = (h / math.pi) * 1j * mu * np.cosh(theta + 1j * phi)
    return HyperbolicContour(nodes=nodes, weights=weights, t0=t0, t1=t1)


def invert_on_contour(contour: HyperbolicContour, values, times):
    """Inverse Laplace transform from transform values on a :func:`hyperbolic_contour`.

    Parameters
    ----------
    contour : HyperbolicContour
        The contour (its window should contain ``times``).
    values : array_like of complex, shape (N, ...)
        Transform ``G(s)`` at ``contour.nodes`` (trailing axes are carried along).
    times : array_like, shape (T,)
        Times (s) inside the contour's window.

    Returns
    -------
    numpy.ndarray
        Real array of shape ``(T, ...)``.

    Examples
    --------
    >>> c = hyperbolic_contour(1.0, 4.0, 32)
    >>> g = invert_on_contour(c, 1.0 / c.nodes**2, [1.0, 4.0])  # L^-1[1/s^2] = t
    >>> np.round(g, 10).tolist()
    [1.0, 4.0]
    """
    values = np.asarray(values, dtype=complex)
    times = np.asarray(times, dtype=float)
    kernel = np.exp(np.outer(times, contour.nodes)) * contour.weights  # (T, N)
    return np.tensordot(kernel, values, axes=(1, 0)).imag


# --------------------------------------------------------------------------------------------
# The time-domain response.
# --------------------------------------------------------------------------------------------

#: Empirical convergence rate of the hyperbola rule: error ~ exp(-_RATE * N / A) (measured on
#: the one-sphere transform for window ratios 2..1000; Weideman–Trefethen's a-priori rate with
#: phi = 1.09 is 3.83 / A, of which about 80 % is realised).
_RATE = 2.9
_EXTRA_NODES = 4  # the coarse comparison rule has this many fewer nodes


@dataclass(frozen=True)
class ExactResponse:
    """Exact (to ``tol``) channel response of one or two absorbing spheres.

    Attributes
    ----------
    times : numpy.ndarray
        Times (s), as given (may include 0 and ``inf``).
    F : numpy.ndarray
        Total fraction absorbed by each time (sum over spheres).
    F_per_sphere : numpy.ndarray
        Shape (n_spheres, n_times): absorbed first by sphere i.
    f : numpy.ndarray
        Total hitting rate dF/dt (1/s); 0 at ``t = inf``.
    f_per_sphere : numpy.ndarray
        Shape (n_spheres, n_times).
    tol : float
        Requested absolute error on F.
    error_estimate : float
        A-posteriori estimate of the largest absolute error of F (inversion: difference to a
        coarser contour; expansion: per-node convergence of the multipole order; early times
        set to 0: their union bound). Always ``<= tol`` (else an error is raised).
    f_error_estimate : float
        The same contour-difference estimate for ``f`` (1/s); not controlled.
    n_laplace_solves : int
        Number of Laplace-domain multipole solves (contour nodes, fine + coarse, plus static).
    max_order : int
        Largest multipole order used.
    """

    times: np.ndarray
    F: np.ndarray
    F_per_sphere: np.ndarray
    f: np.ndarray
    f_per_sphere: np.ndarray
    tol: float
    error_estimate: float
    f_error_estimate: float
    n_laplace_solves: int
    max_order: int


def _union_bounds(dist, radii, D, t):
    """Free-space one-sphere F and f summed over spheres: upper bounds of the N-sphere F, f.

    ``dist`` and ``radii`` (µm) list every absorbing sphere (images included); reactive
    spheres and degradation only lower F, so the bounds hold for them too.
    """
    r = np.asarray(dist, dtype=float)[:, None]
    a = np.asarray(radii, dtype=float)[:, None]
    d = r - a
    a4 = np.sqrt(4 * D * t)[None, :]
    F_b = np.sum(a / r * erfc(d / a4), axis=0)
    with np.errstate(over="ignore"):
        f_b = np.sum(a / r * d / np.sqrt(np.pi) / (a4 * t) * np.exp(-((d / a4) ** 2)), axis=0)
    return F_b, f_b


def _windows(t_sorted, ratio):
    """Split sorted positive times into [lo, hi] windows with hi/lo <= ratio."""
    out = []
    i = 0
    while i < t_sorted.size:
        lo = t_sorted[i]
        j = int(np.searchsorted(t_sorted, lo * ratio, side="right"))
        out.append((i, j))
        i = j
    return out


def _invert_window(laplace, times, tol, max_nodes):
    """Invert w/s and w on one window; returns F (n, T), f (n, T), errors, solves, order.

    ``laplace(s, node_tol)`` returns the per-sphere transform values ``w`` (S, n), the orders
    used and their error estimates (S,).
    """
    lo, hi = float(times[0]), float(times[-1])
    hi = max(hi, lo * 1.0001)
    lam = hi / lo
    big_a = math.acosh(
        ((math.pi - 2 * _PHI) * lam + 4 * _PHI - math.pi) / ((4 * _PHI - math.pi) * math.sin(_PHI))
    )
    n = math.ceil(big_a * math.log(10.0 / tol) / _RATE) + _EXTRA_NODES
    solves = 0
    last_err = math.inf
    while True:
        if n > max_nodes:
            raise ExactConvergenceError(
                f"Laplace inversion did not reach tol={tol:g} with <= max_nodes={max_nodes} "
                f"contour nodes on the window [{lo:g}, {hi:g}] s"
            )
        fine = hyperbolic_contour(lo, hi, n)
        coarse = hyperbolic_contour(lo, hi, n - _EXTRA_NODES)
        nodes = np.concatenate([fine.nodes, coarse.nodes])
        weights = np.concatenate([fine.weights, coarse.weights])
        # Error budget per node: its weight times the largest exp(Re s t) over the window.
        growth = np.exp(nodes.real * np.where(nodes.real > 0, hi, lo))
        amp = np.abs(weights) * growth / np.abs(nodes)
        node_tol = np.maximum(0.1 * tol / (n * amp), 1e-14)
        w, orders, w_err = laplace(nodes, node_tol)
        solves += nodes.size
        wf, wc = w[: fine.nodes.size], w[fine.nodes.size :]
        F_f = invert_on_contour(fine, wf / fine.nodes[:, None], times).T
        F_c = invert_on_contour(coarse, wc / coarse.nodes[:, None], times).T
        err = float(np.max(np.abs(F_f.sum(0) - F_c.sum(0))))
        err = max(err, float(np.max(np.abs(F_f - F_c))))
        # plus the multipole truncation of the fine rule's nodes (worst case over the window)
        err += float(np.sum(amp[: fine.nodes.size] * w_err[: fine.nodes.size]))
        if err <= tol:
            f_f = invert_on_contour(fine, wf, times).T
            f_c = invert_on_contour(coarse, wc, times).T
            f_err = float(np.max(np.abs(f_f - f_c)))
            return F_f, f_f, err, f_err, solves, int(orders.max())
        if err >= 0.5 * last_err:
            raise ExactConvergenceError(
                f"Laplace inversion stalls at an estimated error {err:.1e} on the window "
                f"[{lo:g}, {hi:g}] s (roundoff): tol={tol:g} is below the attainable accuracy"
            )
        last_err = err
        n = math.ceil(1.3 * n)


def _check_options(tol, window_ratio):
    tol = check_tolerance(tol)
    if window_ratio < 2:
        raise ValueError(f"window_ratio must be >= 2, got {window_ratio}")
    return tol


def _respond(laplace, bounds, n, times, tol, window_ratio, max_nodes, *, extra_error=0.0):
    """Time-domain response from a Laplace-domain solver (shared by the exact solvers).

    Parameters
    ----------
    laplace : callable
        ``laplace(s, node_tol) -> (w (S, n), orders (S,), errors (S,))``: the transforms of the
        hitting densities per sphere (receiver) at the Laplace nodes ``s`` (``s = 0``: the
        capture ``F(∞)``).
    bounds : callable
        ``bounds(t) -> (F_b, f_b)``: upper bounds of the total F and f (times ``t > 0``).
    n : int
        Number of spheres (receivers) of ``laplace``'s output.
    times : numpy.ndarray
        Validated times (s, may contain 0 and ``inf``).
    extra_error : float
        A bound added to the error estimate (e.g. the truncation of a slab's image array).

    Returns
    -------
    ExactResponse
    """
    t = times
    F = np.zeros((n, t.size))
    f = np.zeros((n, t.size))
    err, f_err, solves, order = float(extra_error), 0.0, 0, 0
    inf = np.isinf(t)
    if np.any(inf):
        cap, orders, cap_err = laplace(np.zeros(1), 0.1 * tol)
        F[:, inf] = cap[0].real[:, None]
        err = max(err, float(cap_err[0]) + extra_error)
        solves += 1
        order = max(order, int(orders.max()))
    finite = ~inf & (t > 0)
    if np.any(finite):
        F_b, f_b = bounds(np.where(finite, t, 1.0))
        negligible = finite & (F_b < 0.01 * tol) & (f_b * t < 0.01 * tol)
        if np.any(negligible):
            err = max(err, float(F_b[negligible].max()) + extra_error)
        todo = np.flatnonzero(finite & ~negligible)
        todo = todo[np.argsort(t[todo])]
        for i, j in _windows(t[todo], float(window_ratio)):
            idx = todo[i:j]
            F_w, f_w, e, fe, ns, o = _invert_window(laplace, t[idx], tol - extra_error, max_nodes)
            F[:, idx], f[:, idx] = F_w, f_w
            err, f_err = max(err, e + extra_error), max(f_err, fe)
            solves += ns
            order = max(order, o)
    return ExactResponse(
        times=t,
        F=F.sum(0),
        F_per_sphere=F,
        f=f.sum(0),
        f_per_sphere=f,
        tol=tol,
        error_estimate=err,
        f_error_estimate=f_err,
        n_laplace_solves=solves,
        max_order=order,
    )


def _check_rates(reaction_rates, n):
    """Reaction rates (µm/s) per sphere as an array; ``None`` = all absorbing (``inf``)."""
    if reaction_rates is None:
        return np.full(n, np.inf)
    k = np.atleast_1d(np.asarray(reaction_rates, dtype=float))
    if k.shape != (n,):
        raise ValueError(f"reaction_rates must have shape ({n},) to match radii, got {k.shape}")
    if np.any(np.isnan(k)) or np.any(k <= 0):
        raise ValueError(f"reaction_rates must be > 0 (µm/s; inf = absorbing), got {k.tolist()}")
    return k


def exact_response(
    tx,
    centres,
    radii,
    D,
    times,
    *,
    tol=DEFAULT_TOL,
    window_ratio=1000.0,
    max_order=DEFAULT_MAX_ORDER,
    max_nodes=400,
    reaction_rates=None,
    degradation_rate=0.0,
):
    """Exact channel response F(t) and hitting rate f(t) of one or two spheres.

    Laplace-domain multipole solution plus numerical inversion on shared hyperbolic contours
    (see the module Notes). For a receiver next to a reflecting plane pass the receiver and its
    mirror image; the half-space response is the total ``F`` (real + image).

    Parameters
    ----------
    tx : array_like, shape (3,)
        Transmitter position (µm).
    centres : array_like, shape (n, 3), n in {1, 2}
        Sphere centres (µm).
    radii : array_like, shape (n,)
        Sphere radii (µm); unequal radii are allowed.
    D : float
        Diffusion coefficient (µm²/s).
    times : array_like, shape (T,)
        Times (s), ``>= 0``; ``inf`` gives the capture ``F(∞)``.
    tol : float, optional
        Target absolute error on F (default 1e-9), between 1e-15 and 1e-2.
    window_ratio : float, optional
        Largest ratio ``t_max/t_min`` served by one contour.
    max_order : int, optional
        Cap on the multipole order.
    max_nodes : int, optional
        Cap on the contour nodes per window.
    reaction_rates : array_like, shape (n,), optional
        Reaction rate ``k`` of each sphere (µm/s; Robin condition ``D ∂w/∂n = k (w - 1)``);
        default, or ``inf``, perfectly absorbing.
    degradation_rate : float, optional
        Degradation rate ``k_d`` of the molecules in the fluid (1/s, default 0): the transform
        is evaluated at ``s + k_d``.

    Returns
    -------
    ExactResponse

    Raises
    ------
    ValueError
        Invalid geometry, D, times, tol, reaction rates or degradation rate.
    ExactConvergenceError
        When the expansion or the inversion cannot reach ``tol`` within the caps (for instance
        spheres almost touching: the gap needs too many multipoles).

    Examples
    --------
    The paper's topology: TX on the plane x = 0 at (0, 0, 10), receiver at (10, 0, 0), r = 5.

    >>> res = exact_response([0, 0, 10], [[10, 0, 0], [-10, 0, 0]], [5, 5], 79.4, [0.5, 2.0])
    >>> bool(res.error_estimate <= 1e-9), bool(np.all(np.diff(res.F) > 0))
    (True, True)
    """
    fr = _frame(tx, centres, radii)
    D = _finite_float(D, "D", positive=True)
    tol = _check_options(tol, window_ratio)
    kd = _finite_float(degradation_rate, "degradation_rate", nonneg=True)
    rates = _check_rates(reaction_rates, fr.a.size)
    if np.any(np.isfinite(rates)):
        fr = _Frame(fr.z, fr.a, fr.tx_rho, fr.tx_z, rates)
    t = as_times(times, allow_inf=True, one_d=True)
    dist = np.hypot(fr.tx_rho, fr.tx_z - fr.z)
    return _respond(
        lambda s, node_tol: _laplace_values(s, fr, D, node_tol, max_order, kd=kd),
        lambda tt: _union_bounds(dist, fr.a, D, tt),
        fr.a.size,
        t,
        tol,
        window_ratio,
        max_nodes,
    )
