"""Chunked, resumable, distributable execution of a particle-simulation kernel.

A *kernel* is a picklable top-level function ``kernel(params, task) -> SimulationResult`` that
simulates the molecules ``task.start ... task.start + task.count - 1`` of a run. The runner

* splits ``n_molecules`` into chunks (:class:`ChunkTask`), each carrying the run seed; its
  random stream is ``task.seed_sequence`` (``SeedSequence(seed).spawn(...)[task.index]``), or,
  for kernels that key streams by molecule (both simulators), ``task.key`` plus the global
  molecule index — either way the result does not depend on scheduling or thread count;
* sizes the chunks from the method's estimated cost so that one chunk takes about
  :data:`CHUNK_SECONDS` on one thread (Ctrl-C is honoured between chunks; little work is lost);
* estimates the run time first: a run expected to take more than :data:`WARN_SECONDS` warns
  (:class:`LongRunWarning`), one expected to take more than :data:`MAX_SECONDS` is refused
  unless ``force=True``;
* runs the chunks inline, in a local process pool (default when there is more than one chunk and
  the run is not too short to pay for starting the pool), or on dask.distributed (``client=`` or
  ``scheduler="ADDRESS"``);
* writes every finished chunk atomically to ``run_dir`` (``chunk-000012.npz``) next to a
  ``manifest.json`` describing the run; each chunk file carries what it is (run key, chunk index,
  seed stream, molecule range, kernel) and a SHA-256 checksum, verified when a later call with
  the same ``run_dir`` resumes: finished chunks are loaded, damaged or foreign ones are reported
  (:class:`RunDirWarning`, one line) and recomputed, only the missing ones run;
* on Ctrl-C cancels pending chunks, stops the workers, keeps the finished chunks and raises
  :class:`RunInterrupted` (a ``KeyboardInterrupt`` saying what was kept);
* merges the chunk results in chunk order (exact) and shows a tqdm progress bar.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._version import __version__
from ..core.io import atomic_write, json_safe
from .result import ResultFileError, SimulationResult

__all__ = [
    "CHUNK_SECONDS",
    "MAX_MOLECULES",
    "MAX_SECONDS",
    "WARN_SECONDS",
    "ChunkTask",
    "LongRunWarning",
    "RunDirWarning",
    "RunInterrupted",
    "check_run_time",
    "chunk_tasks",
    "default_chunk_size",
    "format_duration",
    "resolve_seed",
    "run_chunks",
    "run_key",
]

#: default seconds to wait for a dask scheduler before giving up
DEFAULT_CONNECT_TIMEOUT = 10.0

#: estimated seconds of one chunk on one thread that the default chunk size aims at
CHUNK_SECONDS = 1.0

#: a run estimated to take longer than this (s, wall clock) warns before it starts
WARN_SECONDS = 60.0

#: a run estimated to take longer than this (s, wall clock: 24 h) is refused unless forced
MAX_SECONDS = 24 * 3600.0

#: largest number of molecules of one run, forced or not (2**53: counts stay exact as floats)
MAX_MOLECULES = 2**53

#: most chunks of one run (a run of more molecules gets larger chunks than the cost suggests)
MAX_CHUNKS = 100_000

#: a run estimated to take less than this on one thread runs inline (starting a process pool
#: costs about this much)
POOL_MIN_SECONDS = 2.0


class LongRunWarning(UserWarning):
    """A run is estimated to take longer than :data:`WARN_SECONDS` (the message gives the estimate)."""


class RunDirWarning(UserWarning):
    """A chunk file in a run directory was unreadable or not the chunk it should be; it is
    recomputed (the message names the file and what was wrong)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C (``KeyboardInterrupt``) during a run, after the finished chunks were kept.

    Attributes
    ----------
    chunks_done, n_chunks : int
        Finished chunks and all chunks of the run.
    molecules_done, n_molecules : int
        Molecules of the finished chunks and of the run.
    run_dir : Path or None
        Where the finished chunks are (None: no run directory, nothing kept).

    Examples
    --------
    >>> str(RunInterrupted(3, 10, 300, 1000, None))
    'interrupted after 3 of 10 chunks (300 of 1000 molecules); nothing kept (no run directory)'
    """

    def __init__(self, chunks_done, n_chunks, molecules_done, n_molecules, run_dir):
        self.chunks_done, self.n_chunks = int(chunks_done), int(n_chunks)
        self.molecules_done, self.n_molecules = int(molecules_done), int(n_molecules)
        self.run_dir = None if run_dir is None else Path(run_dir)
        if self.run_dir is None:
            kept = "nothing kept (no run directory)"
        elif self.chunks_done == 0:
            kept = f"no chunk had finished yet (run directory {self.run_dir})"
        else:
            kept = f"finished chunks kept in {self.run_dir}"
        super().__init__(
            f"interrupted after {self.chunks_done} of {self.n_chunks} chunks "
            f"({self.molecules_done} of {self.n_molecules} molecules); {kept}"
        )


def format_duration(seconds: float) -> str:
    """A duration for messages: ``"45 s"``, ``"12 min"``, ``"3.2 h"``, ``"41 days"``.

    Examples
    --------
    >>> format_duration(42.0), format_duration(720.0), format_duration(2.8e6)
    ('42 s', '12 min', '32 days')
    """
    if seconds < 100:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 6000:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.2g} h"
    return f"{seconds / 86400:.0f} days"


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of a run: molecules ``start ... start + count - 1``.

    Attributes
    ----------
    index : int
        Chunk index (0-based).
    start : int
        Global index of the first molecule.
    count : int
        Number of molecules.
    seed : int
        The run's root seed (entropy of ``numpy.random.SeedSequence``).

    Examples
    --------
    >>> t = ChunkTask(index=2, start=200, count=100, seed=7)
    >>> t.seed_sequence.spawn_key
    (2,)
    """

    index: int
    start: int
    count: int
    seed: int

    @property
    def seed_sequence(self) -> np.random.SeedSequence:
        """``SeedSequence(seed).spawn(n)[index]`` (independent of the number of chunks)."""
        return np.random.SeedSequence(self.seed, spawn_key=(self.index,))

    @property
    def key(self) -> tuple[int, int]:
        """The run key :func:`run_key` ``(seed)`` (the same for every chunk of a run)."""
        return run_key(self.seed)


