"""``mcvd crosscheck``: the simulator-based accuracy map (a thin layer over
:func:`mcvd.studies.crosscheck.cross_check`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ._common import (
    fraction,
    nonnegative_int,
    output_folder,
    parse_floats,
    parse_times,
    positive_int,
)

__all__ = ["add_crosscheck_parser", "cmd_crosscheck"]

#: placements and further layouts of the accuracy map (kept in sync with
#: ``mcvd.studies.accuracy.PLACEMENTS`` and ``LAYOUTS`` by a test; not imported here so that
#: ``mcvd --help`` does not load the closed-form models)
_PLACEMENT_NAMES = ("on-plane", "behind", "beside", "far")
_LAYOUT_NAMES = ("corner", "octant", "two-receivers", "reactive", "degrading")


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
    >>> parser.parse_args(["crosscheck"]).se   # the default standard error per cell
    0.0005
    """
    p = sub.add_parser(
        "crosscheck",
        help="accuracy map of the closed forms against the event-driven simulator, vs exact",
        description="Accuracy map of the closed forms against the event-driven simulator and the "
        "exact solution. A map estimated beyond a minute warns first (beyond 24 h it is refused "
        "without --force); Ctrl-C keeps the finished cells and the same command resumes.",
    )
    p.add_argument("--out", default="out/mcvd-crosscheck", help="directory for figures + report")
    p.add_argument("--se", type=fraction, default=5e-4, help="standard error per cell")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="base seed")
    p.add_argument(
        "--gaps", default=None, help="comma-separated gaps (µm, > 0; default: the full grid)"
    )
    p.add_argument(
        "--times", default=None, help="comma-separated times (s; inf allowed; default: full grid)"
    )
    p.add_argument(
        "--placements",
        default=None,
        help=f"comma-separated subset of {','.join(_PLACEMENT_NAMES)} (default: all four) and "
        f"of the further geometries {','.join(_LAYOUT_NAMES)}",
    )
    p.add_argument(
        "--models", default=None, help="comma-separated model names (default: every closed form)"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="processes per simulation (default: none, inline)",
    )
    p.add_argument(
        "--run-dir",
        default=None,
        help="keep the finished cells here (default: OUT/runs, removed when the map completes)",
    )
    p.add_argument("--force", action="store_true", help="run even if estimated beyond 24 h")
    p.add_argument("--json", action="store_true", help="print z-scores and model errors as JSON")
    p.set_defaults(func=cmd_crosscheck)


def _names(text: str, option: str, allowed=None) -> list[str]:
    """Comma-separated names of ``--<option>`` (at least one; each in ``allowed`` if given)."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise ValueError(f"--{option} must list at least one name, got {text!r}")
    bad = [n for n in names if allowed is not None and n not in allowed]
    if bad:
        raise ValueError(f"--{option}: {bad[0]!r} is not one of {', '.join(allowed)}")
    return names


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

    from ..core.extras import require
    from ..core.io import atomic_write
    from ..studies.crosscheck import cross_check, write_cross_check

    kw = {}
    if args.gaps is not None:
        gaps = parse_floats(args.gaps, "gaps")
        if not all(0 < g < float("inf") for g in gaps):
            raise ValueError(f"--gaps must be finite numbers > 0 (µm), got {args.gaps!r}")
        kw["gaps"] = gaps
    if args.times is not None:
        kw["times"] = parse_times(args.times, allow_inf=True).tolist()
    if args.placements is not None:
        kw["placements"] = _names(args.placements, "placements", _PLACEMENT_NAMES + _LAYOUT_NAMES)
    models = None if args.models is None else _names(args.models, "models")
    out = output_folder(args.out)
    run_dir = Path(args.run_dir) if args.run_dir is not None else out / "runs"
    args.kept = f"the finished cells are kept in {run_dir}"
    executor = "process" if args.workers and args.workers > 1 else "inline"
    require("matplotlib", "mcvd crosscheck (its figures)").use("Agg")  # before any simulation
    cc = cross_check(
        models,
        se=args.se,
        seed=args.seed,
        executor=executor,
        workers=args.workers,
        run_dir=run_dir,
        force=args.force,
        **kw,
    )
    text = write_cross_check(cc, args.out)
    report = out / "crosscheck.md"
    body = "## Simulator-based accuracy map\n\n" + text + "\n"
    atomic_write(report, lambda tmp: Path(tmp).write_text(body, encoding="utf-8"))
    if args.run_dir is None:
        shutil.rmtree(run_dir, ignore_errors=True)  # the map is complete: the cells are in it
    if args.json:
        summary = {
            "max_abs_z": cc.max_abs_z,
            "agree": cc.agree,
            "model_errors": {
                m: {"vs_event": a, "vs_exact": b} for m, (a, b) in cc.model_errors().items()
            },
            "report": str(report),
        }
        print(json.dumps(summary))
    else:
        print(cc.summary())
        print(f"wrote {report}")
    return 0
