"""The exact operators behind the sharpness at a minimizer, their start vectors and their costs.

At a minimizer the Hessian is ``2c' J^T J`` with ``J[U] = sum_k A_k U_k B_k`` (``c' = c`` for the
factorization loss, ``c / n`` on data with ``reduction="mean"``; on data ``B_k`` includes the frozen
first layer ``F``). Its nonzero eigenvalues are ``2c'`` times those of any of:

* ``K = J J^T`` in **Gram form**, ``K(X) = sum_k G_k X H_k`` with ``G_k = A_k A_k^T`` (``p x p``,
  ``p = d_L``) and ``H_k = B_k^T B_k`` (``r x r``, ``r = d_0``, or ``rank X`` on data): two GEMMs
  with the stacked Grams per product (:class:`KOperator`, route ``lanczos-K``);
* ``K`` in **factored form**, ``K(X) = J[J^T X] = sum_k A_k (A_k^T X B_k^T) B_k``, whose cost is
  set by the thin sides ``d_k``, ``d_{k-1}`` and which stores no ``p x p`` / ``r x r`` Gram
  (:class:`FactoredKOperator`, route ``lanczos-K-factored``);
* the **parameter-side** ``J^T J`` on the ``N`` parameters (:class:`JtJOperator`, route
  ``lanczos-JtJ``): the same products, but Lanczos vectors of length ``N`` instead of ``p r``
  (the right choice for a bottleneck such as dims ``(3000, 3, 3000)``: ``p r = 9e6``,
  ``N = 18000``);
* the dense ``K`` (``p r`` square) or the dense ``J^T J`` (``N`` square), for small problems.

:func:`route_costs` is the flop and memory model that :func:`dmfsharp.sharpness` uses to choose.
Products with the identity partial products (``A_{L-1} = I``, ``B_0 = I``) are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator, eigsh

from .factorization import Factorization

__all__ = [
    "FactoredKOperator",
    "JtJOperator",
    "KOperator",
    "RouteCost",
    "route_costs",
]

#: Lanczos on K starts from a Kronecker-subspace Rayleigh-Ritz vector when
#: ``min(p, r)`` is at least this (below, the rank-one start is used directly).
KRON_START_MIN_WIDTH = 32
#: Largest Kronecker-subspace side (columns of ``U`` and ``V``) of that start.
KRON_START_MAX_SIDE = 96
#: ARPACK tolerance and ``ncv`` of the small projected eigenproblems inside the Kronecker start.
#: A residual of 1e-6 already puts the Ritz value within ~1e-12 of the projected maximum, and the
#: start only has to be good, not certified (1e-12 cost three times more inner products).
KRON_INNER_TOL, KRON_INNER_NCV = 1e-6, 10
#: Dense ``eigh`` of the projected Kronecker problems up to this dimension.
PROJECTED_DENSE_MAX = 400


# ---------------------------------------------------------------------------------- K, Gram form
def _kron_apply(G_cols: np.ndarray, H_rows: np.ndarray, L: int, Xs: np.ndarray) -> np.ndarray:
    """``sum_k G_k X_j H_k`` for a stack ``Xs`` of shape ``(b, a, c)``, with ``G_cols`` the
    ``(L * a, a)`` stack of the ``G_k`` and ``H_rows`` the ``(L * c, c)`` stack of the ``H_k``."""
    b, a, c = Xs.shape
    # Y[k, :, j*c:(j+1)*c] = G_k X_j, computed as one GEMM over all k and j.
    Y = G_cols @ np.moveaxis(Xs, 0, 1).reshape(a, b * c)
    # Sum_k Y_k H_k for every j: rearrange to (b * a, L * c) and multiply by H stacked.
    Y = Y.reshape(L, a, b, c).transpose(2, 1, 0, 3).reshape(b * a, L * c)
    return (Y @ H_rows).reshape(b, a, c)


def _kron_sum_dense(G: np.ndarray, H: np.ndarray) -> np.ndarray:
    """The dense symmetric ``sum_k kron(G_k, H_k)`` of the stacks ``G`` (``(L, a, a)``) and
    ``H`` (``(L, c, c)``), symmetrised against rounding."""
    n = G.shape[1] * H.shape[1]
    K = np.einsum("kab,kcd->acbd", G, H, optimize=True).reshape(n, n)
    return 0.5 * (K + K.T)


class _KBase(LinearOperator):
    """Common part of the two forms of ``K`` on C-order flattened ``p x r`` matrices."""

    def __init__(self, fac: Factorization):
        self.fac = fac
        self.dl, self.d0 = fac.dims[-1], fac.in_dim
        self.depth = fac.depth
        super().__init__(dtype=np.float64, shape=(self.dl * self.d0, self.dl * self.d0))
        self.n_matvecs = 0

    def apply(self, X: np.ndarray) -> np.ndarray:
        """``K`` applied to a ``(p, r)`` matrix or a ``(b, p, r)`` stack of them."""
        X = np.asarray(X, dtype=np.float64)
        single = X.ndim == 2
        Xs = X[None] if single else X
        self.n_matvecs += Xs.shape[0]
        Z = self._apply_stack(Xs)
        return Z[0] if single else Z

    def dense(self) -> np.ndarray:
        """The dense symmetric ``(p r, p r)`` matrix ``sum_k kron(G_k, H_k)``."""
        G = np.stack([self.fac.left(k, self.fac.lefts[k].T) for k in range(self.depth)])
        H = np.stack([self.fac.rights[k].T @ self.fac.rights[k] for k in range(self.depth)])
        return _kron_sum_dense(G, H)

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


class KOperator(_KBase):
    """The operator ``X -> sum_k (A_k A_k^T) X (B_k^T B_k)`` (Gram form) as a symmetric PSD
    ``scipy.sparse.linalg.LinearOperator``.

    One product costs two matrix multiplications with the stacked Gram matrices
    (``L p r (p + r)`` multiply-adds); blocks of vectors are done in the same two calls.
    ``n_matvecs`` counts vectors multiplied.
    """

    def __init__(self, fac: Factorization):
        super().__init__(fac)
        L, dl, d0 = self.depth, self.dl, self.d0
        # the identity Grams (last G, first H of the factorization loss) are written, not
        # multiplied: I^T I = I bit for bit, and a 3000^3 product is not free
        self.G_stack = np.stack(
            [np.eye(dl) if fac.left_is_identity(k) else a @ a.T for k, a in enumerate(fac.lefts)]
        )
        self.H_stack = np.stack(
            [np.eye(d0) if fac.right_is_identity(k) else b.T @ b for k, b in enumerate(fac.rights)]
        )
        self.G_cols = self.G_stack.reshape(L * dl, dl)
        self.H_rows = self.H_stack.reshape(L * d0, d0)

    def _apply_stack(self, Xs):
        return _kron_apply(self.G_cols, self.H_rows, self.depth, Xs)

    def gram_left(self, U: np.ndarray) -> np.ndarray:
        """``(L, p, m)`` stack of ``G_k U``."""
        return self.G_stack @ U

    def gram_right(self, V: np.ndarray) -> np.ndarray:
        """``(L, r, m)`` stack of ``H_k V``."""
        return self.H_stack @ V

    def dense(self) -> np.ndarray:
        return _kron_sum_dense(self.G_stack, self.H_stack)


# ---------------------------------------------------------------------------------- factored
def _left_first(fac: Factorization, k: int) -> bool:
    """Order of ``A_k U B_k`` / ``A_k^T Z B_k^T`` with the fewer multiply-adds: left first costs
    ``d_k r (p + d_{k-1})``, right first ``p d_{k-1} (r + d_k)`` (identities skipped)."""
    p, r = fac.dims[-1], fac.in_dim
    dk, dkm = fac.dims[k + 1], fac.dims[k]
    return dk * r * (p + dkm) <= p * dkm * (r + dk)


def j_apply(fac: Factorization, blocks) -> np.ndarray:
    """``J[U] = sum_k A_k U_k B_k`` (``p x r``): the first-order change of ``fitted``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.array([[2.0]]), np.array([[3.0]])])
    >>> j_apply(fac, [np.ones((1, 1)), np.zeros((1, 1))])     # d(w2 w1) along w1 = w2
    array([[3.]])
    """
    Z, owned = None, False
    for k, u in enumerate(blocks):
        if _left_first(fac, k):
            t = fac.left(k, fac.right(k, u))
        else:
            t = fac.right(k, fac.left(k, u))
        if Z is None:
            Z, owned = t, t is not u  # a skipped identity returns the caller's block itself
        elif owned:
            Z += t  # in place: the p x r sums are memory-bound
        else:
            Z, owned = Z + t, True
    return Z


def jt_apply(fac: Factorization, Z: np.ndarray) -> list[np.ndarray]:
    """``J^T[Z]``: the blocks ``A_k^T Z B_k^T``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.array([[2.0]]), np.array([[3.0]])])
    >>> [float(b[0, 0]) for b in jt_apply(fac, np.ones((1, 1)))]
    [3.0, 2.0]
    """
    out = []
    for k in range(fac.depth):
        if _left_first(fac, k):
            out.append(fac.right_t(k, fac.left_t(k, Z)))
        else:
            out.append(fac.left_t(k, fac.right_t(k, Z)))
    return out


class FactoredKOperator(_KBase):
    """``K(X) = J[J^T X]`` in factored form (no ``p x p`` or ``r x r`` Gram stored).

    Per product ``2 sum_k min(d_k r (p + d_{k-1}), p d_{k-1} (r + d_k))`` multiply-adds.
    """

    def _apply_stack(self, Xs):
        fac = self.fac
        return np.stack([j_apply(fac, jt_apply(fac, X)) for X in Xs])

    def gram_left(self, U: np.ndarray) -> np.ndarray:
        fac = self.fac
        return np.stack([fac.left(k, fac.left_t(k, U)) for k in range(self.depth)])

    def gram_right(self, V: np.ndarray) -> np.ndarray:
        fac = self.fac
        out = []
        for k in range(self.depth):
            if fac.right_is_identity(k):
                out.append(V)
            else:
                b = fac.rights[k]
                out.append(b.T @ (b @ V))
        return np.stack(out)


class JtJOperator(LinearOperator):
    """The Gauss-Newton matrix ``J^T J`` on flat parameter vectors (the parameter side).

    At a minimizer the Hessian is ``2c' J^T J``; its nonzero spectrum is that of ``K``. One
    product costs the same multiply-adds as one :class:`FactoredKOperator` product, but the
    Lanczos vectors have length ``N = n_params`` instead of ``p r``.
    """

    def __init__(self, fac: Factorization):
        self.fac = fac
        super().__init__(dtype=np.float64, shape=(fac.n_params, fac.n_params))
        self.n_matvecs = 0

    def _matvec(self, x):
        self.n_matvecs += 1
        fac = self.fac
        return fac.join(jt_apply(fac, j_apply(fac, fac.split(np.ravel(x)))))

    def _rmatvec(self, x):
        return self._matvec(x)

    def _adjoint(self):
        return self

    def dense(self) -> np.ndarray:
        """The dense ``(N, N)`` matrix, block ``(i, j)`` = ``(A_i^T A_j) kron (B_i B_j^T)``."""
        fac = self.fac
        A = [fac.lefts[k] for k in range(fac.depth)]
        B = [fac.rights[k] for k in range(fac.depth)]
        rows = [
            [np.kron(A[i].T @ A[j], B[i] @ B[j].T) for j in range(fac.depth)]
            for i in range(fac.depth)
        ]
        M = np.block(rows)
        return 0.5 * (M + M.T)


# ---------------------------------------------------------------------------------- starts
def rank_one_start(
    fac: Factorization, K: _KBase, rng, sweeps: int = 30, power_steps: int = 8
) -> np.ndarray:
    """Start vector ``y x^T`` for Lanczos on K: an approximate maximiser of the rank-one
    relaxation ``sum_k ||A_k^T y||^2 ||B_k x||^2`` by alternating power steps, started from an
    approximate top singular pair of ``fitted`` (``power_steps`` power iterations; drawn from
    ``rng`` when it vanishes).

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0])])
    >>> rank_one_start(fac, KOperator(fac), 0).round(12)      # the top direction e_2 e_2^T
    array([[0., 0.],
           [0., 1.]])
    """
    P = fac.fitted
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
        Hx = K.gram_right(x[:, None])[..., 0]
        wx = Hx @ x  # ||B_k x||^2 for every k
        y_new = wx @ K.gram_left(y[:, None])[..., 0]
        ny = np.linalg.norm(y_new)
        if ny == 0:
            break
        y_new /= ny
        wy = K.gram_left(y_new[:, None])[..., 0] @ y_new  # ||A_k^T y||^2
        x_new = wy @ Hx
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
    """Top eigenpair of ``sum_k Gp_k (x) Hp_k`` (small; dense ``eigh`` up to
    ``PROJECTED_DENSE_MAX``, else Lanczos warm-started from ``Y0`` to the loose
    ``KRON_INNER_TOL``)."""
    L, p, _ = Gp.shape
    q = Hp.shape[1]
    n = p * q
    if n <= PROJECTED_DENSE_MAX:
        w, v = scipy.linalg.eigh(_kron_sum_dense(Gp, Hp), subset_by_index=[n - 1, n - 1])
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


def kronecker_subspace_start(K: _KBase, X0: np.ndarray, rng, block: int = 16) -> np.ndarray:
    """Refine a rank-one start ``X0 = y x^T`` by Rayleigh-Ritz on Kronecker subspaces
    ``span(U) (x) span(V)`` grown from the residual (a Davidson method in factor space).

    The projected operator ``sum_k (U^T G_k U) (x) (V^T H_k V)`` is small, and growing ``U``
    costs products ``G_k U_new`` with thin matrices only, so this is much cheaper than products
    with K; it typically brings the start from ~1e-3 to ~1e-8 relative eigenvalue error at
    width 256 and cuts the Lanczos products that follow from ~26 to 7. It only chooses the start
    vector: the eigenvalue is certified afterwards by Lanczos. ``X0`` must be rank one (its
    factors are read off a column and ``X0^T y``, no SVD); the projected problems are solved only
    to ``KRON_INNER_TOL``. ``rng`` draws the sketching vectors (a fixed seed: the start, hence
    the result, is a pure function of the inputs).

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import gaussian_minimizer
    >>> fac = gaussian_minimizer((40, 6, 36), rng=0)
    >>> K = KOperator(fac)
    >>> X = kronecker_subspace_start(K, rank_one_start(fac, K, 0), 0)
    >>> X.shape, round(float(np.linalg.norm(X)), 12)
    ((36, 40), 1.0)
    """
    L, dl, d0 = K.depth, K.dl, K.d0
    cap = min(KRON_START_MAX_SIDE, dl, d0, max(8, min(dl, d0) // 3))
    g = np.random.default_rng(rng)
    # X0 = y x^T: its largest column is along y, and X0^T y along x (no SVD needed)
    y = X0[:, np.argmax(np.einsum("ij,ij->j", X0, X0))]
    x = y @ X0
    U, V = (y / np.linalg.norm(y))[:, None], (x / np.linalg.norm(x))[:, None]
    GU, HV = K.gram_left(U), K.gram_right(V)
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
                U, GU = np.hstack([U, new]), np.concatenate([GU, K.gram_left(new)], axis=2)
                added = True
        if q < cap:
            om = g.standard_normal((dl, block))
            new = _orth_new(V, Qc @ (Pc.T @ om) - theta * (V @ (Y.T @ (U[:, :p].T @ om))))
            new = new[:, : cap - q]
            if new.size:
                V, HV = np.hstack([V, new]), np.concatenate([HV, K.gram_right(new)], axis=2)
                added = True
        if not added:
            break
        # keep Y aligned with the grown bases (new coordinates start at zero)
        Yg = np.zeros((U.shape[1], V.shape[1]))
        Yg[:p, :q] = Y
        Y = Yg
    return U @ Y @ V.T


def k_start(fac: Factorization, K: _KBase, rng) -> tuple[np.ndarray, bool]:
    """The K-space start vector of every Lanczos route: the rank-one start, refined by the
    Kronecker-subspace Ritz vector when ``min(p, r) >= KRON_START_MIN_WIDTH``. Returns the
    ``(p, r)`` start and whether it was refined.

    Examples
    --------
    >>> from dmfsharp import gaussian_minimizer
    >>> fac = gaussian_minimizer((4, 5, 3), rng=0)
    >>> X0, refined = k_start(fac, FactoredKOperator(fac), 0)
    >>> X0.shape, refined
    ((3, 4), False)
    """
    X0 = rank_one_start(fac, K, rng)
    if min(K.dl, K.d0) >= KRON_START_MIN_WIDTH:
        return kronecker_subspace_start(K, X0, rng), True
    return X0, False


# ---------------------------------------------------------------------------------- cost model
#: Multiply-add equivalents of one element touched by a Lanczos vector operation (memory-bound
#: streams are ~15x slower per element than a multiply-add inside a large GEMM).
VECTOR_OP_COST = 16.0
#: Multiply-add equivalents of one Python-level operator product (call overheads).
CALL_COST = 2.0e5
#: Products assumed for a cold Lanczos solve (the measured count from the Kronecker start is
#: 7-10; rank-one starts need ~20-30).
LANCZOS_PRODUCTS = 12
#: Largest dimension of a dense eigh in ``method="auto"``.
DENSE_MAX = 400
#: Fraction of physical memory a route may plan to use.
MEMORY_FRACTION = 0.5


def _physical_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8.0 * 2**30


@dataclass(frozen=True)
class RouteCost:
    """Modelled cost of one exact route at a minimizer.

    Attributes
    ----------
    method : str
        ``"dense-K"``, ``"dense-JtJ"``, ``"lanczos-K"``, ``"lanczos-K-factored"`` or
        ``"lanczos-JtJ"``.
    dimension : int
        Size of the eigenproblem (``p r`` or ``N``).
    setup : float
        Multiply-adds before the first product (Gram matrices, dense build and ``eigh``).
    per_product : float
        Multiply-add equivalents of one Lanczos step (operator product, vector operations and
        call overhead); 0 for the dense routes.
    total : float
        ``setup + LANCZOS_PRODUCTS * per_product``.
    memory_bytes : float
        Largest planned working memory.
    feasible : bool
        Whether ``memory_bytes`` fits in ``MEMORY_FRACTION`` of the physical memory (and a dense
        route's dimension is at most ``4096``).
    """

    method: str
    dimension: int
    setup: float
    per_product: float
    total: float
    memory_bytes: float
    feasible: bool


def _j_cost(fac: Factorization) -> float:
    """Multiply-adds of one ``J`` (or ``J^T``) application, identities skipped."""
    p, r = fac.dims[-1], fac.in_dim
    total = 0.0
    for k in range(fac.depth):
        dk, dkm = fac.dims[k + 1], fac.dims[k]
        left_eye, right_eye = fac.left_is_identity(k), fac.right_is_identity(k)
        if left_eye and right_eye:
            continue
        if left_eye:
            total += dk * dkm * r
        elif right_eye:
            total += p * dk * dkm
        else:
            total += min(dk * r * (p + dkm), p * dkm * (r + dk))
    return total


def route_costs(fac: Factorization) -> list[RouteCost]:
    """The flop and memory model of every exact minimizer route, cheapest feasible first.

    Parameters
    ----------
    fac : Factorization
        The minimizer (only its shapes are used).

    Returns
    -------
    list of RouteCost
        Sorted by ``(not feasible, total)``.

    Examples
    --------
    >>> from dmfsharp import gaussian_minimizer
    >>> [c.method for c in route_costs(gaussian_minimizer((3000, 3, 3000), rng=0))][:1]
    ['lanczos-JtJ']
    """
    p, r, L, N = fac.dims[-1], fac.in_dim, fac.depth, fac.n_params
    n_k = p * r
    budget = MEMORY_FRACTION * _physical_memory()
    ncv = 10
    jc = _j_cost(fac)
    grams = sum(
        (0 if fac.left_is_identity(k) else p * p * fac.dims[k + 1])
        + (0 if fac.right_is_identity(k) else r * r * fac.dims[k])
        for k in range(L)
    )
    out = []

    def add(method, dim, setup, per, mem, dense=False):
        ok = mem <= budget and (not dense or dim <= 4096)
        total = setup + (0 if dense else LANCZOS_PRODUCTS * per)
        out.append(
            RouteCost(method, int(dim), float(setup), float(per), float(total), float(mem), ok)
        )

    eigh = lambda n: 4.0 / 3.0 * n**3 + 9.0 * n**2  # noqa: E731 - tridiagonalisation + top pair
    add(
        "dense-K",
        n_k,
        grams + L * n_k**2 + eigh(n_k),
        0,
        8.0 * (2 * n_k**2 + L * (p * p + r * r)),
        True,
    )
    add("dense-JtJ", N, L * L * N + N * N + eigh(N), 0, 8.0 * 3 * N**2, True)
    vec = VECTOR_OP_COST * 2 * ncv
    add(
        "lanczos-K",
        n_k,
        grams,
        L * n_k * (p + r) + vec * n_k + CALL_COST,
        8.0 * (L * (p * p + r * r) + (ncv + 4) * n_k + L * n_k),
    )
    add(
        "lanczos-K-factored",
        n_k,
        0.0,
        2 * jc + vec * n_k + (4 * L + 1) * CALL_COST / 8,
        8.0 * ((ncv + 6) * n_k),
    )
    add(
        "lanczos-JtJ",
        N,
        0.0,
        2 * jc + vec * N + (4 * L + 1) * CALL_COST / 8 + 2 * VECTOR_OP_COST * n_k,
        8.0 * ((ncv + 6) * N + 3 * n_k),
    )
    out.sort(key=lambda c: (not c.feasible, c.total))
    return out
