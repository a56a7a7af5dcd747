"""Figures of the escape phenomenon: the paper's Figure 1 and matrix-case escape plots.

Every ``plot_*`` function takes ``ax=None`` (a new figure is made when omitted) and returns the
matplotlib figure; the multi-panel figures take ``axes=``. The figures are made for a paper: a new
single-axes figure is :data:`COLUMN_WIDTH` wide (one column of a two-column paper), a
multi-panel one at most :data:`TEXT_WIDTH`, no text is smaller than :data:`FONT_SIZE` points
(:func:`legible`), and every curvature or loss axis names the loss scale ``c`` it uses
(:func:`curvature_label`: the paper's ``c = 1`` doubles every curvature). Experiments are separate functions returning frozen dataclasses, so the numbers
behind a figure can be tested and tabulated without plotting. Needs the ``plot`` extra
(matplotlib).

Figure 1 (paper): a 15-layer scalar factorization ``w_15 ... w_1 = m`` of a random scalar drawn by
:func:`dmfsharp.scalar_minimizer` (``m ~ Uniform(0.5, 2)``, ``w_i = m^{1/15} exp(0.5 (z_i -
mean z))``, ``z_i ~ N(0, 1)``; default ``seed = 0``); ``lambda_max = 2c sum_i prod_{j != i} w_j^2``
(scalar closed form); GD for several ``eta`` started ``1e-9`` along ``v_1``. The loss is drawn on
the plane through ``w*`` spanned by ``v_1`` and ``v_N`` (a unit vector of the Hessian null space,
eigenvalue 0 = the smallest; :func:`dmfsharp.escape.null_direction`). A ``1e-9`` offset is
invisible at the scale of the loss landscape, so the figure has three panels: (a) contour and the
projected trajectories (O(1) scale; the trajectories leave the plane, only their projection is
drawn), (b) ``|<w_t - w*, v_1>|`` on a log axis with the predicted geometric growth
``rho |1 - eta lambda_max|^t`` (the 1e-9 scale, where the escape happens), (c) the loss on a log
axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _io
from ._io import atomic_write
from ._optional import require
from .closed_forms import flattest_sharpness
from .constructors import gaussian_minimizer, scalar_minimizer
from .escape import EscapeResult, escape, null_direction
from .factorization import Factorization
from .spectrum import sharpness

__all__ = [
    "COLUMN_WIDTH",
    "FIGURE_FORMATS",
    "FONT_SIZE",
    "TEXT_WIDTH",
    "Figure1Data",
    "curvature_label",
    "escape_demo",
    "figure1",
    "figure1_experiment",
    "legible",
    "loss_on_plane",
    "matrix_escape_experiments",
    "matrix_figure",
    "plot_fig1_contour",
    "plot_fig1_growth",
    "plot_growth",
    "plot_loss",
    "plot_sharpness",
    "save_figure",
]


def _figure(nrows: int = 1, ncols: int = 1, *, mosaic=None, **kw):
    """A new figure of the library (constrained layout): :func:`legible` sets all its text to
    :data:`FONT_SIZE` (titles one point larger), where a caller's figure only has small text
    raised."""
    plt = require("matplotlib.pyplot", "plot", "dmfsharp.figures")
    kw.setdefault("layout", "constrained")
    if mosaic is not None:
        fig, axes = plt.subplot_mosaic(mosaic, **kw)
    else:
        fig, axes = plt.subplots(nrows, ncols, **kw)
    fig._paper_figure = True
    return fig, axes


def _new_ax(ax):
    if ax is None:
        return _figure(figsize=(COLUMN_WIDTH, 3.6))
    return ax.figure, ax


def _legend(ax, new: bool, **kw):
    """The legend of a panel: below the axes of a figure the function made (so that it covers
    no curve), inside the caller's axes otherwise (their layout is theirs)."""
    if new:
        handles, labels = ax.get_legend_handles_labels()
        return ax.figure.legend(handles, labels, loc="outside lower center", ncol=1, **kw)
    return ax.legend(labelspacing=0.3, handlelength=1.5, **kw)


