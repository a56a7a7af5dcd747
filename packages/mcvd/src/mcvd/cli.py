"""Command-line interface ``mcvd`` — a thin layer over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in :func:`build_parser`.
User-input errors are printed as one line ``mcvd: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def _cmd_demo(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = "## mcvd\n\nThe mcvd demo is still to come (analytic-models issue).\n"
    (out / "report.md").write_text(text, encoding="utf-8")
    (out / "summary.md").write_text("**mcvd:** still to come.\n", encoding="utf-8")
    print("mcvd demo: still to come")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcvd", description="Molecular communication via diffusion near reflecting surfaces."
    )
    parser.add_argument("--version", action="version", version=f"mcvd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="write the demo figures and report section")
    p.add_argument("--out", default="out/mcvd")
    p.set_defaults(func=_cmd_demo)
    from .sim.cli import add_simulate_parser  # `mcvd simulate` (fixed-step helper, issue 5)

    add_simulate_parser(sub)
    from .sim.crosscheck import add_crosscheck_parser  # `mcvd crosscheck` (event helper, issue 6)

    add_crosscheck_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, KeyError) as exc:
        print(f"mcvd: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
