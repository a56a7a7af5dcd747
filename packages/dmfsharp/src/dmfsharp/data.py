"""Deep linear regression on data, reduced exactly to a factorization with a frozen first layer.

The data loss of a deep linear network ``x -> W_L ... W_1 x`` on samples ``(x_j, y_j)``,
``j = 1..n``, is

    ``l(W) = (c / n) * ||P X - Y||_F^2``  (``reduction="mean"``, the default), or
    ``l(W) = c * ||P X - Y||_F^2``        (``reduction="sum"``),

with ``P = W_L ... W_1``, ``X`` the ``d_0 x n`` inputs and ``Y`` the ``d_L x n`` targets (one
sample per column here; the arrays passed to :class:`Data` hold one sample per *row*, the torch
convention, and are transposed). Take the thin factorization ``X = F Q^T`` with ``Q`` (``n x r``)
orthonormal and ``F`` (``d_0 x r``) of full column rank ``r = rank X``. Then, at every point,

    ``||P X - Y||^2 = ||P F - Y Q||^2 + ||Y (I - Q Q^T)||^2``,

so the data loss *is* the factorization loss of the product ``W_L ... W_1 F`` (``F`` a frozen first
layer) with target ``Y Q`` (``d_L x r``), scaled by ``1/n`` or ``1``, plus a constant: loss,
gradient, Hessian, Hessian-vector products, gradient descent and the exact sharpness carry over
exactly, and after this one-off reduction nothing costs more for more samples (no array of
:class:`Data` has ``n`` rows). The targets need not be realizable (noisy ``Y``): the part of ``Y``
outside the row space of ``X`` is the constant.

The reduction is computed stably: a Householder QR of the ``n x d_0`` sample matrix, then an SVD
of its small triangular factor (no Gram matrix ``X X^T``, which would square the condition number).
The rank ``r`` counts the singular values of ``X`` above ``rank_rtol * sigma_max``; the default
``rank_rtol = max(n, d_0) * eps`` is NumPy's ``matrix_rank`` default. Directions of ``X`` below it are
treated as exactly zero (they change the loss by less than rounding).
"""

from __future__ import annotations

import numpy as np

from ._checks import check_tolerance, real_matrix

__all__ = ["REDUCTIONS", "Data"]

#: Accepted ``reduction`` values: ``"mean"`` divides the squared error by ``n`` (samples, not
#: ``n * d_L`` elements), ``"sum"`` does not.
REDUCTIONS = ("mean", "sum")


def _is_tensor(value) -> bool:
    """Whether ``value`` is a torch tensor (checked without importing torch)."""
    return type(value).__module__.split(".")[0] == "torch"


def _tensor_to_numpy(t, name: str) -> np.ndarray:
    """A torch tensor (any dtype/device, with or without grad) as a float64 NumPy array (it may
    share memory with ``t``: copy it before keeping it)."""
    t = t.detach().cpu()
    if t.is_complex():
        raise TypeError(f"{name}: complex entries are not supported; pass a real tensor")
    return t.double().numpy()


def _as_numpy(value, name: str) -> np.ndarray:
    """A torch tensor or array-like as a new float64 2-D NumPy array."""
    arr = np.asarray(_tensor_to_numpy(value, name) if _is_tensor(value) else value)
    if arr.ndim == 1:
        raise ValueError(
            f"{name}: expected a 2-D array (one sample per row), got shape {arr.shape}; "
            "for a single feature or output use .reshape(-1, 1)"
        )
    return real_matrix(arr, name)