def run_key(seed: int) -> tuple[int, int]:
    """Two 64-bit words from ``SeedSequence(seed)`` for counter-based per-molecule streams.

    Parameters
    ----------
    seed : int
        The run's root seed (non-negative).

    Returns
    -------
    (int, int)

    Examples
    --------
    >>> run_key(7) == ChunkTask(index=3, start=300, count=100, seed=7).key
    True
    """
    k = np.random.SeedSequence(seed).generate_state(2, dtype=np.uint64)
    return int(k[0]), int(k[1])


def resolve_seed(seed) -> int:
    """Return an integer root seed (fresh OS entropy when ``seed`` is None).

    Parameters
    ----------
    seed : int, numpy.random.SeedSequence or None
        Non-negative integer, a SeedSequence (its entropy is used) or None.

    Returns
    -------
    int

    Examples
    --------
    >>> resolve_seed(5)
    5
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key:
            raise ValueError("seed: pass a root SeedSequence (no spawn_key) or an integer")
        return int(seed.entropy)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def check_count(value, name: str, minimum: int = 1, maximum: int = MAX_MOLECULES) -> int:
    """Return an integer count, or raise a one-line error naming ``name``.

    Parameters
    ----------
    value : int
        The count (a bool or a non-integer is a TypeError).
    name : str
        Argument name used in the error message.
    minimum, maximum : int
        Allowed range (ValueError outside it; the default maximum is :data:`MAX_MOLECULES`).

    Returns
    -------
    int

    Examples
    --------
    >>> check_count(5, "n_molecules")
    5
    >>> check_count(2**63, "n_molecules")
    Traceback (most recent call last):
    ...
    ValueError: n_molecules must be <= 2**53 = 9007199254740992, got 9223372036854775808
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if value > maximum:
        limit = "2**53 = 9007199254740992" if maximum == 2**53 else str(maximum)
        raise ValueError(f"{name} must be <= {limit}, got {value}")
    return value


