"""One entry point for every simulator: :func:`simulate` with a method name and its options.

Each method is a kernel module with an options dataclass and a ``plan`` function
(``plan(scenario, options, *, n_molecules, t_end, bin_edges, keep_times) -> (params, n)``);
:func:`simulate` validates the options for the method, plans the run and hands the kernel to
the chunked, resumable runner (:func:`mcvd.sim.runner.run_chunks`) — same result object, seeding
and runner for every method. This module does not import the numba kernels until a run needs
them, so the command line can list the options cheaply.

Units: µm, s, µm²/s.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_EPS",
    "DEFAULT_METHOD",
    "METHODS",
    "EventOptions",
    "FixedStepOptions",
    "Method",
    "simulate",
]


#: default absorption shell (µm). Bias bound (coupling): the walk stops only at points of the
#: Brownian path, every path that hits an absorber is stopped (the walk converges to the hitting
#: point) and every stopped path entered an eps shell, so ``F <= F_eps <= F`` of the absorbers
#: enlarged by ``eps``; for one sphere the capture bias is in ``[0, eps/r0]``. At 1e-3 µm that is
#: <= 1e-4 for ``r0 >= 10`` µm (5x below the 5e-4 standard error of the accuracy map), while the
#: cost grows only like ``log(1/eps)`` (measured: ``eps_study`` in the event-driven benchmark
#: and the slow test ``test_eps_convergence_on_half_space_capture``).
DEFAULT_EPS = 1e-3


@dataclass(frozen=True)
class FixedStepOptions:
    """Options of the fixed-time-step simulator (:mod:`mcvd.sim.fixedstep`).

    Attributes
    ----------
    dt : float or None
        Time step (s); ``None`` takes the scenario's ``time.dt``.
    absorption : {"bridge", "end-of-step"}
        Receiver absorption test (``bridge`` adds the Brownian-bridge crossing probability).
    reflection : {"elastic", "rollback"}
        Reflection at planes and boxes.
    destruction_radius : float or None
        Remove molecules farther than this from every receiver centre (µm; off by default:
        it biases F low and warns).

    Examples
    --------
    >>> FixedStepOptions(dt=1e-4).absorption
    'bridge'
    """

    dt: float | None = field(
        default=None,
        metadata={"type": float, "help": "time step (s); default the scenario's time.dt"},
    )
    absorption: str = field(
        default="bridge",
        metadata={"choices": ["bridge", "end-of-step"], "help": "receiver absorption test"},
    )
    reflection: str = field(
        default="elastic",
        metadata={"choices": ["elastic", "rollback"], "help": "reflection at planes and boxes"},
    )
    destruction_radius: float | None = field(
        default=None, metadata={"cli": False, "help": "µm from every receiver centre (biased)"}
    )


@dataclass(frozen=True)
class EventOptions:
    """Options of the event-driven simulator (:mod:`mcvd.sim.event`).

    Attributes
    ----------
    eps : float
        Absorption shell (µm): a molecule within ``eps`` of a receiver counts as absorbed (the
        only approximation of the method; its bias bound is in :mod:`mcvd.sim.event`).

    Examples
    --------
    >>> EventOptions().eps
    0.001
    """

    eps: float = field(
        default=DEFAULT_EPS, metadata={"type": float, "help": "absorption shell (µm)"}
    )


@dataclass(frozen=True)
class Method:
    """A simulation method: its options and where its planner and kernel live.

    Attributes
    ----------
    name : str
        Method name (``simulate(method=name)``, ``mcvd simulate --method name``).
    options : type
        Options dataclass.
    module : str
        Module with ``plan`` and ``kernel`` (imported on first use).
    summary : str
        One line for help texts.

    Examples
    --------
    >>> METHODS["event"].option_names()
    ('eps',)
    """

    name: str
    options: type
    module: str
    summary: str

    def option_names(self) -> tuple[str, ...]:
        """Names of the method's options."""
        return tuple(f.name for f in dataclasses.fields(self.options))

    def make_options(self, options=None, **kwargs):
        """The options object from an instance of :attr:`options` or keyword arguments."""
        if options is not None:
            if kwargs:
                raise TypeError(
                    "simulate: give the method options either as options= or as keywords"
                )
            if not isinstance(options, self.options):
                raise TypeError(
                    f"options: method {self.name!r} takes {self.options.__name__}, "
                    f"got {type(options).__name__}"
                )
            return options
        unknown = sorted(set(kwargs) - set(self.option_names()))
        if unknown:
            raise TypeError(
                f"{unknown[0]}: not an option of method {self.name!r} "
                f"(its options: {', '.join(self.option_names())})"
            )
        return self.options(**kwargs)

    def load(self):
        """The method's module (``plan`` and ``kernel``)."""
        return importlib.import_module(self.module)


