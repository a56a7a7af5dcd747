"""Model registry and the closed-form channel models.

A model is a function ``func(geometry, times, **options) -> ndarray (n_receivers, n_times)``
returning ``F`` per real receiver for a geometry with exactly one transmitter released at
``t = 0``; ``times`` are >= 0 and may contain ``inf`` (the long-time limit; a model that cannot
evaluate it raises ``ValueError``). :func:`response` adds several transmitters (weighted by their
molecule counts, shifted by their release times) and packs the result.
Other modules add models with :func:`register_model`. A model may instead return an object with
attributes ``F_per_receiver`` (that array) and ``info`` (a dict copied into
:attr:`ResponseResult.info`, e.g. the error estimate of ``exact``).

Built-in models (all lengths µm, times s):

``free``
    Each real receiver alone in free space (planes and other receivers ignored), Yilmaz 2014.
``kamber2024``
    The paper's first-order image model: every receiver and its plane images are
    absorbers ``k``; ``F_k = (r_k/r_0k) erfc((r_0k - r_k)/a) - sum_{m != k} r_k r_m /
    (r_0m r_0mk) erfc((r_0k + r_0mk - r_k - r_m)/a)`` with ``a = sqrt(4Dt)`` and ``r_0mk`` the
    distance from the Kelvin point of the transmitter in sphere ``m`` to ``c_k``. For one
    receiver and one plane this is exactly the paper's two-sphere formula; for more absorbers
    (corners, slabs, several receivers) it is the pairwise first-order generalisation — an
    approximation that neglects every multiple re-emission.
``kamber2024-conv``
    Same amplitudes, convolution-consistent delay ``(r_0m - r_m) + (r_0mk - r_k)``.
``images-ho``
    Higher-order image model: the whole alternating Kelvin chain series of :mod:`mcvd.core.kelvin`
    carried to convergence in the time domain (see :func:`images_ho`).

Plane configurations: one plane, two or three orthogonal planes, two parallel planes (the slab
image array is truncated by :func:`mcvd.core.geometry.slab_periods` at ``tol`` for the largest finite
time; ``t = inf`` is refused in a slab because every molecule is eventually absorbed there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .freespace import erfc_sum, free_F
from .geometry import Geometry, absorbers, as_times
from .kelvin import CaptureResult, kelvin_chains
from .scenario import Scenario

__all__ = [
    "ResponseResult",
    "absorber_response",
    "available_models",
    "capture",
    "get_model",
    "images_ho",
    "kamber2024",
    "kamber2024_conv",
    "register_model",
    "response",
]

_REGISTRY: dict[str, Callable] = {}
#: model name -> the optional physics it represents (see :meth:`Geometry.physics`)
_SUPPORTS: dict[str, frozenset[str]] = {}


def register_model(name: str, func: Callable, *, overwrite: bool = False, supports=()) -> None:
    """Register a channel model under ``name``.

    Parameters
    ----------
    name : str
        Model name used by :func:`response` and the CLI ``--model``.
    func : callable
        ``func(geometry, times, **options) -> ndarray (n_receivers, n_times)`` (see module doc).
    overwrite : bool
        Allow replacing an existing model.
    supports : iterable of str
        Optional physics the model represents: ``"reaction_rate"`` (reactive receivers),
        ``"degradation_rate"`` (degrading molecules). :func:`response` refuses the others.

    Examples
    --------
    >>> register_model("zero", lambda g, t: np.zeros((g.n_receivers, len(t))), overwrite=True)
    >>> "zero" in available_models()
    True
    """
    _register(_REGISTRY, "model", name, func, overwrite)
    _SUPPORTS[name] = frozenset(supports)


def _register(registry: dict, kind: str, name, func, overwrite: bool) -> None:
    """Add ``func`` to ``registry`` under ``name`` (checks shared by the model and reference
    registries; ``kind`` names the registry in the messages)."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"{kind} name must be a non-empty string")
    if not callable(func):
        raise TypeError(f"{kind} {name!r}: func must be callable")
    if name in registry and not overwrite:
        raise ValueError(f"{kind} {name!r} is already registered")
    registry[name] = func


def available_models() -> list[str]:
    """Names of the registered models.

    Examples
    --------
    >>> {"free", "kamber2024", "kamber2024-conv", "images-ho"} <= set(available_models())
    True
    """
    return sorted(_REGISTRY)


