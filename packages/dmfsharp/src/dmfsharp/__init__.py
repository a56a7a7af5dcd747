"""dmfsharp — exact sharpness of minima in deep matrix factorization.

Loss convention: ``l(W) = c * ||W_L ... W_1 - M||_F^2`` with ``c = scale = 0.5`` by default
(gradient descent with step ``eta`` is then linearly stable at a minimizer iff
``eta < 2 / lambda_max``). The paper (Kamber & Parhi, arXiv 2509.25783) uses ``c = 1``; every
curvature value scales with ``2c``.
"""

from ._version import __version__
from .closed_forms import (
    BalanceReport,
    Claim,
    ClaimsReport,
    SpectralNormBound,
    balance,
    check_claims,
    depth2_sharpness,
    flattest_sharpness,
    frobenius_imbalance,
    scalar_sharpness,
    spectral_norm_bound,
    spectral_products,
)
from .constructors import (
    balanced_minimizer,
    gaussian_minimizer,
    random_target,
    scalar_minimizer,
    unbalanced_minimizer,
)
from .derivatives import (
    dense_hessian,
    finite_difference_hessian,
    gradient,
    hessian_operator,
    hvp,
    loss,
)
from .factorization import Factorization, check_positive, check_scale
from .npz import load_factors, save_factors
from .spectrum import (
    EigenpairsResult,
    SharpnessResult,
    SpectrumResult,
    hessian_rank,
    hessian_spectrum,
    hessian_trace,
    k_matrix,
    k_operator,
    sharpness,
    top_eigenpairs,
)
from .summary import SharpnessSummary, summarize
from .torch_adapter import from_torch, to_torch

__all__ = [
    "BalanceReport",
    "Claim",
    "ClaimsReport",
    "EigenpairsResult",
    "Factorization",
    "SharpnessResult",
    "SharpnessSummary",
    "SpectralNormBound",
    "SpectrumResult",
    "__version__",
    "balance",
    "balanced_minimizer",
    "check_claims",
    "check_positive",
    "check_scale",
    "dense_hessian",
    "depth2_sharpness",
    "finite_difference_hessian",
    "flattest_sharpness",
    "frobenius_imbalance",
    "from_torch",
    "gaussian_minimizer",
    "gradient",
    "hessian_operator",
    "hessian_rank",
    "hessian_spectrum",
    "hessian_trace",
    "hvp",
    "k_matrix",
    "k_operator",
    "load_factors",
    "loss",
    "random_target",
    "save_factors",
    "scalar_minimizer",
    "scalar_sharpness",
    "sharpness",
    "spectral_norm_bound",
    "spectral_products",
    "summarize",
    "to_torch",
    "top_eigenpairs",
    "unbalanced_minimizer",
]
