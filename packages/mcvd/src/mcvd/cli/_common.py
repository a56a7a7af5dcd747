"""Option parsers shared by the ``mcvd`` subcommands."""

from __future__ import annotations

__all__ = ["parse_floats", "parse_times"]


def parse_floats(text: str, name: str) -> list[float]:
    """Parse the comma-separated numbers of the command-line option ``--<name>``.

    Parameters
    ----------
    text : str
        Option value, e.g. ``"0.1, 0.5,2"`` (empty items are skipped).
    name : str
        Option name used in the error message.

    Returns
    -------
    list of float

    Examples
    --------
    >>> parse_floats("0.1, 0.5,2", "times")
    [0.1, 0.5, 2.0]
    """
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--{name} must be comma-separated numbers, got {text!r}") from None


def parse_times(text: str, *, allow_inf: bool = False, name: str = "times"):
    """Parse ``--times``: at least one comma-separated time (s), each ``>= 0`` and finite (or
    ``inf`` where ``allow_inf``).

    Parameters
    ----------
    text : str
        Option value, e.g. ``"0.1,0.5,inf"``.
    allow_inf : bool
        Accept ``inf`` (the long-time limit).
    name : str
        Option name used in the error message.

    Returns
    -------
    numpy.ndarray
        The times (s).

    Examples
    --------
    >>> parse_times("0.5,2").tolist()
    [0.5, 2.0]
    >>> parse_times("1,inf", allow_inf=True).tolist()
    [1.0, inf]
    >>> parse_times("-1")
    Traceback (most recent call last):
    ...
    ValueError: --times must be finite numbers >= 0, got '-1'
    """
    import numpy as np

    t = np.array(parse_floats(text, name), dtype=float)
    ok = ~np.isnan(t) & (t >= 0) & (allow_inf | np.isfinite(t))
    if t.size == 0 or not np.all(ok):
        what = "numbers >= 0 (or inf)" if allow_inf else "finite numbers >= 0"
        raise ValueError(f"--{name} must be {what}, got {text!r}")
    return t
