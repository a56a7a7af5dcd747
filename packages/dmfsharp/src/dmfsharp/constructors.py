"""Constructors of (mostly minimizing) factorizations. Every random one takes ``rng``.

``rng`` may be a ``numpy.random.Generator``, a ``SeedSequence`` or anything
``numpy.random.default_rng`` accepts (``None`` draws fresh entropy: not reproducible).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .factorization import Factorization, as_generator, check_count, real_matrix

#: ``gaussian_minimizer`` refuses factorizations whose arrays (factors, partial products and
#: product) would need more than this many bytes; pass ``max_bytes`` to allow more.
MAX_BYTES = 4 * 2**30

__all__ = [
    "balanced_minimizer",
    "estimated_bytes",
    "gaussian_minimizer",
    "random_target",
    "scalar_minimizer",
    "unbalanced_minimizer",
]


def _check_dims(dims: Sequence[int]) -> tuple[int, ...]:
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(f"dims: expected a sequence of integers, got {dims!r}") from None
    for d in dims:  # 2.5 or "3" are refused, not truncated
        if isinstance(d, bool) or not isinstance(d, int | np.integer):
            raise TypeError(f"dims: every width must be an integer, got {d!r} in {dims!r}")
    dims = tuple(int(d) for d in dims)
    if len(dims) < 2:
        raise ValueError(f"dims: need (d_0, ..., d_L) with L >= 1, got {dims}")
    if min(dims) < 1:
        raise ValueError(f"dims: every width must be >= 1, got {dims}")
    return dims


def estimated_bytes(dims: Sequence[int]) -> int:
    """Memory (bytes) of a float64 factorization with these dims: the factors, the partial
    products ``B_k`` and ``A_k`` (``d_k d_0`` and ``d_L d_k``) and the product and target.

    Examples
    --------
    >>> estimated_bytes((100_000, 100_000)) > 10**11      # two 1e10-entry arrays and more
    True
    """
    dims = _check_dims(dims)
    d0, dl = dims[0], dims[-1]
    n = sum(dims[i] * dims[i + 1] for i in range(len(dims) - 1))
    partial = sum(d * d0 + dl * d for d in dims[1:-1]) + d0 * d0 + dl * dl
    return 8 * (n + partial + 2 * dl * d0)


def _check_size(dims: tuple[int, ...], max_bytes: float) -> None:
    need = estimated_bytes(dims)
    if need > max_bytes:
        raise ValueError(
            f"dims: a factorization with dims {','.join(map(str, dims))} needs about "
            f"{need / 2**30:.3g} GiB (factors, partial products, product), more than "
            f"max_bytes = {max_bytes / 2**30:.3g} GiB"
        )


def _random_orthonormal(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``n x k`` matrix with orthonormal columns, Haar-distributed (QR with sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def gaussian_minimizer(
    dims: Sequence[int], rng=None, *, max_bytes: float = MAX_BYTES
) -> Factorization:
    """Random minimizer: Gaussian factors, target set to their product.

    ``W_i`` has i.i.d. ``N(0, 1/d_{i-1})`` entries (variance-preserving scaling, so the product
    stays O(1) at any depth); ``M = W_L ... W_1``.

    Parameters
    ----------
    dims : sequence of int
        ``(d_0, d_1, ..., d_L)``.
    rng : Generator, SeedSequence or int, optional
        Random source.
    max_bytes : float, default 4 GiB
        Refuse (before allocating) when :func:`estimated_bytes` exceeds this.

    Returns
    -------
    Factorization
        A minimizer (zero residual by construction).

    Examples
    --------
    >>> fac = gaussian_minimizer((4, 8, 8, 3), rng=0)
    >>> fac.dims, fac.is_minimizer()
    ((4, 8, 8, 3), True)
    """
    dims = _check_dims(dims)
    _check_size(dims, max_bytes)
    g = as_generator(rng)
    ws = [
        g.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i]) for i in range(len(dims) - 1)
    ]
    return Factorization(ws)


def random_target(shape: tuple[int, int], rank: int | None = None, rng=None) -> np.ndarray:
    """Gaussian target matrix with i.i.d. ``N(0, 1)`` entries, optionally of reduced ``rank``.

    A rank-``r`` target is ``G_1 G_2 / sqrt(r)`` with ``G_1`` (``m x r``), ``G_2`` (``r x n``)
    standard Gaussian.

    Examples
    --------
    >>> import numpy as np
    >>> int(np.linalg.matrix_rank(random_target((5, 6), rank=2, rng=0)))
    2
    """
    try:
        m, n = shape
    except (TypeError, ValueError):
        raise TypeError(f"shape: expected (rows, columns), got {shape!r}") from None
    m, n = check_count(m, "shape"), check_count(n, "shape")
    g = as_generator(rng)
    if rank is None:
        return g.standard_normal((m, n))
    rank = check_count(rank, "rank", minimum=0)
    if not 0 <= rank <= min(m, n):
        raise ValueError(f"rank: must be in [0, min(shape)] = [0, {min(m, n)}], got {rank}")
    if rank == 0:
        return np.zeros((m, n))
    return g.standard_normal((m, rank)) @ g.standard_normal((rank, n)) / np.sqrt(rank)


def balanced_minimizer(target, dims: Sequence[int] | None = None, rng=None) -> Factorization:
    """Balanced SVD-aligned minimizer ``W_i = V_i S^{1/L} V_{i-1}^T`` of ``target``.

    With ``M = U S V^T`` (compact SVD, rank ``r``), ``V_0 = V``, ``V_L = U`` and hidden ``V_i``
    (``d_i x r``, orthonormal columns) either Haar-random (``rng`` given) or the first ``r``
    coordinate vectors (``rng=None``). These are the flattest minimizers: their sharpness equals
    ``2c L sigma_1(M)^{2(L-1)/L}``. They are Frobenius-balanced (``W_{i+1}^T W_{i+1} = W_i W_i^T``).

    Parameters
    ----------
    target : array_like
        ``M`` (``d_L x d_0``). A rank-deficient ``M`` is fine.
    dims : sequence of int, optional
        ``(d_0, ..., d_L)``; ``d_0``/``d_L`` must match ``M``. Every hidden width must be
        ``>= rank(M)``. Default: depth 2 with hidden width ``rank(M)`` (at least 1).
    rng : Generator, SeedSequence or int, optional
        Randomizes the hidden orthonormal frames (``None``: deterministic frames).

    Returns
    -------
    Factorization

    Examples
    --------
    >>> import numpy as np
    >>> fac = balanced_minimizer(np.diag([3.0, 1.0]), dims=(2, 2, 2, 2))
    >>> np.allclose(fac.product, np.diag([3.0, 1.0]))
    True
    """
    M = real_matrix(target, "target")
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    tol = max(M.shape) * np.finfo(float).eps * (s[0] if s.size else 0.0)
    r = max(int(np.sum(s > tol)), 1)
    if dims is None:
        dims = (M.shape[1], r, M.shape[0])
    dims = _check_dims(dims)
    if (dims[-1], dims[0]) != M.shape:
        raise ValueError(
            f"dims: (d_L, d_0) = ({dims[-1]}, {dims[0]}) must equal target shape {M.shape}"
        )
    if min(dims[1:-1], default=r) < r:
        raise ValueError(f"dims: every hidden width must be >= rank(target) = {r}, got {dims}")
    L = len(dims) - 1
    g = None if rng is None else as_generator(rng)
    frames = [Vt[:r].T]
    for d in dims[1:-1]:
        frames.append(np.eye(d, r) if g is None else _random_orthonormal(d, r, g))
    frames.append(U[:, :r])
    root = np.diag(s[:r] ** (1.0 / L))
    ws = [frames[i + 1] @ root @ frames[i].T for i in range(L)]
    return Factorization(ws, target=M)


def unbalanced_minimizer(
    target, dims: Sequence[int], rng=None, spread: float = 1.0
) -> Factorization:
    """A minimizer of ``target`` far from balance: a balanced one with random gauges.

    Starts from :func:`balanced_minimizer` and inserts invertible ``G_i`` between layers,
    ``W_i <- G_i W_i G_{i-1}^{-1}`` (``G_0 = G_L = I``), which leaves the product unchanged.
    ``G_i = Q_i diag(exp(spread * z)) Q_i'`` with Haar orthogonal ``Q_i, Q_i'`` and i.i.d.
    standard normal ``z``, so its log-singular values have standard deviation ``spread``.

    Parameters
    ----------
    target : array_like
        ``M``.
    dims : sequence of int
        ``(d_0, ..., d_L)``.
    rng : Generator, SeedSequence or int, optional
        Random source.
    spread : float, default 1.0
        Standard deviation of the log-singular values of each gauge (``0`` gives rotations only).

    Examples
    --------
    >>> import numpy as np
    >>> fac = unbalanced_minimizer(np.diag([3.0, 1.0]), dims=(2, 4, 4, 2), rng=1)
    >>> fac.is_minimizer()
    True
    """
    if not np.isfinite(spread) or spread < 0:
        raise ValueError(f"spread: must be finite and >= 0, got {spread!r}")
    g = as_generator(rng)
    base = balanced_minimizer(target, dims, rng=g)
    ws = [w.copy() for w in base.weights]
    for i in range(len(ws) - 1):  # gauge between layer i and i+1
        d = ws[i].shape[0]
        G = _random_orthonormal(d, d, g) @ np.diag(np.exp(spread * g.standard_normal(d)))
        G = G @ _random_orthonormal(d, d, g)
        ws[i] = G @ ws[i]
        ws[i + 1] = ws[i + 1] @ np.linalg.inv(G)
    return Factorization(ws, target=base.target)


def scalar_minimizer(depth: int, rng=None, target: float | None = None, spread: float = 0.5):
    """Random minimizer of a scalar factorization ``w_L ... w_1 = m`` (all widths 1).

    Distribution (documented and fixed): unless given, the target is ``m ~ Uniform(0.5, 2)``;
    the factors are ``w_i = m^{1/L} exp(spread * (z_i - mean(z)))`` with ``z_i ~ N(0, 1)``, so
    ``prod w_i = m`` exactly (up to rounding) and the log-imbalance has spread ``spread``.
    Negative ``m`` flips the sign of ``w_1``.

    Parameters
    ----------
    depth : int
        ``L >= 1``.
    rng : Generator, SeedSequence or int, optional
        Random source.
    target : float, optional
        ``m``; nonzero.
    spread : float, default 0.5
        Log-scale spread of the factors (``0``: balanced, ``w_i = m^{1/L}``).

    Returns
    -------
    Factorization
        ``1 x 1`` factors with target ``[[m]]``.

    Examples
    --------
    >>> import numpy as np
    >>> fac = scalar_minimizer(15, rng=0)
    >>> fac.depth, fac.is_minimizer(rtol=1e-12)
    (15, True)
    """
    depth = check_count(depth, "depth")
    if not np.isfinite(spread) or spread < 0:
        raise ValueError(f"spread: must be finite and >= 0, got {spread!r}")
    g = as_generator(rng)
    m = float(g.uniform(0.5, 2.0)) if target is None else float(target)
    if not np.isfinite(m) or m == 0:
        raise ValueError(f"target: must be finite and nonzero, got {target!r}")
    z = g.standard_normal(depth)
    w = abs(m) ** (1.0 / depth) * np.exp(spread * (z - z.mean()))
    if m < 0:
        w[0] = -w[0]
    return Factorization([np.array([[x]]) for x in w], target=np.array([[m]]))