def default_chunk_size(n_molecules: int, cost: float | None = None) -> int:
    """Default molecules per chunk.

    About 20 chunks of 10 000 to 1 000 000 molecules, and, when the estimated ``cost`` per
    molecule is known, at most what one thread simulates in :data:`CHUNK_SECONDS` (so Ctrl-C
    is honoured within about a second and an interruption loses little work) — but never more
    than :data:`MAX_CHUNKS` chunks.

    Parameters
    ----------
    n_molecules : int
        Molecules of the run.
    cost : float, optional
        Estimated seconds per molecule on one thread.

    Returns
    -------
    int

    Examples
    --------
    >>> default_chunk_size(10**8)
    1000000
    >>> default_chunk_size(10**6, cost=20_000 / 3e7)   # fixed step: 20 000 steps per molecule
    1500
    """
    size = int(min(1_000_000, max(10_000, math.ceil(n_molecules / 20))))
    if cost is not None and cost > 0:
        size = min(size, max(1, int(CHUNK_SECONDS / cost)))
    return max(size, math.ceil(n_molecules / MAX_CHUNKS))


def chunk_tasks(n_molecules: int, chunk_size: int, seed: int) -> list[ChunkTask]:
    """Split ``n_molecules`` into consecutive chunks of at most ``chunk_size`` molecules.

    Examples
    --------
    >>> [(t.start, t.count) for t in chunk_tasks(25, 10, seed=0)]
    [(0, 10), (10, 10), (20, 5)]
    """
    n_molecules = check_count(n_molecules, "n_molecules")
    chunk_size = check_count(chunk_size, "chunk_size")
    starts = range(0, n_molecules, chunk_size)
    return [ChunkTask(i, s, min(chunk_size, n_molecules - s), seed) for i, s in enumerate(starts)]


def _describe(params) -> dict:
    """JSON-able description of kernel parameters (for the run manifest)."""
    if dataclasses.is_dataclass(params):
        params = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    return json_safe(params)


def _manifest(kernel, params, n_molecules, chunk_size, seed) -> dict:
    return {
        "kernel": f"{kernel.__module__}.{kernel.__qualname__}",
        "params": _describe(params),
        "n_molecules": int(n_molecules),
        "chunk_size": int(chunk_size),
        "seed": int(seed),
        "version": __version__,
    }


