"""Command-line interface ``dmfsharp`` — a thin layer over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in :func:`build_parser`.
Errors in user input (``ValueError``/``TypeError``/``OSError`` raised by the library) are printed as
one line ``dmfsharp: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from . import __version__
from .constructors import gaussian_minimizer, scalar_minimizer


def _parse_dims(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def save_factors(path: str, fac) -> None:
    """Write a factorization as ``W1``..``WL`` (and ``target``) arrays in an ``.npz`` file."""
    arrays = {f"W{k + 1}": w for k, w in enumerate(fac.weights)}
    arrays["target"] = fac.target
    np.savez(path, **arrays)


def _cmd_random(args) -> int:
    if args.kind == "gaussian":
        fac = gaussian_minimizer(args.dims, rng=args.seed)
    else:
        fac = scalar_minimizer(len(args.dims) - 1, rng=args.seed)
    save_factors(args.output, fac)
    print(f"wrote {args.output}: {args.kind} minimizer, dims {','.join(map(str, fac.dims))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dmfsharp", description="Exact sharpness of minima in deep matrix factorization."
    )
    parser.add_argument("--version", action="version", version=f"dmfsharp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("random", help="write a random minimizer to an .npz file")
    p.add_argument("--dims", type=_parse_dims, required=True, help="d_0,d_1,...,d_L")
    p.add_argument("--kind", choices=["gaussian", "scalar"], default="gaussian")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=_cmd_random)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        print(f"dmfsharp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