class Data:
    """Samples ``(X, Y)`` of a squared-error regression, reduced for exact curvature.

    Parameters
    ----------
    X : array_like or torch.Tensor, shape (n, d_0)
        Inputs, one sample per row (the torch / ``nn.Linear`` convention). float32 or float64
        (copied to float64); any rank, ``n`` may be smaller than ``d_0``.
    Y : array_like or torch.Tensor, shape (n, d_L)
        Targets, one sample per row. Need not be realizable by any network (noise is fine).
    reduction : {"mean", "sum"}, default "mean"
        ``"mean"``: ``l = (c / n) ||P X - Y||^2`` (average over the ``n`` samples; with
        ``c = 1/2`` gradient descent is stable iff ``eta < 2 / lambda_max``). ``"sum"``:
        ``l = c ||P X - Y||^2``. torch's ``nn.MSELoss(reduction="mean")`` averages over all
        ``n * d_L`` entries: it is ``reduction="mean"`` with ``scale = 1 / d_L``;
        ``nn.MSELoss(reduction="sum")`` is ``reduction="sum"`` with ``scale = 1``.
    rank_rtol : float, optional
        Singular values of ``X`` at most ``rank_rtol * sigma_max(X)`` count as zero. Default
        ``max(n, d_0) * eps``.

    Attributes
    ----------
    F : ndarray, shape (d_0, r)
        The frozen first layer: ``X^T = Q F^T`` with ``Q`` orthonormal (``F = V S`` from the
        SVD of ``X``).
    target : ndarray, shape (d_L, r)
        The reduced target ``Y^T Q``.
    constant : float
        ``||Y^T (I - Q Q^T)||_F^2``: the squared error no network can remove (the loss adds
        ``c * weight * constant``).
    n_samples : int
        ``n``.
    reduction : str
        ``"mean"`` or ``"sum"``.
    weight : float
        ``1 / n`` for ``"mean"``, ``1`` for ``"sum"``: the loss is ``c * weight * ||P X - Y||^2``.
    rank : int
        ``r = rank X``.
    singular_values : ndarray
        All singular values of ``X`` (descending), including those counted as zero.
    rank_rtol : float
        The rank tolerance used.

    Raises
    ------
    ValueError
        Shapes that do not match (one line naming ``X`` or ``Y``), no samples, non-finite entries,
        ``X = 0`` (the loss would not depend on the weights), or an unknown ``reduction``.
    TypeError
        Complex, boolean or non-numeric entries.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 3)) * [3.0, 1.0, 0.1]      # non-identity covariance
    >>> Y = X @ rng.standard_normal((3, 2)) + 0.1 * rng.standard_normal((1000, 2))
    >>> data = Data(X, Y)
    >>> data.F.shape, data.target.shape, data.rank, data.n_samples
    ((3, 3), (2, 3), 3, 1000)
    >>> bool(np.allclose(data.F @ data.F.T, X.T @ X))              # F F^T = X^T X (samples as rows)
    True
    """

    def __init__(self, X, Y, reduction: str = "mean", *, rank_rtol: float | None = None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction: must be 'mean' or 'sum', got {reduction!r}")
        X = _as_numpy(X, "X")
        Y = _as_numpy(Y, "Y")
        n, d0 = X.shape
        if n == 0 or d0 == 0:
            raise ValueError(f"X: needs at least one sample and one feature, got shape {X.shape}")
        if Y.shape[0] != n:
            raise ValueError(
                f"Y: has {Y.shape[0]} rows but X has {n}; both hold one sample per row "
                "(shapes (n, d_0) and (n, d_L))"
            )
        if Y.shape[1] == 0:
            raise ValueError(f"Y: needs at least one output column, got shape {Y.shape}")
        rtol = max(n, d0) * np.finfo(float).eps if rank_rtol is None else rank_rtol
        rtol = check_tolerance(rtol, "rank_rtol")
        # X = Q1 R1 (Householder), R1 = U s Vt  =>  X = (Q1 U) s Vt, so X^T = F Q^T with
        # F = Vt^T s and Q = Q1 U (orthonormal columns)
        q1, r1 = np.linalg.qr(X, mode="reduced")
        u, s, vt = np.linalg.svd(r1, full_matrices=False)
        if s[0] == 0:
            raise ValueError("X: is zero, so the loss does not depend on the weights")
        r = int(np.sum(s > rtol * s[0]))
        q = q1 @ u[:, :r]  # (n, r)
        qty = q.T @ Y  # (r, d_L)
        outside = Y - q @ qty  # the part of Y no network can fit
        F = vt[:r].T * s[:r]
        tgt = np.ascontiguousarray(qty.T)
        for a in (F, tgt, s):
            a.setflags(write=False)
        # only d_0- and d_L-sized arrays are kept: nothing below depends on n
        self.reduction: str = reduction
        self.rank_rtol: float = rtol
        self.F: np.ndarray = F
        self.target: np.ndarray = tgt
        self.constant: float = float(np.sum(outside * outside))
        self.n_samples: int = int(n)
        self.weight: float = 1.0 / n if reduction == "mean" else 1.0
        self.rank: int = r
        self.singular_values: np.ndarray = s

    def __repr__(self) -> str:
        return (
            f"Data(n_samples={self.n_samples}, in_features={self.in_features}, "
            f"out_features={self.out_features}, rank={self.rank}, reduction={self.reduction!r})"
        )

    @property
    def in_features(self) -> int:
        """``d_0``, the number of input features."""
        return int(self.F.shape[0])

    @property
    def out_features(self) -> int:
        """``d_L``, the number of outputs."""
        return int(self.target.shape[0])

    def describe(self) -> str:
        """One line: samples, features, rank and reduction (used in result notes).

        Examples
        --------
        >>> import numpy as np
        >>> Data(np.eye(3)[:2], np.ones((2, 1)), reduction="sum").describe()
        'data: n = 2 samples, d_0 = 3, rank X = 2, reduction sum'
        """
        return (
            f"data: n = {self.n_samples} samples, d_0 = {self.in_features}, rank X = {self.rank}, "
            f"reduction {self.reduction}"
        )
