"""``mcvd simulate`` and ``mcvd export-smoldyn`` subcommands (registered by :mod:`mcvd.cli`; thin
layers over :func:`mcvd.sim.simulate` and :func:`mcvd.sim.smoldyn.write_smoldyn`)."""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np

from ..core.io import json_safe
from ..sim import DEFAULT_METHOD, METHODS, simulate
from ._common import parse_times


def _method_options() -> dict[str, tuple[dict, list[str]]]:
    """Command-line options of every method: name -> (argparse keywords, methods taking it)."""
    opts: dict[str, tuple[dict, list[str]]] = {}
    for method in METHODS.values():
        for f in dataclasses.fields(method.options):
            meta = dict(f.metadata)
            if not meta.pop("cli", True):
                continue
            spec, takers = opts.setdefault(f.name, (meta, []))
            takers.append(method.name)
    for spec, takers in opts.values():
        spec["help"] = f"{spec.get('help', '')} [{', '.join(takers)}]"
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
    p = sub.add_parser("simulate", help="particle simulation of a scenario (F(t) with errors)")
    p.add_argument("scenario", help="scenario JSON file")
    p.add_argument("--method", default=DEFAULT_METHOD, choices=sorted(METHODS))
    for name, (spec, _) in _method_options().items():
        p.add_argument("--" + name.replace("_", "-"), dest=name, default=None, **spec)
    p.add_argument("--molecules", type=int, default=None, help="molecules (default: scenario's)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--times", default=None, help="comma-separated times (s) to report")
    p.add_argument("--json", action="store_true", help="print JSON (times, F, F_se, ...)")
    p.add_argument("-o", "--output", default=None, help="save the result (.npz)")
    p.add_argument("--run-dir", default=None, help="directory of chunk files (resumable)")
    p.add_argument("--chunk-size", type=int, default=None, help="molecules per chunk")
    p.add_argument("--workers", type=int, default=None, help="local worker processes")
    p.add_argument("--scheduler", default=None, help="dask scheduler address (tcp://host:port)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_simulate)
    e = sub.add_parser("export-smoldyn", help="write an equivalent Smoldyn configuration file")
    e.add_argument("scenario", help="scenario JSON file")
    e.add_argument("-o", "--output", required=True, help="Smoldyn configuration file to write")
    e.add_argument("--dt", type=float, default=None, help="time step (s)")
    e.add_argument("--molecules", type=int, default=None, help="molecules (default: scenario's)")
    e.add_argument("--seed", type=int, default=0, help="Smoldyn random_seed")
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
        Exit status 0 (user-input errors raise ``ValueError``, reported by :func:`mcvd.cli.main`).

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
    res = simulate(
        args.scenario,
        args.method,
        n_molecules=args.molecules,
        seed=args.seed,
        run_dir=args.run_dir,
        chunk_size=args.chunk_size,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
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
    print(f"{args.method}: {res.n_molecules} molecules, seed {res.metadata.get('seed')}")
    head = "t (s)        F          F_se" + "".join(f"     F_rx{q}" for q in range(res.n_receivers))
    print(head)
    for k, t in enumerate(resp.times):
        row = f"{t:<10.4g} {resp.F[k]:<10.6f} {resp.F_se[k]:<10.2e}"
        row += "".join(f" {resp.F_per_receiver[q, k]:<10.6f}" for q in range(res.n_receivers))
        print(row)
    if args.output:
        print(f"saved {args.output}")
    return 0
