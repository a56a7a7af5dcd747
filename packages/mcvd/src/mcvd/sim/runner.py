"""Chunked, resumable, distributable execution of a particle-simulation kernel.

A *kernel* is a picklable top-level function ``kernel(params, task) -> SimulationResult`` that
simulates the molecules ``task.start ... task.start + task.count - 1`` of a run. The runner

* splits ``n_molecules`` into chunks (:class:`ChunkTask`), each carrying the run seed; its
  random stream is ``task.seed_sequence`` (``SeedSequence(seed).spawn(...)[task.index]``), or,
  for kernels that key streams by molecule (the fixed-step kernel), ``task.key`` plus the global
  molecule index — either way the result does not depend on scheduling or thread count;
* runs the chunks inline, in a local process pool (default when there is more than one chunk),
  or on dask.distributed (``client=`` or ``scheduler="ADDRESS"``);
* writes every finished chunk atomically to ``run_dir`` (``chunk-000012.npz``) next to a
  ``manifest.json`` describing the run; calling again with the same ``run_dir`` resumes: finished
  chunks are loaded, only the missing ones run;
* merges the chunk results in chunk order (exact) and shows a tqdm progress bar.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import json
import math
import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.io import atomic_write, json_safe
from .result import SimulationResult

__all__ = [
    "ChunkTask",
    "chunk_tasks",
    "default_chunk_size",
    "resolve_seed",
    "run_chunks",
    "run_key",
]

#: default seconds to wait for a dask scheduler before giving up
DEFAULT_CONNECT_TIMEOUT = 10.0


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


def check_count(value, name: str, minimum: int = 1) -> int:
    """Return an integer count, or raise a one-line error naming ``name``.

    Parameters
    ----------
    value : int
        The count (a bool or a non-integer is a TypeError).
    name : str
        Argument name used in the error message.
    minimum : int
        Smallest allowed value (ValueError below it).

    Returns
    -------
    int

    Examples
    --------
    >>> check_count(5, "n_molecules")
    5
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def default_chunk_size(n_molecules: int) -> int:
    """Default molecules per chunk: ~20 chunks, between 10 000 and 1 000 000 molecules.

    Examples
    --------
    >>> default_chunk_size(10**8)
    1000000
    """
    return int(min(1_000_000, max(10_000, math.ceil(n_molecules / 20))))


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
    }


def _chunk_path(run_dir: Path, index: int) -> Path:
    return run_dir / f"chunk-{index:06d}.npz"