def loss_on_plane(
    fac: Factorization,
    u: Sequence[np.ndarray],
    v: Sequence[np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    scale: float = 0.5,
) -> np.ndarray:
    """Loss at ``w* + a_i u + b_j v`` on a grid (``len(b) x len(a)``, ready for ``contour``).

    Parameters
    ----------
    fac : Factorization
        Centre ``w*``.
    u, v : sequence of ndarray
        Directions as per-layer blocks.
    a, b : ndarray
        1-D coordinates along ``u`` and ``v``.
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    ndarray
        ``Z[j, i] = l(w* + a[i] u + b[j] v)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dmfsharp import Factorization
    >>> fac = Factorization([np.array([[1.0]]), np.array([[2.0]])])
    >>> e1, e2 = [np.eye(1), np.zeros((1, 1))], [np.zeros((1, 1)), np.eye(1)]
    >>> loss_on_plane(fac, e1, e2, np.array([0.0, 1.0]), np.array([0.0]))  # (2*2-2)^2/2 = 2
    array([[0., 2.]])
    """
    A, Bg = np.meshgrid(np.asarray(a, float), np.asarray(b, float))
    prod = None
    for w, du, dv in zip(fac.weights, u, v):
        layer = w + A[..., None, None] * du + Bg[..., None, None] * dv
        prod = layer if prod is None else layer @ prod
    r = prod - fac.target
    return scale * np.sum(r * r, axis=(-2, -1))


@dataclass(frozen=True)
class Figure1Data:
    """Everything behind Figure 1.

    Attributes
    ----------
    result : EscapeResult
        The escape runs (iterates kept).
    vN : tuple of ndarray
        Null-space direction spanning the plane with ``v_1``.
    seed : int
        Seed of :func:`dmfsharp.scalar_minimizer`.
    """

    result: EscapeResult
    vN: tuple
    seed: int


def figure1_experiment(
    depth: int = 15,
    seed: int = 0,
    eta_factors: Sequence[float] | None = None,
    *,
    radius: float = 1e-9,
    steps: int = 3000,
    scale: float = 0.5,
) -> Figure1Data:
    """Run the Figure 1 experiment (see the module docstring for the distribution).

    Parameters
    ----------
    depth : int, default 15
    seed : int, default 0
    eta_factors : sequence of float, optional
        ``eta`` in units of ``2 / lambda_max``. Default ``(0.95, 1.05, 1.3, r)`` with
        ``r = 1.05 * lambda_max / flattest``: one stable step, two that escape to a flatter
        minimizer, one above ``2 / flattest`` (no stable minimizer exists).
    radius : float, default 1e-9
    steps : int, default 3000
    scale : float, default 0.5

    Returns
    -------
    Figure1Data

    Examples
    --------
    >>> d = figure1_experiment(depth=6, steps=400)
    >>> [r.escaped for r in d.result.runs]
    [False, True, True, True]
    """
    fac = scalar_minimizer(depth, rng=seed)
    if eta_factors is None:
        # lambda_max and the flattest value, as escape() computes them below
        lam = sharpness(fac, scale=scale).lambda_max
        flat = flattest_sharpness(fac.target, fac.depth, scale)
        eta_factors = (0.95, 1.05, 1.3, 1.05 * lam / flat)
    res = escape(fac, eta_factors, steps=steps, radius=radius, scale=scale, keep_iterates=True)
    return Figure1Data(result=res, vN=null_direction(fac), seed=seed)


def _colors(n: int):
    import matplotlib.pyplot as plt

    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, n))


def _label(res: EscapeResult, run, long: bool = False) -> str:
    if long:
        return (
            f"η = {run.eta_factor:.3g}·2/λ = {run.eta:.3g} (2/η = {run.threshold:.3g}): "
            f"{run.outcome}"
        )
    return f"η = {run.eta_factor:.3g}·2/λ_max: {run.outcome}"


def _plane_panel(ax, res: EscapeResult, vN, paths, span_a: float, span_b: float):
    """Loss contours on ``[-span_a, span_a] x [-span_b, span_b]`` and the projected paths."""
    from matplotlib.colors import LogNorm

    a = np.linspace(-span_a, span_a, 241)
    b = np.linspace(-span_b, span_b, 241)
    Z = loss_on_plane(res.start, res.v1, vN, a, b, res.scale)
    top = np.ceil(np.log10(Z.max()))
    levels = np.logspace(top - 8, top, 17)
    cs = ax.contourf(a, b, np.maximum(Z, levels[0]), levels=levels, norm=LogNorm(), cmap="Greys_r")
    for (pa, pb), col in zip(paths, _colors(len(paths))):
        # even and odd iterates as two lines: GD oscillates with period 2 across the valley
        ax.plot(pa[::2], pb[::2], "-", lw=1.0, color=col)
        ax.plot(pa[1::2], pb[1::2], "-", lw=1.0, color=col)
        ax.plot(pa[-1], pb[-1], "o", color=col, mec="k")
    ax.plot(0, 0, "r*", ms=10)
    return cs


