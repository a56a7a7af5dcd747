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
import math
from dataclasses import dataclass, field

__all__ = [
    "ABSORPTION_MODES",
    "DEFAULT_EPS",
    "DEFAULT_METHOD",
    "EPS_MAX_FRACTION",
    "EVENT_SECONDS_PER_MOLECULE",
    "FIXED_STEP_RATE",
    "METHODS",
    "REFLECTION_MODES",
    "EventOptions",
    "FixedStepOptions",
    "Method",
    "check_eps",
    "estimated_cost",
    "simulate",
]


#: receiver absorption tests of the fixed-step simulator (:mod:`mcvd.sim.fixedstep`)
ABSORPTION_MODES = ("end-of-step", "bridge")
#: reflection rules of the fixed-step simulator at planes and boxes
REFLECTION_MODES = ("elastic", "rollback")

#: default absorption shell (µm). Bias bound (coupling): the walk stops only at points of the
#: Brownian path, every path that hits an absorber is stopped (the walk converges to the hitting
#: point) and every stopped path entered an eps shell, so ``F <= F_eps <= F`` of the absorbers
#: enlarged by ``eps``; for one sphere the capture bias is in ``[0, eps/r0]``. At 1e-3 µm that is
#: <= 1e-4 for ``r0 >= 10`` µm (5x below the 5e-4 standard error of the accuracy map), while the
#: cost grows only like ``log(1/eps)`` (measured: ``eps_study`` in the event-driven benchmark
#: and the slow test ``test_eps_convergence_on_half_space_capture``).
DEFAULT_EPS = 1e-3

#: largest ``eps`` as a fraction of the channel's smallest length
#: (:func:`mcvd.core.geometry.smallest_length`: receiver radii, receiver-plane and
#: receiver-receiver gaps, transmitter-receiver distances)
EPS_MAX_FRACTION = 0.01

#: throughput of the fixed-step kernel on one thread (molecule-steps per second) for one
#: receiver and one plane, measured on the 2-core development machine (3-4e7 for the paper's
#: topology, 2e7 with a box obstacle); each further plane costs ~30 %, each box ~100 %, each
#: further receiver ~5 % (:func:`estimated_cost`; good to about a factor of 2)
FIXED_STEP_RATE = 4e7

#: seconds per molecule of the event-driven kernel on one thread (measured 0.3-1.3 µs for the
#: paper's topology, horizons 0.2 s to infinity, eps 1e-2 to 1e-5 µm; corners, slabs and four
#: receivers 0.7-1.1 µs), plus the jumps a slab's cap forces (about ``6 D T / cap**2``, 30 ns
#: each)
EVENT_SECONDS_PER_MOLECULE = 1.5e-6


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
        metadata={"choices": sorted(ABSORPTION_MODES), "help": "receiver absorption test"},
    )
    reflection: str = field(
        default="elastic",
        metadata={"choices": sorted(REFLECTION_MODES), "help": "reflection at planes and boxes"},
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
        default=DEFAULT_EPS,
        metadata={
            "type": float,
            "help": "absorption shell (µm; at most 1/100 of the smallest radius or gap)",
        },
    )


def check_eps(eps, geometry) -> float:
    """Validate the event-driven simulator's absorption shell ``eps`` (µm) against a geometry.

    The walk stops at points of the Brownian path, every path that hits a receiver is stopped and
    every stopped path entered an ``eps`` shell, so ``0 <= F_eps - F <= F(receivers enlarged by
    eps) - F`` (``eps/r0`` of the capture for one receiver at distance ``r0``). That bound is
    small only while ``eps`` is small against every radius and gap of the channel: an ``eps``
    comparable to a receiver-plane gap merges the receiver with its image, one larger than the
    transmitter's distance absorbs every molecule at once (F = 1 at all times). So ``eps`` must be
    at most :data:`EPS_MAX_FRACTION` of :func:`mcvd.core.geometry.smallest_length`.

    Parameters
    ----------
    eps : float
        Absorption shell (µm), finite and > 0.
    geometry : mcvd.core.geometry.Geometry
        The channel.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``eps`` not finite and > 0, or above the geometric bound (the message gives it).

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> check_eps(1e-3, g)
    0.001
    >>> check_eps(100, g)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: eps = 100 µm is more than 1% of the receivers[0] radius (5 µm): ...give eps <= 0.05 µm
    """
    from ..core.geometry import _finite_float, smallest_length

    eps = _finite_float(eps, "eps", positive=True)
    length, what = smallest_length(geometry)
    bound = EPS_MAX_FRACTION * length
    if eps > bound * (1 + 1e-9):
        raise ValueError(
            f"eps = {eps:g} µm is more than {EPS_MAX_FRACTION:.0%} of the {what} ({length:g} µm):"
            " the eps shell biases F upward by up to F(receivers enlarged by eps) - F, small only "
            f"for an eps small against every radius and gap; give eps <= {bound:.3g} µm"
        )
    return eps


