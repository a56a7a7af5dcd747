"""Static multipole solution for the long-time capture of many absorbing spheres.

Units: µm.

The capture probability ``P_k(x)`` (absorbed first by the group of spheres ``k``) is harmonic
outside the spheres, equals 1 on the spheres of group ``k`` and 0 on the others, and vanishes at
infinity. It is expanded in the exterior solid harmonics of every sphere, ::

    u(x) = sum_m sum_{l <= L} sum_mu a_{m l mu} (r_m/|x - c_m|)^{l+1} Y_{l mu}(direction from c_m),

with real orthonormal spherical harmonics ``Y``. The coefficients solve the Galerkin equations on
every sphere (own basis orthonormal on its sphere; the other spheres' fields are projected with a
Gauss–Legendre × trapezoid rule of ``(L+4) × (2L+6)`` nodes). ``L`` grows in steps of 4 until
the value at the requested point changes by less than ``tol``; ``ValueError`` beyond ``max_degree``
(nearly touching spheres need high degrees).

This converges for any non-overlapping configuration (unlike the Kelvin reflection series of
:mod:`mcvd.core.kelvin`). It is kept as an independent check (``capture(method="multipole")``):
the static limit of :mod:`mcvd.core.nsphere` (symmetry-adapted, fast projection, adaptive order)
answers the same problem tens to hundreds of times faster and is what
:func:`mcvd.core.models.capture` uses where the series does not serve.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre
from scipy import special

from .geometry import Sphere

__all__ = ["multipole_capture"]


def _real_sh(L: int, theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Real orthonormal spherical harmonics up to degree L -> (n_points, (L+1)^2)."""
    ls = _degrees(L)
    ms = np.concatenate([np.arange(-l, l + 1) for l in range(L + 1)])
    y = special.sph_harm_y(ls[None, :], np.abs(ms)[None, :], theta[:, None], phi[:, None])
    return np.where(ms == 0, y.real, np.sqrt(2.0) * np.where(ms > 0, y.real, y.imag))


def _degrees(L: int) -> np.ndarray:
    return np.concatenate([np.full(2 * l + 1, l) for l in range(L + 1)])


def _basis(points: np.ndarray, sphere: Sphere, L: int) -> np.ndarray:
    """Exterior solid harmonics of ``sphere`` at ``points`` (n, 3) -> (n, (L+1)^2)."""
    v = points - sphere.c
    rho = np.linalg.norm(v, axis=1)
    theta = np.arccos(np.clip(v[:, 2] / rho, -1.0, 1.0))
    phi = np.arctan2(v[:, 1], v[:, 0])
    ratio = (sphere.radius / rho)[:, None] ** (_degrees(L)[None, :] + 1)
    return ratio * _real_sh(L, theta, phi)


def _solve(x, spheres, groups, n_groups, L):
    M = len(spheres)
    nb = (L + 1) ** 2
    nt, nphi = L + 4, 2 * L + 6
    ct, wt = legendre.leggauss(nt)
    theta = np.arccos(ct)
    phi = 2 * np.pi * np.arange(nphi) / nphi
    TH, PH = np.meshgrid(theta, phi, indexing="ij")
    W = (wt[:, None] * np.full(nphi, 2 * np.pi / nphi)[None, :]).ravel()
    dirs = np.stack(
        [np.sin(TH) * np.cos(PH), np.sin(TH) * np.sin(PH), np.cos(TH)], axis=-1
    ).reshape(-1, 3)
    Y = _real_sh(L, TH.ravel(), PH.ravel())  # own basis on a sphere (same in every frame)
    proj = (Y * W[:, None]).T  # Galerkin projection onto the own basis
    A = np.eye(M * nb)
    rhs = np.zeros((M * nb, n_groups))
    for k, sk in enumerate(spheres):
        pts = sk.c + sk.radius * dirs
        for m, sm in enumerate(spheres):
            if m != k:
                A[k * nb : (k + 1) * nb, m * nb : (m + 1) * nb] = proj @ _basis(pts, sm, L)
        # boundary value 1 for the group of sphere k: its projection is sqrt(4 pi) on Y_00
        rhs[k * nb, groups[k]] = np.sqrt(4 * np.pi)
    coef = np.linalg.solve(A, rhs)
    xb = np.concatenate([_basis(x[None], s, L)[0] for s in spheres])
    return xb @ coef


def multipole_capture(
    x, spheres: list[Sphere], groups=None, *, tol: float = 1e-10, max_degree: int = 32
) -> np.ndarray:
    """Capture probability from ``x`` per group of absorbing spheres (static multipole method).

    Parameters
    ----------
    x : sequence of 3 floats
        Starting point (µm), outside every sphere.
    spheres : list of Sphere
        Non-overlapping absorbing spheres.
    groups : sequence of int, optional
        Group index of each sphere (e.g. the real receiver of each plane image); default one
        group per sphere.
    tol : float
        Stop when raising the degree by 4 changes every value by less than ``tol``.
    max_degree : int
        Largest multipole degree ``L`` (``ValueError`` if not converged by then).

    Returns
    -------
    numpy.ndarray, shape (n_groups,)

    Examples
    --------
    >>> round(float(multipole_capture([0, 0, 20], [Sphere((0, 0, 0), 5)])[0]), 12)
    0.25
    """
    x = np.asarray(x, dtype=float)
    spheres = list(spheres)
    groups = np.arange(len(spheres)) if groups is None else np.asarray(groups, dtype=int)
    n_groups = int(groups.max()) + 1
    L = 4
    prev = _solve(x, spheres, groups, n_groups, L)
    change = np.inf
    while L < max_degree:
        L = min(L + 4, max_degree)
        cur = _solve(x, spheres, groups, n_groups, L)
        change = float(np.max(np.abs(cur - prev)))
        if change < tol:
            return cur
        prev = cur
    raise ValueError(
        f"multipole capture did not converge to tol={tol:g} by degree {max_degree} (last change "
        f"{change:.2e}); spheres nearly touching need higher degrees: raise max_degree"
    )
