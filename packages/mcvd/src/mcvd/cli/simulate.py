"""``mcvd simulate`` and ``mcvd export-smoldyn`` subcommands (registered by :mod:`mcvd.cli`; thin
layers over :func:`mcvd.sim.simulate` and :func:`mcvd.sim.smoldyn.write_smoldyn`)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

from ..core.io import json_safe
from ..sim import DEFAULT_METHOD, METHODS, simulate
from ._common import (
    check_output,
    count,
    nonnegative_int,
    parse_times,
    positive_float,
    positive_int,
)

#: option types of the methods' option fields (every float option is a finite number > 0)
_TYPES = {float: positive_float}


def _quiet_dask() -> None:
    """Silence dask.distributed's log records below CRITICAL: a lost scheduler is reported in one
    line by the runner (what happened, what was kept, that the same command resumes); the
    client's own records (a reconnect traceback) would only repeat it over many lines."""
    import logging

    try:
        import distributed  # noqa: F401 - creates the loggers to silence
    except ImportError:
        return  # the runner says in one line which extra to install
    for name in list(logging.root.manager.loggerDict):
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def default_run_root() -> Path | None:
    """Folder of the resumable runs of ``mcvd simulate`` without ``--run-dir``.

    ``$MCVD_RUN_CACHE``, else ``$XDG_CACHE_HOME/mcvd/runs``, else ``~/.cache/mcvd/runs``; a run
    keeps its chunks in a sub-folder named by a hash of its settings while it runs (so Ctrl-C
    keeps them and the same command resumes) and removes them when it completes. None when the
    folder cannot be created (the run then keeps nothing).

    Examples
    --------
    >>> default_run_root().is_dir()
    True
    """
    root = os.environ.get("MCVD_RUN_CACHE")
    if root:
        path = Path(root)
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(cache) / "mcvd" / "runs"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def _method_options() -> dict[str, tuple[dict, list[str]]]:
    """Command-line options of every method: name -> (argparse keywords, methods taking it)."""
    opts: dict[str, tuple[dict, list[str]]] = {}
    for method in METHODS.values():
        for f in dataclasses.fields(method.options):
            meta = dict(f.metadata)
            if not meta.pop("cli", True):
                continue
            if "type" in meta:
                meta["type"] = _TYPES.get(meta["type"], meta["type"])
            spec, takers = opts.setdefault(f.name, (meta, []))
            takers.append(method.name)
    for name, (spec, takers) in opts.items():
        default = METHODS[takers[0]].options.__dataclass_fields__[name].default
        shown = "" if "default" in spec.get("help", "") else f" (default: {default})"
        spec["help"] = f"{spec.get('help', '')}{shown} [{', '.join(takers)}]"
    return opts


def add_simulate_parser(sub) -> None:
    """Register ``mcvd simulate`` and ``mcvd export-smoldyn`` on an argparse sub-parser collection.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        From ``ArgumentParser.add_subparsers()``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="mcvd")
    >>> add_simulate_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["simulate", "s.json", "--molecules", "200", "--dt", "1e-4"])
    >>> args.func is cmd_simulate, args.method, args.molecules, args.dt
    (True, 'fixed-step', 200, 0.0001)
    >>> parser.parse_args(["export-smoldyn", "s.json", "-o", "s.txt"]).func is cmd_export_smoldyn
    True
    """
    p = sub.add_parser(
        "simulate",
        help="particle simulation of a scenario (F(t) with errors)",
        description="Particle simulation of a scenario. Long runs warn with their estimated time "
        "first (those beyond 24 h are refused without --force); Ctrl-C stops within about a "
        "second, keeps the finished chunks and prints the command that resumes.",
    )
    p.add_argument("scenario", help="scenario JSON file")
    p.add_argument("--method", default=DEFAULT_METHOD, choices=sorted(METHODS), help="simulator")
    for name, (spec, _) in _method_options().items():
        p.add_argument("--" + name.replace("_", "-"), dest=name, default=None, **spec)
    p.add_argument(
        "--molecules",
        type=count,
        default=None,
        help="molecules, e.g. 100000 or 1e5 (default: the scenario's, split over its "
        "transmitters in proportion)",
    )
    p.add_argument("--seed", type=nonnegative_int, default=0, help="root seed")
    p.add_argument(
        "--times", default=None, help="comma-separated times (s) to report (default: 10 up to end)"
    )
    p.add_argument("--json", action="store_true", help="print JSON (times, F, F_se, ...)")
    p.add_argument("-o", "--output", default=None, help="save the result (.npz; default: none)")
    p.add_argument(
        "--run-dir",
        default=None,
        help="directory of chunk files, kept (default: a folder under ~/.cache/mcvd/runs, "
        "removed when the run completes; either way the same command resumes)",
    )
    p.add_argument(
        "--chunk-size",
        type=positive_int,
        default=None,
        help="molecules per chunk (default: about 1 s of work on one thread)",
    )
    p.add_argument(
        "--workers", type=positive_int, default=None, help="local worker processes (default: cores)"
    )
    p.add_argument(
        "--scheduler", default=None, help="dask scheduler address tcp://host:port (default: local)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--force", action="store_true", help="run even if estimated beyond 24 h")
    p.set_defaults(func=cmd_simulate)
    e = sub.add_parser("export-smoldyn", help="write an equivalent Smoldyn configuration file")
    e.add_argument("scenario", help="scenario JSON file")
    e.add_argument("-o", "--output", required=True, help="Smoldyn configuration file to write")
    e.add_argument(
        "--dt", type=positive_float, default=None, help="time step (s; default: the scenario's)"
    )
    e.add_argument(
        "--molecules", type=count, default=None, help="molecules (default: the scenario's)"
    )
    e.add_argument("--seed", type=nonnegative_int, default=0, help="Smoldyn random_seed")
    e.set_defaults(func=cmd_export_smoldyn)


