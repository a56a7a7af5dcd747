"""Slot probabilities of on-off keying over a diffusion channel.

A bit 1 in slot ``k`` releases ``N`` molecules at ``k T_s``; a molecule released then is absorbed
by the receiver in slot ``k + j``, ``[(k+j) T_s, (k+j+1) T_s)``, with probability

    p_j = F((j+1) T_s) - F(j T_s),   j = 0 ... m,

where ``F`` is the channel response of that receiver (fraction absorbed by time ``t``) and ``m``
the ISI memory. The part of the response beyond the memory, the *tail*
``F(inf) - F((m+1) T_s)``, is neglected by the count law and reported here. In three dimensions
``F(inf) - F(t)`` decays only like ``t^(-1/2)``, so the tail is rarely small: a bit 1 still sends
``p1 N tail`` expected molecules, on average, into the slots beyond the memory (see
:attr:`SlotProbabilities.tail_molecules`).

Sources: any registered channel model of a scenario or geometry (``free``, ``kamber2024``,
``images-ho``, ``exact``, ...), a particle simulation of one transmitter released at ``t = 0``
(:class:`mcvd.sim.result.SimulationResult`; the ``p_j`` then carry binomial standard errors), or
given numbers (:meth:`SlotProbabilities.from_values`).

Several transmitters: the one named by ``transmitter`` is the signal; every other transmitter of
the scenario is an interferer sending its own i.i.d. bits with the same symbol duration, offset by
its release time relative to the signal transmitter (modulo ``T_s``). Its molecules reach the
receiver in the current slot with ``q_j = F_i((j+1) T_s - d_i) - F_i(j T_s - d_i)``, ``j = 0 ... m``
(``F_i(t < 0) = 0``; ``d_i`` the offset), the current interfering bit included.

Units: times in s, probabilities dimensionless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import erf

from . import _checks

__all__ = ["SlotProbabilities", "slot_probabilities", "tail_union_bound"]

#: slot probabilities this far below zero (beyond the evaluation error) are taken as a model
#: whose F decreases: refused rather than clipped
_NEGATIVE_TOL = 1e-12


@dataclass(frozen=True, eq=False)
class SlotProbabilities:
    """Per-slot absorption probabilities of one link (transmitter -> receiver).

    Attributes
    ----------
    p : numpy.ndarray, shape (memory + 1,)
        ``p_j``, the probability that a molecule released at the start of a slot is absorbed
        ``j`` slots later (``p_0``: in its own slot).
    symbol_duration : float
        ``T_s`` (s).
    model : str
        Source of ``F`` (a model name, ``"simulation:<method>"`` or ``"given"``).
    tail : float or None
        ``F(inf) - F((m+1) T_s)`` of the source (None when ``F(inf)`` is not available).
    tail_bound : float
        An upper bound on the tail (``tail`` itself when it is known; ``inf`` when nothing is
        known).
    tail_note : str
        How the tail was obtained.
    se : numpy.ndarray or None
        Standard errors of ``p`` (simulation: binomial, ``sqrt(p (1 - p) / n)``).
    n_samples : int or None
        Molecules of the simulation (the ``p_j`` are multinomial: covariance
        ``(diag(p) - p p^T) / n``).
    error_bound : float
        Bound on the evaluation error of every ``p_j`` (``exact``: twice its error estimate on
        ``F``; closed forms: 0). It does not include a model's approximation error.
    interference : numpy.ndarray, shape (n_interferers, memory + 1)
        Slot probabilities ``q_j`` of the other transmitters at this receiver.
    interference_offsets : numpy.ndarray, shape (n_interferers,)
        Their release offsets (s), in ``[0, T_s)``.
    receiver, transmitter : int
        Indices of the receiver and of the signal transmitter in the scenario.
    info : dict
        Details of the source (e.g. the ``exact`` model's error estimate).
    """

    p: np.ndarray
    symbol_duration: float
    model: str = "given"
    tail: float | None = None
    tail_bound: float = math.inf
    tail_note: str = "not available"
    se: np.ndarray | None = None
    n_samples: int | None = None
    error_bound: float = 0.0
    interference: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))
    interference_offsets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    receiver: int = 0
    transmitter: int = 0
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        p = _probabilities(self.p, "p", self.model, self.error_bound)
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "symbol_duration", _checks.symbol_duration(self.symbol_duration))
        q = np.asarray(self.interference, dtype=float)
        if q.size == 0:
            q = np.zeros((0, p.size))
        if q.ndim != 2 or q.shape[1] != p.size:
            raise ValueError(
                f"interference must have shape (n_interferers, {p.size}), got {q.shape}"
            )
        q = np.array(
            [_probabilities(row, "interference", self.model, self.error_bound) for row in q]
        )
        object.__setattr__(self, "interference", q.reshape(-1, p.size))
        off = np.asarray(self.interference_offsets, dtype=float).reshape(-1)
        if off.size != q.shape[0]:
            raise ValueError("interference_offsets must have one entry per interferer")
        object.__setattr__(self, "interference_offsets", off)
        if self.se is not None:
            se = np.asarray(self.se, dtype=float)
            if se.shape != p.shape or not np.all(np.isfinite(se)) or np.any(se < 0):
                raise ValueError("se must be finite, >= 0 and have the shape of p")
            object.__setattr__(self, "se", se)
        object.__setattr__(self, "info", dict(self.info))

    @classmethod
    def from_values(cls, p, symbol_duration: float = 1.0, *, interference=None, tail=None):
        """Slot probabilities from given numbers.

        Parameters
        ----------
        p : array_like
            ``p_0 ... p_m`` (each in ``[0, 1]``, sum ``<= 1``).
        symbol_duration : float
            ``T_s`` (s).
        interference : array_like, optional
            Shape (n_interferers, m + 1): interferers' ``q_j``.
        tail : float, optional
            The neglected tail, if known.

        Returns
        -------
        SlotProbabilities

        Examples
        --------
        >>> s = SlotProbabilities.from_values([0.3, 0.1, 0.05])
        >>> s.memory, s.tail_bound
        (2, inf)
        """
        tb = math.inf if tail is None else _checks.real(tail, "tail", lo=0.0, hi=1.0)
        return cls(
            np.asarray(p, dtype=float),
            symbol_duration,
            tail=None if tail is None else tb,
            tail_bound=tb,
            tail_note="given" if tail is not None else "not available (given p_j)",
            interference=np.zeros((0, 1)) if interference is None else interference,
            interference_offsets=np.zeros(0 if interference is None else len(interference)),
        )

    @property
    def memory(self) -> int:
        """ISI memory ``m`` (slots after the current one)."""
        return int(self.p.size - 1)

    @property
    def n_interferers(self) -> int:
        """Number of interfering transmitters."""
        return int(self.interference.shape[0])

    def tail_molecules(self, molecules: int, p1: float = 0.5) -> float:
        """Expected molecules per slot that the memory neglects, ``p1 N tail_bound``.

        Examples
        --------
        >>> SlotProbabilities.from_values([0.3, 0.1], tail=0.02).tail_molecules(1000)
        10.0
        """
        return _checks.prior(p1) * _checks.molecules(molecules) * self.tail_bound

    def with_values(self, p=None, interference=None) -> SlotProbabilities:
        """A copy with other ``p`` (and/or ``interference``), everything else kept.

        Examples
        --------
        >>> SlotProbabilities.from_values([0.3, 0.1]).with_values([0.2, 0.1]).p.tolist()
        [0.2, 0.1]
        """
        import dataclasses

        return dataclasses.replace(
            self,
            p=self.p if p is None else np.asarray(p, dtype=float),
            interference=self.interference if interference is None else interference,
        )

    def to_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> sorted(SlotProbabilities.from_values([0.3, 0.1]).to_dict())[:3]
        ['error_bound', 'interference', 'interference_offsets']
        """
        return {
            "p": self.p.tolist(),
            "symbol_duration": self.symbol_duration,
            "memory": self.memory,
            "model": self.model,
            "tail": self.tail,
            "tail_bound": None if math.isinf(self.tail_bound) else self.tail_bound,
            "tail_note": self.tail_note,
            "se": None if self.se is None else self.se.tolist(),
            "n_samples": self.n_samples,
            "error_bound": self.error_bound,
            "interference": self.interference.tolist(),
            "interference_offsets": self.interference_offsets.tolist(),
            "receiver": self.receiver,
            "transmitter": self.transmitter,
        }


def _probabilities(p, name: str, model: str, error_bound: float) -> np.ndarray:
    """Validate ``p_j``: finite, within [0, 1] (a negative value within the evaluation error is
    set to 0), sum <= 1."""
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or p.size < 1:
        raise ValueError(f"{name} must be a non-empty 1-D array of slot probabilities")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite (got NaN or inf)")
    slack = max(2.0 * float(error_bound), _NEGATIVE_TOL)
    j = int(np.argmin(p))
    if p[j] < -slack:
        raise ValueError(
            f"{name}: slot probability {j} is {p[j]:.3g} < 0 — the response of model {model!r} "
            "decreases there, so it is not a channel response (use model 'exact' or "
            "'images-ho')"
        )
    p = np.clip(p, 0.0, None)
    if p.sum() > 1.0 + slack:
        raise ValueError(f"{name}: slot probabilities sum to {p.sum():.17g} > 1")
    return p


def tail_union_bound(geometry, receiver: int, t: float) -> float:
    """Upper bound on ``F(inf) - F(t)`` of one receiver, valid for the true channel.

    A molecule first absorbed by the receiver (or one of its plane images) after ``t`` hits
    that sphere after ``t``, so ``F(inf) - F(t) <= sum_k (a/r_k) erf((r_k - a)/sqrt(4 D t))``
    over the receiver and its images (each alone in free space; ``r_k`` its centre distance from
    the transmitter). Between two parallel planes the image array is infinite and the bound is
    ``inf``.

    Parameters
    ----------
    geometry : mcvd.core.geometry.Geometry
        One transmitter.
    receiver : int
        Receiver index.
    t : float
        Time (s), > 0.

    Returns
    -------
    float

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 0), [((10, 0, 0), 5)])
    >>> round(tail_union_bound(g, 0, 1.0), 6)  # free space: exactly F(inf) - F(1)
    0.154233
    """
    t = _checks.real(t, "t", positive=True)
    if geometry.is_slab:
        return math.inf
    rx = geometry.receivers[receiver]
    x = geometry.transmitter.x
    total = 0.0
    for s in geometry.images().spheres(rx):
        r = float(np.linalg.norm(x - s.c))
        total += s.radius / r * float(erf((r - s.radius) / math.sqrt(4.0 * geometry.D * t)))
    return total


def slot_probabilities(
    source,
    symbol_duration: float,
    memory: int = 10,
    *,
    model: str = "exact",
    receiver: int = 0,
    transmitter: int = 0,
    geometry=None,
    **options,
) -> SlotProbabilities:
    """Slot probabilities ``p_j`` of a channel for on-off keying with symbol duration ``T_s``.

    Parameters
    ----------
    source : Scenario, Geometry, dict, str, Path or SimulationResult
        A channel (evaluated with ``model``), or a particle simulation of one transmitter
        released at ``t = 0`` (its horizon must reach ``(memory + 1) T_s``).
    symbol_duration : float
        ``T_s`` (s), > 0.
    memory : int
        ISI memory ``m`` >= 0: the current slot and ``m`` earlier ones.
    model : str
        Registered channel model (ignored for a simulation).
    receiver : int
        Receiver whose counts are detected.
    transmitter : int
        The signal transmitter; the other transmitters of the scenario interfere.
    geometry : Geometry, optional
        For a simulation: the simulated channel, used to bound the tail.
    **options
        Passed to the model (e.g. ``tol``).

    Returns
    -------
    SlotProbabilities

    Raises
    ------
    ValueError
        A bad ``symbol_duration``/``memory``/index, a memory beyond a simulation's horizon, or a
        model whose ``F`` decreases.

    Examples
    --------
    The paper's topology (µm, µm²/s), 1 s slots, memory 10, the exact channel:

    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> s = slot_probabilities(g, 1.0, 10)
    >>> round(float(s.p[0]), 6), round(float(s.tail), 4), s.error_bound < 1e-9
    (0.314795, 0.0684, True)
    """
    from ..sim.result import SimulationResult

    T = _checks.symbol_duration(symbol_duration)
    m = _checks.memory(memory)
    if isinstance(source, SimulationResult):
        return _from_simulation(source, T, m, receiver, geometry)
    return _from_model(source, T, m, model, receiver, transmitter, options)


def _index(value, name: str, n: int) -> int:
    i = _checks.integer(value, name, minimum=0)
    if i >= n:
        raise ValueError(f"{name} must be < {n} (the scenario has {n}), got {i}")
    return i


def _channel_geometry(source):
    from ..core.models import _as_geometry
    from ..core.scenario import Scenario, as_scenario

    if isinstance(source, (dict, str)) or hasattr(source, "__fspath__"):
        source = as_scenario(source)
    if not isinstance(source, Scenario) and not hasattr(source, "transmitters"):
        raise TypeError(
            "source must be a Scenario, Geometry, scenario dict/path or SimulationResult, got "
            f"{type(source).__name__}"
        )
    return _as_geometry(source)


def _from_model(source, T, m, model, receiver, transmitter, options) -> SlotProbabilities:
    geom = _channel_geometry(source)
    rx = _index(receiver, "receiver", geom.n_receivers)
    sig = _index(transmitter, "transmitter", len(geom.transmitters))
    t0 = geom.transmitters[sig].release_time
    rows, offsets, infos, tails = [], [], {}, None
    for i, tx in enumerate(geom.transmitters):
        single = geom.with_transmitter(tx.position)
        offset = 0.0 if i == sig else _checks.release_offset(tx.release_time, t0, T)
        F, F_inf, F_total_end, info = _evaluate(single, T, m, offset, rx, model, options)
        infos.update(info)
        rows.append(np.diff(F))
        offsets.append(offset)
        if i == sig:
            tails = _tail(single, rx, (m + 1) * T, F[-1], F_inf, F_total_end)
    err = 2.0 * float(infos.get("error_estimate", 0.0))
    inter = [r for i, r in enumerate(rows) if i != sig]
    return SlotProbabilities(
        rows[sig],
        T,
        model=model,
        tail=tails[0],
        tail_bound=tails[1],
        tail_note=tails[2],
        error_bound=err,
        interference=np.array(inter) if inter else np.zeros((0, m + 1)),
        interference_offsets=np.array([o for i, o in enumerate(offsets) if i != sig]),
        receiver=rx,
        transmitter=sig,
        info=infos,
    )


def _evaluate(single, T, m, offset, rx, model, options):
    """F of receiver ``rx`` at ``j T - offset`` (j = 0..m+1, clipped at 0), its F(inf) (None if
    the model cannot give it) and the total F at (m+1) T."""
    from ..core.models import response

    t = np.clip(np.arange(m + 2) * T - offset, 0.0, None)
    if single.is_slab:  # F(inf) is refused between two parallel planes
        res = response(single, t, model=model, **options)
        return res.F_per_receiver[rx], None, float(res.F[-1]), dict(res.info)
    res = response(single, np.append(t, math.inf), model=model, **options)
    F = res.F_per_receiver[rx]
    return F[:-1], float(F[-1]), float(res.F[-2]), dict(res.info)


def _tail(single, rx, t_end, F_end, F_inf, F_total_end):
    """(tail, tail_bound, note) of the signal link."""
    if F_inf is not None:
        tail = float(F_inf - F_end)
        if tail < -_NEGATIVE_TOL:
            raise ValueError(
                f"tail: F(inf) - F({t_end:g} s) = {tail:.3g} < 0 — the model's response "
                "overshoots its own long-time limit"
            )
        tail = max(tail, 0.0)
        return tail, tail, "F(inf) - F((m+1) T_s) of the model"
    bound = max(0.0, 1.0 - F_total_end)
    return (
        None,
        bound,
        "F(inf) is not available between two parallel planes; every molecule is eventually "
        "absorbed there, so the tail is at most 1 - F_total((m+1) T_s)",
    )


def _from_simulation(res, T, m, receiver, geometry) -> SlotProbabilities:
    rx = _index(receiver, "receiver", res.n_receivers)
    horizon = float(res.bin_edges[-1])
    t_end = (m + 1) * T
    if t_end > horizon * (1.0 + 1e-12):
        raise ValueError(
            f"memory: (memory + 1) * symbol_duration = {t_end:g} s exceeds the simulation "
            f"horizon {horizon:g} s (largest memory here: {max(int(horizon / T) - 1, 0)})"
        )
    edges = np.arange(m + 2) * T
    edges[-1] = min(edges[-1], horizon)
    n = res.n_molecules
    if n < 1:
        raise ValueError("simulation: the result has no molecules")
    counts = res.bin_counts(edges)[rx]
    p = counts / n
    absorbed_after = int(res.n_absorbed[rx]) - int(counts.sum())
    lower = absorbed_after / n
    if geometry is not None:
        bound = tail_union_bound(_channel_geometry(geometry), rx, t_end)
        note = (
            f"simulated up to {horizon:g} s: tail >= {lower:.3g} (absorbed after the memory "
            "within the horizon); tail_bound is the union bound of the true channel"
        )
    else:
        bound = math.inf
        note = (
            f"not available from a simulation with horizon {horizon:g} s (tail >= {lower:.3g}); "
            "pass geometry= for a bound"
        )
    method = res.metadata.get("method", "")
    return SlotProbabilities(
        p,
        T,
        model=f"simulation:{method}" if method else "simulation",
        tail=None,
        tail_bound=max(bound, lower),
        tail_note=note,
        se=np.sqrt(p * (1.0 - p) / n),
        n_samples=n,
        error_bound=0.0,
        receiver=rx,
        transmitter=0,
        info={"n_molecules": n, "horizon": horizon},
    )
