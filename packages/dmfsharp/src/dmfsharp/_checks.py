"""Argument checks shared by every module: one clear line naming the argument, never a cast that
silently changes a value (truncated integers, dropped imaginary parts, NaN tolerances)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_generator",
    "check_count",
    "check_positive",
    "check_scale",
    "check_tolerance",
    "real_matrix",
]


def check_count(value, name: str, minimum: int = 1) -> int:
    """Validate that ``value`` is an integer (not a bool, not a float) ``>= minimum``.

    Parameters
    ----------
    value : int
        The value to check.
    name : str
        Argument name used in the one-line error message.
    minimum : int, default 1
        Smallest accepted value.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``2.5`` and ``3.0`` are refused, never truncated).
    ValueError
        If ``value < minimum``.

    Examples
    --------
    >>> check_count(3, "steps")
    3
    >>> check_count(2.5, "steps")
    Traceback (most recent call last):
    ...
    TypeError: steps: expected an integer, got 2.5
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {value}")
    return int(value)


def check_tolerance(value, name: str, *, upper: float = 1.0) -> float:
    """Validate a relative tolerance: a finite real number in ``[0, upper)``.

    A NaN tolerance would make every comparison False (a point would silently never count as
    converged or as a minimizer), so it is refused like a negative one.

    Parameters
    ----------
    value : float
        The tolerance.
    name : str
        Argument name used in the error message.
    upper : float, default 1.0
        Exclusive upper bound.

    Returns
    -------
    float

    Examples
    --------
    >>> check_tolerance(1e-10, "rtol_minimizer")
    1e-10
    >>> check_tolerance(float("nan"), "rtol")
    Traceback (most recent call last):
    ...
    ValueError: rtol: must be a finite number in [0, 1), got nan
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {value!r}") from None
    if isinstance(value, bool) or not (np.isfinite(x) and 0 <= x < upper):
        raise ValueError(f"{name}: must be a finite number in [0, {upper:g}), got {value!r}")
    return x


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """``numpy.random.default_rng(rng)`` with a one-line error that names the argument.

    Parameters
    ----------
    rng : Generator, SeedSequence, int or None
        A seed (an integer >= 0), a ``SeedSequence``, a ``Generator`` (returned as is) or
        ``None`` (fresh entropy: not reproducible).
    name : str, default "rng"
        Argument name for the message.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> float(as_generator(0).standard_normal()) == float(as_generator(0).standard_normal())
    True
    >>> as_generator(-5, "seed")
    Traceback (most recent call last):
    ...
    ValueError: seed: must be None, an integer >= 0, a SeedSequence or a Generator, got -5
    """
    if isinstance(rng, bool) or isinstance(rng, float):
        raise ValueError(
            f"{name}: must be None, an integer >= 0, a SeedSequence or a Generator, got {rng!r}"
        )
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: must be None, an integer >= 0, a SeedSequence or a Generator, got {rng!r}"
        ) from None


def real_matrix(value, name: str, *, ndim: int = 2) -> np.ndarray:
    """A float64 copy of a real array, refusing what a cast would silently change.

    Complex input (``astype(float)`` would drop the imaginary part), booleans, strings and
    objects are refused with a one-line message naming the argument; so are non-finite entries
    and arrays of another dimension.

    Parameters
    ----------
    value : array_like
        Integers or floating-point numbers (float16/32/64, any NumPy or torch CPU array that
        ``numpy.asarray`` accepts).
    name : str
        Argument name for the message.
    ndim : int, default 2
        Required number of dimensions.

    Returns
    -------
    ndarray
        A new float64 array.

    Examples
    --------
    >>> real_matrix([[1, 2]], "W1")
    array([[1., 2.]])
    >>> real_matrix([[1 + 2j]], "W1")
    Traceback (most recent call last):
    ...
    TypeError: W1: complex entries are not supported (dtype complex128); pass a real array
    """
    arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(
            f"{name}: complex entries are not supported (dtype {arr.dtype}); pass a real array"
        )
    if kind not in "iuf":
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    out = np.array(arr, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name}: contains non-finite entries")
    return out


def check_positive(value, name: str) -> float:
    """Validate that ``value`` is a finite real number > 0 and return it as a float.

    Parameters
    ----------
    value : float
        The value to check.
    name : str
        Argument name used in the one-line error message.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If ``value`` is not finite or not > 0.

    Examples
    --------
    >>> check_positive(1e-9, "radius")
    1e-09
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a real number, got {value!r}") from None
    if not np.isfinite(x) or x <= 0:
        raise ValueError(f"{name}: must be finite and > 0, got {value!r}")
    return x


def check_scale(scale: float) -> float:
    """Validate the loss scale ``c`` of ``l = c * ||P - M||_F^2`` and return it as a float.

    Parameters
    ----------
    scale : float
        Loss scale ``c``; must be finite and > 0. ``0.5`` is the library default (GD is stable
        below ``eta = 2 / lambda_max``); ``1.0`` is the paper's convention.

    Returns
    -------
    float
        The validated scale.

    Examples
    --------
    >>> check_scale(0.5)
    0.5
    """
    return check_positive(scale, "scale")