def plot_fig1_contour(data: Figure1Data, ax=None):
    """Panel (a): loss contours on the (v_1, v_N) plane and the projected GD trajectories, with
    an inset zoom when an escaping trajectory is too small to see at the full scale.

    Parameters
    ----------
    data : Figure1Data
        From :func:`figure1_experiment` (iterates kept).
    ax : matplotlib Axes, optional
        Target axes (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> data = figure1_experiment(depth=4, steps=200)
    >>> fig = plot_fig1_contour(data)
    >>> len(fig.axes)  # the panel and its colour bar
    2
    >>> len(fig.legends[0].get_texts()) == len(data.result.runs) + 1  # + the start
    True
    >>> plt.close(fig)
    """
    new, (fig, ax) = ax is None, _new_ax(ax)
    res = data.result
    fac, v1, vN = res.start, res.v1, data.vN
    v1f, vNf, w0 = fac.join(v1), fac.join(vN), fac.to_vector()
    paths = []
    for run in res.runs:
        it = run.gd.trace.iterates - w0
        paths.append((it @ v1f, it @ vNf))
    span_a = max(0.2, 1.2 * max(np.abs(p[0]).max() for p in paths))
    span_b = max(0.2, 1.2 * max(np.abs(p[1]).max() for p in paths))
    cs = _plane_panel(ax, res, data.vN, paths, span_a, span_b)
    fig.colorbar(cs, ax=ax, label=curvature_label("loss ℓ", res.scale))
    # inset: the smallest escaping trajectory, invisible at the full scale
    extents = [
        max(np.abs(pa).max(), np.abs(pb).max())
        for (pa, pb), run in zip(paths, res.runs)
        if run.escaped
    ]
    if extents and min(extents) < 0.1 * min(span_a, span_b):
        span = 1.3 * min(extents)
        inset = ax.inset_axes([0.02, 0.5, 0.3, 0.36])  # upper left: no trajectory passes
        _plane_panel(inset, res, data.vN, paths, span, span)
        inset.set_xlim(-span, span)
        inset.set_ylim(-span, span)
        inset.set_xticks([])  # the title gives the scale; 8 pt ticks would not fit
        inset.set_yticks([])
        inset.set_title(f"zoom ±{span:.1e}")
    for (_, _), run, col in zip(paths, res.runs, _colors(len(res.runs))):
        ax.plot([], [], "-", color=col, label=_label(res, run, long=True))
    ax.plot(
        [],
        [],
        "r*",
        ms=10,
        label=f"start minimizer, λ_max = {res.lambda_max:.4g} (c = {res.scale:g})",
    )
    ax.set_xlabel("⟨w − w*, v₁⟩")
    ax.set_ylabel("⟨w − w*, v_N⟩")
    ax.set_title(f"(a) {fac.depth}-layer scalar factorization, m = {fac.target[0, 0]:.4f}")
    _legend(ax, new, title="even and odd iterates drawn apart")
    return legible(fig)


def plot_growth(res: EscapeResult, ax=None):
    """``|<w_t - w*, v_1>|`` (log axis) per run against the predicted ``rho |1 - eta lambda|^t``.

    Parameters
    ----------
    res : EscapeResult
        Escape runs (:func:`dmfsharp.escape.escape`).
    ax : matplotlib Axes, optional
        Target axes (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> res = matrix_escape_experiments((3,), width=2, eta_factors=(0.9, 1.1), steps=100)[0]
    >>> fig = plot_growth(res)
    >>> ax = fig.axes[0]
    >>> len(fig.legends[0].get_texts())  # one entry per run + the escape radius
    3
    >>> bool(ax.lines[-1].get_ydata()[0] == res.escape_radius)
    True
    >>> plt.close(fig)
    """
    new, (fig, ax) = ax is None, _new_ax(ax)
    for run, col in zip(res.runs, _colors(len(res.runs))):
        tr = run.gd.trace
        comp = np.abs(tr.component)
        ok = comp > 0
        ax.semilogy(tr.steps[ok], comp[ok], color=col, lw=1.2, label=_label(res, run))
        q = abs(1.0 - run.eta * res.lambda_max)
        t = tr.steps[tr.steps <= (run.escape_step or tr.steps[-1]) * 1.6]
        c0 = abs(tr.component[0])
        with np.errstate(under="ignore"):
            pred = c0 * q ** t.astype(float)
        keep = (pred > 1e-17) & (pred < 10)
        ax.semilogy(t[keep], pred[keep], "k--", lw=0.7)
    ax.axhline(res.escape_radius, color="r", lw=0.8, ls=":", label="escape radius")
    ax.set_xlabel("step t")
    ax.set_ylabel("|⟨w_t − w*, v₁⟩|\n(dashed: ρ|1 − ηλ_max|^t)")
    ax.set_title(f"escape from radius ρ = {res.radius:.0e} along v₁")
    last = max(run.gd.trace.steps[-1] for run in res.runs)
    esc = [run.escape_step for run in res.runs if run.escape_step is not None]
    ax.set_xlim(0, min(last, max(200, 6 * max(esc, default=0))))
    _legend(ax, new)
    return legible(fig)


