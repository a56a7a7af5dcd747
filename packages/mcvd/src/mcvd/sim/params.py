"""Parameters of a fixed-step run, without numba (planning, validation, the Smoldyn export).

:class:`FixedStepParams` is the plain, picklable description of a run of the fixed-step kernel
(:mod:`mcvd.sim.fixedstep`); :func:`params_from_scenario` and :func:`plan` build it from a scenario
and validate it. The grid and split helpers (:func:`default_bin_edges`,
:func:`transmitter_counts`, :data:`KEEP_TIMES_MAX`) are shared with the event-driven simulator.
Nothing here imports numba, so :func:`mcvd.sim.smoldyn.smoldyn_config` and the command line's
``export-smoldyn`` work where numba is not installed.

Reactive receivers
------------------
A receiver with a finite reaction rate constant ``k`` (µm/s; the Robin condition
``D dw/dn = k (w - 1)``) reacts with a molecule whose step ends inside it with probability
``P = k sqrt(pi dt / D)`` and reflects it otherwise (Erban & Chapman 2007, Phys. Biol. 4, 16:
the end-of-step crossings per unit area and step near a reflecting wall, ``c sqrt(D dt / pi)``,
times ``P`` equal the reaction flux ``k c dt``). The Brownian-bridge test is not applied to
reactive receivers: counting bridge touches too would need ``P / 2`` per touch, and that variant
was measured to be more biased near a curved surface (below).

The scheme is first order in ``P``. Measured against the Collins–Kimball response (free space,
1e5–2e5 molecules per point, ``benchmarks/mcvd_vs_smoldyn.py``): the effective rate constant
is too large by about ``0.5 P``–``0.7 P`` relative on a nearly flat receiver (radius 500 µm:
+2.1 % at P = 0.04) plus a curvature term ``0.3``–``0.8 sqrt(2 D dt) / a`` on a receiver of radius
``a`` (5 µm, ``k a / D = 1``: +3.5 % at P = 0.032, dt = 1e-4 s; +0.4 ± 1.4 % at P = 0.016); the
variant that also counts bridge touches (with ``P / 2``) was 1.7 times as biased on the 5 µm
receiver at dt = 4e-4 s. :func:`reaction_probability` therefore refuses ``P > REACTION_P_MAX`` (0.1: rate
constant ~6–10 % too large) and warns above ``REACTION_P_WARN`` (0.02: ~1–2 %).

Degradation
-----------
With ``degradation_rate = k_d > 0`` every molecule draws one exponential lifetime ``L`` (mean
``1 / k_d``) from its own random stream at release and takes the steps ``k`` with
``(k + 1/2) dt < L`` (midpoint rule: a molecule that dies within a step is counted as absorbed
in it with the probability ``~1/2`` that the absorption came first, error ``O((k_d dt)^2)``).

Units: µm, s, µm²/s.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .._version import __version__
from ..core.scenario import as_scenario
from .api import ABSORPTION_MODES, REFLECTION_MODES
from .runner import check_count

__all__ = [
    "ABSORPTION_MODES",
    "KEEP_TIMES_MAX",
    "MAX_BINS",
    "NUMBA_MISSING",
    "REACTION_P_MAX",
    "REACTION_P_WARN",
    "REFLECTION_MODES",
    "FixedStepParams",
    "default_bin_edges",
    "params_from_scenario",
    "plan",
    "reaction_probability",
    "transmitter_counts",
]

#: runs above this many molecules keep only per-bin counts by default (memory bound)
KEEP_TIMES_MAX = 10_000_000
#: maximum number of time bins of the default bin grid
MAX_BINS = 20_000
#: the one line the numba kernels raise (ImportError) where numba is not installed
NUMBA_MISSING = "the particle simulators need numba (pip install 'mcvd[sim]')"
#: reaction probabilities per crossing above this are refused (first-order scheme)
REACTION_P_MAX = 0.1
#: reaction probabilities per crossing above this warn (bias measured in the benchmark)
REACTION_P_WARN = 0.02


def _check_positive(name: str, v) -> None:
    """One-line ValueError unless ``v`` is a finite real number > 0 (bools rejected)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")


