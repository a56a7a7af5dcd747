"""Compiled gradient-descent loop for batches of scalar factorizations (all widths 1).

The per-step work of a scalar factorization is ``O(L)`` flops, so the numpy loop of
:func:`dmfsharp.gd.gd_batch` is dominated by Python/numpy call overhead (~50 us per step). This
numba kernel runs the same loop — same update, records, divergence and stop rules, in the same
order of floating-point operations for the update — entirely in compiled code. It does not
compute the per-step diagnostics (sharpness, balance), which call back into Python; ``gd_batch``
uses it only when ``sharpness_every is None``. ``AVAILABLE`` is False when numba is missing, and
``gd_batch`` then keeps the numpy loop. numba is imported (and the kernel compiled, or loaded
from numba's cache) on the first call of :func:`get_loop`, not at ``import dmfsharp``.

The kernel runs at most ``t_stop - t`` steps per call and keeps its state (``active``, ``state =
[t, i_rec]``) in arrays, so the caller runs a long loop as a sequence of short calls and a Ctrl-C
(``KeyboardInterrupt``, delivered between calls) stops it within one call (~0.1 s).
"""

from __future__ import annotations

import importlib.util

__all__ = ["AVAILABLE", "get_loop"]

#: Whether numba is installed (checked without importing it).
AVAILABLE = importlib.util.find_spec("numba") is not None


def get_loop():
    """The compiled loop ``scalar_gd_loop``, or None when numba cannot be imported (imports
    numba on the first call).

    Examples
    --------
    >>> get_loop() is None or callable(get_loop())
    True
    """
    if not AVAILABLE:
        return None
    try:
        from ._scalar_kernel_impl import scalar_gd_loop
    except ImportError:  # installed but not importable (e.g. built for another numpy)
        return None
    return scalar_gd_loop
