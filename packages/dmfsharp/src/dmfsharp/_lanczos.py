"""Lanczos for the top eigenpair of a symmetric operator, checking convergence after every product.

ARPACK (``scipy.sparse.linalg.eigsh``) builds a full ``ncv``-vector Krylov basis before it tests
convergence, so even a start vector that already is an eigenvector costs ``ncv`` products. Along a
training trajectory the previous top eigenvector is such a start; this Lanczos (full
reorthogonalisation, restarted from the Ritz vector when the basis is full) stops as soon as the
residual estimate ``beta_m |s_m|`` of the top Ritz pair is ``<= tol * |theta|``, which is a few
products from a warm start. It is used for warm starts only; cold starts use ARPACK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg

__all__ = ["LanczosResult", "lanczos_top"]


@dataclass(frozen=True)
class LanczosResult:
    """Top Ritz pair of :func:`lanczos_top`.

    Attributes
    ----------
    value : float
        Largest Ritz value.
    vector : ndarray
        Its unit Ritz vector.
    n_matvecs : int
        Operator products used.
    converged : bool
        Whether the residual estimate met ``tol``.
    """

    value: float
    vector: np.ndarray
    n_matvecs: int
    converged: bool


def lanczos_top(
    matvec: Callable[[np.ndarray], np.ndarray],
    v0: np.ndarray,
    *,
    tol: float = 1e-7,
    max_matvecs: int = 1000,
    basis_size: int = 40,
    min_matvecs: int = 1,
) -> LanczosResult:
    """Largest (algebraic) eigenpair of a symmetric operator by Lanczos from ``v0``.

    Parameters
    ----------
    matvec : callable
        ``x -> A x`` on flat float64 vectors (``A`` symmetric).
    v0 : ndarray
        Start vector (nonzero, finite).
    tol : float, default 1e-7
        Stop when ``||A y - theta y|| <= tol * |theta|`` (estimated as ``beta_m |s_m|``, exact in
        exact arithmetic; full reorthogonalisation keeps it reliable).
    max_matvecs : int, default 1000
        Product budget; the result says ``converged=False`` when it runs out.
    basis_size : int, default 40
        Restart from the current Ritz vector when the Krylov basis reaches this size.
    min_matvecs : int, default 1
        Products taken before convergence may be declared (a residual certifies *an*
        eigenpair; a few steps let a small component along a larger eigenvalue show up).

    Returns
    -------
    LanczosResult

    Examples
    --------
    >>> import numpy as np
    >>> A = np.diag([3.0, 1.0, 0.5, -4.0])
    >>> res = lanczos_top(lambda x: A @ x, np.ones(4), tol=1e-12)
    >>> round(res.value, 12), res.converged
    (3.0, True)
    """
    q = np.asarray(v0, dtype=np.float64).ravel()
    nq = np.linalg.norm(q)
    if not (np.isfinite(nq) and nq > 0):
        raise ValueError("v0: must be a finite nonzero vector")
    n = q.size
    q = q / nq
    n_mv = 0
    theta, y = 0.0, q
    while True:
        V = [q]
        alpha: list[float] = []
        beta: list[float] = []
        m_max = min(basis_size, n)
        while True:
            w = np.asarray(matvec(V[-1]), dtype=np.float64).ravel()
            n_mv += 1
            a = float(V[-1] @ w)
            Vm = np.array(V)
            for _ in range(2):  # full reorthogonalisation (twice is enough)
                w = w - Vm.T @ (Vm @ w)
            alpha.append(a)
            b = float(np.linalg.norm(w))
            m = len(alpha)
            if m == 1:
                evals, evecs = np.array([a]), np.ones((1, 1))
            else:
                evals, evecs = scipy.linalg.eigh_tridiagonal(np.array(alpha), np.array(beta))
            theta = float(evals[-1])
            s = evecs[:, -1]
            y = Vm.T @ s
            resid = b * abs(s[-1])
            if (resid <= tol * abs(theta) and n_mv >= min_matvecs) or b <= 1e-300:
                return LanczosResult(theta, y / np.linalg.norm(y), n_mv, True)
            if n_mv >= max_matvecs:
                return LanczosResult(theta, y / np.linalg.norm(y), n_mv, False)
            if m >= m_max:
                break
            beta.append(b)
            V.append(w / b)
        q = y / np.linalg.norm(y)  # restart from the Ritz vector
