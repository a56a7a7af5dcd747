"""Layer 1 — particle simulators of the diffusion channel (fixed time step; event-driven).

Public API
----------
* :func:`simulate` — run a scenario with a named method (:data:`METHODS`: ``"fixed-step"``,
  ``"event"``) and that method's options (:class:`FixedStepOptions`, :class:`EventOptions`).
* :class:`~mcvd.sim.result.SimulationResult` — absorption record, F(t), standard errors,
  save/load, exact merging of chunks.
* :func:`~mcvd.sim.runner.run_chunks` — chunked, resumable execution of a kernel inline, in a
  local process pool or on dask.distributed.

Modules: :mod:`~mcvd.sim.fixedstep` and :mod:`~mcvd.sim.event` (numba kernels),
:mod:`~mcvd.sim.params` (fixed-step run parameters and the grids both kernels share; no numba),
:mod:`~mcvd.sim.exit_time` (exact exit times from a ball), :mod:`~mcvd.sim._rng` (per-molecule
streams), :mod:`~mcvd.sim.runner`, :mod:`~mcvd.sim.result`, :mod:`~mcvd.sim.smoldyn` (export to
Smoldyn; no numba). They import only :mod:`mcvd.core`.

Units: µm, s, µm²/s.
"""

from __future__ import annotations

from .api import DEFAULT_METHOD, METHODS, EventOptions, FixedStepOptions, Method, simulate
from .result import SimulatedResponse, SimulationResult
from .runner import ChunkTask, run_chunks

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "ChunkTask",
    "EventOptions",
    "FixedStepOptions",
    "Method",
    "SimulatedResponse",
    "SimulationResult",
    "run_chunks",
    "simulate",
]
