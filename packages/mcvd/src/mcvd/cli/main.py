"""Command-line interface ``mcvd`` — a thin layer over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in :func:`build_parser`.
User-input errors are printed as one line ``mcvd: error: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._version import __version__
from ._common import parse_times
from .ber import add_ber_parser


def _cmd_demo(args) -> int:
    from ..studies.demo import run_demo

    run_demo(Path(args.out))
    return 0


def _cmd_example(args) -> int:
    from .. import examples
    from ..core.io import atomic_write

    if args.name is None:
        print("\n".join(examples.names()))
        return 0
    text = examples.path(args.name).read_text(encoding="utf-8")
    if args.output is None:
        print(text, end="")
        return 0
    out = Path(args.output)
    if not out.parent.is_dir():
        raise ValueError(f"-o/--output: folder {str(out.parent)!r} does not exist")
    atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(f"wrote {out}")
    return 0


def _cmd_response(args) -> int:
    import json

    import numpy as np

    from ..core.io import json_safe
    from ..core.models import response
    from ..core.scenario import load_scenario

    sc = load_scenario(args.scenario)
    if args.times is None:
        times = np.linspace(0.0, sc.time.end, 11)[1:]
    else:
        times = parse_times(args.times, allow_inf=True)
    res = response(sc, times, model=args.model)
    if args.json:
        print(json.dumps(json_safe(res.to_dict())))
        return 0
    print(f"model {res.model}: expected absorbed fraction F(t) ({sc.total_molecules} molecules)")
    head = "t (s)        F total" + "".join(f"   F rx{k}" for k in range(len(res.F_per_receiver)))
    print(head)
    for k, t in enumerate(res.times):
        per = "".join(f"  {v:.6f}" for v in res.F_per_receiver[:, k])
        print(f"{t:<10.6g}  {res.F[k]:.6f}{per}")
    return 0


def _cmd_capture(args) -> int:
    import json

    from ..core.models import capture
    from ..core.scenario import load_scenario

    res = capture(load_scenario(args.scenario), tol=args.tol)
    if args.json:
        print(
            json.dumps(
                {
                    "F_inf": res.F_inf,
                    "F_inf_per_receiver": res.F_inf_per_receiver.tolist(),
                    "generations": res.generations,
                    "tol": res.tol,
                    "method": res.method,
                }
            )
        )
        return 0
    how = {
        "kelvin": f"Kelvin series, {res.generations} generations",
        "exact": "static limit of the exact multipole solution",
        "multipole": "static multipole solution",
    }[res.method]
    print(f"F(inf) = {res.F_inf:.12g}  ({how})")
    for k, v in enumerate(res.F_inf_per_receiver):
        print(f"  receiver {k}: {v:.12g}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``mcvd`` argument parser (demo, example, response, capture, simulate, export-smoldyn,
    crosscheck, ber).

    Returns
    -------
    argparse.ArgumentParser
        Each subcommand stores its handler in ``func`` (called by :func:`main`).

    Examples
    --------
    >>> args = build_parser().parse_args(["response", "s.json", "--times", "0.1,0.5"])
    >>> args.command, args.model, args.times
    ('response', 'images-ho', '0.1,0.5')
    >>> build_parser().parse_args(["simulate", "s.json", "--molecules", "500"]).molecules
    500
    """
    parser = argparse.ArgumentParser(
        prog="mcvd", description="Molecular communication via diffusion near reflecting surfaces."
    )
    parser.add_argument("--version", action="version", version=f"mcvd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="write the demo figures and report section")
    p.add_argument("--out", default="out/mcvd")
    p.set_defaults(func=_cmd_demo)
    p = sub.add_parser("example", help="list the example scenarios, or write one out")
    p.add_argument("name", nargs="?", default=None, help="example name (omit to list them)")
    p.add_argument("-o", "--output", default=None, help="file to write (default: print it)")
    p.set_defaults(func=_cmd_example)
    p = sub.add_parser("response", help="channel response F(t) of an analytic model")
    p.add_argument("scenario", help="scenario JSON file")
    p.add_argument(
        "--model",
        default="images-ho",
        help="free, kamber2024, kamber2024-conv, images-ho (default), exact, ...",
    )
    p.add_argument("--times", help="comma-separated times in s (default: 10 points up to end)")
    p.add_argument("--json", action="store_true", help="print JSON (times, F, F_per_receiver)")
    p.set_defaults(func=_cmd_response)
    p = sub.add_parser(
        "capture", help="exact long-time capture F(inf) (Kelvin series or exact static solution)"
    )
    p.add_argument("scenario", help="scenario JSON file")
    p.add_argument("--tol", type=float, default=1e-12, help="absolute tolerance (default 1e-12)")
    p.add_argument("--json", action="store_true", help="print JSON (key F_inf)")
    p.set_defaults(func=_cmd_capture)
    from .simulate import add_simulate_parser

    add_simulate_parser(sub)
    from .crosscheck import add_crosscheck_parser

    add_crosscheck_parser(sub)
    add_ber_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``mcvd`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a user-input error (one line ``mcvd: error: ...`` on
        stderr).

    Examples
    --------
    The paper's half-space topology with a 0.5 s horizon; the JSON response at t = 0.5 s equals
    the library call:

    >>> import contextlib, io, json, os, tempfile
    >>> from mcvd.core.models import response
    >>> from mcvd.core.scenario import load_scenario
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 1000},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    ...       "time": {"end": 0.5, "dt": 1e-3}}  # µm, µm²/s, s
    >>> path = os.path.join(tempfile.mkdtemp(), "scenario.json")
    >>> _ = open(path, "w").write(json.dumps(sc))
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf):
    ...     status = main(["response", path, "--times", "0.5", "--json"])
    >>> out = json.loads(buf.getvalue())
    >>> status, out["model"], out["times"]
    (0, 'images-ho', [0.5])
    >>> bool(out["F"][0] == response(load_scenario(path), [0.5], model="images-ho").F[0])
    True
    >>> main(["capture", os.path.join(tempfile.mkdtemp(), "missing.json")])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, KeyError, ImportError) as exc:
        print(f"mcvd: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
