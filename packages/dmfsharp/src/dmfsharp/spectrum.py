"""Exact sharpness and Hessian spectrum of ``l(W) = c * ||W_L ... W_1 - M||_F^2`` (or of the
data loss ``c * weight * ||W_L ... W_1 X - Y||_F^2`` of a :class:`~dmfsharp.Factorization` on data).

At a minimizer the Hessian is ``2c' J^T J`` with ``J[U] = sum_k A_k U_k B_k`` (``c' = c *
weight``), so its nonzero eigenvalues are exactly ``2c'`` times the nonzero eigenvalues of the
``p r``-dimensional PSD operator

    ``K(X) = sum_k (A_k A_k^T) X (B_k^T B_k)``    (``K = J J^T``; ``p = d_L``, ``r = d_0``),

and a unit eigenvector ``X`` of ``K`` with eigenvalue ``mu > 0`` maps to the unit Hessian
eigenvector ``U_k = A_k^T X B_k^T / sqrt(mu)``. This holds at *any* minimizer, for any depth and
widths. On data ``B_k`` includes the frozen first layer ``F`` of ``X^T = Q F^T`` and ``r = rank X``
(``K_F``), and "minimizer" means the normal equations ``(P X - Y) X^T = 0``: the targets need not be
realizable. :func:`sharpness` chooses among the equivalent exact routes (Gram or factored form of
``K``, the parameter-side ``J^T J``, dense ``eigh``) by the flop and memory model of
:func:`dmfsharp.operators.route_costs` and names the route in ``method``.

Away from a minimizer the residual terms of the Hessian do not vanish and K is not the Hessian;
there :func:`sharpness` runs Lanczos (``scipy.sparse.linalg.eigsh``, ``which='LA'``) on the exact
analytic Hessian-vector product (or a dense ``eigh`` for small problems) and says so in its result.

Every start vector is a pure function of the inputs (random draws come from ``rng``, default seed
0), so the same input gives the same bits.

Matrices ``X`` in the ``p x r`` space are flattened in C order; the dense ``K`` is then
``sum_k kron(A_k A_k^T, B_k^T B_k)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from ._lanczos import lanczos_top
from .derivatives import dense_hessian, effective_scale, hessian_operator
from .factorization import Factorization, check_count, check_scale, check_tolerance
from .operators import (
    DENSE_MAX,
    FactoredKOperator,
    JtJOperator,
    KOperator,
    j_apply,
    jt_apply,
    k_start,
    rank_one_start,
    route_costs,
)

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

#: Former fixed thresholds of ``method="auto"`` (kept as names for callers): a dense ``eigh`` is
#: used up to this dimension of the smaller exact eigenproblem (``p r`` or ``n_params``).
DENSE_K_MAX = DENSE_MAX
#: ``sharpness(method="auto")`` uses a dense Hessian ``eigh`` off a minimizer up to this many
#: parameters.
DENSE_HESSIAN_MAX = 400
#: Default seed of every random draw (a start vector when ``fitted`` vanishes, Kronecker-start
#: sketches, the ``lanczos-hvp`` start) when ``rng`` is None.
DEFAULT_SEED = 0
METHODS = (
    "auto",
    "scalar-closed-form",
    "dense-K",
    "dense-JtJ",
    "lanczos-K",
    "lanczos-K-factored",
    "lanczos-JtJ",
    "dense-hessian",
    "lanczos-hvp",
)
_MINIMIZER_METHODS = METHODS[1:7]


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
        ``"scalar-closed-form"``, ``"dense-K"``, ``"dense-JtJ"``, ``"lanczos-K"``,
        ``"lanczos-K-factored"``, ``"lanczos-JtJ"`` (exact reduction at a minimizer; see
        :mod:`dmfsharp.operators`) or ``"dense-hessian"``, ``"lanczos-hvp"`` (full Hessian,
        any point).
    residual_norm : float
        ``||P - M||_F`` of the factorization (on data ``||P F - Y Q||_F``, the residual within
        the row space of ``X``).
    is_minimizer : bool
        Whether the point was treated as a minimizer (relative residual <= ``rtol_minimizer``).
        When False, the K reduction does not apply and the full Hessian was used.
    n_matvecs : int
        Operator products used (K products for ``*-K*`` methods, ``J^T J`` products for
        ``lanczos-JtJ``, Hessian-vector products for ``lanczos-hvp``; 0 for closed forms and
        dense builds of K or ``J^T J``, ``n_params`` for the dense Hessian, which is built from
        that many HVPs). For ``lanczos-K`` the thin products of
        the Kronecker-subspace start vector (``G_k U`` with ``U`` of at most 96 columns) are
        not counted; wall time includes them.
    converged : bool
        Whether the eigensolver met its tolerance (always True for dense and closed forms).
    eigen_residual : float
        ``||H v - lambda_max v||`` of the returned unit vector ``v`` (Hessian units). At a
        minimizer it is computed exactly through K (``H = 2c J^T J``).
    scale : float
        The loss scale ``c`` (on data the Hessian is that of ``c * weight * ||P X - Y||^2``).
    note : str
        A one-line human-readable statement of what was computed.
    gauss_newton : bool
        Whether the Hessian equals the Gauss-Newton matrix ``2c' J^T J`` at this point (a
        minimizer: the exact K / ``J^T J`` routes were used). False off a minimizer, e.g. at the
        minimizers of a reduced-rank regression (widths below the rank of the least-squares
        solution), where the residual terms are included through the exact HVP.
    n_samples : int or None
        Number of samples on data (``None`` for the factorization loss).
    reduction : str or None
        ``"mean"`` or ``"sum"`` on data (``None`` for the factorization loss).
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
    gauss_newton: bool = False
    n_samples: int | None = None
    reduction: str | None = None

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
def k_operator(fac: Factorization, form: str = "gram"):
    """Matrix-free ``K(X) = sum_k (A_k A_k^T) X (B_k^T B_k)`` (see :class:`KOperator`).

    Parameters
    ----------
    fac : Factorization
        Any factorization, on data or not (K is the Gauss-Newton operator ``J J^T``; it equals
        the Hessian's nonzero part only at a minimizer).
    form : {"gram", "factored"}, default "gram"
        Gram form (:class:`dmfsharp.operators.KOperator`) or factored form
        (:class:`dmfsharp.operators.FactoredKOperator`); the same operator.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Shape ``(p r, p r)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> K = k_operator(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    >>> K @ np.ones(1)
    array([13.])
    """
    if form not in ("gram", "factored"):
        raise ValueError(f"form: must be 'gram' or 'factored', got {form!r}")
    return KOperator(fac) if form == "gram" else FactoredKOperator(fac)


def k_matrix(fac: Factorization, max_dim: int = 4096) -> np.ndarray:
    """Dense ``K = sum_k kron(A_k A_k^T, B_k^T B_k)`` (C-order flattening of ``X``).

    Parameters
    ----------
    fac : Factorization
        Any factorization.
    max_dim : int, default 4096
        Refuse ``p r > max_dim`` (the matrix has ``(p r)^2`` entries).

    Returns
    -------
    ndarray
        Symmetric PSD ``(p r, p r)`` matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> k_matrix(Factorization([np.eye(2), 2 * np.eye(2)])).diagonal()
    array([5., 5., 5., 5.])
    """
    max_dim = check_count(max_dim, "max_dim")
    n = fac.dims[-1] * fac.in_dim
    if n > max_dim:
        raise ValueError(
            f"fac: d_L * d_0 = {n} exceeds max_dim = {max_dim} for a dense K; use k_operator()"
        )
    return KOperator(fac).dense()


# ---------------------------------------------------------------------------------- helpers
def _unit_blocks(fac: Factorization, blocks: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    norm = np.sqrt(sum(float(np.sum(b * b)) for b in blocks))
    if norm == 0 or not np.isfinite(norm):
        return _first_basis_vector(fac)
    return tuple(b / norm for b in blocks)


def _first_basis_vector(fac: Factorization) -> tuple[np.ndarray, ...]:
    e = np.zeros(fac.n_params)
    e[0] = 1.0
    return tuple(fac.split(e))


def _rng(rng):
    return DEFAULT_SEED if rng is None else rng


def _rank_deficit_note(fac: Factorization) -> str:
    """Why a point on data is not a minimizer, when the widths explain it."""
    if fac.data is None or fac.depth < 2:
        return ""
    s = np.linalg.svd(fac.fit_target, compute_uv=False)
    r_ls = int(
        np.sum(s > max(fac.fit_target.shape) * np.finfo(float).eps * (s[0] if s.size else 0))
    )
    width = min(fac.dims[1:-1])
    if r_ls > width:
        return (
            f"; the least-squares solution has rank {r_ls} > the smallest width {width} "
            "(reduced-rank regression: no point satisfies the normal equations)"
        )
    return ""


def _choose_method(fac: Factorization, minimizer: bool) -> str:
    if minimizer:
        if max(fac.dims) == 1 and fac.in_dim == 1:
            return "scalar-closed-form"
        n_k, N = fac.dims[-1] * fac.in_dim, fac.n_params
        if min(n_k, N) <= DENSE_MAX:
            return "dense-K" if n_k <= N else "dense-JtJ"
        lanczos = [c for c in route_costs(fac) if c.method.startswith("lanczos")]
        return lanczos[0].method
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
    v0=None,
) -> SharpnessResult:
    """Largest Hessian eigenvalue (sharpness) of ``c * ||W_L ... W_1 - M||_F^2`` (or of the data
    loss of a factorization on data) and its eigenvector.

    At a minimizer the result is exact (closed form for scalar factorizations, otherwise the
    top eigenpair of ``K`` or of ``J^T J``, dense or by Lanczos); elsewhere it is the top
    eigenpair of the full Hessian from the analytic HVP.

    Parameters
    ----------
    fac : Factorization
        The point (on data: ``Factorization(weights, data=Data(X, Y))``).
    scale : float, default 0.5
        Loss scale ``c`` (``1.0`` for the paper's convention). ``lambda_max`` is proportional to
        ``2c``.
    method : str, default "auto"
        ``"auto"`` at a minimizer: ``"scalar-closed-form"`` (all widths 1), a dense ``eigh`` of
        the smaller of ``K`` and ``J^T J`` (``"dense-K"`` / ``"dense-JtJ"``) when that dimension
        is ``<= 400``, else the Lanczos route (``"lanczos-K"``, ``"lanczos-K-factored"``,
        ``"lanczos-JtJ"``) that the flop and memory model
        :func:`dmfsharp.operators.route_costs` finds cheapest. Elsewhere ``"dense-hessian"``
        (``n_params <= 400``) or ``"lanczos-hvp"``. The minimizer methods raise ``ValueError``
        off a minimizer. Lanczos on a problem of dimension < 3 (ARPACK's minimum) runs the dense
        method instead and reports that.
    tol : float, default 1e-7
        Lanczos stopping tolerance: relative residual ``||K x - mu x|| <= tol * mu`` (ARPACK's
        criterion). The eigenvalue error is then at most about ``tol**2 * mu / gap`` (``gap``:
        distance to the next eigenvalue), i.e. ``<= 1e-10`` relative for relative gaps
        ``>= 1e-4`` — far below ``tol``. ``eigen_residual`` reports the achieved residual.
    rng : Generator, SeedSequence or int, optional
        Random draws of the start vectors (``fitted`` zero, Kronecker-start sketches,
        ``lanczos-hvp``). Default: seed 0, so the result is a pure function of the inputs.
    rtol_minimizer : float, default 1e-10
        The point counts as a minimizer when :meth:`Factorization.relative_residual` is at most
        this (``||P - M|| / ||M||``; on data the normal-equation residual
        ``||(PX - Y)X^T|| / ||YX^T||``).
    maxiter : int, optional
        Maximum Lanczos restarts (ARPACK ``maxiter``).
    v0 : array_like, optional
        Warm start: a flat parameter vector (e.g. the previous top eigenvector along a training
        run). Lanczos then checks convergence after every product (a few products when ``v0`` is
        close), on the route's own space (``J v0`` for the K routes); off a minimizer ``"auto"``
        then takes ``"lanczos-hvp"`` instead of a dense Hessian.

    Returns
    -------
    SharpnessResult

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])
    >>> res = sharpness(fac, scale=1.0)        # the counterexample to S = lambda_max, c = 1
    >>> round(res.lambda_max, 9), res.method, res.is_minimizer
    (402.0, 'dense-K', True)
    """
    c = check_scale(scale)
    if not isinstance(fac, Factorization):
        raise TypeError(f"fac: expected a dmfsharp.Factorization, got {type(fac).__name__}")
    if method not in METHODS:
        raise ValueError(f"method: must be one of {', '.join(METHODS)}; got {method!r}")
    try:
        tol_ok = bool(np.isfinite(tol) and 0 < tol < 1)
    except TypeError:
        tol_ok = False
    if not tol_ok:
        raise ValueError(f"tol: must be in (0, 1), got {tol!r}")
    if maxiter is not None:
        maxiter = check_count(maxiter, "maxiter")
    if v0 is not None:
        v0 = np.asarray(v0, dtype=np.float64).ravel()
        if v0.shape != (fac.n_params,) or not np.all(np.isfinite(v0)) or not np.any(v0):
            raise ValueError(f"v0: expected a finite nonzero vector of length {fac.n_params}")
    minimizer = fac.is_minimizer(rtol_minimizer)
    if method == "auto":
        method = _choose_method(fac, minimizer)
        if v0 is not None and method == "dense-hessian":
            method = "lanczos-hvp"  # a warm start needs a few HVPs, a dense Hessian n_params
    # ARPACK needs a dimension >= 3 (k = 1 < ncv <= n); tiny problems go dense.
    n_k = fac.dims[-1] * fac.in_dim
    if method in ("lanczos-K", "lanczos-K-factored") and n_k < 3:
        method = "dense-K"
    elif method == "lanczos-JtJ" and fac.n_params < 3:
        method = "dense-JtJ"
    elif method == "lanczos-hvp" and fac.n_params < 3:
        method = "dense-hessian"
    if method in _MINIMIZER_METHODS:
        fac.require_minimizer(rtol_minimizer, what=f"fac (method={method!r})")
        if method == "scalar-closed-form" and not (max(fac.dims) == 1 and fac.in_dim == 1):
            raise ValueError(
                f"method: 'scalar-closed-form' needs all widths 1, got dims {fac.dims}"
            )
    ce = effective_scale(fac, c)
    solver = {
        "scalar-closed-form": _sharpness_scalar,
        "dense-K": _sharpness_dense_k,
        "dense-JtJ": _sharpness_dense_jtj,
        "lanczos-K": _sharpness_lanczos_k,
        "lanczos-K-factored": _sharpness_lanczos_k,
        "lanczos-JtJ": _sharpness_lanczos_jtj,
        "dense-hessian": _sharpness_dense_hessian,
        "lanczos-hvp": _sharpness_lanczos_hvp,
    }[method]
    lam, vec, n_mv, conv, eres, note = solver(
        fac, ce, tol=tol, rng=_rng(rng), maxiter=maxiter, v0=v0, method=method, scale=c
    )
    if fac.data is not None:
        note += f" [{fac.data.describe()}]"
        if not minimizer:
            note += _rank_deficit_note(fac)
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
        gauss_newton=method in _MINIMIZER_METHODS,
        n_samples=None if fac.data is None else fac.data.n_samples,
        reduction=None if fac.data is None else fac.data.reduction,
    )


def _scalar_g(fac: Factorization) -> np.ndarray:
    """``g_k = prod_{j != k} w_j`` of a scalar factorization (from the partial products, no
    division; on data times the 1 x 1 frozen layer); the Hessian at a minimizer is ``2c g g^T``."""
    return np.array([a[0, 0] * b[0, 0] for a, b in zip(fac.lefts, fac.rights)])


def _scalar_lambda(fac: Factorization, c: float) -> float:
    """``2c * g @ g``: the one nonzero Hessian eigenvalue of a scalar minimizer (the single
    summation shared by :func:`sharpness` and :func:`dmfsharp.scalar_sharpness`, so both give
    the same number bit for bit)."""
    g = _scalar_g(fac)
    return 2.0 * c * float(g @ g)


def _sharpness_scalar(fac, c, **_):
    g = _scalar_g(fac)  # prod_{j != k} w_j
    lam = _scalar_lambda(fac, c)
    vec = _unit_blocks(fac, [np.array([[x]]) for x in g])
    return lam, vec, 0, True, 0.0, "exact: scalar closed form 2c * sum_i prod_{j != i} w_j^2"


def _finish_k(fac, c, K, X: np.ndarray):
    """Rayleigh quotient, Hessian eigenvector and residual from a K eigenvector estimate."""
    X = X / np.linalg.norm(X)
    KX = K.apply(X)
    mu = max(float(np.sum(X * KX)), 0.0)
    if mu <= 0:
        return 0.0, _first_basis_vector(fac), 0.0
    vec = _unit_blocks(fac, jt_apply(fac, X))
    r = KX - mu * X
    eres = 2.0 * c * float(np.sqrt(max(np.sum(r * K.apply(r)), 0.0) / mu))
    return 2.0 * c * mu, vec, eres


def _sharpness_dense_k(fac, c, **_):
    K = KOperator(fac)
    Kd = K.dense()
    n = Kd.shape[0]
    _, v = scipy.linalg.eigh(Kd, subset_by_index=[n - 1, n - 1])
    lam, vec, eres = _finish_k(fac, c, K, v[:, 0].reshape(K.dl, K.d0))
    return lam, vec, 0, True, eres, "exact: dense eigh of the d_L d_0 operator K (minimizer)"


def _finish_jtj(fac, c, op: JtJOperator, u: np.ndarray):
    """Rayleigh quotient and residual of a unit ``J^T J`` eigenvector estimate (Hessian units)."""
    u = u / np.linalg.norm(u)
    Hu = 2.0 * c * op.matvec(u)
    lam = float(u @ Hu)
    return lam, tuple(fac.split(u)), float(np.linalg.norm(Hu - lam * u))


def _sharpness_dense_jtj(fac, c, **_):
    op = JtJOperator(fac)
    M = op.dense()
    n = M.shape[0]
    _, v = scipy.linalg.eigh(M, subset_by_index=[n - 1, n - 1])
    lam, vec, eres = _finish_jtj(fac, c, op, v[:, 0])
    return lam, vec, 0, True, eres, "exact: dense eigh of the parameter-side J^T J (minimizer)"


#: A warm start ``v0`` is mixed with this relative amount of a seeded random unit vector, and
#: Lanczos takes at least ``WARM_MIN_PRODUCTS`` products: a residual certifies *an* eigenpair,
#: and these let the top eigenvalue take over when ``v0`` follows an eigenvector that is no longer
#: the top one (an eigenvalue crossing along a trajectory).
WARM_RANDOM_MIX = 1e-2
WARM_MIN_PRODUCTS = 4


def _warm_lanczos(matvec, v0, tol, maxiter):
    budget = 1000 if maxiter is None else 40 * maxiter
    v0 = np.asarray(v0, dtype=np.float64).ravel()
    noise = np.random.default_rng(DEFAULT_SEED).standard_normal(v0.size)
    start = v0 / np.linalg.norm(v0) + WARM_RANDOM_MIX * noise / np.linalg.norm(noise)
    res = lanczos_top(
        matvec, start, tol=tol, max_matvecs=budget, min_matvecs=min(WARM_MIN_PRODUCTS, v0.size)
    )
    return res.vector, res.converged


def _sharpness_lanczos_k(fac, c, *, tol, rng, maxiter, v0, method, **_):
    """Lanczos on K (Gram or factored form) from the rank-one / Kronecker-subspace start.

    Cost at L = 10, width 256 (one thread, ~0.2 s in all): 9 K products of ~12 ms (7 Lanczos,
    then ``K X`` and ``K r`` for the Rayleigh quotient and ``eigen_residual``), the start vector
    ~50 ms, Gram matrices and eigenvector blocks ~30 ms. The 7 Lanczos products are set by the
    residual criterion ``tol``, not by the eigenvalue (already ~1e-10 relative after 2): plain
    Lanczos with full reorthogonalisation from the same start needs 7 as well, and a larger
    Kronecker subspace or other ``ncv`` values did not lower it.
    """
    K = KOperator(fac) if method == "lanczos-K" else FactoredKOperator(fac)
    n = K.shape[0]
    form = "Gram" if method == "lanczos-K" else "factored"
    converged = True
    if v0 is not None:
        X0 = j_apply(fac, fac.split(v0))
        if not np.any(X0):
            X0 = rank_one_start(fac, K, rng)
        x, converged = _warm_lanczos(K.matvec, X0.ravel(), tol, maxiter)
        v = x[:, None]
        note = f"exact reduction to K (minimizer); warm-started Lanczos on K ({form} form)"
    else:
        X0, refined = k_start(fac, K, rng)
        ncv = 6 if refined else 10
        try:
            _, v = eigsh(
                K, k=1, which="LA", v0=X0.ravel(), tol=tol, ncv=min(n, ncv), maxiter=maxiter
            )
        except ArpackNoConvergence as exc:
            converged = False
            v = exc.eigenvectors if exc.eigenvectors.size else X0.reshape(-1, 1)
        note = f"exact reduction to K (minimizer); Lanczos on K ({form} form)"
        if refined:
            note += " from a Kronecker-subspace Ritz start"
    lam, vec, eres = _finish_k(fac, c, K, v[:, 0].reshape(K.dl, K.d0))
    n_mv = K.n_matvecs - 2  # the two products of _finish_k are a check, not part of the solve
    if not converged:
        note += " DID NOT CONVERGE: value is a lower bound"
    return lam, vec, n_mv, converged, eres, note


def _sharpness_lanczos_jtj(fac, c, *, tol, rng, maxiter, v0, **_):
    """Lanczos on the parameter-side ``J^T J``, started from ``J^T X0`` with ``X0`` the K-space
    start (the Krylov spaces of ``J^T J`` from ``J^T X0`` and of ``K`` from ``X0``
    correspond)."""
    op = JtJOperator(fac)
    converged = True
    if v0 is not None:
        u, converged = _warm_lanczos(op.matvec, v0, tol, maxiter)
        note = "exact: warm-started Lanczos on the parameter-side J^T J (minimizer)"
    else:
        X0, _ = k_start(fac, FactoredKOperator(fac), rng)
        u0 = fac.join(jt_apply(fac, X0))
        if not np.any(u0):
            u0 = np.random.default_rng(rng).standard_normal(fac.n_params)
        try:
            _, v = eigsh(
                op, k=1, which="LA", v0=u0, tol=tol, ncv=min(fac.n_params, 10), maxiter=maxiter
            )
            u = v[:, 0]
        except ArpackNoConvergence as exc:
            converged = False
            u = exc.eigenvectors[:, 0] if exc.eigenvectors.size else u0
        note = "exact: Lanczos on the parameter-side J^T J (minimizer)"
    n_mv = op.n_matvecs
    lam, vec, eres = _finish_jtj(fac, c, op, u)
    if not converged:
        note += " DID NOT CONVERGE: value is a lower bound"
    return lam, vec, n_mv, converged, eres, note


def _sharpness_dense_hessian(fac, c, *, scale, **_):
    Hd = dense_hessian(fac, scale, max_params=max(DENSE_HESSIAN_MAX, fac.n_params))
    n = Hd.shape[0]
    w, v = scipy.linalg.eigh(Hd, subset_by_index=[n - 1, n - 1])
    vec = tuple(fac.split(v[:, 0]))
    eres = float(np.linalg.norm(Hd @ v[:, 0] - w[0] * v[:, 0]))
    note = "not a minimizer: dense eigh of the full Hessian (residual terms included)"
    return float(w[0]), vec, n, True, eres, note


def _sharpness_lanczos_hvp(fac, c, *, tol, rng, maxiter, v0, scale, **_):
    op = hessian_operator(fac, scale)
    converged = True
    note = "not a minimizer: Lanczos (eigsh, which='LA') on the analytic HVP"
    if v0 is not None:
        x, converged = _warm_lanczos(op.matvec, v0, tol, maxiter)
        note = "not a minimizer: warm-started Lanczos on the analytic HVP"
    else:
        g = np.random.default_rng(rng)
        v0 = g.standard_normal(fac.n_params)
        try:
            w, v = eigsh(op, k=1, which="LA", v0=v0, tol=tol, maxiter=maxiter)
        except ArpackNoConvergence as exc:
            converged = False
            w, v = exc.eigenvalues, exc.eigenvectors
            if not w.size:
                v = v0.reshape(-1, 1) / np.linalg.norm(v0)
        x = v[:, 0]
    n_mv = op.n_matvecs
    x = x / np.linalg.norm(x)
    Hx = op.matvec(x)
    lam = float(x @ Hx)
    eres = float(np.linalg.norm(Hx - lam * x))
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
    ce = effective_scale(fac, scale)
    return (
        2.0 * ce * float(sum(np.sum(a * a) * np.sum(b * b) for a, b in zip(fac.lefts, fac.rights)))
    )


def _default_rank_rtol(fac: Factorization) -> float:
    return 1e3 * np.finfo(float).eps * max(fac.dims[-1] * fac.in_dim, fac.depth)


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
    rtol = _default_rank_rtol(fac) if rank_rtol is None else rank_rtol
    rtol = check_tolerance(rtol, "rank_rtol")
    mu = scipy.linalg.eigh(k_matrix(fac, max_dim=max_dim), eigvals_only=True)[::-1]
    keep = mu > rtol * mu[0] if mu[0] > 0 else np.zeros(mu.shape, bool)
    eig = 2.0 * effective_scale(fac, c) * mu[keep]
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
    ce = effective_scale(fac, c)
    fac.require_minimizer(rtol_minimizer, what="fac")
    tol = check_tolerance(tol, "tol")
    n = fac.dims[-1] * fac.in_dim
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"k: must be an integer in [1, d_L d_0] = [1, {n}], got {k!r}")
    K = KOperator(fac)
    if n <= DENSE_K_MAX or k >= n - 1:
        mu, V = scipy.linalg.eigh(K.dense())
        mu, V = mu[::-1][:k], V[:, ::-1][:, :k]
        method = "dense-K"
    else:
        X0 = rank_one_start(fac, K, DEFAULT_SEED)
        mu, V = eigsh(K, k=k, which="LA", tol=tol, v0=X0.ravel())
        order = np.argsort(mu)[::-1]
        mu, V = mu[order], V[:, order]
        method = "lanczos-K"
    n_mv = K.n_matvecs
    vals, vecs, res = [], [], []
    for j in range(k):
        lam, vec, eres = _finish_k(fac, ce, K, V[:, j].reshape(K.dl, K.d0))
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