def reaction_probability(k: float, D: float, dt: float, *, warn: bool = True) -> float:
    """Reaction probability of a step that ends inside a reactive receiver.

    ``P = k sqrt(pi dt / D)`` (Erban & Chapman 2007; see the module docstring for its measured
    bias). Perfectly absorbing receivers (``k = inf``) give 1.

    Parameters
    ----------
    k : float
        Reaction rate constant (µm/s), > 0, or ``inf``.
    D : float
        Diffusion coefficient (µm²/s).
    dt : float
        Time step (s).
    warn : bool
        Warn when the probability is above :data:`REACTION_P_WARN`.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        ``P > REACTION_P_MAX`` (the message gives the largest time step allowed).

    Warns
    -----
    UserWarning
        ``REACTION_P_WARN < P <= REACTION_P_MAX``.

    Examples
    --------
    >>> round(reaction_probability(10.0, 79.4, 1e-5), 6)
    0.00629
    >>> reaction_probability(math.inf, 79.4, 1e-4)
    1.0
    """
    if k == math.inf:
        return 1.0
    p = k * math.sqrt(math.pi * dt / D)
    if p > REACTION_P_MAX:
        dt_max = D / math.pi * (REACTION_P_MAX / k) ** 2
        raise ValueError(
            f"dt: reaction_rate {k:g} µm/s gives reaction probability {p:.3g} per crossing at "
            f"dt = {dt:g} s, above {REACTION_P_MAX} (the reactive scheme is first order in it); "
            f"use dt <= {dt_max:.3g} s"
        )
    if warn and p > REACTION_P_WARN:
        warnings.warn(
            f"reaction_rate {k:g} µm/s: reaction probability {p:.3g} per crossing at dt = {dt:g} s "
            f"(> {REACTION_P_WARN}): F is biased by the first-order reactive scheme; a smaller dt "
            "reduces it",
            UserWarning,
            stacklevel=3,
        )
    return p


@dataclass(frozen=True)
class FixedStepParams:
    """Plain-array description of a fixed-step run (picklable; see :func:`params_from_scenario`).

    Attributes
    ----------
    D : float
        Diffusion coefficient (µm²/s).
    dt : float
        Time step (s).
    t_end : float
        Horizon (s).
    tx_pos : tuple
        Transmitter positions (µm), shape (n_tx, 3).
    tx_release : tuple
        Release times (s), shape (n_tx,).
    tx_weight : tuple
        Relative molecule counts of the transmitters (scenario ``molecules``).
    rx_center, rx_radius : tuple
        Receiver centres (µm, (n_rx, 3)) and radii (µm).
    plane_point, plane_normal : tuple
        Reflecting planes (point, unit normal into the fluid), (n_planes, 3) each.
    box_min, box_max : tuple
        Reflecting axis-aligned boxes, (n_boxes, 3) each.
    absorption : str
        ``"end-of-step"`` or ``"bridge"``.
    reflection : str
        ``"elastic"`` or ``"rollback"``.
    destruction_radius : float
        ``inf`` (default: none).
    bin_edges : tuple
        Time-bin edges (s) of the result.
    keep_times : bool
        Keep individual absorption times.
    rx_reaction_rate : tuple
        Reaction rate constant per receiver (µm/s; ``inf`` = perfectly absorbing); empty (the
        default) means every receiver absorbs.
    degradation_rate : float
        Degradation rate of the molecules (1/s), >= 0.

    Examples
    --------
    >>> p = FixedStepParams(79.4, 1e-4, 2.0, ((0, 0, 10),), (0.0,), (100,), ((10, 0, 0),),
    ...                     (5.0,), rx_reaction_rate=(20.0,))
    >>> round(p.reaction_probabilities(warn=False)[0], 5)
    0.03978
    """

    D: float
    dt: float
    t_end: float
    tx_pos: tuple
    tx_release: tuple
    tx_weight: tuple
    rx_center: tuple
    rx_radius: tuple
    plane_point: tuple = ()
    plane_normal: tuple = ()
    box_min: tuple = ()
    box_max: tuple = ()
    absorption: str = "bridge"
    reflection: str = "elastic"
    destruction_radius: float = math.inf
    bin_edges: tuple = ()
    keep_times: bool = True
    rx_reaction_rate: tuple = ()
    degradation_rate: float = 0.0

    def __post_init__(self):
        for name in ("D", "dt", "t_end"):
            _check_positive(name, getattr(self, name))
        if self.dt > self.t_end:
            raise ValueError(f"dt ({self.dt}) must be <= the horizon t_end ({self.t_end})")
        if self.absorption not in ABSORPTION_MODES:
            raise ValueError(
                f"absorption must be one of {ABSORPTION_MODES}, got {self.absorption!r}"
            )
        if self.reflection not in REFLECTION_MODES:
            raise ValueError(
                f"reflection must be one of {REFLECTION_MODES}, got {self.reflection!r}"
            )
        if not (self.destruction_radius > 0):
            raise ValueError(f"destruction_radius must be > 0, got {self.destruction_radius!r}")
        if len(self.tx_pos) < 1 or len(self.rx_radius) < 1:
            raise ValueError("at least one transmitter and one receiver are required")
        if self.rx_reaction_rate and len(self.rx_reaction_rate) != len(self.rx_radius):
            raise ValueError(
                f"rx_reaction_rate must have one entry per receiver ({len(self.rx_radius)}), "
                f"got {len(self.rx_reaction_rate)}"
            )
        for k in self.rx_reaction_rate:
            if not (k == math.inf or (isinstance(k, (int, float)) and 0 < k < math.inf)):
                raise ValueError(f"rx_reaction_rate must be > 0 (or inf), got {k!r}")
        d = self.degradation_rate
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not (0 <= d < math.inf):
            raise ValueError(f"degradation_rate must be a finite number >= 0, got {d!r}")

    @property
    def n_receivers(self) -> int:
        """Number of receivers."""
        return len(self.rx_radius)

    def reaction_probabilities(self, warn: bool = True) -> tuple[float, ...]:
        """Reaction probability of a step ending inside each receiver (1 = absorbing).

        Refuses (and, with ``warn``, warns) as :func:`reaction_probability` does.
        """
        rates = self.rx_reaction_rate or (math.inf,) * self.n_receivers
        return tuple(reaction_probability(k, self.D, self.dt, warn=warn) for k in rates)

    def metadata(self) -> dict:
        """Run metadata recorded in every result."""
        meta = {
            "method": "fixed-step",
            "version": __version__,
            "D": self.D,
            "dt": self.dt,
            "t_end": self.t_end,
            "absorption": self.absorption,
            "reflection": self.reflection,
            "destruction_radius": self.destruction_radius,
            "rng": "xoroshiro128++ per molecule (splitmix64 seeding), 256-layer ziggurat",
        }
        if any(k != math.inf for k in self.rx_reaction_rate):
            meta["reaction_rate"] = list(self.rx_reaction_rate)
            meta["reaction_scheme"] = (
                "end of step inside: reaction with probability k sqrt(pi dt / D), radial mirror "
                "otherwise (Erban & Chapman 2007; first order in the probability)"
            )
        if self.degradation_rate > 0:
            meta["degradation_rate"] = self.degradation_rate
        return meta