def plot_fig1_growth(data: Figure1Data, ax=None):
    """Panel (b) of Figure 1: :func:`plot_growth` of the Figure 1 runs.

    Parameters
    ----------
    data : Figure1Data
        From :func:`figure1_experiment`.
    ax : matplotlib Axes, optional
        Target axes (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_fig1_growth(figure1_experiment(depth=4, steps=200))
    >>> fig.axes[0].get_title()
    'escape from radius ρ = 1e-09 along v₁'
    >>> plt.close(fig)
    """
    return plot_growth(data.result, ax=ax)


def plot_loss(res: EscapeResult, ax=None):
    """Loss against steps (log axis), one line per step size.

    Parameters
    ----------
    res : EscapeResult
        Escape runs (:func:`dmfsharp.escape.escape`).
    ax : matplotlib Axes, optional
        Target axes (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> res = matrix_escape_experiments((3,), width=2, eta_factors=(0.9, 1.1), steps=100)[0]
    >>> fig = plot_loss(res)
    >>> len(fig.axes[0].lines) == len(res.runs)
    True
    >>> plt.close(fig)
    """
    new, (fig, ax) = ax is None, _new_ax(ax)
    for run, col in zip(res.runs, _colors(len(res.runs))):
        tr = run.gd.trace
        ok = tr.loss > 0
        ax.semilogy(
            tr.steps[ok], tr.loss[ok], color=col, lw=1.0, label=f"η·λ/2 = {run.eta_factor:.3g}"
        )
    ax.set_xlabel("step t")
    ax.set_ylabel(curvature_label("loss ℓ", res.scale))
    ax.set_title("loss")
    _legend(ax, new)
    return legible(fig)


def plot_sharpness(res: EscapeResult, ax=None):
    """Sharpness against steps with the ``2/eta`` line of each run (edge-of-stability plot).

    Parameters
    ----------
    res : EscapeResult
        Escape runs with sharpness recorded (``sharpness_every > 0``).
    ax : matplotlib Axes, optional
        Target axes (a new figure otherwise).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> res = matrix_escape_experiments((3,), width=2, eta_factors=(0.9, 1.1), steps=100)[0]
    >>> fig = plot_sharpness(res)
    >>> ax = fig.axes[0]
    >>> [t.get_text() for t in fig.legends[0].get_texts()]
    ['2/η, η·λ/2 = 0.9', '2/η, η·λ/2 = 1.1', 'flattest minimizer']
    >>> bool(ax.lines[-1].get_ydata()[0] == res.flattest)
    True
    >>> plt.close(fig)
    """
    new, (fig, ax) = ax is None, _new_ax(ax)
    for run, col in zip(res.runs, _colors(len(res.runs))):
        tr = run.gd.trace
        if tr.sharpness.size:
            ax.plot(tr.sharpness_steps, tr.sharpness, color=col, lw=1.2)
        ax.axhline(
            run.threshold, color=col, ls="--", lw=0.9, label=f"2/η, η·λ/2 = {run.eta_factor:.3g}"
        )
    ax.axhline(res.flattest, color="k", ls=":", lw=0.9, label="flattest minimizer")
    ax.set_xlabel("step t")
    ax.set_ylabel(curvature_label("sharpness λ_max", res.scale))
    ax.set_title("sharpness (solid) vs 2/η (dashed)")
    _legend(ax, new)
    return legible(fig)


