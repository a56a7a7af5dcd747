"""Optional PyTorch adapter (``pip install 'dmfsharp[torch]'``).

torch is imported lazily inside the functions, so this module (and dmfsharp) imports without it.

A network has no target of its own: :func:`from_torch` takes the data (or an explicit target) and
refuses without one. :func:`torch_sharpness` is the one-call form for a network trained with
``nn.MSELoss``: it returns the largest Hessian eigenvalue of exactly that loss, so gradient descent
(``torch.optim.SGD`` without momentum) with learning rate ``lr`` on it is stable at a minimizer iff
``lr < 2 / lambda_max``. The mapping to this library's loss ``c * weight * ||P X - Y||^2``:

* ``nn.MSELoss(reduction="mean")`` averages over all ``n * d_L`` entries: ``reduction="mean"``
  (``weight = 1/n``) with ``scale c = 1 / d_L``;
* ``nn.MSELoss(reduction="sum")``: ``reduction="sum"`` (``weight = 1``) with ``scale c = 1``.

(The library's default ``scale=0.5, reduction="mean"`` is ``0.5 * nn.MSELoss()`` for ``d_L = 1``.)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .data import Data, _is_tensor, _tensor_to_numpy
from .factorization import Factorization

__all__ = ["MSE_REDUCTIONS", "from_torch", "to_torch", "torch_sharpness", "weights_from_torch"]

#: ``nn.MSELoss`` reductions accepted by :func:`torch_sharpness`.
MSE_REDUCTIONS = ("mean", "sum")


def _import_torch():
    try:
        import torch
    except ImportError:  # exercised by a subprocess test with torch hidden
        raise ImportError(
            "the torch adapter needs PyTorch: pip install 'dmfsharp[torch]'"
        ) from None
    return torch


def _mse_data(X, Y, reduction: str) -> tuple[Data, float]:
    """The :class:`Data` and the scale ``c`` whose loss ``c * weight * ||P X - Y||^2`` is
    ``nn.MSELoss(reduction=reduction)`` (``c = 1 / d_L`` for ``"mean"``, ``1`` for ``"sum"``)."""
    data = Data(X, Y, reduction)
    return data, (1.0 / data.out_features if reduction == "mean" else 1.0)


def weights_from_torch(model) -> list[np.ndarray]:
    """The weights ``W_1, ..., W_L`` of a bias-free deep linear network, as float64 arrays.

    Parameters
    ----------
    model : torch.nn.Linear, torch.nn.Sequential, sequence of torch.nn.Linear, or a state dict
        Bias-free linear layers in application order (``model[0]`` is ``W_1``). A single
        ``nn.Linear`` is a depth-1 network. A state dict (``net.state_dict()``, e.g. a saved
        checkpoint) must hold only ``*weight`` entries, in layer order.

    Returns
    -------
    list of ndarray
        ``W_i = layer.weight`` (shape ``out_features x in_features``).

    Raises
    ------
    TypeError
        A module that is not ``nn.Linear`` (a nonlinearity, ``nn.Identity``, ``nn.Flatten``):
        dmfsharp handles deep *linear* networks only.
    ValueError
        A layer with a bias, or no layers.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> weights_from_torch(torch.nn.Linear(3, 2, bias=False))[0].shape  # doctest: +SKIP
    (2, 3)
    """
    torch = _import_torch()
    if isinstance(model, Mapping):
        bad = [k for k in model if not str(k).endswith("weight")]
        if bad:
            raise ValueError(
                f"model: the state dict has entries {bad[:3]} besides layer weights; only "
                "bias-free nn.Linear layers are supported"
            )
        ws = [_tensor_to_numpy(v, f"model[{k!r}]").copy() for k, v in model.items()]
        if not ws:
            raise ValueError("model: no layers")
        return ws
    if isinstance(model, torch.nn.Linear):
        layers = [model]
    elif isinstance(model, torch.nn.Module) and not isinstance(
        model, torch.nn.Sequential | torch.nn.ModuleList
    ):
        raise TypeError(
            f"model: expected nn.Linear, nn.Sequential or a list of bias-free nn.Linear layers, "
            f"got {type(model).__name__}"
        )
    else:
        try:
            layers = list(model)
        except TypeError:
            raise TypeError(
                f"model: expected nn.Linear, nn.Sequential or a list of bias-free nn.Linear "
                f"layers, got {type(model).__name__}"
            ) from None
    if not layers:
        raise ValueError("model: no layers")
    weights = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, torch.nn.Linear):
            raise TypeError(
                f"model[{k}]: expected a bias-free torch.nn.Linear, got {type(layer).__name__} "
                "(dmfsharp handles deep linear networks only: no nonlinearities)"
            )
        if layer.bias is not None:
            raise ValueError(f"model[{k}]: has a bias; build it with nn.Linear(..., bias=False)")
        weights.append(_tensor_to_numpy(layer.weight, f"model[{k}].weight").copy())
    return weights


def from_torch(model, target=None, *, data: Data | None = None) -> Factorization:
    """A :class:`~dmfsharp.Factorization` from a deep linear network in PyTorch.

    Parameters
    ----------
    model : torch.nn.Linear, torch.nn.Sequential or sequence of torch.nn.Linear
        Bias-free linear layers in application order (see :func:`weights_from_torch`).
    target : array_like or torch.Tensor, optional
        ``M`` (``d_L x d_0``) for the factorization loss ``c ||P - M||^2``.
    data : Data, optional
        Samples for the data loss (:class:`dmfsharp.Data`).

    Exactly one of ``target`` and ``data`` is required: a network has no target of its own
    (taking its product as the target would make every point a "minimizer").

    Returns
    -------
    Factorization
        Weights copied to float64 NumPy arrays.

    Raises
    ------
    ValueError
        Neither or both of ``target``/``data``; a layer with a bias; shapes that do not chain.
    TypeError
        A module that is not ``nn.Linear``.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4, bias=False),
    ...                           torch.nn.Linear(4, 2, bias=False))  # doctest: +SKIP
    >>> X, Y = torch.randn(100, 3), torch.randn(100, 2)  # doctest: +SKIP
    >>> from_torch(net, data=Data(X, Y)).dims  # doctest: +SKIP
    (3, 4, 2)
    """
    if target is None and data is None:
        raise ValueError(
            "target: a torch network has no target of its own; pass data=dmfsharp.Data(X, Y) "
            "for the data loss (or call dmfsharp.torch_sharpness(net, X, Y)), or target=M for "
            "the factorization loss c||P - M||^2"
        )
    weights = weights_from_torch(model)
    if target is not None and _is_tensor(target):
        target = _tensor_to_numpy(target, "target")
    return Factorization(weights, target=target, data=data)


def torch_sharpness(net, X, Y, reduction: str = "mean", **kwargs):
    """Exact sharpness of ``nn.MSELoss(reduction=reduction)(net(X), Y)`` for a bias-free deep
    linear ``net``.

    Parameters
    ----------
    net : torch.nn.Linear, torch.nn.Sequential or sequence of torch.nn.Linear
        Bias-free linear layers.
    X : torch.Tensor or array_like, shape (n, d_0)
        Inputs, one sample per row (batch first), float32 or float64 (computed in float64).
    Y : torch.Tensor or array_like, shape (n, d_L)
        Targets, one sample per row.
    reduction : {"mean", "sum"}, default "mean"
        The ``nn.MSELoss`` reduction: ``"mean"`` averages over the ``n * d_L`` entries (this
        library's ``reduction="mean"`` with ``scale = 1 / d_L``), ``"sum"`` sums them
        (``reduction="sum"``, ``scale = 1``).
    **kwargs
        Passed to :func:`dmfsharp.sharpness` (``method``, ``tol``, ``rtol_minimizer``, ``v0``...).

    Returns
    -------
    SharpnessResult
        ``scale`` and ``reduction`` record the mapping; ``is_minimizer`` says whether the
        normal equations hold (then the value is the exact Gauss-Newton / ``K_F`` one), otherwise
        the full Hessian was used (``gauss_newton`` False).

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4, bias=False),
    ...                           torch.nn.Linear(4, 2, bias=False))  # doctest: +SKIP
    >>> X, Y = torch.randn(100, 3), torch.randn(100, 2)  # doctest: +SKIP
    >>> res = torch_sharpness(net, X, Y)  # doctest: +SKIP
    >>> lr_max = 2 / res.lambda_max       # SGD on nn.MSELoss() is stable below this  # doctest: +SKIP
    """
    from .spectrum import sharpness

    if reduction not in MSE_REDUCTIONS:
        raise ValueError(f"reduction: must be 'mean' or 'sum' (nn.MSELoss), got {reduction!r}")
    if "scale" in kwargs:
        raise ValueError(
            "scale: set by the nn.MSELoss reduction (1/d_L for 'mean', 1 for 'sum'); use "
            "dmfsharp.sharpness(Factorization(weights, data=Data(X, Y)), scale=...) for others"
        )
    data, scale = _mse_data(X, Y, reduction)
    return sharpness(from_torch(net, data=data), scale, **kwargs)


def to_torch(fac: Factorization, dtype=None):
    """A ``torch.nn.Sequential`` of bias-free ``nn.Linear`` layers holding ``fac``'s weights.

    Parameters
    ----------
    fac : Factorization
        The factors.
    dtype : torch.dtype, optional
        Default ``torch.float64``.

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> import numpy as np  # doctest: +SKIP
    >>> net = to_torch(Factorization([np.ones((4, 3)), np.ones((2, 4))]))  # doctest: +SKIP
    >>> net[1].weight.shape  # doctest: +SKIP
    torch.Size([2, 4])
    """
    torch = _import_torch()
    dtype = torch.float64 if dtype is None else dtype
    layers = []
    for w in fac.weights:
        lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.array(w)))
        layers.append(lin)
    return torch.nn.Sequential(*layers)
