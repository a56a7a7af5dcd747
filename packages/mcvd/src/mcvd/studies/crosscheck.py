"""Simulator-based accuracy map: the closed forms against the event-driven simulator, cross-checked
against the exact solution.

:func:`cross_check` builds the accuracy map of :mod:`mcvd.studies.accuracy` twice over the same grid —
once against the event-driven simulator (reference ``"event"``, standard error <= 5e-4 per cell)
and once against the exact Laplace-domain solution (reference ``"exact"``) — and compares them:

* the two references must agree within 4 standard errors in every cell (``z = (F_event -
  F_exact) / SE``);
* the error of each closed form measured against the simulator must match its error against the
  exact solution (the two differ by ``F_exact - F_event``, so by at most 4 SE).

Units: µm, s. The command ``mcvd crosscheck`` runs the full default grid (24 geometries x 7 times
at SE <= 5e-4: a few minutes on one core; ``--workers`` spreads each simulation over processes).
:data:`GEOMETRY_GRID` is the grid of the geometries beyond one receiver next to one plane (a
corner, an octant, two receivers next to a wall, a reactive receiver, degrading molecules;
``cross_check(**GEOMETRY_GRID)`` or ``mcvd crosscheck --placements corner,octant,...``). Models
that refuse a geometry are left out of the error comparisons there (NaN cells).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .accuracy import AccuracyMap

__all__ = [
    "DEMO_GRID",
    "GEOMETRY_GRID",
    "CrossCheck",
    "cross_check",
    "demo_section",
    "plot_z_scores",
    "write_cross_check",
]

#: the paper's model and the higher-order image model (compared in :meth:`CrossCheck.summary`)
PAPER_MODEL = "kamber2024"
HIGHER_ORDER_MODEL = "images-ho"


@dataclass(frozen=True, eq=False)
class CrossCheck:
    """The accuracy map against the event-driven simulator and against the exact solution.

    Attributes
    ----------
    event : mcvd.studies.accuracy.AccuracyMap
        Reference ``"event"`` (``uncertainty`` = standard errors).
    exact : mcvd.studies.accuracy.AccuracyMap
        Reference ``"exact"`` (same models, gaps, placements, times).
    n_molecules : int, optional
        Molecules of each simulated run: the standard error of a cell is then also evaluated at
        the exact ``F`` (see :attr:`z`).
    """

    event: AccuracyMap
    exact: AccuracyMap
    n_molecules: int | None = None

    @property
    def se(self) -> np.ndarray:
        """Standard error of each cell's test: the larger of the simulation's binomial SE (at
        the simulated ``F``) and, when :attr:`n_molecules` is known, the binomial SE at the exact
        ``F``. The second matters where very few molecules are expected: a cell expecting 6.4 of
        10^6 molecules that saw 1 has a simulated SE of 1e-6 (z = -5.4, although 1 or fewer
        happens with probability 1.2 %) but an SE of 2.5e-6 at the exact F (z = -2.1)."""
        se = self.event.uncertainty
        if self.n_molecules is not None:
            F = np.clip(self.exact.F_reference, 0.0, 1.0)
            se = np.maximum(se, np.sqrt(F * (1.0 - F) / self.n_molecules))
        return se

    @property
    def z(self) -> np.ndarray:
        """``(F_event - F_exact) / SE`` per cell (:attr:`se`), shape (placements, gaps, times)."""
        return (self.event.F_reference - self.exact.F_reference) / self.se

    @property
    def max_abs_z(self) -> float:
        """Largest ``|z|`` over the grid."""
        return float(np.max(np.abs(self.z)))

    @property
    def n_agree(self) -> int:
        """Number of cells with ``|z| <= 4`` (agreement within 4 standard errors)."""
        return int(np.sum(np.abs(self.z) <= 4.0))

    @property
    def agree(self) -> bool:
        """True when every cell agrees within 4 standard errors."""
        return self.max_abs_z <= 4.0

    def model_errors(self) -> dict[str, tuple[float, float]]:
        """Per model: (max ``|error|`` vs the simulator, max ``|error|`` vs exact) over the grid."""
        # np.fmax ignores NaN (refused cells); NaN only where every cell is, without a warning
        ev = np.fmax.reduce(np.abs(self.event.error), axis=(1, 2, 3))
        ex = np.fmax.reduce(np.abs(self.exact.error), axis=(1, 2, 3))
        return {m: (float(ev[i]), float(ex[i])) for i, m in enumerate(self.event.models)}

    def max_error_difference(self) -> float:
        """Largest ``|error_vs_event - error_vs_exact|`` over models and cells (= max ``|ΔF_ref|``;
        cells where a model refuses are left out)."""
        return float(np.fmax.reduce(np.abs(self.event.error - self.exact.error), axis=None))

    def table(self) -> str:
        """Markdown table: each model's max ``|error|`` against both references, and the ratio to the
        paper's model (the higher-order model's goal is <= 1/5)."""
        errs = self.model_errors()
        paper = errs.get(PAPER_MODEL)
        lines = [
            "| model | max abs error vs event-driven sim | vs exact | ratio to kamber2024 (sim / exact) |",
            "|---|---|---|---|",
        ]
        for model, (ev, ex) in errs.items():
            known = paper is not None and np.isfinite([ev, ex, *paper]).all()
            ratio = f"{ev / paper[0]:.3f} / {ex / paper[1]:.3f}" if known else "—"
            lines.append(f"| {model} | {ev:.2e} | {ex:.2e} | {ratio} |")
        return "\n".join(lines)

    def summary(self) -> str:
        """Markdown paragraph: reference agreement, error agreement and the higher-order goal."""
        n = self.z.size
        within = self.n_agree
        se_max = float(np.max(self.event.uncertainty))
        text = (
            f"Event-driven reference vs exact solution: {within}/{n} cells within 4 SE "
            f"(max |z| = {self.max_abs_z:.2f}, largest SE {se_max:.1e}); the closed forms' errors "
            f"against the simulator and against the exact solution differ by at most "
            f"{self.max_error_difference():.1e}."
        )
        errs = self.model_errors()
        both = (PAPER_MODEL in errs and HIGHER_ORDER_MODEL in errs) and np.isfinite(
            [*errs[PAPER_MODEL], *errs[HIGHER_ORDER_MODEL]]
        ).all()
        if both:
            ev = errs[HIGHER_ORDER_MODEL][0] / errs[PAPER_MODEL][0]
            ex = errs[HIGHER_ORDER_MODEL][1] / errs[PAPER_MODEL][1]
            verdict = "meets" if max(ev, ex) <= 0.2 else "misses"
            text += (
                f" Higher-order model `{HIGHER_ORDER_MODEL}`: max error {ev:.3f}x the paper "
                f"model's against the simulator, {ex:.3f}x against exact ({verdict} the 1/5 goal)."
            )
        return text


def cross_check(
    models: Sequence[str] | None = None,
    *,
    gaps: Sequence[float] | None = None,
    placements: Sequence[str] | None = None,
    times: Sequence[float] | None = None,
    se: float | None = None,
    seed: int = 0,
    executor: str | None = "inline",
    workers: int | None = None,
    run_dir=None,
    force: bool = False,
) -> CrossCheck:
    """Accuracy map against the event-driven simulator and against the exact solution.

    Parameters
    ----------
    models : sequence of str, optional
        Closed forms (default ``mcvd.studies.accuracy.DEFAULT_MODELS``).
    gaps, placements, times : optional
        The grid: gaps (µm), placement names, times (s) (defaults: those of
        :func:`mcvd.studies.accuracy.accuracy_map`; ``inf`` allowed in ``times``).
    se : float, optional
        Standard error of the simulated reference per cell (default
        :data:`mcvd.sim.event.REFERENCE_SE` = 5e-4).
    seed : int
        Base seed of the simulations.
    executor, workers
        Executor of the simulations (see :func:`mcvd.sim.runner.run_chunks`).
    run_dir : str or Path, optional
        Keep every finished cell there (checksummed JSON) and reuse it: an interrupted map
        resumes.
    force : bool
        Run even when the map is estimated to take more than
        :data:`mcvd.sim.runner.MAX_SECONDS` (24 h); beyond a minute it warns first.

    Returns
    -------
    CrossCheck

    Raises
    ------
    ValueError
        Bad grid or ``se``, or a map estimated beyond 24 h without ``force``.

    Examples
    --------
    >>> cc = cross_check(["kamber2024"], gaps=[3.0], placements=["on-plane"], times=[0.5],
    ...                  se=5e-3)
    >>> cc.agree
    True
    """
    from ..sim.event import REFERENCE_SE
    from . import accuracy as acc

    se = REFERENCE_SE if se is None else se

    grid = dict(
        gaps=acc.DEFAULT_GAPS if gaps is None else gaps,
        placements=tuple(acc.PLACEMENTS) if placements is None else placements,
        times=acc.DEFAULT_TIMES if times is None else times,
    )
    models = acc.DEFAULT_MODELS if models is None else models
    n_molecules = _check_map_time(grid, se, force)
    accuracy_map = acc.accuracy_map
    event = accuracy_map(
        models,
        reference="event",
        se=se,
        seed=seed,
        executor=executor,
        workers=workers,
        run_dir=run_dir,
        **grid,
    )
    exact = accuracy_map(models, reference="exact", **grid)
    return CrossCheck(event, exact, n_molecules)


def _check_map_time(grid: dict, se, force: bool) -> int:
    """Estimate the simulations of a map (cells x runs x molecules); warn or refuse. Returns the
    molecules of each simulated run (those of :func:`mcvd.sim.event.event_reference`)."""
    from ..sim.api import EVENT_SECONDS_PER_MOLECULE
    from ..sim.runner import _local_threads, check_run_time

    se = float(se)
    if not (math.isfinite(se) and 0 < se < 0.5):
        raise ValueError(f"se must be in (0, 0.5), got {se}")
    times = np.asarray(grid["times"], dtype=float)
    runs = int(np.any(np.isfinite(times) & (times > 0))) + int(np.any(np.isinf(times)))
    cells = len(grid["gaps"]) * len(grid["placements"])
    n = math.ceil(0.25 / se**2)
    threads = _local_threads()  # inline: numba threads; a process pool: cores // workers each
    # plus the exact reference, ~0.15 s per cell (the 24-cell demo map: ~3 s)
    seconds = cells * (runs * n * EVENT_SECONDS_PER_MOLECULE / threads + 0.15)
    how = f"{cells} cells x {runs} run(s) x {n} molecules, {threads} thread(s)"
    check_run_time(seconds, how, force)
    return n


def plot_z_scores(cc: CrossCheck, *, ax=None):
    """Heat map of ``max_t |z|`` (simulator vs exact, in standard errors) over gap x placement.

    Parameters
    ----------
    cc : CrossCheck
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> cc = cross_check(["free"], gaps=[3.0], placements=["far"], times=[1.0], se=5e-3)
    >>> fig = plot_z_scores(cc)
    """
    from ..core.plots import _ax, legible

    ax = _ax(ax)
    fig = ax.figure
    zmax = np.max(np.abs(cc.z), axis=-1)  # (P, G)
    img = ax.imshow(zmax, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=4)
    for (p, g), v in np.ndenumerate(zmax):
        ax.text(g, p, f"{v:.1f}", ha="center", va="center", color="w")
    ax.set_xticks(range(cc.event.gaps.size), [f"{g:g}" for g in cc.event.gaps])
    ax.set_yticks(range(len(cc.event.placements)), cc.event.placements)
    ax.set_xlabel("receiver-plane gap (µm)")
    ax.set_title("event-driven vs exact:\nmax over t of |ΔF|/SE")
    fig.colorbar(img, ax=ax, label="|z|")
    return legible(fig)


def write_cross_check(cc: CrossCheck, out, *, prefix: str = "event_map") -> str:
    """Write the figures of a cross-check to ``out`` and return a markdown section.

    Parameters
    ----------
    cc : CrossCheck
    out : str or Path
        Output directory (created).
    prefix : str
        File-name prefix of the figures.

    Returns
    -------
    str
        Markdown (summary, table, figure links).

    Examples
    --------
    >>> import matplotlib, tempfile
    >>> matplotlib.use("Agg")
    >>> cc = cross_check(["free"], gaps=[3.0], placements=["far"], times=[1.0], se=5e-3)
    >>> "4 SE" in write_cross_check(cc, tempfile.mkdtemp())
    True
    """
    from ..core.plots import _savefig, pyplot
    from .accuracy import _time_label, plot_accuracy_overview

    plt = pyplot()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_accuracy_overview(cc.event)
    _savefig(fig, out / f"{prefix}_errors.png")
    plt.close(fig)
    fig = plot_z_scores(cc)
    _savefig(fig, out / f"{prefix}_z.png")
    plt.close(fig)
    t_txt = ", ".join(map(_time_label, cc.event.times))
    grid = (
        f"gaps {', '.join(f'{g:g}' for g in cc.event.gaps)} µm; TX {', '.join(cc.event.placements)}; "
        f"t = {t_txt} s; SE <= {np.max(cc.event.uncertainty):.1e} per cell"
    )
    return "\n\n".join(
        [
            f"Grid: {grid}.",
            cc.summary(),
            cc.table(),
            "Per-cell errors against the simulator (max over finite t / capture error):",
            cc.event.table(),
            f"![closed-form errors vs the event-driven simulator]({prefix}_errors.png)",
            f"![simulator vs exact, in standard errors]({prefix}_z.png)",
        ]
    )


#: reduced grid of the demo section (the full grid runs with ``mcvd crosscheck``)
DEMO_GRID = dict(
    gaps=(0.3, 3.0, 30.0),
    placements=("on-plane", "behind"),
    times=(0.1, 0.5, 2.0, math.inf),
    se=1e-3,
)


#: the geometries beyond one receiver next to one plane (see :data:`mcvd.studies.accuracy.LAYOUTS`)
GEOMETRY_GRID = dict(
    gaps=(2.0, 5.0),
    placements=("corner", "octant", "two-receivers", "reactive", "degrading"),
    times=(0.1, 0.5, 2.0, math.inf),
)


def demo_section(out, seed=None):
    """Demo report section: the simulator-based accuracy map on a reduced grid (~15 s).

    Parameters
    ----------
    out : str or Path
        Output directory for the figures.
    seed : numpy.random.SeedSequence or int, optional
        Seed of the simulations (the demo passes its spawned section seed).

    Returns
    -------
    mcvd.studies.demo.Section
        Markdown (title, what was reduced, summary, tables, figures) and summary rows.

    Examples
    --------
    >>> callable(demo_section)
    True
    """
    import time

    from .report import Section

    if isinstance(seed, np.random.SeedSequence):
        seed = int(seed.generate_state(1)[0])
    t0 = time.perf_counter()
    grid = dict(DEMO_GRID)
    se = grid.pop("se")
    run_dir = Path(out) / "runs" / "event_map"  # finished cells, kept across a Ctrl-C
    cc = cross_check(se=se, seed=0 if seed is None else int(seed), run_dir=run_dir, **grid)
    body = write_cross_check(cc, out, prefix="event_map")
    text = (
        "### Simulator-based accuracy map (event-driven, walk on spheres)\n\n"
        f"Reduced grid for the demo (SE <= {se:g} per cell, {time.perf_counter() - t0:.0f} s); the "
        "full grid (6 gaps x 4 placements x 7 times, SE <= 5e-4) runs with `mcvd crosscheck`.\n\n"
        + body
        + "\n"
    )
    n = cc.z.size
    within = cc.n_agree
    rows = [
        f"| accuracy map, {n} cells | event-driven sim vs exact, (F_sim − F_exact)/SE | "
        f"max abs {cc.max_abs_z:.2f} | "
        f"<= 4 SE | {within}/{n} cells agree |"
    ]
    errs = cc.model_errors()
    if PAPER_MODEL in errs and HIGHER_ORDER_MODEL in errs:
        ho, paper = errs[HIGHER_ORDER_MODEL][0], errs[PAPER_MODEL][0]
        rows.append(
            f"| accuracy map (sim reference) | max abs error of F | {ho:.1e} ({HIGHER_ORDER_MODEL}) "
            f"| {paper:.1e} ({PAPER_MODEL}) | ratio {ho / paper:.3f} |"
        )
    return Section(text, rows)
