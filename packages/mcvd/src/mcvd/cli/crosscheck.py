"""``mcvd crosscheck``: the simulator-based accuracy map (a thin layer over
:func:`mcvd.studies.crosscheck.cross_check`)."""

from __future__ import annotations

from pathlib import Path

from ._common import parse_floats

__all__ = ["add_crosscheck_parser", "cmd_crosscheck"]

#: placements of the accuracy map (kept in sync with ``mcvd.studies.accuracy.PLACEMENTS`` by a
#: test; not imported here so that ``mcvd --help`` does not load the closed-form models)
_PLACEMENT_NAMES = ("on-plane", "behind", "beside", "far")


def add_crosscheck_parser(sub) -> None:
    """Register ``mcvd crosscheck`` (full simulator-based accuracy map) on argparse sub-parsers.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        From ``ArgumentParser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="mcvd")
    >>> add_crosscheck_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["crosscheck", "--gaps", "0.3,3", "--se", "1e-3"])
    >>> args.func is cmd_crosscheck, args.gaps, args.se, args.out
    (True, '0.3,3', 0.001, 'out/mcvd-crosscheck')
    """
    p = sub.add_parser(
        "crosscheck",
        help="accuracy map of the closed forms against the event-driven simulator, vs exact",
    )
    p.add_argument("--out", default="out/mcvd-crosscheck", help="directory for figures + report")
    p.add_argument("--se", type=float, default=None, help="SE per cell (default 5e-4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gaps", default=None, help="comma-separated gaps (µm; default full grid)")
    p.add_argument("--times", default=None, help="comma-separated times (s; 'inf' allowed)")
    p.add_argument("--placements", default=None, help=f"subset of {','.join(_PLACEMENT_NAMES)}")
    p.add_argument("--models", default=None, help="comma-separated model names")
    p.add_argument("--workers", type=int, default=None, help="processes per simulation")
    p.add_argument("--json", action="store_true", help="print z-scores and model errors as JSON")
    p.set_defaults(func=cmd_crosscheck)


def cmd_crosscheck(args) -> int:
    """Run ``mcvd crosscheck`` (see ``mcvd crosscheck --help``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``mcvd crosscheck`` arguments (gaps in µm, times in s).

    Returns
    -------
    int
        Exit status 0; ``crosscheck.md`` and the figures are written to ``args.out``.

    Examples
    --------
    One cell (gap 3 µm, transmitter on the plane, t = 0.5 s) at SE 5e-3:

    >>> import contextlib, io, json, os, tempfile
    >>> from mcvd.cli import build_parser
    >>> out = tempfile.mkdtemp()
    >>> args = build_parser().parse_args(
    ...     ["crosscheck", "--out", out, "--se", "5e-3", "--gaps", "3", "--placements",
    ...      "on-plane", "--times", "0.5", "--models", "kamber2024", "--json"])
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf):
    ...     status = cmd_crosscheck(args)
    >>> res = json.loads(buf.getvalue())
    >>> status, res["agree"], bool(res["max_abs_z"] <= 4), list(res["model_errors"])
    (0, True, True, ['kamber2024'])
    >>> os.path.exists(os.path.join(out, "crosscheck.md"))
    True
    """
    import json

    import matplotlib

    from ..studies.crosscheck import cross_check, write_cross_check

    matplotlib.use("Agg")
    kw = {}
    if args.gaps:
        kw["gaps"] = parse_floats(args.gaps, "gaps")
    if args.times:
        kw["times"] = parse_floats(args.times, "times")
    if args.placements:
        kw["placements"] = [v.strip() for v in args.placements.split(",") if v.strip()]
    models = None if not args.models else [m.strip() for m in args.models.split(",")]
    executor = "process" if args.workers and args.workers > 1 else "inline"
    cc = cross_check(
        models, se=args.se, seed=args.seed, executor=executor, workers=args.workers, **kw
    )
    text = write_cross_check(cc, args.out)
    report = Path(args.out) / "crosscheck.md"
    report.write_text("## Simulator-based accuracy map\n\n" + text + "\n", encoding="utf-8")
    if args.json:
        out = {
            "max_abs_z": cc.max_abs_z,
            "agree": cc.agree,
            "model_errors": {
                m: {"vs_event": a, "vs_exact": b} for m, (a, b) in cc.model_errors().items()
            },
            "report": str(report),
        }
        print(json.dumps(out))
    else:
        print(cc.summary())
        print(f"wrote {report}")
    return 0
