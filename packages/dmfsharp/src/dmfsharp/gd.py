"""Full-batch gradient descent on a deep matrix factorization, with analytic gradients.

``w_{t+1} = w_t - eta * grad l(w_t)`` on ``l(W) = c ||W_L ... W_1 - M||_F^2``. The gradient
``2c A_k^T R B_k^T`` is formed like back-propagation: the prefix products ``B_k = W_k ... W_1`` in
one forward sweep, then ``T_k = A_k^T R`` in one backward sweep (``T_{k-1} = W_k^T T_k``), so a step
costs ``3(L-1)`` matrix products and no autodiff. All-width-1 (scalar) factorizations take a
vectorized path (``np.cumprod`` prefix/suffix products), which removes the per-layer Python
overhead.

The engine runs a *batch* of same-shape factorizations at once (stacked arrays, ``np.matmul``
broadcasting); :func:`gradient_descent` is the single-run front end (exported as ``dmfsharp.gradient_descent``; the module is ``dmfsharp.gd``) and :func:`gd_batch` the batched one (used by
the escape experiments, which run one start point under several step sizes).

Recorded at every ``record_every`` steps (and at the last iterate): loss, Euclidean distance to a
reference point (default: the start), the signed component of ``w_t - w_ref`` along a reference
unit direction (default: the top Hessian eigenvector of the reference). Recorded every
``sharpness_every`` steps (and at the last iterate): the sharpness via
:func:`dmfsharp.sharpness` (exact through ``K`` when the point is a minimizer, Lanczos on the
analytic Hessian-vector product otherwise) and the balance measures of
:func:`dmfsharp.closed_forms.balance`.

Divergence (a non-finite loss or update, or a loss above ``divergence_bound``) stops that run with
``status="diverged"``; the run keeps its last finite iterate and its trace ends at the last finite
record, so traces never contain NaN or inf. (The numpy loop tests an update through its row sum,
so an update whose entries sum beyond the float range also counts as divergence.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _scalar_kernel
from .closed_forms import balance
from .factorization import Factorization, check_count, check_positive, check_scale
from .spectrum import sharpness

__all__ = ["GDResult", "GDTrace", "gd_batch", "gradient_descent"]

#: possible values of :attr:`GDResult.status`
STATUSES = ("completed", "converged", "diverged")
#: Run-member-layer steps of one call of the compiled scalar loop (~0.05 s): a Ctrl-C is seen
#: between calls.
KERNEL_CHUNK_WORK = 2_000_000


@dataclass(frozen=True)
class GDTrace:
    """Quantities recorded along one gradient-descent run.

    Attributes
    ----------
    steps : ndarray of int
        Step index ``t`` of each record (the iterate ``w_t``; ``w_0`` is the start).
    loss : ndarray
        ``l(w_t)``.
    distance : ndarray
        ``||w_t - w_ref||`` (Euclidean norm over all parameters).
    component : ndarray
        Signed ``<w_t - w_ref, v_ref>`` with ``v_ref`` the unit reference direction.
    sharpness_steps : ndarray of int
        Step indices at which the diagnostics below were computed.
    sharpness : ndarray
        ``lambda_max`` of the Hessian at those iterates (same units as the loss per parameter^2).
    imbalance : ndarray
        Largest relative Frobenius imbalance over the layer interfaces
        (:func:`dmfsharp.closed_forms.frobenius_imbalance`; invariant under gradient flow, GD
        changes it at order ``eta^2``) at those iterates.
    spectral_spread : ndarray
        ``max_k a_k / min_k a_k - 1`` of the spectral-norm products ``a_k = ||A_k||_2 ||B_k||_2``
        (0 when spectral-norm balanced; may be ``inf`` when some ``a_k = 0``).
    iterates : ndarray or None
        ``(n_records, n_params)`` flat iterates at :attr:`steps` when requested
        (``keep_iterates=True``), else ``None``.
    sharpness_residual : ndarray or None
        ``||H v - lambda_max v||`` of each sharpness value (Hessian units). Each sharpness is a
        Lanczos solve warm-started from the previous record's top eigenvector (a few products
        per record).
    """

    steps: np.ndarray
    loss: np.ndarray
    distance: np.ndarray
    component: np.ndarray
    sharpness_steps: np.ndarray
    sharpness: np.ndarray
    imbalance: np.ndarray
    spectral_spread: np.ndarray
    iterates: np.ndarray | None = None
    sharpness_residual: np.ndarray | None = None

    def first_step_where(self, mask: np.ndarray) -> int | None:
        """First recorded step where the boolean ``mask`` (aligned with :attr:`steps`) holds."""
        idx = np.flatnonzero(mask)
        return int(self.steps[idx[0]]) if idx.size else None


@dataclass(frozen=True)
class GDResult:
    """Outcome of one gradient-descent run.

    Attributes
    ----------
    status : str
        ``"completed"`` (all steps taken), ``"converged"`` (stopped by the ``stop_rtol`` rule) or
        ``"diverged"`` (non-finite values or loss above the bound; :attr:`final` is then the last
        finite iterate).
    n_steps : int
        Number of steps taken.
    eta : float
        Step size.
    scale : float
        Loss scale ``c``.
    final : Factorization
        The last (finite) iterate, with the original target.
    trace : GDTrace
        Recorded quantities.
    """

    status: str
    n_steps: int
    eta: float
    scale: float
    final: Factorization
    trace: GDTrace


class _Batch:
    """Stacked parameters of ``B`` same-shape factorizations and their loss/gradient kernel."""

    def __init__(self, facs: Sequence[Factorization], scale: float):
        dims = facs[0].dims
        self.data = facs[0].data
        for k, f in enumerate(facs):
            if f.dims != dims:
                raise ValueError(f"facs[{k}]: dims {f.dims} differ from facs[0].dims {dims}")
            if f.data is not self.data:
                raise ValueError(
                    f"facs[{k}]: every run of a batch needs the same data (or none) as facs[0]"
                )
        # c of the reduced problem: c * weight on data (c / n for reduction="mean")
        self.c = scale * facs[0].loss_weight
        self.const = facs[0].loss_constant
        self.facs, self.dims, self.B = facs, dims, len(facs)
        self.L = len(dims) - 1
        self.scalar = all(d == 1 for d in dims) and self.data is None
        self.F = None if self.data is None else self.data.F
        self.flat = np.stack([f.to_vector() for f in facs])
        self.grad = np.empty_like(self.flat)
        self.target = np.stack([np.asarray(f.fit_target) for f in facs])  # (B, d_L, r)
        if self.F is None:
            norm = np.sqrt(np.sum(self.target**2, axis=(1, 2)))
        else:  # the normal-equation scale ||Y X^T|| = ||Y Q F^T||
            norm = np.linalg.norm(self.target @ self.F.T, axis=(1, 2))
        # the denominator of the relative residual (floored: a zero target stays finite)
        self.target_norm = np.maximum(norm, 1e-300)
        self.rel = np.zeros(self.B)
        offsets = np.cumsum([0] + [dims[k + 1] * dims[k] for k in range(self.L)])
        self.W = [self._view(self.flat, offsets, k) for k in range(self.L)]
        self.G = [self._view(self.grad, offsets, k) for k in range(self.L)]
        self.m = self.target[:, 0, 0]

    def _view(self, arr, offsets, k):
        v = arr[:, offsets[k] : offsets[k + 1]].reshape(self.B, self.dims[k + 1], self.dims[k])
        assert np.shares_memory(v, arr)  # internal invariant: views, not copies
        return v

    def loss_and_grad(self) -> np.ndarray:
        """Fill ``self.grad`` at the current parameters and return the loss per member."""
        c2 = 2.0 * self.c
        if self.scalar:
            w = self.flat
            pre = np.ones_like(w)
            np.cumprod(w[:, :-1], axis=1, out=pre[:, 1:])
            suf = np.ones_like(w)
            suf[:, :-1] = np.cumprod(w[:, :0:-1], axis=1)[:, ::-1]
            r = pre[:, -1] * w[:, -1] - self.m
            np.multiply(pre, suf, out=self.grad)
            self.grad *= (c2 * r)[:, None]
            loss = self.c * r * r
            self.rel = np.sqrt(np.maximum(loss, 0.0) / self.c) / self.target_norm
            return loss
        W, L, F = self.W, self.L, self.F
        rights = [None] * L
        first = W[0] if F is None else W[0] @ F  # B_1 (times the frozen layer on data)
        if L > 1:
            rights[1] = first
        for k in range(2, L):
            rights[k] = W[k - 1] @ rights[k - 1]
        prod = W[L - 1] @ rights[L - 1] if L > 1 else first
        r = prod - self.target
        loss = self.c * np.einsum("bij,bij->b", r, r)
        if F is None:
            self.rel = np.sqrt(np.maximum(loss, 0.0) / self.c) / self.target_norm
        else:
            loss = loss + self.c * self.const
            self.rel = np.linalg.norm(r @ F.T, axis=(1, 2)) / self.target_norm
        t = c2 * r
        for k in range(L - 1, 0, -1):
            np.matmul(t, rights[k].swapaxes(-1, -2), out=self.G[k])
            t = W[k].swapaxes(-1, -2) @ t
        self.G[0][...] = t if F is None else t @ F.T
        return loss

    def factorization(self, b: int) -> Factorization:
        """Member ``b`` at the current parameters (a copy, with its own target)."""
        return self.facs[b].with_vector(self.flat[b])


def _as_flat(fac: Factorization, direction) -> np.ndarray:
    if isinstance(direction, np.ndarray) and direction.ndim == 1:
        v = np.asarray(direction, dtype=np.float64)
        if v.shape != (fac.n_params,):
            raise ValueError(f"direction: expected shape ({fac.n_params},), got {v.shape}")
    else:
        v = fac.join(direction)
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n == 0:
        raise ValueError("direction: must be a finite nonzero vector")
    return v / n


def _diagnostics(fac: Factorization, scale: float, v0):
    """Sharpness (exact via K at a minimizer, Lanczos elsewhere; warm-started from the previous
    top eigenvector ``v0`` when given), its eigen-residual, the two balance measures, and the
    eigenvector for the next warm start."""
    rep = balance(fac)
    res = sharpness(fac, scale=scale, rng=0, v0=v0)
    row = (
        float(res.lambda_max),
        float(rep.frobenius_imbalance.max(initial=0.0)),
        rep.spectral_spread,
        float(res.eigen_residual),
    )
    return row, res.flat_eigenvector()


def gd_batch(
    facs: Sequence[Factorization],
    etas: Sequence[float],
    steps: int,
    *,
    scale: float = 0.5,
    record_every: int = 1,
    sharpness_every: int | None = None,
    references: Sequence[Factorization] | None = None,
    directions: Sequence | None = None,
    divergence_bound: float | None = None,
    stop_rtol: float | None = None,
    stop_after_distance: float = 0.0,
    keep_iterates: bool = False,
    engine: str = "auto",
) -> list[GDResult]:
    """Run gradient descent on several same-shape factorizations at once (one step size each).

    Parameters
    ----------
    facs : sequence of Factorization
        Start points; all must have the same ``dims`` (targets may differ).
    etas : sequence of float
        Step size of each run (finite, > 0), same length as ``facs``.
    steps : int
        Maximum number of steps (>= 1).
    scale : float, default 0.5
        Loss scale ``c``.
    record_every : int, default 1
        Record loss/distance/component every this many steps (and always at the last iterate).
    sharpness_every : int, optional
        Compute the sharpness and balance measures every this many steps (and at the last
        iterate); ``None``: never (the sharpness arrays are then empty).
    references : sequence of Factorization, optional
        Points ``w_ref`` for the distance/component records (default: the start points).
    directions : sequence, optional
        Unit reference directions ``v_ref`` (per-layer blocks or flat vectors; normalized here).
        Default: the top Hessian eigenvector of each reference (via :func:`dmfsharp.sharpness`).
    divergence_bound : float, optional
        A run whose loss exceeds this is stopped as diverged. Default:
        ``1e6 * max(l(w_0), c ||M||_F^2, 1e-300)`` per run.
    stop_rtol : float, optional
        Stop a run with status ``"converged"`` once its relative residual ``||P - M|| / ||M||``
        is ``<= stop_rtol`` and its distance to the reference is ``>= stop_after_distance``.
    stop_after_distance : float, default 0.0
        See ``stop_rtol`` (the escape experiment uses its escape radius, so that a run is not
        stopped at the minimizer it starts next to).
    keep_iterates : bool, default False
        Also store the flat iterate at every record (memory ``n_records * n_params`` floats per
        run; meant for small problems such as trajectory plots).
    engine : {"auto", "numpy", "numba"}, default "auto"
        ``"auto"`` runs scalar factorizations (all widths 1) without ``sharpness_every`` in the
        compiled loop of :mod:`dmfsharp._scalar_kernel` when numba is installed, everything
        else in the numpy loop; ``"numpy"`` forces the numpy loop.

    Returns
    -------
    list of GDResult
        One per run, in input order.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> start = Factorization([np.array([[1.0]]), np.array([[1.5]])], target=np.array([[1.0]]))
    >>> res = gd_batch([start, start], [0.1, 0.2], 200, directions=[np.ones(2), np.ones(2)])
    >>> [r.status for r in res], [bool(r.final.is_minimizer(1e-8)) for r in res]
    (['completed', 'completed'], [True, True])
    """
    facs = list(facs)
    if not facs:
        raise ValueError("facs: need at least one factorization")
    for k, f in enumerate(facs):
        if not isinstance(f, Factorization):
            raise TypeError(f"facs[{k}]: expected a Factorization, got {type(f).__name__}")
    c = check_scale(scale)
    eta = np.array([check_positive(e, "eta") for e in etas], dtype=np.float64)
    if eta.shape != (len(facs),):
        raise ValueError(f"etas: expected {len(facs)} step sizes, got {eta.size}")
    if engine not in ("auto", "numpy", "numba"):
        raise ValueError(f"engine: must be 'auto', 'numpy' or 'numba', got {engine!r}")
    steps = check_count(steps, "steps")
    record_every = check_count(record_every, "record_every")
    if sharpness_every is not None:
        sharpness_every = check_count(sharpness_every, "sharpness_every")
    refs = facs if references is None else list(references)
    if len(refs) != len(facs):
        raise ValueError(f"references: expected {len(facs)}, got {len(refs)}")
    if directions is None:
        dirs = [ref.join(sharpness(ref, scale=c).eigenvector) for ref in refs]
    else:
        dirs = list(directions)
        if len(dirs) != len(facs):
            raise ValueError(f"directions: expected {len(facs)}, got {len(dirs)}")
    if stop_rtol is not None:
        stop_rtol = check_positive(stop_rtol, "stop_rtol")
    batch = _Batch(facs, c)
    ref_flat = np.stack([r.to_vector() for r in refs])
    if ref_flat.shape != batch.flat.shape:
        raise ValueError("references: must have the same dims as facs")
    dir_flat = np.stack([_as_flat(r, d) for r, d in zip(refs, dirs)])

    B = batch.B
    n_rec = steps // record_every + 2 + B  # cadence records, last iterate, one per stop event
    rec_steps = np.zeros(n_rec, dtype=np.int64)
    rec = np.zeros((3, n_rec, B))  # loss, distance, component
    rec_iter = np.zeros((n_rec, B, batch.flat.shape[1])) if keep_iterates else None
    n_valid = np.zeros(B, dtype=np.int64)  # records kept per run
    sharp: list[list[tuple]] = [[] for _ in range(B)]
    warm: list[np.ndarray | None] = [None] * B  # previous top eigenvector of each run
    active = np.ones(B, dtype=bool)
    status = np.array(["completed"] * B, dtype=object)
    taken = np.zeros(B, dtype=np.int64)
    if divergence_bound is None:
        with np.errstate(all="ignore"):
            loss0 = batch.loss_and_grad()
        scale_loss = batch.c * (np.sum(batch.target**2, axis=(1, 2)) + batch.const)
        bound = 1e6 * np.maximum(np.maximum(loss0, scale_loss), 1e-300)
    else:
        bound = np.full(B, check_positive(divergence_bound, "divergence_bound"))
    stop_tol = -1.0 if stop_rtol is None else stop_rtol
    try:
        stop_after_distance = float(stop_after_distance)
    except (TypeError, ValueError):
        raise TypeError(
            f"stop_after_distance: expected a number, got {stop_after_distance!r}"
        ) from None
    if not (np.isfinite(stop_after_distance) and stop_after_distance >= 0):
        raise ValueError(
            f"stop_after_distance: must be finite and >= 0, got {stop_after_distance!r}"
        )

    compiled = batch.scalar and sharpness_every is None
    loop = _scalar_kernel.get_loop() if compiled and engine != "numpy" else None
    if engine == "numba" and not compiled:
        raise ValueError(
            "engine: 'numba' needs a scalar factorization (all widths 1, no data) and "
            "sharpness_every=None"
        )
    if engine == "numba" and loop is None:
        raise ValueError("engine: 'numba' needs numba: pip install 'dmfsharp[fast]'")
    if loop is not None:
        codes = np.zeros(B, dtype=np.int64)
        running = np.ones(B, dtype=np.bool_)
        state = np.zeros(2, dtype=np.int64)
        chunk = max(1, KERNEL_CHUNK_WORK // (B * batch.L))
        iters = np.zeros((1, 1, 1)) if rec_iter is None else rec_iter
        m = np.ascontiguousarray(batch.m)
        while True:  # short calls: a KeyboardInterrupt stops the run between two of them
            done_flag = loop(
                batch.flat, m, eta, c, ref_flat, dir_flat, bound, batch.target_norm, stop_tol,
                stop_after_distance, steps, record_every, keep_iterates, rec_steps, rec, iters,
                n_valid, codes, taken, running, state, int(state[0]) + chunk,
            )  # fmt: skip
            if done_flag >= 0:
                break
        status = np.array(STATUSES, dtype=object)[codes]
    else:
        i_rec, t = 0, 0
        new = np.empty_like(batch.flat)
        while True:
            with np.errstate(all="ignore"):
                loss = batch.loss_and_grad()
            finite = np.isfinite(loss) & (loss <= bound)  # gradient: checked with the update
            status[active & ~finite] = "diverged"
            active &= finite
            rel = np.where(active, batch.rel, 0.0)
            done = active & (rel <= stop_tol)
            if done.any() and stop_after_distance > 0:
                far = np.linalg.norm(batch.flat[done] - ref_flat[done], axis=1)
                done[done] = far >= stop_after_distance
            last = t == steps or not (active & ~done).any()
            if t % record_every == 0 or last or done.any():  # O(n_params) work only when due
                diff = batch.flat - ref_flat
                dist = np.linalg.norm(diff, axis=1)
                rec_steps[i_rec] = t
                rec[0, i_rec] = loss
                rec[1, i_rec] = dist
                rec[2, i_rec] = np.einsum("bn,bn->b", diff, dir_flat)
                if rec_iter is not None:
                    rec_iter[i_rec] = batch.flat
                i_rec += 1
                n_valid[active] = i_rec
            if sharpness_every is not None:
                members = active if (t % sharpness_every == 0 or last) else done
                for b in np.flatnonzero(members):
                    row, warm[b] = _diagnostics(batch.factorization(b), c, warm[b])
                    sharp[b].append((t, *row))
            status[done] = "converged"
            active &= ~done
            if last:
                break
            with np.errstate(all="ignore"):
                batch.grad *= eta[:, None]
                np.subtract(batch.flat, batch.grad, out=new)
                ok = np.isfinite(np.sum(new, axis=1))  # one pass; NaN/inf propagate to the sum
            status[active & ~ok] = "diverged"
            active &= ok
            np.copyto(batch.flat, new, where=active[:, None])
            taken[active] += 1
            t += 1

    results = []
    for b in range(B):
        k = n_valid[b]
        s = np.array(sharp[b], dtype=np.float64).reshape(-1, 5)
        trace = GDTrace(
            steps=rec_steps[:k].copy(),
            loss=rec[0, :k, b].copy(),
            distance=rec[1, :k, b].copy(),
            component=rec[2, :k, b].copy(),
            sharpness_steps=s[:, 0].astype(np.int64),
            sharpness=s[:, 1],
            imbalance=s[:, 2],
            spectral_spread=s[:, 3],
            sharpness_residual=s[:, 4],
            iterates=None if rec_iter is None else rec_iter[:k, b].copy(),
        )
        results.append(
            GDResult(
                status=str(status[b]),
                n_steps=int(taken[b]),
                eta=float(eta[b]),
                scale=c,
                final=batch.factorization(b),
                trace=trace,
            )
        )
    return results


def gradient_descent(
    fac: Factorization,
    eta: float,
    steps: int,
    *,
    scale: float = 0.5,
    record_every: int = 1,
    sharpness_every: int | None = None,
    reference: Factorization | None = None,
    direction=None,
    divergence_bound: float | None = None,
    stop_rtol: float | None = None,
    stop_after_distance: float = 0.0,
    keep_iterates: bool = False,
    engine: str = "auto",
) -> GDResult:
    """Full-batch gradient descent ``w <- w - eta grad l(w)`` from ``fac`` with recording.

    See :func:`gd_batch` for the parameters (here for a single run: ``reference`` and
    ``direction`` instead of their plural lists).

    Returns
    -------
    GDResult

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> start = Factorization([np.array([[1.0]]), np.array([[1.5]])], target=np.array([[1.0]]))
    >>> res = gradient_descent(start, eta=0.1, steps=300, direction=np.array([1.0, 0.0]))
    >>> res.status, round(float(res.final.product[0, 0]), 8)
    ('completed', 1.0)
    >>> gradient_descent(start, eta=5.0, steps=300, direction=np.array([1.0, 0.0])).status
    'diverged'
    """
    return gd_batch(
        [fac],
        [eta],
        steps,
        scale=scale,
        record_every=record_every,
        sharpness_every=sharpness_every,
        references=None if reference is None else [reference],
        directions=None if direction is None else [direction],
        divergence_bound=divergence_bound,
        stop_rtol=stop_rtol,
        stop_after_distance=stop_after_distance,
        keep_iterates=keep_iterates,
        engine=engine,
    )[0]
