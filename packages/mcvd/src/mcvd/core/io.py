"""Small I/O helpers shared by every layer: atomic file writes and JSON-safe conversion."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "json_safe"]


def atomic_write(path: str | Path, write) -> Path:
    """Write a file atomically: ``write(tmp_path)`` then ``os.replace(tmp_path, path)``.

    Parameters
    ----------
    path : str or Path
        Destination.
    write : callable
        ``write(tmp_path: str)`` creates the file at ``tmp_path``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        The file cannot be written (a missing or read-only folder, a full disk, ``path`` is a
        directory): the message names ``path``, never the temporary file.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> _ = atomic_write(p, lambda tmp: open(tmp, "w").write("hi"))
    >>> open(p).read()
    'hi'
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _named(exc, path) from None
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise _named(exc, path) from None
        raise
    return path


def _named(exc: OSError, path: Path) -> OSError:
    """The same kind of OSError, naming the destination (not the temporary file)."""
    return type(exc)(exc.errno, f"cannot write {path}: {exc.strerror}")


def json_safe(value):
    """Convert numpy scalars/arrays inside ``value`` to plain JSON types.

    Non-finite floats become the strings ``"inf"``, ``"-inf"``, ``"nan"`` (JSON has no literal).

    Examples
    --------
    >>> json_safe({"F": np.array([0.5, np.inf]), "n": np.int64(3)})
    {'F': [0.5, 'inf'], 'n': 3}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)  # "inf" / "nan" (JSON has no literal for them)
    return value