def estimated_cost(method: str, params) -> float:
    """Estimated seconds per molecule on one thread of a planned run (order of magnitude).

    Fixed step: the steps of the longest-lived molecule (``(t_end - release) / dt``; an upper
    bound, absorbed molecules stop early) at :data:`FIXED_STEP_RATE`, slower with more surfaces.
    Event-driven: :data:`EVENT_SECONDS_PER_MOLECULE`, plus the jumps a slab's cap forces.

    Parameters
    ----------
    method : {"fixed-step", "event"}
        The method.
    params : FixedStepParams or EventParams
        From the method's ``plan``.

    Returns
    -------
    float
        Seconds per molecule.

    Examples
    --------
    >>> from mcvd.sim.fixedstep import FixedStepParams
    >>> p = FixedStepParams(79.4, 1e-4, 2.0, ((0, 0, 10),), (0.0,), (100,), ((10, 0, 0),),
    ...                     (5.0,), plane_point=((0, 0, 0),), plane_normal=((1, 0, 0),))
    >>> estimated_cost("fixed-step", p)   # 20 000 steps at 4e7 per second
    0.0005
    """
    if method == "fixed-step":
        steps = max((params.t_end - r) / params.dt for r in params.tx_release)
        extra = (
            0.3 * max(0, len(params.plane_point) - 1)
            + 1.0 * len(params.box_min)
            + 0.05 * max(0, len(params.rx_radius) - 1)
        )
        return steps * (1.0 + extra) / FIXED_STEP_RATE
    cost = EVENT_SECONDS_PER_MOLECULE
    if math.isfinite(params.cap) and math.isfinite(params.horizon):
        cost += 30e-9 * 6.0 * params.D * params.horizon / params.cap**2
    return cost


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
    extra : str
        The mcvd extra that installs the kernel's dependencies (numba: ``"sim"``).

    Examples
    --------
    >>> METHODS["event"].option_names()
    ('eps',)
    """

    name: str
    options: type
    module: str
    summary: str
    extra: str = "sim"

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
        """The method's module (``plan`` and ``kernel``).

        Raises
        ------
        mcvd.core.extras.MissingExtraError
            Its kernel's dependencies (numba) are not installed: one line naming the extra.
        """
        from ..core.extras import MissingExtraError, missing_extra

        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            # the kernel modules re-raise a missing numba as MissingExtraError from the original
            cause = exc if exc.name else exc.__cause__
            extra = missing_extra(cause) if cause is not None else None
            if extra is None:
                raise
            top = cause.name.split(".")[0]
            raise MissingExtraError(
                f"method {self.name!r} needs {top} (pip install 'mcvd[{extra}]')"
            ) from None


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
    run_root=None,
    keep_run_dir: bool = True,
    executor: str | None = None,
    workers: int | None = None,
    client=None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    force: bool = False,
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
        Molecules (default: the scenario's), split over transmitters in proportion to theirs;
        at most :data:`mcvd.sim.runner.MAX_MOLECULES` (2**53).
    seed : int or None
        Root seed; the result depends only on it (not on threads, chunks, workers or scheduling).
    t_end : float, optional
        Horizon (s); default the scenario's ``time.end``.
    bin_edges : array_like, optional
        Time bins of the result (s); default multiples of the scenario's ``time.dt``.
    keep_times : bool, optional
        Keep every absorption time (default for up to 1e7 molecules).
    run_dir, run_root, keep_run_dir, executor, workers, client, scheduler, chunk_size, progress
        Execution: see :func:`mcvd.sim.runner.run_chunks` (resumable from ``run_dir``; Ctrl-C
        keeps the finished chunks and raises :class:`mcvd.sim.runner.RunInterrupted`).
    force : bool
        Run even when the run is estimated to take more than
        :data:`mcvd.sim.runner.MAX_SECONDS` (24 h); a run estimated beyond
        :data:`mcvd.sim.runner.WARN_SECONDS` (1 min) warns first (the estimate is
        :func:`estimated_cost` per molecule over the available threads).
    **method_options
        Fields of the method's options dataclass (``dt``, ``absorption``, ``reflection``,
        ``destruction_radius`` for fixed-step; ``eps`` for event); any other name is refused.

    Returns
    -------
    mcvd.sim.result.SimulationResult
        ``metadata["method"]`` names the method.

    Raises
    ------
    ValueError
        Bad arguments (one line naming the argument), a time step longer than the horizon, an
        ``eps`` too large for the geometry (:func:`check_eps`), or a run estimated beyond 24 h
        without ``force``.
    mcvd.core.extras.MissingExtraError
        numba (the ``sim`` extra) is not installed.

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
    from ..core.scenario import as_scenario
    from .runner import check_count, run_chunks

    if n_molecules is not None:
        n_molecules = check_count(n_molecules, "n_molecules")
    scenario = as_scenario(scenario)
    mod = spec.load()
    params, n = mod.plan(
        scenario,
        opts,
        n_molecules=n_molecules,
        t_end=t_end,
        bin_edges=bin_edges,
        keep_times=keep_times,
    )
    return run_chunks(
        mod.kernel,
        params,
        n,
        seed=seed,
        chunk_size=chunk_size,
        run_dir=run_dir,
        run_root=run_root,
        keep_run_dir=keep_run_dir,
        executor=executor,
        workers=workers,
        client=client,
        scheduler=scheduler,
        progress=progress,
        cost=estimated_cost(method, params),
        force=force,
    )
