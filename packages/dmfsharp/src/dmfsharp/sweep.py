"""Resumable escape-experiment sweeps over depth x width x eta-factor x seed.

Each cell runs :func:`dmfsharp.escape.escape` for one step-size factor on a Gaussian minimizer
with dims ``(width,) * (depth + 1)`` (:func:`dmfsharp.gaussian_minimizer`). Cells run through an
executor: a local process pool by default, the calling process (``executor="serial"``), or a
``dask.distributed`` cluster (``client=``; :func:`connect_scheduler` makes one from an address).

Results: one JSON object per finished cell, appended to a JSON-lines file by the coordinating
process (a single ``write`` of one line, then ``flush`` and ``os.fsync``). Re-running the same sweep
reads the file, skips every cell already there and appends the rest, so a killed sweep loses only
the cells that were in flight. A torn last line (a kill during the write) is cut off on resume;
any other unreadable line is an error. Every record carries ``config_hash``; resuming into a file
written by a different configuration is refused.

Seeds: the minimizer of cell ``(depth, width, seed)`` is drawn from
``SeedSequence(base_seed, spawn_key=(depth, width, seed))``, independent of the executor, the
order of completion and ``eta_factor`` (so all step sizes of one seed see the same minimizer).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, fields
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from .constructors import gaussian_minimizer
from .escape import DIRECTIONS, escape
from .factorization import check_count

__all__ = [
    "SweepCell",
    "SweepConfig",
    "SweepInterrupted",
    "SweepResult",
    "connect_scheduler",
    "example_config_path",
    "load_results",
    "run_cell",
    "run_sweep",
    "sweep_table",
]


def _int_list(value, name: str, minimum: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"{name}: expected a non-empty list of integers, got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < minimum:
            raise ValueError(f"{name}: every entry must be an integer >= {minimum}, got {v!r}")
        out.append(int(v))
    return tuple(out)


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < np.inf:
        raise ValueError(f"{name}: must be a finite number > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class SweepConfig:
    """A sweep grid and the escape settings shared by all its cells.

    Attributes
    ----------
    depths, widths, seeds : tuple of int
        Grid axes (depth >= 1, width >= 1, seed >= 0).
    eta_factors : tuple of float
        Step sizes in units of ``2 / lambda_max`` (> 0).
    steps : int
        Step budget per cell.
    radius : float
        Start distance ``rho`` (escape radius ``1000 * radius``).
    direction : str
        ``"v1"``, ``"vN"`` or ``"random"``.
    scale : float
        Loss scale ``c``.
    base_seed : int
        Root of every cell's ``SeedSequence``.
    output : str
        Default JSON-lines results path (relative paths are relative to the config file when
        loaded with :meth:`from_file`).
    """

    depths: tuple[int, ...]
    widths: tuple[int, ...]
    eta_factors: tuple[float, ...]
    seeds: tuple[int, ...]
    steps: int = 2000
    radius: float = 1e-9
    direction: str = "v1"
    scale: float = 0.5
    base_seed: int = 0
    output: str = "sweep.jsonl"

    def __post_init__(self):
        set_ = object.__setattr__  # frozen: normalize the validated values once
        set_(self, "depths", _int_list(self.depths, "depths", 1))
        set_(self, "widths", _int_list(self.widths, "widths", 1))
        set_(self, "seeds", _int_list(self.seeds, "seeds", 0))
        if not isinstance(self.eta_factors, list | tuple) or not self.eta_factors:
            raise ValueError(f"eta_factors: expected a non-empty list, got {self.eta_factors!r}")
        set_(self, "eta_factors", tuple(_positive(f, "eta_factors") for f in self.eta_factors))
        set_(self, "steps", _int_list([self.steps], "steps", 1)[0])
        set_(self, "base_seed", _int_list([self.base_seed], "base_seed", 0)[0])
        set_(self, "radius", _positive(self.radius, "radius"))
        set_(self, "scale", _positive(self.scale, "scale"))
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction: must be one of {', '.join(DIRECTIONS)}")
        if not isinstance(self.output, str | os.PathLike):
            raise ValueError(f"output: expected a path string, got {self.output!r}")

    @classmethod
    def from_dict(cls, data: dict) -> SweepConfig:
        """Validate a mapping (e.g. parsed JSON); unknown keys are an error.

        Examples
        --------
        >>> cfg = SweepConfig.from_dict({"depths": [3], "widths": [2], "eta_factors": [1.1],
        ...                              "seeds": [0, 1]})
        >>> len(cfg.cells()), cfg.cells()[0].key
        (2, 'depth=3/width=2/eta_factor=1.1/seed=0')
        """
        if not isinstance(data, dict):
            raise ValueError(f"config: expected a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"config: unknown keys {unknown}; allowed: {sorted(known)}")
        missing = sorted({"depths", "widths", "eta_factors", "seeds"} - set(data))
        if missing:
            raise ValueError(f"config: missing required keys {missing}")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> SweepConfig:
        """Read a JSON config; a relative ``output`` is resolved against the file's folder."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"config: {path} is not valid JSON ({exc})") from None
        cfg = cls.from_dict(data)
        out = Path(cfg.output)
        if not out.is_absolute():
            cfg = cls(**{**asdict(cfg), "output": str(path.parent / out)})
        return cfg

    @property
    def config_hash(self) -> str:
        """Hash of every setting that changes a cell's result (not ``output``)."""
        d = asdict(self)
        d.pop("output")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    def cells(self) -> list[SweepCell]:
        """All grid cells, in a fixed order."""
        return [
            SweepCell(*c)
            for c in itertools.product(self.depths, self.widths, self.eta_factors, self.seeds)
        ]


