"""Plots: model response curves on one axis and a 2-D geometry sketch (matplotlib, optional).

Every function takes ``ax=None`` (a new figure is created) and returns the figure.
"""

from __future__ import annotations

import numpy as np

from .geometry import Geometry
from .models import ResponseResult, _as_geometry

__all__ = ["plot_geometry", "plot_responses", "pyplot"]

_AXES = {"x": 0, "y": 1, "z": 2}


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


def _ax(ax, figsize=(6, 4)):
    """``ax``, or the axes of a new figure of ``figsize`` (inches) when ``ax`` is None."""
    if ax is None:
        _, ax = pyplot().subplots(figsize=figsize)
    return ax


def _savefig(fig, path, dpi: int = 120) -> None:
    """Save ``fig`` as PNG at ``path`` atomically (temporary file + ``os.replace``)."""
    from .io import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight"))


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
        Passed to ``ax.plot``.

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
    >>> fig = plot_responses([response(g, np.linspace(0, 2, 50), m) for m in ("free", "kamber2024")])
    """
    ax = _ax(ax)
    for res in results:
        if not isinstance(res, ResponseResult):
            raise TypeError(f"results must be ResponseResult objects, got {type(res).__name__}")
        ok = np.isfinite(res.times)
        t, F = res.times[ok], res.F[ok]
        y = np.gradient(F, t) if rate else F
        if counts:
            y = y * res.molecules
        ax.plot(t, y, label=res.model, **style)
    ax.set_xlabel("time t (s)")
    what = "hitting rate f(t) (1/s)" if rate else "absorbed fraction F(t)"
    ax.set_ylabel(("expected count: " if counts else "") + what)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax.figure


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
    ax.legend(loc="upper right", fontsize=8)
    return ax.figure
