"""Exact sharpness and Hessian spectrum of ``l(W) = c * ||W_L ... W_1 - M||_F^2``.

At a minimizer (``P = M``) the Hessian is ``2c J^T J`` with ``J[U] = sum_k A_k U_k B_k``, so its
nonzero eigenvalues are exactly ``2c`` times the nonzero eigenvalues of the ``d_L d_0``-dimensional
PSD operator

    ``K(X) = sum_k (A_k A_k^T) X (B_k^T B_k)``    (``K = J J^T``),

and a unit eigenvector ``X`` of ``K`` with eigenvalue ``mu > 0`` maps to the unit Hessian
eigenvector ``U_k = A_k^T X B_k^T / sqrt(mu)``. This holds at *any* minimizer, for any depth and
widths. The parameter count never enters: only the ``d_L x d_0`` shape of ``M`` does.

Away from a minimizer the residual terms of the Hessian do not vanish and K is not the Hessian;
there :func:`sharpness` runs Lanczos (``scipy.sparse.linalg.eigsh``, ``which='LA'``) on the exact
analytic Hessian-vector product (or a dense ``eigh`` for small problems) and says so in its result.

Matrices ``X`` in the ``d_L x d_0`` space are flattened in C order; the dense ``K`` is then
``sum_k kron(A_k A_k^T, B_k^T B_k)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from .derivatives import dense_hessian, hessian_operator
from .factorization import Factorization, check_scale

__all__ = [
    "EigenpairsResult",
    "KOperator",
    "SharpnessResult",
    "SpectrumResult",
    "hessian_rank",
    "hessian_spectrum",
    "hessian_trace",
    "k_matrix",
    "k_operator",
    "sharpness",
    "top_eigenpairs",
]

#: ``sharpness(method="auto")`` uses a dense ``eigh`` of K up to this ``d_L * d_0``.
DENSE_K_MAX = 400
#: ``sharpness(method="auto")`` uses a dense Hessian ``eigh`` off a minimizer up to this many
#: parameters.
DENSE_HESSIAN_MAX = 400
#: Lanczos on K starts from a Kronecker-subspace Rayleigh-Ritz vector when
#: ``min(d_L, d_0)`` is at least this (below, the rank-one start is used directly).
KRON_START_MIN_WIDTH = 32
#: Largest Kronecker-subspace side (columns of ``U`` and ``V``) of that start.
KRON_START_MAX_SIDE = 96
#: ARPACK tolerance and ``ncv`` of the small projected eigenproblems inside the Kronecker start.
#: A residual of 1e-6 already puts the Ritz value within ~1e-12 of the projected maximum, and the
#: start only has to be good, not certified (1e-12 cost three times more inner products).
KRON_INNER_TOL, KRON_INNER_NCV = 1e-6, 10
METHODS = (
    "auto",
    "scalar-closed-form",
    "dense-K",
    "lanczos-K",
    "dense-hessian",
    "lanczos-hvp",
)
_MINIMIZER_METHODS = ("scalar-closed-form", "dense-K", "lanczos-K")


# ---------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SharpnessResult:
    """Largest Hessian eigenvalue of the loss and its eigenvector.

    Attributes
    ----------
    lambda_max : float
        Largest eigenvalue of the loss Hessian (units of the loss per squared parameter unit;
        scales with ``2c``).
    eigenvector : tuple of ndarray
        Unit Hessian eigenvector as per-layer blocks (shapes of the weights; the norm over all
        blocks together is 1).
    method : str
        ``"scalar-closed-form"``, ``"dense-K"``, ``"lanczos-K"`` (exact reduction at a
        minimizer) or ``"dense-hessian"``, ``"lanczos-hvp"`` (full Hessian, any point).
    residual_norm : float
        ``||P - M||_F`` of the factorization.
    is_minimizer : bool
        Whether the point was treated as a minimizer (relative residual <= ``rtol_minimizer``).
        When False, the K reduction does not apply and the full Hessian was used.
    n_matvecs : int
        Operator products used (K products for ``*-K`` methods, Hessian-vector products for
        ``lanczos-hvp``; 0 for closed forms and dense builds of K, ``n_params`` for the dense
        Hessian, which is built from that many HVPs). For ``lanczos-K`` the thin products of
        the Kronecker-subspace start vector (``G_k U`` with ``U`` of at most 96 columns) are
        not counted; wall time includes them.
    converged : bool
        Whether the eigensolver met its tolerance (always True for dense and closed forms).
    eigen_residual : float
        ``||H v - lambda_max v||`` of the returned unit vector ``v`` (Hessian units). At a
        minimizer it is computed exactly through K (``H = 2c J^T J``).
    scale : float
        The loss scale ``c``.
    note : str
        A one-line human-readable statement of what was computed.
    """

    lambda_max: float
    eigenvector: tuple[np.ndarray, ...]
    method: str
    residual_norm: float
    is_minimizer: bool
    n_matvecs: int
    converged: bool
    eigen_residual: float
    scale: float
    note: str = ""

    def flat_eigenvector(self) -> np.ndarray:
        """The eigenvector as one flat vector (order of :meth:`Factorization.to_vector`)."""
        return np.concatenate([b.ravel() for b in self.eigenvector])


@dataclass(frozen=True)
class SpectrumResult:
    """Nonzero Hessian spectrum at a minimizer.

    Attributes
    ----------
    eigenvalues : ndarray
        The nonzero Hessian eigenvalues in descending order, with multiplicity (all other
        ``n_params - rank`` eigenvalues are exactly 0).
    rank : int
        Number of nonzero eigenvalues (``<= d_L d_0``), using ``rank_rtol``.
    trace : float
        ``trace(H) = 2c sum_k ||A_k||_F^2 ||B_k||_F^2`` (closed form, not the sum of the
        computed eigenvalues).
    n_params : int
        Dimension of the Hessian.
    rank_rtol : float
        Eigenvalues of K at most ``rank_rtol * lambda_max(K)`` were counted as zero.
    scale : float
        Loss scale ``c``.
    """

    eigenvalues: np.ndarray
    rank: int
    trace: float
    n_params: int
    rank_rtol: float
    scale: float

    @property
    def lambda_max(self) -> float:
        """Largest eigenvalue (0 for the zero Hessian)."""
        return float(self.eigenvalues[0]) if self.eigenvalues.size else 0.0


@dataclass(frozen=True)
class EigenpairsResult:
    """Top ``k`` Hessian eigenpairs at a minimizer.

    Attributes
    ----------
    eigenvalues : ndarray
        Descending, shape ``(k,)``.
    eigenvectors : tuple of tuple of ndarray
        ``eigenvectors[j]`` is the unit eigenvector of ``eigenvalues[j]`` as per-layer blocks.
    eigen_residuals : ndarray
        ``||H v_j - lambda_j v_j||`` for each pair.
    method : str
        ``"dense-K"`` or ``"lanczos-K"``.
    n_matvecs : int
        K products used by Lanczos (0 for dense).
    scale : float
        Loss scale ``c``.
    """

    eigenvalues: np.ndarray
    eigenvectors: tuple[tuple[np.ndarray, ...], ...]
    eigen_residuals: np.ndarray
    method: str
    n_matvecs: int
    scale: float


# ---------------------------------------------------------------------------------- K
@dataclass(frozen=True)
class _Grams:
    """Stacked Gram matrices ``G_k = A_k A_k^T`` (``(L, d_L, d_L)``) and ``H_k = B_k^T B_k``."""

    G: np.ndarray
    H: np.ndarray
    G_cols: np.ndarray = field(repr=False)  # (L * d_L, d_L): rows of the G_k stacked
    H_rows: np.ndarray = field(repr=False)  # (L * d_0, d_0): the H_k stacked


def _grams(fac: Factorization) -> _Grams:
    G = np.stack([a @ a.T for a in fac.lefts])
    H = np.stack([b.T @ b for b in fac.rights])
    L, dl, d0 = fac.depth, fac.dims[-1], fac.dims[0]
    return _Grams(G, H, G.reshape(L * dl, dl), H.reshape(L * d0, d0))


def _kron_apply(G_cols: np.ndarray, H_rows: np.ndarray, L: int, Xs: np.ndarray) -> np.ndarray:
    """``sum_k G_k X_j H_k`` for a stack ``Xs`` of shape ``(b, a, c)``, with ``G_cols`` the
    ``(L * a, a)`` stack of the ``G_k`` and ``H_rows`` the ``(L * c, c)`` stack of the ``H_k``."""
    b, a, c = Xs.shape
    # Y[k, :, j*c:(j+1)*c] = G_k X_j, computed as one GEMM over all k and j.
    Y = G_cols @ np.moveaxis(Xs, 0, 1).reshape(a, b * c)
    # Sum_k Y_k H_k for every j: rearrange to (b * a, L * c) and multiply by H stacked.
    Y = Y.reshape(L, a, b, c).transpose(2, 1, 0, 3).reshape(b * a, L * c)
    return (Y @ H_rows).reshape(b, a, c)


class KOperator(LinearOperator):
    """The operator ``X -> sum_k (A_k A_k^T) X (B_k^T B_k)`` on C-order flattened ``d_L x d_0``
    matrices, as a symmetric PSD ``scipy.sparse.linalg.LinearOperator``.

    One product costs two matrix multiplications with the stacked Gram matrices
    (``L d_L d_0 (d_L + d_0)`` multiply-adds); blocks of vectors are done in the same two calls.
    ``n_matvecs`` counts vectors multiplied.
    """

    def __init__(self, fac: Factorization):
        self.dl, self.d0 = fac.dims[-1], fac.dims[0]
        self.depth = fac.depth
        self.grams = _grams(fac)
        super().__init__(dtype=np.float64, shape=(self.dl * self.d0, self.dl * self.d0))
        self.n_matvecs = 0

    def apply(self, X: np.ndarray) -> np.ndarray:
        """``K`` applied to a ``(d_L, d_0)`` matrix or a ``(b, d_L, d_0)`` stack of them."""
        X = np.asarray(X, dtype=np.float64)
        single = X.ndim == 2
        Xs = X[None] if single else X
        self.n_matvecs += Xs.shape[0]
        Z = _kron_apply(self.grams.G_cols, self.grams.H_rows, self.depth, Xs)
        return Z[0] if single else Z

    def dense(self) -> np.ndarray:
        """The dense symmetric ``(d_L d_0, d_L d_0)`` matrix ``sum_k kron(G_k, H_k)``."""
        n = self.shape[0]
        K = np.einsum("kab,kcd->acbd", self.grams.G, self.grams.H, optimize=True).reshape(n, n)
        return 0.5 * (K + K.T)

    def _matvec(self, x):
        return self.apply(np.reshape(x, (self.dl, self.d0))).ravel()

    def _matmat(self, X):
        b = X.shape[1]
        Xs = np.asarray(X).T.reshape(b, self.dl, self.d0)
        return self.apply(Xs).reshape(b, -1).T

    def _rmatvec(self, x):
        return self._matvec(x)

    def _adjoint(self):
        return self


def k_operator(fac: Factorization) -> KOperator:
    """Matrix-free ``K(X) = sum_k (A_k A_k^T) X (B_k^T B_k)`` (see :class:`KOperator`).

    Parameters
    ----------
    fac : Factorization
        Any factorization (K is the Gauss-Newton operator ``J J^T``; it equals the Hessian's
        nonzero part only at a minimizer).

    Returns
    -------
    KOperator
        Shape ``(d_L d_0, d_L d_0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> K = k_operator(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    >>> K @ np.ones(1)
    array([13.])
    """
    return KOperator(fac)


def k_matrix(fac: Factorization, max_dim: int = 4096) -> np.ndarray:
    """Dense ``K = sum_k kron(A_k A_k^T, B_k^T B_k)`` (C-order flattening of ``X``).

    Parameters
    ----------
    fac : Factorization
        Any factorization.
    max_dim : int, default 4096
        Refuse ``d_L d_0 > max_dim`` (the matrix has ``(d_L d_0)^2`` entries).

    Returns
    -------
    ndarray
        Symmetric PSD ``(d_L d_0, d_L d_0)`` matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> k_matrix(Factorization([np.eye(2), 2 * np.eye(2)])).diagonal()
    array([5., 5., 5., 5.])
    """
    n = fac.dims[-1] * fac.dims[0]
    if n > max_dim:
        raise ValueError(
            f"fac: d_L * d_0 = {n} exceeds max_dim = {max_dim} for a dense K; use k_operator()"
        )
    return KOperator(fac).dense()


# ---------------------------------------------------------------------------------- helpers
def _blocks_from_k_vectors(fac: Factorization, X: np.ndarray) -> list[np.ndarray]:
    """``U_k = A_k^T X B_k^T`` for a ``(d_L, d_0)`` matrix ``X`` (not normalised)."""
    return [a.T @ X @ b.T for a, b in zip(fac.lefts, fac.rights)]


def _unit_blocks(fac: Factorization, blocks: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    norm = np.sqrt(sum(float(np.sum(b * b)) for b in blocks))
    if norm == 0 or not np.isfinite(norm):
        return _first_basis_vector(fac)
    return tuple(b / norm for b in blocks)


def _first_basis_vector(fac: Factorization) -> tuple[np.ndarray, ...]:
    e = np.zeros(fac.n_params)
    e[0] = 1.0
    return tuple(fac.split(e))


def _rank_one_start(
    fac: Factorization, K: KOperator, rng, sweeps: int = 30, power_steps: int = 8
) -> np.ndarray:
    """Start vector ``y x^T`` for Lanczos on K: an approximate maximiser of the rank-one
    relaxation ``sum_k ||A_k^T y||^2 ||B_k x||^2`` by alternating power steps, started from an
    approximate top singular pair of the product (``power_steps`` power iterations on ``P``;
    random when the product vanishes)."""
    G, H = K.grams.G, K.grams.H
    P = fac.product
    if np.any(P):
        # approximate top singular pair by a few power steps (a full SVD costs ~50 ms at 256)
        x = P[np.argmax(np.einsum("ij,ij->i", P, P))].copy()
        for _ in range(power_steps):
            y = P @ x
            y /= np.linalg.norm(y)
            x = y @ P
            x /= np.linalg.norm(x)
    else:
        g = np.random.default_rng(rng)
        y, x = g.standard_normal(K.dl), g.standard_normal(K.d0)
        y /= np.linalg.norm(y)
        x /= np.linalg.norm(x)
    for _ in range(sweeps):
        wx = (H @ x) @ x  # ||B_k x||^2 for every k
        y_new = wx @ (G @ y)
        ny = np.linalg.norm(y_new)
        if ny == 0:
            break
        y_new /= ny
        wy = (G @ y_new) @ y_new  # ||A_k^T y||^2
        x_new = wy @ (H @ x)
        nx = np.linalg.norm(x_new)
        if nx == 0:
            break
        x_new /= nx
        done = abs(abs(y_new @ y) - 1) < 1e-14 and abs(abs(x_new @ x) - 1) < 1e-14
        y, x = y_new, x_new
        if done:
            break
    return np.outer(y, x)


def _orth_new(basis: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Orthonormal directions of ``cand`` orthogonal to the orthonormal ``basis`` (rank-revealing:
    numerically dependent directions are dropped)."""
    for _ in range(2):
        cand = cand - basis @ (basis.T @ cand)
    if not cand.size:
        return cand
    u, s, _ = np.linalg.svd(cand, full_matrices=False)
    keep = s > 1e-10 * max(s[0], 1e-300) if s.size else s.astype(bool)
    new = u[:, keep]
    new = new - basis @ (basis.T @ new)
    return np.linalg.qr(new)[0] if new.size else new


def _projected_top(Gp: np.ndarray, Hp: np.ndarray, Y0: np.ndarray | None):
    """Top eigenpair of ``sum_k Gp_k (x) Hp_k`` (small; dense ``eigh`` up to ``DENSE_K_MAX``,
    else Lanczos warm-started from ``Y0`` to the loose ``KRON_INNER_TOL``)."""
    L, p, _ = Gp.shape
    q = Hp.shape[1]
    n = p * q
    if n <= DENSE_K_MAX:
        Kp = np.einsum("kab,kcd->acbd", Gp, Hp, optimize=True).reshape(n, n)
        w, v = scipy.linalg.eigh(0.5 * (Kp + Kp.T), subset_by_index=[n - 1, n - 1])
        return float(w[0]), v[:, 0].reshape(p, q)
    G_cols, H_rows = Gp.reshape(L * p, p), Hp.reshape(L * q, q)
    op = LinearOperator(
        (n, n),
        matvec=lambda z: _kron_apply(G_cols, H_rows, L, np.reshape(z, (1, p, q))).ravel(),
        dtype=np.float64,
    )
    v0 = np.zeros((p, q))
    v0[: Y0.shape[0], : Y0.shape[1]] = Y0
    w, v = eigsh(op, k=1, which="LA", v0=v0.ravel(), tol=KRON_INNER_TOL, ncv=min(n, KRON_INNER_NCV))
    return float(w[0]), v[:, 0].reshape(p, q)


def _kronecker_subspace_start(K: KOperator, X0: np.ndarray, rng, block: int = 16) -> np.ndarray:
    """Refine a rank-one start ``X0 = y x^T`` by Rayleigh-Ritz on Kronecker subspaces
    ``span(U) (x) span(V)`` grown from the residual (a Davidson method in factor space).

    The projected operator ``sum_k (U^T G_k U) (x) (V^T H_k V)`` is small, and growing ``U``
    costs products ``G_k U_new`` with thin matrices only, so this is much cheaper than products
    with K; it typically brings the start from ~1e-3 to ~1e-8 relative eigenvalue error at
    width 256 and cuts the Lanczos products that follow from ~26 to 7. It only chooses the start
    vector: the eigenvalue is certified afterwards by Lanczos on K itself. ``X0`` must be rank
    one (its factors are read off a column and ``X0^T y``, no SVD); the projected problems are
    solved only to ``KRON_INNER_TOL``.
    """
    G, H = K.grams.G, K.grams.H
    L, dl, d0 = K.depth, K.dl, K.d0
    cap = min(KRON_START_MAX_SIDE, dl, d0, max(8, min(dl, d0) // 3))
    g = np.random.default_rng(rng)
    # X0 = y x^T: its largest column is along y, and X0^T y along x (no SVD needed)
    y = X0[:, np.argmax(np.einsum("ij,ij->j", X0, X0))]
    x = y @ X0
    U, V = (y / np.linalg.norm(y))[:, None], (x / np.linalg.norm(x))[:, None]
    GU, HV = G @ U, H @ V
    Y, theta = np.ones((1, 1)), 0.0
    while True:
        Gp, Hp = U.T @ GU, V.T @ HV
        new_theta, Y = _projected_top(
            0.5 * (Gp + Gp.transpose(0, 2, 1)), 0.5 * (Hp + Hp.transpose(0, 2, 1)), Y
        )
        done = abs(new_theta - theta) <= 1e-10 * new_theta
        theta = new_theta
        p, q = U.shape[1], V.shape[1]
        if done or (p >= cap and q >= cap):
            break
        # K X = Pc Qc^T with X = U Y V^T; sample the residual's ranges on both sides.
        Pc = (GU @ Y).transpose(1, 0, 2).reshape(dl, L * q)
        Qc = HV.transpose(1, 0, 2).reshape(d0, L * q)
        added = False
        if p < cap:
            om = g.standard_normal((d0, block))
            new = _orth_new(U, Pc @ (Qc.T @ om) - theta * (U @ (Y @ (V.T @ om))))[:, : cap - p]
            if new.size:
                U, GU, added = np.hstack([U, new]), np.concatenate([GU, G @ new], axis=2), True
        if q < cap:
            om = g.standard_normal((dl, block))
            new = _orth_new(V, Qc @ (Pc.T @ om) - theta * (V @ (Y.T @ (U[:, :p].T @ om))))
            new = new[:, : cap - q]
            if new.size:
                V, HV, added = np.hstack([V, new]), np.concatenate([HV, H @ new], axis=2), True
        if not added:
            break
        # keep Y aligned with the grown bases (new coordinates start at zero)
        Yg = np.zeros((U.shape[1], V.shape[1]))
        Yg[:p, :q] = Y
        Y = Yg
    return U @ Y @ V.T


def _choose_method(fac: Factorization, minimizer: bool) -> str:
    if minimizer:
        if max(fac.dims) == 1:
            return "scalar-closed-form"
        return "dense-K" if fac.dims[-1] * fac.dims[0] <= DENSE_K_MAX else "lanczos-K"
    return "dense-hessian" if fac.n_params <= DENSE_HESSIAN_MAX else "lanczos-hvp"


# ---------------------------------------------------------------------------------- sharpness
def sharpness(
    fac: Factorization,
    scale: float = 0.5,
    *,
    method: str = "auto",
    tol: float = 1e-7,
    rng=None,
    rtol_minimizer: float = 1e-10,
    maxiter: int | None = None,
) -> SharpnessResult:
    """Largest Hessian eigenvalue (sharpness) of ``c * ||W_L ... W_1 - M||_F^2`` and its
    eigenvector.

    At a minimizer the result is exact (closed form for scalar factorizations, otherwise the
    top eigenpair of the ``d_L d_0``-dimensional operator K, dense or by Lanczos); elsewhere it is
    the top eigenpair of the full Hessian from the analytic HVP.

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c`` (``1.0`` for the paper's convention). ``lambda_max`` is proportional to
        ``2c``.
    method : str, default "auto"
        ``"auto"`` picks ``"scalar-closed-form"`` (all widths 1), ``"dense-K"``
        (``d_L d_0 <= 400``) or ``"lanczos-K"`` at a minimizer, and ``"dense-hessian"``
        (``n_params <= 400``) or ``"lanczos-hvp"`` elsewhere. The three minimizer methods raise
        ``ValueError`` off a minimizer. Lanczos on a problem of dimension < 3 (ARPACK's minimum)
        runs the dense method instead and reports that.
    tol : float, default 1e-7
        Lanczos stopping tolerance: relative residual ``||K x - mu x|| <= tol * mu`` (ARPACK's
        criterion). The eigenvalue error is then at most about ``tol**2 * mu / gap`` (``gap``:
        distance to the next eigenvalue), i.e. ``<= 1e-10`` relative for relative gaps
        ``>= 1e-4`` — far below ``tol``. ``eigen_residual`` reports the achieved residual.
    rng : Generator, SeedSequence or int, optional
        Used only for a random Lanczos start vector (product zero, or ``lanczos-hvp``).
    rtol_minimizer : float, default 1e-10
        The point counts as a minimizer when ``||P - M||_F / ||M||_F <= rtol_minimizer``.
    maxiter : int, optional
        Maximum Lanczos restarts (ARPACK ``maxiter``).

    Returns
    -------
    SharpnessResult

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])
    >>> res = sharpness(fac, scale=1.0)        # the spec's counterexample, c = 1
    >>> round(res.lambda_max, 9), res.method, res.is_minimizer
    (402.0, 'dense-K', True)
    """
    c = check_scale(scale)
    if not isinstance(fac, Factorization):
        raise TypeError(f"fac: expected a dmfsharp.Factorization, got {type(fac).__name__}")
    if method not in METHODS:
        raise ValueError(f"method: must be one of {', '.join(METHODS)}; got {method!r}")
    if not (np.isfinite(tol) and 0 < tol < 1):
        raise ValueError(f"tol: must be in (0, 1), got {tol!r}")
    minimizer = fac.is_minimizer(rtol_minimizer)
    if method == "auto":
        method = _choose_method(fac, minimizer)
    # ARPACK needs a dimension >= 3 (k = 1 < ncv <= n); tiny problems go dense.
    if method == "lanczos-K" and fac.dims[-1] * fac.dims[0] < 3:
        method = "dense-K"
    elif method == "lanczos-hvp" and fac.n_params < 3:
        method = "dense-hessian"
    if method in _MINIMIZER_METHODS:
        fac.require_minimizer(rtol_minimizer, what=f"fac (method={method!r})")
        if method == "scalar-closed-form" and max(fac.dims) != 1:
            raise ValueError(
                f"method: 'scalar-closed-form' needs all widths 1, got dims {fac.dims}"
            )
    solver = {
        "scalar-closed-form": _sharpness_scalar,
        "dense-K": _sharpness_dense_k,
        "lanczos-K": _sharpness_lanczos_k,
        "dense-hessian": _sharpness_dense_hessian,
        "lanczos-hvp": _sharpness_lanczos_hvp,
    }[method]
    lam, vec, n_mv, conv, eres, note = solver(fac, c, tol=tol, rng=rng, maxiter=maxiter)
    return SharpnessResult(
        lambda_max=float(lam),
        eigenvector=tuple(vec),
        method=method,
        residual_norm=fac.residual_norm,
        is_minimizer=minimizer,
        n_matvecs=int(n_mv),
        converged=bool(conv),
        eigen_residual=float(eres),
        scale=c,
        note=note,
    )


def _sharpness_scalar(fac, c, **_):
    g = np.array([a[0, 0] * b[0, 0] for a, b in zip(fac.lefts, fac.rights)])  # prod_{j != k} w_j
    lam = 2.0 * c * float(g @ g)
    vec = _unit_blocks(fac, [np.array([[x]]) for x in g])
    return lam, vec, 0, True, 0.0, "exact: scalar closed form 2c * sum_i prod_{j != i} w_j^2"


def _finish_k(fac, c, K: KOperator, X: np.ndarray):
    """Rayleigh quotient, Hessian eigenvector and residual from a K eigenvector estimate."""
    X = X / np.linalg.norm(X)
    KX = K.apply(X)
    mu = max(float(np.sum(X * KX)), 0.0)
    if mu <= 0:
        return 0.0, _first_basis_vector(fac), 0.0
    vec = _unit_blocks(fac, _blocks_from_k_vectors(fac, X))
    r = KX - mu * X
    eres = 2.0 * c * float(np.sqrt(max(np.sum(r * K.apply(r)), 0.0) / mu))
    return 2.0 * c * mu, vec, eres


def _sharpness_dense_k(fac, c, **_):
    K = k_operator(fac)
    Kd = K.dense()
    n = Kd.shape[0]
    _, v = scipy.linalg.eigh(Kd, subset_by_index=[n - 1, n - 1])
    lam, vec, eres = _finish_k(fac, c, K, v[:, 0].reshape(K.dl, K.d0))
    return lam, vec, 0, True, eres, "exact: dense eigh of the d_L d_0 operator K (minimizer)"


def _sharpness_lanczos_k(fac, c, *, tol, rng, maxiter):
    """Lanczos (ARPACK) on K from the rank-one / Kronecker-subspace start.

    Cost at L = 10, width 256 (one thread, ~0.2 s in all): 9 K products of ~12 ms (7 Lanczos,
    then ``K X`` and ``K r`` for the Rayleigh quotient and ``eigen_residual``), the start vector
    ~50 ms, Gram matrices and eigenvector blocks ~30 ms. The 7 Lanczos products are set by the
    residual criterion ``tol``, not by the eigenvalue (already ~1e-10 relative after 2): plain
    Lanczos with full reorthogonalisation from the same start needs 7 as well, and a larger
    Kronecker subspace or other ``ncv`` values did not lower it.
    """
    K = k_operator(fac)
    n = K.shape[0]
    X0 = _rank_one_start(fac, K, rng)
    ncv = 10
    if min(K.dl, K.d0) >= KRON_START_MIN_WIDTH:
        X0 = _kronecker_subspace_start(K, X0, rng)
        ncv = 6
    converged = True
    try:
        _, v = eigsh(K, k=1, which="LA", v0=X0.ravel(), tol=tol, ncv=min(n, ncv), maxiter=maxiter)
    except ArpackNoConvergence as exc:
        converged = False
        v = exc.eigenvectors if exc.eigenvectors.size else X0.reshape(-1, 1)
    lam, vec, eres = _finish_k(fac, c, K, v[:, 0].reshape(K.dl, K.d0))
    n_mv = K.n_matvecs - 2  # the two products of _finish_k are a check, not part of the solve
    note = "exact reduction to K (minimizer); Lanczos on K"
    if ncv == 6:
        note += " from a Kronecker-subspace Ritz start"
    if not converged:
        note += " DID NOT CONVERGE: value is a lower bound"
    return lam, vec, n_mv, converged, eres, note


def _sharpness_dense_hessian(fac, c, **_):
    Hd = dense_hessian(fac, c, max_params=max(DENSE_HESSIAN_MAX, fac.n_params))
    n = Hd.shape[0]
    w, v = scipy.linalg.eigh(Hd, subset_by_index=[n - 1, n - 1])
    vec = tuple(fac.split(v[:, 0]))
    eres = float(np.linalg.norm(Hd @ v[:, 0] - w[0] * v[:, 0]))
    note = "not a minimizer: dense eigh of the full Hessian (residual terms included)"
    return float(w[0]), vec, n, True, eres, note


def _sharpness_lanczos_hvp(fac, c, *, tol, rng, maxiter):
    op = hessian_operator(fac, c)
    g = np.random.default_rng(rng)
    v0 = g.standard_normal(fac.n_params)
    converged = True
    try:
        w, v = eigsh(op, k=1, which="LA", v0=v0, tol=tol, maxiter=maxiter)
    except ArpackNoConvergence as exc:
        converged = False
        w, v = exc.eigenvalues, exc.eigenvectors
        if not w.size:
            w, v = np.array([np.nan]), v0.reshape(-1, 1) / np.linalg.norm(v0)
    n_mv = op.n_matvecs
    x = v[:, 0] / np.linalg.norm(v[:, 0])
    Hx = op.matvec(x)
    lam = float(x @ Hx)
    eres = float(np.linalg.norm(Hx - lam * x))
    note = "not a minimizer: Lanczos (eigsh, which='LA') on the analytic HVP"
    if not converged:
        note += "; DID NOT CONVERGE"
    return lam, tuple(fac.split(x)), n_mv, converged, eres, note


# ---------------------------------------------------------------------------------- spectrum
def hessian_trace(fac: Factorization, scale: float = 0.5) -> float:
    """Trace of the loss Hessian, ``2c sum_k ||A_k||_F^2 ||B_k||_F^2``, exact at ANY point.

    The residual terms of the Hessian only couple different layers (the product is linear in
    each single factor), so they do not touch the diagonal: the formula holds off minimizers too.

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> hessian_trace(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    13.0
    """
    c = check_scale(scale)
    return (
        2.0 * c * float(sum(np.sum(a * a) * np.sum(b * b) for a, b in zip(fac.lefts, fac.rights)))
    )


def _default_rank_rtol(fac: Factorization) -> float:
    return 1e3 * np.finfo(float).eps * max(fac.dims[-1] * fac.dims[0], fac.depth)


def hessian_spectrum(
    fac: Factorization,
    scale: float = 0.5,
    *,
    rank_rtol: float | None = None,
    rtol_minimizer: float = 1e-10,
    max_dim: int = 4096,
) -> SpectrumResult:
    """All nonzero Hessian eigenvalues at a minimizer (dense ``eigh`` of K).

    Parameters
    ----------
    fac : Factorization
        A minimizer (``ValueError`` otherwise).
    scale : float, default 0.5
        Loss scale ``c``.
    rank_rtol : float, optional
        Eigenvalues of K below ``rank_rtol * lambda_max(K)`` count as zero. Default
        ``1000 * eps * max(d_L d_0, L)``.
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance on the relative residual.
    max_dim : int, default 4096
        Largest ``d_L d_0`` accepted.

    Returns
    -------
    SpectrumResult

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> spec = hessian_spectrum(Factorization([np.eye(2), 2 * np.eye(2)]))
    >>> spec.eigenvalues, spec.rank, spec.trace
    (array([5., 5., 5., 5.]), 4, 20.0)
    """
    c = check_scale(scale)
    fac.require_minimizer(rtol_minimizer, what="fac")
    rtol = _default_rank_rtol(fac) if rank_rtol is None else float(rank_rtol)
    if not (np.isfinite(rtol) and 0 <= rtol < 1):
        raise ValueError(f"rank_rtol: must be in [0, 1), got {rank_rtol!r}")
    mu = scipy.linalg.eigh(k_matrix(fac, max_dim=max_dim), eigvals_only=True)[::-1]
    keep = mu > rtol * mu[0] if mu[0] > 0 else np.zeros(mu.shape, bool)
    eig = 2.0 * c * mu[keep]
    return SpectrumResult(
        eigenvalues=eig,
        rank=int(keep.sum()),
        trace=hessian_trace(fac, c),
        n_params=fac.n_params,
        rank_rtol=rtol,
        scale=c,
    )


def hessian_rank(fac: Factorization, *, rank_rtol: float | None = None) -> int:
    """Rank of the Hessian at a minimizer (``= rank of K = rank of the Jacobian of P``).

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> hessian_rank(Factorization([np.ones((1, 2)), np.ones((2, 1))]))   # 2 x 2 rank-one M
    3
    """
    return hessian_spectrum(fac, rank_rtol=rank_rtol).rank


def top_eigenpairs(
    fac: Factorization,
    k: int = 1,
    scale: float = 0.5,
    *,
    tol: float = 1e-10,
    rtol_minimizer: float = 1e-10,
) -> EigenpairsResult:
    """The ``k`` largest Hessian eigenpairs at a minimizer, exactly through K.

    Dense ``eigh`` of K when ``d_L d_0 <= 400`` or ``k`` is close to ``d_L d_0``, otherwise
    Lanczos (``eigsh``) on :func:`k_operator`.

    Parameters
    ----------
    fac : Factorization
        A minimizer.
    k : int, default 1
        Number of pairs, ``1 <= k <= d_L d_0`` (the rank bound of the Hessian).
    scale : float, default 0.5
        Loss scale ``c``.
    tol : float, default 1e-10
        Lanczos tolerance.
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance.

    Returns
    -------
    EigenpairsResult

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])
    >>> top_eigenpairs(fac, k=2, scale=1.0).eigenvalues.round(6)
    array([402., 216.])
    """
    c = check_scale(scale)
    fac.require_minimizer(rtol_minimizer, what="fac")
    n = fac.dims[-1] * fac.dims[0]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k: must be an integer in [1, d_L d_0] = [1, {n}], got {k!r}")
    K = k_operator(fac)
    if n <= DENSE_K_MAX or k >= n - 1:
        mu, V = scipy.linalg.eigh(K.dense())
        mu, V = mu[::-1][:k], V[:, ::-1][:, :k]
        method = "dense-K"
    else:
        mu, V = eigsh(K, k=k, which="LA", tol=tol, v0=_rank_one_start(fac, K, None).ravel())
        order = np.argsort(mu)[::-1]
        mu, V = mu[order], V[:, order]
        method = "lanczos-K"
    n_mv = K.n_matvecs
    vals, vecs, res = [], [], []
    for j in range(k):
        lam, vec, eres = _finish_k(fac, c, K, V[:, j].reshape(K.dl, K.d0))
        vals.append(lam)
        vecs.append(vec)
        res.append(eres)
    return EigenpairsResult(
        eigenvalues=np.array(vals),
        eigenvectors=tuple(vecs),
        eigen_residuals=np.array(res),
        method=method,
        n_matvecs=n_mv,
        scale=c,
    )