def _n_steps(span, dt):
    """Number of whole steps of ``dt`` in ``span`` (tolerant to rounding of ``span / dt``)."""
    return np.floor(np.asarray(span, dtype=float) / dt * (1 + 1e-12) + 1e-9)


def _split_counts(weights, n: int) -> np.ndarray:
    """Molecules per transmitter: ``n`` split in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = n * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = n - int(base.sum())
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    return base


def transmitter_counts(geometry, n_molecules: int | None = None) -> np.ndarray:
    """Molecules per transmitter of a run (shared by the fixed-step and event-driven simulators).

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        The channel; its transmitters' ``molecules`` are the weights.
    n_molecules : int, optional
        Total molecules (>= 1), split in proportion to the weights (largest remainder); default
        the transmitters' own counts.

    Returns
    -------
    numpy.ndarray of int64, shape (n_transmitters,)

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry, Sphere, Transmitter
    >>> g = Geometry(79.4, (Transmitter((0, 0, 0), 3), Transmitter((0, 0, 20), 1)),
    ...              (Sphere((0, 0, 10), 2),))
    >>> transmitter_counts(g, 10).tolist()
    [8, 2]
    """
    counts = np.array([t.molecules for t in geometry.transmitters], dtype=np.int64)
    if n_molecules is not None:
        counts = _split_counts(counts, check_count(n_molecules, "n_molecules"))
    return counts


def default_bin_edges(t_end: float, dt: float) -> np.ndarray:
    """Bin edges ``0, w, 2w, ..., t_end`` with ``w`` the smallest multiple of ``dt`` giving at most
    :data:`MAX_BINS` bins (so every multiple of ``w`` up to ``t_end`` is an exact grid point).

    Parameters
    ----------
    t_end : float
        Horizon (s).
    dt : float
        Time step (s).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> default_bin_edges(2.0, 1e-4).size
    20001
    """
    n_steps = int(_n_steps(t_end, dt))
    stride = max(1, math.ceil(n_steps / MAX_BINS))
    edges = np.arange(0, n_steps + 1, stride) * dt
    if edges[-1] < t_end * (1 - 1e-9):
        edges = np.append(edges, t_end)
    return edges


def params_from_scenario(
    scenario,
    *,
    dt: float | None = None,
    t_end: float | None = None,
    absorption: str = "bridge",
    reflection: str = "elastic",
    destruction_radius: float | None = None,
    n_molecules: int | None = None,
    bin_edges=None,
    keep_times: bool | None = None,
) -> tuple[FixedStepParams, int]:
    """Kernel parameters and the total molecule count of a scenario.

    Reactive receivers and degradation are carried over (their time-step limit is checked, see
    :func:`reaction_probability`).

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        Validated scenario, its dictionary, or a JSON file.
    dt, t_end : float, optional
        Override the scenario's ``time.dt`` / ``time.end`` (s).
    absorption, reflection : str
        Modes (see :mod:`mcvd.sim.fixedstep`).
    destruction_radius : float, optional
        Remove molecules farther than this from every receiver centre (biased; warns).
    n_molecules : int, optional
        Total molecules (split over transmitters in proportion to their ``molecules``); default
        the scenario's total.
    bin_edges : array_like, optional
        Result time bin edges (s) (default :func:`default_bin_edges`).
    keep_times : bool, optional
        Keep individual absorption times (default: when ``n_molecules <= 1e7``).

    Returns
    -------
    (FixedStepParams, int)

    Examples
    --------
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 50},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}]}
    >>> p, n = params_from_scenario(sc, dt=1e-3)
    >>> n, p.dt, p.t_end
    (50, 0.001, 2.0)
    """
    scenario = as_scenario(scenario)
    geom = scenario.geometry()
    geom.require_physics("method 'fixed-step'", supported=("reaction_rate", "degradation_rate"))
    dt = scenario.time.dt if dt is None else dt
    t_end = scenario.time.end if t_end is None else t_end
    _check_positive("dt", dt)
    _check_positive("t_end", t_end)
    counts = transmitter_counts(geom, n_molecules)
    n = int(counts.sum())
    rel = [t.release_time for t in geom.transmitters]
    if any(r >= t_end for r in rel):
        raise ValueError(f"transmitter release_time must be < the horizon {t_end} s")
    if destruction_radius is None:
        destruction_radius = math.inf
    else:
        warnings.warn(
            "destruction_radius removes molecules that could still return to a receiver: "
            "F(t) is biased low",
            UserWarning,
            stacklevel=2,
        )
    edges = default_bin_edges(t_end, dt) if bin_edges is None else np.asarray(bin_edges, float)
    rates = tuple(float(s.reaction_rate) for s in geom.receivers)
    p = FixedStepParams(
        D=float(geom.D),
        dt=float(dt),
        t_end=float(t_end),
        tx_pos=tuple(t.position for t in geom.transmitters),
        tx_release=tuple(float(r) for r in rel),
        tx_weight=tuple(int(c) for c in counts),
        rx_center=tuple(s.center for s in geom.receivers),
        rx_radius=tuple(s.radius for s in geom.receivers),
        plane_point=tuple(pl.point for pl in geom.planes),
        plane_normal=tuple(pl.normal for pl in geom.planes),
        box_min=tuple(b.min for b in geom.obstacles),
        box_max=tuple(b.max for b in geom.obstacles),
        absorption=absorption,
        reflection=reflection,
        destruction_radius=float(destruction_radius),
        bin_edges=tuple(float(e) for e in edges),
        keep_times=bool(n <= KEEP_TIMES_MAX) if keep_times is None else bool(keep_times),
        rx_reaction_rate=() if all(k == math.inf for k in rates) else rates,
        degradation_rate=float(geom.degradation_rate),
    )
    p.reaction_probabilities()  # refuse (or warn about) a time step too coarse for the scheme
    return p, n


def plan(
    scenario,
    options,
    *,
    n_molecules: int | None = None,
    t_end: float | None = None,
    bin_edges=None,
    keep_times: bool | None = None,
) -> tuple[FixedStepParams, int]:
    """Kernel parameters of a fixed-step run (the planner :func:`mcvd.sim.simulate` calls).

    Parameters
    ----------
    scenario : Scenario, dict, str or Path
        The channel.
    options : mcvd.sim.api.FixedStepOptions
        ``dt``, ``absorption``, ``reflection``, ``destruction_radius``.
    n_molecules, t_end, bin_edges, keep_times
        See :func:`params_from_scenario`.

    Returns
    -------
    (FixedStepParams, int)
        Parameters and the total molecule count.

    Examples
    --------
    >>> from mcvd.sim.api import FixedStepOptions
    >>> sc = {"D": 79.4, "transmitter": {"position": [0, 0, 10], "molecules": 50},
    ...       "receivers": [{"center": [10, 0, 0], "radius": 5}]}
    >>> p, n = plan(sc, FixedStepOptions(dt=1e-3))
    >>> n, p.dt
    (50, 0.001)
    """
    return params_from_scenario(
        scenario,
        dt=options.dt,
        t_end=t_end,
        absorption=options.absorption,
        reflection=options.reflection,
        destruction_radius=options.destruction_radius,
        n_molecules=n_molecules,
        bin_edges=bin_edges,
        keep_times=keep_times,
    )