def _prepare_run_dir(run_dir: Path, manifest: dict) -> dict[int, SimulationResult]:
    """Create or check ``run_dir``; return the finished chunks found there."""
    run_dir.mkdir(parents=True, exist_ok=True)
    mpath = run_dir / "manifest.json"
    if mpath.exists():
        old = json.loads(mpath.read_text(encoding="utf-8"))
        if old != manifest:
            diff = sorted(k for k in set(old) | set(manifest) if old.get(k) != manifest.get(k))
            raise ValueError(
                f"run_dir {run_dir} holds a different run ({', '.join(diff)} differ); "
                "use a new run_dir to start a new run"
            )
    else:
        text = json.dumps(manifest, indent=1)
        atomic_write(mpath, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    done = {}
    n_chunks = math.ceil(manifest["n_molecules"] / manifest["chunk_size"])
    for i in range(n_chunks):
        p = _chunk_path(run_dir, i)
        if p.exists():
            try:
                done[i] = SimulationResult.load(p)
            except (OSError, ValueError, KeyError):
                p.unlink()  # unreadable leftovers are recomputed
    return done


def _init_worker(threads: int) -> None:
    """Process-pool initializer: limit the threads of each worker process."""
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def _connect(scheduler: str, timeout: float):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is an optional extra
        raise ValueError(
            "scheduler: dask.distributed is not installed (pip install 'mcvd[dask]')"
        ) from None
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConnectionError(
            f"scheduler {scheduler!r}: could not connect within {timeout:g} s ({msg})"
        ) from None


def run_chunks(
    kernel: Callable,
    params,
    n_molecules: int,
    *,
    seed=None,
    chunk_size: int | None = None,
    run_dir: str | Path | None = None,
    executor: str | None = None,
    workers: int | None = None,
    client=None,
    scheduler: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    progress: bool = False,
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
        Total molecules (>= 1).
    seed : int, SeedSequence or None
        Root seed; None draws fresh entropy (recorded in ``metadata["seed"]``).
    chunk_size : int, optional
        Molecules per chunk (default :func:`default_chunk_size`).
    run_dir : str or Path, optional
        Directory for atomic chunk files and the manifest; re-running with the same directory
        and arguments resumes from the finished chunks. A directory holding a different run is
        refused.
    executor : {"inline", "process", "dask"}, optional
        Default: ``"dask"`` when ``client``/``scheduler`` is given, else ``"process"`` (a local
        spawn-based process pool, each worker limited to ``cpu_count // workers`` threads)
        when more than one chunk is pending and ``workers != 1``, else ``"inline"``.
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

    Returns
    -------
    SimulationResult
        Merged in chunk order; ``metadata`` gains ``seed``, ``n_chunks``, ``chunk_size``.

    Raises
    ------
    ValueError
        Bad arguments or a ``run_dir`` holding a different run.
    ConnectionError
        The dask scheduler could not be reached.

    Examples
    --------
    >>> from mcvd.sim.runner import run_chunks, ChunkTask
    >>> from mcvd.sim.result import SimulationResult
    >>> r = run_chunks(_example_kernel, 0.3, 1000, seed=1, chunk_size=300, executor="inline")
    >>> r.n_molecules, r.metadata["n_chunks"]
    (1000, 4)
    """
    seed = resolve_seed(seed)
    chunk_size = default_chunk_size(n_molecules) if chunk_size is None else chunk_size
    tasks = chunk_tasks(n_molecules, chunk_size, seed)
    if executor not in (None, "inline", "process", "dask"):
        raise ValueError(f"executor must be 'inline', 'process' or 'dask', got {executor!r}")
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1
    ):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if (client is not None or scheduler is not None) and executor not in (None, "dask"):
        raise ValueError(f"client/scheduler need executor='dask', got executor={executor!r}")
    run_dir = None if run_dir is None else Path(run_dir)
    done: dict[int, SimulationResult] = {}
    if run_dir is not None:
        done = _prepare_run_dir(run_dir, _manifest(kernel, params, n_molecules, chunk_size, seed))
    pending = [t for t in tasks if t.index not in done]
    if executor is None:
        if client is not None or scheduler is not None:
            executor = "dask"
        elif len(pending) > 1 and workers != 1:
            executor = "process"
        else:
            executor = "inline"
    if executor == "dask" and client is None and scheduler is None:
        raise ValueError("executor='dask' needs client= or scheduler=")

    from tqdm.auto import tqdm

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
            res.save(_chunk_path(run_dir, task.index))
        done[task.index] = res
        bar.update(task.count)

    try:
        if not pending:
            pass
        elif executor == "inline":
            for task in pending:
                finish(task, kernel(params, task))
        elif executor == "process":
            n_proc = min(workers or os.cpu_count() or 1, len(pending))
            threads = max(1, (os.cpu_count() or 1) // n_proc)
            ctx = multiprocessing.get_context("spawn")
            with cf.ProcessPoolExecutor(n_proc, ctx, _init_worker, (threads,)) as pool:
                futs = {pool.submit(kernel, params, t): t for t in pending}
                try:
                    for fut in cf.as_completed(futs):
                        finish(futs[fut], fut.result())
                except BaseException as exc:
                    for f in futs:
                        f.cancel()
                    if isinstance(exc, cf.process.BrokenProcessPool):
                        raise RuntimeError(SPAWN_HINT) from None
                    raise
        else:
            _run_dask(kernel, params, pending, finish, client, scheduler, connect_timeout)
    finally:
        bar.close()
    merged = SimulationResult.merge([done[t.index] for t in tasks])
    meta = dict(merged.metadata, seed=seed, n_chunks=len(tasks), chunk_size=int(chunk_size))
    return dataclasses.replace(merged, metadata=meta)


# Most often a script that starts the pool at import time: spawned workers re-import __main__.
SPAWN_HINT = (
    "executor: the local process pool broke (a worker died); if this runs from a script, put the "
    "call under `if __name__ == '__main__':` (workers are spawned and re-import the script), or "
    "pass executor='inline'"
)


def _run_dask(kernel, params, pending, finish, client, scheduler, connect_timeout) -> None:
    own = client is None
    if own:
        client = _connect(scheduler, connect_timeout)
    try:
        from distributed import as_completed

        futs = {client.submit(kernel, params, t, pure=False): t for t in pending}
        try:
            for fut in as_completed(list(futs)):
                finish(futs[fut], fut.result())
        except BaseException:
            client.cancel(list(futs))
            raise
    finally:
        if own:
            client.close()


def _example_kernel(p: float, task: ChunkTask) -> SimulationResult:
    """Toy kernel for the docstring example: each molecule absorbed at U(0,1) with prob. p."""
    rng = np.random.default_rng(task.seed_sequence)
    hit = rng.random(task.count) < p
    return SimulationResult.from_absorptions(
        np.where(hit, 0, -1), rng.random(task.count), task.count, [0.0, 0.5, 1.0], 1
    )
