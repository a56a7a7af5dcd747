"""BER study: how much the channel model matters for the bit error rate.

On-off keying with a threshold detector (optimal threshold, exact count law) on two channels —
the paper's topology (transmitter on the reflecting plane, receiver 5 µm from it) and the same
transmitter with the receiver 0.5 µm from the plane — for the models ``free``, ``kamber2024``,
``images-ho`` and ``exact``, against the symbol duration, with each model's BER divided by the
exact one. A second sweep shows how the BER of the exact channel settles as the ISI memory grows
(the tail ``F(inf) - F(t)`` decays like ``t^(-1/2)`` in three dimensions).

Units: µm, s, µm²/s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..comm import BERSweep, ber_vs_memory, ber_vs_symbol_duration, plot_ber_sweep
from ..core.plots import COLUMN_WIDTH, TEXT_WIDTH, _figure, _savefig, legible, pyplot
from .accuracy import placement_geometry
from .report import Section

__all__ = [
    "BER_MODELS",
    "BERStudy",
    "ber_geometries",
    "ber_study",
    "plot_ber_study",
    "section_ber",
]

#: models compared by the study
BER_MODELS = ("free", "kamber2024", "images-ho", "exact")
#: symbol durations of the study (s)
SYMBOL_DURATIONS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
#: memories of the convergence sweep (slots)
MEMORIES = (10, 100, 1000, 3000)
D = 79.4  # µm²/s


def ber_geometries() -> dict:
    """The study's channels: name -> Geometry (µm, µm²/s).

    ``paper``: TX (0, 0, 10) on the plane x = 0, receiver r = 5 at (10, 0, 0) (5 µm from the
    plane); ``near wall``: the same with the receiver at (5.5, 0, 0), 0.5 µm from the plane
    (the accuracy map's ``on-plane`` placement at gaps 5 and 0.5 µm,
    :func:`mcvd.studies.accuracy.placement_geometry`).

    Examples
    --------
    >>> sorted(ber_geometries())
    ['near wall', 'paper']
    """
    return {
        "paper": placement_geometry(5.0, "on-plane", D=D),
        "near wall": placement_geometry(0.5, "on-plane", D=D),
    }


@dataclass(frozen=True, eq=False)
class BERStudy:
    """BER against the symbol duration per channel, and against the memory.

    Attributes
    ----------
    sweeps : dict
        Channel name -> :class:`mcvd.comm.BERSweep` over the symbol durations.
    memory_sweep : BERSweep
        Paper topology at ``T_s = memory_symbol_duration``: BER against the memory.
    molecules : int
    memory : int
        Memory of the symbol-duration sweeps.
    """

    sweeps: dict
    memory_sweep: BERSweep
    molecules: int
    memory: int

    def table(self) -> str:
        """Markdown: per channel, BER of every model and its ratio to ``exact``.

        Examples
        --------
        >>> s = ber_study(symbol_durations=(1.0,), memories=(10,), models=("kamber2024", "exact"))
        >>> print(s.table().splitlines()[2])
        | paper | 1 | 5.36e-12 | 0.00753 | 7.12e-10 |
        """
        models = next(iter(self.sweeps.values())).models
        head = "| channel | T_s (s) |" + "".join(
            f" {m} BER | {m} / exact |" if m != "exact" else " exact BER |" for m in models
        )
        lines = [head, "|" + "---|" * (head.count("|") - 1)]
        for name, sw in self.sweeps.items():
            rat = sw.ratio("exact")
            for k, T in enumerate(sw.values):
                row = f"| {name} | {T:g} |"
                for i, m in enumerate(sw.models):
                    row += f" {sw.ber[i, k]:.2e} |"
                    if m != "exact":
                        row += f" {rat[i, k]:.3g} |"
                lines.append(row)
        return "\n".join(lines)

    def memory_table(self) -> str:
        """Markdown: BER of every model of the memory sweep, with the neglected tail."""
        sw = self.memory_sweep
        T = float(sw.symbol_duration[0])
        head = "| memory (slots) | tail F(∞) − F((m+1)T_s) |" + "".join(
            f" {m} BER |" for m in sw.models
        )
        lines = [head, "|" + "---|" * (head.count("|") - 1)]
        ex = sw.models.index("exact") if "exact" in sw.models else 0
        for k, m in enumerate(sw.values):
            row = f"| {m} | {sw.tail[ex, k]:.3g} |" + "".join(
                f" {sw.ber[i, k]:.3g} |" for i in range(len(sw.models))
            )
            lines.append(row)
        return f"Paper topology, T_s = {T:g} s, N = {self.molecules}:\n\n" + "\n".join(lines)


def ber_study(
    *,
    symbol_durations=SYMBOL_DURATIONS,
    molecules: int = 1000,
    memory: int = 10,
    models=BER_MODELS,
    memories=MEMORIES,
    memory_symbol_duration: float = 1.0,
) -> BERStudy:
    """Run the BER study (a few seconds with the default grid).

    Parameters
    ----------
    symbol_durations : sequence of float
        ``T_s`` values (s).
    molecules : int
        ``N`` per bit 1.
    memory : int
        ISI memory of the symbol-duration sweeps.
    models : sequence of str
        Channel models (``exact`` must be among them: it is the reference of the ratios).
    memories : sequence of int
        Memories of the convergence sweep (paper topology).
    memory_symbol_duration : float
        ``T_s`` of the convergence sweep (s).

    Returns
    -------
    BERStudy

    Examples
    --------
    >>> s = ber_study(symbol_durations=(0.5, 1.0), memories=(10,))
    >>> sorted(s.sweeps), s.sweeps["paper"].models
    (['near wall', 'paper'], ('free', 'kamber2024', 'images-ho', 'exact'))
    """
    models = tuple(models)
    if "exact" not in models:
        raise ValueError("models must include 'exact' (the reference of the ratios)")
    geoms = ber_geometries()
    sweeps = {
        name: ber_vs_symbol_duration(g, symbol_durations, molecules, memory, models=models)
        for name, g in geoms.items()
    }
    mem = ber_vs_memory(
        geoms["paper"],
        memory_symbol_duration,
        molecules,
        memories,
        models=tuple(m for m in models if m != "free"),
    )
    return BERStudy(sweeps, mem, int(molecules), int(memory))


def plot_ber_study(study: BERStudy, ax=None):
    """BER against the symbol duration, one panel per channel.

    Parameters
    ----------
    study : BERStudy
    ax : sequence of matplotlib Axes, optional
        One axes per channel (default: a new figure with a row of panels).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = plot_ber_study(ber_study(symbol_durations=(0.5, 1.0), memories=(10,)))
    >>> len(fig.axes)
    2
    """
    names = list(study.sweeps)
    if ax is None:
        width = COLUMN_WIDTH if len(names) == 1 else TEXT_WIDTH
        _, ax = _figure(
            1, len(names), figsize=(width, 2.8), squeeze=False, sharey=True, layout="constrained"
        )
        ax = ax[0]
    if len(ax) != len(names):
        raise ValueError(f"ax must hold {len(names)} axes (one per channel), got {len(ax)}")
    for a, name in zip(ax, names):
        plot_ber_sweep(study.sweeps[name], ax=a)
        a.set_title(f"{name}: N = {study.molecules}, memory {study.memory}")
    return legible(ax[0].figure)


def section_ber(out: Path, seed: np.random.SeedSequence) -> Section:
    """Demo section: BER against the symbol duration for every model, ratios to ``exact``.

    Parameters
    ----------
    out : Path
        Existing output folder (``ber_vs_symbol_duration.png`` is written there).
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
    >>> sec = section_ber(out, np.random.SeedSequence(0))
    >>> sec.markdown.startswith("### Bit error rate"), (out / "ber_vs_symbol_duration.png").exists()
    (True, True)
    """
    study = ber_study()
    fig = plot_ber_study(study)
    _savefig(fig, Path(out) / "ber_vs_symbol_duration.png")
    pyplot().close(fig)
    paper = study.sweeps["paper"]
    k = int(np.argmin(np.abs(paper.values - 1.0)))
    ex = paper.models.index("exact")
    b_ex = paper.ber[ex, k]
    rat = paper.ratio("exact")[:, k]
    mem = study.memory_sweep
    m_ex = mem.models.index("exact")
    text = [
        "### Bit error rate of on-off keying (threshold detector)",
        "",
        "A bit 1 releases N molecules at the start of its slot; the receiver counts the "
        "molecules it absorbs in the slot and decides 1 iff the count reaches the threshold. "
        "The law of the count given the current bit is exact (binomial terms convolved with "
        "the ISI mixtures of the earlier bits), so BERs far below 1e-10 are right; what "
        "changes between the rows is only the channel response F(t) of the model.",
        "",
        f"BER with the optimal threshold, N = {study.molecules} molecules per bit, p1 = 1/2, "
        f"memory {study.memory} slots; paper topology (receiver 5 µm from the plane) and the "
        "receiver 0.5 µm from the plane:",
        "",
        study.table(),
        "",
        "![BER against the symbol duration](ber_vs_symbol_duration.png)",
        "",
        "The memory truncates the ISI: molecules of bits more than m slots back are ignored, "
        "and in three dimensions F(∞) − F(t) decays only like t^(-1/2). The BER keeps rising "
        "with the memory:",
        "",
        study.memory_table(),
        "",
    ]
    rows = [
        f"| paper topology, T_s = {paper.values[k]:g} s, N = {study.molecules}, memory "
        f"{study.memory} | BER (optimal threshold) | {b_ex:.2e} (exact channel, exact law) | "
        f"{paper.ber[paper.models.index('kamber2024'), k]:.2e} (kamber2024) | "
        f"ratio {rat[paper.models.index('kamber2024')]:.3g}; memory {int(mem.values[-1])}: "
        f"{mem.ber[m_ex, -1]:.2e} |"
    ]
    return Section("\n".join(text), rows)
