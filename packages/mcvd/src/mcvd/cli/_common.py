"""Parser, help formatter, option types and output checks shared by the ``mcvd`` subcommands.

Every user-input error of the command line is one line ``mcvd: error: ...`` and exit status 2:
:class:`Parser` reports argparse's own errors that way, and the option types below reject NaN,
infinities, negative and out-of-range values while the command line is parsed (before any work
starts), naming the option.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

__all__ = [
    "HelpFormatter",
    "Parser",
    "check_output",
    "count",
    "fraction",
    "nonnegative_int",
    "output_folder",
    "parse_floats",
    "parse_times",
    "positive_float",
    "positive_int",
    "tolerance",
]

#: largest molecule count of a run (counts stay exact as floats)
MAX_COUNT = 2**53


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` after every option's help (``(default: not set)`` for an option
    without a default), except where the help text already says what the default is (options
    whose default is computed, e.g. "the scenario's") and for on/off flags."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default is None and action.option_strings and "default" not in text:
            return text + " (default: not set)"
        if (
            "default" in text
            or action.default in (None, argparse.SUPPRESS)
            or isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
            or not (
                action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE)
            )
        ):
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line ``mcvd: error: ...`` (exit status 2)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        where = f"mcvd {sub} --help" if sub else "mcvd --help"
        self.exit(2, f"mcvd: error: {message} (see {where})\n")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def positive_float(text: str) -> float:
    """Option type: a finite number > 0.

    Examples
    --------
    >>> positive_float("1e-4")
    0.0001
    >>> positive_float("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a finite number > 0, got 'nan'
    """
    x = _number(text)
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return x


def fraction(text: str) -> float:
    """Option type: a number strictly between 0 and 0.5 (a binomial standard error).

    Examples
    --------
    >>> fraction("5e-4")
    0.0005
    """
    x = _number(text)
    if not (math.isfinite(x) and 0 < x < 0.5):
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5 (exclusive), got {text!r}")
    return x


def tolerance(text: str) -> float:
    """Option type: a tolerance between 1e-15 and 1e-2 (see
    :func:`mcvd.core.geometry.check_tolerance`).

    Examples
    --------
    >>> tolerance("1e-12")
    1e-12
    >>> tolerance("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be between 1e-15 and 1e-2, got '-1'
    """
    x = _number(text)
    if not (math.isfinite(x) and 1e-15 <= x <= 1e-2):
        raise argparse.ArgumentTypeError(f"must be between 1e-15 and 1e-2, got {text!r}")
    return x


def _integer(text: str) -> int:
    """An integer written as digits (``2000000``, ``2_000_000``) or as an integral number in
    exponent form (``2e6``)."""
    try:
        return int(text)
    except ValueError:
        pass
    x = _number(text)
    if not (math.isfinite(x) and x.is_integer()):
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}")
    return int(x)


def count(text: str) -> int:
    """Option type: a count from 1 to 2**53 (``2000000``, ``2e6``).

    Examples
    --------
    >>> count("2e6")
    2000000
    >>> count("1e20")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be at most 2**53 = 9007199254740992, got '1e20'
    """
    n = _integer(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    if n > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"must be at most 2**53 = {MAX_COUNT}, got {text!r}")
    return n


def positive_int(text: str) -> int:
    """Option type: an integer >= 1 (workers, chunk size).

    Examples
    --------
    >>> positive_int("4")
    4
    """
    return count(text)


def nonnegative_int(text: str) -> int:
    """Option type: an integer >= 0 (a seed).

    Examples
    --------
    >>> nonnegative_int("0")
    0
    >>> nonnegative_int("-5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be an integer >= 0, got '-5'
    """
    n = _integer(text)
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return n


def check_output(path: str, option: str = "-o/--output", suffix: str | None = None) -> Path:
    """Check an output file before any work starts: the right suffix, an existing and writable
    folder, not a directory.

    Parameters
    ----------
    path : str
        The file to write.
    option : str
        Option name for the message.
    suffix : str, optional
        Required suffix (``".npz"``).

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        One line naming the option and what is wrong.

    Examples
    --------
    >>> check_output("result.txt", suffix=".npz")
    Traceback (most recent call last):
    ...
    ValueError: -o/--output must end in .npz, got 'result.txt'
    """
    out = Path(path)
    if suffix is not None and out.suffix != suffix:
        raise ValueError(f"{option} must end in {suffix}, got {path!r}")
    if out.is_dir():
        raise ValueError(f"{option}: {path!r} is a directory")
    folder = out.parent
    if not folder.is_dir():
        raise ValueError(f"{option}: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option}: folder {str(folder)!r} is not writable")
    return out


def output_folder(path: str, option: str = "--out") -> Path:
    """Create (if missing) and check an output folder before any work starts.

    Raises
    ------
    ValueError
        One line naming the option: the folder cannot be created, is a file, or is not
        writable.

    Examples
    --------
    >>> import tempfile
    >>> output_folder(tempfile.mkdtemp() + "/new").is_dir()
    True
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option}: {path!r} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option}: cannot create the folder {path!r} ({exc.strerror})") from None
    if not os.access(out, os.W_OK):
        raise ValueError(f"{option}: folder {path!r} is not writable")
    return out


def parse_floats(text: str, name: str) -> list[float]:
    """Parse the comma-separated numbers of the command-line option ``--<name>``.

    Parameters
    ----------
    text : str
        Option value, e.g. ``"0.1, 0.5,2"`` (empty items are skipped; at least one number).
    name : str
        Option name used in the error message.

    Returns
    -------
    list of float

    Examples
    --------
    >>> parse_floats("0.1, 0.5,2", "times")
    [0.1, 0.5, 2.0]
    >>> parse_floats(",", "gaps")
    Traceback (most recent call last):
    ...
    ValueError: --gaps must list at least one number, got ','
    """
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--{name} must be comma-separated numbers, got {text!r}") from None
    if not values:
        raise ValueError(f"--{name} must list at least one number, got {text!r}")
    return values


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
    if not np.all(ok):
        what = "numbers >= 0 (or inf)" if allow_inf else "finite numbers >= 0"
        raise ValueError(f"--{name} must be {what}, got {text!r}")
    return t


def print_error(message: str) -> None:
    """Print one line ``mcvd: error: ...`` on stderr (the first line of ``message``)."""
    line = str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
    print(f"mcvd: error: {line}", file=sys.stderr)
