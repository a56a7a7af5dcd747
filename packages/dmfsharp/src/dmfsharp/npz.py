"""Reading and writing factorizations as ``.npz`` files (arrays ``W1`` ... ``WL``, optional
``target``). Loading never unpickles (``allow_pickle=False``)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .factorization import Factorization

__all__ = ["load_factors", "save_factors"]

_W_KEY = re.compile(r"W([1-9][0-9]*)")


def save_factors(path: str | os.PathLike, fac: Factorization) -> None:
    """Write ``fac`` as arrays ``W1`` ... ``WL`` and ``target`` to an ``.npz`` file (atomically).

    Parameters
    ----------
    path : str or path-like
        Output file; ``.npz`` is appended by NumPy if missing.
    fac : Factorization
        The factorization.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from dmfsharp import Factorization
    >>> path = os.path.join(tempfile.mkdtemp(), "f.npz")
    >>> save_factors(path, Factorization([np.ones((2, 3)), np.ones((1, 2))]))
    >>> load_factors(path).dims
    (3, 2, 1)
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays = {f"W{k + 1}": w for k, w in enumerate(fac.weights)}
    arrays["target"] = fac.target
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_factors(
    path: str | os.PathLike, target: str | os.PathLike | np.ndarray | None = None
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

    Returns
    -------
    Factorization

    Raises
    ------
    ValueError
        Missing/extra/non-consecutive ``W`` arrays, or anything :class:`Factorization` rejects.
    OSError
        Unreadable file.

    Examples
    --------
    See :func:`save_factors`.
    """
    with np.load(path, allow_pickle=False) as data:
        if not isinstance(data, np.lib.npyio.NpzFile):  # a bare .npy
            raise ValueError(f"FACTORS: {path} is not an .npz archive of arrays W1..WL")
        names = set(data.files)
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
        weights = [data[f"W{i}"] for i in idx]
        stored_target = data["target"] if "target" in names else None
    if target is not None and not isinstance(target, np.ndarray):
        target = np.load(target, allow_pickle=False)
        if not isinstance(target, np.ndarray):
            raise ValueError("--target: expected a .npy file holding one array")
    return Factorization(weights, target=target if target is not None else stored_target)
