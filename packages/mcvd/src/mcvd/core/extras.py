"""Optional extras: import a module of an optional dependency, or say in one line what to install.

``mcvd`` needs numpy, scipy, pydantic and tqdm; the particle simulators need numba (extra
``sim``), figures need matplotlib (extra ``plot``), dask clusters need dask.distributed (extra
``dask``). :func:`require` imports such a module or raises :class:`MissingExtraError` (an
:class:`ImportError`) naming the extra, e.g. ``the event-driven simulator needs numba (pip
install 'mcvd[sim]')``; the command line prints that line and exits with status 2.
"""

from __future__ import annotations

import importlib

__all__ = ["EXTRAS", "MissingExtraError", "missing_extra", "require"]

#: top-level module -> the mcvd extra that installs it
EXTRAS = {"numba": "sim", "matplotlib": "plot", "distributed": "dask", "dask": "dask"}


class MissingExtraError(ImportError):
    """An optional dependency is not installed (the message names the extra to install)."""


def _message(module: str, who: str) -> str:
    top = module.split(".")[0]
    return f"{who} needs {top} (pip install 'mcvd[{EXTRAS[top]}]')"


def require(module: str, who: str):
    """Import ``module`` (of an optional extra) or raise a one-line :class:`MissingExtraError`.

    Parameters
    ----------
    module : str
        Module name, e.g. ``"numba"`` or ``"matplotlib.pyplot"`` (its top-level package must be
        in :data:`EXTRAS`).
    who : str
        What needs it, for the message (``"method 'event'"``, ``"plots"``).

    Returns
    -------
    module

    Raises
    ------
    MissingExtraError
        The package is not installed (or fails to import).

    Examples
    --------
    >>> require("matplotlib", "plots").__name__
    'matplotlib'
    """
    try:
        return importlib.import_module(module)
    except ImportError:  # not installed, or installed but broken (a missing dependency of it)
        raise MissingExtraError(_message(module, who)) from None


def missing_extra(exc: BaseException) -> str | None:
    """The extra whose missing package caused ``exc`` (an ImportError), or None.

    Examples
    --------
    >>> missing_extra(ModuleNotFoundError("No module named 'numba'", name="numba"))
    'sim'
    >>> missing_extra(ModuleNotFoundError("No module named 'foo'", name="foo")) is None
    True
    """
    name = getattr(exc, "name", None)
    if not isinstance(exc, ImportError) or not name:
        return None
    return EXTRAS.get(name.split(".")[0])
