"""The validated deep-matrix-factorization object.

A factorization is a list of factors ``W_1, ..., W_L`` (``W_i`` of shape ``d_i x d_{i-1}``) and a
target ``M`` of shape ``d_L x d_0``; its product is ``P = W_L ... W_1``. Everything else in the
library takes a :class:`Factorization`.

Indexing convention
-------------------
Python lists are 0-based: ``fac.weights[k]`` is the paper's ``W_{k+1}``. The partial products are
aligned with the weights: ``fac.lefts[k]`` is ``A = W_L ... W_{k+2}`` (the product of the layers
*after* layer ``k``, identity for the last layer) and ``fac.rights[k]`` is ``B = W_k ... W_1`` (the
layers *before* it, identity for the first), so ``P = lefts[k] @ weights[k] @ rights[k]`` for every
``k``. Flattened parameter vectors concatenate ``W_1.ravel(), ..., W_L.ravel()`` (C order).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from ._checks import (
    as_generator,
    check_count,
    check_positive,
    check_scale,
    check_tolerance,
    real_matrix,
)
from .data import Data

__all__ = [
    "Factorization",
    "as_generator",
    "check_count",
    "check_positive",
    "check_scale",
    "check_tolerance",
    "real_matrix",
]


class Factorization:
    """Factors ``W_1, ..., W_L`` of a deep matrix factorization ``W_L ... W_1 ~ M``, or of a deep
    linear network on data.

    Parameters
    ----------
    weights : sequence of array_like
        The factors in application order: ``weights[0]`` is ``W_1`` (shape ``d_1 x d_0``),
        ``weights[-1]`` is ``W_L`` (shape ``d_L x d_{L-1}``). 1-D or 0-D inputs are not accepted:
        a scalar factorization uses ``1 x 1`` matrices (see
        :func:`dmfsharp.scalar_minimizer`). Real numbers only (complex input is refused, not cut
        to its real part); copied to float64.
    target : array_like, optional
        The target ``M`` (shape ``d_L x d_0``) of the factorization loss ``c ||P - M||_F^2``.
        Default: the product itself, which makes the factorization a minimizer by construction.
        Not allowed together with ``data``.
    data : Data, optional
        Samples ``(X, Y)`` (:class:`dmfsharp.Data`): the loss is then the data loss
        ``c * weight * ||P X - Y||_F^2`` (``weight = 1/n`` for ``reduction="mean"``) and every
        function of the library (loss, gradient, HVP, Hessian, sharpness, spectrum, GD, escape)
        uses it. Internally the data enter through the frozen first layer ``F`` of the exact
        reduction ``X^T = Q F^T``.

    Attributes
    ----------
    weights : tuple of ndarray
        The factors (read-only float64 arrays).
    target : ndarray or None
        The target ``M`` (read-only); ``None`` on data.
    data : Data or None
        The samples, when the loss is a data loss.
    dims : tuple of int
        ``(d_0, d_1, ..., d_L)``.

    Raises
    ------
    ValueError
        On an empty list, non-2-D factors, non-conformable shapes, non-finite entries, a target
        of the wrong shape, or data whose feature counts do not match ``d_0`` / ``d_L``; the
        message names the offending argument.
    TypeError
        Complex, boolean or non-numeric entries.

    Examples
    --------
    >>> import numpy as np
    >>> fac = Factorization([np.eye(2), 2 * np.eye(2)])
    >>> fac.dims, fac.depth
    ((2, 2, 2), 2)
    >>> fac.product
    array([[2., 0.],
           [0., 2.]])
    >>> fac.is_minimizer()
    True
    """

    def __init__(
        self, weights: Sequence[np.typing.ArrayLike], target=None, *, data: Data | None = None
    ):
        if isinstance(weights, np.ndarray) and weights.ndim != 3:
            raise TypeError("weights: expected a sequence of 2-D arrays (W_1, ..., W_L)")
        try:
            weights = list(weights)
        except TypeError:
            raise TypeError(
                f"weights: expected a sequence of 2-D arrays (W_1, ..., W_L), got "
                f"{type(weights).__name__}"
            ) from None
        if not weights:
            raise ValueError("weights: need at least one factor, got an empty sequence")
        ws = []
        for k, w in enumerate(weights):
            arr = real_matrix(w, f"weights[{k}] (W_{k + 1})")
            if arr.size == 0:
                raise ValueError(f"weights[{k}] (W_{k + 1}): has a zero dimension {arr.shape}")
            if ws and arr.shape[1] != ws[-1].shape[0]:
                raise ValueError(
                    f"weights[{k}] (W_{k + 1}): shape {arr.shape} is not conformable with "
                    f"W_{k} of shape {ws[-1].shape} (need W_{k + 1}.shape[1] == "
                    f"W_{k}.shape[0] = {ws[-1].shape[0]})"
                )
            arr.setflags(write=False)
            ws.append(arr)
        self.weights: tuple[np.ndarray, ...] = tuple(ws)
        self.dims: tuple[int, ...] = (ws[0].shape[1], *(w.shape[0] for w in ws))
        self.data: Data | None = data
        if data is not None:
            if not isinstance(data, Data):
                raise TypeError(f"data: expected a dmfsharp.Data, got {type(data).__name__}")
            if target is not None:
                raise ValueError(
                    "target: give either a target (factorization loss) or data (data loss), "
                    "not both"
                )
            if (data.in_features, data.out_features) != (self.dims[0], self.dims[-1]):
                raise ValueError(
                    f"data: X has {data.in_features} features and Y {data.out_features} "
                    f"outputs, but the network maps d_0 = {self.dims[0]} to d_L = "
                    f"{self.dims[-1]}"
                )
            self.target = None
            return
        if target is None:
            tgt = self.product.copy()
        else:
            tgt = np.asarray(target)
            if tgt.ndim == 0 and self.dims[0] == self.dims[-1] == 1:
                tgt = tgt.reshape(1, 1)
            tgt = real_matrix(tgt, "target")
            if tgt.shape != (self.dims[-1], self.dims[0]):
                raise ValueError(
                    f"target: shape {tgt.shape} does not match the product's shape "
                    f"(d_L, d_0) = ({self.dims[-1]}, {self.dims[0]})"
                )
        tgt.setflags(write=False)
        self.target: np.ndarray | None = tgt

    # ------------------------------------------------------------------ basic shape facts
    @property
    def depth(self) -> int:
        """Number of factors ``L``."""
        return len(self.weights)

    @property
    def n_params(self) -> int:
        """Total number of parameters ``sum_i d_i d_{i-1}``."""
        return sum(w.size for w in self.weights)

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """Shapes of the factors, ``((d_1, d_0), ..., (d_L, d_{L-1}))``."""
        return tuple(w.shape for w in self.weights)

    @property
    def in_dim(self) -> int:
        """Columns of :attr:`fitted`: ``d_0``, or ``rank X`` on data (the reduced input)."""
        return self.dims[0] if self.data is None else self.data.rank

    @property
    def loss_weight(self) -> float:
        """``1`` for the factorization loss; ``1/n`` (mean) or ``1`` (sum) on data. Every
        curvature value is ``2 * scale * loss_weight`` times that of ``||fitted - fit_target||^2/2``."""
        return 1.0 if self.data is None else self.data.weight

    @property
    def loss_constant(self) -> float:
        """Squared error no weights can remove (``0`` for the factorization loss)."""
        return 0.0 if self.data is None else self.data.constant

    # ------------------------------------------------------------------ partial products
    @cached_property
    def rights(self) -> tuple[np.ndarray, ...]:
        """``rights[k] = W_k ... W_1`` (``B`` of layer ``k``; identity ``I_{d_0}`` for ``k = 0``).

        On data the frozen first layer is included: ``rights[k] = W_k ... W_1 F`` (``F`` for
        ``k = 0``), so ``fitted = lefts[k] @ weights[k] @ rights[k]``.
        """
        out = [np.eye(self.dims[0]) if self.data is None else self.data.F]
        for w in self.weights[:-1]:
            out.append(w @ out[-1])
        for b in out:
            b.setflags(write=False)
        return tuple(out)

    @cached_property
    def lefts(self) -> tuple[np.ndarray, ...]:
        """``lefts[k] = W_L ... W_{k+2}`` (``A`` of layer ``k``; identity ``I_{d_L}`` for the last)."""
        out = [np.eye(self.dims[-1])]
        for w in self.weights[:0:-1]:
            out.append(out[-1] @ w)
        out.reverse()
        for a in out:
            a.setflags(write=False)
        return tuple(out)

    def right_is_identity(self, k: int) -> bool:
        """Whether ``rights[k]`` is the identity (the first layer of the factorization loss),
        so that multiplications by it can be skipped (they would change no bit)."""
        return k == 0 and self.data is None

    def left_is_identity(self, k: int) -> bool:
        """Whether ``lefts[k]`` is the identity (the last layer)."""
        return k == self.depth - 1

    def left_t(self, k: int, X: np.ndarray) -> np.ndarray:
        """``lefts[k].T @ X`` (no product for the identity)."""
        return X if self.left_is_identity(k) else self.lefts[k].T @ X

    def left(self, k: int, X: np.ndarray) -> np.ndarray:
        """``lefts[k] @ X`` (no product for the identity)."""
        return X if self.left_is_identity(k) else self.lefts[k] @ X

    def right_t(self, k: int, X: np.ndarray) -> np.ndarray:
        """``X @ rights[k].T`` (no product for the identity)."""
        return X if self.right_is_identity(k) else X @ self.rights[k].T

    def right(self, k: int, X: np.ndarray) -> np.ndarray:
        """``X @ rights[k]`` (no product for the identity)."""
        return X if self.right_is_identity(k) else X @ self.rights[k]

    @cached_property
    def product(self) -> np.ndarray:
        """The end-to-end matrix ``P = W_L ... W_1`` (shape ``d_L x d_0``)."""
        if self.data is None:
            p = self.weights[-1] @ self.rights[-1]
        else:
            p = self.weights[0]
            for w in self.weights[1:]:
                p = w @ p
            p = p.copy()
        p.setflags(write=False)
        return p

    @cached_property
    def fitted(self) -> np.ndarray:
        """The matrix the loss compares with :attr:`fit_target`: ``P`` for the factorization
        loss, ``P F`` (``d_L x rank X``) on data."""
        if self.data is None:
            return self.product
        f = self.weights[-1] @ self.rights[-1]
        f.setflags(write=False)
        return f

    @property
    def fit_target(self) -> np.ndarray:
        """``M`` for the factorization loss, the reduced target ``Y Q`` on data."""
        return self.target if self.data is None else self.data.target

    # ------------------------------------------------------------------ residual / minimizer
    @cached_property
    def residual(self) -> np.ndarray:
        """``R = P - M`` (on data: the reduced residual ``P F - Y Q``, whose norm is that of
        ``P X - Y`` within the row space of ``X``)."""
        r = self.fitted - self.fit_target
        r.setflags(write=False)
        return r

    @property
    def residual_norm(self) -> float:
        """``||P - M||_F`` (on data: ``||P F - Y Q||_F``)."""
        return float(np.linalg.norm(self.residual))

    def relative_residual(self) -> float:
        """The scale-free residual used by :meth:`is_minimizer`.

        Factorization loss: ``||P - M||_F / max(||M||_F, ||P||_F, tiny)``. On data, the
        normal-equation residual ``||(P X - Y) X^T||_F / max(||Y X^T||_F, ||P X X^T||_F, tiny)``
        (computed as ``||R F^T|| / max(||Y Q F^T||, ||P F F^T||)``, the same numbers): zero
        exactly at the global minimizers of the data loss, and the factor that multiplies every
        residual term of the Hessian.
        """
        if self.data is None:
            denom = max(np.linalg.norm(self.target), np.linalg.norm(self.product), 1e-300)
            return self.residual_norm / denom
        Ft = self.data.F.T
        num = np.linalg.norm(self.residual @ Ft)
        denom = max(np.linalg.norm(self.fit_target @ Ft), np.linalg.norm(self.fitted @ Ft), 1e-300)
        return float(num / denom)

    def is_minimizer(self, rtol: float = 1e-10) -> bool:
        """Whether the point is a global minimizer up to :meth:`relative_residual` ``<= rtol``.

        For the factorization loss this is ``P = M`` (zero loss); on data the normal equations
        ``(P X - Y) X^T = 0`` (the loss need not be zero: noisy targets).

        Parameters
        ----------
        rtol : float, default 1e-10
            Tolerance on :meth:`relative_residual` (finite, in ``[0, 1)``).

        Examples
        --------
        >>> import numpy as np
        >>> Factorization([np.eye(2)], target=np.zeros((2, 2))).is_minimizer()
        False
        """
        rtol = check_tolerance(rtol, "rtol_minimizer")
        return bool(self.relative_residual() <= rtol)

    def require_minimizer(self, rtol: float = 1e-10, what: str = "factorization") -> None:
        """Raise ``ValueError`` with one clear line unless :meth:`is_minimizer` holds."""
        if not self.is_minimizer(rtol):
            if self.data is None:
                raise ValueError(
                    f"{what}: not a minimizer (relative residual ||P - M||/||M|| = "
                    f"{self.relative_residual():.3e} > rtol = {rtol:.1e}); this needs P = M"
                )
            raise ValueError(
                f"{what}: not a minimizer of the data loss (normal-equation residual "
                f"||(PX - Y)X^T|| / ||YX^T|| = {self.relative_residual():.3e} > rtol = "
                f"{rtol:.1e}); this needs (PX - Y)X^T = 0"
            )

    # ------------------------------------------------------------------ vector views
    def to_vector(self) -> np.ndarray:
        """All parameters as one flat vector (``W_1`` first, each raveled in C order)."""
        return np.concatenate([w.ravel() for w in self.weights])

    def split(self, vector: np.typing.ArrayLike) -> list[np.ndarray]:
        """Split a flat vector of length :attr:`n_params` into per-layer blocks.

        Examples
        --------
        >>> import numpy as np
        >>> fac = Factorization([np.ones((3, 2)), np.ones((1, 3))])
        >>> [b.shape for b in fac.split(np.arange(9.0))]
        [(3, 2), (1, 3)]
        """
        v = np.asarray(vector, dtype=np.float64)
        if v.shape != (self.n_params,):
            raise ValueError(f"vector: expected shape ({self.n_params},), got {v.shape}")
        blocks, start = [], 0
        for shape in self.shapes:
            n = shape[0] * shape[1]
            blocks.append(v[start : start + n].reshape(shape))
            start += n
        return blocks

    def join(self, blocks: Sequence[np.typing.ArrayLike]) -> np.ndarray:
        """Inverse of :meth:`split`: per-layer blocks (same shapes as the weights) to one vector."""
        blocks = list(blocks)
        if len(blocks) != self.depth:
            raise ValueError(f"blocks: expected {self.depth} blocks, got {len(blocks)}")
        out = []
        for k, (b, shape) in enumerate(zip(blocks, self.shapes)):
            arr = np.asarray(b, dtype=np.float64)
            if arr.shape != shape:
                raise ValueError(f"blocks[{k}]: expected shape {shape}, got {arr.shape}")
            out.append(arr.ravel())
        return np.concatenate(out)

    def with_weights(self, weights: Sequence[np.typing.ArrayLike]) -> Factorization:
        """A new factorization with other factors and the same target (or data)."""
        return Factorization(weights, target=self.target, data=self.data)

    def with_vector(self, vector: np.typing.ArrayLike) -> Factorization:
        """A new factorization whose parameters are the flat ``vector`` (same target or data)."""
        return self.with_weights(self.split(vector))

    def __repr__(self) -> str:
        dims = "x".join(str(d) for d in self.dims)
        on = "" if self.data is None else f", n_samples={self.data.n_samples}"
        return (
            f"Factorization(depth={self.depth}, dims={dims}{on}, "
            f"relative_residual={self.relative_residual():.2e})"
        )