@dataclass(frozen=True)
class SweepCell:
    """One grid point."""

    depth: int
    width: int
    eta_factor: float
    seed: int

    @property
    def key(self) -> str:
        """Stable identifier used for resume."""
        return (
            f"depth={self.depth}/width={self.width}/eta_factor={self.eta_factor!r}/seed={self.seed}"
        )


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    path : Path
        The JSON-lines results file.
    n_cells, n_skipped, n_run : int
        Grid size, cells found already done, cells run now.
    records : list of dict
        All records in the file (old and new), in file order.
    """

    path: Path
    n_cells: int
    n_skipped: int
    n_run: int
    records: list


def cell_seed(config: SweepConfig, cell: SweepCell) -> np.random.SeedSequence:
    """The cell's ``SeedSequence`` (see the module docstring).

    Examples
    --------
    >>> cfg = SweepConfig((3,), (2,), (1.1,), (0, 1), base_seed=5)
    >>> a, b = (cell_seed(cfg, c) for c in cfg.cells())
    >>> a.spawn_key, b.spawn_key, a.entropy
    ((3, 2, 0), (3, 2, 1), 5)
    """
    return np.random.SeedSequence(config.base_seed, spawn_key=(cell.depth, cell.width, cell.seed))


def run_cell(config: SweepConfig, cell: SweepCell) -> dict:
    """Run one cell and return its JSON-ready record (pure function of config and cell).

    Examples
    --------
    >>> cfg = SweepConfig((3,), (2,), (1.1,), (0,), steps=300)
    >>> rec = run_cell(cfg, cfg.cells()[0])
    >>> rec["escaped"], rec["escape_step"], round(rec["predicted_escape_step"], 2)
    (True, 38, 37.89)
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(cell_seed(config, cell))
    fac = gaussian_minimizer((cell.width,) * (cell.depth + 1), rng=rng)
    res = escape(
        fac,
        (cell.eta_factor,),
        steps=config.steps,
        radius=config.radius,
        direction=config.direction,
        scale=config.scale,
        rng=rng,
    )
    summary = res.to_dict()
    run = summary.pop("runs")[0]
    return {
        "key": cell.key,
        **asdict(cell),
        **{k: summary[k] for k in ("lambda_max", "flattest", "eta_flattest", "escape_radius")},
        **run,
        "config_hash": config.config_hash,
        "elapsed_s": time.perf_counter() - t0,
    }