def cmd_export_smoldyn(args) -> int:
    """Run ``mcvd export-smoldyn`` (see :mod:`mcvd.sim.smoldyn` for the differences).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``mcvd export-smoldyn`` arguments (``scenario``, ``output``, ``dt`` in s,
        ``molecules``, ``seed``).

    Returns
    -------
    int
        Exit status 0.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from mcvd.cli import build_parser
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 1000},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    ...       "time": {"end": 0.5, "dt": 1e-3}}  # µm, µm²/s, s
    >>> path = os.path.join(tempfile.mkdtemp(), "scenario.json")
    >>> _ = open(path, "w").write(json.dumps(sc))
    >>> out = os.path.join(tempfile.mkdtemp(), "scenario.txt")
    >>> args = build_parser().parse_args(["export-smoldyn", path, "-o", out, "--seed", "7"])
    >>> cmd_export_smoldyn(args)  # doctest: +ELLIPSIS
    wrote ...scenario.txt (Smoldyn counts go to mcvd_counts.txt; F = 1 - count / N)
    0
    >>> lines = open(out).read().splitlines()
    >>> [ln for ln in lines if ln.split()[:1] in (["difc"], ["time_stop"], ["random_seed"])]
    ['difc A 79.4', 'time_stop 0.5', 'random_seed 7']
    """
    from ..sim.smoldyn import write_smoldyn

    path = write_smoldyn(
        args.scenario, args.output, dt=args.dt, n_molecules=args.molecules, seed=args.seed
    )
    print(f"wrote {path} (Smoldyn counts go to mcvd_counts.txt; F = 1 - count / N)")
    return 0


def cmd_simulate(args) -> int:
    """Run ``mcvd simulate`` (see ``mcvd simulate --help``).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``mcvd simulate`` arguments (times in s).

    Returns
    -------
    int
        Exit status 0 (user-input errors raise ``ValueError``, reported by :func:`mcvd.cli.main`;
        Ctrl-C raises :class:`mcvd.sim.runner.RunInterrupted` after the finished chunks were
        kept in the run directory).

    Examples
    --------
    200 molecules with the fixed-step simulator: F(0.5 s) agrees with the analytic half-space
    response within 4 standard errors.

    >>> import contextlib, io, json, os, tempfile
    >>> from mcvd.cli import build_parser
    >>> from mcvd.core.models import response
    >>> from mcvd.core.scenario import as_scenario
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 1000},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    ...       "time": {"end": 0.5, "dt": 1e-3}}  # µm, µm²/s, s
    >>> path = os.path.join(tempfile.mkdtemp(), "scenario.json")
    >>> _ = open(path, "w").write(json.dumps(sc))
    >>> args = build_parser().parse_args(
    ...     ["simulate", path, "--molecules", "200", "--times", "0.5", "--json", "--no-progress"])
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf):
    ...     status = cmd_simulate(args)
    >>> out = json.loads(buf.getvalue())
    >>> status, out["method"], out["n_molecules"], out["times"]
    (0, 'fixed-step', 200, [0.5])
    >>> F_ref = response(as_scenario(sc), [0.5], model="images-ho").F[0]
    >>> bool(abs(out["F"][0] - F_ref) < 4 * out["F_se"][0])
    True
    """
    options = {}
    for name, (_, takers) in _method_options().items():
        value = getattr(args, name)
        if value is None:
            continue
        if args.method not in takers:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} does not apply to --method {args.method}")
        options[name] = value
    times = None if args.times is None else parse_times(args.times)
    if times is not None:  # before the run, not after it
        from ..core.scenario import load_scenario

        horizon = load_scenario(args.scenario).time.end
        if times.max() > horizon * (1 + 1e-9):
            raise ValueError(
                f"--times: {times.max():g} s is beyond the simulated horizon, the scenario's "
                f"time.end = {horizon:g} s"
            )
    if args.output:
        check_output(args.output, suffix=".npz")  # before the run, not after it
    if args.scheduler is not None:
        _quiet_dask()
    if args.run_dir is not None:
        where = {"run_dir": args.run_dir}
    else:
        where = {"run_root": default_run_root(), "keep_run_dir": False}
    res = simulate(
        args.scenario,
        args.method,
        n_molecules=args.molecules,
        seed=args.seed,
        chunk_size=args.chunk_size,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        force=args.force,
        **where,
        **options,
    )
    if args.output:
        res.save(args.output)
    if times is None:
        times = np.linspace(0.0, res.bin_edges[-1], 11)[1:]
        times = res.bin_edges[np.searchsorted(res.bin_edges, times * (1 - 1e-9))]
    resp = res.response(times)
    if args.json:
        out = resp.to_dict()
        out.update(method=args.method, metadata=res.metadata)
        json.dump(json_safe(out), sys.stdout)
        sys.stdout.write("\n")
        return 0
    whose = " (the scenario's)" if args.molecules is None else ""
    print(f"{args.method}: {res.n_molecules} molecules{whose}, seed {res.metadata.get('seed')}")
    head = "t (s)        F          F_se" + "".join(f"     F_rx{q}" for q in range(res.n_receivers))
    print(head)
    for k, t in enumerate(resp.times):
        row = f"{t:<10.4g} {resp.F[k]:<10.6f} {resp.F_se[k]:<10.2e}"
        row += "".join(f" {resp.F_per_receiver[q, k]:<10.6f}" for q in range(res.n_receivers))
        print(row)
    if args.output:
        print(f"saved {args.output}")
    return 0
