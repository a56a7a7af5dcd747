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

__all__ = ["Factorization", "check_positive", "check_scale"]


def check_positive(value, name: str) -> float:
    """Validate that ``value`` is a finite real number > 0 and return it as a float.

    Parameters
    ----------
    value : float
        The value to check.
    name : str
        Argument name used in the one-line error message.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is not finite or not > 0.

    Examples
    --------
    >>> check_positive(1e-9, "radius")
    1e-09
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {value!r}") from None
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name}: must be finite and > 0, got {value!r}")
    return x


def check_scale(scale: float) -> float:
    """Validate the loss scale ``c`` of ``l = c * ||P - M||_F^2`` and return it as a float.

    Parameters
    ----------
    scale : float
        Loss scale ``c``; must be finite and > 0. ``0.5`` is the library default (GD is stable
        below ``eta = 2 / lambda_max``); ``1.0`` is the paper's convention.

    Returns
    -------
    float
        The validated scale.

    Examples
    --------
    >>> check_scale(0.5)
    0.5
    """
    return check_positive(scale, "scale")


class Factorization:
    """Factors ``W_1, ..., W_L`` of a deep matrix factorization ``W_L ... W_1 ~ M``.

    Parameters
    ----------
    weights : sequence of array_like
        The factors in application order: ``weights[0]`` is ``W_1`` (shape ``d_1 x d_0``),
        ``weights[-1]`` is ``W_L`` (shape ``d_L x d_{L-1}``). 1-D or 0-D inputs are not accepted:
        a scalar factorization uses ``1 x 1`` matrices (see
        :func:`dmfsharp.scalar_minimizer`). Copied to float64.
    target : array_like, optional
        The target ``M`` (shape ``d_L x d_0``). Default: the product itself, which makes the
        factorization a minimizer by construction.

    Attributes
    ----------
    weights : tuple of ndarray
        The factors (read-only float64 arrays).
    target : ndarray
        The target ``M`` (read-only).
    dims : tuple of int
        ``(d_0, d_1, ..., d_L)``.

    Raises
    ------
    ValueError
        On an empty list, non-2-D factors, non-conformable shapes, non-finite entries or a target
        of the wrong shape; the message names the offending argument.

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

    def __init__(self, weights: Sequence[np.typing.ArrayLike], target=None):
        if isinstance(weights, np.ndarray) and weights.ndim != 3:
            raise TypeError("weights: expected a sequence of 2-D arrays (W_1, ..., W_L)")
        weights = list(weights)
        if not weights:
            raise ValueError("weights: need at least one factor, got an empty sequence")
        ws = []
        for k, w in enumerate(weights):
            arr = np.array(w, dtype=np.float64, copy=True)
            if arr.ndim != 2:
                raise ValueError(
                    f"weights[{k}] (W_{k + 1}): expected a 2-D array, got shape {arr.shape}"
                )
            if arr.size == 0:
                raise ValueError(f"weights[{k}] (W_{k + 1}): has a zero dimension {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"weights[{k}] (W_{k + 1}): contains non-finite entries")
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
        if target is None:
            tgt = self.product.copy()
        else:
            tgt = np.array(target, dtype=np.float64, copy=True)
            if tgt.ndim == 0 and self.dims[0] == self.dims[-1] == 1:
                tgt = tgt.reshape(1, 1)
            if tgt.shape != (self.dims[-1], self.dims[0]):
                raise ValueError(
                    f"target: shape {tgt.shape} does not match the product's shape "
                    f"(d_L, d_0) = ({self.dims[-1]}, {self.dims[0]})"
                )
            if not np.all(np.isfinite(tgt)):
                raise ValueError("target: contains non-finite entries")
        tgt.setflags(write=False)
        self.target: np.ndarray = tgt

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

    # ------------------------------------------------------------------ partial products
    @cached_property
    def rights(self) -> tuple[np.ndarray, ...]:
        """``rights[k] = W_k ... W_1`` (``B`` of layer ``k``; identity ``I_{d_0}`` for ``k = 0``)."""
        out = [np.eye(self.dims[0])]
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

    @cached_property
    def product(self) -> np.ndarray:
        """The end-to-end matrix ``P = W_L ... W_1`` (shape ``d_L x d_0``)."""
        p = self.weights[-1] @ self.rights[-1]
        p.setflags(write=False)
        return p

    # ------------------------------------------------------------------ residual / minimizer
    @cached_property
    def residual(self) -> np.ndarray:
        """``R = P - M``."""
        r = self.product - self.target
        r.setflags(write=False)
        return r

    @property
    def residual_norm(self) -> float:
        """``||P - M||_F``."""
        return float(np.linalg.norm(self.residual))

    def relative_residual(self) -> float:
        """``||P - M||_F / max(||M||_F, ||P||_F, tiny)``: the scale-free residual used by
        :meth:`is_minimizer`."""
        denom = max(np.linalg.norm(self.target), np.linalg.norm(self.product), 1e-300)
        return self.residual_norm / denom

    def is_minimizer(self, rtol: float = 1e-10) -> bool:
        """Whether ``P = M`` up to a relative Frobenius residual ``rtol`` (a global, zero-loss
        minimizer).

        Parameters
        ----------
        rtol : float, default 1e-10
            Tolerance on :meth:`relative_residual`.

        Examples
        --------
        >>> import numpy as np
        >>> Factorization([np.eye(2)], target=np.zeros((2, 2))).is_minimizer()
        False
        """
        return bool(self.relative_residual() <= rtol)

    def require_minimizer(self, rtol: float = 1e-10, what: str = "factorization") -> None:
        """Raise ``ValueError`` with one clear line unless :meth:`is_minimizer` holds."""
        if not self.is_minimizer(rtol):
            raise ValueError(
                f"{what}: not a minimizer (relative residual ||P - M||/||M|| = "
                f"{self.relative_residual():.3e} > rtol = {rtol:.1e}); this needs P = M"
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
        """A new factorization with other factors and the same target."""
        return Factorization(weights, target=self.target)

    def with_vector(self, vector: np.typing.ArrayLike) -> Factorization:
        """A new factorization whose parameters are the flat ``vector`` (same target)."""
        return Factorization(self.split(vector), target=self.target)

    def __repr__(self) -> str:
        dims = "x".join(str(d) for d in self.dims)
        return (
            f"Factorization(depth={self.depth}, dims={dims}, "
            f"relative_residual={self.relative_residual():.2e})"
        )
