"""``dmfsharp demo``: tables and figures that show the exact sharpness against independent routes.

:func:`run_demo` runs every function in :data:`SECTIONS` in order. A section takes the output
folder and a ``numpy.random.SeedSequence`` and returns a :class:`Section` (markdown for
``report.md``, optional rows for the short ``summary.md`` table, figures written into the folder).
To add a section, append a function to :data:`SECTIONS`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._io import atomic_write
from .closed_forms import flattest_sharpness, spectral_norm_bound
from .constructors import balanced_minimizer, gaussian_minimizer, scalar_minimizer
from .derivatives import dense_hessian
from .factorization import Factorization
from .spectrum import sharpness

__all__ = [
    "SECTIONS",
    "ComparisonRow",
    "Section",
    "compare_routes",
    "plot_bound_gap",
    "plot_comparison",
    "run_demo",
]

SCALE = 0.5
SEED = 20250925  # arXiv 2509.25783


@dataclass(frozen=True)
class Section:
    """Output of one demo section.

    Attributes
    ----------
    markdown : str
        Body for ``report.md`` (starts with a ``###`` heading).
    summary_rows : list of str
        Markdown table rows (``| ... |``) for ``summary.md``, whose header is
        ``| case | quantity | dmfsharp | reference | note |``.
    """

    markdown: str
    summary_rows: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ComparisonRow:
    """Exact sharpness of one minimizer versus the dense Hessian and ``S``."""

    case: str
    dims: tuple[int, ...]
    n_params: int
    exact: float
    method: str
    dense: float
    bound: float
    bound_tight: bool
    flattest: float

    @property
    def rel_diff(self) -> float:
        """``|exact - dense| / dense``."""
        return abs(self.exact - self.dense) / self.dense


def _atomic_write(path: Path, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text), binary=False)


def _save(fig, path: Path) -> None:
    """Write ``fig`` to ``path`` atomically, then close it."""
    import matplotlib.pyplot as plt

    from .figures import save_figure

    save_figure(fig, path)
    plt.close(fig)


def compare_routes(case: str, fac: Factorization, scale: float = SCALE) -> ComparisonRow:
    """Sharpness by the K reduction, by a dense Hessian ``eigh`` and the expression ``S``.

    Parameters
    ----------
    case : str
        Label.
    fac : Factorization
        A minimizer small enough for :func:`dmfsharp.dense_hessian`.
    scale : float, default 0.5
        Loss scale ``c``.

    Returns
    -------
    ComparisonRow

    Examples
    --------
    >>> from dmfsharp import gaussian_minimizer
    >>> row = compare_routes("g", gaussian_minimizer((3, 4, 2), rng=0))
    >>> row.rel_diff < 1e-12, row.bound_tight
    (True, True)
    """
    res = sharpness(fac, scale)
    dense = float(np.linalg.eigvalsh(dense_hessian(fac, scale))[-1])
    b = spectral_norm_bound(fac, scale)
    return ComparisonRow(
        case=case,
        dims=fac.dims,
        n_params=fac.n_params,
        exact=res.lambda_max,
        method=res.method,
        dense=dense,
        bound=b.value,
        bound_tight=b.aligned,
        flattest=flattest_sharpness(fac.target, fac.depth, scale),
    )


def plot_comparison(rows: Sequence[ComparisonRow], ax=None):
    """Grouped bars: exact, dense-Hessian, ``S`` and flattest value for each case.

    Parameters
    ----------
    rows : sequence of ComparisonRow
        From :func:`compare_routes`.
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
    >>> from dmfsharp import gaussian_minimizer
    >>> rows = [compare_routes(f"seed {s}", gaussian_minimizer((2, 3, 2), rng=s)) for s in (0, 1)]
    >>> fig = plot_comparison(rows)
    >>> ax = fig.axes[0]
    >>> len(ax.patches)  # 4 bars per case
    8
    >>> bool(ax.patches[0].get_height() == rows[0].exact)
    True
    >>> plt.close(fig)
    """

    from .figures import TEXT_WIDTH, _figure, curvature_label, legible

    if ax is None:  # a full-width figure: the cases need the room
        _, ax = _figure(figsize=(TEXT_WIDTH, 3.0))
    x = np.arange(len(rows))
    series = [
        ("exact (K)", [r.exact for r in rows]),
        ("dense Hessian eigh", [r.dense for r in rows]),
        ("spectral-norm S", [r.bound for r in rows]),
        ("flattest value", [r.flattest for r in rows]),
    ]
    width = 0.2
    for j, (label, vals) in enumerate(series):
        ax.bar(x + (j - 1.5) * width, vals, width, label=label)
    ax.set_xticks(
        x, [textwrap.fill(r.case.replace(", ", " "), 12, break_long_words=False) for r in rows]
    )
    ax.set_yscale("log")
    ax.set_ylabel(curvature_label("λ_max", SCALE))
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.22))  # below the case names
    ax.set_title("Exact sharpness vs dense Hessian, S and the flattest value")
    return legible(ax.figure)


def plot_bound_gap(depths, gaps, flat_ratio, ax=None):
    """Median relative gap ``S / lambda_max - 1`` and ``lambda_max / flattest`` versus depth.

    Parameters
    ----------
    depths : sequence of int
        Depths ``L``.
    gaps, flat_ratio : array_like, shape (len(depths), n_samples)
        Per-sample ``S / lambda_max - 1`` and ``lambda_max / flattest``.
    ax : matplotlib Axes, optional
        Target axes.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plot_bound_gap([2, 3], [[0.0, 0.0, 0.0], [0.1, 0.2, 0.4]], [[1.5, 2, 3], [2, 2, 2]])
    >>> line = fig.axes[0].lines[0]
    >>> line.get_ydata().tolist()  # medians of the gaps per depth
    [0.0, 0.2]
    >>> fig.axes[0].lines[1].get_ydata().tolist()  # median flat_ratio - 1
    [1.0, 1.0]
    >>> plt.close(fig)
    """

    from .figures import COLUMN_WIDTH, _figure, legible

    if ax is None:
        _, ax = _figure(figsize=(COLUMN_WIDTH, 2.6))
    gaps, flat_ratio = np.asarray(gaps), np.asarray(flat_ratio)
    ax.plot(depths, np.median(gaps, axis=1), "o-", label=r"median $S/\lambda_{\max} - 1$")
    ax.plot(
        depths, np.median(flat_ratio, axis=1) - 1, "s--", label=r"median $\lambda_{\max}/flat - 1$"
    )
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("depth L")
    ax.set_ylabel("relative excess (ratios: any c)")
    ax.legend()
    ax.set_title("Gaussian minimizers: S is exact\nat L = 2 and strict for L >= 3")
    return legible(ax.figure)


def _fmt(x: float) -> str:
    return f"{x:.10g}"


#: Relative differences below this are printed as a bound in ``summary.md``: their digits are
#: rounding and change with the CPU's BLAS kernel, so a committed table would churn.
SUMMARY_FLOOR = 1e-14


def _bounded(x: float) -> str:
    """``"< 1e-14"`` for rounding-level differences, else one significant digit.

    Examples
    --------
    >>> _bounded(9e-16), _bounded(3e-9)
    ('< 1e-14', '3e-09')
    """
    return f"< {SUMMARY_FLOOR:.0e}" if x < SUMMARY_FLOOR else f"{x:.0e}"


def section_exact_vs_dense(out: Path, seed: np.random.SeedSequence) -> Section:
    """Exact vs dense Hessian vs S on a 15-layer scalar, a depth-2 and a depth-5 minimizer.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_exact_vs_dense(out, np.random.SeedSequence(SEED))
    >>> (out / "sharpness_comparison.png").exists(), len(sec.summary_rows)
    (True, 4)
    """
    s_scalar, s_d2, s_d5, s_bal = seed.spawn(4)
    scalar = scalar_minimizer(15, rng=s_scalar)
    bal = balanced_minimizer(
        gaussian_minimizer((4, 6, 6, 6, 6, 3), rng=s_bal).target, (4,) + (6,) * 4 + (3,), rng=s_bal
    )
    cases = [
        (f"scalar L=15, m={scalar.target[0, 0]:.4f}", scalar),
        ("Gaussian depth 2", gaussian_minimizer((6, 8, 5), rng=s_d2)),
        ("Gaussian depth 5", gaussian_minimizer((5, 8, 8, 8, 8, 4), rng=s_d5)),
        ("balanced depth 5", bal),
        (
            "S-bound counterexample",
            Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)]),
        ),
    ]
    rows = [compare_routes(name, fac) for name, fac in cases]
    lines = [
        "### Exact sharpness vs an independent dense Hessian",
        "",
        "Loss `c‖W_L⋯W_1 − M‖²_F` with c = 1/2 (multiply by 2 for the paper's c = 1). *exact*: "
        "`dmfsharp.sharpness` (scalar closed form or the d_L·d_0 operator K); *dense*: largest "
        "eigenvalue of the full n_params × n_params Hessian built from analytic HVPs; "
        "*S* = 2c Σ‖A_i‖²‖B_i‖², an upper bound that is exact only when aligned; *flattest* = "
        "2c·L·σ₁^{2(L−1)/L}, the smallest sharpness of any minimizer of the same M.",
        "",
        "| case | dims | params | exact λ_max | method | dense Hessian | rel. diff | S | S tight? | flattest |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.case} | {','.join(map(str, r.dims))} | {r.n_params} | {_fmt(r.exact)} | "
            f"{r.method} | {_fmt(r.dense)} | {r.rel_diff:.1e} | {_fmt(r.bound)} | "
            f"{'yes' if r.bound_tight else 'no (strict)'} | {_fmt(r.flattest)} |"
        )
    fig = plot_comparison(rows)
    _save(fig, out / "sharpness_comparison.png")
    lines += ["", "![exact vs dense vs S](sharpness_comparison.png)", ""]
    summary = [
        f"| {r.case} | λ_max (c=1/2) | {r.exact:.8g} | {r.dense:.8g} (dense Hessian eigh) | "
        f"rel. diff {_bounded(r.rel_diff)}; S = {r.bound:.6g} "
        f"({'tight' if r.bound_tight else 'strict'}) |"
        for r in rows[:3] + rows[4:]
    ]
    return Section("\n".join(lines), summary)


def section_bound_gap(out: Path, seed: np.random.SeedSequence) -> Section:
    """How far S is from the exact value, and the exact value from the flattest, versus depth.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_bound_gap(out, np.random.SeedSequence(SEED))
    >>> rows = [ln for ln in sec.markdown.splitlines() if ln.startswith("| ")][1:]
    >>> (out / "bound_gap.png").exists(), [r.split(" | ")[0] for r in rows]  # depths 2..10
    (True, ['| 2', '| 3', '| 4', '| 5', '| 6', '| 7', '| 8', '| 9', '| 10'])
    """
    depths = list(range(2, 11))
    n_samples = 8
    gaps = np.empty((len(depths), n_samples))
    flat = np.empty_like(gaps)
    for i, (L, s) in enumerate(zip(depths, seed.spawn(len(depths)))):
        for j, sj in enumerate(s.spawn(n_samples)):
            fac = gaussian_minimizer((4,) + (6,) * (L - 1) + (3,), rng=sj)
            lam = sharpness(fac, SCALE).lambda_max
            gaps[i, j] = spectral_norm_bound(fac, SCALE).value / lam - 1
            flat[i, j] = lam / flattest_sharpness(fac.target, L, SCALE)
    fig = plot_bound_gap(depths, gaps, flat)
    _save(fig, out / "bound_gap.png")
    lines = [
        "### S versus the exact value across depth",
        "",
        f"{n_samples} Gaussian minimizers per depth, dims 4,6,…,6,3. Relative excess of S over the "
        "exact λ_max (0 means S is exact) and of λ_max over the flattest value.",
        "",
        "| L | median S/λ_max − 1 | min S/λ_max − 1 | median λ_max/flattest |",
        "|---|---|---|---|",
    ]
    for L, g, f in zip(depths, gaps, flat):
        lines.append(f"| {L} | {np.median(g):.2e} | {g.min():.2e} | {np.median(f):.3f} |")
    lines += ["", "![S gap vs depth](bound_gap.png)", ""]
    return Section("\n".join(lines))


def section_escape(out: Path, seed: np.random.SeedSequence) -> Section:
    """GD escape experiments: Figure 1, matrix-case figures, escape table and claim checks
    (:func:`dmfsharp.figures.escape_demo`; its experiments use their own documented seeds).

    Examples
    --------
    ~14 s (fixed-size experiments), so the call is skipped here; ``make demo`` runs it.

    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_escape(out, np.random.SeedSequence(SEED))  # doctest: +SKIP
    >>> sorted(p.name for p in out.glob("*.png"))  # doctest: +SKIP
    ['escape_matrix.png', 'fig1_escape.png']
    """
    from .figures import escape_demo

    markdown, rows = escape_demo(out, _save)
    return Section(markdown, rows)


#: The demo sections, in report order. Each is ``f(out: Path, seed: SeedSequence) -> Section``.
SECTIONS: list[Callable[[Path, np.random.SeedSequence], Section]] = [
    section_exact_vs_dense,
    section_bound_gap,
    section_escape,
]


def run_demo(out: Path) -> None:
    """Write ``report.md``, ``summary.md`` and the figures of every section into ``out``.

    Parameters
    ----------
    out : Path
        Output folder (created if missing). Each section gets an independent seed spawned from
        one fixed ``SeedSequence``, so the demo is reproducible.

    Examples
    --------
    The full demo takes ~15 s (the escape section alone ~14 s), so the call is skipped here;
    ``make demo`` runs it. A single fast section shows the same contract:

    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> out = Path(tempfile.mkdtemp())
    >>> sec = section_bound_gap(out, np.random.SeedSequence(SEED))
    >>> sec.markdown.startswith("###"), (out / "bound_gap.png").exists()
    (True, True)
    >>> run_demo(out)  # doctest: +SKIP
    >>> sorted(p.name for p in out.glob("*.md"))  # doctest: +SKIP
    ['report.md', 'summary.md']
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(SEED).spawn(len(SECTIONS))
    parts = [section(out, s) for section, s in zip(SECTIONS, seeds)]
    report = ["## dmfsharp", ""] + [p.markdown for p in parts]
    _atomic_write(out / "report.md", "\n".join(report) + "\n")
    rows = [r for p in parts for r in p.summary_rows]
    summary = [
        "**dmfsharp** — exact sharpness vs independent references (`make demo`):",
        "",
        "| case | quantity | dmfsharp | reference | note |",
        "|---|---|---|---|---|",
        *rows,
    ]
    _atomic_write(out / "summary.md", "\n".join(summary) + "\n")
