"""dmfsharp — exact sharpness of minima in deep matrix factorization and deep linear networks.

Loss convention: ``l(W) = c * ||W_L ... W_1 - M||_F^2`` with ``c = scale = 0.5`` by default
(gradient descent with step ``eta`` is then linearly stable at a minimizer iff
``eta < 2 / lambda_max``). The paper (Kamber & Parhi, arXiv 2509.25783) uses ``c = 1``; every
curvature value scales with ``2c``. On data (``Factorization(weights, data=Data(X, Y))``) the loss
is ``(c / n) ||W_L ... W_1 X - Y||_F^2`` (``reduction="mean"``) or ``c ||...||^2`` (``"sum"``).
"""

from __future__ import annotations

import importlib

from ._version import __version__

#: public name -> submodule that defines it (loaded on first access, PEP 562: ``import dmfsharp``
#: costs no scipy or numba until a name that needs them is used)
_NAMES = {
    "BalanceReport": "closed_forms",
    "Claim": "closed_forms",
    "ClaimsReport": "closed_forms",
    "Data": "data",
    "EigenpairsResult": "spectrum",
    "Factorization": "factorization",
    "SharpnessResult": "spectrum",
    "SharpnessSummary": "summary",
    "SharpnessTrack": "tracking",
    "SharpnessTracker": "tracking",
    "SpectralNormBound": "closed_forms",
    "SpectrumResult": "spectrum",
    "TrackPoint": "tracking",
    "balance": "closed_forms",
    "balanced_minimizer": "constructors",
    "check_claims": "closed_forms",
    "check_positive": "factorization",
    "check_scale": "factorization",
    "dense_hessian": "derivatives",
    "depth2_sharpness": "closed_forms",
    "finite_difference_hessian": "derivatives",
    "flattest_sharpness": "closed_forms",
    "frobenius_imbalance": "closed_forms",
    "from_torch": "torch_adapter",
    "gaussian_minimizer": "constructors",
    "gd_batch": "gd",
    "gradient": "derivatives",
    "gradient_descent": "gd",
    "hessian_operator": "derivatives",
    "hessian_rank": "spectrum",
    "hessian_spectrum": "spectrum",
    "hessian_trace": "spectrum",
    "hvp": "derivatives",
    "k_matrix": "spectrum",
    "k_operator": "spectrum",
    "load_data": "npz",
    "load_factors": "npz",
    "loss": "derivatives",
    "plot_sharpness_track": "tracking",
    "random_target": "constructors",
    "route_costs": "operators",
    "save_data": "npz",
    "save_factors": "npz",
    "scalar_minimizer": "constructors",
    "scalar_sharpness": "closed_forms",
    "sharpness": "spectrum",
    "spectral_norm_bound": "closed_forms",
    "spectral_products": "closed_forms",
    "summarize": "summary",
    "to_torch": "torch_adapter",
    "top_eigenpairs": "spectrum",
    "torch_sharpness": "torch_adapter",
    "track_checkpoints": "tracking",
    "unbalanced_minimizer": "constructors",
    "weights_from_torch": "torch_adapter",
}

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


def __getattr__(name: str):
    """Load a public name (or a submodule, e.g. ``dmfsharp.escape``) on first access."""
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(__all__))
