"""``--threads N`` for the benchmarks: it must act before NumPy/torch load their BLAS, so a
benchmark imports this module first (``from _threads import THREADS``)."""

from __future__ import annotations

import os
import sys


def threads_from_argv() -> int | None:
    """Set the BLAS thread variables from ``--threads N`` (or ``--threads=N``) on the command
    line; return N (or None). A malformed value is left to the benchmark's argparse error."""
    args = sys.argv[1:]
    for i, arg in enumerate(args):
        if arg.startswith("--threads="):
            text = arg.partition("=")[2]
        elif arg == "--threads" and i + 1 < len(args):
            text = args[i + 1]
        else:
            continue
        try:
            n = int(text)
        except ValueError:
            return None
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)
        return n
    return None


THREADS = threads_from_argv()
