"""Command-line interface ``dmfsharp`` — a thin layer over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in :func:`build_parser`.
Errors in user input (``ValueError``/``TypeError``/``OSError`` raised by the library) are printed as
one line ``dmfsharp: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .constructors import gaussian_minimizer, scalar_minimizer
from .npz import load_factors, save_factors
from .summary import summarize


def _parse_dims(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _cmd_random(args) -> int:
    if args.kind == "gaussian":
        fac = gaussian_minimizer(args.dims, rng=args.seed)
    else:
        fac = scalar_minimizer(len(args.dims) - 1, rng=args.seed)
    save_factors(args.output, fac)
    print(f"wrote {args.output}: {args.kind} minimizer, dims {','.join(map(str, fac.dims))}")
    return 0


def _cmd_sharpness(args) -> int:
    fac = load_factors(args.factors, target=args.target)
    summary = summarize(fac, args.scale)
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(summary.to_text())
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo  # imports matplotlib: keep it out of the other subcommands

    run_demo(args.out)
    print(f"wrote the dmfsharp demo to {args.out}")
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

    p = sub.add_parser(
        "sharpness",
        help="exact sharpness, S, flattest value, trace, rank and residual of a factorization",
        description="Reads W1..WL (W_i of shape d_i x d_{i-1}) from an .npz (allow_pickle=False). "
        "Target: --target, else a 'target' array in the file, else the product.",
    )
    p.add_argument("factors", metavar="FACTORS.npz")
    p.add_argument("--target", metavar="M.npy", default=None, help="target matrix M (.npy)")
    p.add_argument("--scale", type=float, default=0.5, help="loss scale c in c||P - M||^2")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_sharpness)

    p = sub.add_parser("demo", help="write the dmfsharp demo report, tables and figures")
    p.add_argument("--out", type=Path, default=Path("out/dmfsharp"), help="output folder")
    p.set_defaults(func=_cmd_demo)
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
