"""Result object shared by the particle simulators (fixed-step and event-driven).

A :class:`SimulationResult` holds, for one run (or one chunk of a run):

* ``n_molecules`` — molecules released;
* ``bin_edges`` / ``counts`` — molecules absorbed by each receiver in each time bin
  ``(edge_k, edge_{k+1}]`` (always kept; exact, integer);
* ``absorption_times`` — optionally the absorption time of every absorbed molecule, one sorted
  float array per receiver (molecules not absorbed by the horizon are absent);
* ``metadata`` — a JSON-able dict: seed, dt, modes, method, version, n_chunks, ...

``F(t)`` (fraction of released molecules absorbed by ``t``) and its binomial standard error
``sqrt(F(1-F)/N)`` follow from these. Results of chunks of one run merge exactly
(:meth:`SimulationResult.merge`): counts add, times concatenate.

Units: times in s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.io import atomic_write, json_safe

__all__ = ["TIME_RTOL", "ResultFileError", "SimulatedResponse", "SimulationResult"]

#: relative tolerance of time comparisons: an absorption time ``tau`` counts as ``<= t`` when
#: ``tau <= t * (1 + TIME_RTOL)``, so that absorption times on a grid of multiples of ``dt``
#: are not lost to floating-point rounding of ``k * dt``.
TIME_RTOL = 1e-9

#: metadata keys that may differ between the chunks of one run (everything else must agree)
_CHUNK_KEYS = ("n_chunks", "chunk_index", "chunk_start")


class ResultFileError(ValueError):
    """A result file is unreadable, damaged (checksum mismatch) or not the file expected.

    The message is one line naming the file and what is wrong with it.
    """


def _binomial_se(F: np.ndarray, n: int) -> np.ndarray:
    return np.sqrt(np.clip(F * (1.0 - F), 0.0, None) / max(n, 1))


@dataclass(frozen=True)
class SimulatedResponse:
    """Simulated channel response at requested times (same field names as the analytic models).

    Attributes
    ----------
    times : numpy.ndarray, shape (n_times,)
        Times (s).
    F : numpy.ndarray, shape (n_times,)
        Fraction of released molecules absorbed by any receiver by each time.
    F_se : numpy.ndarray, shape (n_times,)
        Binomial standard error of ``F``.
    F_per_receiver : numpy.ndarray, shape (n_receivers, n_times)
        Per-receiver fractions.
    F_se_per_receiver : numpy.ndarray, shape (n_receivers, n_times)
        Their standard errors.
    n_molecules : int
        Molecules released.
    model : str
        ``"simulation:<method>"``.
    """

    times: np.ndarray
    F: np.ndarray
    F_se: np.ndarray
    F_per_receiver: np.ndarray
    F_se_per_receiver: np.ndarray
    n_molecules: int
    model: str = "simulation"

    def to_dict(self) -> dict:
        """JSON-able dictionary (lists of floats)."""
        return {
            "times": self.times.tolist(),
            "F": self.F.tolist(),
            "F_se": self.F_se.tolist(),
            "F_per_receiver": self.F_per_receiver.tolist(),
            "F_se_per_receiver": self.F_se_per_receiver.tolist(),
            "n_molecules": int(self.n_molecules),
            "model": self.model,
        }


@dataclass(frozen=True)
class SimulationResult:
    """Absorption record of a particle simulation (a run or one chunk of it).

    Parameters
    ----------
    n_molecules : int
        Molecules released (>= 0).
    bin_edges : array_like, shape (n_bins + 1,)
        Increasing time-bin edges (s), ``bin_edges[0] = 0``; the last edge is the horizon.
    counts : array_like of int, shape (n_receivers, n_bins)
        Molecules absorbed by each receiver with absorption time in ``(edge_k, edge_{k+1}]``.
    absorption_times : tuple of arrays, optional
        Sorted absorption times (s) per receiver, or ``None`` when not kept (large runs).
    metadata : dict
        JSON-able run description (seed, dt, modes, method, version, n_chunks, ...).

    Notes
    -----
    Use :meth:`from_absorptions` to build a result from per-molecule kernel output.
    ``F`` at the bin edges is exact from ``counts``; at other times it needs
    ``absorption_times``.

    Examples
    --------
    >>> r = SimulationResult.from_absorptions(
    ...     receiver=[0, -1, 0, 0], times=[0.1, np.inf, 0.2, 0.4], n_molecules=4,
    ...     bin_edges=[0.0, 0.1, 0.2, 0.3, 0.4], n_receivers=1)
    >>> r.F.tolist()
    [0.0, 0.25, 0.5, 0.5, 0.75]
    >>> r.response([0.15]).F.tolist()
    [0.25]
    """

    n_molecules: int
    bin_edges: np.ndarray
    counts: np.ndarray
    absorption_times: tuple[np.ndarray, ...] | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        n = self.n_molecules
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n_molecules must be an integer >= 0, got {n!r}")
        object.__setattr__(self, "n_molecules", int(n))
        edges = np.asarray(self.bin_edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin_edges must be an increasing 1-D array starting at 0 (>= 2 edges)")
        counts = np.asarray(self.counts)
        if counts.ndim != 2 or counts.shape[1] != edges.size - 1:
            raise ValueError(
                f"counts must have shape (n_receivers, {edges.size - 1}), got {counts.shape}"
            )
        counts = counts.astype(np.int64)
        if np.any(counts < 0) or counts.sum() > n:
            raise ValueError("counts must be >= 0 and sum to at most n_molecules")
        times = self.absorption_times
        if times is not None:
            times = tuple(np.sort(np.asarray(t, dtype=float)) for t in times)
            if len(times) != counts.shape[0]:
                raise ValueError("absorption_times must have one array per receiver")
        object.__setattr__(self, "bin_edges", edges)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "absorption_times", times)
        object.__setattr__(self, "metadata", dict(self.metadata))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_absorptions(
        cls,
        receiver,
        times,
        n_molecules: int,
        bin_edges,
        n_receivers: int,
        *,
        keep_times: bool = True,
        metadata: dict | None = None,
    ) -> SimulationResult:
        """Build a result from per-molecule output.

        Parameters
        ----------
        receiver : array_like of int
            Receiver index of each molecule (or of each absorbed molecule); ``-1`` = not
            absorbed.
        times : array_like of float
            Absorption time (s) of each entry (ignored where ``receiver < 0``).
        n_molecules : int
            Molecules released (entries not listed count as not absorbed).
        bin_edges : array_like
            Time-bin edges (s), starting at 0.
        n_receivers : int
            Number of receivers.
        keep_times : bool
            Keep the individual absorption times.
        metadata : dict, optional
            Run description.

        Returns
        -------
        SimulationResult

        Examples
        --------
        >>> r = SimulationResult.from_absorptions([1, 0], [0.5, 0.7], 10, [0, 1.0], 2)
        >>> r.counts.tolist()
        [[1], [1]]
        """
        receiver = np.asarray(receiver, dtype=np.int64)
        times = np.asarray(times, dtype=float)
        if receiver.shape != times.shape or receiver.ndim != 1:
            raise ValueError("receiver and times must be 1-D arrays of the same length")
        if np.any(receiver >= n_receivers):
            raise ValueError(f"receiver indices must be < n_receivers = {n_receivers}")
        edges = np.asarray(bin_edges, dtype=float)
        hit = receiver >= 0
        rx, tau = receiver[hit], times[hit]
        if np.any(~np.isfinite(tau)):
            raise ValueError("absorbed molecules must have finite absorption times")
        counts = np.zeros((n_receivers, edges.size - 1), dtype=np.int64)
        k = _bin_index(edges, tau)
        inside = k < edges.size - 1
        np.add.at(counts, (rx[inside], k[inside]), 1)
        kept = tuple(tau[rx == q] for q in range(n_receivers)) if keep_times else None
        return cls(int(n_molecules), edges, counts, kept, dict(metadata or {}))

    @classmethod
    def merge(cls, results: Sequence[SimulationResult]) -> SimulationResult:
        """Merge the results of chunks of one run (exact: counts add, times concatenate).

        Parameters
        ----------
        results : sequence of SimulationResult
            Chunk results with identical ``bin_edges``, number of receivers and metadata
            (apart from ``n_chunks``, ``chunk_index``, ``chunk_start``).

        Returns
        -------
        SimulationResult
            ``metadata["n_chunks"]`` is the total number of merged chunks.

        Raises
        ------
        ValueError
            Empty input or incompatible results.

        Examples
        --------
        >>> a = SimulationResult.from_absorptions([0], [0.1], 2, [0, 1.0], 1)
        >>> b = SimulationResult.from_absorptions([-1], [np.inf], 3, [0, 1.0], 1)
        >>> m = SimulationResult.merge([a, b])
        >>> m.n_molecules, m.counts.tolist(), m.metadata["n_chunks"]
        (5, [[1]], 2)
        """
        results = list(results)
        if not results:
            raise ValueError("merge needs at least one result")
        first = results[0]
        base = {k: v for k, v in first.metadata.items() if k not in _CHUNK_KEYS}
        base_json = json_safe(base)
        for r in results[1:]:
            if r.counts.shape != first.counts.shape or not np.array_equal(
                r.bin_edges, first.bin_edges
            ):
                raise ValueError("cannot merge results with different bin_edges or receivers")
            other = {k: v for k, v in r.metadata.items() if k not in _CHUNK_KEYS}
            if json_safe(other) != base_json:
                diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
                raise ValueError(f"cannot merge results of different runs: metadata {diff} differ")
        keep = all(r.absorption_times is not None for r in results)
        times = None
        if keep:
            times = tuple(
                np.concatenate([r.absorption_times[q] for r in results])
                for q in range(first.n_receivers)
            )
        meta = dict(base)
        meta["n_chunks"] = int(sum(r.metadata.get("n_chunks", 1) for r in results))
        return cls(
            sum(r.n_molecules for r in results),
            first.bin_edges,
            np.sum([r.counts for r in results], axis=0),
            times,
            meta,
        )

    # ------------------------------------------------------------------ derived quantities
    @property
    def n_receivers(self) -> int:
        """Number of receivers."""
        return int(self.counts.shape[0])

    @property
    def times(self) -> np.ndarray:
        """The time grid of :attr:`F` (= ``bin_edges``, s)."""
        return self.bin_edges

    @property
    def n_absorbed(self) -> np.ndarray:
        """Molecules absorbed by each receiver within the horizon, shape (n_receivers,)."""
        return self.counts.sum(axis=1)

    @property
    def F_per_receiver(self) -> np.ndarray:
        """Per-receiver ``F`` at :attr:`times`, shape (n_receivers, n_bins + 1)."""
        cum = np.concatenate([np.zeros((self.n_receivers, 1)), np.cumsum(self.counts, axis=1)], 1)
        return cum / max(self.n_molecules, 1)

    @property
    def F(self) -> np.ndarray:
        """Total ``F`` (all receivers) at :attr:`times`."""
        return self.F_per_receiver.sum(axis=0)

    @property
    def F_se(self) -> np.ndarray:
        """Binomial standard error of :attr:`F`."""
        return _binomial_se(self.F, self.n_molecules)

    @property
    def F_se_per_receiver(self) -> np.ndarray:
        """Binomial standard errors of :attr:`F_per_receiver`."""
        return _binomial_se(self.F_per_receiver, self.n_molecules)

    def response(self, times=None) -> SimulatedResponse:
        """``F`` and its standard error at given times.

        Parameters
        ----------
        times : array_like, optional
            Times (s), >= 0. Default: :attr:`times` (the bin edges). Other times need the
            absorption times (kept by default for runs up to ``1e7`` molecules).

        Returns
        -------
        SimulatedResponse

        Raises
        ------
        ValueError
            An empty list, negative or NaN times, a time beyond the simulated horizon
            (``bin_edges[-1]``; ``inf`` only for an infinite horizon), or a time that is not a bin
            edge when the absorption times were not kept.

        Examples
        --------
        >>> r = SimulationResult.from_absorptions([0, 0], [0.1, 0.3], 4, [0, 0.2, 0.4], 1)
        >>> r.response([0.1, 0.4]).F.tolist()
        [0.25, 0.5]
        >>> r.response([1.0])
        Traceback (most recent call last):
        ...
        ValueError: times: 1 s is beyond the simulated horizon 0.4 s (nothing is known about absorptions after it; simulate with a longer t_end)
        """
        t = self.bin_edges if times is None else np.atleast_1d(np.asarray(times, dtype=float))
        horizon = float(self.bin_edges[-1])
        if t.ndim != 1 or t.size == 0 or np.any(np.isnan(t)) or np.any(t < 0):
            raise ValueError("times must be a non-empty 1-D array of values >= 0 (s)")
        if np.any(t > horizon * (1.0 + TIME_RTOL)):
            bad = float(t[t > horizon * (1.0 + TIME_RTOL)][0])
            raise ValueError(
                f"times: {bad:g} s is beyond the simulated horizon {horizon:g} s (nothing is known "
                "about absorptions after it; simulate with a longer t_end)"
            )
        if self.absorption_times is not None:
            lim = t * (1.0 + TIME_RTOL)
            cnt = np.array([np.searchsorted(a, lim, side="right") for a in self.absorption_times])
            Fr = cnt.reshape(self.n_receivers, t.size) / max(self.n_molecules, 1)
        else:
            k = np.searchsorted(self.bin_edges, t * (1.0 - TIME_RTOL), side="left")
            ok = (k < self.bin_edges.size) & np.isclose(
                self.bin_edges[np.minimum(k, self.bin_edges.size - 1)], t, rtol=TIME_RTOL, atol=0
            )
            if not np.all(ok):
                bad = t[~ok][0]
                raise ValueError(
                    f"times: {bad:g} s is not a bin edge and absorption times were not kept "
                    "(run with keep_times=True or pick times on the bin grid)"
                )
            Fr = self.F_per_receiver[:, k]
        F = Fr.sum(axis=0)
        method = self.metadata.get("method", "")
        return SimulatedResponse(
            times=t,
            F=F,
            F_se=_binomial_se(F, self.n_molecules),
            F_per_receiver=Fr,
            F_se_per_receiver=_binomial_se(Fr, self.n_molecules),
            n_molecules=self.n_molecules,
            model=f"simulation:{method}" if method else "simulation",
        )

    def bin_counts(self, edges) -> np.ndarray:
        """Absorbed molecules per receiver in arbitrary bins ``(e_k, e_{k+1}]``.

        Parameters
        ----------
        edges : array_like
            Increasing bin edges (s). Without kept absorption times they must be bin edges of
            this result.

        Returns
        -------
        numpy.ndarray of int64, shape (n_receivers, len(edges) - 1)

        Examples
        --------
        >>> r = SimulationResult.from_absorptions([0, 0, 0], [0.1, 0.3, 0.35], 4, [0, 0.4], 1)
        >>> r.bin_counts([0, 0.2, 0.4]).tolist()
        [[1, 2]]
        """
        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("edges must be an increasing 1-D array with >= 2 entries")
        Fr = self.response(edges).F_per_receiver * self.n_molecules
        return np.rint(np.diff(Fr, axis=1)).astype(np.int64)

    # ------------------------------------------------------------------ persistence
    def _arrays(self, identity: dict | None) -> dict[str, np.ndarray]:
        """The arrays of the ``.npz`` file (without the checksum), in a fixed order."""
        arrays = {
            "n_molecules": np.int64(self.n_molecules),
            "bin_edges": self.bin_edges,
            "counts": self.counts,
            "metadata": np.array(json.dumps(json_safe(self.metadata), sort_keys=True)),
            "has_times": np.bool_(self.absorption_times is not None),
            "identity": np.array(json.dumps(json_safe(identity or {}), sort_keys=True)),
        }
        if self.absorption_times is not None:
            arrays["times"] = np.concatenate([np.zeros(0), *self.absorption_times])
            arrays["times_count"] = np.array([a.size for a in self.absorption_times], np.int64)
        return arrays

    def save(self, path: str | Path, *, identity: dict | None = None) -> Path:
        """Write the result to an ``.npz`` file atomically (temporary file + ``os.replace``).

        The file carries a SHA-256 checksum of its arrays (verified by :meth:`load`) and an
        optional ``identity`` record (what the file is, e.g. which chunk of which run).

        Parameters
        ----------
        path : str or Path
            Destination; must end in ``.npz``.
        identity : dict, optional
            JSON-able description of what the file holds (the runner stores the run key, chunk
            index, seed stream and molecule range of a chunk); :meth:`load` can require it.

        Returns
        -------
        Path

        Raises
        ------
        ValueError
            A path that does not end in ``.npz``.

        Examples
        --------
        >>> import tempfile, os
        >>> r = SimulationResult.from_absorptions([0], [0.1], 2, [0, 1.0], 1, metadata={"dt": 1e-4})
        >>> p = r.save(os.path.join(tempfile.mkdtemp(), "r.npz"))
        >>> SimulationResult.load(p).metadata["dt"]
        0.0001
        """
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"path must end in .npz (a numpy archive), got {str(path)!r}")
        arrays = self._arrays(identity)
        arrays["sha256"] = np.array(_checksum(arrays))

        def write(tmp):
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)

        return atomic_write(path, write)

    @classmethod
    def load(cls, path: str | Path, *, identity: dict | None = None) -> SimulationResult:
        """Read a result written by :meth:`save`, verifying its checksum.

        Parameters
        ----------
        path : str or Path
            ``.npz`` file.
        identity : dict, optional
            The identity record the file must carry (see :meth:`save`); files without a checksum
            are then refused too.

        Returns
        -------
        SimulationResult

        Raises
        ------
        FileNotFoundError
            No such file.
        ResultFileError
            Unreadable (truncated, emptied, not an ``.npz``), damaged (checksum mismatch), or
            not the expected file (another identity). One line naming the file.

        Examples
        --------
        >>> import tempfile, os
        >>> r = SimulationResult.from_absorptions([0], [0.1], 2, [0, 1.0], 1)
        >>> p = r.save(os.path.join(tempfile.mkdtemp(), "r.npz"))
        >>> SimulationResult.load(p).counts.tolist()
        [[1]]
        >>> _ = open(p, "r+b").truncate(100)
        >>> SimulationResult.load(p)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        mcvd.sim.result.ResultFileError: .../r.npz is not a readable result file (BadZipFile: ...)
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file")
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as exc:  # BadZipFile, EOFError, zlib errors, "Bad CRC-32", ...
            msg = str(exc).splitlines()[0] if str(exc) else ""
            raise ResultFileError(
                f"{path} is not a readable result file ({type(exc).__name__}: {msg})"
            ) from None
        stored = arrays.pop("sha256", None)
        if stored is None:
            if identity is not None:
                raise ResultFileError(f"{path} has no checksum (written by an older mcvd)")
        elif str(stored) != _checksum(arrays):
            raise ResultFileError(f"{path}: checksum mismatch (the file is damaged or was edited)")
        try:
            found = json.loads(str(arrays.get("identity", "{}")))
            if identity is not None and found != json_safe(identity):
                raise ResultFileError(f"{path} holds {_describe(found)}, not {_describe(identity)}")
            times = None
            if bool(arrays["has_times"]):
                times = tuple(np.split(arrays["times"], np.cumsum(arrays["times_count"])[:-1]))
            return cls(
                int(arrays["n_molecules"]),
                arrays["bin_edges"],
                arrays["counts"],
                times,
                json.loads(str(arrays["metadata"])),
            )
        except ResultFileError:
            raise
        except (KeyError, ValueError, TypeError) as exc:
            raise ResultFileError(f"{path} is not a valid result file ({exc})") from None


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (in key order)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _describe(identity: dict) -> str:
    """Short description of an identity record (for messages)."""
    if not identity:
        return "no identity record"
    if "chunk" in identity:
        return (
            f"chunk {identity['chunk']} (molecules {identity.get('start')}+{identity.get('count')})"
            f" of run {identity.get('run')}"
        )
    return json.dumps(identity, sort_keys=True)


def _bin_index(edges: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Bin ``k`` with ``edges[k] < tau <= edges[k+1]`` (relative tolerance TIME_RTOL).

    Times at or below the first edge go to bin 0; times beyond the last edge get
    ``len(edges) - 1`` (out of range).
    """
    k = np.searchsorted(edges * (1.0 + TIME_RTOL), tau, side="left") - 1
    return np.maximum(k, 0)
