"""One-call summary of the curvature facts of a factorization (used by the CLI and the demo)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .closed_forms import flattest_sharpness, spectral_norm_bound
from .factorization import Factorization, check_scale
from .spectrum import hessian_spectrum, hessian_trace, sharpness

__all__ = ["SharpnessSummary", "summarize"]

#: ``summarize`` computes the Hessian rank (a dense eigen-decomposition of K) up to this
#: ``d_L d_0``.
RANK_MAX_DIM = 2048


@dataclass(frozen=True)
class SharpnessSummary:
    """Curvature facts of one factorization.

    Attributes
    ----------
    dims : tuple of int
        ``(d_0, ..., d_L)``.
    lambda_max : float
        Sharpness (exact at a minimizer; full-Hessian Lanczos otherwise — see ``method``).
    method : str
        Method of :func:`dmfsharp.sharpness`.
    spectral_norm_bound : float or None
        ``S`` (only at a minimizer, where it bounds ``lambda_max``).
    spectral_norm_bound_tight : bool or None
        Whether ``S = lambda_max`` (alignment test).
    flattest : float or None
        ``2c L sigma_1(M)^{2(L-1)/L}`` for the target (``None`` on data).
    trace : float
        Hessian trace (exact at any point).
    rank : int or None
        Hessian rank at a minimizer (None off a minimizer or when ``d_L d_0`` exceeds
        ``RANK_MAX_DIM``).
    residual : float
        ``||P - M||_F``.
    relative_residual : float
        ``||P - M||_F / max(||M||_F, ||P||_F)``.
    is_minimizer : bool
        See :meth:`Factorization.is_minimizer`.
    converged : bool
        Eigensolver convergence.
    eigen_residual : float
        ``||H v - lambda_max v||``.
    n_matvecs : int
        Operator products used.
    scale : float
        Loss scale ``c``.
    n_samples : int or None
        Samples of the data loss (``None`` for the factorization loss).
    reduction : str or None
        ``"mean"`` or ``"sum"`` on data (``None`` for the factorization loss).
    """

    dims: tuple[int, ...]
    lambda_max: float
    method: str
    spectral_norm_bound: float | None
    spectral_norm_bound_tight: bool | None
    flattest: float | None
    trace: float
    rank: int | None
    residual: float
    relative_residual: float
    is_minimizer: bool
    converged: bool
    eigen_residual: float
    n_matvecs: int
    scale: float
    n_samples: int | None = None
    reduction: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN/inf become None)."""
        out = asdict(self)
        out["dims"] = list(self.dims)
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in out.items()
        }

    def to_text(self) -> str:
        """A short aligned two-column table."""
        if self.spectral_norm_bound is None:
            s_text = "n/a (not a minimizer)"
        else:
            tight = (
                "tight (aligned)" if self.spectral_norm_bound_tight else "NOT tight: upper bound"
            )
            s_text = f"{self.spectral_norm_bound:.10g}  [{tight}]"
        lam_kind = "exact" if self.is_minimizer else "full Hessian, not a minimizer"
        if self.n_samples is None:
            loss_text = f"{self.scale:g} ||P - M||^2"
        else:
            per = f"/{self.n_samples}" if self.reduction == "mean" else ""
            loss_text = (
                f"{self.scale:g}{per} ||P X - Y||^2 (n = {self.n_samples}, {self.reduction})"
            )
        flat = "n/a (data loss)" if self.flattest is None else f"{self.flattest:.10g}"
        rows = [
            ("dims", ",".join(map(str, self.dims))),
            ("loss", loss_text),
            ("lambda_max", f"{self.lambda_max:.12g}  [{lam_kind}; {self.method}]"),
            ("spectral-norm S", s_text),
            ("flattest 2cL s1^(2(L-1)/L)", flat),
            ("trace", f"{self.trace:.10g}"),
            ("rank", "n/a" if self.rank is None else str(self.rank)),
            ("residual ||P-M||_F", f"{self.residual:.3e}"),
            ("minimizer", "yes" if self.is_minimizer else "no"),
            ("eigen-residual", f"{self.eigen_residual:.2e}"),
        ]
        if not self.converged:
            rows.append(("WARNING", "eigensolver did not converge"))
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def summarize(
    fac: Factorization, scale: float = 0.5, *, rng=None, rtol_minimizer: float = 1e-10
) -> SharpnessSummary:
    """Sharpness, S and its tightness, flattest value, trace, rank and residual of ``fac``.

    Parameters
    ----------
    fac : Factorization
        Any factorization.
    scale : float, default 0.5
        Loss scale ``c``.
    rng : Generator, SeedSequence or int, optional
        Passed to :func:`dmfsharp.sharpness`.
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance.

    Returns
    -------
    SharpnessSummary

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> s = summarize(Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)]), 1.0)
    >>> round(s.lambda_max, 9), round(s.spectral_norm_bound, 9), s.spectral_norm_bound_tight
    (402.0, 408.0, False)
    """
    c = check_scale(scale)
    res = sharpness(fac, c, rng=rng, rtol_minimizer=rtol_minimizer)
    bound = tight = rank = None
    if res.is_minimizer:
        b = spectral_norm_bound(fac, c, rtol_minimizer=rtol_minimizer)
        bound, tight = b.value, b.aligned
        if fac.dims[-1] * fac.in_dim <= RANK_MAX_DIM:
            rank = hessian_spectrum(fac, c, rtol_minimizer=rtol_minimizer).rank
    return SharpnessSummary(
        dims=fac.dims,
        lambda_max=res.lambda_max,
        method=res.method,
        spectral_norm_bound=bound,
        spectral_norm_bound_tight=tight,
        flattest=None if fac.data is not None else flattest_sharpness(fac.target, fac.depth, c),
        trace=hessian_trace(fac, c),
        rank=rank,
        residual=fac.residual_norm,
        relative_residual=fac.relative_residual(),
        is_minimizer=res.is_minimizer,
        converged=res.converged,
        eigen_residual=res.eigen_residual,
        n_matvecs=res.n_matvecs,
        scale=c,
        n_samples=res.n_samples,
        reduction=res.reduction,
    )
