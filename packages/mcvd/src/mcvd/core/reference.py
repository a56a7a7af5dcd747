"""Reference responses shared by the analytic accuracy map and the simulators."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ReferenceCurve"]


@dataclass(frozen=True)
class ReferenceCurve:
    """A reference response: total ``F`` and its absolute uncertainty at each time.

    Attributes
    ----------
    F : numpy.ndarray
        Total absorbed fraction, shape (n_times,).
    uncertainty : numpy.ndarray
        Absolute uncertainty of ``F``, shape (n_times,): an error bound/estimate for a numerical
        reference, a standard error for a statistical one.
    kind : str
        ``"error estimate"`` or ``"standard error"``.

    Examples
    --------
    >>> ref = ReferenceCurve(np.array([0.2, 0.4]), np.array([1e-10, 1e-10]))
    >>> ref.kind, float(ref.F[1])
    ('error estimate', 0.4)
    """

    F: np.ndarray
    uncertainty: np.ndarray
    kind: str = "error estimate"
