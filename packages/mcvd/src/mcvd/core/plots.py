"""Plots: model response curves on one axis and a 2-D geometry sketch (matplotlib, optional).

Every function takes ``ax=None`` (a new figure is created) and returns the figure. Figures are
made for a paper: a new single-axes figure is :data:`COLUMN_WIDTH` wide (one column of a
two-column paper), multi-panel figures at most :data:`TEXT_WIDTH`, and :func:`legible` raises
every text of a figure to at least :data:`FONT_SIZE` points, so that nothing is smaller than
8 pt when the figure is printed at its own size.
"""

from __future__ import annotations

import numpy as np

from .geometry import Geometry
from .models import ResponseResult, _as_geometry

__all__ = [
    "COLUMN_WIDTH",
    "FIGURE_FORMATS",
    "FONT_SIZE",
    "TEXT_WIDTH",
    "legible",
    "plot_geometry",
    "plot_responses",
    "pyplot",
]

#: Width (inches) of a one-column figure in a two-column paper, and of a full-width figure.
COLUMN_WIDTH, TEXT_WIDTH = 3.3, 6.9
#: Smallest font size (points) of any text in the library's figures.
FONT_SIZE = 8
#: File formats the figure-writing commands accept.
FIGURE_FORMATS = ("png", "pdf", "svg")

_AXES = {"x": 0, "y": 1, "z": 2}
#: line styles cycled by :func:`plot_responses`, so that curves that coincide stay visible
_DASHES = ["-", (0, (5, 2)), (0, (1, 1.5)), "-.", (0, (8, 2, 1, 2)), (0, (3, 1, 1, 1, 1, 1))]


def pyplot():
    """``matplotlib.pyplot``, or a one-line ImportError naming the extra to install.

    Raises
    ------
    mcvd.core.extras.MissingExtraError
        matplotlib is not installed (``pip install 'mcvd[plot]'``).

    Examples
    --------
    >>> pyplot().__name__
    'matplotlib.pyplot'
    """
    from .extras import require

    return require("matplotlib.pyplot", "plots")


def _figure(nrows: int = 1, ncols: int = 1, **kw):
    """A new figure of the library (constrained layout): :func:`legible` sets all its text to
    :data:`FONT_SIZE` (titles one point larger), where a caller's figure only has small text
    raised."""
    kw.setdefault("layout", "constrained")
    fig, axes = pyplot().subplots(nrows, ncols, **kw)
    fig._paper_figure = True
    return fig, axes


def _ax(ax, figsize=(COLUMN_WIDTH, 3.0)):
    """``ax``, or the axes of a new figure of ``figsize`` (inches) when ``ax`` is None."""
    if ax is None:
        _, ax = _figure(figsize=figsize)
    return ax


def legible(fig, size: float = FONT_SIZE):
    """Raise every text of ``fig`` (labels, ticks, titles, legends, colour bars) to ``size`` pt.

    Texts already larger keep their size, except in a figure the library made itself: there
    every text is ``size`` and titles ``size + 1`` (matplotlib's 10 pt default does not fit a
    one-column figure).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    size : float
        Smallest font size (points).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_xlabel("t (s)", fontsize=5)
    >>> legible(fig).axes[0].xaxis.label.get_fontsize()
    8.0
    """
    from matplotlib.text import Text

    ours = getattr(fig, "_paper_figure", False)
    titles = {id(t) for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)}
    if fig._suptitle is not None:
        titles.add(id(fig._suptitle))
    for ax in fig.axes:  # tick labels are made lazily: set the size new ones get too
        for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            now = min((t.label1.get_fontsize() for t in ticks), default=size)
            if ours or now < size:
                ax.tick_params(axis=which, which="both", labelsize=size)
    for text in fig.findobj(Text):
        if ours:
            text.set_fontsize(size + 1 if id(text) in titles else size)
        elif text.get_fontsize() < size:
            text.set_fontsize(size)
    return fig


def _figure_format(path, fmt: str | None) -> str:
    """The format of a figure file: ``fmt``, else the suffix of ``path``; one of FIGURE_FORMATS."""
    from pathlib import Path

    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = (fmt or suffix or "png").lower()
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(FIGURE_FORMATS)}, got {fmt!r}")
    if suffix and suffix != fmt:
        raise ValueError(f"format: {fmt!r} does not match the file name {Path(path).name!r}")
    return fmt