def get_model(name: str) -> Callable:
    """The model function registered under ``name`` (``ValueError`` if unknown).

    Examples
    --------
    >>> get_model("free").__name__
    'free'
    """
    if name not in _REGISTRY:
        raise ValueError(f"model must be one of {sorted(_REGISTRY)}, got {name!r}")
    return _REGISTRY[name]


@dataclass(frozen=True, eq=False)
class ResponseResult:
    """Channel response of a model.

    Attributes
    ----------
    times : numpy.ndarray, shape (n_t,)
        Times (s).
    F : numpy.ndarray, shape (n_t,)
        Expected absorbed fraction, total over receivers.
    F_per_receiver : numpy.ndarray, shape (n_receivers, n_t)
        Per real receiver (each summed over its plane images).
    model : str
        Model name.
    molecules : int
        Total molecules released (expected counts are ``molecules * F``).
    info : dict
        Model-specific details.
    """

    times: np.ndarray
    F: np.ndarray
    F_per_receiver: np.ndarray
    model: str
    molecules: int = 1
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready dictionary (keys ``times``, ``F``, ``F_per_receiver``, ``model``; ``info``
        when the model reported any, e.g. the error estimate of ``exact``)."""
        out = {
            "model": self.model,
            "times": self.times.tolist(),
            "F": self.F.tolist(),
            "F_per_receiver": self.F_per_receiver.tolist(),
            "molecules": self.molecules,
        }
        if self.info:
            out["info"] = {
                k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in self.info.items()
            }
        return out


def _response_times(times) -> np.ndarray:
    return as_times(times, allow_inf=True, one_d=True)


def _as_geometry(obj) -> Geometry:
    if isinstance(obj, Geometry):
        return obj
    if isinstance(obj, Scenario):
        return obj.geometry()
    raise TypeError(f"expected a Geometry or Scenario, got {type(obj).__name__}")


def response(scenario_or_geometry, times, model: str = "images-ho", **options) -> ResponseResult:
    """Channel response ``F(t)`` of a scenario or geometry under a model.

    Parameters
    ----------
    scenario_or_geometry : Scenario or Geometry
        The channel. Several transmitters are superposed, weighted by molecule counts and shifted
        by their release times.
    times : array_like
        Times (s), >= 0 (``inf`` = long-time limit, where the model supports it).
    model : str
        Registered model name (see :func:`available_models`).
    **options
        Passed to the model function (e.g. ``tol``).

    Returns
    -------
    ResponseResult

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> r = response(g, [0.0, 0.5], model="kamber2024")
    >>> r.F_per_receiver.shape, float(r.F[0])
    ((1, 2), 0.0)
    """
    geom = _as_geometry(scenario_or_geometry)
    t = _response_times(times)
    func = get_model(model)
    geom.require_physics(f"model {model!r}", _SUPPORTS[model])
    total = sum(tx.molecules for tx in geom.transmitters)
    per = np.zeros((geom.n_receivers, t.size))
    info: dict = {}
    for tx in geom.transmitters:
        single = geom.with_transmitter(tx.position)
        shifted = t - tx.release_time
        ok = shifted >= 0
        vals = np.zeros((geom.n_receivers, t.size))
        if np.any(ok):
            out = func(single, shifted[ok], **options)
            # a model may return an object with F_per_receiver and an info dict (e.g. "exact")
            info.update(getattr(out, "info", {}))
            out = np.asarray(getattr(out, "F_per_receiver", out), dtype=float)
            if out.shape != (geom.n_receivers, int(ok.sum())):
                raise ValueError(
                    f"model {model!r} returned shape {out.shape}, expected "
                    f"{(geom.n_receivers, int(ok.sum()))}"
                )
            vals[:, ok] = out
        per += (tx.molecules / total) * vals
    return ResponseResult(t, per.sum(axis=0), per, model, total, info)


_CHAIN_MODELS = {
    "kamber2024": {"order": 1, "delay": "paper"},
    "kamber2024-conv": {"order": 1, "delay": "conv"},
    "images-ho": {"order": None, "delay": "conv"},
}


def _chain_terms(geometry: Geometry, t_max: float, model: str, tol: float, **kw):
    """Absorbers and chain terms (amplitudes, delays, absorber index) of an image model."""
    if model not in _CHAIN_MODELS:
        raise ValueError(f"model must be one of {sorted(_CHAIN_MODELS)}, got {model!r}")
    spec = _CHAIN_MODELS[model]
    ab = absorbers(geometry, t_max=t_max, tol=tol)
    a_max = math.sqrt(4.0 * geometry.D * t_max) if math.isfinite(t_max) else math.inf
    try:
        ch = kelvin_chains(
            geometry.transmitter.position,
            ab.spheres,
            tol=tol,
            max_order=spec["order"],
            a_max=a_max,
            **kw,
        )
    except ValueError as exc:  # the series diverges or needs too many terms here
        reason = str(exc).split(";")[0]
        raise ValueError(
            f"model {model!r} is outside its validity for this geometry ({reason}); {_SERVES}"
        ) from None
    delays = ch.delay_paper if spec["delay"] == "paper" else ch.delay
    return ab, ch.amplitude, delays, ch.absorber


def absorber_response(geometry: Geometry, times, model: str = "images-ho", *, tol=1e-10, **kw):
    """Per-absorber ``F`` (every receiver and every plane image separately) of an image model.

    Parameters
    ----------
    geometry : Geometry
        One transmitter.
    times : array_like
        Times (s).
    model : {"kamber2024", "kamber2024-conv", "images-ho"}
    tol : float
        Series / slab truncation tolerance.

    Returns
    -------
    absorbers : Absorbers
        The absorbers (``absorbers.receiver`` maps them to real receivers).
    F : numpy.ndarray, shape (n_absorbers, n_times)

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> ab, F = absorber_response(g, [0.5], "kamber2024")
    >>> bool(np.isclose(F[0, 0], F[1, 0]))  # TX on the plane: real and image receive equally
    True
    """
    t = _response_times(times)
    t_max = float(t.max()) if t.size else 0.0
    ab, amp, delays, absorber = _chain_terms(geometry, t_max, model, tol, **kw)
    return ab, erfc_sum(t, amp, delays, geometry.D, absorber, len(ab.spheres))


#: what serves a geometry where a closed form is outside its validity
_SERVES = "use model 'exact' (or a particle simulator, --method event)"
_VALIDITY_SLACK = 1e-9  # absolute slack of the checks (series truncation, roundoff)
_PROBE_POINTS = 400


def _check_validity(model: str, geometry: Geometry, amp, delays, group, n_groups, t_max):
    """Refuse (``ValueError`` naming ``exact``) a sum-of-``erfc`` model that is not a valid
    channel response over the requested times: some receiver's F below 0, above 1 or
    decreasing, or the total F above 1, anywhere in ``t ∈ (0, t_max]`` (``t_max = inf``: every
    time and the limit).

    F of every receiver is a signed sum ``Σ A_j erfc(δ_j / sqrt(4 D t))``, so its rate is checked
    on a log grid of ``t`` from where the earliest term starts (``z_j = 8``) up to ``t_max`` (for
    ``t_max = inf``: to where the last term has settled, ``z_j = 0.01``, and beyond that by the
    sign of the asymptote ``f ≈ Σ A_j δ_j / sqrt(4 π D t³)``).
    """
    D = geometry.D
    d = delays[np.isfinite(delays) & (delays > 0)]
    if d.size == 0:
        return
    lo = float(d.min()) ** 2 / (4 * D * 64.0)
    hi = float(d.max()) ** 2 / (4 * D * 1e-4)
    if math.isfinite(t_max):
        hi = min(hi, t_max)
    if hi <= lo:
        return
    probe = np.geomspace(lo, hi, _PROBE_POINTS)
    if math.isinf(t_max):
        probe = np.append(probe, np.inf)
    F = erfc_sum(probe, amp, delays, D, group, n_groups)
    f = erfc_sum(probe, amp, delays, D, group, n_groups, rate=True)
    fin = np.isfinite(probe)
    reason = None
    low = np.argwhere(F < -_VALIDITY_SLACK)
    high = np.argwhere(F > 1 + _VALIDITY_SLACK)
    down = np.argwhere(f[:, fin] * probe[fin] < -_VALIDITY_SLACK)
    total = F.sum(axis=0)

    def when(k):
        return "t = inf" if not np.isfinite(probe[k]) else f"t = {probe[k]:.3g} s"

    if low.size:
        i, k = low[0]
        reason = f"F of receiver {i} = {F[i, k]:.3g} < 0 at {when(k)}"
    elif high.size:
        i, k = high[0]
        reason = f"F of receiver {i} = {F[i, k]:.4g} > 1 at {when(k)}"
    elif down.size:
        i, k = down[0]
        reason = f"F of receiver {i} decreases at {when(k)}"
    elif math.isinf(t_max) and np.any(
        np.bincount(group, weights=amp * np.nan_to_num(delays), minlength=n_groups)
        < -_VALIDITY_SLACK
    ):
        reason = "F decreases towards its limit at late times"
    elif np.any(total > 1 + _VALIDITY_SLACK):
        k = int(np.argmax(total > 1 + _VALIDITY_SLACK))
        reason = f"total F = {total[k]:.4g} > 1 at {when(k)}"
    if reason is not None:
        raise ValueError(
            f"model {model!r} is outside its validity for this geometry ({reason}); {_SERVES}"
        )


def _chains_model(geometry, times, model, tol=1e-10, **kw):
    """F per real receiver of an image model, refused where it is not a valid response up to
    the largest requested time (:func:`_check_validity`)."""
    t = _response_times(times)
    t_max = float(t.max()) if t.size else 0.0
    ab, amp, delays, absorber = _chain_terms(geometry, t_max, model, tol, **kw)
    owner = ab.receiver[absorber]
    n = geometry.n_receivers
    _check_validity(model, geometry, amp, delays, owner, n, t_max)
    return erfc_sum(t, amp, delays, geometry.D, owner, n)


def free(geometry: Geometry, times, **_):
    """Model ``free``: each real receiver alone in free space (Yilmaz 2014).

    Planes and the other receivers are ignored (an approximation). Reactive receivers
    (Collins–Kimball) and degrading molecules use the closed forms of
    :mod:`mcvd.core.freespace`. Several receivers whose free F add up to more than 1 at a
    requested time are refused (they shadow each other): use model ``exact``.

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 0), [((10, 0, 0), 5)])
    >>> round(float(free(g, [2.0])[0, 0]), 5)
    0.38952
    """
    geometry.require_analytic()
    t = _response_times(times)
    x = geometry.transmitter.x
    D, kd = geometry.D, geometry.degradation_rate
    r0 = np.array([np.linalg.norm(x - s.c) for s in geometry.receivers])
    F = np.array(
        [
            free_F(t, d, s.radius, D, reaction_rate=s.reaction_rate, degradation_rate=kd)
            for d, s in zip(r0, geometry.receivers)
        ]
    ).reshape(geometry.n_receivers, t.size)
    total = F.sum(axis=0)
    if t.size and total.max() > 1 + _VALIDITY_SLACK:
        k = int(np.argmax(total))
        raise ValueError(
            f"model 'free' is outside its validity for this geometry (total F = "
            f"{total[k]:.4g} > 1 at t = {t[k]:.3g}{'' if np.isinf(t[k]) else ' s'}: it ignores "
            f"how the receivers shadow each other); {_SERVES}"
        )
    return F


def kamber2024(geometry: Geometry, times, *, tol: float = 1e-10):
    """Model ``kamber2024``: the paper's first-order image model.

    Parameters
    ----------
    geometry : Geometry
        One transmitter; planes handled by images; several receivers allowed (pairwise
        first-order generalisation, an approximation).
    times : array_like
        Times (s).
    tol : float
        Slab truncation tolerance.

    Returns
    -------
    numpy.ndarray, shape (n_receivers, n_times)

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> kamber2024(g, [0.0]).tolist()
    [[0.0]]
    """
    return _chains_model(geometry, times, "kamber2024", tol)


def kamber2024_conv(geometry: Geometry, times, *, tol: float = 1e-10):
    """Model ``kamber2024-conv``: first-order image model with convolution-consistent delays.

    Identical to :func:`kamber2024` except that the correction of absorber ``k`` by ``m`` is
    delayed by ``(r_0m - r_m) + (r_0mk - r_k)``, the sum of the two first-passage distances (the
    convolution of two Lévy first-passage laws is again one, with the summed distance).

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> bool(np.allclose(kamber2024_conv(g, [0.5]), kamber2024(g, [0.5])))  # TX on the plane
    True
    """
    return _chains_model(geometry, times, "kamber2024-conv", tol)


def images_ho(
    geometry: Geometry, times, *, tol: float = 1e-10, delay_point: float = 0.5, **options
):
    """Model ``images-ho``: higher-order (all-order) time-domain image model.

    Parameters
    ----------
    geometry : Geometry
        One transmitter, planes by images, any number of receivers.
    times : array_like
        Times (s); ``inf`` gives the exact Kelvin capture.
    tol : float
        Absolute tolerance of the chain series per receiver (see :mod:`mcvd.core.kelvin`).
    delay_point : float
        Where a re-emission stage starts for its *delay* (its amplitude always uses the Kelvin
        point), on the ray from ``c_{s_m}`` towards ``x_m``: 0 = the Kelvin point ``x_{m+1}``,
        1 = the point of sphere ``s_m`` nearest to ``x_m``, 0.5 (default) = half-way between
        their distances from the centre (see Notes).
    **options
        ``prune``, ``max_iter``, ``max_terms`` of :func:`mcvd.core.kelvin.kelvin_chains`.

    Returns
    -------
    numpy.ndarray, shape (n_receivers, n_times)

    Notes
    -----
    Derivation. Write ``P_k(x, t)`` for the probability that the first absorber hit (among the
    receivers and their images, all in free space) is ``k``, by time ``t``. Ordering the absorbers
    a free path visits gives the alternating inclusion–exclusion series
    ``P_k = sum_chains (-1)^n Q(s_0 -> s_1 -> ... -> s_n = k; t)``, with ``Q`` the free-space
    probability of visiting ``s_0``, then ``s_1``, ..., then ``k`` by time ``t``. Statically
    (``t = inf``) ``Q`` is exactly the product of Kelvin factors ``r_{s_m}/|x_m - c_{s_m}|`` along
    the Kelvin points ``x_{m+1} = K_{s_m}(x_m)`` (:mod:`mcvd.core.kelvin`), so this model's
    ``t -> inf`` limit is the exact capture. In time, each stage is approximated by the
    first-passage law from the Kelvin point ``x_m`` to sphere ``s_m`` (the law the paper uses for
    its single correction); the convolution of these Lévy laws is again a Lévy law with the summed
    distance, so each chain contributes ``(-1)^n Q erfc(delta/sqrt(4Dt))`` with
    ``delta = sum_m (|x_m - c_{s_m}| - r_{s_m})``. The first two generations are the
    ``kamber2024-conv`` model; the stage-wise point-source replacement is the only approximation
    (it is exact for the first stage and at ``t = inf``).

    Delay point. Molecules absorbed early by sphere ``s_m`` arrive near its point nearest to the
    source, while the static (Kelvin) point lies deeper inside on the same ray; the *delay* of the
    next stage is measured from a point between them (``delay_point``) while the amplitudes stay
    Kelvin's (so the static limit stays exact). Measured against the exact two-sphere solution
    (``mcvd.studies.accuracy.accuracy_map``: gaps 0.1–30 µm, transmitter on the plane / behind / beside /
    far, 25 times in 0.02–2 s and ``inf``): max ``|error|`` at finite times 0.0127 (delay_point 1),
    0.0100 (0.75), 0.0082 (0.5, default), 0.0077 (0.35, but worse per geometry), against 0.087 for
    ``kamber2024``; at ``t = inf`` <= 1e-10 against 0.18. Per geometry, the finite-time max error
    of the default is <= 0.42 of ``kamber2024``'s (<= 0.1 in most cells). This is a measured
    heuristic, not an exact result.

    Validity. The reflection series converges for one receiver and one plane and for
    well-separated absorbers; for a receiver close to two or three planes it can diverge and a
    ``ValueError`` is raised (see :mod:`mcvd.core.kelvin`). The series is summed until a
    generation adds at most ``2 tol`` (at the largest time) to every receiver; the last generation
    is halved (alternating-series midpoint).

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> bool(images_ho(g, [np.inf])[0, 0] > kamber2024(g, [np.inf])[0, 0])
    True
    """
    return _chains_model(geometry, times, "images-ho", tol, delay_point=delay_point, **options)


def capture(
    scenario_or_geometry,
    *,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    method: str = "auto",
    **options,
) -> CaptureResult:
    """Exact long-time capture ``F(inf)`` per receiver.

    Parameters
    ----------
    scenario_or_geometry : Scenario or Geometry
        Receivers, planes (by images); several transmitters are weighted by molecule counts.
    tol : float
        Absolute tolerance per receiver, between 1e-15 and 1e-2
        (:func:`mcvd.core.geometry.check_tolerance`; NaN, negative or out-of-range values are
        refused). The exact static solution works to ``max(tol, 1e-11)`` and the multipole check
        to ``max(tol, 1e-10)``; the result's ``tol`` says what the answer meets.
    max_iter : int
        Generation cap of the Kelvin series (``ValueError`` if exceeded with
        ``method="kelvin"``).
    method : {"auto", "kelvin", "exact", "multipole"}
        ``"kelvin"``: the image-charge series (:mod:`mcvd.core.kelvin`); ``"exact"``: the static
        limit (``s = 0``, solid harmonics) of the exact Laplace-domain solution
        (:func:`mcvd.core.nsphere.exact_channel`, tolerance ``max(tol, 1e-11)``), which also
        covers reactive receivers and degradation (``F(∞) = w(x_T, k_d)``); ``"auto"``: the
        series where it converges, else ``"exact"`` (dense groups of absorbers, e.g. a receiver
        near 2–3 planes; reactive receivers; degradation). ``"multipole"``: the older static
        multipole solution of :mod:`mcvd.core.multipole` (an independent check, much slower).
    **options
        ``prune``, ``max_terms`` of :func:`mcvd.core.kelvin.kelvin_chains`; ``max_order`` of the
        exact solution.

    Returns
    -------
    CaptureResult
        ``method`` says which one answered.

    Examples
    --------
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 30), [((0, 0, 0), 5)])
    >>> round(capture(g).F_inf, 12)
    0.166666666667
    >>> corner = Geometry.simple(79.4, (0, 0, 10), [((10, 10, 0), 5)],
    ...                          [((0, 0, 0), (1, 0, 0)), ((0, 0, 0), (0, 1, 0))])
    >>> capture(corner).method
    'exact'
    """
    from .exact import ExactConvergenceError
    from .multipole import multipole_capture
    from .nsphere import exact_channel

    if method not in ("auto", "kelvin", "exact", "multipole"):
        raise ValueError(f"method must be 'auto', 'kelvin', 'exact' or 'multipole', got {method!r}")
    geom = _as_geometry(scenario_or_geometry)
    if method in ("kelvin", "multipole"):
        geom.require_physics(f"capture method {method!r}", alternative="capture method 'exact'")
    ab = absorbers(geom, t_max=math.inf, tol=tol)
    # auto: the series for one or two absorbing spheres (fast, 1e-12), the exact static
    # solution for denser groups (where the series converges slowly or diverges)
    order = {
        "kelvin": ("kelvin",),
        "exact": ("exact",),
        "multipole": ("multipole",),
        "auto": ("kelvin", "exact") if len(ab.spheres) <= 2 else ("exact", "kelvin"),
    }[method]
    if geom.physics():  # reactive receivers or degradation (kelvin/multipole refused above)
        order = ("exact",)
    total = sum(tx.molecules for tx in geom.transmitters)
    n = geom.n_receivers
    per = np.zeros(n)
    gens = 0
    used = set()
    exact_options = {k: options.pop(k) for k in ("max_order",) if k in options}
    for tx in geom.transmitters:
        w = tx.molecules / total
        for k, how in enumerate(order):
            try:
                if how == "kelvin":
                    ch = kelvin_chains(
                        tx.position, ab.spheres, tol=tol, max_iter=max_iter, **options
                    )
                    vals = np.bincount(ab.receiver[ch.absorber], weights=ch.amplitude, minlength=n)
                    gens = max(gens, ch.generations)
                elif how == "multipole":
                    vals = multipole_capture(
                        tx.position, ab.spheres, ab.receiver, tol=max(tol, 1e-10)
                    )
                    vals = np.pad(vals, (0, n - vals.size))
                else:
                    F, _, _ = exact_channel(
                        geom.with_transmitter(tx.position),
                        [math.inf],
                        tol=max(tol, 1e-11),
                        **exact_options,
                    )
                    vals = F[:, 0]
            except (ValueError, ExactConvergenceError):
                if k == len(order) - 1:
                    raise
                continue
            per += w * vals
            used.add(how)
            break
    label = "exact" if "exact" in used else ("kelvin" if "kelvin" in used else "multipole")
    floor = {"kelvin": 0.0, "exact": 1e-11, "multipole": 1e-10}
    eff_tol = max([tol] + [floor[m] for m in used])  # what the result actually meets
    return CaptureResult(float(per.sum()), per, gens, eff_tol, label)


register_model("free", free, supports=("reaction_rate", "degradation_rate"))
register_model("kamber2024", kamber2024)
register_model("kamber2024-conv", kamber2024_conv)
register_model("images-ho", images_ho)


def _exact(geometry, times, **options):
    """``exact``: the Laplace-domain multipole solution (:func:`mcvd.core.nsphere.exact_model`),
    imported on first use."""
    from .nsphere import exact_model

    return exact_model(geometry, times, **options)


register_model("exact", _exact, supports=("reaction_rate", "degradation_rate"))
