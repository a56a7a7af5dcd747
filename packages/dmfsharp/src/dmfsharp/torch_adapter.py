"""Optional PyTorch adapter (``pip install dmfsharp[torch]``).

torch is imported lazily inside the functions, so this module (and dmfsharp) imports without it.
"""

from __future__ import annotations

import numpy as np

from .factorization import Factorization

__all__ = ["from_torch", "to_torch"]


def _import_torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "the torch adapter needs PyTorch: pip install 'dmfsharp[torch]'"
        ) from None
    return torch


def from_torch(model, target=None) -> Factorization:
    """A :class:`~dmfsharp.Factorization` from a deep linear network in PyTorch.

    Parameters
    ----------
    model : torch.nn.Sequential or sequence of torch.nn.Linear
        Bias-free linear layers in application order (``model[0]`` is ``W_1``); ``nn.Identity``
        and ``nn.Flatten`` modules are not accepted (they would hide a shape change).
    target : array_like or torch.Tensor, optional
        ``M`` (default: the network's end-to-end matrix, i.e. a minimizer).

    Returns
    -------
    Factorization
        Weights copied to float64 NumPy arrays (``W_i = layer.weight``, shape
        ``out_features x in_features``).

    Raises
    ------
    TypeError
        If a module is not ``nn.Linear``.
    ValueError
        If a layer has a bias, or shapes do not chain.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4, bias=False),
    ...                           torch.nn.Linear(4, 2, bias=False))  # doctest: +SKIP
    >>> from_torch(net).dims  # doctest: +SKIP
    (3, 4, 2)
    """
    torch = _import_torch()
    layers = list(model)
    if not layers:
        raise ValueError("model: no layers")
    weights = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, torch.nn.Linear):
            raise TypeError(
                f"model[{k}]: expected a bias-free torch.nn.Linear, got {type(layer).__name__}"
            )
        if layer.bias is not None:
            raise ValueError(f"model[{k}]: has a bias; build it with nn.Linear(..., bias=False)")
        weights.append(layer.weight.detach().to("cpu", torch.float64).numpy().copy())
    if target is not None and isinstance(target, torch.Tensor):
        target = target.detach().to("cpu", torch.float64).numpy()
    return Factorization(weights, target=target)


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
