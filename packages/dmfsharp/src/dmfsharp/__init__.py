"""dmfsharp — exact sharpness of minima in deep matrix factorization and deep linear networks.

Loss convention: ``l(W) = c * ||W_L ... W_1 - M||_F^2`` with ``c = scale = 0.5`` by default
(gradient descent with step ``eta`` is then linearly stable at a minimizer iff
``eta < 2 / lambda_max``). The paper (Kamber & Parhi, arXiv 2509.25783) uses ``c = 1``; every
curvature value scales with ``2c``. On data (``Factorization(weights, data=Data(X, Y))``) the loss
is ``(c / n) ||W_L ... W_1 X - Y||_F^2`` (``reduction="mean"``) or ``c ||...||^2`` (``"sum"``).
"""

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
from .data import Data
from .derivatives import (
    dense_hessian,
    finite_difference_hessian,
    gradient,
    hessian_operator,
    hvp,
    loss,
)
from .factorization import Factorization, check_positive, check_scale
from .gd import gd_batch, gradient_descent
from .npz import load_data, load_factors, save_data, save_factors
from .operators import route_costs
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
from .torch_adapter import from_torch, to_torch, torch_sharpness, weights_from_torch
from .tracking import (
    SharpnessTrack,
    SharpnessTracker,
    TrackPoint,
    plot_sharpness_track,
    track_checkpoints,
)

__version__ = "0.1.0"

__all__ = [
    "BalanceReport",
    "Claim",
    "ClaimsReport",
    "Data",
    "EigenpairsResult",
    "Factorization",
    "SharpnessResult",
    "SharpnessSummary",
    "SharpnessTrack",
    "SharpnessTracker",
    "SpectralNormBound",
    "SpectrumResult",
    "TrackPoint",
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
    "gd_batch",
    "gradient",
    "gradient_descent",
    "hessian_operator",
    "hessian_rank",
    "hessian_spectrum",
    "hessian_trace",
    "hvp",
    "k_matrix",
    "k_operator",
    "load_data",
    "load_factors",
    "loss",
    "plot_sharpness_track",
    "random_target",
    "route_costs",
    "save_data",
    "save_factors",
    "scalar_minimizer",
    "scalar_sharpness",
    "sharpness",
    "spectral_norm_bound",
    "spectral_products",
    "summarize",
    "to_torch",
    "top_eigenpairs",
    "torch_sharpness",
    "track_checkpoints",
    "unbalanced_minimizer",
    "weights_from_torch",
]