def _savefig(fig, path, dpi: int = 200, fmt: str | None = None) -> None:
    """Save ``fig`` at ``path`` atomically (temporary file + ``os.replace``).

    The format is ``fmt`` or the suffix of ``path`` (png, pdf or svg; png when neither says).
    """
    from .io import atomic_write

    fmt = _figure_format(path, fmt)
    if not isinstance(dpi, int) or isinstance(dpi, bool) or not 10 <= dpi <= 2400:
        raise ValueError(f"dpi must be an integer in [10, 2400], got {dpi!r}")
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"))


def _legend(ax, **kw):
    """The legend of a panel: below the axes of a one-panel figure the library made (so that it
    covers no curve), else a compact one inside where it covers the least data."""
    fig = ax.figure
    if not kw and getattr(fig, "_paper_figure", False) and len(fig.axes) == 1:
        handles, labels = ax.get_legend_handles_labels()
        return fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncol=2,
            labelspacing=0.3,
            handlelength=2.2,
            columnspacing=1.2,
        )
    opts = {
        "loc": "best",
        "labelspacing": 0.3,
        "handlelength": 2.2,
        "borderaxespad": 0.3,
        "framealpha": 0.85,
    }
    return ax.legend(**(opts | kw))


def _plot_distinct(ax, drawn: list, name: str, x, y, k: int, style: dict, plot=None):
    """Draw curve ``k`` so that the legend never hides it.

    Without a line style in ``style`` it gets the ``k``-th dash pattern; if it lies on a curve in
    ``drawn`` (same ``x``; ``y`` within 0.1 % of its scale) its label says which one. Appends
    ``(name, x, y)`` to ``drawn``.
    """
    x, y = np.asarray(x), np.asarray(y)
    scale = max(float(np.max(np.abs(y))) if y.size else 0.0, 1e-300)
    same = [
        m
        for m, x0, y0 in drawn
        if x0.shape == x.shape
        and np.allclose(x0, x)
        and np.allclose(y0, y, rtol=0, atol=1e-3 * scale)
    ]
    label = name + (f"\n(≡ {same[0]})" if same else "")
    kw = dict(style)
    if "ls" not in kw and "linestyle" not in kw:
        kw["ls"] = _DASHES[k % len(_DASHES)]
    (plot or ax.plot)(x, y, label=label, **kw)
    drawn.append((name, x, y))


def plot_responses(results, ax=None, *, rate: bool = False, counts: bool = False, **style):
    """Plot several model responses on one axis.

    Parameters
    ----------
    results : sequence of ResponseResult
        E.g. ``[response(g, t, model=m) for m in models]``; finite times are plotted.
    ax : matplotlib Axes, optional
    rate : bool
        Plot the hitting rate ``dF/dt`` (1/s, by differences) instead of ``F``.
    counts : bool
        Multiply by the number of released molecules.
    **style
        Passed to ``ax.plot``. Without a ``ls``/``linestyle``, the curves get distinct dash
        patterns, and a curve that lies on an earlier one (within 0.1 % of its scale) says so in
        its legend entry, e.g. ``kamber2024-conv (≡ kamber2024)``: the two coincide when
        the transmitter is on the plane.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mcvd.core.geometry import Geometry
    >>> from mcvd.core.models import response
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> models = ("free", "kamber2024", "kamber2024-conv")
    >>> fig = plot_responses([response(g, np.linspace(0, 2, 50), m) for m in models])
    >>> [t.get_text() for t in fig.legends[0].get_texts()][2]  # below the axes
    'kamber2024-conv\\n(≡ kamber2024)'
    """
    ax = _ax(ax)
    drawn = []  # (model, t, y) already on the axes
    for k, res in enumerate(results):
        if not isinstance(res, ResponseResult):
            raise TypeError(f"results must be ResponseResult objects, got {type(res).__name__}")
        ok = np.isfinite(res.times)
        t, F = res.times[ok], res.F[ok]
        y = np.gradient(F, t) if rate else F
        if counts:
            y = y * res.molecules
        _plot_distinct(ax, drawn, res.model, t, y, k, style)
    ax.set_xlabel("time t (s)")
    what = "hitting rate f(t) (1/s)" if rate else "absorbed fraction F(t)"
    ax.set_ylabel(("expected count: " if counts else "") + what)
    ax.grid(alpha=0.3)
    _legend(ax)
    return legible(ax.figure)