def load_results(path: str | os.PathLike, *, repair: bool = False) -> list[dict]:
    """Read a JSON-lines results file, tolerating a torn (unterminated) last line.

    Parameters
    ----------
    path : str or PathLike
        The file (missing: empty list).
    repair : bool, default False
        Truncate the file after its last complete line, so that appends start on a fresh line.

    Returns
    -------
    list of dict

    Raises
    ------
    ValueError
        A complete line that is not valid JSON (one line naming the line number).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "results.jsonl")
    >>> _ = open(path, "w").write('{"key": "a", "escaped": true}\\n{"key": "b", "esc')  # torn
    >>> load_results(path)
    [{'key': 'a', 'escaped': True}]
    >>> _ = load_results(path, repair=True)
    >>> open(path).read()
    '{"key": "a", "escaped": true}\\n'
    >>> load_results(os.path.join(tempfile.mkdtemp(), "missing.jsonl"))
    []
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1  # complete lines end at `end`
    if repair and end < len(data):
        os.truncate(path, end)
    records = []
    for i, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"output: line {i} of {path} is not valid JSON") from None
        records.append(rec)
    return records


def _append(fh, record: dict) -> None:
    fh.write(json.dumps(record, allow_nan=False) + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def example_config_path():
    """The example sweep configuration shipped with the package (``examples/sweep.json``: 24
    cells, depths 2-4, widths 2-3, ~1 s in all on one core).

    Returns
    -------
    importlib.resources.abc.Traversable
        Read it with ``.read_text()``; ``dmfsharp example sweep.json`` copies it.

    Examples
    --------
    >>> cfg = SweepConfig.from_dict(json.loads(example_config_path().read_text()))
    >>> len(cfg.cells())
    24
    """
    from importlib.resources import files

    return files("dmfsharp") / "examples" / "sweep.json"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_sweep`: every finished cell is in ``path``; running the same
    sweep again resumes.

    Attributes
    ----------
    path : Path
        The results file.
    n_done : int
        Cells in the file (finished before or during this run).
    n_cells : int
        Grid size.
    """

    def __init__(self, path: Path, n_done: int, n_cells: int):
        super().__init__(f"kept {n_done} of {n_cells} cells in {path}")
        self.path, self.n_done, self.n_cells = path, n_done, n_cells


def connect_scheduler(address: str, timeout: float = 10.0):
    """A ``dask.distributed.Client`` for ``address``, failing within ``timeout`` seconds.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``"tcp://host:8786"``.
    timeout : float, default 10.0
        Connection timeout (s).

    Returns
    -------
    distributed.Client
        Close it when done.

    Raises
    ------
    ValueError
        One line naming the address when no scheduler answers in time (or the address is
        malformed).

    Examples
    --------
    Nothing listens on port 9 of this machine, so the call fails within the 0.5 s timeout:

    >>> connect_scheduler("tcp://127.0.0.1:9", timeout=0.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: scheduler: cannot connect to 'tcp://127.0.0.1:9' within 0.5 s (...)
    """
    from ._optional import require

    Client = require("distributed", "dask", "a Dask scheduler (--scheduler)").Client
    try:
        return Client(address, timeout=timeout)
    except Exception as exc:  # OSError/TimeoutError/ValueError from comm layer
        msg = " ".join(str(exc).split())
        raise ValueError(
            f"scheduler: cannot connect to {address!r} within {timeout:g} s ({msg})"
        ) from None


