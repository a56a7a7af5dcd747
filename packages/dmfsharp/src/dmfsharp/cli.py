"""Command-line interface ``dmfsharp`` — a thin layer over the library.

Each subcommand is a ``_cmd_<name>(args) -> int`` function registered in :func:`build_parser`.
Errors in user input (``ValueError``/``TypeError``/``OSError`` raised by the library, a bad
option, a missing optional extra) are printed as one line ``dmfsharp: error: ...`` with exit
status 2. Ctrl-C stops any command within a few seconds with one line saying what was kept and
how to resume, exit status 130.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from ._io import FIGURE_FORMATS
from ._optional import MissingExtraError

#: Exit status after Ctrl-C (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``dmfsharp: error: ...``) and defaults in ``--help``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"dmfsharp: error: {message} (see '{self.prog} --help')\n")


def _parse_list(kind, what: str):
    """argparse type: comma-separated values converted by ``kind``."""

    def parse(text: str) -> tuple:
        try:
            return tuple(kind(x) for x in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {what}, got {text!r}"
            ) from None

    return parse


def _bounded_int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


_parse_dims = _parse_list(int, "integers")
_parse_floats = _parse_list(float, "numbers")
_seed = _bounded_int(0)
_count = _bounded_int(1)


def _interrupt(args, text: str) -> None:
    """What a Ctrl-C in this command keeps (printed by :func:`main`)."""
    args.on_interrupt = text


def _load(args):
    """The factorization of ``args.factors`` with ``--target`` or ``--data``."""
    from .npz import load_data, load_factors

    data = None
    if getattr(args, "data", None) is not None:
        data = load_data(args.data, args.reduction)
    elif getattr(args, "reduction", None) not in (None, "mean"):
        raise ValueError("--reduction: only applies together with --data")
    return load_factors(args.factors, target=args.target, data=data)


def _cmd_random(args) -> int:
    from .constructors import gaussian_minimizer, scalar_minimizer
    from .npz import save_factors

    if args.kind == "gaussian":
        fac = gaussian_minimizer(args.dims, rng=args.seed)
    else:
        if any(d != 1 for d in args.dims):
            raise ValueError(
                f"--dims: --kind scalar needs every width 1 (e.g. 1,1,1,1 for depth 3), got "
                f"{','.join(map(str, args.dims))}"
            )
        fac = scalar_minimizer(len(args.dims) - 1, rng=args.seed)
    path = save_factors(args.output, fac)
    print(f"wrote {path}: {args.kind} minimizer, dims {','.join(map(str, fac.dims))}")
    return 0


def _cmd_sharpness(args) -> int:
    from .summary import summarize

    summary = summarize(_load(args), args.scale)
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(summary.to_text())
    return 0


def _cmd_escape(args) -> int:
    from .escape import escape, escape_table

    fac = _load(args)
    _interrupt(args, "nothing was written (escape prints its table at the end); run it again")
    res = escape(
        fac,
        args.eta_factors,
        steps=args.steps,
        radius=args.radius,
        escape_radius=args.escape_radius,
        direction=args.direction,
        scale=args.scale,
        rng=args.seed,
    )
    if args.json:
        print(json.dumps(res.to_dict(), allow_nan=False))
    else:
        flat = (
            ""
            if res.flattest is None
            else (f", flattest = {res.flattest:.6g} (2/flattest = {2 / res.flattest:.6g})")
        )
        print(
            f"lambda_max = {res.lambda_max:.10g} (2/lambda_max = {2 / res.lambda_max:.6g})"
            f"{flat}; start {res.radius:g} along {res.direction}, escape radius "
            f"{res.escape_radius:g}"
        )
        print(escape_table(res))
    return 0


def _cmd_figure(args) -> int:
    from ._io import atomic_write
    from ._optional import require

    matplotlib = require("matplotlib", "plot", "dmfsharp figure")
    matplotlib.use("Agg")
    from . import figures
    from .escape import escape_table

    args.output.mkdir(parents=True, exist_ok=True)
    _interrupt(
        args,
        f"no figure was written to {args.output} (files are written when complete); run it again",
    )
    if args.name == "fig1":
        data = figures.figure1_experiment(seed=args.seed)
        fig, tables = figures.figure1(data), [escape_table(data.result)]
    else:
        results = figures.matrix_escape_experiments(seed=args.seed)
        fig, tables = figures.matrix_figure(results), [escape_table(r) for r in results]
    path = figures.save_figure(
        fig, args.output / f"{args.name}.{args.format}", fmt=args.format, dpi=args.dpi
    )
    md = args.output / f"{args.name}.md"
    atomic_write(md, lambda fh: fh.write("\n\n".join(tables) + "\n"), binary=False)
    print(f"wrote {path} and {md}")
    return 0


def _cmd_sweep(args) -> int:
    from .sweep import SweepConfig, SweepInterrupted, connect_scheduler, run_sweep, sweep_table

    cfg = SweepConfig.from_file(args.config)
    client = None if args.scheduler is None else connect_scheduler(args.scheduler, args.timeout)
    try:
        res = run_sweep(
            cfg,
            output=args.output,
            client=client,
            executor="serial" if args.serial else "process",
            max_workers=args.workers,
            progress=not args.no_progress,
        )
    except SweepInterrupted as exc:
        _interrupt(
            args,
            f"kept {exc.n_done} of {exc.n_cells} cells in {exc.path}; run the same command "
            "again to resume",
        )
        raise
    finally:
        if client is not None:
            client.close()
    print(f"{res.path}: {res.n_cells} cells, {res.n_skipped} already done, {res.n_run} run now")
    print(sweep_table(res.records))
    return 0


def _cmd_demo(args) -> int:
    from ._optional import require

    require("matplotlib", "plot", "dmfsharp demo")
    from .demo import run_demo  # imports matplotlib: keep it out of the other subcommands

    _interrupt(
        args,
        f"the figures of the finished sections are kept in {args.out}; report.md and summary.md "
        "are written at the end: run it again",
    )
    run_demo(args.out)
    print(f"wrote the dmfsharp demo to {args.out}")
    return 0


def _cmd_example(args) -> int:
    from ._io import atomic_write
    from .sweep import example_config_path

    src = example_config_path()
    dest = Path(args.output)
    if dest.exists() and not args.force:
        raise ValueError(f"--output: {dest} exists (use --force to overwrite)")
    text = src.read_text(encoding="utf-8")
    atomic_write(dest, lambda fh: fh.write(text), binary=False)
    print(f"wrote {dest} (run it with: dmfsharp sweep {dest})")
    return 0


def _add_scale(p) -> None:
    p.add_argument(
        "--scale", type=float, default=0.5, help="loss scale c in c||P - M||^2 or (c/n)||PX - Y||^2"
    )


def _add_target_or_data(p) -> None:
    p.add_argument("--target", metavar="M.npy", default=None, help="target matrix M (.npy)")
    p.add_argument(
        "--data",
        metavar="DATA.npz",
        default=None,
        help="samples X (n, d_0) and Y (n, d_L), one per row: the data loss (c/n)||PX - Y||^2",
    )
    p.add_argument(
        "--reduction",
        choices=["mean", "sum"],
        default="mean",
        help="with --data: (c/n)||PX - Y||^2 (mean over samples) or c||PX - Y||^2 (sum)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``dmfsharp`` argument parser (subcommands random, sharpness, escape, figure, sweep,
    example, demo).

    Returns
    -------
    argparse.ArgumentParser
        Each subcommand stores its handler in ``func`` (called by :func:`main`).

    Examples
    --------
    >>> args = build_parser().parse_args(["random", "--dims", "3,4,2", "-o", "f.npz"])
    >>> args.command, args.dims, args.kind, args.seed
    ('random', (3, 4, 2), 'gaussian', 0)
    >>> build_parser().parse_args(["escape", "f.npz", "--eta-factors", "0.9,1.1"]).eta_factors
    (0.9, 1.1)
    """
    parser = _Parser(
        prog="dmfsharp", description="Exact sharpness of minima in deep matrix factorization."
    )
    parser.add_argument("--version", action="version", version=f"dmfsharp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("random", help="write a random minimizer to an .npz file")
    p.add_argument("--dims", type=_parse_dims, required=True, help="d_0,d_1,...,d_L")
    p.add_argument(
        "--kind",
        choices=["gaussian", "scalar"],
        default="gaussian",
        help="Gaussian factors N(0, 1/d_(i-1)) with M = product, or a scalar factorization "
        "(all widths 1)",
    )
    p.add_argument("--seed", type=_seed, default=0, help="random seed (integer >= 0)")
    p.add_argument("-o", "--output", required=True, help="output .npz file (its folder must exist)")
    p.set_defaults(func=_cmd_random)

    p = sub.add_parser(
        "sharpness",
        help="exact sharpness, S, flattest value, trace, rank and residual of a factorization",
        description="Reads W1..WL (W_i of shape d_i x d_{i-1}) from an .npz (allow_pickle=False). "
        "Loss: --data (the data loss), else --target, else a 'target' array in the file, else "
        "the product.",
    )
    p.add_argument("factors", metavar="FACTORS.npz")
    _add_target_or_data(p)
    _add_scale(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_sharpness)

    p = sub.add_parser(
        "escape",
        help="GD escape experiment from a minimizer for eta = (2/lambda_max) * factor",
        description="Starts GD --radius away from the minimizer in FACTORS.npz (along v1 by "
        "default) for each step-size factor and reports escape, escape step vs the linear "
        "prediction, outcome and final sharpness.",
    )
    p.add_argument("factors", metavar="FACTORS.npz")
    _add_target_or_data(p)
    p.add_argument(
        "--eta-factors",
        type=_parse_floats,
        default=(0.9, 0.99, 1.01, 1.1),
        help="step sizes in units of 2/lambda_max, comma-separated",
    )
    p.add_argument("--radius", type=float, default=1e-9, help="start distance rho")
    p.add_argument(
        "--escape-radius", type=float, default=None, help="escape radius (None: 1000 * radius)"
    )
    p.add_argument("--steps", type=int, default=5000, help="step budget per eta")
    p.add_argument(
        "--direction",
        choices=["v1", "vN", "random"],
        default="v1",
        help="start direction: top eigenvector, null direction or random",
    )
    p.add_argument("--seed", type=_seed, default=0, help="seed for --direction random")
    _add_scale(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_escape)

    p = sub.add_parser("figure", help="reproduce a figure (fig1: the paper's Figure 1)")
    p.add_argument("name", choices=["fig1", "matrix"], help="which figure")
    p.add_argument("-o", "--output", type=Path, default=Path("out/dmfsharp"), help="folder")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (integer >= 0)")
    p.add_argument(
        "--format", choices=FIGURE_FORMATS, default="png", help="file format (default png)"
    )
    p.add_argument("--dpi", type=int, default=200, help="resolution of a png (default 200)")
    p.set_defaults(func=_cmd_figure)

    p = sub.add_parser(
        "sweep",
        help="run or resume an escape sweep from a JSON config",
        description="CONFIG.json: depths, widths, eta_factors, seeds (lists) and optional "
        "steps, radius, direction, scale, base_seed, output (JSON-lines results file). "
        "'dmfsharp example sweep.json' writes an example.",
    )
    p.add_argument("config", metavar="CONFIG.json")
    p.add_argument("--scheduler", default=None, help="dask.distributed scheduler address")
    p.add_argument("--timeout", type=float, default=10.0, help="scheduler connect timeout (s)")
    p.add_argument("-o", "--output", default=None, help="results file (None: the config's output)")
    p.add_argument(
        "--workers", type=_count, default=None, help="local process-pool size (None: all CPUs)"
    )
    p.add_argument("--serial", action="store_true", help="run in this process")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("example", help="write the packaged example sweep configuration")
    p.add_argument("output", nargs="?", default="sweep.json", help="file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=_cmd_example)

    p = sub.add_parser("demo", help="write the dmfsharp demo report, tables and figures")
    p.add_argument("--out", type=Path, default=Path("out/dmfsharp"), help="output folder")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``dmfsharp`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 on a user-input error or a missing optional extra (one
        line ``dmfsharp: error: ...`` on stderr), 130 after Ctrl-C (one line saying what was
        kept and how to resume).

    Examples
    --------
    Write a random depth-2 minimizer, then read its exact sharpness back as JSON and compare it
    with the library call:

    >>> import contextlib, io, json, os, tempfile
    >>> from dmfsharp import load_factors, sharpness
    >>> path = os.path.join(tempfile.mkdtemp(), "f.npz")
    >>> main(["random", "--dims", "3,4,2", "--seed", "1", "-o", path])  # doctest: +ELLIPSIS
    wrote ...f.npz: gaussian minimizer, dims 3,4,2
    0
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf):
    ...     status = main(["sharpness", path, "--json"])
    >>> out = json.loads(buf.getvalue())
    >>> status, out["dims"], out["is_minimizer"]
    (0, [3, 4, 2], True)
    >>> abs(out["lambda_max"] - sharpness(load_factors(path)).lambda_max) < 1e-12
    True
    >>> main(["sharpness", os.path.join(tempfile.mkdtemp(), "missing.npz")])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        kept = getattr(args, "on_interrupt", "nothing was written; run it again")
        print(f"dmfsharp: interrupted: {kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, TypeError, OSError, KeyError, MissingExtraError) as exc:
        msg = " ".join(str(exc).split())  # always one line
        print(f"dmfsharp: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
