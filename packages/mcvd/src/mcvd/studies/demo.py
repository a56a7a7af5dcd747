"""``mcvd demo``: figures and tables of the channel models for the paper's topology.

:func:`run_demo` runs every function in :data:`SECTIONS` in order. A section takes the output
folder and a ``numpy.random.SeedSequence`` and returns a :class:`Section` (markdown for
``report.md``, optional rows for the short ``summary.md`` table, figures written into the folder).
To add a section, append a function to :data:`SECTIONS` (small edit).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..core.curves import bin_counts, halfspace_bounds, max_error, nrmse, peak_time
from ..core.geometry import Geometry
from ..core.models import available_models, capture, response
from .ber import section_ber
from .report import Section

__all__ = [
    "RUNS",
    "SECTIONS",
    "Section",
    "paper_geometry",
    "run_demo",
    "section_accuracy",
    "section_analytic",
    "section_event_map",
]

SEED = 2401_07282  # arXiv 2401.07282

#: sub-folder of the output folder holding the simulations' chunks and cells while the demo runs
#: (Ctrl-C keeps them and ``mcvd demo`` resumes from them; removed when the demo completes)
RUNS = "runs"
SUMMARY_HEADER = ["| case | quantity | mcvd | reference | note |", "|---|---|---|---|---|"]
MAX_SUMMARY_ROWS = 8


def paper_geometry() -> Geometry:
    """The paper's topology: TX (0,0,10) on the plane x = 0, RX r = 5 at (10,0,0), D = 79.4.

    Examples
    --------
    >>> paper_geometry().receivers[0].center
    (10.0, 0.0, 0.0)
    """
    return Geometry.simple(79.4, (0, 0, 10), [((10, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])


def _atomic_write(path: Path, text: str) -> None:
    from ..core.io import atomic_write

    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _bounds_lines() -> list[str]:
    """Largest violations of F_free(r_0i) <= F_HS <= F_free(r_0i) + F_free(r_0j) per model."""
    t = np.geomspace(0.01, 2, 60)
    lines = [
        "Bounds every exact half-space response satisfies, "
        "F_free(r_0i) ≤ F_HS ≤ F_free(r_0i) + F_free(r_0j), checked over gaps 0.1–30 µm and "
        "transmitters on the plane / behind / beside / far (largest violation; ≤ 0 = none):",
        "",
        "| model | below the lower bound | above the upper bound |",
        "|---|---|---|",
    ]
    for m in ("kamber2024", "kamber2024-conv", "images-ho"):
        lo = hi = -np.inf
        for gap in (0.1, 1.0, 5.0, 30.0):
            c = 5.0 + gap
            for tx in [(0, 0, 10), (c + 15, 0, 0), (c, 0, 15), (40, 0, 30)]:
                g = Geometry.simple(79.4, tx, [((c, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
                b = halfspace_bounds(g, t, m)
                lo, hi = max(lo, b.below_lower), max(hi, b.above_upper)
        lines.append(f"| {m} | {lo:.1e} | {hi:.1e} |")
    return [*lines, ""]


def section_analytic(out: Path, seed: np.random.SeedSequence) -> Section:
    """Closed-form models on the paper's topology against the exact response (if available).

    Curves on 5 ms bins from 0 to 2 s; positions in µm, D in µm²/s.

    Parameters
    ----------
    out : Path
        Existing output folder (``analytic_paper.png`` is written there).
    seed : numpy.random.SeedSequence
        Unused (deterministic section); part of the section signature.

    Returns
    -------
    Section

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_analytic(out, np.random.SeedSequence(0))
    >>> sec.markdown.startswith("### Analytic channel models"), (out / "analytic_paper.png").exists()
    (True, True)
    >>> f"F(∞) = {capture(paper_geometry()).F_inf:.6f}" in sec.markdown  # exact Kelvin capture
    True
    """
    from ..core.plots import (
        TEXT_WIDTH,
        _figure,
        _plot_distinct,
        _savefig,
        legible,
        plot_geometry,
        plot_responses,
        pyplot,
    )

    plt = pyplot()

    g = paper_geometry()
    N = 1_000_000
    models = ["free", "kamber2024", "kamber2024-conv", "images-ho"]
    have_exact = "exact" in available_models()
    edges = np.arange(0.0, 2.0 + 1e-12, 0.005)  # 5 ms bins, as in the paper's scripts
    res = {m: response(g, edges, model=m) for m in models + (["exact"] if have_exact else [])}
    t_inf = {m: response(g, [np.inf], model=m).F[0] for m in models}
    cap = capture(g).F_inf

    fig, axes = _figure(2, 2, figsize=(TEXT_WIDTH, 5.2))
    axes = axes.ravel()
    plot_geometry(g, ax=axes[0])
    axes[0].set_title("paper topology (x-z); image dashed")
    plot_responses(list(res.values()), ax=axes[1])
    axes[1].set_title("F(t)")
    drawn = []
    for k, (m, r) in enumerate(res.items()):
        _plot_distinct(
            axes[2],
            drawn,
            m,
            edges[1:],
            bin_counts(r.F, N),
            k,
            {"lw": 1},
            plot=lambda x, y, **kw: axes[2].step(x, y, where="pre", **kw),
        )
    axes[2].set_xlabel("time t (s)")
    axes[2].set_ylabel("molecules per 5 ms bin (N = 1e6)")
    axes[2].set_xlim(0, 0.6)
    axes[2].grid(alpha=0.3)
    if "exact" in res:
        drawn = []
        for m in models[1:]:
            k = models.index(m)
            err = res[m].F - res["exact"].F
            _plot_distinct(axes[3], drawn, m, edges, err, k, {"color": f"C{k}"})
        axes[3].axhline(0, color="k", lw=0.5)
        axes[3].set_title("model − exact")
    axes[3].set_xlabel("time t (s)")
    axes[3].set_ylabel("F error")
    axes[3].grid(alpha=0.3)
    # one legend for the three curve panels (same colour and dash per model in each)
    handles, labels = axes[1].get_legend_handles_labels()
    axes[1].get_legend().remove()
    fig.legend(handles, labels, loc="outside lower center", ncol=3)
    legible(fig)
    _savefig(fig, out / "analytic_paper.png")
    plt.close(fig)

    ref = res.get("exact")
    lines = [
        "### Analytic channel models on the paper's topology",
        "",
        "TX (0, 0, 10) µm on the reflecting plane x = 0, absorbing receiver r = 5 µm at "
        "(10, 0, 0) µm, D = 79.4 µm²/s, 5 ms bins to 2 s. `free` ignores the plane; `kamber2024` "
        "and `kamber2024-conv` are the paper's first-order image model (two erfc delays, identical "
        "here because the TX is on the plane); `images-ho` carries the image series to all "
        "orders (its t → ∞ limit is the exact Kelvin capture). Reference: "
        + ("the exact two-sphere solution (`exact`)." if ref is not None else "none available."),
        "",
        "![analytic models](analytic_paper.png)",
        "",
        "| model | F(0.5 s) | F(2 s) | F(∞) | peak time (ms) | max abs err 0–2 s | NRMSE of bin counts |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = []
    k05 = int(np.argmin(np.abs(edges - 0.5)))
    for m, r in res.items():
        finf = cap if m == "exact" else t_inf[m]
        tp = peak_time(g, m, t_max=2.0).time * 1e3
        if ref is not None and m != "exact":
            err = f"{max_error(r.F, ref.F):.2e}"
            nr = f"{nrmse(bin_counts(r.F, N), bin_counts(ref.F, N)):.2e}"
        else:
            err = nr = "—"
        lines.append(
            f"| {m} | {r.F[k05]:.5f} | {r.F[-1]:.5f} | {finf:.5f} | {tp:.2f} | {err} | {nr} |"
        )
    lines += [
        "",
        f"Exact long-time capture (Kelvin image-charge series): F(∞) = {cap:.6f}; the paper's "
        f"model tends to {t_inf['kamber2024']:.6f} "
        f"({100 * (t_inf['kamber2024'] / cap - 1):+.1f} %), free space to "
        f"{t_inf['free']:.6f}.",
        "",
        *_bounds_lines(),
    ]
    if ref is not None:
        e_ho, e_k = max_error(res["images-ho"].F, ref.F), max_error(res["kamber2024"].F, ref.F)
        rows = [
            f"| paper topology | F(2 s) | {res['images-ho'].F[-1]:.5f} (images-ho) | "
            f"{ref.F[-1]:.5f} (exact) | kamber2024: {res['kamber2024'].F[-1]:.5f} |",
            f"| paper topology | max abs error of F, 0–2 s | {e_ho:.1e} (images-ho) | "
            f"{e_k:.1e} (kamber2024) | vs the exact solution |",
        ]
    rows.append(
        f"| paper topology | F(∞) | {cap:.5f} (Kelvin series) | "
        f"{t_inf['kamber2024']:.5f} (kamber2024) | paper model "
        f"{100 * (t_inf['kamber2024'] / cap - 1):+.1f} % |"
    )
    return Section("\n".join(lines), rows)


def section_accuracy(out: Path, seed: np.random.SeedSequence) -> Section:
    """Accuracy map of the closed forms against the exact solution (``mcvd.studies.accuracy``).

    Gaps 0.1-30 µm, times up to 2 s (see :func:`mcvd.studies.accuracy.accuracy_map`); ~3 s.

    Parameters
    ----------
    out : Path
        Existing output folder (``accuracy_map.png`` and ``accuracy_vs_gap.png``).
    seed : numpy.random.SeedSequence
        Unused (deterministic section); part of the section signature.

    Returns
    -------
    Section

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_accuracy(out, np.random.SeedSequence(0))
    >>> sec.markdown.startswith("### Accuracy map"), "400-point curve" in sec.markdown
    (True, True)
    >>> sorted(p.name for p in out.glob("*.png"))
    ['accuracy_map.png', 'accuracy_vs_gap.png']
    >>> len(sec.summary_rows), sec.summary_rows[0].startswith("| accuracy map (24 geometries)")
    (1, True)
    """
    import time

    from ..core.nsphere import exact_channel
    from .accuracy import accuracy_map, accuracy_report

    t0 = time.perf_counter()
    _, res, _ = exact_channel(paper_geometry(), np.linspace(0.005, 2.0, 400))
    ms = 1e3 * (time.perf_counter() - t0)
    amap = accuracy_map()
    text = accuracy_report(out, amap=amap).replace(
        "\n\n",
        f"\n\nExact solution (Laplace multipole + hyperbolic contour): 400-point curve "
        f"of the paper's topology in {ms:.0f} ms, error estimate {res.error_estimate:.0e}.\n\n",
        1,
    )
    fin = amap.max_abs_error(finite_times=True)
    worst = ", ".join(f"{m} {fin[i].max():.1e}" for i, m in enumerate(amap.models))
    row = (
        f"| accuracy map (24 geometries) | worst abs. error of F, t ≤ 2 s | {worst} | exact "
        "| gaps 0.1–30 µm |"
    )
    return Section(text, [row])


#: The demo sections, in report order. Each is ``f(out: Path, seed: SeedSequence) -> Section``.
def section_fixed_step(out: Path, seed: np.random.SeedSequence) -> Section:
    """Fixed-step particle simulation studies (``mcvd.studies.paper``; small molecule counts).

    Examples
    --------
    ~20 s (fixed study sizes), so the call is skipped here; ``make demo`` runs it.

    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_fixed_step(out, np.random.SeedSequence(0))  # doctest: +SKIP
    >>> sec.markdown.startswith("###")  # doctest: +SKIP
    True
    """
    from .paper import demo_section

    return demo_section(out, seed)


def section_event_map(out: Path, seed: np.random.SeedSequence) -> Section:
    """Simulator-based accuracy map on a reduced grid (event-driven simulator; ~15 s).

    Gaps 0.3, 3 and 30 µm, times 0.1, 0.5, 2 s and ∞ (:data:`mcvd.studies.crosscheck.DEMO_GRID`).

    Parameters
    ----------
    out : Path
        Existing output folder (``event_map_errors.png`` and ``event_map_z.png``).
    seed : numpy.random.SeedSequence
        Seed of the simulations.

    Returns
    -------
    Section

    Examples
    --------
    The grid is fixed and the simulations take ~15 s, so the call is skipped here (``make demo``
    runs it; ``mcvd crosscheck`` runs a grid of any size, see
    :func:`mcvd.cli.crosscheck.cmd_crosscheck`).

    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_event_map(out, np.random.SeedSequence(0))  # doctest: +SKIP
    >>> sorted(p.name for p in out.glob("*.png"))  # doctest: +SKIP
    ['event_map_errors.png', 'event_map_z.png']
    """
    from .crosscheck import demo_section

    return demo_section(out, seed)


SECTIONS: list[Callable[[Path, np.random.SeedSequence], Section]] = [
    section_analytic,
    section_accuracy,
    section_fixed_step,
    section_event_map,
    section_ber,
]


def run_demo(out: Path) -> None:
    """Write ``report.md``, ``summary.md`` and the figures of every section into ``out``.

    Parameters
    ----------
    out : Path
        Output folder (created if missing). Each section gets an independent seed spawned from
        one fixed ``SeedSequence``. ``summary.md`` keeps the first :data:`MAX_SUMMARY_ROWS` rows.
        The simulations keep their finished chunks and cells in ``out/runs`` (:data:`RUNS`)
        while the demo runs: after Ctrl-C the same call resumes from them; the folder is
        removed when the demo completes. Everything is written under ``out``.

    Examples
    --------
    >>> import tempfile
    >>> run_demo(Path(tempfile.mkdtemp()))  # doctest: +SKIP
    """
    import shutil

    from ..core.extras import require

    require("matplotlib", "mcvd demo (its figures)").use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(SEED).spawn(len(SECTIONS))
    parts = [section(out, s) for section, s in zip(SECTIONS, seeds)]
    report = ["## mcvd", ""] + [p.markdown for p in parts]
    _atomic_write(out / "report.md", "\n".join(report) + "\n")
    rows = [r for p in parts for r in p.summary_rows][:MAX_SUMMARY_ROWS]
    summary = [
        "**mcvd** — channel models near a reflecting plane (`make demo`):",
        "",
        *SUMMARY_HEADER,
        *rows,
    ]
    _atomic_write(out / "summary.md", "\n".join(summary) + "\n")
    shutil.rmtree(out / RUNS, ignore_errors=True)  # complete: nothing left to resume
    print(f"mcvd demo: wrote {out / 'report.md'}, {out / 'summary.md'}")