def figure1(data: Figure1Data | None = None, *, axes=None):
    """The three-panel Figure 1 (contour + trajectories, log-radius growth, loss).

    Parameters
    ----------
    data : Figure1Data, optional
        From :func:`figure1_experiment` (default: ``figure1_experiment()``, the paper's
        15-layer setting).
    axes : sequence of three matplotlib Axes, optional
        Panels (a), (b), (c). Default: a new :data:`TEXT_WIDTH`-wide figure, (a) across the top.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = figure1(figure1_experiment(depth=4, steps=200))
    >>> [ax.get_title()[:3] for ax in fig.axes[:3]]  # + the colour bar of panel (a)
    ['(a)', '(b)', '(c)']
    >>> len(fig.axes)
    4
    >>> plt.close(fig)
    """
    data = figure1_experiment() if data is None else data
    if axes is None:
        fig, panels = _figure(mosaic=[["a", "a"], ["b", "c"]], figsize=(TEXT_WIDTH, 6.4))
        axes = [panels["a"], panels["b"], panels["c"]]
    if len(axes) != 3:
        raise ValueError(f"axes must hold 3 axes (panels a, b, c), got {len(axes)}")
    fig = axes[0].figure
    plot_fig1_contour(data, ax=axes[0])
    plot_fig1_growth(data, ax=axes[1])
    plot_loss(data.result, ax=axes[2])
    for ax in axes:  # one legend below the panels: inside (a) it would cover the paths
        ax.get_legend().remove()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=2,
        title="runs (even and odd iterates drawn apart in (a))",
    )
    axes[1].set_title("(b) " + axes[1].get_title())
    axes[2].set_title("(c) loss")
    return legible(fig)


def matrix_escape_experiments(
    depths: Sequence[int] = (3, 4, 5, 6),
    width: int = 3,
    eta_factors: Sequence[float] = (0.9, 1.01, 1.1, 1.5),
    *,
    seed: int = 0,
    steps: int = 2000,
    radius: float = 1e-9,
    sharpness_every: int = 20,
    scale: float = 0.5,
) -> list[EscapeResult]:
    """Escape experiments on Gaussian minimizers with dims ``(width,) * (depth + 1)``.

    The minimizer of depth ``L`` is :func:`dmfsharp.gaussian_minimizer` with
    ``rng = SeedSequence(seed, spawn_key=(L,))``.

    Examples
    --------
    >>> res = matrix_escape_experiments((3,), width=2, eta_factors=(1.1,), steps=100)
    >>> res[0].runs[0].escaped
    True
    """
    out = []
    for L in depths:
        fac = gaussian_minimizer(
            (width,) * (L + 1), rng=np.random.SeedSequence(seed, spawn_key=(L,))
        )
        out.append(
            escape(
                fac,
                eta_factors,
                steps=steps,
                radius=radius,
                scale=scale,
                sharpness_every=sharpness_every,
            )
        )
    return out


