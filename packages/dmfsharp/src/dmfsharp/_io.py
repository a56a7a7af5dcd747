"""Atomic file writes and format checks shared by the CLI, the demo, the figures and ``.npz`` I/O.

A file is written to a temporary sibling and renamed over the target (``os.replace``), so a reader
or a Ctrl-C never sees a half-written file; the temporary file is removed on any failure. A
missing folder is reported by its own name (not by the temporary file's).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "check_output_folder", "sniff"]

_MAGIC = {b"PK\x03\x04": "npz", b"PK\x05\x06": "npz", b"\x93NUMPY": "npy"}

#: File formats of the figures (``dmfsharp.figures.FIGURE_FORMATS``); defined here so that the
#: command line's parser has them without importing the figures (and scipy) at every start.
FIGURE_FORMATS = ("png", "pdf", "svg")


def check_output_folder(path: str | os.PathLike, what: str = "output") -> Path:
    """``Path(path)``, or one clear ``ValueError`` when its folder does not exist.

    Examples
    --------
    >>> check_output_folder("/nonexistent-folder/f.npz")
    Traceback (most recent call last):
    ...
    ValueError: output: folder /nonexistent-folder does not exist (for /nonexistent-folder/f.npz)
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"{what}: folder {parent} does not exist (for {path})")
    return path


def atomic_write(
    path: str | os.PathLike, write: Callable, *, binary: bool = True, what: str = "output"
) -> Path:
    """Write ``path`` atomically: ``write(fh)`` fills a temporary file in the same folder,
    which then replaces ``path``.

    Parameters
    ----------
    path : str or path-like
        Target file.
    write : callable
        ``write(fh)`` with ``fh`` an open file (binary unless ``binary=False``). A callable
        that needs a file *name* (e.g. ``Figure.savefig`` with a format) may use ``fh.name``.
    binary : bool, default True
        Open the temporary file in binary mode.
    what : str, default "output"
        Argument name for the missing-folder message.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import os, tempfile
    >>> p = atomic_write(os.path.join(tempfile.mkdtemp(), "a.txt"), lambda fh: fh.write("hi"),
    ...                  binary=False)
    >>> p.read_text()
    'hi'
    """
    path = check_output_folder(path, what)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(
            fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
        ) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def sniff(path: str | os.PathLike) -> str | None:
    """``"npz"`` (a zip archive), ``"npy"`` or ``None`` from a file's first bytes.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> _ = open(p, "w").write("not numpy")
    >>> sniff(p) is None
    True
    """
    with open(path, "rb") as fh:
        head = fh.read(6)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None
