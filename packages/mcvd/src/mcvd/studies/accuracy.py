"""Accuracy map of the closed-form channel models against a reference response.

Geometry of the map (units µm, s): one absorbing receiver of radius ``radius`` (default 5 µm)
next to the reflecting plane ``x = 0`` (normal ``+x``), its centre at ``(gap + radius, 0, 0)``,
so ``gap`` is the distance between the receiver surface and the plane. Transmitter placements
(:data:`PLACEMENTS`), with ``c = gap + radius`` the centre's distance from the plane:

``on-plane``
    ``(0, 0, 10)``: on the plane, 10 µm off the receiver's axis (the paper's topology at
    ``gap = 5``).
``behind``
    ``(c + radius + 5, 0, 0)``: on the receiver's normal axis, 5 µm beyond its far side (the
    receiver between the transmitter and the plane).
``beside``
    ``(c, 0, radius + 5)``: level with the receiver centre, 5 µm from its surface, sideways.
``far``
    ``(c + 20, 0, 20)``: about 28 µm from the receiver centre, away from plane and receiver.

Further geometries (:data:`LAYOUTS`, :data:`GEOMETRY_CASES`; ``gap`` is again every receiver's
distance to each wall, ``c = gap + radius``):

``corner``
    Walls ``x = 0`` and ``y = 0``; receiver at ``(c, c, 0)``; transmitter on their edge at
    ``(0, 0, 10)``.
``octant``
    Walls ``x = 0``, ``y = 0``, ``z = 0``; receiver at ``(c, c, c)``; transmitter on the edge
    ``x = y = 0`` at ``(0, 0, 10)``.
``two-receivers``
    Wall ``x = 0``; receivers at ``(c, 0, 0)`` and ``(c, 0, 20)``; transmitter on the wall between
    them at ``(0, 0, 10)``.
``reactive``
    The ``on-plane`` geometry with a reactive receiver, reaction rate 20 µm/s.
``degrading``
    The ``on-plane`` geometry with molecules degrading at 1 /s.

A model that refuses a geometry (outside its validity, or physics it does not represent) gets NaN
there, shown as "refused" in the tables; the finite times and ``t = inf`` are asked separately, so
a model valid up to the largest finite time but not in the limit keeps its finite-time errors.

Every registered model (:func:`mcvd.core.models.available_models`) is evaluated on the same times and
compared with a *reference* from :data:`REFERENCES` — ``"exact"`` (the Laplace-domain multipole
solution of :mod:`mcvd.core.exact`, error below ``tol``) by default, or ``"event"`` (the event-driven
simulator, :func:`mcvd.sim.event.event_reference`, standard error <= 5e-4; options ``se``,
``seed``, ``eps``, ``executor``, ``workers``); simulators may add their own with
:func:`register_reference` (a statistical reference reports standard errors). Errors are signed
absolute errors of the total ``F`` (model minus reference).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.geometry import Geometry, Sphere, as_times
from ..core.models import _register, response
from ..core.plots import TEXT_WIDTH, _ax, _figure, _legend, _savefig, legible, pyplot
from ..core.reference import ReferenceCurve

__all__ = [
    "DEFAULT_GAPS",
    "DEFAULT_MODELS",
    "DEFAULT_TIMES",
    "GEOMETRY_CASES",
    "GEOMETRY_GAPS",
    "LAYOUTS",
    "PLACEMENTS",
    "REFERENCES",
    "AccuracyMap",
    "ReferenceCurve",
    "accuracy_map",
    "accuracy_report",
    "placement_geometry",
    "plot_accuracy_map",
    "plot_accuracy_overview",
    "plot_error_vs_gap",
    "register_reference",
]

#: Receiver-plane gaps (µm) of the default map.
DEFAULT_GAPS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
#: Times (s) of the default map; ``inf`` is the long-time capture.
DEFAULT_TIMES = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, math.inf)
#: Closed forms compared by default.
DEFAULT_MODELS = ("free", "kamber2024", "kamber2024-conv", "images-ho")

#: Transmitter position as a function of (gap, radius); see the module docstring.
PLACEMENTS: dict[str, Callable[[float, float], tuple[float, float, float]]] = {
    "on-plane": lambda g, r: (0.0, 0.0, 10.0),
    "behind": lambda g, r: (g + 2 * r + 5.0, 0.0, 0.0),
    "beside": lambda g, r: (g + r, 0.0, r + 5.0),
    "far": lambda g, r: (g + r + 20.0, 0.0, 20.0),
}


#: the walls x = 0, y = 0 and z = 0 as (point, normal)
_X, _Y, _Z = (
    ((0.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
)


def _physics(geometry: Geometry, reaction_rate=math.inf, degradation_rate=0.0) -> Geometry:
    receivers = tuple(
        Sphere(s.center, s.radius, reaction_rate=reaction_rate) for s in geometry.receivers
    )
    return dataclasses.replace(geometry, receivers=receivers, degradation_rate=degradation_rate)


#: Geometries beyond one receiver next to one plane, as functions of (gap, radius, D); see the
#: module docstring.
LAYOUTS: dict[str, Callable[[float, float, float], Geometry]] = {
    "corner": lambda g, r, D: Geometry.simple(
        D, (0.0, 0.0, 10.0), [((g + r, g + r, 0.0), r)], [_X, _Y]
    ),
    "octant": lambda g, r, D: Geometry.simple(
        D, (0.0, 0.0, 10.0), [((g + r, g + r, g + r), r)], [_X, _Y, _Z]
    ),
    "two-receivers": lambda g, r, D: Geometry.simple(
        D, (0.0, 0.0, 10.0), [((g + r, 0.0, 0.0), r), ((g + r, 0.0, 20.0), r)], [_X]
    ),
    "reactive": lambda g, r, D: _physics(placement_geometry(g, "on-plane", D=D, radius=r), 20.0),
    "degrading": lambda g, r, D: _physics(
        placement_geometry(g, "on-plane", D=D, radius=r), degradation_rate=1.0
    ),
}
#: The layouts of :data:`LAYOUTS`, for ``accuracy_map(placements=GEOMETRY_CASES)``.
GEOMETRY_CASES = tuple(LAYOUTS)
#: Gaps (µm) of the geometry map (the N-sphere exact solution needs many multipoles below ~1 µm).
GEOMETRY_GAPS = (1.0, 2.0, 5.0, 10.0)


def placement_geometry(gap, placement, *, D=79.4, radius=5.0) -> Geometry:
    """The geometry of the map for one gap and transmitter placement (or layout).

    Parameters
    ----------
    gap : float
        Distance (µm) between the receiver surface and the plane ``x = 0`` (and every other
        wall of a layout), > 0.
    placement : str
        A key of :data:`PLACEMENTS` (one receiver next to the plane ``x = 0``) or of
        :data:`LAYOUTS`.
    D : float
        Diffusion coefficient (µm²/s).
    radius : float
        Receiver radius (µm).

    Returns
    -------
    mcvd.core.geometry.Geometry

    Examples
    --------
    >>> g = placement_geometry(5.0, "on-plane")
    >>> g.receivers[0].center, g.transmitter.position
    ((10.0, 0.0, 0.0), (0.0, 0.0, 10.0))
    >>> len(placement_geometry(5.0, "octant").planes)
    3
    """
    if placement not in PLACEMENTS and placement not in LAYOUTS:
        raise ValueError(
            f"placement must be one of {sorted(PLACEMENTS) + sorted(LAYOUTS)}, got {placement!r}"
        )
    gap = float(gap)
    if not (math.isfinite(gap) and gap > 0):
        raise ValueError(f"gap must be finite and > 0, got {gap}")
    if placement in LAYOUTS:
        return LAYOUTS[placement](gap, float(radius), D)
    tx = PLACEMENTS[placement](gap, float(radius))
    return Geometry.simple(D, tx, [((gap + radius, 0.0, 0.0), radius)], [_X])


# ---------------------------------------------------------------------------- references


#: name -> ``func(geometry, times, **options) -> ReferenceCurve``.
REFERENCES: dict[str, Callable[..., ReferenceCurve]] = {}


def register_reference(name: str, func: Callable[..., ReferenceCurve], *, overwrite=False):
    """Register a reference response for :func:`accuracy_map`.

    Parameters
    ----------
    name : str
        Reference name (``accuracy_map(reference=name)``).
    func : callable
        ``func(geometry, times, **options) -> ReferenceCurve``; ``times`` may contain ``inf``
        (return NaN where the reference cannot evaluate a time).
    overwrite : bool
        Allow replacing an existing reference.

    Examples
    --------
    >>> from mcvd.core.models import response
    >>> def free_ref(geometry, times):
    ...     F = response(geometry, times, model="free").F
    ...     return ReferenceCurve(F, np.zeros_like(F))
    >>> register_reference("free-demo", free_ref, overwrite=True)
    >>> "free-demo" in REFERENCES
    True
    """
    _register(REFERENCES, "reference", name, func, overwrite)


def _exact_reference(geometry, times, *, tol=1e-9, **options) -> ReferenceCurve:
    # NaN where the exact solution refuses (ExactConvergenceError: a gap too small for the
    # multipole order cap), so that one cell does not stop a whole map
    from ..core.exact import ExactConvergenceError
    from ..core.nsphere import exact_channel

    try:
        F, res, _ = exact_channel(geometry, times, tol=tol, **options)
    except ExactConvergenceError:
        nan = np.full(np.size(times), np.nan)
        return ReferenceCurve(nan, nan)
    return ReferenceCurve(F.sum(axis=0), np.full(res.times.size, res.error_estimate))


register_reference("exact", _exact_reference)


#: options of the event reference that only say where it runs (they cannot change its numbers)
_WHERE = ("executor", "workers", "client")


def _event_reference(geometry, times, *, run_dir=None, **options) -> ReferenceCurve:
    """Event-driven simulator, standard error <= 5e-4 (options: se, seed, eps, executor,
    workers). With ``run_dir``, each finished cell is kept there (``cell-<key>.json``, key =
    hash of the geometry, times and options; verified by a checksum) and reused when the map is
    computed again, so an interrupted map resumes."""
    import hashlib
    import json
    import warnings
    from pathlib import Path

    from .._version import __version__
    from ..core.io import atomic_write
    from ..sim.event import event_reference
    from ..sim.runner import RunDirWarning

    if run_dir is None:
        return event_reference(geometry, times, **options)
    what = {k: v for k, v in sorted(options.items()) if k not in _WHERE}
    key = repr(("event", __version__, geometry, np.asarray(times, float).tolist(), what))
    digest = hashlib.sha256(key.encode()).hexdigest()
    path = Path(run_dir) / f"cell-{digest[:16]}.json"
    if path.exists():
        try:
            cell = json.loads(path.read_text(encoding="utf-8"))
            body = json.dumps([cell["key"], cell["F"], cell["uncertainty"], cell["kind"]])
            if cell["key"] != key or cell["sha256"] != hashlib.sha256(body.encode()).hexdigest():
                raise ValueError("checksum or key mismatch")
            return ReferenceCurve(np.array(cell["F"]), np.array(cell["uncertainty"]), cell["kind"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            msg = f"{path} is unusable ({exc}); recomputing the cell"
            warnings.warn(RunDirWarning(msg), stacklevel=2)
    ref = event_reference(geometry, times, **options)
    body = [key, ref.F.tolist(), ref.uncertainty.tolist(), ref.kind]
    cell = dict(zip(("key", "F", "uncertainty", "kind"), body))
    cell["sha256"] = hashlib.sha256(json.dumps(body).encode()).hexdigest()
    text = json.dumps(cell)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return ref


register_reference("event", _event_reference)


# ---------------------------------------------------------------------------- the map


def _model_values(geometry, times, model):
    """A model's total F at ``times``: the finite times and ``inf`` asked separately (a closed
    form may be valid up to the largest finite time but not in the limit), NaN where it refuses
    (outside its validity, or physics it does not represent)."""
    out = np.full(times.size, np.nan)
    for sel in (np.isfinite(times), np.isinf(times)):
        if np.any(sel):
            try:
                out[sel] = response(geometry, times[sel], model=model).F
            except ValueError:
                pass
    return out


def _time_label(t: float) -> str:
    """A time (s) as the tables and figures write it: ``∞`` for the capture."""
    return "∞" if math.isinf(t) else f"{t:g}"


def _cell(value) -> str:
    """A table cell: the error, or "refused" where the model declined (NaN)."""
    return "refused" if np.isnan(value) else f"{value:.1e}"


@dataclass(frozen=True, eq=False)
class AccuracyMap:
    """Errors of several models against a reference over gaps, placements and times.

    Attributes
    ----------
    models : tuple of str
    placements : tuple of str
    gaps : numpy.ndarray
        Receiver-plane gaps (µm), shape (G,).
    times : numpy.ndarray
        Times (s), shape (T,); ``inf`` = capture.
    reference : str
        Reference name.
    F_reference : numpy.ndarray
        Shape (P, G, T).
    uncertainty : numpy.ndarray
        Reference uncertainty, shape (P, G, T).
    F_model : numpy.ndarray
        Shape (M, P, G, T).
    D, radius : float
        Diffusion coefficient (µm²/s) and receiver radius (µm).
    """

    models: tuple
    placements: tuple
    gaps: np.ndarray
    times: np.ndarray
    reference: str
    F_reference: np.ndarray
    uncertainty: np.ndarray
    F_model: np.ndarray
    D: float
    radius: float

    @property
    def error(self) -> np.ndarray:
        """Signed absolute error ``F_model - F_reference``, shape (M, P, G, T)."""
        return self.F_model - self.F_reference[None]

    def max_abs_error(self, *, finite_times=True) -> np.ndarray:
        """Largest ``|error|`` over the finite times (or over ``inf`` only), shape (M, P, G).

        Parameters
        ----------
        finite_times : bool
            True: over all finite times; False: the capture error at ``t = inf``.
        """
        sel = np.isfinite(self.times) if finite_times else np.isinf(self.times)
        if not np.any(sel):
            raise ValueError("times: the map has no " + ("finite" if finite_times else "inf"))
        return np.max(np.abs(self.error[..., sel]), axis=-1)  # NaN where refused

    def table(self, *, by_placement: bool = False) -> str:
        """Markdown table: max ``|error|`` over finite times and the capture error, per gap.

        Each cell is ``max_t |ΔF| / |ΔF(∞)|`` (absolute F), or "refused" where the model
        refuses the geometry. Rows are grouped by model (columns "model | TX"), or with
        ``by_placement`` by placement (columns "geometry | model").
        """
        fin = self.max_abs_error(finite_times=True)
        has_inf = bool(np.any(np.isinf(self.times)))
        cap = self.max_abs_error(finite_times=False) if has_inf else None
        first = "| geometry | model | " if by_placement else "| model | TX | "
        head = first + " | ".join(f"gap {g:g} µm" for g in self.gaps) + " |"
        lines = [head, "|" + "---|" * (2 + self.gaps.size)]
        pairs = [(m, p) for m in range(len(self.models)) for p in range(len(self.placements))]
        if by_placement:
            pairs.sort(key=lambda mp: mp[1])
        for m, p in pairs:
            cells = []
            for g in range(self.gaps.size):
                cell = _cell(fin[m, p, g])
                if cap is not None:
                    cell += f" / {_cell(cap[m, p, g])}"
                cells.append(cell)
            names = (self.placements[p], self.models[m])
            first = " | ".join(names if by_placement else names[::-1])
            lines.append(f"| {first} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def _worst_by_gap(self, include_capture: bool) -> np.ndarray:
        """Largest ``|error|`` over placements and times (``inf`` too if asked), shape (M, G)."""
        sel = np.ones(self.times.size, bool) if include_capture else np.isfinite(self.times)
        return np.max(np.abs(self.error[..., sel]), axis=(1, 3))

    def trust(self, threshold=1e-2, *, include_capture=True) -> dict:
        """For each model, the smallest gap from which it is within ``threshold`` everywhere.

        Parameters
        ----------
        threshold : float
            Absolute error on F.
        include_capture : bool
            Also require it at ``t = inf`` (else only at the finite times).

        Returns
        -------
        dict
            ``model -> smallest gap (µm)`` such that every gap at or above it has error
            ``<= threshold`` for all placements and times; ``inf`` if none.
        """
        err = self._worst_by_gap(include_capture)
        order = np.argsort(self.gaps)
        out = {}
        for m, model in enumerate(self.models):
            ok = err[m, order] <= threshold
            good = math.inf
            for k in range(order.size - 1, -1, -1):
                if not ok[k]:
                    break
                good = float(self.gaps[order[k]])
            out[model] = good
        return out


def accuracy_map(
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    gaps: Sequence[float] = DEFAULT_GAPS,
    placements: Sequence[str] = tuple(PLACEMENTS),
    times: Sequence[float] = DEFAULT_TIMES,
    reference: str = "exact",
    D: float = 79.4,
    radius: float = 5.0,
    **reference_options,
) -> AccuracyMap:
    """Evaluate models and a reference over gaps x placements x times.

    Parameters
    ----------
    models : sequence of str
        Registered model names (:func:`mcvd.core.models.available_models`).
    gaps : sequence of float
        Receiver-plane gaps (µm).
    placements : sequence of str
        Keys of :data:`PLACEMENTS` or :data:`LAYOUTS` (e.g. :data:`GEOMETRY_CASES`).
    times : sequence of float
        Times (s); ``inf`` = capture.
    reference : str
        Key of :data:`REFERENCES` (default ``"exact"``).
    D : float
        Diffusion coefficient (µm²/s).
    radius : float
        Receiver radius (µm).
    **reference_options
        Passed to the reference function (e.g. ``tol`` for ``exact``).

    Returns
    -------
    AccuracyMap

    Examples
    --------
    >>> amap = accuracy_map(["kamber2024"], gaps=[5.0], placements=["on-plane"], times=[2.0])
    >>> round(float(amap.error[0, 0, 0, 0]), 5)  # the paper's model at its own topology, t = 2 s
    0.00155
    """
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {sorted(REFERENCES)}, got {reference!r}")
    models = tuple(models)
    placements = tuple(placements)
    gaps_arr = np.asarray(gaps, dtype=float)
    t = as_times(times, allow_inf=True, one_d=True)
    if t.size == 0:
        raise ValueError("times must list at least one time")
    ref_func = REFERENCES[reference]
    shape = (len(placements), gaps_arr.size, t.size)
    F_ref = np.empty(shape)
    unc = np.empty(shape)
    F_mod = np.empty((len(models), *shape))
    for p, place in enumerate(placements):
        for g, gap in enumerate(gaps_arr):
            geom = placement_geometry(gap, place, D=D, radius=radius)
            ref = ref_func(geom, t, **reference_options)
            F_ref[p, g], unc[p, g] = ref.F, ref.uncertainty
            for m, model in enumerate(models):
                F_mod[m, p, g] = _model_values(geom, t, model)
    return AccuracyMap(
        models, placements, gaps_arr, t, reference, F_ref, unc, F_mod, float(D), float(radius)
    )


# ---------------------------------------------------------------------------- figures


def plot_accuracy_map(
    amap: AccuracyMap, model: str, placement: str, *, ax=None, vmin=1e-6, colorbar=True
):
    """Heat map of ``|F_model - F_reference|`` over gap (x) and time (y) for one placement.

    Parameters
    ----------
    amap : AccuracyMap
    model : str
        One of ``amap.models``.
    placement : str
        One of ``amap.placements``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (a new figure otherwise).
    vmin : float
        Lower end of the logarithmic colour scale (absolute error).
    colorbar : bool
        Draw a colour bar beside the axes (:func:`plot_accuracy_overview` draws one for all).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> amap = accuracy_map(["kamber2024"], gaps=[1.0, 5.0], placements=["on-plane"],
    ...                     times=[0.5, 2.0])
    >>> fig = plot_accuracy_map(amap, "kamber2024", "on-plane")
    """
    from matplotlib.colors import LogNorm

    if model not in amap.models:
        raise ValueError(f"model must be one of {amap.models}, got {model!r}")
    if placement not in amap.placements:
        raise ValueError(f"placement must be one of {amap.placements}, got {placement!r}")
    ax = _ax(ax)
    m, p = amap.models.index(model), amap.placements.index(placement)
    err = np.maximum(np.abs(amap.error[m, p]).T, vmin)  # (T, G)
    labels = [_time_label(x) for x in amap.times]
    img = ax.imshow(
        err, origin="lower", aspect="auto", cmap="magma_r", norm=LogNorm(vmin=vmin, vmax=0.1)
    )
    ax.set_xticks(range(amap.gaps.size), [f"{g:g}" for g in amap.gaps])
    ax.set_yticks(range(amap.times.size), labels)
    ax.set_xlabel("receiver-plane gap (µm)")
    ax.set_ylabel("t (s)")
    ax.set_title(f"{model}, TX {placement}")
    if colorbar:
        ax.figure.colorbar(img, ax=ax, label=f"|F − F_{amap.reference}|")
    return legible(ax.figure)


def plot_accuracy_overview(amap: AccuracyMap, *, placements=None, axes=None):
    """Grid of :func:`plot_accuracy_map` heat maps: one row per model, one column per placement.

    Parameters
    ----------
    amap : AccuracyMap
    placements : sequence of str, optional
        Subset of ``amap.placements`` (all by default).
    axes : 2-D array of matplotlib.axes.Axes, optional
        ``(models, placements)`` axes to draw on (a new figure, :data:`TEXT_WIDTH` wide,
        otherwise). One colour bar serves them all.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> amap = accuracy_map(["free"], gaps=[1.0, 5.0], placements=["on-plane"], times=[1.0])
    >>> fig = plot_accuracy_overview(amap)
    """

    places = tuple(placements) if placements is not None else amap.placements
    nr, nc = len(amap.models), len(places)
    if axes is None:
        _, axes = _figure(
            nr,
            nc,
            figsize=(TEXT_WIDTH, 0.6 + 1.45 * nr),
            squeeze=False,
            sharex=True,
            sharey=True,
            layout="constrained",
        )
    axes = np.asarray(axes, dtype=object).reshape(nr, nc)
    for i, model in enumerate(amap.models):
        for j, place in enumerate(places):
            ax = axes[i, j]
            plot_accuracy_map(amap, model, place, ax=ax, colorbar=False)
            ax.set_title(f"TX {place}" if i == 0 else "")
            ax.set_ylabel(f"{model}\nt (s)" if j == 0 else "")
            ax.set_xlabel("")  # one label for the row of panels below
            ax.tick_params(axis="x", labelrotation=90)
    fig = axes[0, 0].figure
    fig.supxlabel("receiver-plane gap (µm)")
    fig.colorbar(
        axes[0, 0].images[0],
        ax=list(axes.ravel()),
        label=f"|F − F_{amap.reference}|",
        fraction=0.03,
        aspect=40,
    )
    return legible(fig)


def plot_error_vs_gap(amap: AccuracyMap, *, ax=None, include_capture=False):
    """Worst ``|F_model - F_reference|`` over placements and times against the gap, per model.

    Parameters
    ----------
    amap : AccuracyMap
    ax : matplotlib.axes.Axes, optional
    include_capture : bool
        Include ``t = inf`` in the maximum (default: finite times only).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> amap = accuracy_map(["kamber2024"], gaps=[1.0, 5.0], placements=["far"], times=[1.0])
    >>> fig = plot_error_vs_gap(amap)
    """

    ax = _ax(ax)
    worst = amap._worst_by_gap(include_capture)
    for m, model in enumerate(amap.models):
        ax.loglog(amap.gaps, np.maximum(worst[m], 1e-12), "o-", label=model)
    ax.set_xlabel("receiver-plane gap (µm)")
    what = "t ≤ ∞" if include_capture else f"t ≤ {amap.times[np.isfinite(amap.times)].max():g} s"
    ax.set_ylabel(f"max |F − F_{amap.reference}| ({what})")
    ax.grid(alpha=0.3, which="both")
    _legend(ax)
    return legible(ax.figure)


def _trust_sentence(amap: AccuracyMap, threshold: float, include_capture: bool) -> str:
    gaps = amap.trust(threshold, include_capture=include_capture)
    parts = []
    for model, gap in gaps.items():
        parts.append(f"`{model}` " + ("nowhere" if math.isinf(gap) else f"from {gap:g} µm"))
    scope = "all times incl. capture" if include_capture else "finite times"
    return f"within {threshold:g} ({scope}): " + ", ".join(parts)


def accuracy_report(out, *, amap: AccuracyMap | None = None) -> str:
    """Run the default accuracy map, write its figures into ``out`` and return markdown.

    Parameters
    ----------
    out : str or pathlib.Path
        Existing folder for ``accuracy_map.png`` and ``accuracy_vs_gap.png``.
    amap : AccuracyMap, optional
        A precomputed map (default: :func:`accuracy_map` with its defaults, a few seconds).

    Returns
    -------
    str
        Markdown: the trust statements, the table and the figure links.

    Examples
    --------
    >>> import tempfile, matplotlib
    >>> matplotlib.use("Agg")
    >>> small = accuracy_map(["kamber2024"], gaps=[1.0], placements=["far"], times=[1.0])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     text = accuracy_report(d, amap=small)
    >>> text.startswith("### Accuracy map")
    True
    """
    from pathlib import Path

    plt = pyplot()

    out = Path(out)
    amap = accuracy_map() if amap is None else amap
    for name, fig in [
        ("accuracy_map.png", plot_accuracy_overview(amap)),
        ("accuracy_vs_gap.png", plot_error_vs_gap(amap)),
    ]:
        _savefig(fig, out / name)
        plt.close(fig)
    unc = float(np.nanmax(amap.uncertainty))
    lines = [
        "### Accuracy map of the closed forms (reference: "
        f"`{amap.reference}`, uncertainty ≤ {unc:.1e})",
        "",
        f"Receiver r = {amap.radius:g} µm next to the plane x = 0, D = {amap.D:g} µm²/s; "
        "transmitter on the plane / behind / beside / far (see `mcvd.studies.accuracy.PLACEMENTS`); "
        "times " + ", ".join(map(_time_label, amap.times)) + " s. "
        "Absolute error of the total F; `free` ignores the plane.",
        "",
        "- " + _trust_sentence(amap, 1e-2, False),
        "- " + _trust_sentence(amap, 1e-3, False),
        "- " + _trust_sentence(amap, 1e-2, True),
        "",
        "Cells: max over the finite times / error of the capture F(∞).",
        "",
        amap.table(),
        "",
        "![worst error against the gap](accuracy_vs_gap.png)",
        "",
        "![accuracy heat maps](accuracy_map.png)",
        "",
    ]
    return "\n".join(lines)