def _run_hash(manifest: dict) -> str:
    """Key of a run: the first 16 hex digits of the SHA-256 of its manifest."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]


def _identity(manifest: dict, run: str, task: ChunkTask) -> dict:
    """What a chunk file holds: run key, chunk index, seed stream, molecule range, kernel."""
    return {
        "run": run,
        "chunk": task.index,
        "start": task.start,
        "count": task.count,
        "seed": task.seed,
        "spawn_key": [task.index],
        "kernel": manifest["kernel"],
    }


def _chunk_path(run_dir: Path, index: int) -> Path:
    return run_dir / f"chunk-{index:06d}.npz"


def _prepare_run_dir(run_dir: Path, manifest: dict, tasks) -> dict[int, SimulationResult]:
    """Create or check ``run_dir``; return the verified finished chunks found there."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"run_dir {run_dir} is a file, not a directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    mpath = run_dir / "manifest.json"
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"run_dir {run_dir}: manifest.json is unreadable ({type(exc).__name__}); "
                "remove the folder or use a new run_dir"
            ) from None
        if old != manifest:
            keys = set(old) | set(manifest) if isinstance(old, dict) else set(manifest)
            diff = sorted(
                k for k in keys if not isinstance(old, dict) or old.get(k) != manifest.get(k)
            )
            raise ValueError(
                f"run_dir {run_dir} holds a different run ({', '.join(diff)} differ); "
                "use a new run_dir to start a new run"
            )
    else:
        text = json.dumps(manifest, indent=1)
        atomic_write(mpath, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    for stray in run_dir.glob(".chunk-*.tmp"):  # a write killed before its os.replace
        stray.unlink(missing_ok=True)
    run = _run_hash(manifest)
    done = {}
    for task in tasks:
        p = _chunk_path(run_dir, task.index)
        if not p.exists():
            continue
        try:
            done[task.index] = SimulationResult.load(p, identity=_identity(manifest, run, task))
        except ResultFileError as exc:
            warnings.warn(RunDirWarning(f"{exc}; recomputing chunk {task.index}"), stacklevel=3)
            p.unlink(missing_ok=True)
    return done


def _remove_run_dir(run_dir: Path, tasks) -> None:
    """Delete a finished run's chunk files and manifest (and the folder if it is then empty)."""
    for task in tasks:
        _chunk_path(run_dir, task.index).unlink(missing_ok=True)
    (run_dir / "manifest.json").unlink(missing_ok=True)
    try:
        run_dir.rmdir()
    except OSError:
        pass


def _init_worker(threads: int) -> None:
    """Process-pool initializer: limit the threads of each worker process, ignore Ctrl-C.

    The terminal sends SIGINT to the whole process group; the parent handles it (it keeps the
    finished chunks and terminates the workers), so the workers must not die with tracebacks.
    A watchdog thread ends a worker whose parent died without stopping it (SIGKILL).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """Worker watchdog: exit when the parent is gone (killed before it could stop the pool),
    instead of running the queued chunks for nobody."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _local_threads() -> int:
    """Threads available to this process (CPU affinity where the OS reports it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _connect(scheduler: str, timeout: float):
    from ..core.extras import require

    require("distributed", "scheduler= (running on a dask cluster)")
    from distributed import Client

    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConnectionError(
            f"scheduler {scheduler!r}: could not connect within {timeout:g} s ({msg})"
        ) from None


def check_run_time(seconds: float, how: str, force: bool = False, *, warn: bool = True) -> None:
    """Refuse a run estimated beyond :data:`MAX_SECONDS` (unless forced); warn beyond
    :data:`WARN_SECONDS` (:class:`LongRunWarning`).

    Parameters
    ----------
    seconds : float
        Estimated wall-clock time (s).
    how : str
        How the estimate was made (for the message), e.g. ``"1e12 molecules x ..."``.
    force : bool
        Do not refuse.
    warn : bool
        Warn beyond :data:`WARN_SECONDS` (False: only refuse).

    Raises
    ------
    ValueError
        Estimated beyond :data:`MAX_SECONDS` and not ``force``.

    Examples
    --------
    >>> check_run_time(5.0, "a short run")
    >>> check_run_time(2.8e6, "1e12 molecules")
    Traceback (most recent call last):
    ...
    ValueError: the run is estimated to take 32 days (1e12 molecules), more than the 24 h limit; use fewer molecules (or a coarser dt), or force it (force=True, --force)
    """
    if seconds > MAX_SECONDS and not force:
        raise ValueError(
            f"the run is estimated to take {format_duration(seconds)} ({how}), more than the "
            f"{format_duration(MAX_SECONDS)} limit; use fewer molecules (or a coarser dt), or "
            "force it (force=True, --force)"
        )
    if warn and seconds > WARN_SECONDS:
        warnings.warn(
            LongRunWarning(
                f"estimated run time {format_duration(seconds)} ({how}); Ctrl-C stops it and "
                "keeps the finished work for a resume"
            ),
            stacklevel=3,
        )


def _estimate(cost: float, molecules: int, threads: int) -> tuple[float, str]:
    """Wall seconds of ``molecules`` at ``cost`` s each on one thread, spread over ``threads``,
    and how that was estimated (the arguments of :func:`check_run_time`)."""
    how = (
        f"{molecules} molecules x ~{cost:.2g} s per molecule on one thread, "
        f"{threads} thread{'s' if threads > 1 else ''}"
    )
    return cost * molecules / threads, how


def run_chunks(
    kernel: Callable,
    params,
    n_molecules: int,
    *,
    seed=None,
    chunk_size: int | None = None,
    run_dir: str | Path | None = None,
    run_root: str | Path | None = None,
    keep_run_dir: bool = True,
    executor: str | None = None,
    workers: int | None = None,
    client=None,
    scheduler: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    progress: bool = False,
    cost: float | None = None,
    force: bool = False,
) -> SimulationResult:
    """Run ``kernel`` over ``n_molecules`` molecules in chunks and merge the results.

    Parameters
    ----------
    kernel : callable
        Picklable top-level function ``kernel(params, task: ChunkTask) -> SimulationResult``
        returning the result of molecules ``task.start ... task.start + task.count - 1``; it must
        depend only on ``params`` and ``task`` (so that scheduling cannot change the result).
    params : object
        Picklable kernel parameters (a dataclass is described in the run manifest).
    n_molecules : int
        Total molecules (1 to :data:`MAX_MOLECULES`).
    seed : int, SeedSequence or None
        Root seed; None draws fresh entropy (recorded in ``metadata["seed"]``).
    chunk_size : int, optional
        Molecules per chunk (default :func:`default_chunk_size` of ``n_molecules`` and ``cost``).
    run_dir : str or Path, optional
        Directory for atomic chunk files and the manifest; re-running with the same directory
        and arguments resumes from the finished chunks (each verified by its checksum and
        identity; a damaged or foreign chunk warns and is recomputed). A directory holding a
        different run is refused.
    run_root : str or Path, optional
        Instead of ``run_dir``: a folder of runs, this run's directory being
        ``run_root/run-<key>`` with ``<key>`` a hash of the run's settings (so every run of a
        study, started again, finds its own chunks).
    keep_run_dir : bool
        Keep the run directory after the run completes (default); False removes its chunk files
        and manifest (it then only serves to resume an interrupted run).
    executor : {"inline", "process", "dask"}, optional
        Default: ``"dask"`` when ``client``/``scheduler`` is given, else ``"process"`` (a local
        spawn-based process pool, each worker limited to ``cpu_count // workers`` threads)
        when more than one chunk is pending, ``workers != 1`` and the estimated run time on one
        thread exceeds :data:`POOL_MIN_SECONDS` (or ``cost`` is unknown), else ``"inline"``.
    workers : int, optional
        Process-pool size (default ``os.cpu_count()``).
    client : distributed.Client, optional
        Run the chunks on this dask cluster.
    scheduler : str, optional
        Address of a dask scheduler (``"tcp://host:8786"``) to connect to.
    connect_timeout : float
        Seconds to wait for the scheduler; then a one-line ConnectionError.
    progress : bool
        Show a tqdm progress bar (molecules).
    cost : float, optional
        Estimated seconds per molecule on one thread (the simulators' planners provide it):
        sets the default chunk size and the run-time estimate (warning beyond
        :data:`WARN_SECONDS`, refusal beyond :data:`MAX_SECONDS`).
    force : bool
        Run even when the estimate exceeds :data:`MAX_SECONDS`.

    Returns
    -------
    SimulationResult
        Merged in chunk order; ``metadata`` gains ``seed``, ``n_chunks``, ``chunk_size``.

    Raises
    ------
    ValueError
        Bad arguments, a run estimated beyond :data:`MAX_SECONDS` (unless ``force``), or a
        ``run_dir`` holding a different run.
    ConnectionError
        The dask scheduler could not be reached, or was lost during the run (the finished
        chunks are in the run directory: calling again resumes).
    RunInterrupted
        Ctrl-C: pending chunks were cancelled, the workers stopped, the finished chunks kept.

    Examples
    --------
    >>> from mcvd.sim.runner import run_chunks, ChunkTask
    >>> from mcvd.sim.result import SimulationResult
    >>> r = run_chunks(_example_kernel, 0.3, 1000, seed=1, chunk_size=300, executor="inline")
    >>> r.n_molecules, r.metadata["n_chunks"]
    (1000, 4)
    """
    seed = resolve_seed(seed)
    n_molecules = check_count(n_molecules, "n_molecules")
    if cost is not None and not (
        isinstance(cost, (int, float)) and math.isfinite(cost) and cost >= 0
    ):
        raise ValueError(f"cost must be a finite number >= 0 (s per molecule), got {cost!r}")
    chunk_size = default_chunk_size(n_molecules, cost) if chunk_size is None else chunk_size
    chunk_size = check_count(chunk_size, "chunk_size")
    if math.ceil(n_molecules / chunk_size) > MAX_CHUNKS:
        raise ValueError(
            f"chunk_size {chunk_size} makes more than {MAX_CHUNKS} chunks of {n_molecules} "
            f"molecules; give chunk_size >= {math.ceil(n_molecules / MAX_CHUNKS)}"
        )
    if cost is not None and client is None and scheduler is None:
        # refuse before any work: a local run is estimated over the local threads
        check_run_time(*_estimate(cost, n_molecules, _local_threads()), force, warn=False)
    tasks = chunk_tasks(n_molecules, chunk_size, seed)
    if executor not in (None, "inline", "process", "dask"):
        raise ValueError(f"executor must be 'inline', 'process' or 'dask', got {executor!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1
    ):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if (client is not None or scheduler is not None) and executor not in (None, "dask"):
        raise ValueError(f"client/scheduler need executor='dask', got executor={executor!r}")
    if run_dir is not None and run_root is not None:
        raise ValueError("give run_dir or run_root, not both")
    manifest = _manifest(kernel, params, n_molecules, chunk_size, seed)
    run = _run_hash(manifest)
    if run_root is not None:
        run_dir = Path(run_root) / f"run-{run}"
    run_dir = None if run_dir is None else Path(run_dir)
    done: dict[int, SimulationResult] = {}
    if run_dir is not None:
        done = _prepare_run_dir(run_dir, manifest, tasks)
    pending = [t for t in tasks if t.index not in done]
    single_thread = None if cost is None else cost * sum(t.count for t in pending)
    if executor is None:
        if client is not None or scheduler is not None:
            executor = "dask"
        elif (
            len(pending) > 1
            and workers != 1
            and (single_thread is None or single_thread > POOL_MIN_SECONDS)
        ):
            executor = "process"
        else:
            executor = "inline"
    if executor == "dask" and client is None and scheduler is None:
        raise ValueError("executor='dask' needs client= or scheduler=")
    own_client = executor == "dask" and client is None
    if own_client:
        client = _connect(scheduler, connect_timeout)
    try:
        if cost is not None and pending:
            threads = _local_threads()
            if executor == "dask":
                threads = max(1, sum(client.nthreads().values()))
            check_run_time(*_estimate(cost, sum(t.count for t in pending), threads), force)
        return _execute(
            kernel, params, tasks, pending, done, manifest, run, run_dir, keep_run_dir,
            executor, workers, client, progress,
        )  # fmt: skip
    finally:
        if own_client:
            client.close()


def _execute(
    kernel, params, tasks, pending, done, manifest, run, run_dir, keep_run_dir, executor,
    workers, client, progress,
) -> SimulationResult:  # fmt: skip
    """Run the pending chunks (see :func:`run_chunks`), keep them, merge the run."""
    from tqdm.auto import tqdm

    n_molecules = manifest["n_molecules"]
    bar = tqdm(
        total=n_molecules,
        initial=sum(r.n_molecules for r in done.values()),
        unit="mol",
        unit_scale=True,
        disable=not progress,
        desc="simulate",
    )

    def finish(task: ChunkTask, res: SimulationResult) -> None:
        if not isinstance(res, SimulationResult) or res.n_molecules != task.count:
            raise RuntimeError(f"kernel returned a bad result for chunk {task.index}")
        if run_dir is not None:
            res.save(_chunk_path(run_dir, task.index), identity=_identity(manifest, run, task))
        done[task.index] = res
        bar.update(task.count)

    try:
        if not pending:
            pass
        elif executor == "inline":
            for task in pending:
                finish(task, kernel(params, task))
        elif executor == "process":
            _run_pool(kernel, params, pending, finish, workers)
        else:
            _run_dask(kernel, params, pending, finish, client, done, len(tasks), run_dir)
    except KeyboardInterrupt:
        bar.close()
        if run_dir is not None and not done and not keep_run_dir:
            _remove_run_dir(run_dir, tasks)  # nothing to resume from
            run_dir = None
        molecules = sum(r.n_molecules for r in done.values())
        raise RunInterrupted(len(done), len(tasks), molecules, n_molecules, run_dir) from None
    finally:
        bar.close()
    merged = SimulationResult.merge([done[t.index] for t in tasks])
    if run_dir is not None and not keep_run_dir:
        _remove_run_dir(run_dir, tasks)
    meta = dict(
        merged.metadata,
        seed=manifest["seed"],
        n_chunks=len(tasks),
        chunk_size=manifest["chunk_size"],
    )
    return dataclasses.replace(merged, metadata=meta)


# Most often a script that starts the pool at import time: spawned workers re-import __main__.
SPAWN_HINT = (
    "executor: the local process pool broke (a worker died); if this runs from a script, put the "
    "call under `if __name__ == '__main__':` (workers are spawned and re-import the script), or "
    "pass executor='inline'"
)


def _run_pool(kernel, params, pending, finish, workers) -> None:
    """Run the chunks in a spawn-based process pool; on any exit but success, keep what has
    finished, cancel the rest and terminate the workers (they may be deep in a numba call that
    no signal interrupts)."""
    n_proc = min(workers or os.cpu_count() or 1, len(pending))
    threads = max(1, (os.cpu_count() or 1) // n_proc)
    ctx = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(n_proc, ctx, _init_worker, (threads,))
    futs: dict = {}
    try:
        futs = {pool.submit(kernel, params, t): t for t in pending}
        for fut in cf.as_completed(futs):
            finish(futs[fut], fut.result())
    except BaseException as exc:
        _keep_finished(futs, finish)
        _stop_pool(pool)
        if isinstance(exc, cf.process.BrokenProcessPool):
            raise RuntimeError(SPAWN_HINT) from None
        raise
    pool.shutdown(wait=True)


def _keep_finished(futs: dict, finish) -> None:
    """Keep the chunks whose futures finished but were not collected yet (best effort)."""
    for fut, task in futs.items():
        try:
            if fut.done() and not fut.cancelled() and fut.exception(timeout=0) is None:
                finish(task, fut.result(timeout=0))
        except Exception:  # a chunk that cannot be kept is recomputed later
            pass


def _stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel the pending futures and terminate the worker processes now."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # no public API < 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(timeout=2.0)
        if proc.is_alive():  # pragma: no cover - SIGTERM is not ignored by the workers
            proc.kill()
            proc.join(timeout=2.0)


def _run_dask(kernel, params, pending, finish, client, done, n_chunks, run_dir) -> None:
    from distributed import as_completed

    futs = {client.submit(kernel, params, t, pure=False): t for t in pending}
    try:
        for fut in as_completed(list(futs)):
            try:
                res = fut.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # dask's CancelledError is not always an Exception
                lost = _dask_lost(exc)
                if lost is None:  # the kernel's own error: raised as it is
                    raise
                k = len(done)
                where = (
                    f"{k} finished chunk{'s' if k != 1 else ''} kept in {run_dir}: run it "
                    "again to resume from the run directory"
                    if run_dir is not None
                    else "nothing was kept (give a run directory to make the run resumable)"
                )
                raise ConnectionError(
                    f"dask scheduler {client.scheduler.address}: {lost} after {len(done)} of "
                    f"{n_chunks} chunks; {where}"
                ) from None
            finish(futs[fut], res)
    except BaseException:
        try:
            client.cancel(list(futs))
        except Exception:  # the scheduler may be gone already
            pass
        raise


def _dask_lost(exc: BaseException) -> str | None:
    """What went wrong on the dask side, for the one-line message (None: not a dask failure)."""
    import asyncio  # loaded by distributed already; not imported with the runner (~20 ms)

    if isinstance(exc, (cf.CancelledError, asyncio.CancelledError)):
        return "connection lost (the chunks were cancelled)"
    name = type(exc).__name__
    if name in ("FutureCancelledError", "CommClosedError") or isinstance(
        exc, (OSError, TimeoutError)
    ):
        return f"connection lost ({name})"
    if name == "KilledWorker":
        return f"a chunk killed its workers repeatedly ({str(exc).splitlines()[0][:120]})"
    return None


def _example_kernel(p: float, task: ChunkTask) -> SimulationResult:
    """Toy kernel for the docstring example: each molecule absorbed at U(0,1) with prob. p."""
    rng = np.random.default_rng(task.seed_sequence)
    hit = rng.random(task.count) < p
    return SimulationResult.from_absorptions(
        np.where(hit, 0, -1), rng.random(task.count), task.count, [0.0, 0.5, 1.0], 1
    )
