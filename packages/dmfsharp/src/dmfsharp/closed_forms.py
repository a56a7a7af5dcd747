"""Closed forms, the spectral-norm expression S, balance measures and the paper's claims.

Everything here is at a minimizer (``P = M``) of ``l = c * ||W_L ... W_1 - M||_F^2``, with
``A_k``/``B_k`` the partial products of :class:`~dmfsharp.Factorization`:

* scalar factorization: ``lambda_max = 2c sum_i prod_{j != i} w_j^2`` (exact);
* depth 2: ``lambda_max = 2c (||W_1||_2^2 + ||W_2||_2^2)`` (exact: K is a Kronecker sum);
* flattest value over all minimizers of ``M`` at depth ``L``:
  ``2c L sigma_1(M)^{2(L-1)/L}``, attained by balanced SVD-aligned factorizations;
* ``S = 2c sum_k ||A_k||_2^2 ||B_k||_2^2`` is an UPPER BOUND on ``lambda_max``, equal to it iff
  the factorization is *aligned* (common unit ``y``, ``x`` with ``||A_k^T y|| = ||A_k||_2`` and
  ``||B_k x|| = ||B_k||_2`` for every active ``k``). For ``L >= 3`` it is in general strict, so
  :func:`spectral_norm_bound` always reports whether it is tight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .factorization import Factorization, check_scale, check_tolerance
from .spectrum import _scalar_lambda, sharpness

__all__ = [
    "BalanceReport",
    "Claim",
    "ClaimsReport",
    "SpectralNormBound",
    "balance",
    "check_claims",
    "depth2_sharpness",
    "flattest_sharpness",
    "frobenius_imbalance",
    "scalar_sharpness",
    "spectral_norm_bound",
    "spectral_products",
]


def _norm2(a: np.ndarray) -> float:
    return float(np.linalg.norm(a, 2))


def _require_factorization_loss(fac: Factorization, what: str) -> None:
    """The closed forms and claims below are about ``c ||P - M||^2``, not a data loss."""
    if fac.data is not None:
        raise ValueError(
            f"fac: {what} is a statement about the factorization loss c||P - M||^2, not a data "
            "loss; use dmfsharp.sharpness on data"
        )


def scalar_sharpness(fac: Factorization, scale: float = 0.5, rtol_minimizer: float = 1e-10):
    """Exact sharpness of a scalar factorization at a minimizer: ``2c sum_i prod_{j!=i} w_j^2``.

    Computed from prefix/suffix products (no division, so zero factors are fine); equals
    ``2c m^2 sum_i w_i^{-2}`` when no ``w_i`` vanishes.

    Parameters
    ----------
    fac : Factorization
        A minimizer with all widths 1.
    scale : float, default 0.5
        Loss scale ``c``.
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> scalar_sharpness(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    13.0
    """
    c = check_scale(scale)
    _require_factorization_loss(fac, "the scalar closed form")
    if max(fac.dims) != 1:
        raise ValueError(f"fac: scalar closed form needs all widths 1, got dims {fac.dims}")
    fac.require_minimizer(rtol_minimizer, what="fac")
    return _scalar_lambda(fac, c)


def depth2_sharpness(fac: Factorization, scale: float = 0.5, rtol_minimizer: float = 1e-10):
    """Exact sharpness of a depth-2 minimizer: ``2c (||W_1||_2^2 + ||W_2||_2^2)``.

    Parameters
    ----------
    fac : Factorization
        A minimizer of depth 2.
    scale : float, default 0.5
        Loss scale ``c``.
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> depth2_sharpness(Factorization([np.array([[1.0], [0.0]]), np.array([[0.5, 0.75**0.5]])]))
    2.0
    """
    c = check_scale(scale)
    _require_factorization_loss(fac, "the depth-2 closed form")
    if fac.depth != 2:
        raise ValueError(f"fac: the depth-2 closed form needs depth 2, got depth {fac.depth}")
    fac.require_minimizer(rtol_minimizer, what="fac")
    return 2.0 * c * (_norm2(fac.weights[0]) ** 2 + _norm2(fac.weights[1]) ** 2)


def flattest_sharpness(target, depth: int, scale: float = 0.5) -> float:
    """Smallest sharpness over all depth-``L`` minimizers of ``M``: ``2c L sigma_1^{2(L-1)/L}``.

    Every minimizer has ``lambda_max >= 2c L sigma_1(M)^{2(L-1)/L}``; balanced SVD-aligned
    factorizations (:func:`dmfsharp.balanced_minimizer`) attain it.

    Parameters
    ----------
    target : array_like or float
        ``M`` (2-D) or a scalar target ``m``.
    depth : int
        ``L >= 1``.
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    float

    Examples
    --------
    >>> flattest_sharpness([[4.0]], depth=2)      # 2c * L * 4^(2 (L-1)/L), c = 1/2, L = 2
    8.0
    """
    c = check_scale(scale)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth: must be an integer >= 1, got {depth!r}")
    M = np.asarray(target, dtype=np.float64)
    if M.ndim == 0:
        M = M.reshape(1, 1)
    if M.ndim != 2 or M.size == 0:
        raise ValueError(f"target: expected a scalar or a non-empty 2-D array, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError("target: contains non-finite entries")
    s1 = _norm2(M)
    return 2.0 * c * depth * s1 ** (2.0 * (depth - 1) / depth)


def spectral_products(fac: Factorization) -> np.ndarray:
    """``a_k = ||A_k||_2 ||B_k||_2`` for every layer (the paper's spectral-norm products).

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> spectral_products(Factorization([np.array([[2.0]]), np.array([[3.0]])]))
    array([3., 2.])
    """
    return np.array([_norm2(a) * _norm2(b) for a, b in zip(fac.lefts, fac.rights)])


def frobenius_imbalance(fac: Factorization) -> np.ndarray:
    """Relative Frobenius imbalance of each interface between consecutive layers.

    ``||W_{k+1}^T W_{k+1} - W_k W_k^T||_F / (||W_{k+1}^T W_{k+1}||_F + ||W_k W_k^T||_F)``
    (0 for a balanced interface; 0 by convention when both Grams vanish). Length ``L - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> frobenius_imbalance(Factorization([np.array([[2.0]]), np.array([[2.0]])]))
    array([0.])
    """
    out = []
    for w, w_next in zip(fac.weights[:-1], fac.weights[1:]):
        left, right = w_next.T @ w_next, w @ w.T
        denom = np.linalg.norm(left) + np.linalg.norm(right)
        out.append(np.linalg.norm(left - right) / denom if denom > 0 else 0.0)
    return np.array(out, dtype=np.float64)


@dataclass(frozen=True)
class BalanceReport:
    """Balance measures of a factorization.

    Attributes
    ----------
    frobenius_imbalance : ndarray
        See :func:`frobenius_imbalance` (length ``L - 1``).
    is_frobenius_balanced : bool
        All interface imbalances ``<= rtol``.
    spectral_products : ndarray
        ``a_k = ||A_k||_2 ||B_k||_2`` (length ``L``).
    spectral_spread : float
        ``max(a) / min(a) - 1`` (``inf`` when some ``a_k = 0 < max(a)``).
    is_spectral_balanced : bool
        ``spectral_spread <= rtol`` (constant ``a_k``: the paper's spectral-norm balance).
    rtol : float
        Tolerance used.
    """

    frobenius_imbalance: np.ndarray
    is_frobenius_balanced: bool
    spectral_products: np.ndarray
    spectral_spread: float
    is_spectral_balanced: bool
    rtol: float


def balance(fac: Factorization, rtol: float = 1e-8) -> BalanceReport:
    """Frobenius and spectral-norm balance of a factorization.

    Parameters
    ----------
    fac : Factorization
        Any factorization.
    rtol : float, default 1e-8
        Relative tolerance for calling a measure balanced.

    Returns
    -------
    BalanceReport

    Examples
    --------
    >>> from dmfsharp import balanced_minimizer
    >>> rep = balance(balanced_minimizer([[4.0, 0.0], [0.0, 1.0]], dims=(2, 2, 2, 2)))
    >>> rep.is_frobenius_balanced, rep.is_spectral_balanced
    (True, True)
    """
    rtol = check_tolerance(rtol, "rtol")
    imb = frobenius_imbalance(fac)
    a = spectral_products(fac)
    hi, lo = float(a.max()), float(a.min())
    spread = 0.0 if hi == 0 else (np.inf if lo == 0 else hi / lo - 1.0)
    return BalanceReport(
        frobenius_imbalance=imb,
        is_frobenius_balanced=bool(np.all(imb <= rtol)),
        spectral_products=a,
        spectral_spread=float(spread),
        is_spectral_balanced=bool(spread <= rtol),
        rtol=float(rtol),
    )


@dataclass(frozen=True)
class SpectralNormBound:
    """The spectral-norm expression ``S = 2c sum_k ||A_k||_2^2 ||B_k||_2^2`` and its tightness.

    ``S >= lambda_max`` at every minimizer; ``S = lambda_max`` iff :attr:`aligned`. Never treat
    :attr:`value` as the sharpness unless :attr:`aligned` is True.

    Attributes
    ----------
    value : float
        ``S``.
    aligned : bool
        Whether common unit vectors ``y``, ``x`` attain every ``||A_k||_2`` and ``||B_k||_2``
        (for the active layers, ``a_k > 0``) — the exact condition for ``S = lambda_max``.
    alignment_left, alignment_right : float
        ``lambda_max(sum_k A_k A_k^T / ||A_k||_2^2) / n_active`` and the same with
        ``B_k^T B_k / ||B_k||_2^2``: in ``(0, 1]``, equal to 1 iff a common ``y`` (``x``)
        exists.
    n_active : int
        Layers with ``a_k > 0``.
    spectral_products : ndarray
        ``a_k``.
    scale : float
        Loss scale ``c``.
    rtol : float
        Tolerance on ``1 - alignment``.
    """

    value: float
    aligned: bool
    alignment_left: float
    alignment_right: float
    n_active: int
    spectral_products: np.ndarray
    scale: float
    rtol: float

    @property
    def is_exact(self) -> bool:
        """Alias of :attr:`aligned`: whether ``S`` equals ``lambda_max``."""
        return self.aligned


def _alignment(mats: list[np.ndarray], norms: list[float]) -> float:
    if not mats:
        return 1.0
    gram = sum(m / n**2 for m, n in zip(mats, norms))
    return float(np.linalg.eigvalsh(0.5 * (gram + gram.T))[-1]) / len(mats)


def spectral_norm_bound(
    fac: Factorization, scale: float = 0.5, *, rtol: float = 1e-9, rtol_minimizer: float = 1e-10
) -> SpectralNormBound:
    """The spectral-norm expression ``S`` with an alignment test of whether it is exact.

    Parameters
    ----------
    fac : Factorization
        A minimizer (``S`` bounds ``lambda_max`` only there).
    scale : float, default 0.5
        Loss scale ``c``.
    rtol : float, default 1e-9
        Alignment tolerance: aligned iff both alignment scores are ``>= 1 - rtol``.
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance.

    Returns
    -------
    SpectralNormBound

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])
    >>> b = spectral_norm_bound(fac, scale=1.0)    # the counterexample to S = lambda_max: 402
    >>> round(b.value, 9), b.aligned
    (408.0, False)
    """
    c = check_scale(scale)
    rtol = check_tolerance(rtol, "rtol")
    fac.require_minimizer(rtol_minimizer, what="fac")
    ce = c * fac.loss_weight
    na = [_norm2(a) for a in fac.lefts]
    nb = [_norm2(b) for b in fac.rights]
    a = np.array(na) * np.array(nb)
    active = [k for k in range(fac.depth) if a[k] > 0]
    left = _alignment([fac.lefts[k] @ fac.lefts[k].T for k in active], [na[k] for k in active])
    right = _alignment([fac.rights[k].T @ fac.rights[k] for k in active], [nb[k] for k in active])
    return SpectralNormBound(
        value=2.0 * ce * float(np.sum(a**2)),
        aligned=bool(left >= 1 - rtol and right >= 1 - rtol),
        alignment_left=left,
        alignment_right=right,
        n_active=len(active),
        spectral_products=a,
        scale=c,
        rtol=float(rtol),
    )


# ---------------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class Claim:
    """One claim evaluated on one factorization.

    Attributes
    ----------
    name : str
        Short identifier.
    statement : str
        The claim in words, with its source (``derived`` = proved from first principles;
        ``paper`` = quoted from the paper's abstract, to be tested).
    applies : bool
        Whether the factorization meets the claim's hypothesis.
    holds : bool or None
        True/False when it applies; None when it does not apply (nothing to test) or the claim
        is existential and this factorization is not a witness.
    detail : str
        The numbers behind the verdict.
    """

    name: str
    statement: str
    applies: bool
    holds: bool | None
    detail: str


@dataclass(frozen=True)
class ClaimsReport:
    """Sharpness facts and the balance/flatness claims evaluated on one minimizer.

    Attributes
    ----------
    lambda_max : float
        Exact sharpness (:func:`dmfsharp.sharpness`).
    flattest : float
        :func:`flattest_sharpness` of the target at this depth.
    is_flattest : bool
        ``|lambda_max - flattest| <= rtol * flattest``.
    bound : SpectralNormBound
        ``S`` and its alignment test.
    balance : BalanceReport
        Balance measures.
    claims : tuple of Claim
        The evaluated claims.
    scale : float
        Loss scale ``c``.
    """

    lambda_max: float
    flattest: float
    is_flattest: bool
    bound: SpectralNormBound
    balance: BalanceReport
    claims: tuple[Claim, ...]
    scale: float

    @property
    def violated(self) -> tuple[Claim, ...]:
        """Claims that apply and fail on this factorization."""
        return tuple(cl for cl in self.claims if cl.holds is False)

    def to_markdown(self) -> str:
        """The claims as a markdown table."""
        verdict = {True: "holds", False: "FAILS", None: "n/a"}
        rows = ["| claim | applies | verdict | detail |", "|---|---|---|---|"]
        rows += [
            f"| {cl.statement} | {'yes' if cl.applies else 'no'} | {verdict[cl.holds]} | "
            f"{cl.detail} |"
            for cl in self.claims
        ]
        return "\n".join(rows)


def check_claims(
    fac: Factorization, scale: float = 0.5, *, rtol: float = 1e-8, rtol_minimizer: float = 1e-10
) -> ClaimsReport:
    """Evaluate the sharpness claims (derived facts and the paper's abstract) on one minimizer.

    Claims (``derived``: proved from first principles; ``paper``: quoted, tested here):

    * ``lower-bound`` (derived): ``lambda_max >= 2c L sigma_1^{2(L-1)/L}``.
    * ``S-bound`` (derived): ``S >= lambda_max``, with equality iff aligned.
    * ``frobenius-balanced-is-flattest`` (derived): a Frobenius-balanced minimizer is flattest.
    * ``constant-a-sufficient`` (paper): constant ``a_k = ||A_k||_2 ||B_k||_2`` implies flattest.
      Not true as literally stated: e.g. ``M = [0.5]``, ``W_1 = (1, 0)^T``,
      ``W_2 = (0.5, sqrt(3)/2)`` has ``a = (1, 1)`` but ``lambda_max = 4c > 2c``.
    * ``constant-a-necessary`` (paper, depth 2 and scalar): flattest implies constant ``a_k``.
    * ``flat-need-not-be-frobenius-balanced`` (paper, existential): a flattest minimizer that is
      not Frobenius-balanced is a witness (``holds=True``); otherwise ``None``.

    Parameters
    ----------
    fac : Factorization
        A minimizer.
    scale : float, default 0.5
        Loss scale ``c``.
    rtol : float, default 1e-8
        Relative tolerance for equalities (flattest, constant ``a``, balance, alignment).
    rtol_minimizer : float, default 1e-10
        Minimizer tolerance.

    Returns
    -------
    ClaimsReport

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.array([[1.0], [0.0]]), np.array([[0.5, 0.75**0.5]])])
    >>> [cl.name for cl in check_claims(fac).violated]
    ['constant-a-sufficient']
    """
    c = check_scale(scale)
    _require_factorization_loss(fac, "check_claims")
    rtol = check_tolerance(rtol, "rtol")
    fac.require_minimizer(rtol_minimizer, what="fac")
    lam = sharpness(fac, c, rtol_minimizer=rtol_minimizer).lambda_max
    flat = flattest_sharpness(fac.target, fac.depth, c)
    bound = spectral_norm_bound(fac, c, rtol=rtol, rtol_minimizer=rtol_minimizer)
    bal = balance(fac, rtol)
    is_flat = abs(lam - flat) <= rtol * max(flat, lam, 1e-300)
    s_tight = abs(bound.value - lam) <= rtol * max(bound.value, 1e-300)
    small = fac.depth == 2 or max(fac.dims) == 1
    nums = f"lambda_max={lam:.6g}, flattest={flat:.6g}"
    claims = (
        Claim(
            "lower-bound",
            "derived: lambda_max >= 2c L sigma_1^(2(L-1)/L)",
            True,
            bool(lam >= flat * (1 - rtol)),
            nums,
        ),
        Claim(
            "S-bound",
            "derived: S >= lambda_max, equality iff aligned",
            True,
            bool(bound.value >= lam * (1 - rtol) and bound.aligned == s_tight),
            f"S={bound.value:.6g}, lambda_max={lam:.6g}, aligned={bound.aligned}",
        ),
        Claim(
            "frobenius-balanced-is-flattest",
            "derived: Frobenius-balanced => flattest",
            bal.is_frobenius_balanced,
            is_flat if bal.is_frobenius_balanced else None,
            f"max imbalance={bal.frobenius_imbalance.max(initial=0.0):.2e}, {nums}",
        ),
        Claim(
            "constant-a-sufficient",
            "paper: constant a_i = ||A_i|| ||B_i|| => flattest",
            bal.is_spectral_balanced,
            is_flat if bal.is_spectral_balanced else None,
            f"a spread={bal.spectral_spread:.2e}, {nums}",
        ),
        Claim(
            "constant-a-necessary",
            "paper: depth 2 or scalar, flattest => constant a_i",
            bool(small and is_flat),
            bal.is_spectral_balanced if small and is_flat else None,
            f"a spread={bal.spectral_spread:.2e}, flattest={is_flat}",
        ),
        Claim(
            "flat-need-not-be-frobenius-balanced",
            "paper: some flattest minimizers are not Frobenius-balanced (witness?)",
            is_flat,
            True if is_flat and not bal.is_frobenius_balanced else None,
            f"flattest={is_flat}, Frobenius-balanced={bal.is_frobenius_balanced}",
        ),
    )
    return ClaimsReport(
        lambda_max=lam,
        flattest=flat,
        is_flattest=bool(is_flat),
        bound=bound,
        balance=bal,
        claims=claims,
        scale=c,
    )