#: simulation methods by name
METHODS: dict[str, Method] = {
    "fixed-step": Method(
        "fixed-step",
        FixedStepOptions,
        "mcvd.sim.fixedstep",
        "fixed time step, Gaussian increments (reflecting boxes allowed)",
    ),
    "event": Method(
        "event",
        EventOptions,
        "mcvd.sim.event",
        "event-driven walk on spheres: exact exit times, no time step",
    ),
}

#: method used when none is named
DEFAULT_METHOD = "fixed-step"


def simulate(
    scenario,
    method: str = DEFAULT_METHOD,
    *,
    options=None,
    n_molecules: int | None = None,
    seed=None,
    t_end: float | None = None,
    bin_edges=None,
    keep_times: bool | None = None,
    run_dir=None,
    executor: str | None = None,
    workers: int | None = None,
    client=None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    **method_options,
):
    """Simulate a scenario with a particle method.

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The channel (a validated scenario, its dictionary, or a JSON file).
    method : {"fixed-step", "event"}
        Simulator (see :data:`METHODS`).
    options : FixedStepOptions or EventOptions, optional
        The method's options as one object (or give them as keywords, ``**method_options``).
    n_molecules : int, optional
        Molecules (default: the scenario's), split over transmitters in proportion to theirs.
    seed : int or None
        Root seed; the result depends only on it (not on threads, chunks, workers or scheduling).
    t_end : float, optional
        Horizon (s); default the scenario's ``time.end``.
    bin_edges : array_like, optional
        Time bins of the result (s); default multiples of the scenario's ``time.dt``.
    keep_times : bool, optional
        Keep every absorption time (default for up to 1e7 molecules).
    run_dir, executor, workers, client, scheduler, chunk_size, progress
        Execution: see :func:`mcvd.sim.runner.run_chunks` (resumable from ``run_dir``).
    **method_options
        Fields of the method's options dataclass (``dt``, ``absorption``, ``reflection``,
        ``destruction_radius`` for fixed-step; ``eps`` for event); any other name is refused.

    Returns
    -------
    mcvd.sim.result.SimulationResult
        ``metadata["method"]`` names the method.

    Examples
    --------
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 200},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}],
    ...       "time": {"end": 0.01, "dt": 1e-3}}
    >>> simulate(sc, seed=1, executor="inline").n_molecules
    200
    >>> simulate(sc, "event", eps=1e-3, seed=1, executor="inline").metadata["method"]
    'event'
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    spec = METHODS[method]
    opts = spec.make_options(options, **method_options)
    mod = spec.load()
    params, n = mod.plan(
        scenario,
        opts,
        n_molecules=n_molecules,
        t_end=t_end,
        bin_edges=bin_edges,
        keep_times=keep_times,
    )
    from .runner import run_chunks

    return run_chunks(
        mod.kernel,
        params,
        n,
        seed=seed,
        chunk_size=chunk_size,
        run_dir=run_dir,
        executor=executor,
        workers=workers,
        client=client,
        scheduler=scheduler,
        progress=progress,
    )
