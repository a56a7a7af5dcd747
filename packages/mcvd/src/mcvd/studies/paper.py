"""The paper's simulation studies with the fixed-step simulator (functions, result dataclasses and figures).

* :func:`paper_topology_study` — the paper's setting (TX (0, 0, 10) µm on the reflecting plane
  x = 0, receiver (10, 0, 0) µm, r = 5 µm, D = 79.4 µm²/s, T = 2 s): hitting counts in 5 ms bins
  and cumulative counts of the fixed-step simulation against the analytic models, with an NRMSE
  table.
* :func:`dt_study` — F(2 s) of the paper's topology against the time step for both absorption
  modes, with the exact value (:mod:`mcvd.core.exact`) as reference when available.
* :func:`plate_sir_study` — the finite-plate study: a reflecting 40 x 40 x 4 µm plate
  behind the receiver (centre (0, 0, 0), r = 5 µm) at gaps 0...30 µm, TX at (20, 0, 0) µm;
  signal-to-interference ratio ``SIR = 100 N(0...5 t_peak) / (N(total) - N(0...5 t_peak))``.

Units: µm, s, µm²/s. Molecule counts are arguments: the demo uses small ones (stated in its
report); standard errors are always reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.curves import bin_counts, cumulative_counts, nrmse, sir_from_counts
from ..core.freespace import free_F
from ..core.plots import TEXT_WIDTH, _ax, _figure, _legend, _savefig, legible, pyplot
from ..sim.api import simulate

__all__ = [
    "DtStudy",
    "PaperStudy",
    "SirStudy",
    "demo_markdown",
    "demo_section",
    "dt_study",
    "paper_scenario",
    "paper_topology_study",
    "plate_scenario",
    "plate_sir_study",
    "plot_cumulative",
    "plot_dt_study",
    "plot_hitting_rate",
    "plot_sir",
]

D_REF = 79.4
PAPER_MODELS = ("free", "kamber2024", "kamber2024-conv", "images-ho", "exact")


def paper_scenario(t_end: float = 2.0, dt: float = 1e-4) -> dict:
    """The paper's topology as a scenario dictionary.

    Examples
    --------
    >>> paper_scenario()["receivers"][0]["center"]
    [10.0, 0.0, 0.0]
    """
    return {
        "D": D_REF,
        "transmitter": {"position": [0.0, 0.0, 10.0], "molecules": 1_000_000},
        "receivers": [{"center": [10.0, 0.0, 0.0], "radius": 5.0}],
        "planes": [{"point": [0.0, 0.0, 0.0], "normal": [1.0, 0.0, 0.0]}],
        "obstacles": [],
        "time": {"end": float(t_end), "dt": float(dt)},
    }


def _model_F(scenario: dict, times: np.ndarray, models) -> dict[str, np.ndarray]:
    """Analytic total F of each available model at ``times`` (missing models are skipped)."""
    from ..core.models import available_models, response
    from ..core.scenario import scenario_from_dict

    sc = scenario_from_dict(scenario)
    names = [m for m in models if m in available_models()]
    return {m: np.asarray(response(sc, times, model=m).F, float) for m in names}


# ----------------------------------------------------------------------------- paper topology
@dataclass(frozen=True)
class PaperStudy:
    """Simulated and modelled hitting counts of the paper's topology.

    Attributes
    ----------
    bin_edges : numpy.ndarray
        5 ms bin edges (s).
    n_molecules : int
        Simulated molecules.
    sim_counts : numpy.ndarray
        Simulated absorptions per bin.
    model_counts : dict
        Expected counts per bin ``N (F(t_{k+1}) - F(t_k))`` per model.
    nrmse_rate, nrmse_cumulative : dict
        NRMSE of each model against the simulation (per-bin counts; cumulative counts).
    metadata : dict
        Simulation metadata.
    """

    bin_edges: np.ndarray
    n_molecules: int
    sim_counts: np.ndarray
    model_counts: dict
    nrmse_rate: dict
    nrmse_cumulative: dict
    metadata: dict = field(default_factory=dict)

    @property
    def sim_cumulative(self) -> np.ndarray:
        """Simulated cumulative counts at the bin edges."""
        return np.concatenate([[0], np.cumsum(self.sim_counts)])

    @property
    def sim_F(self) -> tuple[float, float]:
        """Simulated ``F`` at the horizon and its binomial standard error."""
        F = float(self.sim_counts.sum()) / self.n_molecules
        return F, math.sqrt(F * (1 - F) / self.n_molecules)

    def table(self) -> str:
        """Markdown NRMSE table (models against the simulation)."""
        rows = ["| model | NRMSE hitting rate | NRMSE cumulative |", "|---|---|---|"]
        n = self.n_molecules
        F, se = self.sim_F
        T = self.bin_edges[-1]
        rows[0] += f" F({T:g} s) (simulation {F:.4f} ± {se:.4f}) |"
        rows[1] += "---|"
        for m, c in self.model_counts.items():
            Fm = c.sum() / n
            rows.append(
                f"| {m} | {self.nrmse_rate[m]:.4f} | {self.nrmse_cumulative[m]:.4f} "
                f"| {Fm:.4f} ({(Fm - F) / se:+.1f} SE) |"
            )
        return "\n".join(rows)


def paper_topology_study(
    n_molecules: int = 100_000,
    *,
    dt: float = 1e-4,
    t_end: float = 2.0,
    bin_width: float = 5e-3,
    absorption: str = "bridge",
    models=PAPER_MODELS,
    seed: int = 0,
    **run_kw,
) -> PaperStudy:
    """Hitting counts in ``bin_width`` bins: fixed-step simulation vs analytic models.

    Parameters
    ----------
    n_molecules : int
        Simulated molecules (the paper: 1e6 x 100 runs).
    dt, t_end, bin_width : float
        Time step, horizon and bin width (s); ``bin_width`` must be a multiple of ``dt``.
    absorption : str
        Absorption mode of the simulation.
    models : sequence of str
        Model names of :mod:`mcvd.core.models` (those not registered are skipped).
    seed : int
        Root seed.
    **run_kw
        Passed to :func:`mcvd.sim.simulate` (executor, workers, progress, ...).

    Returns
    -------
    PaperStudy

    Examples
    --------
    >>> s = paper_topology_study(200, dt=1e-3, t_end=0.1, models=("free",), executor="inline")
    >>> s.sim_counts.shape
    (20,)
    """
    n_bins = round(t_end / bin_width)
    if (
        abs(n_bins * bin_width - t_end) > 1e-9 * t_end
        or abs(round(bin_width / dt) * dt - bin_width) > 1e-9 * bin_width
    ):
        raise ValueError("bin_width must divide t_end and be a multiple of dt")
    edges = np.arange(n_bins + 1) * bin_width
    sc = paper_scenario(t_end, dt)
    res = simulate(
        sc, "fixed-step", n_molecules=n_molecules, seed=seed, absorption=absorption, **run_kw
    )
    counts = res.bin_counts(edges).sum(axis=0)
    F_models = _model_F(sc, edges, models)
    model_counts = {m: bin_counts(F, n_molecules) for m, F in F_models.items()}
    cum = np.concatenate([[0], np.cumsum(counts)])
    return PaperStudy(
        bin_edges=edges,
        n_molecules=int(n_molecules),
        sim_counts=counts,
        model_counts=model_counts,
        nrmse_rate={m: nrmse(c, counts) for m, c in model_counts.items()},
        nrmse_cumulative={
            m: nrmse(cumulative_counts(F, n_molecules), cum) for m, F in F_models.items()
        },
        metadata=res.metadata,
    )


def plot_hitting_rate(study: PaperStudy, ax=None):
    """Per-bin counts: simulation (steps) and models (lines). Returns the figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> s = paper_topology_study(200, dt=1e-3, t_end=0.1, models=("free",), executor="inline")
    >>> plot_hitting_rate(s).axes[0].get_xlabel()
    'time (s)'
    """
    ax = _ax(ax)
    fig = ax.figure
    mid = 0.5 * (study.bin_edges[1:] + study.bin_edges[:-1])
    ax.stairs(study.sim_counts, study.bin_edges, color="k", label="simulation", lw=1)
    for m, c in study.model_counts.items():
        ax.plot(mid, c, label=m, lw=1.2)
    width = study.bin_edges[1] - study.bin_edges[0]
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"molecules per {1e3 * width:g} ms bin")
    ax.set_title(f"hitting counts, N = {study.n_molecules}")
    _legend(ax)
    return legible(fig)


def plot_cumulative(study: PaperStudy, ax=None):
    """Cumulative counts: simulation and models. Returns the figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> s = paper_topology_study(200, dt=1e-3, t_end=0.1, models=("free",), executor="inline")
    >>> plot_cumulative(s).axes[0].get_ylabel()
    'cumulative absorbed molecules'
    """
    ax = _ax(ax)
    fig = ax.figure
    ax.plot(study.bin_edges, study.sim_cumulative, "k", lw=2, alpha=0.6, label="simulation")
    for m, c in study.model_counts.items():
        ax.plot(study.bin_edges, np.concatenate([[0], np.cumsum(c)]), lw=1.2, label=m)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("cumulative absorbed molecules")
    _legend(ax)
    return legible(fig)


# ----------------------------------------------------------------------------- time-step study
@dataclass(frozen=True)
class DtStudy:
    """F(t_end) against the time step for each absorption mode.

    Attributes
    ----------
    dts : numpy.ndarray
        Time steps (s).
    F, F_se : dict
        Mode -> arrays over ``dts``.
    reference : float or None
        Exact F(t_end) (``exact`` model) when available.
    t_end : float
        Horizon (s).
    n_molecules : int
        Molecules per run.
    """

    dts: np.ndarray
    F: dict
    F_se: dict
    reference: float | None
    t_end: float
    n_molecules: int

    def table(self) -> str:
        """Markdown table of F(t_end) (± SE) per step and mode."""
        modes = list(self.F)
        head = "| dt (s) | " + " | ".join(modes) + " |"
        rows = [head, "|---" * (len(modes) + 1) + "|"]
        for i, dt in enumerate(self.dts):
            cells = [f"{self.F[m][i]:.4f} ± {self.F_se[m][i]:.4f}" for m in modes]
            rows.append(f"| {dt:g} | " + " | ".join(cells) + " |")
        if self.reference is not None:
            rows.append("| exact | " + " | ".join(f"{self.reference:.4f}" for _ in modes) + " |")
        return "\n".join(rows)


def dt_study(
    n_molecules: int = 20_000,
    *,
    dts=(1e-3, 3e-4, 1e-4, 3e-5, 1e-5),
    modes=("end-of-step", "bridge"),
    t_end: float = 2.0,
    seed: int = 0,
    **run_kw,
) -> DtStudy:
    """F(t_end) of the paper's topology against the time step, for each absorption mode.

    Parameters
    ----------
    n_molecules : int
        Molecules per run.
    dts : sequence of float
        Time steps (s).
    modes : sequence of str
        Absorption modes.
    t_end : float
        Horizon (s).
    seed : int
        Root seed (the same for every run).
    **run_kw
        Passed to :func:`mcvd.sim.simulate`.

    Returns
    -------
    DtStudy

    Examples
    --------
    >>> s = dt_study(100, dts=(1e-3,), t_end=0.05, executor="inline")
    >>> sorted(s.F)
    ['bridge', 'end-of-step']
    """
    dts = np.asarray(dts, float)
    F = {m: np.empty(dts.size) for m in modes}
    se = {m: np.empty(dts.size) for m in modes}
    for m in modes:
        for i, dt in enumerate(dts):
            r = simulate(
                paper_scenario(t_end, dt),
                "fixed-step",
                n_molecules=n_molecules,
                seed=seed,
                absorption=m,
                bin_edges=(0.0, t_end),
                **run_kw,
            )
            F[m][i], se[m][i] = r.F[-1], r.F_se[-1]
    ref = _model_F(paper_scenario(t_end), np.array([t_end]), ("exact",)).get("exact")
    return DtStudy(dts, F, se, None if ref is None else float(ref[0]), t_end, int(n_molecules))


def plot_dt_study(study: DtStudy, ax=None):
    """F(t_end) against dt with 2-SE error bars and the exact value. Returns the figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> s = dt_study(100, dts=(1e-3, 3e-4), t_end=0.05, executor="inline")
    >>> plot_dt_study(s).axes[0].get_xscale()
    'log'
    """
    ax = _ax(ax)
    fig = ax.figure
    for m in study.F:
        ax.errorbar(study.dts, study.F[m], yerr=2 * study.F_se[m], marker="o", capsize=3, label=m)
    if study.reference is not None:
        ax.axhline(study.reference, color="k", ls="--", lw=1, label="exact")
    ax.set_xscale("log")
    ax.set_xlabel("time step dt (s)")
    ax.set_ylabel(f"F({study.t_end:g} s)")
    title = f"time-step bias, N = {study.n_molecules} per point (±2 SE)"
    if study.reference is not None and all(
        np.all(np.abs(study.F[m] - study.reference) <= 2 * study.F_se[m]) for m in study.F
    ):
        title += "\nillustrative: every point is within 2 SE of exact"
    ax.set_title(title)
    _legend(ax)
    return legible(fig)


# ----------------------------------------------------------------------------- finite plate SIR
def plate_scenario(gap: float | None, *, t_end: float, dt: float) -> dict:
    """Receiver (0, 0, 0), r = 5, TX (20, 0, 0); a 40 x 40 x 4 µm plate at ``gap`` behind it.

    ``gap`` is the distance (µm) from the receiver surface to the plate; None: no plate.

    Examples
    --------
    >>> plate_scenario(2.0, t_end=1.0, dt=1e-3)["obstacles"][0]["max"]
    [-7.0, 20.0, 20.0]
    """
    sc = {
        "D": D_REF,
        "transmitter": {"position": [20.0, 0.0, 0.0], "molecules": 1},
        "receivers": [{"center": [0.0, 0.0, 0.0], "radius": 5.0}],
        "obstacles": [],
        "time": {"end": float(t_end), "dt": float(dt)},
    }
    if gap is not None:
        front = -(5.0 + float(gap))
        sc["obstacles"] = [
            {"type": "box", "min": [front - 4.0, -20.0, -20.0], "max": [front, 20.0, 20.0]}
        ]
    return sc


@dataclass(frozen=True)
class SirStudy:
    """SIR against the plate gap.

    Attributes
    ----------
    gaps : numpy.ndarray
        Gaps (µm); ``nan`` marks the run without plate.
    sir, sir_se : numpy.ndarray
        SIR (percent) and its delta-method standard error.
    F_signal, F_total : numpy.ndarray
        Fractions absorbed within ``5 t_peak`` and by the horizon.
    t_peak, t_end : float
        Free-space peak time ``d^2 / (6 D)`` and horizon (s).
    sir_free_exact : float
        SIR without plate from the exact free-space formula.
    n_molecules : int
        Molecules per gap.
    """

    gaps: np.ndarray
    sir: np.ndarray
    sir_se: np.ndarray
    F_signal: np.ndarray
    F_total: np.ndarray
    t_peak: float
    t_end: float
    sir_free_exact: float
    n_molecules: int

    def table(self) -> str:
        """Markdown table of the SIR per gap."""
        rows = ["| plate gap (µm) | F(5 t_peak) | F(T) | SIR (%) |", "|---|---|---|---|"]
        for g, a, b, s, e in zip(self.gaps, self.F_signal, self.F_total, self.sir, self.sir_se):
            name = "no plate" if np.isnan(g) else f"{g:g}"
            rows.append(f"| {name} | {a:.4f} | {b:.4f} | {s:.1f} ± {e:.1f} |")
        rows.append(f"| no plate, exact formula | | | {self.sir_free_exact:.1f} |")
        return "\n".join(rows)


def _sir_with_se(F_sig, F_tot, n):
    """SIR (percent) and its delta-method SE for multinomial counts (signal, later, none)."""
    sir = np.array([sir_from_counts(n * a, n * b) for a, b in zip(F_sig, F_tot)])
    a, b = n * F_sig, n * (F_tot - F_sig)
    rel = np.sqrt((1 - F_sig) / a + (1 - (F_tot - F_sig)) / b + 2.0 / n)
    return sir, sir * rel


def plate_sir_study(
    n_molecules: int = 20_000,
    *,
    gaps=(0.0, 2.0, 5.0, 10.0, 20.0, 30.0),
    dt: float = 1e-3,
    t_end_peaks: float = 10.0,
    seed: int = 0,
    **run_kw,
) -> SirStudy:
    """SIR of the finite-plate study against the plate gap (plus the plate-free reference).

    Parameters
    ----------
    n_molecules : int
        Molecules per gap.
    gaps : sequence of float
        Receiver-surface-to-plate distances (µm).
    dt : float
        Time step (s); bridge absorption, whose bias at 1e-3 s is below the statistical error
        here (see :func:`dt_study`).
    t_end_peaks : float
        Horizon in units of ``t_peak`` (the "total" count is taken there; must exceed 5).
    seed : int
        Root seed.
    **run_kw
        Passed to :func:`mcvd.sim.simulate`.

    Returns
    -------
    SirStudy

    Examples
    --------
    >>> s = plate_sir_study(300, gaps=(5.0,), dt=1e-2, executor="inline")
    >>> s.sir.shape
    (2,)
    """
    if not t_end_peaks > 5:
        raise ValueError(f"t_end_peaks must be > 5, got {t_end_peaks}")
    d = 20.0 - 5.0
    t_peak = d * d / (6.0 * D_REF)
    t_sig = 5.0 * t_peak
    k_sig = round(t_sig / dt)
    t_sig = k_sig * dt  # on the step grid
    t_end = round(t_end_peaks * t_peak / dt) * dt
    all_gaps = [None, *gaps]
    F_sig, F_tot = np.empty(len(all_gaps)), np.empty(len(all_gaps))
    for i, g in enumerate(all_gaps):
        r = simulate(
            plate_scenario(g, t_end=t_end, dt=dt),
            "fixed-step",
            n_molecules=n_molecules,
            seed=seed,
            bin_edges=(0.0, t_sig, t_end),
            **run_kw,
        )
        F_sig[i], F_tot[i] = r.F[1], r.F[2]
    sir, sir_se = _sir_with_se(F_sig, F_tot, n_molecules)
    fs, ft = (float(free_F(t, 20.0, 5.0, D_REF)) for t in (t_sig, t_end))
    return SirStudy(
        gaps=np.array([np.nan, *gaps], float),
        sir=sir,
        sir_se=sir_se,
        F_signal=F_sig,
        F_total=F_tot,
        t_peak=t_peak,
        t_end=t_end,
        sir_free_exact=sir_from_counts(fs, ft),
        n_molecules=int(n_molecules),
    )


def plot_sir(study: SirStudy, ax=None):
    """SIR against the plate gap (±2 SE), with the plate-free value. Returns the figure.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> s = plate_sir_study(300, gaps=(5.0, 10.0), dt=1e-2, executor="inline")
    >>> plot_sir(s).axes[0].get_xlabel()
    'plate gap behind the receiver (µm)'
    """
    ax = _ax(ax)
    fig = ax.figure
    m = ~np.isnan(study.gaps)
    ax.errorbar(
        study.gaps[m],
        study.sir[m],
        yerr=2 * study.sir_se[m],
        marker="o",
        capsize=3,
        label="with plate (simulation)",
    )
    ax.axhline(study.sir[~m][0], color="k", ls="--", lw=1, label="no plate (simulation)")
    ax.axhline(study.sir_free_exact, color="gray", ls=":", lw=1, label="no plate (exact)")
    ax.set_xlabel("plate gap behind the receiver (µm)")
    ax.set_ylabel("SIR (%)")
    title = f"finite reflecting plate, N = {study.n_molecules} per gap (±2 SE)"
    free, free_se = study.sir[~m][0], study.sir_se[~m][0]
    if np.all(np.abs(study.sir[m] - free) <= 2 * np.hypot(study.sir_se[m], free_se)):
        title += "\nillustrative: the plate's effect is within the noise at this N"
    ax.set_title(title)
    _legend(ax)
    return legible(fig)


# ----------------------------------------------------------------------------- demo section
#: molecule counts of the demo section (kept small so that it runs in well under 2 minutes on
#: 2 cores; the functions above take larger counts for publication-quality curves)
DEMO_COUNTS = {"paper": 10_000, "dt": 2_000, "sir": 5_000}
DEMO_DTS = (1e-3, 3e-4, 1e-4, 3e-5)


def demo_section(out, seed):
    """Demo section (``mcvd.studies.demo.SECTIONS`` entry): :func:`demo_markdown` plus a summary row.

    Parameters
    ----------
    out : Path
        Output folder.
    seed : numpy.random.SeedSequence or int
        Seed of the section.

    Returns
    -------
    mcvd.studies.demo.Section

    Examples
    --------
    >>> demo_section("out", 0)  # doctest: +SKIP
    """
    from .report import Section

    if isinstance(seed, np.random.SeedSequence):
        seed = int(seed.generate_state(1)[0])
    md, paper = demo_markdown(out, seed, return_paper=True)
    n = paper.n_molecules
    F, se = paper.sim_F
    ref = paper.model_counts.get("exact")
    ref_txt = "n/a" if ref is None else f"{ref.sum() / n:.4f} (exact)"
    note = "" if ref is None else f"{(F - ref.sum() / n) / se:+.1f} SE"
    row = (
        f"| paper topology, fixed-step simulation (N = {n}, Δt = 1e-4 s, bridge) | F(2 s) "
        f"| {F:.4f} ± {se:.4f} | {ref_txt} | {note} |"
    )
    return Section(md, [row])


def demo_markdown(out, seed: int = 0, counts: dict | None = None, *, return_paper=False):
    """Run the three studies with small molecule counts, write figures to ``out``, return markdown.

    Parameters
    ----------
    out : str or Path
        Output folder (figures ``sim_*.png``).
    seed : int
        Root seed of every run.
    counts : dict, optional
        Molecule counts ``{"paper", "dt", "sir"}`` (default :data:`DEMO_COUNTS`).

    return_paper : bool
        Also return the :class:`PaperStudy`.

    Returns
    -------
    str or (str, PaperStudy)
        Markdown section.

    Examples
    --------
    >>> import tempfile, matplotlib; matplotlib.use("Agg")
    >>> md = demo_markdown(tempfile.mkdtemp(), counts={"paper": 200, "dt": 100, "sir": 100})
    ... # doctest: +SKIP
    """
    from pathlib import Path

    plt = pyplot()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n = dict(DEMO_COUNTS, **(counts or {}))
    # finished chunks are kept in out/runs (the demo resumes from them after Ctrl-C)
    kw = {"executor": "inline", "seed": int(seed), "run_root": out / "runs"}
    paper = paper_topology_study(n["paper"], **kw)
    fig, axes = _figure(1, 2, figsize=(TEXT_WIDTH, 2.8))
    plot_hitting_rate(paper, ax=axes[0])
    plot_cumulative(paper, ax=axes[1])
    _savefig(fig, out / "sim_paper_topology.png")
    dts = dt_study(n["dt"], dts=DEMO_DTS, **kw)
    fig = plot_dt_study(dts)
    _savefig(fig, out / "sim_dt_study.png")
    sir = plate_sir_study(n["sir"], **kw)
    fig = plot_sir(sir)
    _savefig(fig, out / "sim_plate_sir.png")
    plt.close("all")
    md = "\n".join(
        [
            "### Fixed-step particle simulation",
            "",
            "Small molecule counts so that this section runs in well under 2 minutes on 2 cores: "
            f"{n['paper']} molecules for the paper's topology, {n['dt']} per time step, "
            f"{n['sir']} per plate gap (the study functions in `mcvd.studies.paper` take larger "
            "counts). Bridge absorption and elastic reflection unless stated. All runs use the "
            "same seed; in the plate study this couples the runs (identical paths until a "
            "molecule meets the plate), so differences between gaps are more precise than the "
            "per-point SEs.",
            "",
            "**Paper's topology** (TX (0,0,10) on the plane x = 0, RX (10,0,0), r = 5 µm, "
            "D = 79.4 µm²/s, Δt = 1e-4 s, T = 2 s): hitting counts in 5 ms bins and cumulative "
            "counts; NRMSE of each model against the simulation and F(2 s) (at this N the NRMSEs "
            "are dominated by the simulation's own noise; the models differ by less than it):",
            "",
            paper.table(),
            "",
            "![paper topology](sim_paper_topology.png)",
            "",
            f"**Time-step study**: F({dts.t_end:g} s) against Δt, both absorption modes, "
            f"{dts.n_molecules} molecules per point — too few to resolve the end-of-step bias "
            "(about -2 % at Δt = 1e-4 s) from noise; `dt_study` with 2e4+ molecules and "
            "Δt = 1e-5 s (10x the cost of 1e-4) does (see the package README):",
            "",
            dts.table(),
            "",
            "![dt study](sim_dt_study.png)",
            "",
            "**Finite reflecting plate** (40 × 40 × 4 µm behind the receiver at (0,0,0), TX "
            f"(20,0,0), Δt = 1e-3 s, t_peak = {sir.t_peak:.3f} s, horizon {sir.t_end:.2f} s): "
            "SIR = 100 N(0…5 t_peak) / (N(total) − N(0…5 t_peak)). At this N the figure is "
            "illustrative: the ±2 SE bars are wider than the plate's effect, which 5e4 "
            "molecules per gap resolve (a plate a few µm behind the receiver lowers the SIR by "
            "about 10 %; see the package README):",
            "",
            sir.table(),
            "",
            "![plate SIR](sim_plate_sir.png)",
            "",
        ]
    )
    return (md, paper) if return_paper else md