# Most often a script that starts the pool at import time: spawned workers re-import __main__.
SPAWN_HINT = (
    "executor: the local process pool broke (a worker died); if this runs from a script, put the "
    "call under `if __name__ == '__main__':` (workers are spawned and re-import the script), or "
    "use executor='serial'"
)


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C in a terminal reaches the whole process group; the workers
    leave it to the coordinating process, which stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel pending cells and end the running ones now (a cell in flight is recomputed on
    resume; the finished ones are in the results file)."""
    pool.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.join(timeout=5)


def _local_results(config, todo, max_workers) -> Iterator[dict]:
    pool = ProcessPoolExecutor(
        max_workers=max_workers, mp_context=get_context("spawn"), initializer=_ignore_sigint
    )
    futures = [pool.submit(run_cell, config, cell) for cell in todo]
    try:
        for fut in as_completed(futures):
            yield fut.result()
    except BrokenProcessPool:
        raise RuntimeError(SPAWN_HINT) from None
    except BaseException:  # KeyboardInterrupt, GeneratorExit: stop the workers at once
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _dask_results(config, todo, client) -> Iterator[dict]:
    from distributed import as_completed as dask_as_completed

    futures = [client.submit(run_cell, config, cell, pure=False) for cell in todo]
    try:
        for fut in dask_as_completed(futures):
            yield fut.result()
    finally:
        client.cancel(futures)


def run_sweep(
    config: SweepConfig,
    *,
    output: str | os.PathLike | None = None,
    client=None,
    executor: str = "process",
    max_workers: int | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run (or resume) a sweep, appending one JSON line per finished cell.

    Parameters
    ----------
    config : SweepConfig
        The grid.
    output : str or PathLike, optional
        Results file (default ``config.output``).
    client : dask.distributed.Client, optional
        Run the cells on this cluster (overrides ``executor``).
    executor : {"process", "serial"}, default "process"
        Local process pool (``spawn`` start method) or the calling process.
    max_workers : int, optional
        Process-pool size (default: ``os.cpu_count()``).
    progress : bool, default True
        Show a tqdm progress bar (on stderr).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import tempfile, os
    >>> cfg = SweepConfig((2,), (2,), (0.9, 1.1), (0,), steps=200)
    >>> path = os.path.join(tempfile.mkdtemp(), "s.jsonl")
    >>> res = run_sweep(cfg, output=path, executor="serial", progress=False)
    >>> res.n_run, run_sweep(cfg, output=path, executor="serial", progress=False).n_skipped
    (2, 2)
    """
    from tqdm.auto import tqdm

    if not isinstance(config, SweepConfig):
        raise TypeError(f"config: expected a SweepConfig, got {type(config).__name__}")
    if executor not in ("process", "serial"):
        raise ValueError(f"executor: must be 'process' or 'serial', got {executor!r}")
    if max_workers is not None:
        max_workers = check_count(max_workers, "max_workers")
    path = Path(config.output if output is None else output)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = load_results(path, repair=True)
    foreign = [r for r in old if r.get("config_hash") != config.config_hash]
    if foreign:
        raise ValueError(
            f"output: {path} holds {len(foreign)} results of a different sweep configuration; "
            "use another output file"
        )
    done = {r["key"] for r in old}
    cells = config.cells()
    todo = [c for c in cells if c.key not in done]
    new: list[dict] = []
    if todo:
        if client is not None:
            results = _dask_results(config, todo, client)
        elif executor == "serial":
            results = (run_cell(config, c) for c in todo)
        else:
            results = _local_results(config, todo, max_workers)
        try:
            with (
                path.open("a", encoding="utf-8") as fh,
                tqdm(total=len(todo), desc="sweep", disable=not progress) as bar,
            ):
                for rec in results:
                    _append(fh, rec)
                    new.append(rec)
                    bar.update()
        except KeyboardInterrupt:
            close = getattr(results, "close", None)
            if close is not None:
                close()  # stops the pool / cancels the Dask futures
            # the file is the record of what was kept: a Ctrl-C between a written line and
            # ``new.append`` must not under-count it (a torn last line is not counted)
            raise SweepInterrupted(path, len(load_results(path)), len(cells)) from None
    return SweepResult(
        path=path,
        n_cells=len(cells),
        n_skipped=len(cells) - len(todo),
        n_run=len(new),
        records=old + new,
    )


def sweep_table(records: Sequence[dict]) -> str:
    """Markdown summary per (depth, width, eta_factor): escapes, step error, outcomes.

    Examples
    --------
    >>> print(sweep_table([]).splitlines()[0])
    | depth | width | eta factor | runs | escaped | max abs(step - predicted) | outcomes |
    """
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault((r["depth"], r["width"], r["eta_factor"]), []).append(r)
    rows = [
        "| depth | width | eta factor | runs | escaped | max abs(step - predicted) | outcomes |",
        "|---|---|---|---|---|---|---|",
    ]
    for (d, w, f), rs in sorted(groups.items()):
        errs = [
            abs(r["escape_step"] - r["predicted_escape_step"])
            for r in rs
            if r["escape_step"] is not None and r["predicted_escape_step"] is not None
        ]
        outcomes: dict[str, int] = {}
        for r in rs:
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        err = f"{max(errs):.3f}" if errs else "—"
        out = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        rows.append(
            f"| {d} | {w} | {f:g} | {len(rs)} | {sum(r['escaped'] for r in rs)} | {err} | {out} |"
        )
    return "\n".join(rows)
