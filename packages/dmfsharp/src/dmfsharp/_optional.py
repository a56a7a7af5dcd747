"""Optional extras: one clear line naming the extra to install, never a traceback."""

from __future__ import annotations

import importlib

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(ImportError):
    """An optional dependency is missing; the message says which extra installs it."""


def require(module: str, extra: str, what: str):
    """Import ``module`` or raise :class:`MissingExtraError` with one line naming the extra.

    Parameters
    ----------
    module : str
        Module to import (e.g. ``"matplotlib.pyplot"``).
    extra : str
        The dmfsharp extra that provides it (``"plot"``, ``"dask"``, ``"fast"``, ``"torch"``).
    what : str
        The feature that needs it (for the message).

    Returns
    -------
    module

    Examples
    --------
    >>> require("json", "plot", "nothing").__name__
    'json'
    >>> require("no_such_module_xyz", "plot", "dmfsharp figure")
    Traceback (most recent call last):
    ...
    dmfsharp._optional.MissingExtraError: dmfsharp figure needs no_such_module_xyz: pip install 'dmfsharp[plot]'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingExtraError(f"{what} needs {top}: pip install 'dmfsharp[{extra}]'") from None