def plot_geometry(scenario_or_geometry, ax=None, *, axes: str = "xz", images: bool = True):
    """2-D sketch of a geometry: transmitter(s), receivers, plane images, planes, obstacles.

    Parameters
    ----------
    scenario_or_geometry : Scenario or Geometry
    ax : matplotlib Axes, optional
    axes : str
        Two of ``x, y, z``: the projection plane (e.g. ``"xz"``).
    images : bool
        Draw the plane images of the receivers (dashed) and of the transmitter (hollow).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from mcvd.core.geometry import Geometry
    >>> g = Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    >>> fig = plot_geometry(g)
    """
    from matplotlib.patches import Circle, Rectangle

    geom: Geometry = _as_geometry(scenario_or_geometry)
    if len(axes) != 2 or any(a not in _AXES for a in axes) or axes[0] == axes[1]:
        raise ValueError(f"axes must be two distinct letters of 'xyz', got {axes!r}")
    i, j = _AXES[axes[0]], _AXES[axes[1]]
    ax = _ax(ax)
    pts = []
    system = geom.images(1 if geom.is_slab else 0)
    for k, s in enumerate(geom.receivers):
        sph = system.spheres(s) if images else [s]
        for m, im in enumerate(sph):
            c = im.c
            ax.add_patch(
                Circle(
                    (c[i], c[j]),
                    im.radius,
                    fill=m == 0,
                    alpha=0.35 if m == 0 else 0.8,
                    ls="-" if m == 0 else "--",
                    color="C0",
                    label=("receiver" if k == 0 else None) if m == 0 else None,
                )
            )
            pts.append(c + im.radius)
            pts.append(c - im.radius)
    for k, tx in enumerate(geom.transmitters):
        ax.plot(tx.x[i], tx.x[j], "r*", ms=12, label="transmitter" if k == 0 else None)
        pts.append(tx.x)
        if images:
            for p in system.apply(tx.x)[1:]:
                ax.plot(p[i], p[j], "r*", ms=9, mfc="none")
                pts.append(p)
    for b in geom.obstacles:
        lo, hi = np.array(b.min), np.array(b.max)
        ax.add_patch(Rectangle((lo[i], lo[j]), hi[i] - lo[i], hi[j] - lo[j], color="0.4"))
        pts += [lo, hi]
    pts = np.array(pts)
    span = np.ptp(pts[:, [i, j]], axis=0).max() + 10
    mid = (pts[:, [i, j]].max(axis=0) + pts[:, [i, j]].min(axis=0)) / 2
    lim = np.array([mid - span / 2, mid + span / 2])
    for k, pl in enumerate(geom.planes):
        n2 = np.array([pl.n[i], pl.n[j]])
        if np.linalg.norm(n2) < 1e-9:
            continue  # plane parallel to the projection plane
        p0 = np.array([pl.point[i], pl.point[j]])
        d = np.array([-n2[1], n2[0]]) / np.linalg.norm(n2)
        seg = np.array([p0 - 2 * span * d, p0 + 2 * span * d])
        ax.plot(seg[:, 0], seg[:, 1], "k-", lw=2, label="reflecting plane" if k == 0 else None)
        # hatch the non-fluid side
        ax.plot(*(seg - 0.02 * span * n2 / np.linalg.norm(n2)).T, "k:", lw=1)
    ax.set_xlim(lim[:, 0])
    ax.set_ylim(lim[:, 1])
    ax.set_aspect("equal")
    ax.set_xlabel(f"{axes[0]} (µm)")
    ax.set_ylabel(f"{axes[1]} (µm)")
    # beside the (square) axes: a legend inside would cover the transmitter or a receiver
    _legend(ax, loc="center left", bbox_to_anchor=(1.02, 0.5), borderaxespad=0)
    return legible(ax.figure)
