"""The closed forms in corners, an octant and with several receivers, against the exact solution.

The geometries are the layouts of :data:`mcvd.studies.accuracy.LAYOUTS` (a receiver in a corner
of two walls, in an octant of three, two receivers next to a wall, a reactive receiver and
degrading molecules next to a wall), each at the wall gaps :data:`GEOMETRY_GAPS`; the reference
is the exact solution (:mod:`mcvd.core.nsphere`, error <= 1e-9). A closed form outside its
validity there — a decreasing F, F outside [0, 1], a total F above 1, a divergent image series —
or without the physics (reactive receivers, degradation) refuses, and the table says so.

Units: µm, s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.plots import COLUMN_WIDTH, _ax, _legend, _savefig, legible, pyplot
from .accuracy import (
    DEFAULT_TIMES,
    GEOMETRY_CASES,
    GEOMETRY_GAPS,
    AccuracyMap,
    _time_label,
    accuracy_map,
)

__all__ = [
    "GEOMETRY_MODELS",
    "geometry_map",
    "geometry_report",
    "geometry_table",
    "plot_geometries",
]

#: The closed forms compared with the exact solution.
GEOMETRY_MODELS = ("free", "kamber2024", "kamber2024-conv", "images-ho")


def geometry_map(
    models: Sequence[str] = GEOMETRY_MODELS,
    *,
    cases: Sequence[str] = GEOMETRY_CASES,
    gaps: Sequence[float] = GEOMETRY_GAPS,
    times: Sequence[float] = DEFAULT_TIMES,
    **reference_options,
) -> AccuracyMap:
    """Errors of the closed forms against the exact solution in the geometries of the study.

    Parameters
    ----------
    models : sequence of str
        Registered model names.
    cases : sequence of str
        Keys of :data:`mcvd.studies.accuracy.LAYOUTS`.
    gaps : sequence of float
        Distance of the receivers to every wall (µm).
    times : sequence of float
        Times (s); ``inf`` = capture.
    **reference_options
        Passed to the exact reference (``tol``, ``max_order``).

    Returns
    -------
    mcvd.studies.accuracy.AccuracyMap
        ``placements`` are the cases; NaN where a model refuses.

    Examples
    --------
    >>> amap = geometry_map(["kamber2024"], cases=["corner"], gaps=[5.0], times=[0.5, np.inf])
    >>> np.isnan(amap.error[0, 0, 0]).tolist()   # valid up to 0.5 s; F decreases after 4.4 s
    [False, True]
    """
    return accuracy_map(
        models, gaps=gaps, placements=cases, times=times, reference="exact", **reference_options
    )


def geometry_table(amap: AccuracyMap) -> str:
    """Markdown table of a :func:`geometry_map`: one row per geometry and model.

    Each cell is ``max_t |ΔF|`` over the finite times, then ``|ΔF(∞)|`` (absolute F), or
    "refused".

    Examples
    --------
    >>> amap = geometry_map(["free"], cases=["two-receivers"], gaps=[5.0], times=[1.0])
    >>> print(geometry_table(amap).splitlines()[2])
    | two-receivers | free | 2.6e-01 |
    """
    return amap.table(by_placement=True)


def plot_geometries(amap: AccuracyMap, *, ax=None):
    """Worst finite-time ``|F_model - F_exact|`` against the wall gap, per geometry and model.

    One colour per model, one marker per geometry; a model that refuses a geometry is drawn as a
    cross on the top edge ("refused").

    Parameters
    ----------
    amap : mcvd.studies.accuracy.AccuracyMap
        From :func:`geometry_map`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> amap = geometry_map(["free"], cases=["corner"], gaps=[5.0, 10.0], times=[1.0])
    >>> fig = plot_geometries(amap)
    """
    ax = _ax(ax, figsize=(COLUMN_WIDTH, 3.6))
    worst = amap.max_abs_error(finite_times=True)  # (M, P, G)
    top = 1.0
    markers = "osD^vP*X"
    for m, model in enumerate(amap.models):
        color = f"C{m}"
        for p in range(len(amap.placements)):
            y = worst[m, p]
            mk = markers[p % len(markers)]
            label = model if p == 0 else None
            ax.loglog(amap.gaps, np.maximum(y, 1e-12), marker=mk, color=color, lw=1, label=label)
            refused = np.isnan(y)
            if np.any(refused):  # spread the models' crosses a little so that all show
                shift = 1.0 + 0.04 * (m - 0.5 * (len(amap.models) - 1))
                ax.scatter(
                    amap.gaps[refused] * shift, np.full(refused.sum(), top), marker="x", color=color
                )
    for p, case in enumerate(amap.placements):
        ax.plot([], [], markers[p % len(markers)], color="0.4", label=case)
    ax.axhline(top, color="0.7", lw=0.8, ls=":")
    ax.text(amap.gaps.min(), top, " refused", va="bottom", color="0.4")
    ax.set_xlabel("receiver–wall gap (µm)")
    t_max = amap.times[np.isfinite(amap.times)].max()
    ax.set_ylabel(f"max |F − F_exact| (t ≤ {t_max:g} s)")
    ax.grid(alpha=0.3, which="both")
    _legend(ax)
    return legible(ax.figure)


def geometry_report(out, *, amap: AccuracyMap | None = None) -> str:
    """Run :func:`geometry_map` (or use ``amap``), save its figure into ``out``, return markdown.

    Parameters
    ----------
    out : str or pathlib.Path
        Existing folder for ``geometries.png``.
    amap : mcvd.studies.accuracy.AccuracyMap, optional
        A precomputed map (default: :func:`geometry_map` with its defaults, a minute or two).

    Returns
    -------
    str
        Markdown: what was compared, the table and the figure link.

    Examples
    --------
    >>> import tempfile, matplotlib
    >>> matplotlib.use("Agg")
    >>> small = geometry_map(["free"], cases=["corner"], gaps=[5.0], times=[1.0])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     text = geometry_report(d, amap=small)
    >>> text.startswith("### The closed forms in corners")
    True
    """
    amap = geometry_map() if amap is None else amap
    fig = plot_geometries(amap)
    _savefig(fig, Path(out) / "geometries.png", 110)
    pyplot().close(fig)
    times = ", ".join(map(_time_label, amap.times))
    return "\n".join(
        [
            "### The closed forms in corners, an octant and with several receivers",
            "",
            f"Reference: the exact solution (error ≤ {np.nanmax(amap.uncertainty):.0e}); "
            f"receiver radius {amap.radius:g} µm, D = {amap.D:g} µm²/s, times {times} s. Cells: "
            "max |ΔF| over the finite times / |ΔF(∞)|; 'refused': the model declines the "
            "geometry (outside its validity, or a reactive receiver or degradation it does not "
            "represent) and names `exact`.",
            "",
            geometry_table(amap),
            "",
            "![closed forms against the exact solution](geometries.png)",
            "",
        ]
    )
