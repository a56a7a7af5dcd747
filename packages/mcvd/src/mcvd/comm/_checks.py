"""Argument checks shared by the communication modules (one-line errors naming the argument)."""

from __future__ import annotations

import math

import numpy as np

#: largest ISI memory accepted (slots); the count law costs about ``memory * molecules`` per
#: convolution step, and beyond this the request is taken for a mistake
MAX_MEMORY = 100_000
#: largest number of molecules per release accepted by the count law (its pmf has N + 1 entries)
MAX_MOLECULES = 10_000_000


def integer(value, name: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    """An integer argument (an integral float is accepted) within ``[minimum, maximum]``.

    Examples
    --------
    >>> integer(3.0, "memory")
    3
    >>> integer(2.5, "memory")
    Traceback (most recent call last):
    ...
    ValueError: memory must be an integer, got 2.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, (float, np.floating)):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {v}")
    return v


def real(value, name: str, *, positive: bool = False, lo=None, hi=None) -> float:
    """A finite real argument, optionally > 0 or within ``[lo, hi]``.

    Examples
    --------
    >>> real(0.5, "p1", lo=0.0, hi=1.0)
    0.5
    >>> real(float("nan"), "p1")
    Traceback (most recent call last):
    ...
    ValueError: p1 must be finite, got nan
    """
    from ..core.geometry import _finite_float

    x = _finite_float(value, name, positive=positive)
    if lo is not None and hi is not None and not lo <= x <= hi:
        raise ValueError(f"{name} must be in [{lo:g}, {hi:g}], got {x}")
    return x


def interferer_counts(interferer_molecules, n_interferers: int, molecules: int) -> list[int]:
    """Molecules per bit 1 of each interferer: ``molecules`` by default, one number for all,
    or one per interferer.

    Examples
    --------
    >>> interferer_counts(None, 2, 100), interferer_counts(40, 2, 100), interferer_counts([1, 2], 2, 9)
    ([100, 100], [40, 40], [1, 2])
    """
    if interferer_molecules is None:
        return [molecules] * n_interferers
    vals = np.atleast_1d(interferer_molecules).tolist()
    if len(vals) == 1:
        vals = vals * n_interferers
    if len(vals) != n_interferers:
        raise ValueError(
            f"interferer_molecules must give one count per interferer ({n_interferers}), "
            f"got {len(vals)}"
        )
    return [integer(v, "interferer_molecules", minimum=0) for v in vals]


def release_offset(release_time: float, signal_release_time: float, symbol_duration: float):
    """An interferer's release offset (s) within the slot of the signal, in ``[0, T_s)``.

    Examples
    --------
    >>> release_offset(1.3, 0.0, 1.0), release_offset(0.0, 0.3, 1.0)
    (0.30000000000000004, 0.7)
    """
    return math.fmod(release_time - signal_release_time, symbol_duration) % symbol_duration


def memory(value) -> int:
    """The ISI memory ``m`` (slots after the current one), ``0 <= m <= MAX_MEMORY``."""
    return integer(value, "memory", minimum=0, maximum=MAX_MEMORY)


def molecules(value) -> int:
    """Molecules released per bit 1, ``1 <= N <= MAX_MOLECULES``."""
    return integer(value, "molecules", minimum=1, maximum=MAX_MOLECULES)


def prior(value, name: str = "p1") -> float:
    """A prior probability in ``[0, 1]``."""
    return real(value, name, lo=0.0, hi=1.0)


def symbol_duration(value) -> float:
    """The symbol duration ``T_s`` (s), finite and > 0."""
    return real(value, "symbol_duration", positive=True)


def threshold(value) -> int:
    """A detection threshold (molecules), an integer >= 0."""
    return integer(value, "threshold", minimum=0)
