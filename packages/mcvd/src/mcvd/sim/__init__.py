"""Particle simulators of the diffusion channel (fixed time step; event-driven).

Public API
----------
* :class:`~mcvd.sim.result.SimulationResult` — absorption record, F(t), standard errors, save/load,
  exact merging of chunks.
* :func:`~mcvd.sim.runner.run_chunks` — chunked, resumable execution of a kernel inline, in a
  local process pool or on dask.distributed.
* :func:`simulate` — run a scenario with a named method (see :data:`METHODS`).

Units: µm, s, µm²/s.
"""

from __future__ import annotations

import importlib

from .result import SimulatedResponse, SimulationResult
from .runner import ChunkTask, run_chunks

__all__ = [
    "METHODS",
    "ChunkTask",
    "SimulatedResponse",
    "SimulationResult",
    "get_method",
    "run_chunks",
    "simulate",
]

#: simulation methods: name -> ("module:function", {option name: argparse keyword arguments}).
#: Each function has the signature ``simulate(scenario, *, n_molecules=None, seed=None,
#: run_dir=None, executor=None, workers=None, client=None, scheduler=None, chunk_size=None,
#: progress=False, **method_options) -> SimulationResult``; the options listed here become
#: ``mcvd simulate --<option>`` flags (passed only to the methods that list them).
METHODS: dict[str, tuple[str, dict[str, dict]]] = {
    "fixed-step": (
        "mcvd.sim.fixedstep:simulate",
        {
            "dt": {"type": float, "help": "time step (s; default: the scenario's time.dt)"},
            "absorption": {"choices": ["bridge", "end-of-step"], "help": "default bridge"},
            "reflection": {"choices": ["elastic", "rollback"], "help": "default elastic"},
        },
    ),
    "event": (
        "mcvd.sim.event:simulate",
        {"eps": {"type": float, "help": "event: absorption shell (µm; default 1e-3)"}},
    ),
}


def get_method(name: str):
    """Return the simulate function registered as ``name`` in :data:`METHODS`.

    Examples
    --------
    >>> get_method("fixed-step").__name__
    'simulate'
    """
    if name not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {name!r}")
    mod, func = METHODS[name][0].split(":")
    return getattr(importlib.import_module(mod), func)


def simulate(scenario, *, method: str = "fixed-step", **kwargs) -> SimulationResult:
    """Simulate a scenario with the named method (keyword arguments go to the method).

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        Validated scenario, a scenario dictionary or a JSON file path.
    method : str
        A key of :data:`METHODS`.
    **kwargs
        Passed to the method's ``simulate``.

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 200},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "time": {"end": 0.01, "dt": 1e-3}}
    >>> simulate(sc, seed=1, executor="inline").n_molecules
    200
    """
    return get_method(method)(scenario, **kwargs)
