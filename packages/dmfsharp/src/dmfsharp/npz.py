"""Reading and writing factorizations as ``.npz`` files (arrays ``W1`` ... ``WL``, optional
``target``) and samples as ``.npz`` files (arrays ``X`` and ``Y``, one sample per row). Loading
never unpickles (``allow_pickle=False``), and a file that is not what it should be is named in one
line (not in NumPy's words)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ._io import atomic_write, sniff
from .data import Data
from .factorization import Factorization

__all__ = ["load_data", "load_factors", "save_data", "save_factors"]

_W_KEY = re.compile(r"W([1-9][0-9]*)")


def _npz_path(path: str | os.PathLike) -> Path:
    """``path`` with ``.npz`` appended when it has no suffix; another suffix is refused (NumPy
    would silently write ``x.txt.npz`` for ``x.txt``)."""
    path = Path(path)
    if path.suffix == "":
        return path.with_name(path.name + ".npz")
    if path.suffix != ".npz":
        raise ValueError(f"output: {path} must end in .npz (the file is an .npz archive)")
    return path


def _open_archive(path: str | os.PathLike, what: str):
    """``np.load`` of an ``.npz`` archive after checking that it is one."""
    kind = sniff(path)  # OSError (missing/unreadable file) propagates: one line
    if kind != "npz":
        found = "an .npy file" if kind == "npy" else "not a NumPy file"
        raise ValueError(f"{what}: {path} is {found}; expected an .npz archive ({_EXPECT[what]})")
    return np.load(path, allow_pickle=False)


_EXPECT = {"FACTORS": "arrays W1..WL and optional target", "DATA": "arrays X and Y"}


def save_factors(path: str | os.PathLike, fac: Factorization) -> Path:
    """Write ``fac`` as arrays ``W1`` ... ``WL`` and ``target`` to an ``.npz`` file (atomically).

    Parameters
    ----------
    path : str or path-like
        Output file; ``.npz`` is appended when the name has no suffix, and any other suffix is
        refused. Its folder must exist.
    fac : Factorization
        The factorization (on data only the weights are written: save the samples with
        :func:`save_data`).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from dmfsharp import Factorization
    >>> path = os.path.join(tempfile.mkdtemp(), "f")
    >>> save_factors(path, Factorization([np.ones((2, 3)), np.ones((1, 2))])).name
    'f.npz'
    >>> load_factors(path + ".npz").dims
    (3, 2, 1)
    """
    path = _npz_path(path)
    arrays = {f"W{k + 1}": w for k, w in enumerate(fac.weights)}
    if fac.target is not None:
        arrays["target"] = fac.target
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load_factors(
    path: str | os.PathLike,
    target: str | os.PathLike | np.ndarray | None = None,
    *,
    data: Data | None = None,
) -> Factorization:
    """Read a factorization from an ``.npz`` holding ``W1`` ... ``WL`` (``W_i`` is
    ``d_i x d_{i-1}``).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file. Besides ``W1`` ... ``WL`` it may hold ``target``; any other array
        name is an error.
    target : str, path-like or ndarray, optional
        ``M``: an array or a ``.npy`` file. Precedence: this argument, then a ``target`` array
        in the file, then the product (which makes the factorization a minimizer).
    data : Data, optional
        Samples: the factorization is then on data (a ``target`` in the file is not used;
        ``target`` must be None).

    Returns
    -------
    Factorization

    Raises
    ------
    ValueError
        A file that is not an ``.npz`` archive, missing/extra/non-consecutive ``W`` arrays, or
        anything :class:`Factorization` rejects.
    OSError
        Unreadable file.

    Examples
    --------
    See :func:`save_factors`.
    """
    with _open_archive(path, "FACTORS") as arch:
        names = set(arch.files)
        idx = sorted(int(m.group(1)) for n in names if (m := _W_KEY.fullmatch(n)))
        extra = sorted(names - {f"W{i}" for i in idx} - {"target"})
        if extra:
            raise ValueError(
                f"FACTORS: unexpected arrays {extra} in {path}; expected W1..WL and optional target"
            )
        if not idx:
            raise ValueError(f"FACTORS: no arrays named W1..WL in {path}")
        if idx != list(range(1, len(idx) + 1)):
            raise ValueError(
                f"FACTORS: factor names must be W1..W{len(idx)} without gaps, got "
                f"{[f'W{i}' for i in idx]}"
            )
        weights = [arch[f"W{i}"] for i in idx]
        stored_target = arch["target"] if "target" in names else None
    if data is not None:
        if target is not None:
            raise ValueError("--target: not allowed together with --data")
        return Factorization(weights, data=data)
    if target is not None and not isinstance(target, np.ndarray):
        if sniff(target) != "npy":
            raise ValueError(f"--target: {target} is not an .npy file holding one array")
        target = np.load(target, allow_pickle=False)
    return Factorization(weights, target=target if target is not None else stored_target)


def save_data(path: str | os.PathLike, X, Y) -> Path:
    """Write samples ``X`` (``n x d_0``) and ``Y`` (``n x d_L``) to an ``.npz`` (atomically).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = save_data(os.path.join(tempfile.mkdtemp(), "d.npz"), np.eye(3), np.ones((3, 1)))
    >>> load_data(p).n_samples
    3
    """
    path = _npz_path(path)
    X, Y = np.asarray(X), np.asarray(Y)
    return atomic_write(path, lambda fh: np.savez(fh, X=X, Y=Y))


def load_data(path: str | os.PathLike, reduction: str = "mean") -> Data:
    """Read samples from an ``.npz`` holding ``X`` of shape ``(n, d_0)`` and ``Y`` of shape
    ``(n, d_L)`` (one sample per row, the torch convention).

    Parameters
    ----------
    path : str or path-like
        The file (``allow_pickle=False``).
    reduction : {"mean", "sum"}, default "mean"
        See :class:`dmfsharp.Data`.

    Returns
    -------
    Data

    Examples
    --------
    See :func:`save_data`.
    """
    with _open_archive(path, "DATA") as arch:
        names = set(arch.files)
        if names != {"X", "Y"}:
            raise ValueError(
                f"DATA: {path} holds arrays {sorted(names)}; expected exactly X (n, d_0) and "
                "Y (n, d_L)"
            )
        X, Y = arch["X"], arch["Y"]
    return Data(X, Y, reduction)
