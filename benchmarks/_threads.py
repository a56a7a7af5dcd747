"""``--threads N`` for the benchmarks: it must act before NumPy/torch load their BLAS, so a
benchmark imports this module first (``from _threads import THREADS``)."""

from __future__ import annotations

import os
import sys


def threads_from_argv() -> int | None:
    """Set the BLAS thread variables from ``--threads N`` on the command line; return N (or None)."""
    if "--threads" in sys.argv:
        n = sys.argv[sys.argv.index("--threads") + 1]
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = n
        return int(n)
    return None


THREADS = threads_from_argv()
