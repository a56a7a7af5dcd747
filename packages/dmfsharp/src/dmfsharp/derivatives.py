"""Analytic loss, gradient and Hessian-vector products of ``l(W) = c * ||W_L ... W_1 - M||_F^2``
(or of the data loss ``c * weight * ||W_L ... W_1 X - Y||_F^2`` of a factorization on data, through
its frozen first layer ``F``: the formulas below hold with ``B_k`` including ``F``).

Valid at any point (not only at minimizers) and free of autodiff. With ``A_k``/``B_k`` the partial
products of :class:`~dmfsharp.Factorization` and ``R = P - M``:

* gradient: ``dl/dW_k = 2c A_k^T R B_k^T``;
* Hessian-vector product along ``U = (U_1, ..., U_L)``: the directional derivative of the gradient,
  ``2c (dA_k^T R B_k^T + A_k^T dP B_k^T + A_k^T R dB_k^T)`` with ``dA``, ``dB``, ``dP`` the
  first-order changes of the partial products and of the product. They obey the recurrences
  ``dA_{k} = dA_{k+1} W_{k+1} + A_{k+1} U_{k+1}`` and ``dB_{k} = U_{k-1} B_{k-1} + W_{k-1} dB_{k-1}``,
  so one product costs ``O(L)`` matrix multiplications.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .factorization import Factorization, check_count, check_positive, check_scale

__all__ = [
    "dense_hessian",
    "finite_difference_hessian",
    "gradient",
    "hessian_operator",
    "hvp",
    "loss",
]


def effective_scale(fac: Factorization, scale: float) -> float:
    """``c * fac.loss_weight``: the factor of ``||fitted - fit_target||^2`` in the loss
    (``c`` for the factorization loss, ``c / n`` on data with ``reduction="mean"``).

    Parameters
    ----------
    fac : Factorization
        The point (on data or not).
    scale : float
        Loss scale ``c`` (validated).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Data, Factorization
    >>> fac = Factorization([np.eye(2)], data=Data(np.eye(2), np.ones((2, 2))))
    >>> effective_scale(fac, 0.5)    # c / n with n = 2 samples
    0.25
    """
    return check_scale(scale) * fac.loss_weight


def loss(fac: Factorization, scale: float = 0.5) -> float:
    """Squared loss ``c * ||P - M||_F^2`` (on data: ``c * weight * ||P X - Y||_F^2``).

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c`` (0.5: deep-learning convention; 1.0: the paper's).

    Returns
    -------
    float
        The loss (dimensionless).

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Data, Factorization
    >>> loss(Factorization([np.eye(2)], target=np.zeros((2, 2))))
    1.0
    >>> X, Y = np.array([[1.0], [2.0]]), np.array([[1.0], [0.0]])   # two samples
    >>> round(loss(Factorization([[[1.0]]], data=Data(X, Y))), 12)   # (1/2)(0^2 + 2^2)/2
    1.0
    """
    ce = effective_scale(fac, scale)
    return ce * (float(np.sum(fac.residual**2)) + fac.loss_constant)


def gradient(fac: Factorization, scale: float = 0.5) -> list[np.ndarray]:
    """Gradient of the loss, one block per factor (``2c A_k^T R B_k^T``).

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    list of ndarray
        ``grad[k]`` has the shape of ``fac.weights[k]``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> g = gradient(Factorization([np.eye(2), np.eye(2)], target=np.zeros((2, 2))))
    >>> np.allclose(g[0], np.eye(2))
    True
    """
    ce = effective_scale(fac, scale)
    r = fac.residual
    return [2.0 * ce * fac.right_t(k, fac.left_t(k, r)) for k in range(fac.depth)]


def _as_blocks(fac: Factorization, direction) -> list[np.ndarray]:
    if isinstance(direction, np.ndarray) and direction.ndim == 1:
        if np.iscomplexobj(direction):
            raise TypeError("direction: complex entries are not supported")
        blocks = fac.split(direction)
    else:
        blocks = list(direction)
        if any(np.iscomplexobj(b) for b in blocks):
            raise TypeError("direction: complex entries are not supported")
        fac.join(blocks)  # validates count and shapes with one clear message
        blocks = [np.asarray(b, dtype=np.float64) for b in blocks]
    if not all(np.all(np.isfinite(b)) for b in blocks):
        raise ValueError("direction: contains non-finite entries (NaN or inf)")
    return blocks


def hvp(
    fac: Factorization, direction: Sequence[np.ndarray] | np.ndarray, scale: float = 0.5
) -> list[np.ndarray]:
    """Exact Hessian-vector product of the loss at any point, in ``O(L)`` matrix products.

    Parameters
    ----------
    fac : Factorization
        The point (need not be a minimizer).
    direction : list of ndarray or ndarray
        Per-layer blocks ``U_k`` (shapes of the weights) or one flat vector of length
        ``fac.n_params`` (see :meth:`Factorization.split`).
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    list of ndarray
        ``H[U]`` as per-layer blocks.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.array([[2.0]]), np.array([[3.0]])])   # scalar, minimizer
    >>> [float(b[0, 0]) for b in hvp(fac, [np.ones((1, 1)), np.zeros((1, 1))])]
    [9.0, 6.0]
    """
    c = effective_scale(fac, scale)
    U = _as_blocks(fac, direction)
    W = fac.weights
    L = fac.depth
    # dA[k]: derivative of A_k = W_L ... W_{k+2}; dB[k]: derivative of B_k = W_k ... W_1.
    # dA[L-1] and dB[0] vanish (A_{L-1} = I, B_0 = I or F are constant): None, terms skipped.
    dA: list[np.ndarray | None] = [None] * L
    for k in range(L - 2, -1, -1):
        du = fac.left(k + 1, U[k + 1])
        dA[k] = du if dA[k + 1] is None else dA[k + 1] @ W[k + 1] + du
    dB: list[np.ndarray | None] = [None] * L
    for k in range(1, L):
        du = fac.right(k - 1, U[k - 1])
        dB[k] = du if dB[k - 1] is None else du + W[k - 1] @ dB[k - 1]
    dfit = fac.left(0, U[0]) if dA[0] is None else dA[0] @ W[0] + fac.left(0, U[0])
    dP = fac.right(0, dfit)  # first-order change of `fitted`
    R = fac.residual
    has_residual = bool(np.any(R))
    out = []
    for k in range(L):
        block = fac.right_t(k, fac.left_t(k, dP))
        if has_residual:
            if dA[k] is not None:
                block = block + fac.right_t(k, dA[k].T @ R)
            if dB[k] is not None:
                block = block + fac.left_t(k, R) @ dB[k].T
        out.append(2.0 * c * block)
    return out


def hessian_operator(fac: Factorization, scale: float = 0.5) -> LinearOperator:
    """The Hessian as a symmetric ``scipy.sparse.linalg.LinearOperator`` on flat vectors.

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Shape ``(n_params, n_params)``; ``matvec`` calls :func:`hvp`. The attribute
        ``n_matvecs`` counts products.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> op = hessian_operator(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    >>> op @ np.array([1.0, 0.0])
    array([9., 6.])
    """
    c = check_scale(scale)
    n = fac.n_params

    class _HessianOperator(LinearOperator):
        def __init__(self):
            super().__init__(dtype=np.float64, shape=(n, n))
            self.n_matvecs = 0

        def _matvec(self, x):
            self.n_matvecs += 1
            return fac.join(hvp(fac, fac.split(np.ravel(x)), scale=c))

        def _rmatvec(self, x):
            return self._matvec(x)

        def _adjoint(self):
            return self

    return _HessianOperator()


def _check_dense_size(fac: Factorization, max_params: int) -> int:
    """``fac.n_params``, or one clear error when a dense ``n_params**2`` Hessian is too large."""
    max_params = check_count(max_params, "max_params")
    n = fac.n_params
    if n > max_params:
        raise ValueError(
            f"fac: {n} parameters exceed max_params = {max_params} for a dense Hessian; "
            "use hessian_operator() or raise max_params"
        )
    return n


def dense_hessian(fac: Factorization, scale: float = 0.5, max_params: int = 4000) -> np.ndarray:
    """The full Hessian as a dense symmetric matrix (small problems only).

    Built column by column from :func:`hvp` (exact, no finite differences), then symmetrized to
    remove rounding asymmetry.

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c``.
    max_params : int, default 4000
        Refuse larger problems (the matrix has ``n_params**2`` entries).

    Returns
    -------
    ndarray
        ``(n_params, n_params)`` Hessian in the flat-vector order of
        :meth:`Factorization.to_vector`.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> dense_hessian(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    array([[9., 6.],
           [6., 4.]])
    """
    n = _check_dense_size(fac, max_params)
    op = hessian_operator(fac, scale)
    H = np.column_stack([op.matvec(e) for e in np.eye(n)])
    return 0.5 * (H + H.T)


def finite_difference_hessian(
    fac: Factorization, scale: float = 0.5, eps: float = 1e-5, max_params: int = 4000
) -> np.ndarray:
    """Hessian by central finite differences of the analytic gradient (a validation reference).

    Column ``i`` is ``(grad(x + eps e_i) - grad(x - eps e_i)) / (2 eps)``; the result is
    symmetrized. Independent of :func:`hvp` and of the K reduction; error ``O(eps^2)`` plus
    rounding ``O(eps_machine / eps)``.

    Parameters
    ----------
    fac : Factorization
        The point.
    scale : float, default 0.5
        Loss scale ``c``.
    eps : float, default 1e-5
        Step (in parameter units).
    max_params : int, default 4000
        Refuse larger problems.

    Returns
    -------
    ndarray
        ``(n_params, n_params)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> finite_difference_hessian(Factorization([np.array([[2.0]]), np.array([[3.0]])])).round(6)
    array([[9., 6.],
           [6., 4.]])
    """
    c = check_scale(scale)
    eps = check_positive(eps, "eps")
    n = _check_dense_size(fac, max_params)
    x = fac.to_vector()
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = eps
        gp = fac.join(gradient(fac.with_vector(x + e), c))
        gm = fac.join(gradient(fac.with_vector(x - e), c))
        cols.append((gp - gm) / (2 * eps))
    H = np.column_stack(cols)
    return 0.5 * (H + H.T)