def matrix_figure(results: Sequence[EscapeResult], *, axes=None):
    """One row per experiment: growth along ``v_1``, loss, sharpness vs ``2/eta``.

    Parameters
    ----------
    results : sequence of EscapeResult
        From :func:`matrix_escape_experiments`.
    axes : 2-D array of matplotlib Axes, optional
        ``(len(results), 3)`` panels. Default: a new :data:`TEXT_WIDTH`-wide figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> res = matrix_escape_experiments((3, 4), width=2, eta_factors=(1.1,), steps=100)
    >>> fig = matrix_figure(res)
    >>> len(fig.axes)  # 2 experiments x 3 panels
    6
    >>> fig.axes[3].get_title()
    'depth 4 (2x2x2x2x2): along v₁'
    >>> plt.close(fig)
    """
    from matplotlib.lines import Line2D

    if axes is None:
        _, axes = _figure(
            len(results), 3, figsize=(TEXT_WIDTH, 1.1 + 2.2 * len(results)), squeeze=False
        )
    axes = np.asarray(axes, dtype=object).reshape(len(results), 3)
    for row, res in zip(axes, results):
        plot_growth(res, ax=row[0])
        plot_loss(res, ax=row[1])
        plot_sharpness(res, ax=row[2])
        dims = "x".join(map(str, res.start.dims))
        row[0].set_title(f"depth {res.start.depth} ({dims}): along v₁")
        row[2].set_title("sharpness vs 2/η (dashed)")
        row[0].set_ylabel("|⟨w_t − w*, v₁⟩|")
        row[1].set_ylabel(curvature_label("loss ℓ", res.scale, short=True))
        row[2].set_ylabel(curvature_label("λ_max", res.scale, short=True))
        for ax in row:  # one legend for all panels: the colours are the step sizes
            ax.get_legend().remove()
    fig = axes[0, 0].figure
    runs = results[0].runs
    handles = [
        Line2D([], [], color=col, label=f"η = {run.eta_factor:.3g}·2/λ_max")
        for run, col in zip(runs, _colors(len(runs)))
    ]
    handles += [
        Line2D([], [], color="k", ls="--", lw=0.7, label="predicted ρ|1 − ηλ_max|^t"),
        Line2D([], [], color="r", ls=":", lw=0.8, label="escape radius"),
        Line2D([], [], color="k", ls=":", lw=0.9, label="flattest minimizer"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    scale = results[0].scale
    if scale != 1.0:
        fig.suptitle(
            f"loss scale c = {scale:g}; the paper's c = 1 multiplies ℓ and λ_max by {1 / scale:g}"
        )
    return legible(fig)


def escape_demo(out, save) -> tuple[str, list[str]]:
    """The escape section of ``dmfsharp demo``: Figure 1, matrix figures, escape claims.

    Parameters
    ----------
    out : Path
        Output folder.
    save : callable
        ``save(fig, path)`` writes a figure (the demo's atomic writer).

    Returns
    -------
    markdown : str
        Report section (``###`` headings).
    summary_rows : list of str
        Rows ``| case | quantity | dmfsharp | reference | note |``.

    Examples
    --------
    The experiments have fixed sizes (15-layer Figure 1, depths 3-6, 100 random minimizers for
    the claims) and take ~14 s, so the call is skipped here; ``make demo`` runs it.

    >>> import tempfile
    >>> from pathlib import Path
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> markdown, rows = escape_demo(out, lambda fig, path: fig.savefig(path))  # doctest: +SKIP
    >>> sorted(p.name for p in out.glob("*.png"))  # doctest: +SKIP
    ['escape_matrix.png', 'fig1_escape.png']
    >>> len(rows)  # doctest: +SKIP
    2
    """
    import matplotlib.pyplot as plt

    from .escape import check_escape_claims, escape_table

    data = figure1_experiment()
    fig = figure1(data)
    save(fig, out / "fig1_escape.png")
    plt.close(fig)
    res1 = data.result
    fac = res1.start
    matrix = matrix_escape_experiments()
    fig = matrix_figure(matrix)
    save(fig, out / "escape_matrix.png")
    plt.close(fig)
    claims = check_escape_claims(100)
    lines = [
        "### Gradient descent escapes minimizers sharper than 2/η (paper's Figure 1)",
        "",
        f"15-layer scalar factorization of m = {fac.target[0, 0]:.6f} "
        "(`scalar_minimizer(15, rng=0)`: m ~ U(0.5, 2), log-factors spread 0.5), "
        f"λ_max = {res1.lambda_max:.6g} from the scalar closed form, flattest value "
        f"{res1.flattest:.6g}. GD starts {res1.radius:g} along v₁; a run *escapes* when "
        f"‖w_t − w*‖ ≥ {res1.escape_radius:g}; *predicted* = ln(ρ_esc/ρ)/ln|1 − ηλ_max|.",
        "",
        escape_table(res1),
        "",
        "![Figure 1](fig1_escape.png)",
        "",
        "Matrix case: Gaussian minimizers with all widths 3, depths 3–6 (`dmfsharp figure "
        "matrix`): |⟨w_t − w*, v₁⟩| against the predicted geometric growth, the loss, and the "
        "sharpness against 2/η (edge of stability: the runs settle at minimizers just below "
        "2/η).",
        "",
        *[escape_table(r) + "\n" for r in matrix],
        "![matrix-case escapes](escape_matrix.png)",
        "",
        f"Claims over {claims.n_minimizers} random Gaussian minimizers (depths "
        f"{', '.join(map(str, claims.depths))}, widths 1–4, δ ∈ "
        f"{{{', '.join(map(str, claims.deltas))}}}, ρ = 1e-9):",
        "",
        claims.to_markdown(),
        "",
    ]
    runs = [r for r in res1.runs if r.escape_step is not None]
    first = runs[0]
    summary = [
        f"| Figure 1, scalar L=15 | escape step at η = {first.eta_factor:g}·2/λ_max | "
        f"{first.escape_step} | {first.predicted_escape_step:.2f} (linear prediction) | "
        f"outcome: {first.outcome} |",
        f"| escape claims, {claims.n_minimizers} minimizers | claims holding | "
        f"{sum(bool(c.holds) for c in claims.claims)}/{len(claims.claims)} | — | "
        f"escape step − prediction in [{claims.max_step_error[0]:.2f}, "
        f"{claims.max_step_error[1]:.2f}] |",
    ]
    return "\n".join(lines), summary


# ---------------------------------------------------------------------------- paper figures
#: Width (inches) of a one-column figure in a two-column paper, and of a full-width figure.
COLUMN_WIDTH, TEXT_WIDTH = 3.3, 6.9
#: Smallest font size (points) of any text in the library's figures.
FONT_SIZE = 8
#: File formats :func:`save_figure` (and ``dmfsharp figure --format``) write.
FIGURE_FORMATS = _io.FIGURE_FORMATS


def curvature_label(quantity: str, scale: float, *, short: bool = False, sep: str = " ") -> str:
    """An axis label that names the loss scale ``c`` of a curvature or loss value.

    Parameters
    ----------
    quantity : str
        What the axis shows, e.g. ``"sharpness λ_max"``.
    scale : float
        The loss scale ``c`` of the values.
    short : bool
        Only ``c`` (for panels too small for more; the figure's title then names the paper's).
    sep : str
        Between the quantity and the scale (``"\\n"`` for a two-line label).

    Returns
    -------
    str

    Examples
    --------
    >>> curvature_label("sharpness λ_max", 0.5)
    'sharpness λ_max (c = 0.5; paper: c = 1)'
    >>> curvature_label("loss ℓ", 1.0)
    'loss ℓ (c = 1, as the paper)'
    >>> curvature_label("λ_max", 0.5, short=True)
    'λ_max (c = 0.5)'
    """
    if short or scale == 1.0:
        return f"{quantity}{sep}(c = {scale:g}{', as the paper' if scale == 1.0 else ''})"
    return f"{quantity}{sep}(c = {scale:g}; paper: c = 1)"


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
    >>> _ = ax.set_xlabel("step", fontsize=5)
    >>> legible(fig).axes[0].xaxis.label.get_fontsize()
    8.0
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    ours = getattr(fig, "_paper_figure", False)
    titles = {id(t) for ax in fig.axes for t in (ax.title, ax._left_title, ax._right_title)}
    if fig._suptitle is not None:
        titles.add(id(fig._suptitle))
    for ax in fig.axes:  # tick labels are made lazily: set the size new ones get too
        for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            if ours or min((t.label1.get_fontsize() for t in ticks), default=size) < size:
                ax.tick_params(axis=which, which="both", labelsize=size)
    for text in fig.findobj(Text):
        if ours:
            text.set_fontsize(size + 1 if id(text) in titles else size)
        elif text.get_fontsize() < size:
            text.set_fontsize(size)
    return fig


def save_figure(fig, path, *, fmt: str | None = None, dpi: int = 200) -> Path:
    """Write ``fig`` to ``path`` atomically as png, pdf or svg.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Target file; its suffix gives the format unless ``fmt`` does.
    fmt : {"png", "pdf", "svg"}, optional
        Format (default: the suffix of ``path``, else png).
    dpi : int, default 200
        Resolution of raster output (png; embedded images in pdf and svg).

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> path = save_figure(fig, Path(tempfile.mkdtemp()) / "f.pdf")
    >>> path.read_bytes()[:4]
    b'%PDF'
    >>> plt.close(fig)
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    fmt = fmt or suffix or "png"
    if not isinstance(fmt, str) or fmt.lower() not in FIGURE_FORMATS:
        raise ValueError(f"format must be one of {', '.join(FIGURE_FORMATS)}, got {fmt!r}")
    fmt = fmt.lower()
    if suffix and suffix != fmt:
        raise ValueError(f"format: {fmt!r} does not match the file name {path.name!r}")
    if not isinstance(dpi, int) or isinstance(dpi, bool) or not 10 <= dpi <= 2400:
        raise ValueError(f"dpi must be an integer in [10, 2400], got {dpi!r}")
    return atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight"))
